package keys

import (
	"crypto/ed25519"
	"crypto/sha512"
	"fmt"
)

// X25519KeySize is the size of X25519 public and private keys.
const X25519KeySize = 32

// An Ed25519 key pair doubles as an X25519 key pair for key agreement, as
// did:key prescribes: one identity, one secret, no second key to back up. The
// public half maps through the birational map from the Edwards curve to its
// Montgomery form (u = (1+y)/(1-y)); the private half is the scalar Ed25519
// itself derives from the seed, so both halves stay a matching pair. Using one
// key for both signatures and Diffie-Hellman is safe for this pair of schemes
// (Thormarker, "On using the same key pair for Ed25519 and an X25519 based
// KEM", 2021).

// X25519PublicFromEd25519 returns the X25519 public key (the Montgomery u
// coordinate) that corresponds to an Ed25519 public key. It returns an error if
// pub is not 32 bytes, not a point on the curve, or of small order.
func X25519PublicFromEd25519(pub ed25519.PublicKey) ([]byte, error) {
	if x, ok := montgomeryKeys.get(string(pub)); ok {
		return x, nil
	}
	p, err := decodeEd25519Public(pub)
	if err != nil {
		return nil, fmt.Errorf("x25519 from ed25519: %w", err)
	}
	x := p.BytesMontgomery()
	montgomeryKeys.put(string(pub), x)
	return x, nil
}

// X25519PrivateFromEd25519 returns the X25519 private key that matches
// [X25519PublicFromEd25519] of priv's public key: the first 32 bytes of
// SHA-512 of the seed, clamped, which is the secret scalar Ed25519 signs with.
// The result is secret; callers should zero it when done. It panics if priv is
// not [ed25519.PrivateKeySize] bytes long.
func X25519PrivateFromEd25519(priv ed25519.PrivateKey) []byte {
	if len(priv) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("core: X25519PrivateFromEd25519: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize))
	}
	h := sha512.Sum512(priv[:ed25519.SeedSize])
	defer clear(h[:]) // the second half is Ed25519's secret nonce prefix
	k := make([]byte, X25519KeySize)
	copy(k, h[:X25519KeySize])
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64
	return k
}
