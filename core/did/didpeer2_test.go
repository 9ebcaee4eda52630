package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"planet/core/internal/vectors"
	"planet/core/keys"
)

// peer2Vector is one file of testdata/didpeer/valid: a did:peer:2 and the
// document it resolves to.
type peer2Vector struct {
	Description string          `json:"description"`
	DID         string          `json:"did"`
	Document    json.RawMessage `json:"didDocument,omitempty"`
}

func readPeer2Vectors(tb testing.TB) map[string]peer2Vector {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "didpeer", "valid", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no did:peer:2 vectors: %v", err)
	}
	vectors := make(map[string]peer2Vector)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		var v peer2Vector
		if err := json.Unmarshal(data, &v); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		vectors[name] = v
	}
	return vectors
}

// TestPeer2Golden resolves each vector in testdata/didpeer/valid and checks
// the document against the one in the file. Run with -update to write the
// documents after a deliberate change (or into a new vector that has only a
// description and a did), and review the diff.
func TestPeer2Golden(t *testing.T) {
	for name, v := range readPeer2Vectors(t) {
		d, err := Parse(v.DID)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		doc, err := Resolve(d)
		if err != nil {
			t.Errorf("%s: Resolve: %v", name, err)
			continue
		}
		checkPeer2Document(t, d, doc)
		docJSON, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		v.Document = docJSON
		got, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: document differs from the file:\n%s", name, got)
		}
	}
}

// checkPeer2Document checks what must hold of every did:peer:2 document.
func checkPeer2Document(t *testing.T, d DID, doc *Document) {
	t.Helper()
	if doc.ID != d.String() {
		t.Fatalf("%s: document id %q", d, doc.ID)
	}
	ids := make(map[string]bool)
	for i, vm := range doc.VerificationMethod {
		if want := "#key-" + strconv.Itoa(i+1); vm.ID != want {
			t.Errorf("%s: verification method %d has id %q, want %q", d, i, vm.ID, want)
		}
		if vm.Controller != d.String() || vm.Type != MultikeyType {
			t.Errorf("%s: verification method %s: controller %q, type %q", d, vm.ID, vm.Controller, vm.Type)
		}
		ids[vm.ID] = true
	}
	refs := len(doc.VerificationMethod)
	for _, ref := range doc.Authentication {
		// A V key is listed under assertionMethod too (see didpeer2.go).
		if !slices.Contains(doc.AssertionMethod, ref) {
			t.Errorf("%s: authentication key %q is not an assertion method", d, ref)
		}
		refs++
	}
	for _, rel := range [][]string{doc.Authentication, doc.AssertionMethod, doc.KeyAgreement, doc.CapabilityInvocation, doc.CapabilityDelegation} {
		for _, ref := range rel {
			if !ids[ref] {
				t.Errorf("%s: relationship names %q, which is not a verification method", d, ref)
			}
			refs--
		}
	}
	if refs != 0 {
		t.Errorf("%s: %d relationship entries more than one a key (two a V key)", d, -refs)
	}
	for _, s := range doc.Service {
		if s.ID == "" || ids[s.ID] {
			t.Errorf("%s: service id %q is empty or not unique", d, s.ID)
		}
		ids[s.ID] = true
	}
}

// TestPeer2SpecDocument checks one vector against the document that the DIF
// Peer DID Method Specification gives for it, written out by hand rather
// than generated. One difference is deliberate: the V key is listed under
// assertionMethod too, as OpenVTC's resolver lists it (see didpeer2.go).
func TestPeer2SpecDocument(t *testing.T) {
	const did = "did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9kaWRjb21tIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0xIl19fQ.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9hbm90aGVyIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0yIl19fQ"
	want := `{
	  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
	  "id": "` + did + `",
	  "verificationMethod": [
	    {"id": "#key-1", "type": "Multikey", "controller": "` + did + `",
	     "publicKeyMultibase": "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"},
	    {"id": "#key-2", "type": "Multikey", "controller": "` + did + `",
	     "publicKeyMultibase": "z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR"}
	  ],
	  "authentication": ["#key-1"],
	  "assertionMethod": ["#key-1"],
	  "keyAgreement": ["#key-2"],
	  "service": [
	    {"id": "#service", "type": "DIDCommMessaging",
	     "serviceEndpoint": {"uri": "http://example.com/didcomm", "accept": ["didcomm/v2"],
	                         "routingKeys": ["did:example:123456789abcdefghi#key-1"]}},
	    {"id": "#service-1", "type": "DIDCommMessaging",
	     "serviceEndpoint": {"uri": "http://example.com/another", "accept": ["didcomm/v2"],
	                         "routingKeys": ["did:example:123456789abcdefghi#key-2"]}}
	  ]
	}`
	d, err := Parse(did)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Resolve(d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(doc)
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
}

func TestPeer2Invalid(t *testing.T) {
	for _, c := range vectors.Lines(t, "didpeer/invalid.txt") {
		if c.Reason == "" {
			t.Errorf("invalid.txt:%d: case has no comment saying why it is invalid", c.Line)
		}
		_, err := Parse(c.In)
		if err == nil {
			t.Errorf("invalid.txt:%d: Parse(%q) succeeded; want error (%s)", c.Line, c.In, c.Reason)
			continue
		}
		if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupportedMethod) {
			t.Errorf("invalid.txt:%d: Parse = %v; want only ErrInvalid (%s)", c.Line, err, c.Reason)
		}
	}
}

// TestPeer2ErrorMessages checks that errors say which element is wrong and
// how.
func TestPeer2ErrorMessages(t *testing.T) {
	const v = ".Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"
	tests := []struct{ in, want string }{
		{"did:peer:2", `invalid did: did:peer numalgo 2 must be followed by "." and an element`},
		{"did:peer:2" + v + ".", "invalid did: did:peer numalgo 2 element 2 is empty"},
		{"did:peer:2.Xz6Mk", `invalid did: did:peer numalgo 2 element 1 has unknown purpose code "X"`},
		{
			"did:peer:2.VzQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N",
			"invalid did: did:peer numalgo 2 element 1: multikey holds unsupported key type secp256k1-pub (0xe7): only ed25519-pub (0xed) and x25519-pub (0xec) are accepted",
		},
		{
			"did:peer:2.Ez6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc",
			"invalid did: did:peer numalgo 2 element 1: keyAgreement key must be x25519-pub (0xec), not ed25519-pub (0xed)",
		},
		{
			"did:peer:2.Vz6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR",
			"invalid did: did:peer numalgo 2 element 1: authentication key must be ed25519-pub (0xed), not x25519-pub (0xec)",
		},
		{"did:peer:2.E" + keys.EncodeMultikey(keys.CodecX25519Pub, make([]byte, 31)), "invalid did: did:peer numalgo 2 element 1: x25519 public key is 31 bytes, want 32"},
		{"did:peer:2" + v + ".SaGVsbG8", "invalid did: did:peer numalgo 2 element 2: service is not JSON: invalid character 'h' looking for beginning of value"},
		{"did:peer:2" + v + ".Se31", "invalid did: did:peer numalgo 2 element 2: service is not base64url without padding: illegal base64 data at input byte 2"},
		{"did:peer:2" + v + ".SeyJ0IjoiZG0ifQ", "invalid did: did:peer numalgo 2 element 2: service has no serviceEndpoint"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.in, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// peer2KeysOf returns the keys of a did:peer:2 document with their purposes,
// in the order of its verification methods.
func peer2KeysOf(tb testing.TB, doc *Document) []Peer2Key {
	tb.Helper()
	purposes := map[Peer2Purpose][]string{
		Peer2Authentication:       doc.Authentication,
		Peer2Assertion:            doc.AssertionMethod,
		Peer2KeyAgreement:         doc.KeyAgreement,
		Peer2CapabilityInvocation: doc.CapabilityInvocation,
		Peer2CapabilityDelegation: doc.CapabilityDelegation,
	}
	var keys []Peer2Key
	for _, vm := range doc.VerificationMethod {
		var found []Peer2Purpose
		for p, refs := range purposes {
			if slices.Contains(refs, vm.ID) {
				found = append(found, p)
			}
		}
		// A V key is listed under authentication and assertionMethod
		// both (see didpeer2.go); every other key under one relationship.
		if len(found) == 2 && slices.Contains(found, Peer2Authentication) && slices.Contains(found, Peer2Assertion) {
			found = []Peer2Purpose{Peer2Authentication}
		}
		if len(found) != 1 {
			tb.Fatalf("%s: key %s is in %d relationships, want 1", doc.ID, vm.ID, len(found))
		}
		keys = append(keys, Peer2Key{Purpose: found[0], Multikey: vm.PublicKeyMultibase})
	}
	return keys
}

// TestNewPeer2Vectors makes each vector's DID again from its document's keys
// and services. The DIDs that come from the specification, those that
// PLANET made, and those in OpenVTC's spelling come out byte for byte the
// same, from NewPeer2 or (OpenVTC's) NewPeer2Unabbreviated.
func TestNewPeer2Vectors(t *testing.T) {
	for name, v := range readPeer2Vectors(t) {
		var doc Document
		if err := json.Unmarshal(v.Document, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := NewPeer2(peer2KeysOf(t, &doc), doc.Service...)
		if err != nil {
			t.Errorf("%s: NewPeer2: %v", name, err)
			continue
		}
		if d.String() != v.DID {
			// OpenVTC's spelling: the endpoint written in full.
			d, err = NewPeer2Unabbreviated(peer2KeysOf(t, &doc), doc.Service...)
			if err != nil {
				t.Errorf("%s: NewPeer2Unabbreviated: %v", name, err)
				continue
			}
		}
		if d.String() != v.DID {
			t.Errorf("%s: NewPeer2 =\n %s\nwant\n %s", name, d, v.DID)
		}
	}
}

// TestPeer2KeysVectors checks the did:peer:2 a PLANET identity makes (the
// Ed25519 key of the zero seed and its X25519 key) against the vectors.
func TestPeer2KeysVectors(t *testing.T) {
	seed := make([]byte, 32)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vectors := readPeer2Vectors(t)
	for file, services := range map[string][]Service{
		"planet-identity.json":         nil,
		"planet-identity-didcomm.json": {DIDCommService("https://relay.example.org/didcomm")},
	} {
		d, err := NewPeer2(Peer2Keys(pub), services...)
		if err != nil {
			t.Fatal(err)
		}
		want := vectors[filepath.Join("testdata", "didpeer", "valid", file)].DID
		if d.String() != want {
			t.Errorf("NewPeer2(Peer2Keys(pub), %v) = %s, want %s", services, d, want)
		}
		doc, err := Resolve(d)
		if err != nil {
			t.Fatal(err)
		}
		// The same keys as the identity's did:key document.
		keyDoc, _ := FromEd25519(pub).Document()
		if doc.VerificationMethod[0].PublicKeyMultibase != keyDoc.VerificationMethod[0].PublicKeyMultibase ||
			doc.VerificationMethod[1].PublicKeyMultibase != keyDoc.VerificationMethod[1].PublicKeyMultibase {
			t.Errorf("%s: keys differ from those of %s", d, FromEd25519(pub))
		}
	}
}

func TestNewPeer2Errors(t *testing.T) {
	ed := "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"
	x := "z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR"
	good := Service{Type: "LinkedDomains", ServiceEndpoint: "https://example.com/"}
	many := make([]Service, 70)
	for i := range many {
		many[i] = good
	}
	tests := []struct {
		name     string
		keys     []Peer2Key
		services []Service
		want     string
	}{
		{"nothing", nil, nil, "invalid did: did:peer:2 needs at least one key or service"},
		{"purpose", []Peer2Key{{'S', ed}}, nil, `invalid did: did:peer:2 key 1: unknown purpose code "S"`},
		{"zero purpose", []Peer2Key{{0, ed}}, nil, `invalid did: did:peer:2 key 1: unknown purpose code "\x00"`},
		{"key for purpose", []Peer2Key{{Peer2KeyAgreement, x}, {Peer2Assertion, x}}, nil,
			"invalid did: did:peer:2 key 2: assertionMethod key must be ed25519-pub (0xed), not x25519-pub (0xec)"},
		{"no type", nil, []Service{{ServiceEndpoint: "https://example.com/"}},
			"invalid did: did:peer:2 service 1: service has no type, or one that is not a non-empty string"},
		{"no endpoint", nil, []Service{good, {Type: "X"}}, "invalid did: did:peer:2 service 2: service endpoint is neither a string, an object nor a list"},
		{"extra shadows a field", nil, []Service{{Type: "X", ServiceEndpoint: "u", Extra: map[string]any{"type": "Y"}}},
			`invalid did: did:peer:2 service 1: service extra property "type" is one of its own fields`},
		{"extra not JSON", nil, []Service{{Type: "X", ServiceEndpoint: "u", Extra: map[string]any{"f": func() {}}}},
			"invalid did: did:peer:2 service 1: service f: json: unsupported type: func()"},
		// Written out, "t" would be read as type, "r" as routingKeys.
		{"extra abbreviation", nil, []Service{{Type: "X", ServiceEndpoint: "u", Extra: map[string]any{"t": "Y"}}},
			`invalid did: did:peer:2 service 1: service property "t" cannot be written in a did:peer:2: it would be read as "type"`},
		{"endpoint abbreviation", nil, []Service{{Type: "X", ServiceEndpoint: []any{"u", map[string]any{"r": "Y"}}}},
			`invalid did: did:peer:2 service 1: service endpoint 2 property "r" cannot be written in a did:peer:2: it would be read as "routingKeys"`},
		{"duplicate id", nil, []Service{{ID: "#a", Type: "X", ServiceEndpoint: "u"}, {ID: "#a", Type: "X", ServiceEndpoint: "u"}},
			`invalid did: did:peer numalgo 2 element 2: service id "#a" is used twice`},
		{"too long", nil, many, "invalid did: longer than 4096 bytes"},
	}
	for _, tt := range tests {
		d, err := NewPeer2(tt.keys, tt.services...)
		if err == nil {
			t.Errorf("%s: NewPeer2 = %s, want an error", tt.name, d)
			continue
		}
		if !errors.Is(err, ErrInvalid) || err.Error() != tt.want {
			t.Errorf("%s: NewPeer2 error:\n got %v\nwant %s", tt.name, err, tt.want)
		}
		if !d.IsZero() {
			t.Errorf("%s: NewPeer2 returned %s with an error", tt.name, d)
		}
	}
}

// TestNewPeer2ServiceID checks that an id equal to the one resolution gives
// anyway is left out of the DID, and any other is kept.
func TestNewPeer2ServiceID(t *testing.T) {
	keys := []Peer2Key{{Peer2Authentication, "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"}}
	plain := DIDCommService("https://example.com/")
	named := plain
	named.ID = "#service"
	a, err := NewPeer2(keys, plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPeer2(keys, named)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("default id written into the DID: %s != %s", a, b)
	}
	named.ID = "#mediator"
	c, err := NewPeer2(keys, plain, named)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Resolve(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{doc.Service[0].ID, doc.Service[1].ID}; !slices.Equal(got, []string{"#service", "#mediator"}) {
		t.Errorf("service ids %q", got)
	}
}

func TestResolve(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		d, _ := Parse(v.DID)
		got, err := Resolve(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		want, _ := d.Document()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Resolve differs from Document", d)
		}
	}
	for _, s := range []string{
		"did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V",
		"did:peer:1zQmZMygzYqNwU6Uhmewx5Xepf2VLp5S4HLSwwgf2aiKZuwa",
		"did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9",
		"did:peer:4zQmd8CpeFPci817KDsbSAKWcXAE2mjvCQSasRewvbSF54Bd",
	} {
		d, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Resolve(d)
		if !errors.Is(err, ErrUnsupportedMethod) || errors.Is(err, ErrInvalid) {
			t.Errorf("Resolve(%s) = %v, want ErrUnsupportedMethod", s, err)
		}
	}
	if _, err := Resolve(DID{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Resolve(zero DID) = %v, want ErrInvalid", err)
	}
}

func TestFindVerificationMethod(t *testing.T) {
	peer, _ := Parse("did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR")
	key, _ := Parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	peerDoc, _ := Resolve(peer)
	keyDoc, _ := Resolve(key)
	tests := []struct {
		doc  *Document
		ref  string
		want string // publicKeyMultibase, "" for none
	}{
		{peerDoc, "#key-2", "z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR"},
		{peerDoc, peer.String() + "#key-1", "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"},
		{peerDoc, "#key-3", ""},
		{peerDoc, key.String() + "#key-1", ""},
		{keyDoc, key.String() + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{keyDoc, "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
		{keyDoc, "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ""},
	}
	for _, tt := range tests {
		vm, ok := tt.doc.FindVerificationMethod(tt.ref)
		if ok != (tt.want != "") || vm.PublicKeyMultibase != tt.want {
			t.Errorf("%s: FindVerificationMethod(%q) = %q, %v; want %q", tt.doc.ID, tt.ref, vm.PublicKeyMultibase, ok, tt.want)
		}
	}
}

func TestServiceJSON(t *testing.T) {
	s := Service{
		ID:              "#s",
		Type:            "X",
		ServiceEndpoint: map[string]any{"uri": "https://example.com/?a=1&b=<2>", "n": json.Number("1e400")},
		Extra:           map[string]any{"z": true, "b": nil, "a": []any{"x"}},
	}
	got, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"#s","type":"X","serviceEndpoint":{"n":1e400,"uri":"https://example.com/?a=1\u0026b=\u003c2\u003e"},"a":["x"],"b":null,"z":true}`
	if string(got) != want {
		t.Errorf("Marshal:\n got %s\nwant %s", got, want)
	}
	var back Service
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("Unmarshal(Marshal(s)) = %#v, want %#v", back, s)
	}
	for _, bad := range []string{
		`[]`, `{"type":"X"}`, `{"type":"X","serviceEndpoint":1}`, `{"type":["X"],"serviceEndpoint":"u"}`,
		`{"type":"X","serviceEndpoint":"u","type":"Y"}`, `{"id":"","type":"X","serviceEndpoint":"u"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	// A document without services marshals as before they existed.
	d, _ := Parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	doc, _ := d.Document()
	b, _ := json.Marshal(doc)
	if bytes.Contains(b, []byte("service")) {
		t.Errorf("did:key document has a service: %s", b)
	}
}

// TestX25519SmallOrder checks that every small-order X25519 point (those
// that libsodium lists, reduced below p) is refused, and a real key is not.
func TestX25519SmallOrder(t *testing.T) {
	for _, h := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000", // 0
		"0100000000000000000000000000000000000000000000000000000000000000", // 1
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p - 1
	} {
		b, _ := hex.DecodeString(h)
		if err := keys.CheckX25519Public(b); err == nil || !strings.Contains(err.Error(), "small order") {
			t.Errorf("CheckX25519Public(%s) = %v, want small order", h, err)
		}
	}
	for _, v := range vectors.Identities(t) {
		_, key, err := keys.DecodeMultikey(v.X25519PublicKeyMultibase)
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.CheckX25519Public(key); err != nil {
			t.Errorf("%s: %v", v.X25519PublicKeyMultibase, err)
		}
	}
}

func FuzzResolvePeer2(f *testing.F) {
	for _, v := range readPeer2Vectors(f) {
		f.Add(strings.TrimPrefix(v.DID, "did:peer:2"))
	}
	for _, c := range vectors.Lines(f, "didpeer/invalid.txt") {
		f.Add(strings.TrimPrefix(c.In, "did:peer:2"))
	}
	f.Fuzz(func(t *testing.T, rest string) {
		s := "did:peer:2" + rest
		d, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupportedMethod) {
				t.Fatalf("Parse(%q) = %v: want only ErrInvalid", s, err)
			}
			return
		}
		doc, err := Resolve(d)
		if err != nil {
			t.Fatalf("Parse accepted %q, Resolve: %v", s, err)
		}
		checkPeer2Document(t, d, doc)

		// The document survives JSON both ways.
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("%q: Marshal: %v", s, err)
		}
		var back Document
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: Unmarshal(%s): %v", s, b, err)
		}
		if b2, _ := json.Marshal(&back); !bytes.Equal(b, b2) {
			t.Fatalf("%q: document changes through JSON:\n%s\n%s", s, b, b2)
		}

		// Its keys and services make a DID with the same document.
		again, err := NewPeer2(peer2KeysOf(t, doc), doc.Service...)
		if err != nil {
			if strings.Contains(err.Error(), "longer than") {
				return // escaping can lengthen it: U+2028 becomes \u2028
			}
			t.Fatalf("%q: NewPeer2 of its document: %v", s, err)
		}
		doc2, err := Resolve(again)
		if err != nil {
			t.Fatal(err)
		}
		doc2.ID = s
		for i := range doc2.VerificationMethod {
			doc2.VerificationMethod[i].Controller = s
		}
		if b2, _ := json.Marshal(doc2); !bytes.Equal(b, b2) {
			t.Fatalf("%q made again as %q has another document:\n%s\n%s", s, again, b, b2)
		}
	})
}

// TestNewPeer2Unabbreviated checks that the OpenVTC spelling of a
// relationship DID's service is made byte for byte: the service's type and
// serviceEndpoint abbreviated, the endpoint's members in full.
func TestNewPeer2Unabbreviated(t *testing.T) {
	keys := []Peer2Key{
		{Purpose: Peer2Authentication, Multikey: "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
		{Purpose: Peer2KeyAgreement, Multikey: "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"},
	}
	got, err := NewPeer2Unabbreviated(keys, DIDCommService("did:web:mediator.example"))
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, v := range readPeer2Vectors(t) {
		if strings.HasSuffix(v.Description, "no DID OpenVTC minted is published") {
			want = v.DID
		}
	}
	if got.String() != want {
		t.Fatalf("NewPeer2Unabbreviated = %s\nwant %s", got, want)
	}
	_, svc, _ := strings.Cut(got.String(), ".S")
	raw, err := peer2ServiceEncoding.DecodeString(svc)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"t":"dm","s":{"uri":"did:web:mediator.example","accept":["didcomm/v2"]}}` {
		t.Errorf("service JSON %s", raw)
	}
	// The abbreviated spelling is another DID with the same document.
	short, err := NewPeer2(keys, DIDCommService("did:web:mediator.example"))
	if err != nil {
		t.Fatal(err)
	}
	if short == got {
		t.Fatal("both spellings made the same DID")
	}
	a, _ := Resolve(got)
	b, _ := Resolve(short)
	b.ID, a.ID = "", ""
	for i := range a.VerificationMethod {
		a.VerificationMethod[i].Controller, b.VerificationMethod[i].Controller = "", ""
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("documents differ:\n%s\n%s", ja, jb)
	}
	// An endpoint member that is an abbreviation cannot be written in full.
	bad := Service{Type: ServiceTypeDIDCommMessaging, ServiceEndpoint: map[string]any{"uri": "did:web:m.example", "a": []any{"x"}}}
	if _, err := NewPeer2Unabbreviated(keys, bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("endpoint with \"a\": %v", err)
	}
}
