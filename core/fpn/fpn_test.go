package fpn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/vc"
)

type bodyCase struct {
	Decoder string          `json:"decoder"`
	Valid   bool            `json:"valid"`
	Note    string          `json:"note"`
	Body    json.RawMessage `json:"body"`
}

func readBodies(tb testing.TB) []bodyCase {
	tb.Helper()
	data, err := os.ReadFile("testdata/bodies.json")
	if err != nil {
		tb.Fatal(err)
	}
	var f struct{ Cases []bodyCase }
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	return f.Cases
}

// decoders by the names testdata/bodies.json uses.
var decoders = map[string]func([]byte) error{
	"request":          func(b []byte) error { _, err := DecodeRequest(b); return err },
	"accept":           func(b []byte) error { _, err := DecodeAccept(b); return err },
	"reject":           func(b []byte) error { _, err := DecodeReject(b); return err },
	"finalize":         DecodeFinalize,
	"vrc-request":      func(b []byte) error { _, err := DecodeVRCRequest(b); return err },
	"vrc-issued":       func(b []byte) error { _, err := DecodeVRCIssued(b); return err },
	"propose":          func(b []byte) error { _, err := DecodePropose(b); return err },
	"propose-response": func(b []byte) error { _, err := DecodeProposeResponse(b); return err },
	"issue":            func(b []byte) error { _, err := DecodeIssue(b); return err },
	"issue-response":   func(b []byte) error { _, err := DecodeIssueResponse(b); return err },
	"task":             func(b []byte) error { _, err := DecodeTask(b); return err },
}

func TestBodyVectors(t *testing.T) {
	cases := readBodies(t)
	if len(cases) < 30 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		dec, ok := decoders[c.Decoder]
		if !ok {
			t.Fatalf("unknown decoder %q", c.Decoder)
		}
		err := dec(c.Body)
		switch {
		case c.Valid && err != nil:
			t.Errorf("%s: %s: %v", c.Decoder, c.Note, err)
		case !c.Valid && err == nil:
			t.Errorf("%s: %s: accepted", c.Decoder, c.Note)
		case !c.Valid && !errors.Is(err, input.ErrInvalid):
			t.Errorf("%s: %s: %v does not wrap ErrInvalid", c.Decoder, c.Note, err)
		}
	}
}

// FuzzDecoders runs every decoder over the same input: none may panic, and
// what one accepts it accepts again from its own encoding.
func FuzzDecoders(f *testing.F) {
	for _, c := range readBodies(f) {
		f.Add(c.Decoder, []byte(c.Body))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		for n, dec := range decoders {
			err := dec(data)
			if err != nil && !errors.Is(err, input.ErrInvalid) {
				t.Fatalf("%s: %v does not wrap ErrInvalid", n, err)
			}
		}
		if b, err := DecodeRequest(data); err == nil {
			again, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := DecodeRequest(again)
			if err != nil || b2.DID != b.DID || b2.Reason != b.Reason || b2.Name != b.Name {
				t.Fatalf("request %s does not survive its encoding %s: %v", data, again, err)
			}
		}
		if task, err := DecodeTask(data); err == nil {
			again, err := task.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			t2, err := DecodeTask(again)
			if err != nil || t2.ID != task.ID || !bytes.Equal(t2.Payload, task.Payload) {
				t.Fatalf("task %s does not survive its encoding %s: %v", data, again, err)
			}
		}
	})
}

type person struct {
	id  *identity.Identity
	rel *identity.Relationship
}

func newPerson(t *testing.T, b byte) person {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mediator, _ := identity.FromSeed(bytes.Repeat([]byte{0xee}, 32))
	rel, err := id.Relationship(0, mediator.DID())
	if err != nil {
		t.Fatal(err)
	}
	return person{id, rel}
}

// through returns m as it arrives: written, sent, read.
func through(t *testing.T, m *didcomm.Plaintext) *didcomm.Plaintext {
	t.Helper()
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := didcomm.ParsePlaintext(data)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestHandshake runs request, accept and finalize between two persons, each
// with a relationship DID, checking the proofs as the receiver would.
func TestHandshake(t *testing.T) {
	alice, bob := newPerson(t, 1), newPerson(t, 2)
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()

	req, err := NewRequest(alice.id.DID(), bob.id.DID(), alice.rel, alice.id, "met at the co-op AGM", "Alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if req.Thid != "" || req.Type != TypeRelationshipRequest || !req.Expires.Equal(req.Created.Add(MessageLifetime)) {
		t.Fatalf("request %+v", req)
	}
	in := through(t, req)
	if err := CheckWindow(in, now); err != nil {
		t.Fatal(err)
	}
	body, err := DecodeRequest(in.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body.DID != alice.rel.DID() || body.Name != "Alice" || body.Proofs.Persona == nil {
		t.Fatalf("request body %+v", body)
	}
	b := RequestBinding(in, body, bob.id.DID())
	if err := VerifyBinding(ctx, did.Local, b, body.Proofs, now); err != nil {
		t.Fatalf("request binding: %v", err)
	}
	// The proofs hold for this handshake, this role, these parties only.
	for name, alter := range map[string]func(*Binding){
		"another thread":  func(b *Binding) { b.Thid = "other" },
		"as an accept":    func(b *Binding) { b.Role = RoleAccept },
		"to another peer": func(b *Binding) { b.Peer = alice.id.DID() },
		"another DID":     func(b *Binding) { b.DID = bob.rel.DID() },
	} {
		bb := b
		alter(&bb)
		if err := VerifyBinding(ctx, did.Local, bb, body.Proofs, now); !errors.Is(err, ErrBindingProof) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := VerifyBinding(ctx, did.Local, b, Proofs{Persona: body.Proofs.Persona}, now); !errors.Is(err, ErrMissingDIDProof) {
		t.Errorf("no did proof: %v", err)
	}
	if err := VerifyBinding(ctx, did.Local, b, Proofs{DID: body.Proofs.DID}, now); !errors.Is(err, ErrMissingPersonaProof) {
		t.Errorf("no persona proof: %v", err)
	}
	// A DID the sender does not control: the proof is by its own key.
	forged, err := SignBinding(Binding{Role: RoleRequest, DID: alice.rel.DID(), Persona: alice.id.DID(), Peer: bob.id.DID(), Thid: b.Thid}, alice.rel, alice.id, now)
	if err != nil {
		t.Fatal(err)
	}
	victim := b
	victim.DID = bob.rel.DID()
	if err := VerifyBinding(ctx, did.Local, victim, forged, now); !errors.Is(err, ErrBindingProof) {
		t.Errorf("forged DID: %v", err)
	}

	acc, err := NewAccept(bob.id.DID(), alice.id.DID(), req.ID, bob.rel, bob.id, now)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Thid != req.ID {
		t.Fatalf("accept thid %q", acc.Thid)
	}
	in = through(t, acc)
	ab, err := DecodeAccept(in.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBinding(ctx, did.Local, AcceptBinding(in, ab, alice.id.DID()), ab.Proofs, now); err != nil {
		t.Fatalf("accept binding: %v", err)
	}
	// The request's proofs do not stand for an accept.
	if err := VerifyBinding(ctx, did.Local, Binding{Role: RoleAccept, DID: alice.rel.DID(), Persona: alice.id.DID(), Peer: bob.id.DID(), Thid: req.ID}, body.Proofs, now); err == nil {
		t.Error("request proof accepted as an accept's")
	}

	fin, err := NewFinalize(alice.id.DID(), bob.id.DID(), req.ID, now)
	if err != nil || string(fin.Body) != "{}" || fin.Thid != req.ID {
		t.Fatalf("finalize %s %v", fin.Body, err)
	}
	rej, err := NewReject(bob.id.DID(), alice.id.DID(), req.ID, nil, now)
	if err != nil || string(rej.Body) != `{"reason":null}` {
		t.Fatalf("reject %s %v", rej.Body, err)
	}

	// The persona as its own relationship DID needs no persona proof.
	own, err := NewRequest(alice.id.DID(), bob.id.DID(), alice.id, alice.id, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := DecodeRequest(own.Body)
	if ob.Proofs.Persona != nil {
		t.Error("persona proof for the persona's own DID")
	}
	if err := VerifyBinding(ctx, did.Local, RequestBinding(own, ob, bob.id.DID()), ob.Proofs, now); err != nil {
		t.Errorf("persona DID: %v", err)
	}
}

func TestCheckWindow(t *testing.T) {
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	m := func(created, expires time.Time) *didcomm.Plaintext {
		return &didcomm.Plaintext{Created: created, Expires: expires}
	}
	for name, c := range map[string]struct {
		m  *didcomm.Plaintext
		ok bool
	}{
		"fresh":           {m(now.Add(-time.Hour), now.Add(47*time.Hour)), true},
		"48 h old":        {m(now.Add(-MessageLifetime), time.Time{}), true},
		"older than 48 h": {m(now.Add(-MessageLifetime-time.Second), time.Time{}), false},
		"5 min ahead":     {m(now.Add(MaxFutureSkew), time.Time{}), true},
		"more than 5 min": {m(now.Add(MaxFutureSkew+time.Second), time.Time{}), false},
		"expired":         {m(now.Add(-time.Hour), now.Add(-time.Second)), false},
		"no created_time": {m(time.Time{}, time.Time{}), false},
	} {
		err := CheckWindow(c.m, now)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, ErrOutsideWindow) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestVRCExchange requests, issues and rejects a VRC between relationship
// DIDs, the issued credential verifying as the receiver checks it.
func TestVRCExchange(t *testing.T) {
	alice, bob := newPerson(t, 1), newPerson(t, 2)
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	req, err := NewVRCRequest(alice.rel.DID(), bob.rel.DID(), "for the register", now)
	if err != nil || req.Thid != "" {
		t.Fatal(err)
	}
	if rb, err := DecodeVRCRequest(req.Body); err != nil || rb.Reason != "for the register" {
		t.Fatalf("%+v %v", rb, err)
	}
	c, err := vc.IssueRelationshipAs(bob.rel, vc.IssuerScopePairwise, alice.rel.DID(), vc.RelationshipContext{}, now, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := NewVRCIssued(bob.rel.DID(), alice.rel.DID(), req.ID, c, now)
	if err != nil || issued.Thid != req.ID {
		t.Fatal(err)
	}
	got, err := DecodeVRCIssued(issued.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.Verify(got, now); err != nil {
		t.Errorf("issued VRC: %v", err)
	}
	if _, err := NewVRCIssued(alice.rel.DID(), bob.rel.DID(), req.ID, c, now); err == nil {
		t.Error("a VRC sent by someone not its issuer")
	}
	rej, err := NewVRCRejected(bob.rel.DID(), alice.rel.DID(), req.ID, "", now)
	if err != nil || string(rej.Body) != "{}" {
		t.Fatalf("rejected %s %v", rej.Body, err)
	}
}

// TestTrustTasks runs the propose and issue exchange in the DIDComm binding.
func TestTrustTasks(t *testing.T) {
	alice, bob := newPerson(t, 1), newPerson(t, 2)
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	yes := true
	task, err := NewTask(TaskPropose, alice.id.DID(), bob.id.DID(), "", ProposePayload{RelationshipDID: alice.rel.DID().String(), Witnessed: &yes}, now)
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewEnvelope(alice.id.DID(), bob.id.DID(), task, now)
	if err != nil || env.Thid != task.ID || env.Type != EnvelopeType {
		t.Fatalf("%+v %v", env, err)
	}
	opened, err := OpenEnvelope(env, alice.id.DID(), bob.id.DID(), now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePropose(opened.Payload)
	if err != nil || p.RelationshipDID != alice.rel.DID().String() || !*p.Witnessed {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := OpenEnvelope(env, did.DID{}, bob.id.DID(), now); !errors.Is(err, ErrNotAuthcrypt) {
		t.Errorf("anoncrypt: %v", err)
	}
	if _, err := OpenEnvelope(env, bob.id.DID(), bob.id.DID(), now); !errors.Is(err, ErrIdentityMismatch) {
		t.Errorf("another sender: %v", err)
	}
	if _, err := OpenEnvelope(env, alice.id.DID(), alice.id.DID(), now); !errors.Is(err, ErrIdentityMismatch) {
		t.Errorf("another recipient: %v", err)
	}
	moved := *env
	moved.Thid = "other"
	if _, err := OpenEnvelope(&moved, alice.id.DID(), bob.id.DID(), now); err == nil {
		t.Error("another thread accepted")
	}

	resp, _ := NewTask(TaskPropose+ResponseFragment, bob.id.DID(), alice.id.DID(), task.ID, ProposeResponse{RelationshipDID: bob.rel.DID().String()}, now)
	if r, err := DecodeProposeResponse(resp.Payload); err != nil || r.Witnessed != nil {
		t.Fatalf("response %+v %v", r, err)
	}

	c, _ := vc.IssueRelationshipAs(alice.rel, vc.IssuerScopePairwise, bob.rel.DID(), vc.RelationshipContext{}, now, time.Time{}, nil)
	raw, _ := c.MarshalJSON()
	digest, err := VRCDigest(raw)
	if err != nil {
		t.Fatal(err)
	}
	issue, err := NewTask(TaskIssue, alice.id.DID(), bob.id.DID(), task.ID, IssuePayload{VRC: raw, VRCDigestMultibase: digest}, now)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := DecodeIssue(issue.Payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeVRCIssued(ip.VRC)
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.Verify(got, now); err != nil {
		t.Fatalf("vrc: %v", err)
	}
	// The receipt recomputes the digest over what was stored.
	stored, _ := got.MarshalJSON()
	if d, _ := VRCDigest(stored); d != ip.VRCDigestMultibase {
		t.Errorf("digest of the stored credential %s, sent %s", d, ip.VRCDigestMultibase)
	}
	if own, _ := vc.DigestMultibase(raw); own == digest {
		t.Error("the task's digest leaves the proof out as the credential's does")
	}
	expired := *issue
	expired.ExpiresAt = now
	e2, _ := NewEnvelope(alice.id.DID(), bob.id.DID(), &expired, now)
	if _, err := OpenEnvelope(e2, alice.id.DID(), bob.id.DID(), now); !errors.Is(err, ErrOutsideWindow) {
		t.Errorf("expired task: %v", err)
	}
}
