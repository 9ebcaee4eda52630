package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"planet/core/did"
	"planet/core/keys"
)

var update = flag.Bool("update", false, "rewrite the golden DIDs in testdata/relationships.json")

type relationshipVectors struct {
	Description string `json:"description"`
	Mediator    string `json:"mediator"`
	Vectors     []struct {
		Seed          string `json:"seed"`
		Index         uint32 `json:"index"`
		Ed25519Seed   string `json:"ed25519Seed"`
		X25519Private string `json:"x25519Private"`
		DID           string `json:"did"`
	} `json:"vectors"`
}

// TestRelationshipVectors checks the derivation against HKDF outputs
// computed elsewhere, and the DIDs against the golden file.
func TestRelationshipVectors(t *testing.T) {
	const file = "testdata/relationships.json"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var vs relationshipVectors
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	mediator, err := did.Parse(vs.Mediator)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs.Vectors {
		seed, _ := hex.DecodeString(v.Seed)
		id, err := FromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		edSeed := hex.EncodeToString(deriveRelationshipKey(seed, relationshipSigningLabel, v.Index))
		xPriv := hex.EncodeToString(deriveRelationshipKey(seed, relationshipAgreementLabel, v.Index))
		if edSeed != v.Ed25519Seed || xPriv != v.X25519Private {
			t.Errorf("vector %d: derived %s / %s", i, edSeed, xPriv)
		}
		r, err := id.Relationship(v.Index, mediator)
		if err != nil {
			t.Fatal(err)
		}
		wantPub := ed25519.NewKeyFromSeed(mustHex(t, v.Ed25519Seed)).Public().(ed25519.PublicKey)
		if !r.PublicKey().Equal(wantPub) {
			t.Errorf("vector %d: signing key is not the one of ed25519Seed", i)
		}
		xk, _ := ecdh.X25519().NewPrivateKey(mustHex(t, v.X25519Private))
		if !bytes.Equal(r.X25519Public(), xk.PublicKey().Bytes()) {
			t.Errorf("vector %d: key agreement key is not the one of x25519Private", i)
		}
		if *update {
			vs.Vectors[i].DID = r.DID().String()
		} else if r.DID().String() != v.DID {
			t.Errorf("vector %d: DID %s, want %s", i, r.DID(), v.DID)
		}
	}
	if *update {
		out, _ := json.MarshalIndent(vs, "", "  ")
		if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRelationshipDID checks the shape OpenVTC mints: V then E, "#key-1"
// signs (authentication and assertionMethod), "#key-2" agrees, one
// DIDCommMessaging service naming the mediator and accepting didcomm/v2.
func TestRelationshipDID(t *testing.T) {
	id, _ := FromSeed(make([]byte, 32))
	mediator := did.FromEd25519(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey))
	r, err := id.Relationship(3, mediator)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.Resolve(r.DID())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := doc.Ed25519Key(r.SigningKeyID(), doc.Authentication); err != nil || !got.Equal(r.PublicKey()) {
		t.Errorf("#key-1 for authentication: %v", err)
	}
	if _, err := doc.Ed25519Key(r.SigningKeyID(), doc.AssertionMethod); err != nil {
		t.Errorf("#key-1 for assertionMethod: %v", err)
	}
	if len(doc.KeyAgreement) != 1 || doc.Absolute(doc.KeyAgreement[0]) != r.KeyAgreementKeyID() {
		t.Errorf("keyAgreement %v", doc.KeyAgreement)
	}
	vm, _ := doc.FindVerificationMethod(r.KeyAgreementKeyID())
	if vm.PublicKeyMultibase != keys.X25519Multikey(r.X25519Public()) {
		t.Errorf("#key-2 is %s", vm.PublicKeyMultibase)
	}
	if len(doc.Service) != 1 || doc.Service[0].Type != did.ServiceTypeDIDCommMessaging {
		t.Fatalf("services %+v", doc.Service)
	}
	ep := doc.Service[0].ServiceEndpoint.(map[string]any)
	if ep["uri"] != mediator.String() || fmt.Sprint(ep["accept"]) != "[didcomm/v2]" {
		t.Errorf("endpoint %v", ep)
	}
	if !strings.Contains(r.DID().String(), ".S") || r.Index() != 3 || r.Mediator() != mediator {
		t.Errorf("relationship %v", r)
	}
	// Another index, another DID sharing no key with it nor with the person.
	r2, _ := id.Relationship(4, mediator)
	if r2.DID() == r.DID() || r2.PublicKey().Equal(r.PublicKey()) || r.PublicKey().Equal(id.PublicKey()) {
		t.Error("relationships share keys")
	}
	// The X25519 key is not the Ed25519 one converted.
	conv, _ := keys.X25519PublicFromEd25519(r.PublicKey())
	if bytes.Equal(conv, r.X25519Public()) {
		t.Error("key agreement key converted from the signing key")
	}
	// Signatures verify with the document's key.
	msg := []byte("binding")
	if !ed25519.Verify(r.PublicKey(), msg, r.Sign(msg)) {
		t.Error("signature does not verify")
	}
	if _, err := id.Relationship(0, did.DID{}); err == nil {
		t.Error("no mediator accepted")
	}
}

// TestRelationshipECDH checks key agreement both ways, and through the
// keyring by kid.
func TestRelationshipECDH(t *testing.T) {
	alice, _ := FromSeed(bytes.Repeat([]byte{1}, 32))
	bob, _ := FromSeed(bytes.Repeat([]byte{2}, 32))
	mediator := alice.DID()
	ra, _ := alice.Relationship(0, mediator)
	rb, _ := bob.Relationship(0, mediator)
	s1, err := ra.ECDH(rb.X25519Public())
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := rb.ECDH(ra.X25519Public())
	if !bytes.Equal(s1, s2) {
		t.Error("shared secrets differ")
	}
	priv, _ := ecdh.X25519().NewPrivateKey(ra.X25519Private())
	if !bytes.Equal(priv.PublicKey().Bytes(), ra.X25519Public()) {
		t.Error("X25519Private does not match X25519Public")
	}
	if _, err := ra.ECDH(make([]byte, 32)); err == nil {
		t.Error("small-order peer key accepted")
	}
	// The identity agrees as its did:key key agreement key.
	i1, _ := alice.ECDH(bob.X25519Public())
	i2, _ := bob.ECDH(alice.X25519Public())
	if !bytes.Equal(i1, i2) {
		t.Error("identity shared secrets differ")
	}
	doc, _ := alice.DID().Document()
	if doc.Absolute(doc.KeyAgreement[0]) != alice.KeyAgreementKeyID() || doc.Absolute(doc.AssertionMethod[0]) != alice.SigningKeyID() {
		t.Errorf("identity kids %s %s", alice.KeyAgreementKeyID(), alice.SigningKeyID())
	}

	ring := NewKeyring(alice, ra)
	if a, ok := ring.KeyAgreement(ra.KeyAgreementKeyID()); !ok || a != KeyAgreer(ra) {
		t.Error("keyring lacks the relationship's key agreement key")
	}
	if s, ok := ring.Signer(alice.SigningKeyID()); !ok || s != Signer(alice) {
		t.Error("keyring lacks the identity's signing key")
	}
	if _, ok := ring.Signer(rb.SigningKeyID()); ok {
		t.Error("keyring holds bob's key")
	}
	got := ring.KeyAgreementIDs([]string{rb.KeyAgreementKeyID(), ra.KeyAgreementKeyID(), alice.KeyAgreementKeyID()})
	if len(got) != 2 || got[0] != ra.KeyAgreementKeyID() {
		t.Errorf("KeyAgreementIDs = %v", got)
	}
}

// TestRelationshipSecretsNeverPrint checks every fmt verb, and that a wiped
// relationship refuses to use its keys.
func TestRelationshipSecretsNeverPrint(t *testing.T) {
	id, _ := FromSeed(bytes.Repeat([]byte{9}, 32))
	r, _ := id.Relationship(0, id.DID())
	secret := hex.EncodeToString(r.X25519Private())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{r, *r, struct{ R *Relationship }{r}} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(strings.ToLower(out), secret[:16]) {
				t.Errorf("%s printed the key: %s", verb, out)
			}
		}
	}
	if got := fmt.Sprint(r); got != "Relationship("+r.DID().String()+")" {
		t.Errorf("Sprint = %s", got)
	}
	r.Wipe()
	r.Wipe()
	_ = r.DID()
	for name, f := range map[string]func(){
		"Sign":          func() { r.Sign(nil) },
		"ECDH":          func() { r.ECDH(id.X25519Public()) },
		"X25519Private": func() { r.X25519Private() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s after Wipe did not panic", name)
				}
			}()
			f()
		}()
	}
}
