package did

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"planet/core/internal/vectors"
)

func TestParseDIDValid(t *testing.T) {
	for _, c := range vectors.Lines(t, "did/valid.txt") {
		d, err := Parse(c.In)
		if err != nil {
			t.Errorf("valid.txt:%d: Parse(%q): %v", c.Line, c.In, err)
			continue
		}
		if got := d.String(); got != c.In {
			t.Errorf("valid.txt:%d: String() = %q, want %q", c.Line, got, c.In)
		}
		if d.IsZero() {
			t.Errorf("valid.txt:%d: IsZero() = true", c.Line)
		}
		wantMethod := strings.Split(c.In, ":")[1]
		if got := d.Method(); got != wantMethod {
			t.Errorf("valid.txt:%d: Method() = %q, want %q", c.Line, got, wantMethod)
		}
	}
}

func TestParseDIDInvalid(t *testing.T) {
	for _, c := range vectors.Lines(t, "did/invalid.txt") {
		if c.Reason == "" {
			t.Errorf("invalid.txt:%d: case has no comment saying why it is invalid", c.Line)
		}
		d, err := Parse(c.In)
		if err == nil {
			t.Errorf("invalid.txt:%d: Parse(%q) succeeded; want error (%s)", c.Line, c.In, c.Reason)
			continue
		}
		if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupportedMethod) {
			t.Errorf("invalid.txt:%d: Parse(%q) = %v; want only ErrInvalid (%s)", c.Line, c.In, err, c.Reason)
		}
		if !d.IsZero() {
			t.Errorf("invalid.txt:%d: Parse returned non-zero DID %q with an error", c.Line, d)
		}
	}
}

func TestParseDIDUnsupported(t *testing.T) {
	for _, c := range vectors.Lines(t, "did/unsupported.txt") {
		_, err := Parse(c.In)
		if !errors.Is(err, ErrUnsupportedMethod) || errors.Is(err, ErrInvalid) {
			t.Errorf("unsupported.txt:%d: Parse(%q) = %v; want only ErrUnsupportedMethod", c.Line, c.In, err)
		}
	}
}

// TestParseAnyMethod: DIDs of other methods are taken for their syntax, and
// the rules of did:key and did:peer still hold.
func TestParseAnyMethod(t *testing.T) {
	for _, c := range vectors.Lines(t, "did/unsupported.txt") {
		d, err := ParseAnyMethod(c.In)
		if err != nil || d.String() != c.In {
			t.Errorf("unsupported.txt:%d: ParseAnyMethod(%q) = %q, %v", c.Line, c.In, d, err)
		}
	}
	for _, c := range vectors.Lines(t, "did/invalid.txt") {
		if d, err := ParseAnyMethod(c.In); !errors.Is(err, ErrInvalid) || !d.IsZero() {
			t.Errorf("invalid.txt:%d: ParseAnyMethod(%q) = %q, %v; want ErrInvalid", c.Line, c.In, d, err)
		}
	}
	for _, c := range vectors.Lines(t, "did/valid.txt") {
		want, _ := Parse(c.In)
		if d, err := ParseAnyMethod(c.In); err != nil || d != want {
			t.Errorf("valid.txt:%d: ParseAnyMethod(%q) = %q, %v", c.Line, c.In, d, err)
		}
	}
	d, _ := ParseAnyMethod("did:example:alice")
	if _, err := Resolve(d); !errors.Is(err, ErrUnsupportedMethod) {
		t.Errorf("Resolve(did:example:alice) = %v, want ErrUnsupportedMethod", err)
	}
}

// TestParseDIDLength checks the bound at MaxLength, which would make an
// unwieldy line in a vector file.
func TestParseDIDLength(t *testing.T) {
	const prefix = "did:peer:4zQmd8CpeFPci817KDsbSAKWcXAE2mjvCQSasRewvbSF54Bd:z"
	longest := prefix + strings.Repeat("2", MaxLength-len(prefix))
	if _, err := Parse(longest); err != nil {
		t.Errorf("Parse(%d bytes): %v", len(longest), err)
	}
	_, err := Parse(longest + "2")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Errorf("Parse(%d bytes) = %v, want too long", len(longest)+1, err)
	}
}

// TestParseDIDErrorMessages checks that errors say what is wrong, in
// lowercase, and name an unsupported key type.
func TestParseDIDErrorMessages(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `invalid did: does not start with "did:"`},
		{"did:KEY:z6Mk", `invalid did: method name has "K": only lowercase letters and digits are allowed`},
		{"did:key", "invalid did: no method-specific id after the method name"},
		{"did:web:a::b", "invalid did: method-specific id has an empty segment at offset 2"},
		{"did:web:a:", "invalid did: method-specific id ends with a colon"},
		{"did:web:a%4g", "invalid did: method-specific id has a bad percent-encoding at offset 1: want % and two hex digits"},
		{"did:web:a#b", `invalid did: method-specific id has "#" at offset 1: not allowed in a did`},
		{"did:web:example.com", `unsupported did method "web"`},
		{"did:key:z0", "invalid did: did:key multikey is not base58btc: invalid base58 digit ('0')"},
		{"did:key:f00", "invalid did: did:key multikey is not base58btc multibase (must start with 'z')"},
		{"did:key:1:z6Mk", "invalid did: did:key id has more than one segment"},
		{
			"did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N",
			"invalid did: did:key multikey holds unsupported key type secp256k1-pub (0xe7): only ed25519-pub (0xed) is accepted",
		},
		{
			"did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
			"invalid did: did:key multikey holds unsupported key type x25519-pub (0xec): only ed25519-pub (0xed) is accepted",
		},
		{
			"did:key:z4UG862irXTMHrJNKJtVF97jUTeD2UTCaSDDrsdqGao5iqdS",
			"invalid did: did:key multikey holds unsupported key type 0x3f99: only ed25519-pub (0xed) is accepted",
		},
		{"did:key:z2DQVsnzKoPrzWGGeSt3PXeA8HH4gfaP66XgS4nugS6VH3P", "invalid did: did:key ed25519 public key is 31 bytes, want 32"},
		{"did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj", "invalid did: did:key ed25519 public key has small order"},
		{"did:key:z6Mkeb4rtEhc8DUtvt5ehaVjdx3TLbQPpnTArkXhqfb1Mq75", "invalid did: did:key ed25519 public key is not a point on the curve"},
		{"did:key:z6Mkvg2JPc7mj3oXZCpWHB9ScRB6BvScZqnrR4Ew9Gjrd75G", "invalid did: did:key ed25519 public key is not canonically encoded"},
		{"did:peer:9x", `invalid did: did:peer numalgo "9" is unknown: want 0 to 4`},
		{"did:peer:2.Xz6Mk", `invalid did: did:peer numalgo 2 element 1 has unknown purpose code "X"`},
		{"did:peer:0z6Mk", "invalid did: did:peer numeric basis is not 'z' and at least 46 base58btc digits"},
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

func TestDIDFromEd25519(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		pub := ed25519.PublicKey(v.PublicKey(t))
		d := FromEd25519(pub)
		if got := d.String(); got != v.DID {
			t.Errorf("FromEd25519(%s) = %s, want %s", v.PublicKeyBase58, got, v.DID)
		}
		parsed, err := Parse(v.DID)
		if err != nil {
			t.Fatal(err)
		}
		if parsed != d {
			t.Errorf("Parse(%s) != FromEd25519 of its key", v.DID)
		}
		got, err := parsed.Ed25519PublicKey()
		if err != nil {
			t.Fatalf("%s: Ed25519PublicKey: %v", v.DID, err)
		}
		if !got.Equal(pub) {
			t.Errorf("%s: Ed25519PublicKey() = %x, want %x", v.DID, got, pub)
		}
	}
}

func TestDIDFromEd25519Panics(t *testing.T) {
	smallOrder := make([]byte, 32)
	smallOrder[0] = 1 // the identity point
	for name, pub := range map[string][]byte{
		"short":       make([]byte, 31),
		"long":        make([]byte, 33),
		"small order": smallOrder,
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: FromEd25519 did not panic", name)
				}
			}()
			FromEd25519(pub)
		}()
	}
}

func TestDIDZero(t *testing.T) {
	var d DID
	if !d.IsZero() || d.String() != "" || d.Method() != "" {
		t.Errorf("zero DID: IsZero=%v String=%q Method=%q", d.IsZero(), d.String(), d.Method())
	}
	if _, err := d.Ed25519PublicKey(); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero DID: Ed25519PublicKey error = %v, want ErrInvalid", err)
	}
	if _, err := d.Document(); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero DID: Document error = %v, want ErrInvalid", err)
	}
}

func TestDIDEd25519PublicKeyOfPeer(t *testing.T) {
	d, err := Parse("did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ed25519PublicKey(); !errors.Is(err, ErrInvalid) {
		t.Errorf("did:peer Ed25519PublicKey error = %v, want ErrInvalid", err)
	}
}

// TestDIDComparable checks that DIDs work as map keys and with ==.
func TestDIDComparable(t *testing.T) {
	const s = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	a, _ := Parse(s)
	b, _ := Parse(s)
	c, _ := Parse("did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG")
	seen := map[DID]bool{a: true}
	if a != b || !seen[b] || seen[c] || a == c {
		t.Error("DIDs with the same text must be equal, and others not")
	}
}

func FuzzParseDID(f *testing.F) {
	for _, name := range []string{"did/valid.txt", "did/invalid.txt", "did/unsupported.txt"} {
		for _, c := range vectors.Lines(f, name) {
			f.Add(c.In)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if errors.Is(err, ErrInvalid) == errors.Is(err, ErrUnsupportedMethod) {
				t.Fatalf("Parse(%q) = %v: want exactly one of ErrInvalid, ErrUnsupportedMethod", s, err)
			}
			if !d.IsZero() {
				t.Fatalf("Parse(%q) returned a DID with an error", s)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		again, err := Parse(d.String())
		if err != nil || again != d {
			t.Fatalf("Parse(%q) does not parse its own String(): %v", s, err)
		}
		if d.Method() == MethodWebVH {
			if _, err := d.WebVHLocation(); err != nil {
				t.Fatalf("%q parsed but has no location: %v", s, err)
			}
		}
		if d.Method() != MethodKey {
			return
		}
		pub, err := d.Ed25519PublicKey()
		if err != nil {
			t.Fatalf("%q: Ed25519PublicKey: %v", s, err)
		}
		if FromEd25519(pub) != d {
			t.Fatalf("%q: key does not encode back to the same DID", s)
		}
		if _, err := d.Document(); err != nil {
			t.Fatalf("%q: Document: %v", s, err)
		}
	})
}
