package didcomm

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"planet/core/internal/jws"
	"planet/core/jcs"
)

// DIDComm signed messages: a JWS (RFC 7515) in JSON serialization over the
// plaintext, one signature. docs/didcomm.md, "Signed messages", is the
// specification. PLANET signs with EdDSA (Ed25519) and writes the General
// form, the kid both in the protected header (so that the signature covers
// it) and in the unprotected one (where didcomm-rust looks for it); it
// verifies EdDSA and ES256, General or Flattened.

// Signature algorithms of signed messages.
const (
	AlgEdDSA = "EdDSA" // Ed25519 (RFC 8037): signed and verified
	AlgES256 = "ES256" // ECDSA on P-256 with SHA-256: verified only
)

// signJWS returns the General JSON JWS of payload, signed by signer as kid.
func signJWS(signer Signer, kid string, payload []byte) []byte {
	var hdr objectWriter
	hdr.str("typ", SignedMediaType)
	hdr.str("alg", AlgEdDSA)
	hdr.str("kid", kid)
	protected := jws.Base64.EncodeToString(hdr.close())
	payload64 := jws.Base64.EncodeToString(payload)
	sig := signer.Sign([]byte(protected + "." + payload64))

	var h, s objectWriter
	h.str("kid", kid)
	s.str("protected", protected)
	s.str("signature", jws.Base64.EncodeToString(sig))
	s.raw("header", h.close())
	var list objectList
	list.add(s.close())
	var out objectWriter
	out.str("payload", payload64)
	out.raw("signatures", list.bytes())
	return out.close()
}

// jwsMessage is a signed message taken apart and checked for form.
type jwsMessage struct {
	payload64 string // as written: the signing input is protected "." payload64
	payload   []byte
	protected string
	alg       string
	kid       string
	signature []byte
}

// parseJWS reads a signed message in General (one signature) or Flattened
// JSON serialization. The protected header holds alg, typ (optional, the
// signed media type) and maybe kid; the unprotected header at most kid.
// The kid is taken from either, and must agree when in both. crit, b64,
// jwk and every other member are refused.
func parseJWS(obj map[string]any) (*jwsMessage, error) {
	sigObj := obj
	if list, ok := obj["signatures"]; ok {
		for name := range obj {
			if name != "payload" && name != "signatures" {
				return nil, fmt.Errorf("has the member %q beside its signatures", name)
			}
		}
		sigs, ok := list.([]any)
		if !ok || len(sigs) != 1 {
			return nil, errors.New("does not have exactly one signature")
		}
		if sigObj, ok = sigs[0].(map[string]any); !ok {
			return nil, errors.New("has a signature that is not a JSON object")
		}
	}
	for name := range sigObj {
		switch name {
		case "protected", "header", "signature":
		case "payload":
			if _, general := obj["signatures"]; !general {
				continue
			}
			fallthrough
		default:
			return nil, fmt.Errorf("has the member %q in its signature", name)
		}
	}
	var m jwsMessage
	var ok bool
	if m.payload64, ok = obj["payload"].(string); !ok {
		return nil, errors.New(`has no "payload"`)
	}
	var err error
	if m.payload, err = jws.Base64.DecodeString(m.payload64); err != nil {
		return nil, errors.New("has a payload that is not base64url")
	}
	if m.protected, ok = sigObj["protected"].(string); !ok {
		return nil, errors.New(`has no "protected" header`)
	}
	hdrBytes, err := jws.Base64.DecodeString(m.protected)
	if err != nil {
		return nil, errors.New("has a protected header that is not base64url")
	}
	hdr, err := jcs.DecodeObject(hdrBytes)
	if err != nil {
		return nil, fmt.Errorf("has a protected header that %v", err)
	}
	for name := range hdr {
		if name != "typ" && name != "alg" && name != "kid" {
			return nil, fmt.Errorf("has the protected header member %q, which PLANET does not accept", name)
		}
	}
	if typ, present := hdr["typ"]; present {
		if s, _ := typ.(string); !isMediaType(s, SignedMediaType) {
			return nil, fmt.Errorf("has typ %q, want %q", typ, SignedMediaType)
		}
	}
	m.alg, _ = hdr["alg"].(string)
	switch m.alg {
	case AlgEdDSA, AlgES256:
	case "ES256K":
		return nil, unsupported("ES256K (secp256k1) signatures are not supported")
	default:
		// "none" and HMAC above all.
		return nil, unsupported("the signature algorithm %q is not supported", hdr["alg"])
	}
	kid, kidOK := hdr["kid"].(string)
	if _, present := hdr["kid"]; present && !kidOK {
		return nil, errors.New("has a kid that is not a string")
	}
	if u, present := sigObj["header"]; present {
		uh, ok := u.(map[string]any)
		if !ok || len(uh) != 1 {
			return nil, errors.New("has an unprotected header that is not {kid}")
		}
		ukid, ok := uh["kid"].(string)
		if !ok {
			return nil, errors.New("has an unprotected header whose kid is not a string")
		}
		if kid != "" && kid != ukid {
			return nil, errors.New("names one kid in its protected header and another in its unprotected one")
		}
		kid = ukid
	}
	if _, err := kidDID(kid); err != nil {
		return nil, fmt.Errorf("has a kid that %v", err)
	}
	m.kid = kid
	if m.signature, err = b64Member(sigObj, "signature"); err != nil {
		return nil, err
	}
	return &m, nil
}

// verify checks the signature with pub, a key of the kind alg needs.
func (m *jwsMessage) verify(pub *publicKey) error {
	input := []byte(m.protected + "." + m.payload64)
	switch m.alg {
	case AlgEdDSA:
		if pub.ed == nil {
			return fmt.Errorf("%s is not an Ed25519 key, which EdDSA needs", m.kid)
		}
		if len(m.signature) != ed25519.SignatureSize || !ed25519.Verify(pub.ed, input, m.signature) {
			return errors.New("the signature does not verify")
		}
	case AlgES256:
		if pub.ecdsa == nil {
			return fmt.Errorf("%s is not a P-256 key, which ES256 needs", m.kid)
		}
		if len(m.signature) != 64 {
			return errors.New("the signature is not 64 bytes")
		}
		h := sha256.Sum256(input)
		r := new(big.Int).SetBytes(m.signature[:32])
		s := new(big.Int).SetBytes(m.signature[32:])
		if !ecdsa.Verify(pub.ecdsa, h[:], r, s) {
			return errors.New("the signature does not verify")
		}
	}
	return nil
}
