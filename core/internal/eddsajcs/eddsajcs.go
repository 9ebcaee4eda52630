// Package eddsajcs computes what the eddsa-jcs-2022 Data Integrity
// cryptosuite (W3C vc-di-eddsa, "eddsa-jcs-2022") signs, and reads and
// writes its proof values. It is the one place both the credential formats
// (core/vc) and the did:webvh log (core/did/webvh) take the algorithm from,
// so the two cannot drift apart.
//
// The signed bytes are SHA-256(JCS(proof configuration)) followed by
// SHA-256(JCS(document without its proof)), where the configuration is the
// proof without proofValue and carries the document's @context when the
// document has one. JCS is RFC 8785 (package core/jcs).
package eddsajcs

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"planet/core/jcs"

	"github.com/mr-tron/base58"
)

// Hash returns what eddsa-jcs-2022 signs for doc (a decoded JSON object;
// its "proof" member, if any, is left out) and proof (whose "proofValue",
// if any, is left out).
func Hash(doc, proof map[string]any) ([]byte, error) {
	unsecured := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsecured[k] = v
		}
	}
	config := make(map[string]any, len(proof))
	for k, v := range proof {
		if k != "proofValue" {
			config[k] = v
		}
	}
	if ctx, ok := unsecured["@context"]; ok {
		config["@context"] = ctx
	}
	canonicalDoc, err := Canonical(unsecured)
	if err != nil {
		return nil, err
	}
	canonicalConfig, err := Canonical(config)
	if err != nil {
		return nil, err
	}
	c, d := sha256.Sum256(canonicalConfig), sha256.Sum256(canonicalDoc)
	return append(c[:], d[:]...), nil
}

// Canonical returns the RFC 8785 form of a decoded JSON value (as
// [jcs.Decode] gives, or any value encoding/json marshals).
func Canonical(v any) ([]byte, error) {
	data, err := jcs.Encode(v)
	if err != nil {
		return nil, err
	}
	return jcs.Canonicalize(data)
}

// EncodeProofValue returns the proofValue of an Ed25519 signature:
// multibase base58btc, "z…".
func EncodeProofValue(sig []byte) string { return "z" + base58.Encode(sig) }

// DecodeProofValue decodes a proofValue: multibase base58btc ("z…") of a
// 64-byte Ed25519 signature, in its one canonical spelling.
func DecodeProofValue(s string) ([]byte, error) {
	b58, ok := strings.CutPrefix(s, "z")
	if !ok {
		return nil, errors.New("proofValue is not multibase base58btc (must start with 'z')")
	}
	sig, err := base58.Decode(b58)
	if err != nil {
		return nil, fmt.Errorf("proofValue is not base58btc: %w", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("proofValue holds %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	if base58.Encode(sig) != b58 {
		return nil, errors.New("proofValue is not canonical base58btc")
	}
	return sig, nil
}
