package core

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

// The states of an introduction, for each of the two introduced.
const (
	IntroPending       = "pending"        // not answered yet
	IntroAccepted      = "accepted"       // accepted, not yet connected
	IntroDeclined      = "declined"       // declined
	IntroConnected     = "connected"      // accepted by both and connected
	IntroOtherDeclined = "other-declined" // accepted, but the other declined
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
	ID    string `cbor:"1,keyasint"`
	State string `cbor:"2,keyasint"`
}

// ReceivedIntroduction is an introduction the person received, as kept in
// the vault. Change rules as for every record.
type ReceivedIntroduction struct {
	ID          string   `cbor:"1,keyasint" json:"id"`
	Introducer  string   `cbor:"2,keyasint" json:"introducer"`
	Other       string   `cbor:"3,keyasint" json:"other"`
	OtherName   string   `cbor:"4,keyasint,omitempty" json:"otherName"`
	OtherRelays []string `cbor:"5,keyasint,omitempty" json:"-"`
	Note        string   `cbor:"6,keyasint,omitempty" json:"note"`
	Signed      []byte   `cbor:"7,keyasint" json:"-"`
	State       string   `cbor:"8,keyasint" json:"state"`
	Received    int64    `cbor:"9,keyasint" json:"received"`
	Expires     int64    `cbor:"10,keyasint" json:"expires"` // Unix seconds
}

// MadeIntroduction is an introduction the person made, with what each of
// the two made of it. Change rules as for every record.
type MadeIntroduction struct {
	ID      string `cbor:"1,keyasint" json:"id"`
	A       string `cbor:"2,keyasint" json:"a"`
	B       string `cbor:"3,keyasint" json:"b"`
	Note    string `cbor:"4,keyasint,omitempty" json:"note"`
	StateA  string `cbor:"5,keyasint" json:"stateA"`
	StateB  string `cbor:"6,keyasint" json:"stateB"`
	Created int64  `cbor:"7,keyasint" json:"created"`
}

// Introduce introduces the contacts with DIDs a and b to each other, with
// a note on why they should know each other. Both must be contacts the
// person is connected with. It returns the introduction and the two halves
// to deliver.
func (p *Planet) Introduce(ctx context.Context, a, b did.DID, note string) (*MadeIntroduction, []Outgoing, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, nil, err
	}
	if a == b {
		return nil, nil, fmt.Errorf("%w: introduce two different people", ErrInvalid)
	}
	if note, err = session.CheckText("the note", note, MaxIntroductionNoteLength, false); err != nil {
		return nil, nil, err
	}
	var people [2]*contacts.Contact
	for i, d := range []did.DID{a, b} {
		if d == id.DID() {
			return nil, nil, fmt.Errorf("%w: you cannot introduce yourself; invite them instead", ErrInvalid)
		}
		c, err := p.contactByDID(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		if c == nil || !c.IsConnected() {
			return nil, nil, fmt.Errorf("%w: %s is not a connected contact", ErrInvalid, did.Short(d))
		}
		people[i] = c
	}
	introID, err := vc.NewID(nil)
	if err != nil {
		return nil, nil, err
	}
	introID = introID[len("urn:uuid:"):]
	now := p.opt.Now()
	made := &MadeIntroduction{ID: introID, A: a.String(), B: b.String(), Note: note, StateA: IntroPending, StateB: IntroPending, Created: millis(now)}
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
	return made, out, session.Put(ctx, v, colIntroduced, introID, made)
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
		return nil, fmt.Errorf("%w: introduction: %v", ErrInvalid, err)
	}
	var w introductionClaims
	if err := vault.UnmarshalCBOR(s.Claims, &w); err != nil {
		return nil, fmt.Errorf("%w: introduction: %v", ErrInvalid, err)
	}
	c := IntroductionClaims{ID: w.ID, OtherName: w.OtherName, OtherRelays: w.OtherRelays, Note: w.Note, Created: w.Created, Expires: w.Expires}
	for _, f := range []struct {
		text string
		did  *did.DID
	}{{w.Introducer, &c.Introducer}, {w.To, &c.To}, {w.Other, &c.Other}} {
		d, err := did.Parse(f.text)
		if err != nil {
			return nil, fmt.Errorf("%w: introduction: %w", ErrInvalid, err)
		}
		*f.did = d
	}
	pub, err := c.Introducer.Ed25519PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: introduction: %w", ErrInvalid, err)
	}
	if !ed25519.Verify(pub, append([]byte(introductionDomain), s.Claims...), s.Signature) {
		return nil, fmt.Errorf("%w: the introduction's signature is not %s's", ErrInvalid, did.Short(c.Introducer))
	}
	switch {
	case !vault.ValidRecordID(c.ID):
		return nil, fmt.Errorf("%w: introduction id %q", ErrInvalid, c.ID)
	case c.To.IsZero() || c.Other.IsZero() || c.To == c.Other || c.Introducer == c.To || c.Introducer == c.Other:
		return nil, fmt.Errorf("%w: an introduction names its introducer and two other people", ErrInvalid)
	case len(c.Note) > MaxIntroductionNoteLength || len(c.OtherName) > session.MaxNameLen:
		return nil, fmt.Errorf("%w: the introduction's text is too long", ErrInvalid)
	}
	return &c, nil
}

// handleIntroduction keeps an introduction from one of the person's
// contacts until the person answers it.
func (p *Planet) handleIntroduction(ctx context.Context, from did.DID, signed []byte) (Handled, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return Handled{}, err
	}
	refuse := func(err error) (Handled, error) {
		return Handled{Reply: &IntroduceFrame{Refused: refusal(err)}}, nil
	}
	c, err := openIntroduction(signed)
	if err != nil {
		return refuse(err)
	}
	switch {
	case c.Introducer != from:
		return refuse(fmt.Errorf("%w: the introduction was signed by %s, not by its sender", ErrInvalid, did.Short(c.Introducer)))
	case c.To != id.DID():
		return refuse(fmt.Errorf("%w: the introduction is for someone else", ErrInvalid))
	case p.opt.Now().Unix() >= c.Expires:
		return refuse(fmt.Errorf("%w: the introduction expired", ErrInvalid))
	}
	introducer, err := p.contactByDID(ctx, from)
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
	r := &ReceivedIntroduction{
		ID: c.ID, Introducer: from.String(), Other: c.Other.String(), OtherName: c.OtherName,
		OtherRelays: contacts.CleanRelays(c.OtherRelays), Note: c.Note, Signed: signed, State: IntroPending,
		Received: millis(p.opt.Now()), Expires: c.Expires,
	}
	return Handled{}, session.Put(ctx, v, colIntroductions, c.ID, r)
}

// Introductions lists the introductions the person received and those they
// made, newest first.
func (p *Planet) Introductions(ctx context.Context) ([]ReceivedIntroduction, []MadeIntroduction, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, nil, err
	}
	received, err := session.List(ctx, v, colIntroductions, func(*ReceivedIntroduction, string) {})
	if err != nil {
		return nil, nil, err
	}
	made, err := session.List(ctx, v, colIntroduced, func(*MadeIntroduction, string) {})
	sort.Slice(received, func(i, j int) bool { return received[i].Received > received[j].Received })
	sort.Slice(made, func(i, j int) bool { return made[i].Created > made[j].Created })
	return received, made, err
}

func (p *Planet) receivedIntroduction(ctx context.Context, v *vault.Vault, id string) (*ReceivedIntroduction, error) {
	if !vault.ValidRecordID(id) {
		return nil, fmt.Errorf("%w: introduction id %q", ErrInvalid, id)
	}
	return session.Get[ReceivedIntroduction](ctx, v, colIntroductions, id)
}

func putReceived(tx *vault.Tx, r *ReceivedIntroduction) error {
	b, err := vault.MarshalCBOR(r)
	if err != nil {
		return err
	}
	tx.Put(colIntroductions, r.ID, b)
	return nil
}

// introAnswer is the news for the introducer of an introduction.
func (p *Planet) introAnswer(ctx context.Context, v *vault.Vault, c *IntroductionClaims, state string) Outgoing {
	out := Outgoing{To: c.Introducer, Protocol: ProtocolIntroduce, Frame: &IntroduceFrame{Answer: &IntroAnswer{ID: c.ID, State: state}}}
	if introducer, err := p.contactByDID(ctx, c.Introducer); err == nil && introducer != nil {
		out.Relays = introducer.Relays
	}
	return out
}

// AnswerIntroduction accepts or declines an introduction the person
// received. Either way the introducer hears of it. Accepting also asks the
// other person to connect; the connection completes when they have
// accepted too.
func (p *Planet) AnswerIntroduction(ctx context.Context, introID string, accept bool) ([]Outgoing, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	r, err := p.receivedIntroduction(ctx, v, introID)
	if err != nil {
		return nil, err
	}
	if r.State != IntroPending {
		return nil, fmt.Errorf("%w: this introduction was already answered (%s)", ErrInvalid, r.State)
	}
	if p.opt.Now().Unix() >= r.Expires {
		return nil, fmt.Errorf("%w: this introduction expired", ErrInvalid)
	}
	c, err := openIntroduction(r.Signed)
	if err != nil {
		return nil, err
	}
	if !accept {
		r.State = IntroDeclined
		return []Outgoing{p.introAnswer(ctx, v, c, IntroDeclined)}, session.Put(ctx, v, colIntroductions, r.ID, r)
	}
	cred, err := p.issue(id, c.Other, vc.RelationshipContext{Context: c.Note, IntroducedBy: c.Introducer})
	if err != nil {
		return nil, err
	}
	exact, err := cred.MarshalJSON()
	if err != nil {
		return nil, err
	}
	connect := Outgoing{To: c.Other, Relays: r.OtherRelays, Protocol: ProtocolConnect, Frame: &ConnectFrame{Request: &ConnectRequest{
		Introduction: r.Signed, Credential: exact, Name: p.displayName(), Relays: p.Relays(),
	}}}
	r.State = IntroAccepted
	if err := p.savePending(ctx, v, r.ID, connect, c.Note, cred); err != nil {
		return nil, err
	}
	if err := session.Put(ctx, v, colIntroductions, r.ID, r); err != nil {
		return nil, err
	}
	return []Outgoing{p.introAnswer(ctx, v, c, IntroAccepted), connect}, nil
}

// connectByIntroduction answers someone introduced to the person who asks
// to connect: it connects if the person accepted the same introduction.
func (p *Planet) connectByIntroduction(ctx context.Context, from did.DID, req *ConnectRequest) (Handled, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return Handled{}, err
	}
	c, err := openIntroduction(req.Introduction)
	if err != nil {
		return refused("", err), nil
	}
	if c.To != from || c.Other != id.DID() {
		return refused(c.ID, fmt.Errorf("%w: the introduction does not introduce you to each other", ErrInvalid)), nil
	}
	r, err := p.receivedIntroduction(ctx, v, c.ID)
	if errors.Is(err, vault.ErrNotFound) {
		return refused(c.ID, fmt.Errorf("%w: the introduction has not reached them yet", ErrPending)), nil
	} else if err != nil {
		return Handled{}, err
	}
	if r.Introducer != c.Introducer.String() || r.Other != from.String() {
		return refused(c.ID, fmt.Errorf("%w: the introduction does not match theirs", ErrInvalid)), nil
	}
	switch r.State {
	case IntroPending:
		return refused(c.ID, fmt.Errorf("%w", ErrPending)), nil
	case IntroDeclined:
		return refused(c.ID, fmt.Errorf("%w", ErrDeclined)), nil
	}
	theirs, err := p.verifiedRelationship(req.Credential, from, id.DID())
	if err != nil {
		return refused(c.ID, err), nil
	}
	if theirs.Subject.IntroducedBy != c.Introducer {
		return refused(c.ID, fmt.Errorf("%w: the credential does not name %s as the introducer", ErrInvalid, did.Short(c.Introducer))), nil
	}
	// If the person accepted and asked too (both accepted at once, or the
	// other's request crossed theirs), the credential they issued then is
	// their half: answer with it rather than issue a second.
	ours := p.pendingCredential(ctx, v, c.ID, from)
	if ours == nil {
		if ours, err = p.issue(id, from, vc.RelationshipContext{Context: c.Note, IntroducedBy: c.Introducer}); err != nil {
			return Handled{}, err
		}
	}
	now := millis(p.opt.Now())
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
		return p.connected(ctx, tx, from, req.Name, req.Relays, contacts.OriginIntroduced, c.Introducer)
	})
	if err != nil {
		return Handled{}, err
	}
	h, err := p.replyWith(c.ID, ours)
	h.Send = []Outgoing{p.introAnswer(ctx, v, c, IntroConnected)}
	return h, err
}

// pendingCredential returns the credential the person issued to subject
// for the pending connection ref, or nil if there is none.
func (p *Planet) pendingCredential(ctx context.Context, v *vault.Vault, ref string, subject did.DID) *vc.Credential {
	pc, err := session.Get[PendingConnection](ctx, v, colPending, ref)
	if err != nil || pc.Credential == "" || pc.With != subject.String() {
		return nil
	}
	rec, err := session.Get[credentialRecord](ctx, v, colCredentials, pc.Credential)
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
func (p *Planet) handleIntroductionAnswer(ctx context.Context, from did.DID, a *IntroAnswer) (Handled, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return Handled{}, err
	}
	switch a.State {
	case IntroAccepted, IntroDeclined, IntroConnected:
	default:
		return Handled{}, fmt.Errorf("%w: unknown introduction state %q", wire.ErrMalformedFrame, a.State)
	}
	if !vault.ValidRecordID(a.ID) {
		return Handled{}, fmt.Errorf("%w: introduction id %q", wire.ErrMalformedFrame, a.ID)
	}
	m, err := session.Get[MadeIntroduction](ctx, v, colIntroduced, a.ID)
	if errors.Is(err, vault.ErrNotFound) {
		return Handled{Reply: &IntroduceFrame{Refused: refusal(fmt.Errorf("%w: no such introduction", ErrInvalid))}}, nil
	} else if err != nil {
		return Handled{}, err
	}
	var state *string
	switch from.String() {
	case m.A:
		state = &m.StateA
	case m.B:
		state = &m.StateB
	default:
		return Handled{Reply: &IntroduceFrame{Refused: refusal(fmt.Errorf("%w: the introduction is not for you", ErrInvalid))}}, nil
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
