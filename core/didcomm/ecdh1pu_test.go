package didcomm

import (
	"crypto/aes"
	"crypto/ecdh"
	"encoding/json"
	"os"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwe/jwebb"

	"planet/core/did"
	"planet/core/internal/jws"
)

// readSecrets reads a file of secret JWKs.
func readSecrets(t testing.TB, file string) []secretJWK {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []secretJWK
	if err := json.Unmarshal(data, &secrets); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return secrets
}

// secretJWK is a private JWK of the test vectors: a public JWK and d.
type secretJWK struct {
	did.JWK
	Kid string `json:"kid"`
	D   string `json:"d"`
}

// agreementKey returns the X25519 or NIST key of a secret JWK.
func (s secretJWK) agreementKey(t testing.TB) *ecdh.PrivateKey {
	t.Helper()
	curve, ok := ecdhCurve(s.Crv)
	if !ok {
		t.Fatalf("%s: no key agreement on %s", s.Kid, s.Crv)
	}
	d, err := jws.Base64.DecodeString(s.D)
	if err != nil {
		t.Fatalf("%s: d: %v", s.Kid, err)
	}
	key, err := curve.NewPrivateKey(d)
	if err != nil {
		t.Fatalf("%s: %v", s.Kid, err)
	}
	pub, err := parseJWK(s.JWK)
	if err != nil || !pub.ecdh.Equal(key.PublicKey()) {
		t.Fatalf("%s: d and x do not match (%v)", s.Kid, err)
	}
	return key
}

// TestECDH1PUAppendixB derives the key-wrapping keys of the example in
// draft-madden-jose-ecdh-1pu-04 Appendix B (ECDH-1PU+A128KW, A256CBC-HS512,
// two recipients) and decrypts it: the tag in SuppPubInfo, Z = Ze || Zs.
func TestECDH1PUAppendixB(t *testing.T) {
	var v struct {
		Alg        string
		Payload    string
		Sender     secretJWK
		Recipients []secretJWK
		JWE        map[string]any
	}
	data, err := os.ReadFile("testdata/didcomm/ecdh-1pu-appendix-b.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	protected := v.JWE["protected"].(string)
	var hdr struct {
		Apu, Apv string
		Epk      did.JWK
	}
	if err := json.Unmarshal(mustB64(t, protected), &hdr); err != nil {
		t.Fatal(err)
	}
	epk, err := parseJWK(hdr.Epk)
	if err != nil {
		t.Fatal(err)
	}
	alice := v.Sender.agreementKey(t)
	tag := mustB64(t, v.JWE["tag"].(string))
	for i, r := range v.Recipients {
		key := r.agreementKey(t)
		ze, _ := key.ECDH(epk.ecdh)
		zs, _ := key.ECDH(alice.PublicKey())
		kek := concatKDF(append(ze, zs...), v.Alg, mustB64(t, hdr.Apu), mustB64(t, hdr.Apv), tag, 128)
		block, _ := aes.NewCipher(kek)
		ek := v.JWE["recipients"].([]any)[i].(map[string]any)["encrypted_key"].(string)
		cek, err := jwebb.Unwrap(block, mustB64(t, ek))
		if err != nil {
			t.Fatalf("%s: unwrap: %v", r.Kid, err)
		}
		got, err := openContent(A256CBCHS512, cek, mustB64(t, v.JWE["iv"].(string)), mustB64(t, v.JWE["ciphertext"].(string)), tag, []byte(protected))
		if err != nil || string(got) != v.Payload {
			t.Errorf("%s: decrypted %q, %v", r.Kid, got, err)
		}
	}
}

// TestConcatKDFMatchesJWX: for ECDH-ES, the Concat KDF here and jwx's
// derive the same key.
func TestConcatKDFMatchesJWX(t *testing.T) {
	for _, curve := range []ecdh.Curve{ecdh.X25519(), ecdh.P256(), ecdh.P384(), ecdh.P521()} {
		a, _ := curve.GenerateKey(nil)
		b, _ := curve.GenerateKey(nil)
		want, err := jwebb.DeriveECDHES(AlgAnoncrypt, []byte("u"), []byte("v"), a, b.PublicKey(), 32)
		if err != nil {
			t.Fatal(err)
		}
		z, _ := a.ECDH(b.PublicKey())
		if got := keyWrappingKey(AlgAnoncrypt, z, nil, []byte("u"), []byte("v"), []byte("ignored")); string(got) != string(want) {
			t.Errorf("%s: %x, jwx %x", curveName(curve), got, want)
		}
	}
}
