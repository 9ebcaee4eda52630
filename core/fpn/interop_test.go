package fpn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/vc"
)

// Interop with an OpenVTC-shaped peer that is not PLANET's code:
// web/test/interop/openvtc.mjs, written in JavaScript from OpenVTC's sources
// (openvtc-core relationships.rs, proof_check.rs, messaging.rs, vrc.rs;
// dtg-credentials) and the W3C eddsa-jcs-2022 and VC 2.0 specifications. Each
// test runs both directions and shows that tampering is refused on both sides.

// jsResult is one operation's result from openvtc.mjs.
type jsResult struct {
	OK    json.RawMessage `json:"ok"`
	Error string          `json:"error"`
}

// repoRoot is the repository's root, found from this file's place in it.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// openvtc runs ops through web/test/interop/openvtc.mjs and returns one
// result per operation. It skips the test when node or the script's npm
// packages are missing, unless PLANET_REQUIRE_INTEROP=1 says the test must
// run (make test sets it).
func openvtc(t *testing.T, ops ...map[string]any) []jsResult {
	t.Helper()
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(repoRoot(), "web/test/node_modules/canonicalize/package.json")); err != nil {
		missing = "web/test/node_modules/canonicalize is not installed (cd web/test && npm ci)"
	}
	if missing != "" {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatalf("interop with the OpenVTC-shaped peer required (PLANET_REQUIRE_INTEROP=1), but %s", missing)
		}
		t.Skipf("skipping interop with the OpenVTC-shaped peer: %s", missing)
	}
	in, err := json.Marshal(map[string]any{"ops": ops})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(repoRoot(), "web/test/interop/openvtc.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openvtc.mjs: %v\n%s", err, stderr.Bytes())
	}
	var results []jsResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("openvtc.mjs wrote %q: %v", out, err)
	}
	if len(results) != len(ops) {
		t.Fatalf("openvtc.mjs: %d results for %d operations", len(results), len(ops))
	}
	return results
}

// ok returns the value of r, failing the test if the operation failed.
func (r jsResult) ok(t *testing.T, what string) json.RawMessage {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("%s: the OpenVTC-shaped peer refused: %s", what, r.Error)
	}
	return r.OK
}

// refused fails the test unless the operation failed with an error that
// contains want.
func (r jsResult) refused(t *testing.T, what, want string) {
	t.Helper()
	switch {
	case r.Error == "":
		t.Errorf("%s: the OpenVTC-shaped peer accepted it", what)
	case !strings.Contains(r.Error, want):
		t.Errorf("%s: refused with %q, want it to say %q", what, r.Error, want)
	}
}

// jsParty is a party the JS peer minted: a did:peer:2 in OpenVTC's
// relationship DID shape and its keys as JWK.
type jsParty struct {
	DID string `json:"did"`
	JWK struct {
		Ed25519 map[string]string `json:"ed25519"`
	} `json:"jwk"`
}

func (p jsParty) did(t *testing.T) did.DID {
	t.Helper()
	d, err := did.Parse(p.DID)
	if err != nil {
		t.Fatalf("the JS peer's DID %s: %v", p.DID, err)
	}
	return d
}

// signer is the party as the JS peer's operations take it back.
func (p jsParty) signer() map[string]any {
	return map[string]any{"did": p.DID, "jwk": p.JWK.Ed25519}
}

// newJSParties has the JS peer mint n parties whose service names mediator.
func newJSParties(t *testing.T, mediator did.DID, n int) []jsParty {
	t.Helper()
	var ops []map[string]any
	for range n {
		ops = append(ops, map[string]any{"op": "newParty", "mediator": mediator.String()})
	}
	var parties []jsParty
	for i, r := range openvtc(t, ops...) {
		var p jsParty
		if err := json.Unmarshal(r.ok(t, "newParty"), &p); err != nil {
			t.Fatal(err)
		}
		// PLANET resolves what the JS peer minted to the same keys.
		doc, err := did.Local.Resolve(context.Background(), p.did(t))
		if err != nil {
			t.Fatalf("party %d: PLANET does not resolve %s: %v", i, p.DID, err)
		}
		x, _ := base64.RawURLEncoding.DecodeString(p.JWK.Ed25519["x"])
		if pub, err := doc.Ed25519Key(p.DID+"#key-1", doc.Authentication); err != nil || !bytes.Equal(pub, x) {
			t.Fatalf("party %d: #key-1 of %s resolves to %x (%v), the JS peer holds %x", i, p.DID, pub, err, x)
		}
		parties = append(parties, p)
	}
	return parties
}

// planetPersona is a PLANET person with a persona did:peer:2 naming their
// mediator (as the page shares it) and a relationship DID.
type planetPersona struct {
	id      *identity.Identity
	persona did.DID
	rel     *identity.Relationship
}

// personaSigner signs as the persona did:peer:2, whose #key-1 is the
// identity's own key.
type personaSigner struct{ planetPersona }

func (p personaSigner) DID() did.DID           { return p.persona }
func (p personaSigner) SigningKeyID() string   { return p.persona.String() + "#key-1" }
func (p personaSigner) Sign(msg []byte) []byte { return p.id.Sign(msg) }

func newPlanetPersona(t *testing.T, seed byte, mediator did.DID) planetPersona {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	persona, err := id.Peer2DID(did.DIDCommService(mediator.String()))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := id.Relationship(0, mediator)
	if err != nil {
		t.Fatal(err)
	}
	return planetPersona{id, persona, rel}
}

// forgedSigner signs with key but names the verification method of
// another DID: a proof by a key that is not the DID's.
type forgedSigner struct {
	as  did.DID
	key ed25519.PrivateKey
}

func (f forgedSigner) DID() did.DID           { return f.as }
func (f forgedSigner) SigningKeyID() string   { return f.as.String() + "#key-1" }
func (f forgedSigner) Sign(msg []byte) []byte { return ed25519.Sign(f.key, msg) }

// wire is m as it is sent: its JSON.
func wire(t *testing.T, m *didcomm.Plaintext) json.RawMessage {
	t.Helper()
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// edit returns data, a JSON object, changed by change.
func edit(t *testing.T, data []byte, change func(map[string]any)) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func body(m map[string]any) map[string]any { return m["body"].(map[string]any) }

var interopMediator = func() did.DID {
	m, _ := identity.FromSeed(bytes.Repeat([]byte{0xee}, 32))
	return m.DID()
}()

// TestInteropHandshakeFromPLANET: a request and an accept that PLANET
// builds pass the OpenVTC-shaped peer's checks, and the same messages
// tampered with do not.
func TestInteropHandshakeFromPLANET(t *testing.T) {
	now := time.Now()
	alice := newPlanetPersona(t, 1, interopMediator)
	js := newJSParties(t, interopMediator, 2)
	bob, bobRel := js[0], js[1]

	// Alice asks Bob; Bob (the JS peer) checks the request.
	req, err := NewRequest(alice.persona, bob.did(t), alice.rel, personaSigner{alice}, "met at the co-op AGM", "Alice", now)
	if err != nil {
		t.Fatal(err)
	}
	reqJSON := wire(t, req)
	other, err := alice.id.Relationship(1, interopMediator)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := SignBinding(Binding{Role: RoleRequest, DID: alice.rel.DID(), Persona: alice.persona, Peer: bob.did(t), Thid: req.ID},
		forgedSigner{as: alice.rel.DID(), key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))}, personaSigner{alice}, now)
	if err != nil {
		t.Fatal(err)
	}
	otherThread, err := NewRequest(alice.persona, bob.did(t), alice.rel, personaSigner{alice}, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	check := func(msg json.RawMessage) map[string]any {
		return map[string]any{"op": "checkRequest", "message": msg, "recipient": bob.DID}
	}
	r := openvtc(t,
		check(reqJSON),
		check(edit(t, reqJSON, func(m map[string]any) { body(m)["did"] = other.DID().String() })),
		check(edit(t, reqJSON, func(m map[string]any) { body(m)["didProof"] = forged.DID })),
		check(edit(t, reqJSON, func(m map[string]any) { delete(body(m), "personaProof") })),
		// The proofs of another handshake (another request id) on this one.
		check(edit(t, reqJSON, func(m map[string]any) {
			var o map[string]any
			_ = json.Unmarshal(wire(t, otherThread), &o)
			body(m)["didProof"], body(m)["personaProof"] = body(o)["didProof"], body(o)["personaProof"]
		})),
		check(edit(t, reqJSON, func(m map[string]any) { m["created_time"] = now.Add(-49 * time.Hour).Unix() })),
		map[string]any{"op": "checkRequest", "message": reqJSON, "recipient": bobRel.DID},
	)
	var got struct {
		DID, Persona, Peer, Thid, Reason, Name string
	}
	if err := json.Unmarshal(r[0].ok(t, "PLANET's request"), &got); err != nil {
		t.Fatal(err)
	}
	if got.DID != alice.rel.DID().String() || got.Persona != alice.persona.String() || got.Thid != req.ID || got.Name != "Alice" || got.Reason != "met at the co-op AGM" {
		t.Errorf("the JS peer read %+v", got)
	}
	r[1].refused(t, "another relationship DID in the body", "the relationship DID's proof")
	r[2].refused(t, "a didProof by another key", "signature does not verify")
	r[3].refused(t, "no personaProof", "no proof from the persona")
	r[4].refused(t, "the proofs of another handshake", "signature does not verify")
	r[5].refused(t, "49 hours old", "older than replay window")
	r[6].refused(t, "delivered to someone else", "not "+bobRel.DID)

	// Bob accepts with PLANET's roles reversed: PLANET accepts the JS
	// peer's request (below); here PLANET's accept goes to the JS peer.
	acc, err := NewAccept(alice.persona, bob.did(t), "bob-request-1", alice.rel, personaSigner{alice}, now)
	if err != nil {
		t.Fatal(err)
	}
	accJSON := wire(t, acc)
	elsewhere, err := NewAccept(alice.persona, bob.did(t), "bob-request-2", alice.rel, personaSigner{alice}, now)
	if err != nil {
		t.Fatal(err)
	}
	checkAcc := func(msg json.RawMessage, thid string) map[string]any {
		return map[string]any{"op": "checkAccept", "message": msg, "thid": thid, "requester": bob.DID}
	}
	r = openvtc(t,
		checkAcc(accJSON, "bob-request-1"),
		checkAcc(accJSON, "bob-request-2"),
		// An accept made for another handshake, re-threaded onto this one.
		checkAcc(edit(t, wire(t, elsewhere), func(m map[string]any) { m["thid"] = "bob-request-1" }), "bob-request-1"),
		checkAcc(edit(t, accJSON, func(m map[string]any) { body(m)["did"] = other.DID().String() }), "bob-request-1"),
		// The request's proofs do not stand for an accept.
		checkAcc(edit(t, accJSON, func(m map[string]any) {
			var o map[string]any
			_ = json.Unmarshal(reqJSON, &o)
			body(m)["didProof"], body(m)["personaProof"] = body(o)["didProof"], body(o)["personaProof"]
		}), "bob-request-1"),
	)
	r[0].ok(t, "PLANET's accept")
	r[1].refused(t, "an accept on another thread", "is not the request's")
	r[2].refused(t, "an accept made for another handshake", "signature does not verify")
	r[3].refused(t, "another relationship DID in the accept", "the relationship DID's proof")
	r[4].refused(t, "a request's proofs on an accept", "signature does not verify")

	// The persona as its own relationship DID needs no persona proof.
	own, err := NewRequest(alice.persona, bob.did(t), personaSigner{alice}, personaSigner{alice}, "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	openvtc(t, check(wire(t, own)))[0].ok(t, "a request naming the persona itself")
}

// received parses a message the JS peer built, as PLANET receives it, and
// checks its time window.
func received(t *testing.T, data []byte, now time.Time) *didcomm.Plaintext {
	t.Helper()
	m, err := didcomm.ParsePlaintext(data)
	if err != nil {
		t.Fatalf("PLANET does not read the JS peer's message %s: %v", data, err)
	}
	if err := CheckWindow(m, now); err != nil {
		t.Fatal(err)
	}
	if !m.Expires.Equal(m.Created.Add(MessageLifetime)) {
		t.Errorf("the JS peer's message expires %s, created %s", m.Expires, m.Created)
	}
	return m
}

// TestInteropHandshakeFromOpenVTC: the OpenVTC-shaped peer's request,
// accept, reject and finalize read in PLANET, their proofs verifying, and
// refused once tampered with.
func TestInteropHandshakeFromOpenVTC(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	alice := newPlanetPersona(t, 1, interopMediator)
	js := newJSParties(t, interopMediator, 3)
	bob, bobRel, carol := js[0], js[1], js[2]

	r := openvtc(t,
		map[string]any{"op": "relationshipRequest", "persona": bob.signer(), "rel": bobRel.signer(), "peerDID": alice.persona.String(), "reason": "met at the co-op AGM", "name": "Bob"},
		map[string]any{"op": "relationshipAccept", "persona": bob.signer(), "rel": bobRel.signer(), "peerDID": alice.persona.String(), "thid": "alice-request-1"},
		map[string]any{"op": "relationshipAccept", "persona": bob.signer(), "rel": bobRel.signer(), "peerDID": alice.persona.String(), "thid": "alice-request-2"},
		map[string]any{"op": "relationshipReject", "persona": bob.DID, "peerDID": alice.persona.String(), "thid": "alice-request-1"},
		map[string]any{"op": "relationshipFinalize", "persona": bob.DID, "peerDID": alice.persona.String(), "thid": "alice-request-1"},
		// A proof naming bobRel's #key-1, made with the persona's key.
		map[string]any{"op": "signBinding", "statement": map[string]any{"role": "request", "did": bobRel.DID, "persona": bob.DID, "peer": alice.persona.String(), "thid": "x"},
			"signer": map[string]any{"did": bobRel.DID, "jwk": bob.JWK.Ed25519}},
	)
	reqJSON, accJSON, acc2JSON := r[0].ok(t, "request"), r[1].ok(t, "accept"), r[2].ok(t, "accept")

	// The request.
	req := received(t, reqJSON, now)
	if req.Thid != "" || req.Type != TypeRelationshipRequest || req.From.String() != bob.DID {
		t.Fatalf("request %+v", req)
	}
	rb, err := DecodeRequest(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if rb.DID.String() != bobRel.DID || rb.Name != "Bob" || rb.Reason != "met at the co-op AGM" {
		t.Errorf("request body %+v", rb)
	}
	b := RequestBinding(req, rb, alice.persona)
	if err := VerifyBinding(ctx, did.Local, b, rb.Proofs, now); err != nil {
		t.Fatalf("the JS peer's request: %v", err)
	}
	for name, alter := range map[string]func(*Binding){
		"another thread":  func(b *Binding) { b.Thid = "another" },
		"as an accept":    func(b *Binding) { b.Role = RoleAccept },
		"to another peer": func(b *Binding) { b.Peer = alice.id.DID() },
		"another DID":     func(b *Binding) { b.DID = carol.did(t) },
		"another persona": func(b *Binding) { b.Persona = carol.did(t) },
	} {
		bb := b
		alter(&bb)
		if err := VerifyBinding(ctx, did.Local, bb, rb.Proofs, now); !errors.Is(err, ErrBindingProof) {
			t.Errorf("request, %s: %v", name, err)
		}
	}
	// Tampered on the wire: what PLANET derives from the message changes.
	tampered := func(change func(map[string]any)) error {
		m, err := didcomm.ParsePlaintext(edit(t, reqJSON, change))
		if err != nil {
			return err
		}
		body, err := DecodeRequest(m.Body)
		if err != nil {
			return err
		}
		return VerifyBinding(ctx, did.Local, RequestBinding(m, body, alice.persona), body.Proofs, now)
	}
	var forged map[string]any
	if err := json.Unmarshal(r[5].ok(t, "forged proof"), &forged); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(map[string]any){
		"another DID in the body": func(m map[string]any) { body(m)["did"] = carol.DID },
		"another id":              func(m map[string]any) { m["id"] = "another-handshake" },
		"another sender":          func(m map[string]any) { m["from"] = carol.DID },
		"a proof by another key":  func(m map[string]any) { body(m)["didProof"] = forged },
		"the persona proof moved": func(m map[string]any) { body(m)["didProof"] = body(m)["personaProof"] },
	} {
		if err := tampered(change); !errors.Is(err, ErrBindingProof) {
			t.Errorf("request, %s: %v", name, err)
		}
	}
	if err := tampered(func(m map[string]any) { delete(body(m), "personaProof") }); !errors.Is(err, ErrMissingPersonaProof) {
		t.Errorf("request without a persona proof: %v", err)
	}

	// The accept of Alice's request alice-request-1.
	acc := received(t, accJSON, now)
	if acc.Thid != "alice-request-1" || acc.Type != TypeRelationshipAccept {
		t.Fatalf("accept %+v", acc)
	}
	ab, err := DecodeAccept(acc.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBinding(ctx, did.Local, AcceptBinding(acc, ab, alice.persona), ab.Proofs, now); err != nil {
		t.Fatalf("the JS peer's accept: %v", err)
	}
	// One made for alice-request-2, re-threaded onto alice-request-1.
	moved, err := didcomm.ParsePlaintext(edit(t, acc2JSON, func(m map[string]any) { m["thid"] = "alice-request-1" }))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := DecodeAccept(moved.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBinding(ctx, did.Local, AcceptBinding(moved, mb, alice.persona), mb.Proofs, now); !errors.Is(err, ErrBindingProof) {
		t.Errorf("an accept from another handshake: %v", err)
	}
	// The request's proofs do not stand for an accept.
	if err := VerifyBinding(ctx, did.Local, Binding{Role: RoleAccept, DID: rb.DID, Persona: req.From, Peer: alice.persona, Thid: req.ID}, rb.Proofs, now); !errors.Is(err, ErrBindingProof) {
		t.Errorf("a request's proofs as an accept's: %v", err)
	}

	// Reject and finalize.
	rej := received(t, r[3].ok(t, "reject"), now)
	if rb, err := DecodeReject(rej.Body); err != nil || rb.Reason != nil || rej.Thid != "alice-request-1" {
		t.Errorf("reject %s: %+v %v", rej.Body, rb, err)
	}
	fin := received(t, r[4].ok(t, "finalize"), now)
	if err := DecodeFinalize(fin.Body); err != nil || fin.Thid != "alice-request-1" || fin.Type != TypeRelationshipFinalize {
		t.Errorf("finalize %+v: %v", fin, err)
	}
}

// TestInteropVRC: a VRC PLANET issues verifies in the OpenVTC-shaped peer
// and one it issues verifies in PLANET, both sides computing the same
// digestMultibase; tampered ones are refused on both sides.
func TestInteropVRC(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	alice := newPlanetPersona(t, 1, interopMediator)
	js := newJSParties(t, interopMediator, 2)
	bob, bobRel := js[0], js[1]

	// PLANET → OpenVTC.
	c, err := vc.IssueRelationshipAs(alice.rel, vc.IssuerScopePairwise, bobRel.did(t), vc.RelationshipContext{Context: "met at the co-op AGM"}, now, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	raw := json.RawMessage(data)
	want, err := vc.DigestMultibase(raw)
	if err != nil {
		t.Fatal(err)
	}
	verifyJS := func(cred json.RawMessage) map[string]any {
		return map[string]any{"op": "verifyVRC", "credential": cred}
	}
	req, err := NewVRCRequest(bobRel.did(t), alice.rel.DID(), "", now)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := NewVRCIssued(alice.rel.DID(), bobRel.did(t), req.ID, c, now)
	if err != nil {
		t.Fatal(err)
	}
	var issuedMsg map[string]any
	if err := json.Unmarshal(wire(t, issued), &issuedMsg); err != nil {
		t.Fatal(err)
	}
	fromMessage, _ := json.Marshal(issuedMsg["body"])
	r := openvtc(t,
		verifyJS(raw),
		verifyJS(fromMessage),
		map[string]any{"op": "digestMultibase", "credential": raw},
		verifyJS(edit(t, raw, func(m map[string]any) { m["credentialSubject"].(map[string]any)["id"] = bob.DID })),
		verifyJS(edit(t, raw, func(m map[string]any) {
			m["@context"] = []any{vc.ContextCredentialsV2, vc.ContextRetiredDTG}
		})),
		verifyJS(edit(t, raw, func(m map[string]any) {
			m["proof"].(map[string]any)["verificationMethod"] = alice.rel.KeyAgreementKeyID()
		})),
		verifyJS(edit(t, raw, func(m map[string]any) { m["type"] = []any{"VerifiableCredential", "RelationshipCredential"} })),
		// Signed by the persona's key but naming the relationship DID's.
		verifyJS(func() json.RawMessage {
			f, err := vc.IssueRelationshipAs(forgedSigner{as: alice.rel.DID(), key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))}, vc.IssuerScopePairwise, bobRel.did(t), vc.RelationshipContext{}, now, time.Time{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := f.MarshalJSON()
			return data
		}()),
	)
	var got struct{ DigestMultibase string }
	if err := json.Unmarshal(r[0].ok(t, "PLANET's VRC"), &got); err != nil {
		t.Fatal(err)
	}
	if got.DigestMultibase != want {
		t.Errorf("digestMultibase: the JS peer %s, PLANET %s", got.DigestMultibase, want)
	}
	r[1].ok(t, "PLANET's VRC from its issued message")
	var digest string
	if err := json.Unmarshal(r[2].ok(t, "digestMultibase"), &digest); err != nil || digest != want {
		t.Errorf("digestMultibase %s %v, want %s", digest, err, want)
	}
	r[3].refused(t, "another subject", "signature does not verify")
	r[4].refused(t, "the retired context", "retired")
	r[5].refused(t, "a proof by the key agreement key", "not listed under assertionMethod")
	r[6].refused(t, "no DTGCredential type", "DTGCredential")
	r[7].refused(t, "a proof by another key", "signature does not verify")

	// OpenVTC → PLANET.
	r = openvtc(t,
		map[string]any{"op": "issueVRC", "issuer": bobRel.signer(), "subjectDID": alice.rel.DID().String()},
		map[string]any{"op": "issueVRC", "issuer": map[string]any{"did": bobRel.DID, "jwk": bob.JWK.Ed25519}, "subjectDID": alice.rel.DID().String()},
		map[string]any{"op": "issueVRC", "issuer": map[string]any{"did": bobRel.DID, "jwk": bobRel.JWK.Ed25519, "kid": bobRel.DID + "#key-2"}, "subjectDID": alice.rel.DID().String()},
	)
	jsVRC := r[0].ok(t, "issueVRC")
	now = time.Now() // the JS peer issued it valid from its own now
	parsed, err := vc.Parse(jsVRC)
	if err != nil {
		t.Fatalf("PLANET does not read the JS peer's VRC: %v\n%s", err, jsVRC)
	}
	if err := (vc.Verifier{Resolver: did.Local}).Verify(ctx, parsed, now); err != nil {
		t.Fatalf("the JS peer's VRC: %v\n%s", err, jsVRC)
	}
	if parsed.IssuerScope != vc.IssuerScopePairwise || parsed.ConcreteType() != vc.TypeRelationshipCredential || parsed.Subject.ID != alice.rel.DID() {
		t.Errorf("the JS peer's VRC %+v", parsed)
	}
	planetDigest, err := vc.DigestMultibase(jsVRC)
	if err != nil {
		t.Fatal(err)
	}
	r2 := openvtc(t,
		map[string]any{"op": "vrcIssued", "from": bobRel.DID, "to": alice.rel.DID().String(), "thid": "vrc-request-1", "credential": jsVRC},
		map[string]any{"op": "digestMultibase", "credential": jsVRC},
		map[string]any{"op": "vrcRequest", "from": alice.rel.DID().String(), "to": bobRel.DID, "reason": "for the register"},
	)
	var jsDigest string
	if err := json.Unmarshal(r2[1].ok(t, "digestMultibase"), &jsDigest); err != nil || jsDigest != planetDigest {
		t.Errorf("digestMultibase of the JS peer's VRC: JS %s, PLANET %s (%v)", jsDigest, planetDigest, err)
	}
	msg := received(t, r2[0].ok(t, "vrcIssued"), now)
	if msg.Thid != "vrc-request-1" || msg.Type != TypeVRCIssued {
		t.Errorf("vrc issued %+v", msg)
	}
	fromMsg, err := DecodeVRCIssued(msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.Verify(fromMsg, now); err != nil {
		t.Errorf("the JS peer's VRC from its issued message: %v", err)
	}
	if d, _ := vc.DigestMultibase(msg.Body); d != planetDigest {
		t.Errorf("the VRC's digest changed on its way: %s, %s", d, planetDigest)
	}
	vreq := received(t, r2[2].ok(t, "vrcRequest"), now)
	if b, err := DecodeVRCRequest(vreq.Body); err != nil || b.Reason != "for the register" || vreq.Thid != "" {
		t.Errorf("vrc request %s: %v", vreq.Body, err)
	}

	refused := func(name string, data []byte) {
		t.Helper()
		c, err := vc.Parse(data)
		if err == nil {
			err = vc.Verify(c, now)
		}
		if !errors.Is(err, vc.ErrInvalidCredential) {
			t.Errorf("the JS peer's VRC, %s: %v", name, err)
		}
	}
	refused("another subject", edit(t, jsVRC, func(m map[string]any) { m["credentialSubject"].(map[string]any)["id"] = bob.DID }))
	refused("another validFrom", edit(t, jsVRC, func(m map[string]any) { m["validFrom"] = "2026-01-01T00:00:00Z" }))
	refused("the retired context", edit(t, jsVRC, func(m map[string]any) {
		m["@context"] = []any{vc.ContextCredentialsV2, vc.ContextRetiredDTG}
	}))
	refused("a proof by another key", r[1].ok(t, "issueVRC by the persona's key"))
	refused("a proof by the key agreement key", r[2].ok(t, "issueVRC by #key-2"))
}
