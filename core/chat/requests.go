package chat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/session"
	"planet/vault"
)

// Requests. Anyone who has the person's DID can write to them, so a chat
// message from someone who is not among their contacts (and whom they have
// not written to) is not put in a conversation: it waits as a *request*,
// apart, capped per sender and in all, until the person accepts it (the
// sender becomes a contact, and the messages a conversation), declines it
// (the messages are deleted) or blocks the sender (deleted, and whatever
// that DID sends from then on is dropped unread). Requests never appear
// among conversations; no receipt goes back for them, so a stranger does
// not learn that the person read, or even received, what they sent.

// Limits on requests: a stranger's messages beyond them are dropped.
const (
	// MaxRequestsPerSender is how many messages of one stranger wait.
	MaxRequestsPerSender = 20
	// MaxRequests is how many strangers' messages wait in all; with
	// [MaxTextLength] that bounds what strangers can make the vault keep
	// to a few megabytes.
	MaxRequests = 200
)

// Collections of requests: the messages (messageRecords, named as in
// colMessages), one requestSender record per stranger with messages
// waiting, and one blockedRecord per blocked DID (both named by
// conversationRecordID).
const (
	colRequests       vault.Collection = "requests"
	colRequestSenders vault.Collection = "request-senders"
	colBlocked        vault.Collection = "blocked"
)

// requestSender counts a stranger's messages waiting. Rules for change as
// for messageRecord.
type requestSender struct {
	From  string `cbor:"1,keyasint"`
	Count int    `cbor:"2,keyasint"`
	Last  int64  `cbor:"3,keyasint"` // when the last one came, Unix milliseconds
}

// blockedRecord is a DID the person blocked. Rules for change as for
// messageRecord.
type blockedRecord struct {
	DID     string `cbor:"1,keyasint"`
	Blocked int64  `cbor:"2,keyasint"` // when, Unix milliseconds
}

// A Request is what one stranger wrote to the person, waiting for them to
// accept, decline or block it.
type Request struct {
	From     did.DID
	Messages []Message // in conversation order
	Last     time.Time // when the last of them came
}

// knows reports whether messages from from go into a conversation: from is
// one of the person's contacts, or someone the person has written to.
func (svc *Service) knows(ctx context.Context, v *vault.Vault, from did.DID) (bool, error) {
	if svc.contacts != nil {
		known, err := svc.contacts.Knows(ctx, from)
		if err != nil || known {
			return known, err
		}
	}
	_, err := v.Get(ctx, colConversations, conversationRecordID(from))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, vault.ErrNotFound):
		return false, nil
	}
	return false, err
}

// isBlocked reports whether the person blocked from.
func isBlocked(ctx context.Context, v *vault.Vault, from did.DID) (bool, error) {
	_, err := v.Get(ctx, colBlocked, conversationRecordID(from))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, vault.ErrNotFound):
		return false, nil
	}
	return false, err
}

// keepRequest keeps rec, a stranger's message, as a request, unless it is
// kept already or the stranger, or strangers in all, have as many waiting
// as they may. It reports whether it kept it. svc.mu is held.
func keepRequest(ctx context.Context, s *session.Session, rec *messageRecord, from did.DID) (bool, error) {
	v := s.Vault
	recID := messageRecordID(rec.ID, from)
	if _, err := v.Get(ctx, colRequests, recID); err == nil {
		return false, nil
	} else if !errors.Is(err, vault.ErrNotFound) {
		return false, err
	}
	senderID := conversationRecordID(from)
	sender, err := session.Get[requestSender](ctx, v, colRequestSenders, senderID)
	if errors.Is(err, vault.ErrNotFound) {
		sender, err = &requestSender{From: from.String()}, nil
	}
	if err != nil {
		return false, err
	}
	if sender.Count >= MaxRequestsPerSender {
		return false, nil
	}
	total, err := v.Count(ctx, colRequests)
	if err != nil {
		return false, err
	}
	if total >= MaxRequests {
		return false, nil
	}
	sender.Count++
	sender.Last = session.Millis(s.Now())
	msg, err := vault.MarshalCBOR(rec)
	if err != nil {
		return false, err
	}
	sb, err := vault.MarshalCBOR(sender)
	if err != nil {
		return false, err
	}
	err = v.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colRequests, recID, msg)
		tx.Put(colRequestSenders, senderID, sb)
		return nil
	})
	return err == nil, err
}

// Requests returns what strangers wrote to the person, one [Request] per
// stranger, the most recent first.
func (svc *Service) Requests(ctx context.Context) ([]Request, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	recs, err := session.List(ctx, s.Vault, colRequests, func(*messageRecord, string) {})
	if err != nil {
		return nil, err
	}
	by := map[did.DID]*Request{}
	for _, r := range recs {
		m, err := r.message()
		if err != nil {
			return nil, fmt.Errorf("chat request %s: %w", r.ID, errors.Join(vault.ErrCorrupt, err))
		}
		rq := by[m.From]
		if rq == nil {
			rq = &Request{From: m.From}
			by[m.From] = rq
		}
		rq.Messages = append(rq.Messages, m)
		if m.Stored.After(rq.Last) {
			rq.Last = m.Stored
		}
	}
	out := make([]Request, 0, len(by))
	for _, rq := range by {
		rq.Messages = conversationOrder(rq.Messages)
		out = append(out, *rq)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Last.Equal(out[j].Last) {
			return out[i].Last.After(out[j].Last)
		}
		return out[i].From.String() < out[j].From.String()
	})
	return out, nil
}

// requestRecords returns the ids and records of from's requests.
func requestRecords(ctx context.Context, v *vault.Vault, from did.DID) ([]string, []messageRecord, error) {
	var ids []string
	recs, err := session.List(ctx, v, colRequests, func(_ *messageRecord, id string) { ids = append(ids, id) })
	if err != nil {
		return nil, nil, err
	}
	var mine []string
	var out []messageRecord
	for i, r := range recs {
		if r.From == from.String() {
			mine = append(mine, ids[i])
			out = append(out, r)
		}
	}
	return mine, out, nil
}

// ErrNoRequest is returned when the person answers a request that is not
// there: no message from that DID waits.
var ErrNoRequest = errors.New("no chat request from them")

// AcceptRequest accepts the request from from: they become a contact,
// called name (their short DID when name is blank), and what they wrote
// becomes the start of a conversation with them. A contact that already
// has their DID is kept as it is.
func (svc *Service) AcceptRequest(ctx context.Context, from did.DID, name string) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	ids, recs, err := requestRecords(ctx, s.Vault, from)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("accept request: %w: %s", ErrNoRequest, did.Short(from))
	}
	if svc.contacts == nil {
		return errors.New("accept request: chat has no address book")
	}
	c, err := svc.contacts.ByDID(ctx, from)
	if err != nil {
		return err
	}
	if c == nil {
		if name == "" {
			name = did.Short(from)
		}
		if _, err := svc.contacts.Add(ctx, contacts.Input{Name: name, DID: from.String()}); err != nil {
			return fmt.Errorf("accept request: %w", err)
		}
	}
	encoded := make([][]byte, len(recs))
	for i := range recs {
		if encoded[i], err = vault.MarshalCBOR(&recs[i]); err != nil {
			return err
		}
	}
	return s.Vault.Update(ctx, func(tx *vault.Tx) error {
		for i, id := range ids {
			tx.Put(colMessages, id, encoded[i])
			tx.Delete(colRequests, id)
		}
		tx.Delete(colRequestSenders, conversationRecordID(from))
		return nil
	})
}

// DeclineRequest deletes what from wrote. They may write again, and it
// waits as a new request.
func (svc *Service) DeclineRequest(ctx context.Context, from did.DID) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	ids, _, err := requestRecords(ctx, s.Vault, from)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("decline request: %w: %s", ErrNoRequest, did.Short(from))
	}
	return dropRequests(ctx, s.Vault, from, ids, nil)
}

// Block deletes what from wrote, if anything, and drops whatever from sends
// from now on, unread. Blocking someone already blocked changes nothing.
// The person cannot block themself.
func (svc *Service) Block(ctx context.Context, from did.DID) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	if from.IsZero() || from == s.Identity.DID() {
		return fmt.Errorf("block: %w: not someone else's DID", input.ErrInvalid)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	ids, _, err := requestRecords(ctx, s.Vault, from)
	if err != nil {
		return err
	}
	b, err := vault.MarshalCBOR(blockedRecord{DID: from.String(), Blocked: session.Millis(s.Now())})
	if err != nil {
		return err
	}
	return dropRequests(ctx, s.Vault, from, ids, b)
}

// dropRequests deletes from's requests ids, and blocks from if block is
// set (the blockedRecord to write).
func dropRequests(ctx context.Context, v *vault.Vault, from did.DID, ids []string, block []byte) error {
	return v.Update(ctx, func(tx *vault.Tx) error {
		for _, id := range ids {
			tx.Delete(colRequests, id)
		}
		tx.Delete(colRequestSenders, conversationRecordID(from))
		if block != nil {
			tx.Put(colBlocked, conversationRecordID(from), block)
		}
		return nil
	})
}

// IsBlocked reports whether the person blocked d.
func (svc *Service) IsBlocked(ctx context.Context, d did.DID) (bool, error) {
	s, err := svc.open.Session()
	if err != nil {
		return false, err
	}
	return isBlocked(ctx, s.Vault, d)
}
