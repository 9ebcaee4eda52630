// Package identitytest makes identities and signatures for tests: an
// identity named by a label, always the same for the same label, and a
// compact JWS signed over whatever header and payload a test writes, to
// build tokens and messages that must be refused.
package identitytest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"planet/core/identity"
	"planet/core/internal/jws"
)

// Seeded returns the identity whose seed is SHA-256 of label.
func Seeded(tb testing.TB, label string) *identity.Identity {
	tb.Helper()
	seed := sha256.Sum256([]byte("planet invitation test identity " + label))
	id, err := identity.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// SignCompact makes a compact JWS from raw header and payload JSON, signed
// by priv (nil: an empty signature), bypassing every check PLANET's signers
// make.
func SignCompact(priv ed25519.PrivateKey, header, payload []byte) string {
	input := jws.Base64.EncodeToString(header) + "." + jws.Base64.EncodeToString(payload)
	var sig []byte
	if priv != nil {
		sig = ed25519.Sign(priv, []byte(input))
	}
	return input + "." + jws.Base64.EncodeToString(sig)
}
