package relationship

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/fpn"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// Direction says which way a VRC goes.
type Direction string

// The directions.
const (
	AskedByMe Direction = "asked-by-me" // the person asked; they issue to the person
	AskedOfMe Direction = "asked-of-me" // they asked; the person issues to them
)

// VRCState is where a VRC exchange stands.
type VRCState string

// The states of a VRC exchange.
const (
	VRCRequested VRCState = "requested"
	VRCIssued    VRCState = "issued"
	VRCRejected  VRCState = "rejected"
)

// A VRC is one verifiable relationship credential exchange: asked for, and
// once issued, the credential, which says the issuer knows the subject
// (each a relationship DID of the two).
type VRC struct {
	ID           string // the record's id
	Relationship string // the relationship's id
	Thid         string // the request's message id
	Direction    Direction
	State        VRCState
	Reason       string
	Credential   *vc.Credential // once issued
	Created      time.Time
	Updated      time.Time
}

// vrcRecord is a VRC as the vault keeps it. Its keys are frozen.
type vrcRecord struct {
	id string

	Relationship string `cbor:"1,keyasint"`
	Thid         string `cbor:"2,keyasint"`
	Direction    string `cbor:"3,keyasint"`
	State        string `cbor:"4,keyasint"`
	Reason       string `cbor:"5,keyasint,omitempty"`
	// Credential is the credential byte for byte as signed.
	Credential []byte `cbor:"6,keyasint,omitempty"`
	Created    int64  `cbor:"7,keyasint"`
	Updated    int64  `cbor:"8,keyasint"`
}

func (r *vrcRecord) vrc() (VRC, error) {
	v := VRC{ID: r.id, Relationship: r.Relationship, Thid: r.Thid, Direction: Direction(r.Direction), State: VRCState(r.State),
		Reason: r.Reason, Created: session.Time(r.Created), Updated: session.Time(r.Updated)}
	if len(r.Credential) > 0 {
		c, err := vc.Parse(r.Credential)
		if err != nil {
			return v, fmt.Errorf("vrc %s: %w", r.id, errors.Join(vault.ErrCorrupt, err))
		}
		v.Credential = c
	}
	return v, nil
}

// VRCs returns every VRC exchange, the newest first.
func (svc *Service) VRCs(ctx context.Context) ([]VRC, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	return vrcs(ctx, s.Vault)
}

func vrcs(ctx context.Context, v *vault.Vault) ([]VRC, error) {
	recs, err := session.List(ctx, v, colVRCs, func(r *vrcRecord, id string) { r.id = id })
	if err != nil {
		return nil, err
	}
	out := make([]VRC, len(recs))
	for i := range recs {
		if out[i], err = recs[i].vrc(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b VRC) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// established returns the established relationship id with its record.
func established(ctx context.Context, v *vault.Vault, id string) (*record, error) {
	rec, err := get(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if rec.State != string(StateEstablished) || !rec.HasDID || rec.PeerDID == "" {
		return nil, fmt.Errorf("%w: the relationship is %s", ErrState, rec.State)
	}
	return rec, nil
}

// RequestVRC asks the other side of the established relationship id for a
// relationship credential, from the person's relationship DID to theirs.
func (svc *Service) RequestVRC(ctx context.Context, id, reason string) (*VRC, Outgoing, error) {
	reason, err := session.CheckText("reason", reason, MaxReasonLen, false)
	if err != nil {
		return nil, Outgoing{}, err
	}
	s, err := svc.open.Session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	rec, err := established(ctx, s.Vault, id)
	if err != nil {
		return nil, Outgoing{}, err
	}
	mine, _ := did.Parse(rec.DID)
	theirs, _ := did.Parse(rec.PeerDID)
	now := s.Now()
	msg, err := fpn.NewVRCRequest(mine, theirs, reason, now)
	if err != nil {
		return nil, Outgoing{}, err
	}
	vr := vrcRecord{id: vault.NewRecordID(), Relationship: id, Thid: msg.ID, Direction: string(AskedByMe), State: string(VRCRequested),
		Reason: reason, Created: session.Millis(now), Updated: session.Millis(now)}
	if err := session.Put(ctx, s.Vault, colVRCs, vr.id, vr); err != nil {
		return nil, Outgoing{}, err
	}
	v, err := vr.vrc()
	person, _ := did.Parse(rec.Peer)
	return &v, Outgoing{Message: msg, Person: person}, err
}

// IssueVRC issues the credential asked of the person by the VRC request id:
// their relationship DID says it knows the requester's, pairwise, valid
// from now.
func (svc *Service) IssueVRC(ctx context.Context, id string) (*VRC, Outgoing, error) {
	return svc.answerVRC(ctx, id, true, "")
}

// DeclineVRC says no to the VRC request id, with an optional reason.
func (svc *Service) DeclineVRC(ctx context.Context, id, reason string) (*VRC, Outgoing, error) {
	reason, err := session.CheckText("reason", reason, MaxReasonLen, false)
	if err != nil {
		return nil, Outgoing{}, err
	}
	return svc.answerVRC(ctx, id, false, reason)
}

func (svc *Service) answerVRC(ctx context.Context, id string, issue bool, reason string) (*VRC, Outgoing, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	vr, err := session.Get[vrcRecord](ctx, s.Vault, colVRCs, id)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, Outgoing{}, fmt.Errorf("%w: credential request %s", ErrNotFound, id)
	} else if err != nil {
		return nil, Outgoing{}, err
	}
	vr.id = id
	if vr.Direction != string(AskedOfMe) || vr.State != string(VRCRequested) {
		return nil, Outgoing{}, fmt.Errorf("%w: the credential request is %s, %s", ErrState, vr.Direction, vr.State)
	}
	rec, err := established(ctx, s.Vault, vr.Relationship)
	if err != nil {
		return nil, Outgoing{}, err
	}
	mine, _ := did.Parse(rec.DID)
	theirs, _ := did.Parse(rec.PeerDID)
	mediator, _ := did.Parse(rec.Mediator)
	now := s.Now()
	var msg *didcomm.Plaintext
	if issue {
		rel, err := s.Identity.Relationship(rec.Index, mediator)
		if err != nil {
			return nil, Outgoing{}, err
		}
		c, err := vc.IssueRelationshipAs(rel, vc.IssuerScopePairwise, theirs, vc.RelationshipContext{}, now, time.Time{}, s.Rand)
		if err != nil {
			return nil, Outgoing{}, err
		}
		if msg, err = fpn.NewVRCIssued(mine, theirs, vr.Thid, c, now); err != nil {
			return nil, Outgoing{}, err
		}
		if vr.Credential, err = c.MarshalJSON(); err != nil {
			return nil, Outgoing{}, err
		}
		vr.State = string(VRCIssued)
	} else {
		if msg, err = fpn.NewVRCRejected(mine, theirs, vr.Thid, reason, now); err != nil {
			return nil, Outgoing{}, err
		}
		vr.State = string(VRCRejected)
	}
	vr.Updated = session.Millis(now)
	if err := session.Put(ctx, s.Vault, colVRCs, id, vr); err != nil {
		return nil, Outgoing{}, err
	}
	v, err := vr.vrc()
	person, _ := did.Parse(rec.Peer)
	return &v, Outgoing{Message: msg, Person: person}, err
}

// byRelationshipDIDs returns the established relationship in which the
// person is mine and the other side theirs.
func byRelationshipDIDs(ctx context.Context, v *vault.Vault, mine, theirs did.DID) (*Relationship, error) {
	rels, err := list(ctx, v)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.DID == mine && r.PeerDID == theirs && r.State == StateEstablished {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%w: no relationship between %s and %s", ErrUnexpected, did.Short(mine), did.Short(theirs))
}

func (svc *Service) takeVRCRequest(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	r, err := byRelationshipDIDs(ctx, s.Vault, to, msg.From)
	if err != nil {
		return Event{}, err
	}
	body, err := fpn.DecodeVRCRequest(msg.Body)
	if err != nil {
		return Event{}, err
	}
	all, err := vrcs(ctx, s.Vault)
	if err != nil {
		return Event{}, err
	}
	for _, v := range all {
		if v.Relationship == r.ID && v.Thid == msg.ID {
			return Event{Kind: KindVRCRequest, Relationship: r, VRC: &v, Again: true}, nil
		}
		if v.Relationship == r.ID && v.Direction == AskedOfMe && v.State == VRCRequested {
			return Event{}, fmt.Errorf("%w: %s has a credential request waiting already", ErrTooMany, did.Short(r.Peer))
		}
	}
	reason, err := session.CheckText("reason", body.Reason, MaxReasonLen, false)
	if err != nil {
		return Event{}, err
	}
	now := session.Millis(s.Now())
	vr := vrcRecord{id: vault.NewRecordID(), Relationship: r.ID, Thid: msg.ID, Direction: string(AskedOfMe), State: string(VRCRequested),
		Reason: reason, Created: now, Updated: now}
	if err := session.Put(ctx, s.Vault, colVRCs, vr.id, vr); err != nil {
		return Event{}, err
	}
	v, err := vr.vrc()
	return Event{Kind: KindVRCRequest, Relationship: r, VRC: &v}, err
}

func (svc *Service) takeVRCAnswer(ctx context.Context, s *session.Session, msg *didcomm.Plaintext, to did.DID) (Event, error) {
	r, err := byRelationshipDIDs(ctx, s.Vault, to, msg.From)
	if err != nil {
		return Event{}, err
	}
	all, err := vrcs(ctx, s.Vault)
	if err != nil {
		return Event{}, err
	}
	var asked *VRC
	for i, v := range all {
		if v.Relationship == r.ID && v.Thid == msg.Thid && v.Direction == AskedByMe {
			asked = &all[i]
		}
	}
	if asked == nil || msg.Thid == "" {
		return Event{}, fmt.Errorf("%w: %s on thread %q", ErrUnexpected, msg.Type, msg.Thid)
	}
	kind := KindVRCIssued
	if msg.Type == fpn.TypeVRCRejected {
		kind = KindVRCRejected
	}
	if asked.State != VRCRequested {
		return Event{Kind: kind, Relationship: r, VRC: asked, Again: true}, nil
	}
	vr := vrcRecord{id: asked.ID, Relationship: r.ID, Thid: asked.Thid, Direction: string(AskedByMe), Reason: asked.Reason,
		Created: session.Millis(asked.Created), Updated: session.Millis(s.Now())}
	if kind == KindVRCRejected {
		body, err := fpn.DecodeVRCRequest(msg.Body)
		if err != nil {
			return Event{}, err
		}
		vr.State = string(VRCRejected)
		if why, err := session.CheckText("reason", body.Reason, MaxReasonLen, false); err == nil && why != "" {
			vr.Reason = why
		}
	} else {
		c, err := fpn.DecodeVRCIssued(msg.Body)
		if err != nil {
			return Event{}, err
		}
		if c.ConcreteType() != vc.TypeRelationshipCredential || c.Issuer != msg.From || c.Subject.ID != to {
			return Event{}, fmt.Errorf("%w: the credential is not a relationship credential from %s to %s", ErrUnexpected, did.Short(msg.From), did.Short(to))
		}
		if err := vc.Verify(c, s.Now()); err != nil {
			return Event{}, err
		}
		vr.State = string(VRCIssued)
		if vr.Credential, err = c.MarshalJSON(); err != nil {
			return Event{}, err
		}
	}
	if err := session.Put(ctx, s.Vault, colVRCs, vr.id, vr); err != nil {
		return Event{}, err
	}
	v, err := vr.vrc()
	return Event{Kind: kind, Relationship: r, VRC: &v}, err
}
