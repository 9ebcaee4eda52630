package didcomm

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"testing"

	"planet/core/identity"
)

// b64 is JOSE's base64url without padding, for tests that build tokens by
// hand next to jwx's jws package.
var b64 = base64.RawURLEncoding.Strict()

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func seededIdentity(tb testing.TB, label string) *identity.Identity {
	tb.Helper()
	seed := sha256.Sum256([]byte("planet invitation test identity " + label))
	id, err := identity.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// signCompact makes a compact JWS from raw header and payload JSON, signed
// by priv (nil: an empty signature), bypassing every check the signers
// make, to build tokens that must be refused.
func signCompact(priv ed25519.PrivateKey, header, payload []byte) string {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	var sig []byte
	if priv != nil {
		sig = ed25519.Sign(priv, []byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

// ChatMessageType is the type of PLANET's chat messages (package core),
// the typical message a person sends.
const ChatMessageType = "planet:chat/1.0/message"
