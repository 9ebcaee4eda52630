package trust

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/session"
	"planet/vault"
)

// Replays. A sealed trust-network message travels through the mailbox,
// which keeps a copy until the recipient picks it up (and a mailbox that
// misbehaves, or anyone who copied the envelope on its way, may keep it
// for longer). Applied a second time, an old message could undo what came
// after it: a share brought back after it was revoked. So every message
// the trust network seals carries an expiry (at most MaxMessageAge after
// it was made), and the person's vault remembers, in the "replays"
// collection, which messages it has applied until they could no longer be
// accepted anyway: a repeat is refused with ErrReplayed, and a message
// made more than MaxMessageAge ago is refused by its age alone, so the
// record never needs to hold more than MaxMessageAge of messages.

// MaxMessageAge is the longest a sealed trust-network message is accepted
// after it was made: the mailbox's retention (30 days) with a few days to
// spare for the recipient to come back and for clocks that differ. The
// messages the trust network seals expire this long after they are made;
// one made without an expiry (by an earlier version) is held to it too.
const MaxMessageAge = 35 * 24 * time.Hour

// ErrReplayed refuses a sealed trust-network message that was already
// applied, or that is older than [MaxMessageAge]: applying it again could
// undo what came after it.
var ErrReplayed = errors.New("this message was already received")

// colReplays holds a replayRecord for each sealed message applied, by
// replayRecordID.
const colReplays vault.Collection = "replays"

// replayRecord remembers one message applied. Its keys are frozen (see
// package session for the rules of change).
type replayRecord struct {
	// Until is when the message could no longer be accepted anyway (its
	// expiry, at most MaxMessageAge after it was made), in Unix
	// milliseconds: the record may be dropped after that.
	Until int64 `cbor:"1,keyasint"`
}

// replayPruneEvery is how often, at most, remembering a message also drops
// the records of messages that could no longer be accepted.
const replayPruneEvery = time.Hour

// replayRecordID names the message from its sender and its id: ids are
// chosen by senders, so the same id from two senders is two messages. The
// digest makes any id a valid record id of fixed length.
func replayRecordID(m *didcomm.Message) string {
	h := sha256.New()
	h.Write([]byte(m.From.String()))
	h.Write([]byte{0})
	h.Write([]byte(m.ID))
	return jws.Base64.EncodeToString(h.Sum(nil)[:18])
}

// replayUntil is when m could no longer be accepted: its expiry, or
// MaxMessageAge after it was made, whichever is sooner.
func replayUntil(m *didcomm.Message) time.Time {
	until := m.Created.Add(MaxMessageAge)
	if !m.Expires.IsZero() && m.Expires.Before(until) {
		until = m.Expires
	}
	return until
}

// checkReplay refuses m if it is too old or was applied before. s.replayMu
// is held.
func (s *Service) checkReplay(ctx context.Context, se *session.Session, m *didcomm.Message) error {
	now := se.Now()
	if !now.Before(replayUntil(m)) {
		return fmt.Errorf("%w: %w: it was made on %s, more than %v ago", input.ErrInvalid, ErrReplayed,
			m.Created.Format(time.RFC1123), MaxMessageAge)
	}
	_, err := se.Vault.Get(ctx, colReplays, replayRecordID(m))
	switch {
	case err == nil:
		return fmt.Errorf("%w: %w: message %s from %s", input.ErrInvalid, ErrReplayed, m.ID, m.From)
	case errors.Is(err, vault.ErrNotFound):
		return nil
	}
	return err
}

// rememberReplay records that m was applied, and now and then drops the
// records of messages that could no longer be accepted. s.replayMu is held.
func (s *Service) rememberReplay(ctx context.Context, se *session.Session, m *didcomm.Message) error {
	if err := session.Put(ctx, se.Vault, colReplays, replayRecordID(m), replayRecord{Until: session.Millis(replayUntil(m))}); err != nil {
		return err
	}
	now := se.Now()
	if !s.replayPruned.IsZero() && now.Sub(s.replayPruned) < replayPruneEvery && !now.Before(s.replayPruned) {
		return nil
	}
	s.replayPruned = now
	var old []string
	_, err := session.List(ctx, se.Vault, colReplays, func(r *replayRecord, id string) {
		if r.Until <= session.Millis(now) {
			old = append(old, id)
		}
	})
	if err != nil || len(old) == 0 {
		return err
	}
	return se.Vault.Update(ctx, func(tx *vault.Tx) error {
		for _, id := range old {
			tx.Delete(colReplays, id)
		}
		return nil
	})
}
