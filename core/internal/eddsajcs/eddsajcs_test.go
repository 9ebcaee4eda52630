package eddsajcs

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestHash pins the bytes eddsa-jcs-2022 signs for a small document: the
// SHA-256 of the canonical proof configuration (with the document's
// @context), then that of the canonical document without its proof.
func TestHash(t *testing.T) {
	doc := map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "b": "x", "a": 1.0, "proof": map[string]any{}}
	proof := map[string]any{"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofValue": "zignored"}
	got, err := Hash(doc, proof)
	if err != nil {
		t.Fatal(err)
	}
	config := sha256.Sum256([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"cryptosuite":"eddsa-jcs-2022","type":"DataIntegrityProof"}`))
	document := sha256.Sum256([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"a":1,"b":"x"}`))
	if want := append(config[:], document[:]...); !bytes.Equal(got, want) {
		t.Fatalf("Hash = %x, want %x", got, want)
	}
	again, _ := Hash(doc, map[string]any{"cryptosuite": "eddsa-jcs-2022", "type": "DataIntegrityProof"})
	if !bytes.Equal(got, again) {
		t.Error("proofValue or member order changed the hash")
	}
	other, _ := Hash(map[string]any{"@context": doc["@context"], "b": "y", "a": 1.0}, proof)
	if bytes.Equal(got[32:], other[32:]) || !bytes.Equal(got[:32], other[:32]) {
		t.Error("document change not reflected in the second half only")
	}
}

func FuzzDecodeProofValue(f *testing.F) {
	sig := ed25519.Sign(ed25519.NewKeyFromSeed(make([]byte, 32)), []byte("m"))
	f.Add(EncodeProofValue(sig))
	f.Add("z" + hex.EncodeToString(sig))
	f.Add("u" + EncodeProofValue(sig)[1:])
	f.Add("z1" + EncodeProofValue(sig)[1:])
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeProofValue(s)
		if err != nil {
			return
		}
		if EncodeProofValue(b) != s {
			t.Fatalf("%q decodes but encodes to %q", s, EncodeProofValue(b))
		}
	})
}
