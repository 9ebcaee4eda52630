// Package jws writes and reads the one kind of JSON Web Signature PLANET
// makes: compact serialisation (RFC 7515) signed with Ed25519 (EdDSA, RFC
// 8037), whose protected header holds exactly alg, kid and typ, in that
// order. Invitation tokens and signed messages are both of this form.
//
// It is written here rather than through jwx's generic JWS code, which costs
// three times the signature itself in the browser; the tests of the formats
// built on it check that jwx reads what this writes, and the other way
// round. The checks of a header's contents (which typ, which kid) belong to
// those formats.
package jws

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"planet/core/jcs"
)

// Base64 is the base64url encoding without padding that JOSE uses, strict,
// so that the unused low bits of the last digit must be zero and every value
// has one spelling.
var Base64 = base64.RawURLEncoding.Strict()

// AlgEdDSA is the alg of every JWS PLANET writes or accepts.
const AlgEdDSA = "EdDSA"

// Header is the protected header of the JWSs PLANET writes, in the order of
// its members.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// A Signer signs with an Ed25519 private key it does not reveal.
type Signer interface {
	Sign(message []byte) []byte
}

// Sign signs payload with key as a compact JWS whose header names kid and
// typ.
func Sign(key Signer, kid, typ string, payload []byte) ([]byte, error) {
	hdr, err := jcs.Encode(Header{Alg: AlgEdDSA, Kid: kid, Typ: typ})
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	n := Base64.EncodedLen(len(hdr)) + 1 + Base64.EncodedLen(len(payload))
	token := make([]byte, n, n+1+Base64.EncodedLen(ed25519.SignatureSize))
	Base64.Encode(token, hdr)
	token[Base64.EncodedLen(len(hdr))] = '.'
	Base64.Encode(token[Base64.EncodedLen(len(hdr))+1:], payload)
	sig := key.Sign(token)
	token = append(token, '.')
	return Base64.AppendEncode(token, sig), nil
}

// Split takes a compact JWS apart into its decoded header, payload and
// signature, checking only that there are three base64url parts. Its errors
// describe the token ("its header is not base64url"), for the caller to
// wrap.
func Split(token string) (header, payload, sig []byte, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, nil, errors.New("it is not three parts separated by dots")
	}
	if header, err = Base64.DecodeString(parts[0]); err != nil {
		return nil, nil, nil, errors.New("its header is not base64url")
	}
	if payload, err = Base64.DecodeString(parts[1]); err != nil {
		return nil, nil, nil, errors.New("its content is not base64url")
	}
	if sig, err = Base64.DecodeString(parts[2]); err != nil {
		return nil, nil, nil, errors.New("its signature is not base64url")
	}
	return header, payload, sig, nil
}

// Verify reports whether token, a compact JWS, carries exactly payload and a
// valid Ed25519 signature by pub over its header and payload. The header
// itself (alg EdDSA, the kid) is the caller's to have checked.
func Verify(token []byte, pub ed25519.PublicKey, payload []byte) bool {
	dot := bytes.LastIndexByte(token, '.')
	if dot < 0 || len(pub) != ed25519.PublicKeySize {
		return false
	}
	input, encSig := token[:dot], token[dot+1:]
	first := bytes.IndexByte(input, '.')
	if first < 0 {
		return false
	}
	got, err := Base64.AppendDecode(nil, input[first+1:])
	if err != nil || !bytes.Equal(got, payload) {
		return false
	}
	sig, err := Base64.AppendDecode(nil, encSig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, input, sig)
}
