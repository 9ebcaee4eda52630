package mediator

import (
	"encoding/json"
	"fmt"
	"time"
)

// The message types and the protocols' limits are core/mediation's, the
// client side of the same protocols (docs/mediation.md): one vocabulary for
// both ends.

// maxDeliveryBytes caps the messages one delivery carries (at least one is
// always carried), so that a pickup's reply, and what the mediator holds in
// memory to write it, stays within a fixed budget however large the
// client's limit. The reply carries them in base64 inside an encrypted
// message, itself base64: about 16/9 of their size, which must stay under
// the 1 MiB a DIDComm reader takes (didcomm.MaxPackedSize), or the client
// could not open its delivery.
const maxDeliveryBytes = 512 << 10

// problem is a refusal the mediator reports to an authenticated client as
// a problem-report (DIDComm v2.1, "Problem Reports"): its code, and a
// sentence saying what was wrong.
type problem struct {
	code    string
	comment string
}

func (p *problem) Error() string { return p.comment }

func problemf(code, format string, args ...any) *problem {
	return &problem{code: code, comment: fmt.Sprintf(format, args...)}
}

// The body of every message the mediator reads is decoded into one of these,
// strictly: unknown members are ignored as DIDComm requires, but a member of
// the wrong JSON type is refused.

type keylistUpdateBody struct {
	Updates []struct {
		RecipientDID string `json:"recipient_did"`
		Action       string `json:"action"`
	} `json:"updates"`
}

type keylistUpdated struct {
	RecipientDID string `json:"recipient_did"`
	Action       string `json:"action"`
	Result       string `json:"result"`
}

type keylistQueryBody struct {
	Paginate *struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	} `json:"paginate"`
}

type keylistBody struct {
	Keys       []keylistKey `json:"keys"`
	Pagination pagination   `json:"pagination"`
}

type keylistKey struct {
	RecipientDID string `json:"recipient_did"`
}

type pagination struct {
	Count     int `json:"count"`
	Offset    int `json:"offset"`
	Remaining int `json:"remaining"`
}

type statusRequestBody struct {
	RecipientDID string `json:"recipient_did"`
}

type statusBody struct {
	RecipientDID         string `json:"recipient_did,omitempty"`
	MessageCount         int    `json:"message_count"`
	LongestWaitedSeconds int64  `json:"longest_waited_seconds,omitempty"`
	NewestReceivedTime   int64  `json:"newest_received_time,omitempty"`
	OldestReceivedTime   int64  `json:"oldest_received_time,omitempty"`
	TotalBytes           int    `json:"total_bytes"`
	LiveDelivery         bool   `json:"live_delivery"`
}

type deliveryRequestBody struct {
	Limit        *int   `json:"limit"`
	RecipientDID string `json:"recipient_did"`
}

type deliveryBody struct {
	RecipientDID string `json:"recipient_did,omitempty"`
}

type receivedBody struct {
	MessageIDList []string `json:"message_id_list"`
}

type liveChangeBody struct {
	LiveDelivery *bool `json:"live_delivery"`
}

type pingBody struct {
	ResponseRequested bool `json:"response_requested"`
}

type problemBody struct {
	Code    string `json:"code"`
	Comment string `json:"comment"`
}

type mediateGrantBody struct {
	RoutingDID string `json:"routing_did"`
}

// decodeBody reads a message body into v, refusing what is not a JSON
// object of the right shape.
func decodeBody(typ string, body json.RawMessage, v any) error {
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return problemf("e.p.msg.bad-body", "the body of %s is not what it should be: %v", typ, err)
	}
	return nil
}

// statusOf builds the status body of a queue summary.
func statusOf(s status, recipient string, live bool, now time.Time) statusBody {
	b := statusBody{RecipientDID: recipient, MessageCount: s.Count, TotalBytes: s.Bytes, LiveDelivery: live}
	if s.Count > 0 {
		b.OldestReceivedTime = s.Oldest.Unix()
		b.NewestReceivedTime = s.Newest.Unix()
		b.LongestWaitedSeconds = int64(now.Sub(s.Oldest) / time.Second)
	}
	return b
}
