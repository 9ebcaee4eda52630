package trust

import (
	"context"
	"fmt"

	"planet/core/did"
	"planet/core/session"
	"planet/core/wire"
)

// Sharing: a person may let a contact see their relationships, so that the
// contact's trust graph shows how the two of them reach further. Sharing is
// opt-in per contact and revocable: turning it off tells the contact to
// forget everything the person shared.

// MaxSharedPerFrame is the most credentials one share frame carries; more
// go in several frames.
const MaxSharedPerFrame = 12

// ShareFrame is the one message of /planet/share/1.0.0: credentials the
// sender shares, the revocation of everything they shared, or the receipt
// of either. Change rules: numbered keys are never reused; new fields are
// optional.
type ShareFrame struct {
	// Credentials are the JSON of relationship credentials between the
	// sender and others.
	Credentials [][]byte `cbor:"1,keyasint,omitempty"`
	// Revoke asks the receiver to forget every credential the sender shared.
	Revoke bool `cbor:"2,keyasint,omitempty"`
	// Received marks a receipt; Kept says how many credentials were kept.
	Received bool         `cbor:"3,keyasint,omitempty"`
	Kept     int          `cbor:"4,keyasint,omitempty"`
	Refused  *RemoteError `cbor:"5,keyasint,omitempty"`
}

// SetSharing turns sharing the person's relationships with the contact
// whose DID is with on or off, and returns the frames that tell them.
func (s *Service) SetSharing(ctx context.Context, with did.DID, on bool) ([]Outgoing, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	id := se.Identity
	c, err := s.contacts.SetSharing(ctx, with, on)
	if err != nil {
		return nil, err
	}
	if !on {
		return []Outgoing{{To: with, Relays: c.Relays, Protocol: ProtocolShare, Frame: &ShareFrame{Revoke: true}}}, nil
	}
	kept, err := s.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	var batches [][][]byte
	var batch [][]byte
	for _, k := range kept {
		cr := k.Credential
		// Only the person's own relationships, and not the one with the
		// contact they share with: the contact holds that already.
		if !k.SharedBy.IsZero() || cr.Issuer == with || cr.Subject.ID == with || (cr.Issuer != id.DID() && cr.Subject.ID != id.DID()) {
			continue
		}
		exact, err := cr.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if batch = append(batch, exact); len(batch) == MaxSharedPerFrame {
			batches, batch = append(batches, batch), nil
		}
	}
	if len(batch) > 0 || len(batches) == 0 {
		batches = append(batches, batch)
	}
	out := make([]Outgoing, len(batches))
	for i, b := range batches {
		out[i] = Outgoing{To: with, Relays: c.Relays, Protocol: ProtocolShare, Frame: &ShareFrame{Credentials: b}}
	}
	return out, nil
}

// handleShare keeps what a contact shared, or forgets it when they revoke.
func (s *Service) handleShare(ctx context.Context, se *session.Session, from did.DID, f *ShareFrame) (Handled, error) {
	switch {
	case f.Received && f.Credentials == nil && !f.Revoke && f.Refused == nil:
		return Handled{}, nil
	case f.Refused != nil && !f.Received && f.Credentials == nil && !f.Revoke:
		return Handled{}, f.Refused
	case f.Received || f.Refused != nil || f.Kept != 0 || (f.Revoke && f.Credentials != nil):
		return Handled{}, fmt.Errorf("%w: a share frame holds one message", wire.ErrMalformedFrame)
	case len(f.Credentials) > MaxSharedPerFrame:
		return Handled{}, fmt.Errorf("%w: more than %d credentials in one share", wire.ErrMalformedFrame, MaxSharedPerFrame)
	}
	c, err := s.contacts.ByDID(ctx, from)
	if err != nil {
		return Handled{}, err
	}
	if c == nil || !c.IsConnected() {
		return Handled{Reply: &ShareFrame{Refused: refusal(fmt.Errorf("%w: %s", ErrNotAContact, did.Short(from)))}}, nil
	}
	if f.Revoke {
		_, err := forgetShared(ctx, se.Vault, from)
		return Handled{}, err
	}
	kept := 0
	for _, data := range f.Credentials {
		// A credential that does not verify, or is not the sender's, is
		// left out; the rest are kept.
		if _, err := keepCredential(ctx, se, data, from); err == nil {
			kept++
		}
	}
	return Handled{Reply: &ShareFrame{Received: true, Kept: kept}}, nil
}
