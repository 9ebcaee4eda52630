package chat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"planet/core/did"
	"planet/core/session"
	"planet/vault"
)

// colMessages holds chat messages; colConversations holds, per
// conversation, what sending the next message needs.
const (
	colMessages      vault.Collection = "messages"
	colConversations vault.Collection = "conversations"
)

// messageRecord is one chat message in the vault, both the signed message
// and what it says, so that listing needs no parsing.
//
// It is deterministic CBOR with the integer keys in its field tags. Rules
// for change: a key is never reused or given another meaning; new fields
// are optional, with a zero value that means what older records meant
// without them. Times are Unix milliseconds.
type messageRecord struct {
	ID        string `cbor:"1,keyasint"`
	From      string `cbor:"2,keyasint"`
	To        string `cbor:"3,keyasint"`
	Text      string `cbor:"4,keyasint"`
	Seq       uint64 `cbor:"5,keyasint"`
	Created   int64  `cbor:"6,keyasint"` // created_time, in milliseconds
	State     State  `cbor:"7,keyasint"`
	Stored    int64  `cbor:"8,keyasint"`
	Delivered int64  `cbor:"9,keyasint,omitempty"`
	Via       string `cbor:"10,keyasint,omitempty"`
	Signed    []byte `cbor:"11,keyasint"`
	// Plain is the DIDComm plaintext of a basic message (Via "didcomm",
	// or written by WriteBasic), whose Signed is empty: what its sender
	// wrote, as authenticated when it arrived.
	Plain []byte `cbor:"12,keyasint,omitempty"`
}

// conversationRecord is what the vault keeps of one conversation besides
// its messages. It is derived from them: an imported vault has none, and
// the first message sent rebuilds it. Rules for change as for
// messageRecord.
type conversationRecord struct {
	Peer    string `cbor:"1,keyasint"`
	LastSeq uint64 `cbor:"2,keyasint"` // the seq of the person's last message in it
}

// messageRecordID names the record of the message id from the sender from:
// a message id is unique only per sender, and no sender can take the place
// of another's message by reusing its id.
func messageRecordID(id string, from did.DID) string {
	sum := sha256.Sum256([]byte(from.String()))
	return id + "." + hex.EncodeToString(sum[:16])
}

// conversationRecordID names the record of the conversation with peer.
func conversationRecordID(peer did.DID) string {
	sum := sha256.Sum256([]byte(peer.String()))
	return hex.EncodeToString(sum[:16])
}

func (r *messageRecord) message() (Message, error) {
	c := Message{
		ID:      r.ID,
		Text:    r.Text,
		Seq:     r.Seq,
		Created: session.Time(r.Created),
		State:   r.State,
		Stored:  session.Time(r.Stored),
		Via:     r.Via,
		Signed:  r.Signed,
		Plain:   r.Plain,
	}
	if r.Delivered != 0 {
		c.Delivered = session.Time(r.Delivered)
	}
	var err error
	if c.From, err = did.Parse(r.From); err != nil {
		return Message{}, err
	}
	if c.To, err = did.Parse(r.To); err != nil {
		return Message{}, err
	}
	switch r.State {
	case Queued, Sent, Delivered, Received:
	default:
		return Message{}, fmt.Errorf("unknown state %q", r.State)
	}
	return c, nil
}

// colOutbox names the messages not yet delivered, so that finding them
// does not read every message: a record per message, named as its message
// record, holding an outboxRecord.
const colOutbox vault.Collection = "outbox"

// outboxRecord is an entry of the outbox. Rules for change as for
// messageRecord.
type outboxRecord struct {
	ID string `cbor:"1,keyasint"` // the message id
}
