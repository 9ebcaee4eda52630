package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/session"
	"planet/vault"
)

// The outbox names every message the person wrote that is not yet
// delivered, from the moment [Written.Keep] keeps it until an
// acknowledgement or a receipt is written for it:
//
//   - a message that could be handed neither to its reader nor to a mailbox
//     (the person offline, the reader's relay down or their mailbox full)
//     is [Queued] until the network lets it go: core/p2p sends it again
//     whenever the person's node reaches a relay or another person, and it
//     becomes sent (in the reader's mailbox) or delivered;
//   - a [Sent] message waits for its receipt from the reader's mailbox,
//     or was acknowledged by a page closed before it wrote so (acknowledgements
//     are written behind, [Service.Acknowledged]): core/p2p offers it again
//     to its reader whenever they are connected, and their acknowledgement
//     makes it delivered.
//
// Nothing the person wrote is dropped for want of a network, and nothing
// delivered stays sent for good. docs/protocols/chat.md.

// Queue records that the person's message id, kept by [Written.Keep],
// could not be handed over: it becomes queued until [Service.MarkSent] or an
// acknowledgement moves it on. A message
// delivered meanwhile (its acknowledgement came after all) stays
// delivered. An id of no message the person sent returns an error
// wrapping [vault.ErrNotFound].
func (svc *Service) Queue(ctx context.Context, id string) error {
	return svc.moveQueued(ctx, id, Sent, Queued, "")
}

// MarkSent records that the person's message id, queued or just written
// (sent), was left in its reader's mailbox: it is sent, travelled
// [ViaMailbox] (unless its record already said how), and stays in the
// outbox until its receipt or an acknowledgement comes. A message
// acknowledged or delivered meanwhile is left as it is.
func (svc *Service) MarkSent(ctx context.Context, id string) error {
	return svc.moveQueued(ctx, id, Queued, Sent, ViaMailbox)
}

// moveQueued moves the person's message id from state from, or from the
// state to, to the state to, with the way via if its record says none
// ("" leaves it); a record already so is not written again. It stays in
// the outbox (where a vault written before sent messages were named there
// lacks it, it is put there).
func (svc *Service) moveQueued(ctx context.Context, id string, from, to State, via string) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	v, me := s.Vault, s.Identity
	if didcomm.CheckID(id) != nil {
		return fmt.Errorf("outbox: %w: %q is not a message id", input.ErrInvalid, id)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(v)
	// An acknowledged or delivered message has no record to move (nil).
	rec, err := undelivered(ctx, s, mem, id)
	if err != nil || rec == nil || rec.State != from && rec.State != to {
		return err
	}
	next := *rec
	next.State = to
	if next.Via == "" {
		next.Via = via
	}
	if next.State == rec.State && next.Via == rec.Via {
		return nil
	}
	b, err := vault.MarshalCBOR(&next)
	if err != nil {
		return err
	}
	entry, err := vault.MarshalCBOR(outboxRecord{ID: id})
	if err != nil {
		return err
	}
	recID := messageRecordID(id, me.DID())
	err = v.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colMessages, recID, b)
		tx.Put(colOutbox, recID, entry)
		return nil
	})
	if err != nil {
		return err
	}
	if _, ok := mem.unacked[id]; ok {
		mem.unacked[id] = &next
	}
	return nil
}

// Outbox returns the person's messages not yet delivered, queued and sent,
// each with its signed form, by reader and, for each reader, in the order
// they were written; those acknowledged meanwhile are delivered, and not
// among them.
func (svc *Service) Outbox(ctx context.Context) ([]Message, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	v, me := s.Vault, s.Identity
	acked := svc.ackedNow(v)
	entries, err := v.List(ctx, colOutbox)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(entries))
	for _, e := range entries {
		var ob outboxRecord
		if err := vault.UnmarshalCBOR(e.Data, &ob); err != nil || messageRecordID(ob.ID, me.DID()) != e.ID {
			return nil, fmt.Errorf("%s/%s: %w", colOutbox, e.ID, errors.Join(vault.ErrCorrupt, err))
		}
		rec, err := session.Get[messageRecord](ctx, v, colMessages, e.ID)
		if errors.Is(err, vault.ErrNotFound) {
			return nil, fmt.Errorf("%s/%s names no message: %w", colOutbox, e.ID, vault.ErrCorrupt)
		}
		if err != nil {
			return nil, err
		}
		c, err := rec.message()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", colMessages, e.ID, errors.Join(vault.ErrCorrupt, err))
		}
		if _, ok := acked[c.ID]; ok || (c.State != Queued && c.State != Sent) {
			continue // acknowledged, and about to be written delivered
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Message) int {
		return cmp.Or(strings.Compare(a.To.String(), b.To.String()), cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}
