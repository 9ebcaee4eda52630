package didcomm

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mr-tron/base58"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/jws"
	"planet/core/keys"
)

// Keys: the public keys DIDComm reads from DID documents and JWKs, and the
// secret keys a party holds, found by kid and never handed out.

// Curve names, as JWK's crv has them.
const (
	CurveX25519  = "X25519"
	CurveP256    = "P-256"
	CurveP384    = "P-384"
	CurveP521    = "P-521"
	curveEd25519 = "Ed25519"
)

// An AgreementKey is a secret key agreement key: it computes shared secrets
// with others' public keys and does not reveal itself. A *ecdh.PrivateKey is
// one; so is what [IdentityKeys] makes of a persona's key. Keeping the
// interface this small lets a key live where it cannot be read (the vault,
// WebCrypto) and be used all the same.
type AgreementKey interface {
	// PublicKey returns the public key, whose Curve is the key's curve.
	PublicKey() *ecdh.PublicKey
	// ECDH returns the shared secret with remote, a key of the same curve.
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

var _ AgreementKey = (*ecdh.PrivateKey)(nil)

// A Signer signs with a secret Ed25519 key it does not reveal.
// *identity.SigningKey is one.
type Signer interface {
	Public() ed25519.PublicKey
	Sign(message []byte) []byte
}

var _ Signer = (*identity.SigningKey)(nil)

// A Keyring holds a party's secret key agreement keys and finds them by
// kid, the absolute DID URL of the verification method whose public key
// they match ("did:peer:2…#key-2"). [Unpack] asks it for the recipient kids
// of an encrypted message; [Pack] for the sender's key of an authcrypt.
type Keyring interface {
	// AgreementKey returns the key of kid, and whether it holds one.
	AgreementKey(kid string) (AgreementKey, bool)
}

// Keys is a Keyring in memory. Its zero value is empty and ready; it is
// safe for concurrent use.
type Keys struct {
	mu sync.RWMutex
	m  map[string]AgreementKey
}

var _ Keyring = (*Keys)(nil)

// Add adds key under kid, replacing what kid held.
func (k *Keys) Add(kid string, key AgreementKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[string]AgreementKey)
	}
	k.m[kid] = key
}

// AgreementKey implements [Keyring]. A nil *Keys holds nothing.
func (k *Keys) AgreementKey(kid string) (AgreementKey, bool) {
	if k == nil {
		return nil, false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.m[kid]
	return key, ok
}

// String prints the kids only, never a key.
func (k *Keys) String() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	kids := make([]string, 0, len(k.m))
	for kid := range k.m {
		kids = append(kids, kid)
	}
	return "Keys(secret: " + strings.Join(kids, ", ") + ")"
}

// IdentityKeys returns a Keyring with the persona's X25519 key (the one
// [identity.Identity.X25519Private] derives from its Ed25519 key) under every
// key agreement kid of docs that lists that key: the documents of its
// did:key and of the did:peer:2 DIDs made from its key. A document that does
// not list the key adds nothing. Later, pairwise relationship keys go into a
// [Keys] beside it.
func IdentityKeys(id *identity.Identity, docs ...*did.Document) (*Keys, error) {
	secret := id.X25519Private()
	priv, err := ecdh.X25519().NewPrivateKey(secret)
	clear(secret)
	if err != nil {
		return nil, fmt.Errorf("identity keys: %w", err)
	}
	mine := priv.PublicKey().Bytes()
	k := new(Keys)
	for _, doc := range docs {
		for _, ref := range doc.KeyAgreement {
			key, err := doc.X25519Key(ref)
			if err == nil && string(key) == string(mine) {
				k.Add(doc.Absolute(ref), priv)
			}
		}
	}
	return k, nil
}

// publicKey is a public key read from a DID document or a JWK.
type publicKey struct {
	crv   string // a Curve… constant, or "Ed25519"
	ecdh  *ecdh.PublicKey
	ed    ed25519.PublicKey
	ecdsa *ecdsa.PublicKey // P-256 keys, for ES256
}

// ecdhCurve returns the crypto/ecdh curve of a JWK crv, if PLANET does key
// agreement on it.
func ecdhCurve(crv string) (ecdh.Curve, bool) {
	switch crv {
	case CurveX25519:
		return ecdh.X25519(), true
	case CurveP256:
		return ecdh.P256(), true
	case CurveP384:
		return ecdh.P384(), true
	case CurveP521:
		return ecdh.P521(), true
	}
	return nil, false
}

// curveName returns the crv of a crypto/ecdh curve.
func curveName(c ecdh.Curve) string {
	switch c {
	case ecdh.X25519():
		return CurveX25519
	case ecdh.P256():
		return CurveP256
	case ecdh.P384():
		return CurveP384
	case ecdh.P521():
		return CurveP521
	}
	return fmt.Sprint(c)
}

// coordinateSize is the size of a NIST curve's coordinates, in bytes.
func coordinateSize(crv string) int {
	switch crv {
	case CurveP256:
		return 32
	case CurveP384:
		return 48
	case CurveP521:
		return 66
	}
	return 0
}

// parseJWK reads a public JWK (as a DID document or an epk holds it):
// kty OKP with crv X25519 or Ed25519, or kty EC with crv P-256, P-384 or
// P-521, coordinates in strict base64url of exactly the curve's size, the
// point checked (on the curve, not of small order). secp256k1 keys are
// refused with ErrUnsupported.
func parseJWK(k did.JWK) (*publicKey, error) {
	x, err := jws.Base64.DecodeString(k.X)
	if err != nil {
		return nil, errors.New("its x is not base64url")
	}
	switch {
	case k.Kty == "OKP" && k.Crv == CurveX25519:
		if k.Y != "" {
			return nil, errors.New("an X25519 key has a y")
		}
		if err := keys.CheckX25519Public(x); err != nil {
			return nil, err
		}
		pub, err := ecdh.X25519().NewPublicKey(x)
		if err != nil {
			return nil, err
		}
		return &publicKey{crv: CurveX25519, ecdh: pub}, nil
	case k.Kty == "OKP" && k.Crv == curveEd25519:
		if k.Y != "" {
			return nil, errors.New("an Ed25519 key has a y")
		}
		if err := keys.CheckEd25519(x); err != nil {
			return nil, err
		}
		return &publicKey{crv: curveEd25519, ed: ed25519.PublicKey(x)}, nil
	case k.Kty == "EC" && coordinateSize(k.Crv) > 0:
		y, err := jws.Base64.DecodeString(k.Y)
		if err != nil {
			return nil, errors.New("its y is not base64url")
		}
		n := coordinateSize(k.Crv)
		if len(x) != n || len(y) != n {
			return nil, fmt.Errorf("its coordinates are not %d bytes each", n)
		}
		point := append(append([]byte{4}, x...), y...)
		curve, _ := ecdhCurve(k.Crv)
		// NewPublicKey refuses points off the curve and the point at
		// infinity: the invalid-curve attack DIDComm warns of.
		pub, err := curve.NewPublicKey(point)
		if err != nil {
			return nil, fmt.Errorf("its point is not on %s", k.Crv)
		}
		pk := &publicKey{crv: k.Crv, ecdh: pub}
		if k.Crv == CurveP256 {
			if pk.ecdsa, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point); err != nil {
				return nil, fmt.Errorf("its point is not on %s", k.Crv)
			}
		}
		return pk, nil
	case k.Kty == "EC" && k.Crv == "secp256k1":
		return nil, unsupported("secp256k1 keys are not supported")
	}
	return nil, unsupported("keys of type %q on curve %q are not supported", k.Kty, k.Crv)
}

// jwkOf returns the public JWK of a key agreement key.
func jwkOf(pub *ecdh.PublicKey) did.JWK {
	crv := curveName(pub.Curve())
	if crv == CurveX25519 {
		return did.JWK{Kty: "OKP", Crv: crv, X: jws.Base64.EncodeToString(pub.Bytes())}
	}
	b := pub.Bytes()[1:] // 0x04 || x || y
	n := len(b) / 2
	return did.JWK{Kty: "EC", Crv: crv, X: jws.Base64.EncodeToString(b[:n]), Y: jws.Base64.EncodeToString(b[n:])}
}

// methodKey returns the public key of a verification method, whichever of
// the forms DID documents use it is in: Multikey or a 2020 suite
// (publicKeyMultibase, "z6Mk…" or "z6LS…"), JsonWebKey2020 (publicKeyJwk),
// or the 2018 and 2019 suites (publicKeyBase58).
func methodKey(vm did.VerificationMethod) (*publicKey, error) {
	switch {
	case vm.PublicKeyJwk != nil:
		pk, err := parseJWK(*vm.PublicKeyJwk)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", vm.ID, err)
		}
		return pk, nil
	case vm.PublicKeyMultibase != "":
		code, key, err := keys.DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", vm.ID, err)
		}
		switch code {
		case keys.CodecEd25519Pub:
			return parseJWK(did.JWK{Kty: "OKP", Crv: curveEd25519, X: jws.Base64.EncodeToString(key)})
		case keys.CodecX25519Pub:
			return parseJWK(did.JWK{Kty: "OKP", Crv: CurveX25519, X: jws.Base64.EncodeToString(key)})
		}
		return nil, unsupported("key %s is a %s key", vm.ID, code)
	case vm.PublicKeyBase58 != "":
		key, err := base58.Decode(vm.PublicKeyBase58)
		if err != nil {
			return nil, fmt.Errorf("key %s is not base58", vm.ID)
		}
		switch vm.Type {
		case "Ed25519VerificationKey2018":
			return parseJWK(did.JWK{Kty: "OKP", Crv: curveEd25519, X: jws.Base64.EncodeToString(key)})
		case "X25519KeyAgreementKey2019":
			return parseJWK(did.JWK{Kty: "OKP", Crv: CurveX25519, X: jws.Base64.EncodeToString(key)})
		}
		return nil, unsupported("key %s is of type %q", vm.ID, vm.Type)
	}
	return nil, unsupported("key %s holds no key material PLANET reads", vm.ID)
}

// documentKey returns the public key of the verification method kid of doc,
// which must be listed in relationship (doc.KeyAgreement or
// doc.Authentication): a key serves only the purpose its document gives it.
func documentKey(doc *did.Document, kid string, relationship []string, purpose string) (*publicKey, error) {
	if !doc.Lists(relationship, kid) {
		return nil, fmt.Errorf("%s is not a %s key of %s", kid, purpose, doc.ID)
	}
	vm, ok := doc.FindVerificationMethod(kid)
	if !ok {
		return nil, fmt.Errorf("%s is not in the document of %s", kid, doc.ID)
	}
	return methodKey(vm)
}

// kidDID returns the DID of a DID URL kid: the part before "#".
func kidDID(kid string) (did.DID, error) {
	d, frag, ok := strings.Cut(kid, "#")
	if !ok || frag == "" {
		return did.DID{}, fmt.Errorf("%q is not a DID URL with a fragment", kid)
	}
	return did.ParseAnyMethod(d)
}
