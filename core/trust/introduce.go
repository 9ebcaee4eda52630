package trust

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/session"
	"planet/core/vc"
	"planet/core/wire"
	"planet/vault"
)

// Introductions: a person (the introducer) picks two of their contacts and
// introduces them, with a note on why they should know each other. Each of
// the two receives a signed introduction naming the other and accepts or
// declines it; when both have accepted, one connects to the other over
// /planet/connect/1.0.0 presenting the introduction, and both hold
// relationship credentials that name the introducer. The introducer hears
// each answer and each connection.

const (
	// colIntroductions holds the introductions the person received, by id.
	colIntroductions vault.Collection = "introductions"
	// colIntroduced holds the introductions the person made, by id.
	colIntroduced vault.Collection = "introduced"
)

// IntroductionLifetime is how long an introduction can be answered.
const IntroductionLifetime = 30 * 24 * time.Hour

// MaxIntroductionNoteLength is the longest note on an introduction, in bytes.
const MaxIntroductionNoteLength = 1000

// IntroState is where an introduction stands for one of the two
// introduced. It travels in frames and records as its text.
type IntroState string

// The states of an introduction, for each of the two introduced.
const (
	IntroPending       IntroState = "pending"        // not answered yet
	IntroAccepted      IntroState = "accepted"       // accepted, not yet connected
	IntroDeclined      IntroState = "declined"       // declined
	IntroConnected     IntroState = "connected"      // accepted by both and connected
	IntroOtherDeclined IntroState = "other-declined" // accepted, but the other declined
)

// introductionDomain separates introduction signatures from every other
// signature made with the same key.
const introductionDomain = "planet introduction v1\x00"

// IntroductionClaims is what an introducer signs: that To should meet
// Other, and why.
type IntroductionClaims struct {
	ID          string // the same for both halves of one introduction
	Introducer  did.DID
	To          did.DID
	Other       did.DID
	OtherName   string
	OtherRelays []string
	Note        string
	Created     int64 // Unix seconds
	Expires     int64 // Unix seconds
}

// introductionClaims is how [IntroductionClaims] are encoded, with DIDs as
// text. Change rules: numbered keys are never reused; new fields are
// optional.
type introductionClaims struct {
	ID          string   `cbor:"1,keyasint"`
	Introducer  string   `cbor:"2,keyasint"`
	To          string   `cbor:"3,keyasint"`
	Other       string   `cbor:"4,keyasint"`
	OtherName   string   `cbor:"5,keyasint,omitempty"`
	OtherRelays []string `cbor:"6,keyasint,omitempty"`
	Note        string   `cbor:"7,keyasint,omitempty"`
	Created     int64    `cbor:"8,keyasint"`
	Expires     int64    `cbor:"9,keyasint"`
}

// signedIntroduction is an introduction as it travels: the CBOR of its
// claims and the introducer's Ed25519 signature of introductionDomain
// followed by those bytes.
type signedIntroduction struct {
	Claims    []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

// IntroduceFrame is the one message of /planet/introduce/1.0.0: an
// introduction from the introducer, an answer to the introducer, or the
// receipt of either. Exactly one field is set.
type IntroduceFrame struct {
	Introduction []byte       `cbor:"1,keyasint,omitempty"` // a signed introduction
	Answer       *IntroAnswer `cbor:"2,keyasint,omitempty"`
	Received     bool         `cbor:"3,keyasint,omitempty"`
	Refused      *RemoteError `cbor:"4,keyasint,omitempty"`
}

// IntroAnswer tells the introducer what became of their introduction on
// the sender's side: IntroAccepted, IntroDeclined or IntroConnected.
type IntroAnswer struct {
	ID    string     `cbor:"1,keyasint"`
	State IntroState `cbor:"2,keyasint"`
}

// A ReceivedIntroduction is an introduction the person received.
type ReceivedIntroduction struct {
	ID          string
	Introducer  did.DID
	Other       did.DID // whom they introduce the person to
	OtherName   string  // the name the introducer knows them by
	OtherRelays []string
	Note        string
	State       IntroState
	Received    time.Time
	Expires     time.Time // it can no longer be answered from then
}

// A MadeIntroduction is an introduction the person made, with what each of
// the two made of it.
type MadeIntroduction struct {
	ID      string
	A, B    did.DID
	Note    string
	StateA  IntroState
	StateB  IntroState
	Created time.Time
}

// receivedRecord is a received introduction as the vault stores it (and
// as trust.json writes it). Its keys are frozen (see package session for
// the rules of change).
type receivedRecord struct {
	ID          string     `cbor:"1,keyasint" json:"id"`
	Introducer  string     `cbor:"2,keyasint" json:"introducer"`
	Other       string     `cbor:"3,keyasint" json:"other"`
	OtherName   string     `cbor:"4,keyasint,omitempty" json:"otherName"`
	OtherRelays []string   `cbor:"5,keyasint,omitempty" json:"-"`
	Note        string     `cbor:"6,keyasint,omitempty" json:"note"`
	Signed      []byte     `cbor:"7,keyasint" json:"-"`
	State       IntroState `cbor:"8,keyasint" json:"state"`
	Received    int64      `cbor:"9,keyasint" json:"received"`
	Expires     int64      `cbor:"10,keyasint" json:"expires"` // Unix seconds
}

// madeRecord is a made introduction as the vault stores it (and as
// trust.json writes it). Its keys are frozen.
type madeRecord struct {
	ID      string     `cbor:"1,keyasint" json:"id"`
	A       string     `cbor:"2,keyasint" json:"a"`
	B       string     `cbor:"3,keyasint" json:"b"`
	Note    string     `cbor:"4,keyasint,omitempty" json:"note"`
	StateA  IntroState `cbor:"5,keyasint" json:"stateA"`
	StateB  IntroState `cbor:"6,keyasint" json:"stateB"`
	Created int64      `cbor:"7,keyasint" json:"created"`
}

// Introduce introduces the contacts with DIDs a and b to each other, with
// a note on why they should know each other. Both must be contacts the
// person is connected with. It returns the introduction and the two halves
// to deliver.
func (s *Service) Introduce(ctx context.Context, a, b did.DID, note string) (*MadeIntroduction, []Outgoing, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, nil, err
	}
	v, id := se.Vault, se.Identity
	if a == b {
		return nil, nil, fmt.Errorf("%w: introduce two different people", input.ErrInvalid)
	}
	if note, err = session.CheckText("the note", note, MaxIntroductionNoteLength, false); err != nil {
		return nil, nil, err
	}
	var people [2]*contacts.Contact
	for i, d := range []did.DID{a, b} {
		if d == id.DID() {
			return nil, nil, fmt.Errorf("%w: you cannot introduce yourself; invite them instead", input.ErrInvalid)
		}
		c, err := s.contacts.ByDID(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		if c == nil || !c.IsConnected() {
			return nil, nil, fmt.Errorf("%w: %s is not a connected contact", input.ErrInvalid, did.Short(d))
		}
		people[i] = c
	}
	introID, err := vc.NewID(nil)
	if err != nil {
		return nil, nil, err
	}
	introID = introID[len("urn:uuid:"):]
	now := se.Now()
	made := &madeRecord{ID: introID, A: a.String(), B: b.String(), Note: note, StateA: IntroPending, StateB: IntroPending, Created: session.Millis(now)}
	var out []Outgoing
	for i, to := range []did.DID{a, b} {
		other := people[1-i]
		claims := IntroductionClaims{
			ID: introID, Introducer: id.DID(), To: to, Other: other.DID,
			OtherName: other.Name, OtherRelays: other.Relays, Note: note,
			Created: now.Unix(), Expires: now.Add(IntroductionLifetime).Unix(),
		}
		signed, err := signIntroduction(id, claims)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Outgoing{To: to, Relays: people[i].Relays, Protocol: ProtocolIntroduce, Frame: &IntroduceFrame{Introduction: signed}})
	}
	if err := session.Put(ctx, v, colIntroduced, introID, made); err != nil {
		return nil, nil, err
	}
	api := made.introduction()
	return &api, out, nil
}

func signIntroduction(id *identity.Identity, c IntroductionClaims) ([]byte, error) {
	claims, err := vault.MarshalCBOR(introductionClaims{
		ID: c.ID, Introducer: c.Introducer.String(), To: c.To.String(), Other: c.Other.String(),
		OtherName: c.OtherName, OtherRelays: c.OtherRelays, Note: c.Note, Created: c.Created, Expires: c.Expires,
	})
	if err != nil {
		return nil, err
	}
	sig := id.Sign(append([]byte(introductionDomain), claims...))
	return vault.MarshalCBOR(signedIntroduction{Claims: claims, Signature: sig})
}

// openIntroduction checks an introduction's signature and returns what it
// says; it does not check its dates.
func openIntroduction(signed []byte) (*IntroductionClaims, error) {
	var s signedIntroduction
	if err := vault.UnmarshalCBOR(signed, &s); err != nil {
		return nil, fmt.Errorf("%w: introduction: %v", input.ErrInvalid, err)
	}
	var w introductionClaims
	if err := vault.UnmarshalCBOR(s.Claims, &w); err != nil {
		return nil, fmt.Errorf("%w: introduction: %v", input.ErrInvalid, err)
	}
	c := IntroductionClaims{ID: w.ID, OtherName: w.OtherName, OtherRelays: w.OtherRelays, Note: w.Note, Created: w.Created, Expires: w.Expires}
	for _, f := range []struct {
		text string
		did  *did.DID
	}{{w.Introducer, &c.Introducer}, {w.To, &c.To}, {w.Other, &c.Other}} {
		d, err := did.Parse(f.text)
		if err != nil {
			return nil, fmt.Errorf("%w: introduction: %w", input.ErrInvalid, err)
		}
		*f.did = d
	}
	pub, err := c.Introducer.Ed25519PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: introduction: %w", input.ErrInvalid, err)
	}
	if !ed25519.Verify(pub, append([]byte(introductionDomain), s.Claims...), s.Signature) {
		return nil, fmt.Errorf("%w: the introduction's signature is not %s's", input.ErrInvalid, did.Short(c.Introducer))
	}
	switch {
	case !vault.ValidRecordID(c.ID):
		return nil, fmt.Errorf("%w: introduction id %q", input.ErrInvalid, c.ID)
	case c.To.IsZero() || c.Other.IsZero() || c.To == c.Other || c.Introducer == c.To || c.Introducer == c.Other:
		return nil, fmt.Errorf("%w: an introduction names its introducer and two other people", input.ErrInvalid)
	case len(c.Note) > MaxIntroductionNoteLength || len(c.OtherName) > session.MaxNameLen:
		return nil, fmt.Errorf("%w: the introduction's text is too long", input.ErrInvalid)
	}
	return &c, nil
}

// handleIntroduction keeps an introduction from one of the person's
// contacts until the person answers it.
func (s *Service) handleIntroduction(ctx context.Context, from did.DID, signed []byte) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return Handled{}, err
	}
	v, id := se.Vault, se.Identity
	refuse := func(err error) (Handled, error) {
		return Handled{Reply: &IntroduceFrame{Refused: refusal(err)}}, nil
	}
	c, err := openIntroduction(signed)
	if err != nil {
		return refuse(err)
	}
	switch {
	case c.Introducer != from:
		return refuse(fmt.Errorf("%w: the introduction was signed by %s, not by its sender", input.ErrInvalid, did.Short(c.Introducer)))
	case c.To != id.DID():
		return refuse(fmt.Errorf("%w: the introduction is for someone else", input.ErrInvalid))
	case se.Now().Unix() >= c.Expires:
		return refuse(fmt.Errorf("%w: the introduction expired", input.ErrInvalid))
	}
	introducer, err := s.contacts.ByDID(ctx, from)
	if err != nil {
		return Handled{}, err
	}
	if introducer == nil || !introducer.IsConnected() {
		return refuse(fmt.Errorf("%w: %s", ErrNotAContact, did.Short(from)))
	}
	if _, err := v.Get(ctx, colIntroductions, c.ID); err == nil {
		return Handled{}, nil // the same introduction again
	} else if !errors.Is(err, vault.ErrNotFound) {
		return Handled{}, err
	}
	r := &receivedRecord{
		ID: c.ID, Introducer: from.String(), Other: c.Other.String(), OtherName: c.OtherName,
		OtherRelays: contacts.CleanRelays(c.OtherRelays), Note: c.Note, Signed: signed, State: IntroPending,
		Received: session.Millis(se.Now()), Expires: c.Expires,
	}
	return Handled{}, session.Put(ctx, v, colIntroductions, c.ID, r)
}

// Introductions lists the introductions the person received and those they
// made, newest first.
func (s *Service) Introductions(ctx context.Context) ([]ReceivedIntroduction, []MadeIntroduction, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, nil, err
	}
	received, made, err := introductionRecords(ctx, se.Vault)
	if err != nil {
		return nil, nil, err
	}
	rs := make([]ReceivedIntroduction, len(received))
	for i := range received {
		rs[i] = received[i].introduction()
	}
	ms := make([]MadeIntroduction, len(made))
	for i := range made {
		ms[i] = made[i].introduction()
	}
	return rs, ms, nil
}

func introductionRecords(ctx context.Context, v *vault.Vault) ([]receivedRecord, []madeRecord, error) {
	received, err := session.List(ctx, v, colIntroductions, func(*receivedRecord, string) {})
	if err != nil {
		return nil, nil, err
	}
	made, err := session.List(ctx, v, colIntroduced, func(*madeRecord, string) {})
	sort.Slice(received, func(i, j int) bool { return received[i].Received > received[j].Received })
	sort.Slice(made, func(i, j int) bool { return made[i].Created > made[j].Created })
	return received, made, err
}

// The records' DIDs were checked when written; one that no longer parses
// (a method since dropped) reads as none.

func (r *receivedRecord) introduction() ReceivedIntroduction {
	out := ReceivedIntroduction{ID: r.ID, OtherName: r.OtherName, OtherRelays: r.OtherRelays, Note: r.Note, State: r.State,
		Received: session.Time(r.Received), Expires: time.Unix(r.Expires, 0).UTC()}
	out.Introducer, _ = did.Parse(r.Introducer)
	out.Other, _ = did.Parse(r.Other)
	return out
}

func (m *madeRecord) introduction() MadeIntroduction {
	out := MadeIntroduction{ID: m.ID, Note: m.Note, StateA: m.StateA, StateB: m.StateB, Created: session.Time(m.Created)}
	out.A, _ = did.Parse(m.A)
	out.B, _ = did.Parse(m.B)
	return out
}

func (s *Service) receivedIntroduction(ctx context.Context, v *vault.Vault, id string) (*receivedRecord, error) {
	if !vault.ValidRecordID(id) {
		return nil, fmt.Errorf("%w: introduction id %q", input.ErrInvalid, id)
	}
	return session.Get[receivedRecord](ctx, v, colIntroductions, id)
}

func putReceived(tx *vault.Tx, r *receivedRecord) error {
	b, err := vault.MarshalCBOR(r)
	if err != nil {
		return err
	}
	tx.Put(colIntroductions, r.ID, b)
	return nil
}

// introAnswer is the news for the introducer of an introduction.
func (s *Service) introAnswer(ctx context.Context, v *vault.Vault, c *IntroductionClaims, state IntroState) Outgoing {
	out := Outgoing{To: c.Introducer, Protocol: ProtocolIntroduce, Frame: &IntroduceFrame{Answer: &IntroAnswer{ID: c.ID, State: state}}}
	if introducer, err := s.contacts.ByDID(ctx, c.Introducer); err == nil && introducer != nil {
		out.Relays = introducer.Relays
	}
	return out
}

// AnswerIntroduction accepts or declines an introduction the person
// received. Either way the introducer hears of it. Accepting also asks the
// other person to connect; the connection completes when they have
// accepted too.
func (s *Service) AnswerIntroduction(ctx context.Context, introID string, accept bool) ([]Outgoing, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	v := se.Vault
	r, err := s.receivedIntroduction(ctx, v, introID)
	if err != nil {
		return nil, err
	}
	if r.State != IntroPending {
		return nil, fmt.Errorf("%w: this introduction was already answered (%s)", input.ErrInvalid, r.State)
	}
	if se.Now().Unix() >= r.Expires {
		return nil, fmt.Errorf("%w: this introduction expired", input.ErrInvalid)
	}
	c, err := openIntroduction(r.Signed)
	if err != nil {
		return nil, err
	}
	if !accept {
		r.State = IntroDeclined
		return []Outgoing{s.introAnswer(ctx, v, c, IntroDeclined)}, session.Put(ctx, v, colIntroductions, r.ID, r)
	}
	cred, err := issue(se, c.Other, vc.RelationshipContext{Context: c.Note, IntroducedBy: c.Introducer})
	if err != nil {
		return nil, err
	}
	exact, err := cred.MarshalJSON()
	if err != nil {
		return nil, err
	}
	connect := Outgoing{To: c.Other, Relays: r.OtherRelays, Protocol: ProtocolConnect, Frame: &ConnectFrame{Request: &ConnectRequest{
		Introduction: r.Signed, Credential: exact, Name: s.name(), Relays: s.Relays(),
	}}}
	r.State = IntroAccepted
	if err := savePending(ctx, se, r.ID, connect, c.Note, cred); err != nil {
		return nil, err
	}
	if err := session.Put(ctx, v, colIntroductions, r.ID, r); err != nil {
		return nil, err
	}
	return []Outgoing{s.introAnswer(ctx, v, c, IntroAccepted), connect}, nil
}

// connectByIntroduction answers someone introduced to the person who asks
// to connect: it connects if the person accepted the same introduction.
func (s *Service) connectByIntroduction(ctx context.Context, from did.DID, req *ConnectRequest) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return Handled{}, err
	}
	v, id := se.Vault, se.Identity
	c, err := openIntroduction(req.Introduction)
	if err != nil {
		return refused("", err), nil
	}
	if c.To != from || c.Other != id.DID() {
		return refused(c.ID, fmt.Errorf("%w: the introduction does not introduce you to each other", input.ErrInvalid)), nil
	}
	r, err := s.receivedIntroduction(ctx, v, c.ID)
	if errors.Is(err, vault.ErrNotFound) {
		return refused(c.ID, fmt.Errorf("%w: the introduction has not reached them yet", ErrPending)), nil
	} else if err != nil {
		return Handled{}, err
	}
	if r.Introducer != c.Introducer.String() || r.Other != from.String() {
		return refused(c.ID, fmt.Errorf("%w: the introduction does not match theirs", input.ErrInvalid)), nil
	}
	switch r.State {
	case IntroPending:
		return refused(c.ID, fmt.Errorf("%w", ErrPending)), nil
	case IntroDeclined:
		return refused(c.ID, fmt.Errorf("%w", ErrDeclined)), nil
	}
	theirs, err := verifiedRelationship(req.Credential, from, id.DID(), se.Now())
	if err != nil {
		return refused(c.ID, err), nil
	}
	if theirs.Subject.IntroducedBy != c.Introducer {
		return refused(c.ID, fmt.Errorf("%w: the credential does not name %s as the introducer", input.ErrInvalid, did.Short(c.Introducer))), nil
	}
	// If the person accepted and asked too (both accepted at once, or the
	// other's request crossed theirs), the credential they issued then is
	// their half: answer with it rather than issue a second.
	ours := s.pendingCredential(ctx, v, c.ID, from)
	if ours == nil {
		if ours, err = issue(se, from, vc.RelationshipContext{Context: c.Note, IntroducedBy: c.Introducer}); err != nil {
			return Handled{}, err
		}
	}
	now := session.Millis(se.Now())
	r.State = IntroConnected
	err = v.Update(ctx, func(tx *vault.Tx) error {
		// If the person had asked too (both accepted at once), this
		// exchange completes both requests.
		tx.Delete(colPending, c.ID)
		if err := putReceived(tx, r); err != nil {
			return err
		}
		if err := putCredential(tx, theirs, now); err != nil {
			return err
		}
		if err := putCredential(tx, ours, now); err != nil {
			return err
		}
		return s.connected(ctx, tx, from, req.Name, req.Relays, contacts.OriginIntroduced, c.Introducer)
	})
	if err != nil {
		return Handled{}, err
	}
	h, err := s.replyWith(c.ID, ours)
	h.Send = []Outgoing{s.introAnswer(ctx, v, c, IntroConnected)}
	return h, err
}

// pendingCredential returns the credential the person issued to subject
// for the pending connection ref, or nil if there is none.
func (s *Service) pendingCredential(ctx context.Context, v *vault.Vault, ref string, subject did.DID) *vc.Credential {
	pc, err := session.Get[pendingRecord](ctx, v, colPending, ref)
	if err != nil || pc.Credential == "" || pc.With != subject.String() {
		return nil
	}
	rec, err := session.Get[credentialRecord](ctx, v, credentialsCollection, pc.Credential)
	if err != nil {
		return nil
	}
	k, err := rec.kept()
	if err != nil || k.Credential.Subject.ID != subject {
		return nil
	}
	return k.Credential
}

// handleIntroductionAnswer records what one of the two made of the
// person's introduction.
func (s *Service) handleIntroductionAnswer(ctx context.Context, from did.DID, a *IntroAnswer) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return Handled{}, err
	}
	v := se.Vault
	switch a.State {
	case IntroAccepted, IntroDeclined, IntroConnected:
	default:
		return Handled{}, fmt.Errorf("%w: unknown introduction state %q", wire.ErrMalformedFrame, a.State)
	}
	if !vault.ValidRecordID(a.ID) {
		return Handled{}, fmt.Errorf("%w: introduction id %q", wire.ErrMalformedFrame, a.ID)
	}
	m, err := session.Get[madeRecord](ctx, v, colIntroduced, a.ID)
	if errors.Is(err, vault.ErrNotFound) {
		return Handled{Reply: &IntroduceFrame{Refused: refusal(fmt.Errorf("%w: no such introduction", input.ErrInvalid))}}, nil
	} else if err != nil {
		return Handled{}, err
	}
	var state *IntroState
	switch from.String() {
	case m.A:
		state = &m.StateA
	case m.B:
		state = &m.StateB
	default:
		return Handled{Reply: &IntroduceFrame{Refused: refusal(fmt.Errorf("%w: the introduction is not for you", input.ErrInvalid))}}, nil
	}
	if *state == IntroConnected || *state == a.State {
		return Handled{}, nil // news arriving late or twice changes nothing
	}
	*state = a.State
	if a.State == IntroConnected {
		// The two are connected: both sides are.
		m.StateA, m.StateB = IntroConnected, IntroConnected
	}
	return Handled{}, session.Put(ctx, v, colIntroduced, m.ID, m)
}
