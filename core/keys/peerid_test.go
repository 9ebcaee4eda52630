package keys

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"planet/core/internal/vectors"
)

func TestParsePeerIDValid(t *testing.T) {
	for _, c := range vectors.Lines(t, "peerid/valid.txt") {
		p, err := ParsePeerID(c.In)
		if err != nil {
			t.Errorf("valid.txt:%d: ParsePeerID(%q): %v", c.Line, c.In, err)
			continue
		}
		if got := p.String(); got != c.In {
			t.Errorf("valid.txt:%d: String() = %q, want %q", c.Line, got, c.In)
		}
		pub, err := p.Ed25519PublicKey()
		switch {
		case strings.HasPrefix(c.In, "12D3KooW"):
			if err != nil {
				t.Errorf("valid.txt:%d: Ed25519PublicKey: %v", c.Line, err)
			} else if PeerIDFromEd25519(pub) != p {
				t.Errorf("valid.txt:%d: key does not encode back to the same peer ID", c.Line)
			}
		case strings.HasPrefix(c.In, "Qm"):
			if !errors.Is(err, ErrInvalidPeerID) {
				t.Errorf("valid.txt:%d: Ed25519PublicKey of a hash = %x, %v; want ErrInvalidPeerID", c.Line, pub, err)
			}
		}
	}
}

func TestParsePeerIDInvalid(t *testing.T) {
	for _, c := range vectors.Lines(t, "peerid/invalid.txt") {
		if c.Reason == "" {
			t.Errorf("invalid.txt:%d: case has no comment saying why it is invalid", c.Line)
		}
		p, err := ParsePeerID(c.In)
		if !errors.Is(err, ErrInvalidPeerID) {
			t.Errorf("invalid.txt:%d: ParsePeerID(%q) = %v; want ErrInvalidPeerID (%s)", c.Line, c.In, err, c.Reason)
		}
		if !p.IsZero() {
			t.Errorf("invalid.txt:%d: ParsePeerID returned a non-zero PeerID with an error", c.Line)
		}
	}
}

func TestParsePeerIDErrorMessages(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "invalid peer id: empty"},
		{"12D3KooW0", "invalid peer id: not base58btc: invalid base58 digit ('0')"},
		{"16Uiu2HAkyRbvDiAsoFFFCsbdvdfMM2TVALUgbSKZVt7UbveebynQ", "invalid peer id: identity multihash holds a secp256k1 key: only ed25519 is supported"},
		{"12D3KooW9tGaPdJo5jmCpadQ971nfiq4kLcQjeBPYTfutBTtckPH", "invalid peer id: ed25519 public key has small order"},
		{"5drcRMC6dxrarGvz12j2Lud8sGMiWJ", "invalid peer id: unsupported multihash 0x11: want identity (0x00) or sha2-256 (0x12)"},
		{"6PEcrgRwYojsPcLZdZ6e7eayv6pgvR1h2HJRDWoDs1oyK", "invalid peer id: sha2-256 multihash is not 32 bytes long"},
	}
	for _, tt := range tests {
		_, err := ParsePeerID(tt.in)
		if err == nil {
			t.Errorf("ParsePeerID(%q) succeeded, want %q", tt.in, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("ParsePeerID(%q) error:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// TestPeerIDFromEd25519 checks the peer IDs of the identity vectors, which
// go-libp2p computed.
func TestPeerIDFromEd25519(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		pub := ed25519.PublicKey(v.PublicKey(t))
		p := PeerIDFromEd25519(pub)
		if got := p.String(); got != v.PeerID {
			t.Errorf("PeerIDFromEd25519(%s) = %s, want %s", v.PublicKeyBase58, got, v.PeerID)
		}
		wantBytes := append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, pub...)
		if got := p.Bytes(); !bytes.Equal(got, wantBytes) {
			t.Errorf("%s: Bytes() = %x, want %x", v.PeerID, got, wantBytes)
		}
		parsed, err := ParsePeerID(v.PeerID)
		if err != nil || parsed != p {
			t.Errorf("ParsePeerID(%s) = %v, %v; want the PeerID of its key", v.PeerID, parsed, err)
		}
	}
}

func TestPeerIDZero(t *testing.T) {
	var p PeerID
	if !p.IsZero() || p.String() != "" || len(p.Bytes()) != 0 {
		t.Errorf("zero PeerID: IsZero=%v String=%q Bytes=%x", p.IsZero(), p.String(), p.Bytes())
	}
	if _, err := p.Ed25519PublicKey(); !errors.Is(err, ErrInvalidPeerID) {
		t.Errorf("zero PeerID: Ed25519PublicKey error = %v, want ErrInvalidPeerID", err)
	}
}

func FuzzParsePeerID(f *testing.F) {
	for _, name := range []string{"peerid/valid.txt", "peerid/invalid.txt"} {
		for _, c := range vectors.Lines(f, name) {
			f.Add(c.In)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeerID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPeerID) {
				t.Fatalf("ParsePeerID(%q) = %v, want ErrInvalidPeerID", s, err)
			}
			if !p.IsZero() {
				t.Fatalf("ParsePeerID(%q) returned a PeerID with an error", s)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePeerID(%q).String() = %q", s, p.String())
		}
		again, err := ParsePeerID(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePeerID(%q) does not parse its own String(): %v", s, err)
		}
		if pub, err := p.Ed25519PublicKey(); err == nil && PeerIDFromEd25519(pub) != p {
			t.Fatalf("%q: key does not encode back to the same peer ID", s)
		}
	})
}

func TestPeerIDFromEd25519Panics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PeerIDFromEd25519 of a 31-byte key did not panic")
		}
	}()
	PeerIDFromEd25519(make([]byte, 31))
}
