package relationship

import (
	"context"
	"errors"
	"fmt"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/fpn"
	"planet/core/session"
	"planet/vault"
)

// Limits on what strangers can leave: a request waits until the person
// answers it, so each sender has one waiting at a time and all of them
// together at most MaxPending.
const MaxPending = 200

// ErrTooMany is returned for a request beyond [MaxPending].
var ErrTooMany = errors.New("too many relationship requests are waiting")

// Kind says what a received message did.
type Kind string

// The kinds of [Event].
const (
	KindRequest     Kind = "request"     // someone asks the person
	KindRejected    Kind = "rejected"    // they said no to the person's request
	KindEstablished Kind = "established" // both agreed
	KindVRCRequest  Kind = "vrc-request" // they ask the person for a credential
	KindVRCIssued   Kind = "vrc-issued"  // they issued the credential the person asked for
	KindVRCRejected Kind = "vrc-rejected"
	KindDropped     Kind = "dropped" // from someone the person blocked: nothing kept
)

// An Event is what [Service.Receive] made of a message.
type Event struct {
	Kind         Kind
	Relationship *Relationship
	VRC          *VRC // for the VRC kinds
	// Reply is what to send back now (the finalize of an accept), or nil.
	Reply *didcomm.Plaintext
	// Again: the message was taken before (a second delivery); nothing
	// changed.
	Again bool
}

// Takes reports whether typ is a message type [Service.Receive] reads.
func Takes(typ string) bool {
	switch typ {
	case fpn.TypeRelationshipRequest, fpn.TypeRelationshipAccept, fpn.TypeRelationshipReject, fpn.TypeRelationshipFinalize,
		fpn.TypeVRCRequest, fpn.TypeVRCIssued, fpn.TypeVRCRejected:
		return true
	}
	return false
}

// Receive applies msg, a handshake or VRC message that arrived encrypted to
// the person's DID to from msg.From, whom the caller authenticated (the
// authcrypt sender, or the signer). Messages outside OpenVTC's time window
// are refused, and so is any answer to something the person did not ask or
// from someone other than the one asked.
func (svc *Service) Receive(ctx context.Context, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	s, err := svc.open.Session()
	if err != nil {
		return Event{}, err
	}
	if err := fpn.CheckWindow(msg, s.Now()); err != nil {
		return Event{}, err
	}
	if msg.From.IsZero() {
		return Event{}, fmt.Errorf("%w: %s without a sender", ErrUnexpected, msg.Type)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	switch msg.Type {
	case fpn.TypeRelationshipRequest:
		return svc.takeRequest(ctx, s, msg, to)
	case fpn.TypeRelationshipAccept:
		return svc.takeAccept(ctx, s, msg, to)
	case fpn.TypeRelationshipReject:
		return svc.takeReject(ctx, s, msg, to)
	case fpn.TypeRelationshipFinalize:
		return svc.takeFinalize(ctx, s, msg, to)
	case fpn.TypeVRCRequest:
		return svc.takeVRCRequest(ctx, s, msg, to)
	case fpn.TypeVRCIssued, fpn.TypeVRCRejected:
		return svc.takeVRCAnswer(ctx, s, msg, to)
	}
	return Event{}, fmt.Errorf("%w: %q is not a relationship message", didcomm.ErrUnsupported, msg.Type)
}

func (svc *Service) takeRequest(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	if !s.Identity.Owns(to) && (svc.Owns == nil || !svc.Owns(ctx, to)) {
		return Event{}, fmt.Errorf("%w: a relationship request to %s, not to the person's own DID", ErrUnexpected, did.Short(to))
	}
	if svc.blocked != nil {
		if b, err := svc.blocked(ctx, msg.From); err != nil {
			return Event{}, err
		} else if b {
			return Event{Kind: KindDropped}, nil
		}
	}
	body, err := fpn.DecodeRequest(msg.Body)
	if err != nil {
		return Event{}, err
	}
	if err := fpn.VerifyBinding(ctx, svc.resolver, fpn.RequestBinding(msg, body, to), body.Proofs, s.Now()); err != nil {
		return Event{}, err
	}
	rels, err := list(ctx, s.Vault)
	if err != nil {
		return Event{}, err
	}
	pending := 0
	for _, r := range rels {
		if r.Thid == msg.ID && r.Peer == msg.From {
			return Event{Kind: KindRequest, Relationship: &r, Again: true}, nil
		}
		if r.State == StatePending {
			pending++
			if r.Peer == msg.From {
				return Event{}, fmt.Errorf("%w: %s has a request waiting already", ErrTooMany, did.Short(msg.From))
			}
		}
	}
	if pending >= MaxPending {
		return Event{}, fmt.Errorf("%w (%d)", ErrTooMany, pending)
	}
	name, err := session.CheckText("name", body.Name, session.MaxNameLen, false)
	if err != nil {
		name = ""
	}
	reason, err := session.CheckText("reason", body.Reason, MaxReasonLen, false)
	if err != nil {
		return Event{}, err
	}
	now := session.Millis(s.Now())
	rec := record{Role: string(RoleResponder), State: string(StatePending), Thid: msg.ID, Peer: msg.From.String(),
		PeerDID: body.DID.String(), PeerName: name, Persona: to.String(), Reason: reason, Created: now, Updated: now}
	id := vault.NewRecordID()
	if err := session.Put(ctx, s.Vault, colRelationships, id, rec); err != nil {
		return Event{}, err
	}
	r := rec.relationship(id)
	return Event{Kind: KindRequest, Relationship: &r}, nil
}

// answered returns the record of the handshake msg answers, checking that
// it is at state and that msg comes from its peer to the persona it used.
func answered(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID, role Role, states ...State) (*record, string, error) {
	r, err := byThread(ctx, s.Vault, msg.Thid)
	switch {
	case err != nil:
		return nil, "", err
	case msg.Thid == "" || r == nil || r.Role != role:
		return nil, "", fmt.Errorf("%w: %s on thread %q", ErrUnexpected, msg.Type, msg.Thid)
	case r.Peer != msg.From || r.Persona != to:
		return nil, "", fmt.Errorf("%w: %s from %s, who was not asked", ErrUnexpected, msg.Type, did.Short(msg.From))
	}
	rec, err := get(ctx, s.Vault, r.ID)
	if err != nil {
		return nil, "", err
	}
	for _, st := range states {
		if r.State == st {
			return rec, r.ID, nil
		}
	}
	return rec, r.ID, fmt.Errorf("%w: %s of a handshake that is %s", ErrState, msg.Type, r.State)
}

func (svc *Service) takeAccept(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	rec, id, err := answered(ctx, s, msg, to, RoleRequester, StateRequested, StateEstablished)
	if err != nil {
		return Event{}, err
	}
	body, err := fpn.DecodeAccept(msg.Body)
	if err != nil {
		return Event{}, err
	}
	if err := fpn.VerifyBinding(ctx, svc.resolver, fpn.AcceptBinding(msg, body, to), body.Proofs, s.Now()); err != nil {
		return Event{}, err
	}
	fin, err := fpn.NewFinalize(to, msg.From, rec.Thid, s.Now())
	if err != nil {
		return Event{}, err
	}
	if rec.State == string(StateEstablished) {
		// Their accept again: they may not have had the finalize.
		r := rec.relationship(id)
		return Event{Kind: KindEstablished, Relationship: &r, Reply: fin, Again: true}, nil
	}
	rec.State, rec.PeerDID, rec.Updated = string(StateEstablished), body.DID.String(), session.Millis(s.Now())
	if err := svc.establish(ctx, s, id, rec); err != nil {
		return Event{}, err
	}
	r := rec.relationship(id)
	return Event{Kind: KindEstablished, Relationship: &r, Reply: fin}, nil
}

func (svc *Service) takeReject(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	rec, id, err := answered(ctx, s, msg, to, RoleRequester, StateRequested, StateRejected)
	if err != nil {
		return Event{}, err
	}
	body, err := fpn.DecodeReject(msg.Body)
	if err != nil {
		return Event{}, err
	}
	again := rec.State == string(StateRejected)
	rec.State, rec.Updated = string(StateRejected), session.Millis(s.Now())
	if body.Reason != nil && !again {
		if why, err := session.CheckText("reason", *body.Reason, MaxReasonLen, false); err == nil && why != "" {
			rec.Reason = why
		}
	}
	if !again {
		if err := session.Put(ctx, s.Vault, colRelationships, id, rec); err != nil {
			return Event{}, err
		}
	}
	r := rec.relationship(id)
	return Event{Kind: KindRejected, Relationship: &r, Again: again}, nil
}

func (svc *Service) takeFinalize(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	rec, id, err := answered(ctx, s, msg, to, RoleResponder, StateAccepted, StateEstablished)
	if err != nil {
		return Event{}, err
	}
	if err := fpn.DecodeFinalize(msg.Body); err != nil {
		return Event{}, err
	}
	if rec.State == string(StateEstablished) {
		r := rec.relationship(id)
		return Event{Kind: KindEstablished, Relationship: &r, Again: true}, nil
	}
	rec.State, rec.Updated = string(StateEstablished), session.Millis(s.Now())
	if err := svc.establish(ctx, s, id, rec); err != nil {
		return Event{}, err
	}
	r := rec.relationship(id)
	return Event{Kind: KindEstablished, Relationship: &r}, nil
}

// establish writes rec, now established, and makes its peer a connected
// contact, in one transaction.
func (svc *Service) establish(ctx context.Context, s *session.Session, id string, rec *record) error {
	peer, _ := did.Parse(rec.Peer)
	b, err := vault.MarshalCBOR(rec)
	if err != nil {
		return err
	}
	return s.Vault.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colRelationships, id, b)
		if svc.contacts == nil {
			return nil
		}
		return svc.contacts.Connect(ctx, tx, contacts.Connection{DID: peer, Name: shortName(rec.PeerName, peer), Origin: contacts.OriginRelationship})
	})
}
