package didcomm

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/jcs"
)

// Fuzzers of the DIDComm v2.1 decoders, seeded with the test vectors of
// testdata/didcomm. Each also runs its seeds as a normal test.

// vectorFiles returns the contents of the vector files whose names match
// pattern, in testdata/didcomm and its folders.
func vectorFiles(f *testing.F, pattern string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, dir := range []string{"testdata/didcomm/spec", "testdata/didcomm/rust"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no vectors match %s", pattern)
	}
	return out
}

// FuzzParsePlaintext: a plaintext that parses encodes to bytes that parse
// to the same message, and encoding is then stable.
func FuzzParsePlaintext(f *testing.F) {
	for _, seed := range vectorFiles(f, "*plaintext*.json") {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlaintext(data)
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("a parsed plaintext does not encode: %v", err)
		}
		q, err := ParsePlaintext(enc)
		if err != nil {
			t.Fatalf("the encoded plaintext %s does not parse: %v", enc, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("parse, encode, parse changed the message:\n %+v\n %+v", p, q)
		}
		again, _ := q.Encode()
		if string(again) != string(enc) {
			t.Fatalf("encoding is not stable:\n %s\n %s", enc, again)
		}
	})
}

// FuzzParseJWE: the encrypted-message decoder refuses or accepts without
// panicking, and what it accepts decrypts (or fails to) without panicking
// with the vectors' keys.
func FuzzParseJWE(f *testing.F) {
	for _, seed := range vectorFiles(f, "encrypted*.json") {
		f.Add(seed)
	}
	keys := new(Keys)
	for _, s := range readSecrets(f, "testdata/didcomm/rust/secrets-bob.json") {
		if _, ok := ecdhCurve(s.Crv); ok {
			keys.Add(s.Kid, s.agreementKey(f))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := jcs.DecodeObject(data)
		if err != nil {
			return
		}
		m, err := parseJWE(obj)
		if err != nil {
			return
		}
		if m.epk == nil || len(m.recipients) == 0 || len(m.iv) == 0 || len(m.tag) == 0 {
			t.Fatalf("parseJWE accepted an incomplete message: %+v", m)
		}
		for _, r := range m.recipients {
			if k, ok := keys.AgreementKey(r.kid); ok {
				var sender = m.epk // any key on the curve: the result is a failure, never a panic
				m.decrypt(r.kid, k, sender)
			}
		}
	})
}

// FuzzParseJWS: the signed-message decoder refuses or accepts without
// panicking; what it accepts names a kid that is a DID URL and has a payload.
func FuzzParseJWS(f *testing.F) {
	for _, seed := range vectorFiles(f, "signed*.json") {
		f.Add(seed)
	}
	f.Add(vectorFiles(f, "encrypted-msg-auth-p256-signed.json")[0])
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := jcs.DecodeObject(data)
		if err != nil {
			return
		}
		m, err := parseJWS(obj)
		if err != nil {
			return
		}
		if _, err := kidDID(m.kid); err != nil || m.alg != AlgEdDSA && m.alg != AlgES256 {
			t.Fatalf("parseJWS accepted kid %q, alg %q", m.kid, m.alg)
		}
	})
}

// FuzzParseForward: a forward that parses is written back by NewForward
// to one that parses to the same next and payload.
func FuzzParseForward(f *testing.F) {
	payload := vectorFiles(f, "encrypted-msg-auth-x25519.json")[0]
	p, err := NewForward("did:example:bob", payload, did.DID{}, messageTime, time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := p.Encode()
	f.Add(seed)
	f.Add([]byte(strings.Replace(string(seed), `"next":"did:example:bob"`, `"next":"did:example:mediator1#key-x25519-1"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlaintext(data)
		if err != nil {
			return
		}
		fwd, err := ParseForward(p)
		if err != nil {
			return
		}
		q, err := NewForward(fwd.Next, fwd.Payload, did.DID{}, messageTime, time.Time{})
		if err != nil {
			t.Fatalf("NewForward(%q, %s): %v", fwd.Next, fwd.Payload, err)
		}
		again, err := ParseForward(q)
		if err != nil || again.Next != fwd.Next || string(again.Payload) != string(fwd.Payload) {
			t.Fatalf("the forward written back reads %+v, %v; want %+v", again, err, fwd)
		}
	})
}

// FuzzUnpack runs whole messages of every form through Unpack, with the
// vectors' documents and bob's keys: it never panics, and a message it
// returns encodes.
func FuzzUnpack(f *testing.F) {
	for _, seed := range vectorFiles(f, "*.json") {
		f.Add(seed)
	}
	r := make(docResolver)
	for _, file := range []string{"alice", "bob", "charlie", "mediator1", "mediator2", "mediator3"} {
		doc := readDocument(f, "testdata/didcomm/rust/did-"+file+".json")
		d, _ := did.ParseAnyMethod(doc.ID)
		r[d] = doc
	}
	keys := new(Keys)
	for _, s := range readSecrets(f, "testdata/didcomm/rust/secrets-bob.json") {
		if _, ok := ecdhCurve(s.Crv); ok {
			keys.Add(s.Kid, s.agreementKey(f))
		}
	}
	now := time.Unix(1516269100, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := Unpack(context.Background(), r, keys, data, now)
		if err != nil {
			return
		}
		if _, err := p.Encode(); err != nil {
			t.Fatalf("an unpacked message does not encode: %v", err)
		}
	})
}
