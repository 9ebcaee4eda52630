package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"testing"

	"planet/core/internal/vectors"

	"github.com/mr-tron/base58"
)

func TestX25519Vectors(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		xpub, err := X25519PublicFromEd25519(v.PublicKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := X25519Multikey(xpub); got != v.X25519PublicKeyMultibase {
			t.Errorf("seed %s: X25519 public key %s, want %s", v.Seed, got, v.X25519PublicKeyMultibase)
		}
		xpriv := X25519PrivateFromEd25519(ed25519.NewKeyFromSeed(v.SeedBytes(t)))
		if got := base58.Encode(xpriv); got != v.X25519PrivateKeyBase58 {
			t.Errorf("seed %s: X25519 private key %s, want %s", v.Seed, got, v.X25519PrivateKeyBase58)
		}
	}
}

// TestX25519PrivateMatchesPublic checks, for fresh keys, that the private
// conversion gives the scalar whose X25519 public key (scalar times the base
// point) is the public conversion of the Ed25519 key.
func TestX25519PrivateMatchesPublic(t *testing.T) {
	for range 32 {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ecdh.X25519().NewPrivateKey(X25519PrivateFromEd25519(priv))
		if err != nil {
			t.Fatal(err)
		}
		want, err := X25519PublicFromEd25519(pub)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.PublicKey().Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("X25519 base point times the converted private key = %x, want %x", got, want)
		}
	}
}

func TestX25519PublicFromEd25519Errors(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	notPoint := make([]byte, 32)
	notPoint[0] = 2
	for name, pub := range map[string][]byte{
		"nil":         nil,
		"short":       make([]byte, 31),
		"small order": identity,
		"not a point": notPoint,
	} {
		if got, err := X25519PublicFromEd25519(pub); err == nil {
			t.Errorf("%s: X25519PublicFromEd25519 = %x, want error", name, got)
		}
	}
}

func TestX25519PrivateFromEd25519Clamps(t *testing.T) {
	for range 32 {
		_, priv, _ := ed25519.GenerateKey(nil)
		k := X25519PrivateFromEd25519(priv)
		if k[0]&7 != 0 || k[31]&128 != 0 || k[31]&64 == 0 {
			t.Fatalf("X25519 private key %x is not clamped", k)
		}
	}
}
