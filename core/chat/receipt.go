package chat

import (
	"context"
	"errors"
	"fmt"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/session"
	"planet/vault"
)

// Delivery receipts: a chat message that reaches its reader through the
// mailbox gets no Ack, so the reader tells its writer with a receipt,
// a signed message of type [ReceiptType] naming the messages kept. It
// travels like a chat message (on a chat stream, acknowledged, or sealed
// through the writer's mailbox); the writer marks the messages named
// delivered. docs/protocols/chat.md specifies it.

// ReceiptType is the DIDComm message type of a delivery receipt.
const ReceiptType = "planet:chat/1.0/receipt"

// MaxReceiptIDs is the most message ids one receipt names.
const MaxReceiptIDs = 256

// receiptBody is a receipt's body: {"ids": ["…", …]}.
type receiptBody struct {
	IDs []string `json:"ids"`
}

// NewReceipt signs a receipt from the person to to for ids, the ids
// of messages to wrote to the person and the person has kept: 1 to
// [MaxReceiptIDs] of them. It returns the receipt's own message id and the
// signed receipt: send that with [Send], or seal it with didcomm.SealSigned
// for to's mailbox.
func (svc *Service) NewReceipt(to did.DID, ids []string) (id string, signed []byte, err error) {
	s, err := svc.open.Session()
	if err != nil {
		return "", nil, err
	}
	me := s.Identity
	if len(ids) == 0 || len(ids) > MaxReceiptIDs {
		return "", nil, fmt.Errorf("new receipt: %w: %d ids, a receipt names 1 to %d", input.ErrInvalid, len(ids), MaxReceiptIDs)
	}
	for _, mid := range ids {
		if err := didcomm.CheckID(mid); err != nil {
			return "", nil, fmt.Errorf("new receipt: %w: %q: %w", input.ErrInvalid, mid, err)
		}
	}
	if to.IsZero() || to == me.DID() {
		return "", nil, fmt.Errorf("new receipt: %w: a receipt goes to someone else", input.ErrInvalid)
	}
	m, err := didcomm.NewMessage(me.DID(), []did.DID{to}, ReceiptType, receiptBody{IDs: ids}, s.Now())
	if err != nil {
		return "", nil, fmt.Errorf("new receipt: %w", err)
	}
	signed, err = didcomm.Sign(me, m)
	return m.ID, signed, err
}

// readReceipt checks that m is a receipt to one reader and returns the ids
// it names.
func readReceipt(m *didcomm.Message) ([]string, error) {
	if !didcomm.TypeMatches(m.Type, ReceiptType) {
		return nil, fmt.Errorf("it is of type %q, not a receipt", m.Type)
	}
	if len(m.To) != 1 {
		return nil, fmt.Errorf("it has %d recipients, a receipt has one", len(m.To))
	}
	obj, err := jcs.DecodeObject(m.Body)
	if err != nil {
		return nil, fmt.Errorf("its body %v", err)
	}
	raw, ok := obj["ids"].([]any)
	if !ok || len(raw) == 0 || len(raw) > MaxReceiptIDs {
		return nil, fmt.Errorf(`its "ids" is not a list of 1 to %d message ids`, MaxReceiptIDs)
	}
	ids := make([]string, len(raw))
	for i, v := range raw {
		s, ok := v.(string)
		if !ok || didcomm.CheckID(s) != nil {
			return nil, fmt.Errorf(`its "ids" holds %v, which is not a message id`, v)
		}
		ids[i] = s
	}
	return ids, nil
}

// applyReceipt marks delivered, in one vault update, the messages a
// receipt names that the person wrote to its signer, m.From, and returns
// their ids. Ids of other messages (another person's, one the person
// received, none the person has, or one delivered already) are passed
// over: a receipt only ever speaks for its signer's own mailbox.
func (svc *Service) applyReceipt(ctx context.Context, s *session.Session, m *didcomm.Message) ([]string, error) {
	ids, err := readReceipt(m)
	if err != nil {
		return nil, fmt.Errorf("receive receipt: %w: %w", input.ErrInvalid, err)
	}
	v, me := s.Vault, s.Identity
	if m.To[0] != me.DID() {
		return nil, fmt.Errorf("receive receipt: %w: it is addressed to %s, not to you", input.ErrInvalid, m.To[0])
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(v)
	var recs []*messageRecord
	var marked []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		rec, err := undelivered(ctx, s, mem, id)
		switch {
		case errors.Is(err, vault.ErrNotFound), errors.Is(err, input.ErrInvalid):
			continue
		case err != nil:
			return nil, err
		case rec == nil || rec.To != m.From.String():
			continue
		}
		recs = append(recs, rec)
		marked = append(marked, id)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	// A receipt speaks for its signer's mailbox: what it names went there.
	if err := writeDelivered(ctx, s, mem, recs, ViaMailbox); err != nil {
		return nil, err
	}
	return marked, nil
}
