// Package relationship keeps the person's relationships on the First Person
// Network (docs/protocols/openvtc.md): the handshake by which two people
// agree to know each other (relationship-request, -accept, -reject,
// -finalize), the pairwise relationship DID the person uses with each, and
// the relationship credentials (VRCs) the two ask of and issue to each other.
//
// The messages are OpenVTC's ([fpn]); this package decides what the person's
// vault makes of them. It builds DIDComm plaintexts and reads those the core
// unpacked; packing and delivery (the person's mediator, or a stream) are the
// caller's. A relationship DID must be registered with the person's mediator
// before anything naming it is sent: every call that makes one returns it.
//
// What a handshake goes through:
//
//	person asks:    requested ──accept──▶ established   (finalize sent)
//	                          └─reject──▶ rejected
//	someone asks:   pending ──Accept──▶ accepted ──finalize──▶ established
//	                        └─Decline─▶ declined
package relationship

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/fpn"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// Vault collections. Their records' keys are frozen (see package session).
const (
	colRelationships vault.Collection = "fpn-relationships"
	colVRCs          vault.Collection = "fpn-vrcs"
)

// State is where a relationship's handshake stands.
type State string

// The states (see the package documentation).
const (
	StateRequested   State = "requested"   // the person asked; waiting for their answer
	StatePending     State = "pending"     // they asked; waiting for the person
	StateAccepted    State = "accepted"    // the person accepted; waiting for their finalize
	StateEstablished State = "established" // both agreed
	StateRejected    State = "rejected"    // they said no to the person's request
	StateDeclined    State = "declined"    // the person said no to theirs
)

// Role says who started a handshake.
type Role string

// The roles.
const (
	RoleRequester Role = "requester" // the person sent the request
	RoleResponder Role = "responder" // the person received it
)

// MaxReasonLen bounds the note a request carries, as chat bounds a message.
const MaxReasonLen = 4096

// Errors.
var (
	// ErrNotFound: no relationship or credential request of that id.
	ErrNotFound = errors.New("no such relationship")
	// ErrState: the relationship is not at the step the call needs (an
	// accept of a request already answered, a credential asked of someone
	// not yet related).
	ErrState = errors.New("the relationship is not at that step")
	// ErrUnexpected: a message that answers nothing the person asked, or
	// comes from someone else than the one asked.
	ErrUnexpected = errors.New("a message that answers nothing asked")
)

// A Relationship is one handshake and what came of it.
type Relationship struct {
	ID    string // the record's id in the vault
	Role  Role
	State State
	// Thid is the handshake's thread: the request's message id.
	Thid string
	// Peer is their persona DID: the DID the handshake's messages came
	// from or went to. PeerDID is the DID they use in this relationship
	// (their relationship DID, or their persona again); zero until known.
	Peer, PeerDID did.DID
	PeerName      string // the name they gave, if any
	// Persona is the person's DID the handshake used (their shared DID);
	// DID is the person's relationship DID, zero while none was made.
	Persona, DID did.DID
	// Index is the person's relationship DID's index (see
	// [identity.Identity.Relationship]); Mediator the mediator it names.
	Index    uint32
	Mediator did.DID
	Reason   string // the note of the request
	Created  time.Time
	Updated  time.Time
}

// record is a relationship as the vault stores it. Its keys are frozen.
type record struct {
	id string // the record's id; not stored in it

	Role     string `cbor:"1,keyasint"`
	State    string `cbor:"2,keyasint"`
	Thid     string `cbor:"3,keyasint"`
	Peer     string `cbor:"4,keyasint"`
	PeerDID  string `cbor:"5,keyasint,omitempty"`
	PeerName string `cbor:"6,keyasint,omitempty"`
	Persona  string `cbor:"7,keyasint"`
	DID      string `cbor:"8,keyasint,omitempty"`
	Index    uint32 `cbor:"9,keyasint"`
	Mediator string `cbor:"10,keyasint,omitempty"`
	Reason   string `cbor:"11,keyasint,omitempty"`
	Created  int64  `cbor:"12,keyasint"`
	Updated  int64  `cbor:"13,keyasint"`
	// HasDID: DID and Index name a relationship DID that was made (index
	// 0 is a real index, so the index alone cannot say).
	HasDID bool `cbor:"14,keyasint,omitempty"`
}

func (r *record) relationship(id string) Relationship {
	out := Relationship{ID: id, Role: Role(r.Role), State: State(r.State), Thid: r.Thid, PeerName: r.PeerName,
		Index: r.Index, Reason: r.Reason, Created: session.Time(r.Created), Updated: session.Time(r.Updated)}
	// DIDs were checked when written; one that no longer parses reads as
	// none.
	out.Peer, _ = did.Parse(r.Peer)
	out.PeerDID, _ = did.Parse(r.PeerDID)
	out.Persona, _ = did.Parse(r.Persona)
	out.Mediator, _ = did.Parse(r.Mediator)
	if r.HasDID {
		out.DID, _ = did.Parse(r.DID)
	}
	return out
}

// Me is who the person is on the network at the moment: the DID they share
// (their persona, whose service names their mediator), the mediator their
// new relationship DIDs name, and the name they go by.
type Me struct {
	Persona  did.DID
	Mediator did.DID
	Name     string
}

// Service keeps the relationships of the open vault.
type Service struct {
	open     session.Opener
	contacts *contacts.Service
	me       func() (Me, error)
	blocked  func(context.Context, did.DID) (bool, error)
	resolver did.Resolver
	// Owns reports whether a DID is one of the person's own personas
	// besides their identity's (their did:webvh): a request to it is to
	// them. Nil: none.
	Owns func(context.Context, did.DID) bool

	// mu makes each step of a handshake one read and one write: two
	// answers to one request cannot both be taken.
	mu sync.Mutex
}

// New returns the relationships of the vault open gives. me says who the
// person is at the moment; blocked whether a DID is one they blocked, whose
// requests are dropped; resolver resolves the DIDs named in proofs and
// requests (did.Local, or one that also reaches did:webvh hosts).
func New(open session.Opener, cs *contacts.Service, me func() (Me, error), blocked func(context.Context, did.DID) (bool, error), resolver did.Resolver) *Service {
	return &Service{open: open, contacts: cs, me: me, blocked: blocked, resolver: resolver}
}

// List returns every relationship, the newest first.
func (svc *Service) List(ctx context.Context) ([]Relationship, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	return list(ctx, s.Vault)
}

func list(ctx context.Context, v *vault.Vault) ([]Relationship, error) {
	recs, err := session.List(ctx, v, colRelationships, func(r *record, id string) { r.id = id })
	if err != nil {
		return nil, err
	}
	out := make([]Relationship, len(recs))
	for i := range recs {
		out[i] = recs[i].relationship(recs[i].id)
	}
	slices.SortFunc(out, func(a, b Relationship) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// DIDs returns the person's relationship DIDs, for registering with their
// mediator (all of them, each time the page connects to it).
func (svc *Service) DIDs(ctx context.Context) ([]did.DID, error) {
	rels, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []did.DID
	for _, r := range rels {
		if !r.DID.IsZero() {
			out = append(out, r.DID)
		}
	}
	return out, nil
}

// ErrNotMine is returned by [Service.Key] for a DID that is none of the
// person's relationship DIDs.
var ErrNotMine = errors.New("not a relationship DID of the person's")

// Key returns the keys of the person's relationship DID d, for reading
// messages sent to it and writing authcrypt from it; only d's keys are
// derived.
func (svc *Service) Key(ctx context.Context, d did.DID) (*identity.Relationship, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	rels, err := list(ctx, s.Vault)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.DID.IsZero() || r.DID != d {
			continue
		}
		k, err := s.Identity.Relationship(r.Index, r.Mediator)
		if err != nil {
			return nil, err
		}
		if k.DID() != r.DID {
			return nil, fmt.Errorf("relationship %s: %w: its DID is not the one its index gives", r.ID, vault.ErrCorrupt)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotMine, did.Short(d))
}

// An Outgoing is what a step of a handshake sends: the message, the
// persona DID of the person it goes to (the message itself may go to their
// relationship DID), and the relationship DID to register with the
// mediator first (zero when the step made none).
type Outgoing struct {
	Message  *didcomm.Plaintext
	Person   did.DID
	Register did.DID
}

// Request starts a relationship with the person whose DID is to: it makes a
// relationship DID for it and the request naming it, with the person's
// note (reason) and name.
func (svc *Service) Request(ctx context.Context, to did.DID, reason string) (*Relationship, Outgoing, error) {
	reason, err := session.CheckText("note", reason, MaxReasonLen, false)
	if err != nil {
		return nil, Outgoing{}, err
	}
	s, me, err := svc.session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	if to.IsZero() || s.Identity.Owns(to) || to == me.Persona || svc.Owns != nil && svc.Owns(ctx, to) {
		return nil, Outgoing{}, fmt.Errorf("%w: a relationship is asked of someone else", input.ErrInvalid)
	}
	if _, err := svc.resolver.Resolve(ctx, to); err != nil {
		return nil, Outgoing{}, fmt.Errorf("%w: %w", input.ErrInvalid, err)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	rels, err := list(ctx, s.Vault)
	if err != nil {
		return nil, Outgoing{}, err
	}
	for _, r := range rels {
		if r.Peer == to && (r.State == StateRequested || r.State == StateEstablished || r.State == StateAccepted) {
			return nil, Outgoing{}, fmt.Errorf("%w: already %s with %s", ErrState, r.State, did.Short(to))
		}
	}
	rel, err := s.Identity.Relationship(nextIndex(rels), me.Mediator)
	if err != nil {
		return nil, Outgoing{}, err
	}
	now := s.Now()
	msg, err := fpn.NewRequest(me.Persona, to, rel, personaSigner{me.Persona, s.Identity}, reason, me.Name, now)
	if err != nil {
		return nil, Outgoing{}, err
	}
	rec := record{Role: string(RoleRequester), State: string(StateRequested), Thid: msg.ID, Peer: to.String(),
		Persona: me.Persona.String(), DID: rel.DID().String(), HasDID: true, Index: rel.Index(), Mediator: me.Mediator.String(),
		Reason: reason, Created: session.Millis(now), Updated: session.Millis(now)}
	id := vault.NewRecordID()
	if err := session.Put(ctx, s.Vault, colRelationships, id, rec); err != nil {
		return nil, Outgoing{}, err
	}
	r := rec.relationship(id)
	return &r, Outgoing{Message: msg, Person: to, Register: rel.DID()}, nil
}

// nextIndex is the index of the next relationship DID: one past the
// highest made, so that none is made twice.
func nextIndex(rels []Relationship) uint32 {
	var next uint32
	for _, r := range rels {
		if !r.DID.IsZero() && r.Index >= next {
			next = r.Index + 1
		}
	}
	return next
}

// Accept accepts the pending request id: it makes a relationship DID for
// it and the accept naming it. The relationship is established when their
// finalize arrives.
func (svc *Service) Accept(ctx context.Context, id string) (*Relationship, Outgoing, error) {
	s, me, err := svc.session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	rec, err := get(ctx, s.Vault, id)
	if err != nil {
		return nil, Outgoing{}, err
	}
	if rec.State != string(StatePending) {
		return nil, Outgoing{}, fmt.Errorf("%w: accept: the request is %s", ErrState, rec.State)
	}
	rels, err := list(ctx, s.Vault)
	if err != nil {
		return nil, Outgoing{}, err
	}
	rel, err := s.Identity.Relationship(nextIndex(rels), me.Mediator)
	if err != nil {
		return nil, Outgoing{}, err
	}
	persona, _ := did.Parse(rec.Persona)
	peer, _ := did.Parse(rec.Peer)
	now := s.Now()
	msg, err := fpn.NewAccept(persona, peer, rec.Thid, rel, personaSigner{persona, s.Identity}, now)
	if err != nil {
		return nil, Outgoing{}, err
	}
	rec.State, rec.DID, rec.HasDID, rec.Index, rec.Mediator = string(StateAccepted), rel.DID().String(), true, rel.Index(), me.Mediator.String()
	rec.Updated = session.Millis(now)
	if err := session.Put(ctx, s.Vault, colRelationships, id, rec); err != nil {
		return nil, Outgoing{}, err
	}
	r := rec.relationship(id)
	return &r, Outgoing{Message: msg, Person: peer, Register: rel.DID()}, nil
}

// Decline says no to the pending request id, with an optional reason.
func (svc *Service) Decline(ctx context.Context, id, reason string) (*Relationship, Outgoing, error) {
	reason, err := session.CheckText("reason", reason, MaxReasonLen, false)
	if err != nil {
		return nil, Outgoing{}, err
	}
	s, _, err := svc.session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	rec, err := get(ctx, s.Vault, id)
	if err != nil {
		return nil, Outgoing{}, err
	}
	if rec.State != string(StatePending) {
		return nil, Outgoing{}, fmt.Errorf("%w: decline: the request is %s", ErrState, rec.State)
	}
	persona, _ := did.Parse(rec.Persona)
	peer, _ := did.Parse(rec.Peer)
	var why *string
	if reason != "" {
		why = &reason
	}
	now := s.Now()
	msg, err := fpn.NewReject(persona, peer, rec.Thid, why, now)
	if err != nil {
		return nil, Outgoing{}, err
	}
	rec.State, rec.Updated = string(StateDeclined), session.Millis(now)
	if err := session.Put(ctx, s.Vault, colRelationships, id, rec); err != nil {
		return nil, Outgoing{}, err
	}
	r := rec.relationship(id)
	return &r, Outgoing{Message: msg, Person: peer}, nil
}

// session returns the open session and who the person is.
func (svc *Service) session() (*session.Session, Me, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, Me{}, err
	}
	me, err := svc.me()
	if err != nil {
		return nil, Me{}, err
	}
	return s, me, nil
}

func get(ctx context.Context, v *vault.Vault, id string) (*record, error) {
	rec, err := session.Get[record](ctx, v, colRelationships, id)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return rec, err
}

// byThread returns the relationship whose handshake is thid, or nil.
func byThread(ctx context.Context, v *vault.Vault, thid string) (*Relationship, error) {
	rels, err := list(ctx, v)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.Thid == thid {
			return &r, nil
		}
	}
	return nil, nil
}

// personaSigner signs as the person's persona DID (their shared did:peer:2,
// whose first key, "#key-1", is the identity's Ed25519 key), for the
// persona proofs of a handshake.
type personaSigner struct {
	d  did.DID
	id *identity.Identity
}

func (p personaSigner) DID() did.DID           { return p.d }
func (p personaSigner) SigningKeyID() string   { return p.d.String() + "#key-1" }
func (p personaSigner) Sign(msg []byte) []byte { return p.id.Sign(msg) }

var _ vc.Signer = personaSigner{}

// shortName is a name to show for someone who gave none usable.
func shortName(name string, d did.DID) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	return did.Short(d)
}
