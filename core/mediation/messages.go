package mediation

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"planet/core/did"
	"planet/core/didcomm"
)

// The message types of coordinate-mediation 2.0, messagepickup 3.0,
// trust-ping 2.0 and report-problem 2.0, for both ends: the client here and
// the mediator in serve/mediator (docs/mediation.md and docs/mediator.md
// cite their specifications).
const (
	TypeMediateRequest = "https://didcomm.org/coordinate-mediation/2.0/mediate-request"
	TypeMediateGrant   = "https://didcomm.org/coordinate-mediation/2.0/mediate-grant"
	TypeMediateDeny    = "https://didcomm.org/coordinate-mediation/2.0/mediate-deny"
	TypeKeylistUpdate  = "https://didcomm.org/coordinate-mediation/2.0/keylist-update"
	TypeKeylistResult  = "https://didcomm.org/coordinate-mediation/2.0/keylist-update-response"
	TypeKeylistQuery   = "https://didcomm.org/coordinate-mediation/2.0/keylist-query"
	TypeKeylist        = "https://didcomm.org/coordinate-mediation/2.0/keylist"

	TypeStatusRequest   = "https://didcomm.org/messagepickup/3.0/status-request"
	TypeStatus          = "https://didcomm.org/messagepickup/3.0/status"
	TypeDeliveryRequest = "https://didcomm.org/messagepickup/3.0/delivery-request"
	TypeDelivery        = "https://didcomm.org/messagepickup/3.0/delivery"
	TypeReceived        = "https://didcomm.org/messagepickup/3.0/messages-received"
	TypeLiveChange      = "https://didcomm.org/messagepickup/3.0/live-delivery-change"

	TypePing         = "https://didcomm.org/trust-ping/2.0/ping"
	TypePingResponse = "https://didcomm.org/trust-ping/2.0/ping-response"

	TypeProblem = "https://didcomm.org/report-problem/2.0/problem-report"
)

// Limits of one request, which the mediator enforces (docs/mediator.md)
// and the client keeps to.
const (
	MaxKeylistUpdates = 100  // updates in one keylist-update
	MaxKeylistPage    = 100  // keys asked for in one keylist-query
	MaxDeliveryLimit  = 100  // messages asked for in one delivery-request
	MaxAcks           = 1000 // ids in one messages-received
	// maxKeylistPages bounds how many pages Keylist reads, so that a
	// mediator that keeps saying "more remain" cannot keep it reading.
	maxKeylistPages = 1000
)

// ErrInvalidReply is returned, wrapped with a sentence naming what failed,
// by every method of [Client] that reads a reply when the mediator's reply
// is not what the protocol says: a message of the wrong type for the
// request, or a body with a member missing or of the wrong form. It is
// also what [Client.Run] returns for a frame on the connection that does
// not open as a message from the mediator.
var ErrInvalidReply = errors.New("mediator's reply is not valid")

// ErrDenied is returned by [Client.Connect] when the mediator answers
// mediate-deny: it will not hold messages for this client.
var ErrDenied = errors.New("mediation denied")

// ErrKeylist is returned by [Client.Register] and [Client.Unregister],
// wrapped with the DIDs and the mediator's results, when some update did
// not take effect (a DID another client registered first, a server error).
var ErrKeylist = errors.New("keylist update failed")

// ProblemError is a problem report from the mediator
// (report-problem/2.0), in answer to one of the client's requests. Code is
// the report's code ("e.p.req.not-granted", …): its first part says
// whether it is an error ("e") or a warning ("w"), its second whether the
// protocol ("p") or only this message ("m") failed. Comment is the
// mediator's sentence, with its args filled in.
type ProblemError struct {
	Request string // the type of the request it answers
	Code    string
	Comment string
}

func (e *ProblemError) Error() string {
	s := "mediator reported " + e.Code
	if e.Request != "" {
		s += " for " + shortType(e.Request)
	}
	if e.Comment != "" {
		s += ": " + e.Comment
	}
	return s
}

// shortType returns the protocol and name of a message type URI
// ("messagepickup/3.0/status"), for errors.
func shortType(t string) string {
	if rest, ok := strings.CutPrefix(t, "https://didcomm.org/"); ok {
		return rest
	}
	return t
}

// Update is the mediator's result for one DID of a keylist-update.
type Update struct {
	DID    string // recipient_did, as the mediator wrote it
	Action string // "add" or "remove"
	Result string // "success", "no_change", "client_error", "server_error"
}

// Status is what the mediator says waits for the client (messagepickup/3.0
// status).
type Status struct {
	MessageCount int
	TotalBytes   int64
	LiveDelivery bool
}

// delivered is one message of a delivery: the mediator's opaque id, to
// acknowledge it by, and the message as it arrived at the mediator (still
// encrypted to the recipient).
type delivered struct {
	ID      string
	Message []byte
}

// The bodies the client reads. Members are pointers where the protocol
// requires them, so that an absent one is told from a zero one; unknown
// members are ignored, as DIDComm asks of readers.

type grantBody struct {
	RoutingDID *string `json:"routing_did"`
}

type keylistUpdateResponseBody struct {
	Updated *[]struct {
		RecipientDID *string `json:"recipient_did"`
		Action       *string `json:"action"`
		Result       *string `json:"result"`
	} `json:"updated"`
}

type keylistBody struct {
	Keys *[]struct {
		RecipientDID *string `json:"recipient_did"`
	} `json:"keys"`
	Pagination *struct {
		Count     int `json:"count"`
		Offset    int `json:"offset"`
		Remaining int `json:"remaining"`
	} `json:"pagination"`
}

type statusBody struct {
	MessageCount *int  `json:"message_count"`
	TotalBytes   int64 `json:"total_bytes"`
	LiveDelivery bool  `json:"live_delivery"`
}

type problemBody struct {
	Code    *string  `json:"code"`
	Comment string   `json:"comment"`
	Args    []string `json:"args"`
}

// decodeBody reads p's body into v. ParsePlaintext has already refused
// duplicate members and invalid UTF-8; this refuses members of the wrong
// JSON type.
func decodeBody(p *didcomm.Plaintext, v any) error {
	body := p.Body
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: the body of %s: %v", ErrInvalidReply, shortType(p.Type), err)
	}
	return nil
}

func missing(p *didcomm.Plaintext, member string) error {
	return fmt.Errorf("%w: %s without %s", ErrInvalidReply, shortType(p.Type), member)
}

// decodeProblem reads a problem report into a *ProblemError for the
// request of type request. The comment's placeholders {1}, {2}, … are
// replaced by the report's args, as report-problem/2.0 describes.
func decodeProblem(p *didcomm.Plaintext, request string) (*ProblemError, error) {
	var b problemBody
	if err := decodeBody(p, &b); err != nil {
		return nil, err
	}
	if b.Code == nil {
		return nil, missing(p, "code")
	}
	if err := checkCode(*b.Code); err != nil {
		return nil, fmt.Errorf("%w: problem-report code %q: %v", ErrInvalidReply, *b.Code, err)
	}
	comment := b.Comment
	for i := len(b.Args); i >= 1; i-- { // {10} before {1}
		comment = strings.ReplaceAll(comment, "{"+strconv.Itoa(i)+"}", b.Args[i-1])
	}
	return &ProblemError{Request: request, Code: *b.Code, Comment: comment}, nil
}

// checkCode checks a problem code's form: sorter ("e" or "w"), scope, then
// descriptors, separated by dots, each lowercase letters, digits and
// hyphens (report-problem/2.0, "Problem Codes").
func checkCode(code string) error {
	if len(code) > 256 {
		return errors.New("longer than 256 bytes")
	}
	parts := strings.Split(code, ".")
	if len(parts) < 2 {
		return errors.New("needs a sorter and a scope")
	}
	if parts[0] != "e" && parts[0] != "w" {
		return errors.New(`its sorter is neither "e" nor "w"`)
	}
	for _, part := range parts[1:] {
		if part == "" {
			return errors.New("an empty part")
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("the character %q", c)
			}
		}
	}
	return nil
}

// decodeGrant reads a mediate-grant's routing DID.
func decodeGrant(p *didcomm.Plaintext) (did.DID, error) {
	var b grantBody
	if err := decodeBody(p, &b); err != nil {
		return did.DID{}, err
	}
	if b.RoutingDID == nil {
		return did.DID{}, missing(p, "routing_did")
	}
	d, err := did.ParseAnyMethod(*b.RoutingDID)
	if err != nil {
		return did.DID{}, fmt.Errorf("%w: mediate-grant routing_did: %w", ErrInvalidReply, err)
	}
	return d, nil
}

// decodeKeylistUpdateResponse reads the results of a keylist-update.
func decodeKeylistUpdateResponse(p *didcomm.Plaintext) ([]Update, error) {
	var b keylistUpdateResponseBody
	if err := decodeBody(p, &b); err != nil {
		return nil, err
	}
	if b.Updated == nil {
		return nil, missing(p, "updated")
	}
	out := make([]Update, len(*b.Updated))
	for i, u := range *b.Updated {
		if u.RecipientDID == nil || u.Action == nil || u.Result == nil {
			return nil, fmt.Errorf("%w: keylist-update-response: update %d lacks recipient_did, action or result", ErrInvalidReply, i)
		}
		out[i] = Update{DID: *u.RecipientDID, Action: *u.Action, Result: *u.Result}
	}
	return out, nil
}

// decodeKeylist reads one page of a keylist: its DIDs, and how many
// remain after it.
func decodeKeylist(p *didcomm.Plaintext) ([]did.DID, int, error) {
	var b keylistBody
	if err := decodeBody(p, &b); err != nil {
		return nil, 0, err
	}
	if b.Keys == nil {
		return nil, 0, missing(p, "keys")
	}
	out := make([]did.DID, len(*b.Keys))
	for i, k := range *b.Keys {
		if k.RecipientDID == nil {
			return nil, 0, fmt.Errorf("%w: keylist: key %d lacks recipient_did", ErrInvalidReply, i)
		}
		d, err := did.ParseAnyMethod(*k.RecipientDID)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: keylist: key %d: %w", ErrInvalidReply, i, err)
		}
		out[i] = d
	}
	remaining := 0
	if b.Pagination != nil {
		if b.Pagination.Remaining < 0 {
			return nil, 0, fmt.Errorf("%w: keylist: pagination remaining is negative", ErrInvalidReply)
		}
		remaining = b.Pagination.Remaining
	}
	return out, remaining, nil
}

// decodeStatus reads a status message.
func decodeStatus(p *didcomm.Plaintext) (Status, error) {
	var b statusBody
	if err := decodeBody(p, &b); err != nil {
		return Status{}, err
	}
	if b.MessageCount == nil {
		return Status{}, missing(p, "message_count")
	}
	if *b.MessageCount < 0 || b.TotalBytes < 0 {
		return Status{}, fmt.Errorf("%w: status with a negative count", ErrInvalidReply)
	}
	return Status{MessageCount: *b.MessageCount, TotalBytes: b.TotalBytes, LiveDelivery: b.LiveDelivery}, nil
}

// decodeDelivery reads the messages a delivery carries: one attachment
// each, whose id is the mediator's id of the message and whose data is the
// message, base64url (padding tolerated) or JSON. Each must be an
// encrypted DIDComm message in the form core/didcomm reads, since that is
// all a mediator may queue.
func decodeDelivery(p *didcomm.Plaintext) ([]delivered, error) {
	if len(p.Attachments) == 0 {
		return nil, fmt.Errorf("%w: a delivery without attachments", ErrInvalidReply)
	}
	out := make([]delivered, len(p.Attachments))
	seen := make(map[string]bool, len(p.Attachments))
	for i, a := range p.Attachments {
		if a.ID == "" {
			return nil, fmt.Errorf("%w: delivery: attachment %d has no id to acknowledge it by", ErrInvalidReply, i)
		}
		if seen[a.ID] {
			return nil, fmt.Errorf("%w: delivery: attachment id %q twice", ErrInvalidReply, a.ID)
		}
		seen[a.ID] = true
		var msg []byte
		switch {
		case a.Data.Base64 != "":
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(a.Data.Base64, "="))
			if err != nil {
				return nil, fmt.Errorf("%w: delivery: attachment %q: base64: %v", ErrInvalidReply, a.ID, err)
			}
			msg = b
		case len(a.Data.JSON) > 0:
			msg = []byte(a.Data.JSON)
		default:
			return nil, fmt.Errorf("%w: delivery: attachment %q carries neither base64 nor json data", ErrInvalidReply, a.ID)
		}
		if err := didcomm.CheckEncrypted(msg); err != nil {
			return nil, fmt.Errorf("%w: delivery: attachment %q: %w", ErrInvalidReply, a.ID, err)
		}
		out[i] = delivered{ID: a.ID, Message: msg}
	}
	return out, nil
}
