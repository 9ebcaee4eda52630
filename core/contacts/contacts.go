// Package contacts is the person's address book: the people they know, by
// name, with their DID when they have one, and what the trust network knows
// of them (how the two met, whether they are connected, where they are
// reached, whether the person shares their relationships with them).
//
// It is a feature (see package planet/core/session): [Service] answers the
// API over the open vault, and [Service.Section] is its part of the export,
// contacts.json and contacts.vcf. The trust network fills in a contact
// through [Service.Connect] and [Service.SetSharing]; nothing else writes
// contact records.
package contacts

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/invite"
	"planet/core/session"
	"planet/vault"
)

// Collection is the vault collection of contact records.
const Collection vault.Collection = "contacts"

// Origin says how a contact came to be connected.
type Origin string

// The origins of a connected contact; a contact typed in by hand has none.
const (
	OriginInvitedMe   Origin = "invited-me"    // they invited the person: the first link of the person's chain of trust
	OriginInvitedByMe Origin = "invited-by-me" // the person invited them
	OriginIntroduced  Origin = "introduced"    // someone introduced the two
	// OriginRelationship: the two exchanged a First Person Network
	// relationship request (core/relationship), either side asking.
	OriginRelationship Origin = "relationship"
)

// A Contact is someone the person knows.
type Contact struct {
	ID    string
	Name  string
	DID   did.DID // zero for a contact typed in without one
	Notes string

	Created time.Time
	Updated time.Time

	// What the trust network knows of the contact; all zero for a contact
	// the person typed in by hand.

	// Relays are the relay multiaddrs at which the contact is reached.
	Relays []string
	// Origin says how the two came to be connected.
	Origin Origin
	// IntroducedBy is whoever introduced them, for OriginIntroduced.
	IntroducedBy did.DID
	// Connected is when the two exchanged relationship credentials; zero if
	// they have not.
	Connected time.Time
	// SharingGraph is whether the person shares their relationships with
	// this contact (opt-in, per contact, revocable).
	SharingGraph bool
}

// IsConnected reports whether the two exchanged relationship credentials.
func (c *Contact) IsConnected() bool { return !c.Connected.IsZero() }

// Input is what a person types for a contact.
type Input struct {
	Name  string `json:"name"`
	DID   string `json:"did"`
	Notes string `json:"notes"`
}

// check returns in cleaned (trimmed name, canonical DID) or an error
// wrapping input.ErrInvalid.
func (in Input) check() (Input, did.DID, error) {
	var err error
	var d did.DID
	if in.Name, err = session.CheckText("name", in.Name, session.MaxNameLen, true); err != nil {
		return in, d, err
	}
	if in.Notes, err = session.CheckText("notes", in.Notes, session.MaxTextLen, false); err != nil {
		return in, d, err
	}
	if in.DID = strings.TrimSpace(in.DID); in.DID != "" {
		if d, err = did.Parse(in.DID); err != nil {
			return in, d, fmt.Errorf("%w: %w", err, input.ErrInvalid)
		}
		in.DID = d.String()
	}
	return in, d, nil
}

// record is a contact as the vault stores it. Its keys are frozen (see
// package session for the rules of change).
type record struct {
	id string // the record's id in the collection; not stored in it

	Name    string `cbor:"1,keyasint"`
	DID     string `cbor:"2,keyasint,omitempty"`
	Notes   string `cbor:"3,keyasint,omitempty"`
	Created int64  `cbor:"4,keyasint"`
	Updated int64  `cbor:"5,keyasint"`

	Relays       []string `cbor:"6,keyasint,omitempty"`
	Origin       string   `cbor:"7,keyasint,omitempty"`
	IntroducedBy string   `cbor:"8,keyasint,omitempty"`
	Connected    int64    `cbor:"9,keyasint,omitempty"` // Unix milliseconds; 0 if not connected
	SharingGraph bool     `cbor:"10,keyasint,omitempty"`
}

func (r *record) contact() Contact {
	c := Contact{ID: r.id, Name: r.Name, Notes: r.Notes, Created: session.Time(r.Created), Updated: session.Time(r.Updated),
		Relays: r.Relays, Origin: Origin(r.Origin), SharingGraph: r.SharingGraph}
	// The record's DIDs were checked when written; one that no longer
	// parses (a method since dropped) reads as none.
	c.DID, _ = did.Parse(r.DID)
	c.IntroducedBy, _ = did.Parse(r.IntroducedBy)
	if r.Connected != 0 {
		c.Connected = session.Time(r.Connected)
	}
	return c
}

func recordOf(c *Contact) record {
	r := record{id: c.ID, Name: c.Name, DID: c.DID.String(), Notes: c.Notes, Created: session.Millis(c.Created), Updated: session.Millis(c.Updated),
		Relays: c.Relays, Origin: string(c.Origin), IntroducedBy: c.IntroducedBy.String(), SharingGraph: c.SharingGraph}
	if !c.Connected.IsZero() {
		r.Connected = session.Millis(c.Connected)
	}
	return r
}

// Service is the address book of the open vault.
type Service struct {
	open session.Opener

	mu    sync.Mutex // guards known
	known knownDIDs
}

// knownDIDs is which DIDs the person's contacts have, as of the
// contacts collection's vault.Changes stamp, so that [Service.Knows], asked
// for every chat message that arrives, decrypts the address book only
// when it changed. It holds DIDs alone: no names or notes.
type knownDIDs struct {
	v     *vault.Vault
	stamp uint64
	dids  map[did.DID]struct{}
}

// New returns the address book of the vault that open opens.
func New(open session.Opener) *Service { return &Service{open: open} }

func list(ctx context.Context, v *vault.Vault) ([]Contact, error) {
	recs, err := session.List(ctx, v, Collection, func(r *record, id string) { r.id = id })
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(recs))
	for i := range recs {
		out[i] = recs[i].contact()
	}
	return out, nil
}

// List lists the person's contacts by name.
func (cs *Service) List(ctx context.Context) ([]Contact, error) {
	s, err := cs.open.Session()
	if err != nil {
		return nil, err
	}
	out, err := list(ctx, s.Vault)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Count counts the person's contacts.
func (cs *Service) Count(ctx context.Context) (int, error) {
	s, err := cs.open.Session()
	if err != nil {
		return 0, err
	}
	return s.Vault.Count(ctx, Collection)
}

// Add stores a new contact.
func (cs *Service) Add(ctx context.Context, in Input) (*Contact, error) {
	s, err := cs.open.Session()
	if err != nil {
		return nil, err
	}
	in, d, err := in.check()
	if err != nil {
		return nil, err
	}
	now := session.Time(session.Millis(s.Now()))
	c := &Contact{ID: vault.NewRecordID(), Name: in.Name, DID: d, Notes: in.Notes, Created: now, Updated: now}
	return c, session.Put(ctx, s.Vault, Collection, c.ID, recordOf(c))
}

// Update replaces a contact's name, DID and notes.
func (cs *Service) Update(ctx context.Context, id string, in Input) (*Contact, error) {
	s, err := cs.open.Session()
	if err != nil {
		return nil, err
	}
	in, d, err := in.check()
	if err != nil {
		return nil, err
	}
	r, err := session.Get[record](ctx, s.Vault, Collection, id)
	if err != nil {
		return nil, err
	}
	r.id, r.Name, r.DID, r.Notes, r.Updated = id, in.Name, d.String(), in.Notes, session.Millis(s.Now())
	c := r.contact()
	return &c, session.Put(ctx, s.Vault, Collection, id, r)
}

// Delete removes a contact.
func (cs *Service) Delete(ctx context.Context, id string) error {
	s, err := cs.open.Session()
	if err != nil {
		return err
	}
	return session.Delete(ctx, s.Vault, Collection, id)
}

// Knows reports whether one of the person's contacts has DID d. It reads
// the address book only when it changed since the last call.
func (cs *Service) Knows(ctx context.Context, d did.DID) (bool, error) {
	s, err := cs.open.Session()
	if err != nil {
		return false, err
	}
	v := s.Vault
	// The stamp is read before the contacts: a write in between makes
	// the next call read them again.
	stamp := v.Changes(Collection)
	cs.mu.Lock()
	if cs.known.v == v && cs.known.stamp == stamp {
		_, ok := cs.known.dids[d]
		cs.mu.Unlock()
		return ok, nil
	}
	cs.mu.Unlock()
	all, err := list(ctx, v)
	if err != nil {
		return false, err
	}
	dids := make(map[did.DID]struct{}, len(all))
	for i := range all {
		if !all[i].DID.IsZero() {
			dids[all[i].DID] = struct{}{}
		}
	}
	cs.mu.Lock()
	cs.known = knownDIDs{v: v, stamp: stamp, dids: dids}
	cs.mu.Unlock()
	_, ok := dids[d]
	return ok, nil
}

// ByDID returns the contact with DID d, or nil if there is none.
func (cs *Service) ByDID(ctx context.Context, d did.DID) (*Contact, error) {
	s, err := cs.open.Session()
	if err != nil {
		return nil, err
	}
	return byDID(ctx, s.Vault, d)
}

func byDID(ctx context.Context, v *vault.Vault, d did.DID) (*Contact, error) {
	all, err := list(ctx, v)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].DID == d {
			return &all[i], nil
		}
	}
	return nil, nil
}

// A Connection is what the trust network learnt of someone the person just
// connected with.
type Connection struct {
	DID        did.DID
	Name       string   // the name they gave; a short DID stands in if it is not usable
	Relays     []string // where they are reached; kept only if they pass the invitation's checks
	Origin     Origin
	Introducer did.DID // for OriginIntroduced
}

// Connect records in tx that the person and c.DID are connected: it adds
// them as a contact, or completes the contact the person already has, with
// their name (if the contact has none but a short DID), relays and how they
// met. The contact is looked up in the vault, outside tx.
func (cs *Service) Connect(ctx context.Context, tx *vault.Tx, in Connection) error {
	s, err := cs.open.Session()
	if err != nil {
		return err
	}
	c, err := byDID(ctx, s.Vault, in.DID)
	if err != nil {
		return err
	}
	now := session.Time(session.Millis(s.Now()))
	name := strings.TrimSpace(in.Name)
	if checked, err := session.CheckText("name", name, session.MaxNameLen, true); err != nil {
		name = did.Short(in.DID)
	} else {
		name = checked
	}
	if c == nil {
		c = &Contact{ID: vault.NewRecordID(), Name: name, DID: in.DID, Created: now}
	} else if c.Name == did.Short(in.DID) {
		c.Name = name
	}
	if len(in.Relays) > 0 {
		c.Relays = CleanRelays(in.Relays)
	}
	if c.Origin == "" || !c.IsConnected() {
		c.Origin = in.Origin
		if !in.Introducer.IsZero() {
			c.IntroducedBy = in.Introducer
		}
	}
	if !c.IsConnected() {
		c.Connected = now
	}
	c.Updated = now
	b, err := vault.MarshalCBOR(recordOf(c))
	if err != nil {
		return err
	}
	tx.Put(Collection, c.ID, b)
	return nil
}

// SetSharing turns on or off the sharing of the person's relationships with
// the connected contact d, and returns the contact.
func (cs *Service) SetSharing(ctx context.Context, d did.DID, on bool) (*Contact, error) {
	s, err := cs.open.Session()
	if err != nil {
		return nil, err
	}
	c, err := byDID(ctx, s.Vault, d)
	if err != nil {
		return nil, err
	}
	if c == nil || !c.IsConnected() {
		return nil, fmt.Errorf("%w: %s is not a connected contact", input.ErrInvalid, did.Short(d))
	}
	c.SharingGraph = on
	c.Updated = session.Time(session.Millis(s.Now()))
	return c, session.Put(ctx, s.Vault, Collection, c.ID, recordOf(c))
}

// CleanRelays keeps the relay addresses that pass the invitation's checks,
// at most as many as an invitation carries.
func CleanRelays(relays []string) []string {
	var out []string
	for _, r := range relays {
		if invite.CheckRelayAddr(r) == nil && len(out) < invite.MaxRelays {
			out = append(out, r)
		}
	}
	return out
}
