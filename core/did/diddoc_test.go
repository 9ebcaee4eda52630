package did

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"planet/core/internal/vectors"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDocumentGolden pins the bytes of a did:key document. Run with -update
// to rewrite the golden file after a deliberate change, and review the diff.
func TestDocumentGolden(t *testing.T) {
	const id = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	d, err := Parse("did:key:" + id)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := d.Document()
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "did", id+".json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("document of %s differs from %s:\n%s", d, golden, got)
	}
}

// TestDocumentVectors checks the documents of the identity vectors against
// the did:key test vectors: the key agreement key, and the shape.
func TestDocumentVectors(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		d, err := Parse(v.DID)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := d.Document()
		if err != nil {
			t.Fatalf("%s: Document: %v", d, err)
		}
		signing := v.DID + "#" + v.DID[len("did:key:"):]
		agreement := v.DID + "#" + v.X25519PublicKeyMultibase
		want := &Document{
			Context: []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
			ID:      v.DID,
			VerificationMethod: []VerificationMethod{
				{ID: signing, Type: "Multikey", Controller: v.DID, PublicKeyMultibase: v.DID[len("did:key:"):]},
				{ID: agreement, Type: "Multikey", Controller: v.DID, PublicKeyMultibase: v.X25519PublicKeyMultibase},
			},
			Authentication:       []string{signing},
			AssertionMethod:      []string{signing},
			CapabilityInvocation: []string{signing},
			CapabilityDelegation: []string{signing},
			KeyAgreement:         []string{agreement},
		}
		gotJSON, _ := json.Marshal(doc)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s: document\n got %s\nwant %s", d, gotJSON, wantJSON)
		}
	}
}

func TestDocumentUnsupported(t *testing.T) {
	d, err := Parse("did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Document(); !errors.Is(err, ErrUnsupportedMethod) {
		t.Errorf("did:peer Document error = %v, want ErrUnsupportedMethod", err)
	}
}
