package didcomm

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/jcs"
)

// Routing Protocol 2.0 (DIDComm v2.1, "Routing Protocol 2.0"): a forward
// message asks a mediator to pass its attachment on to next.

// ForwardType is the type of a forward message.
const ForwardType = "https://didcomm.org/routing/2.0/forward"

// Forward is a forward message read by [ParseForward].
type Forward struct {
	// Next is whom the payload goes to: a DID, or a DID URL naming one
	// key (the last hop of a route through routing keys).
	Next string
	// Payload is the message to pass on, a packed DIDComm message
	// (usually encrypted, for Next), as compact JSON.
	Payload json.RawMessage
}

// ParseForward reads p as a forward message: type [ForwardType], a body
// whose next is a DID or a DID URL, and at least one attachment, the first
// of which carries the message to pass on, as json or as base64url of its
// bytes. Other attachments are ignored, as didcomm-rust does. Errors wrap
// [ErrInvalidMessage].
func ParseForward(p *Plaintext) (*Forward, error) {
	if p.Type != ForwardType {
		return nil, invalid("the message is of type %q, not a forward", p.Type)
	}
	var body map[string]any
	if err := json.Unmarshal(p.body(), &body); err != nil {
		return nil, invalid("the forward's body: %v", err)
	}
	next, ok := body["next"].(string)
	if !ok {
		return nil, invalid(`the forward's body has no "next", or one that is not a string`)
	}
	if err := checkNext(next); err != nil {
		return nil, invalid("the forward's next %v", err)
	}
	if len(p.Attachments) == 0 {
		return nil, invalid("the forward has no attachment to pass on")
	}
	data := p.Attachments[0].Data
	var payload []byte
	switch {
	case data.JSON != nil:
		payload = data.JSON
	case data.Base64 != "":
		b, err := decodeAttachmentBase64(data.Base64)
		if err != nil {
			return nil, invalid("the forward's attachment is not base64url")
		}
		v, err := jcs.Decode(b)
		if err != nil {
			return nil, invalid("the forward's attachment is not JSON: %v", err)
		}
		if payload, err = jcs.Encode(v); err != nil {
			return nil, invalid("the forward's attachment: %v", err)
		}
	default:
		return nil, invalid("the forward's attachment links to its payload; PLANET does not fetch it")
	}
	if _, err := jcs.DecodeObject(payload); err != nil {
		return nil, invalid("the forward's payload %v", err)
	}
	return &Forward{Next: next, Payload: payload}, nil
}

// checkNext checks a forward's next: a DID, or a DID URL with a fragment.
func checkNext(next string) error {
	if strings.Contains(next, "#") {
		_, err := kidDID(next)
		return err
	}
	_, err := did.ParseAnyMethod(next)
	return err
}

// decodeAttachmentBase64 decodes attachment data, which DIDComm writes in
// base64url; padding and the standard alphabet are accepted too.
func decodeAttachmentBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return jwsBase64Lenient.DecodeString(s)
}

// jwsBase64Lenient is base64url without padding, not insisting that unused
// bits be zero: attachments are others' bytes, not signed values.
var jwsBase64Lenient = base64.RawURLEncoding

// NewForward returns a forward message asking the mediator to pass payload,
// a packed message, on to next. It has a new random id, created_time now
// and, if expires is not zero, that expires_time (which should be the
// payload's own). to, if not zero, is the mediator's DID.
func NewForward(next string, payload []byte, to did.DID, now, expires time.Time) (*Plaintext, error) {
	if err := checkNext(next); err != nil {
		return nil, invalid("forward to %q: %v", next, err)
	}
	v, err := jcs.DecodeObject(payload)
	if err != nil {
		return nil, invalid("the payload to forward %v", err)
	}
	js, err := jcs.Encode(v)
	if err != nil {
		return nil, err
	}
	p, err := NewPlaintext(ForwardType, map[string]string{"next": next}, now)
	if err != nil {
		return nil, err
	}
	if !to.IsZero() {
		p.To = []did.DID{to}
	}
	p.Expires = expires
	p.Attachments = []Attachment{{Data: AttachmentData{JSON: js}}}
	if err := p.check(); err != nil {
		return nil, invalid("forward: %v", err)
	}
	return p, nil
}
