package didcomm

import (
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/jws"
	"planet/core/jcs"
	"planet/core/keys"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

// Sealed envelopes: how a signed message travels when its recipient is not
// online, through the mailbox and any relay, which see only ciphertext.
// docs/envelope.md is the specification; in short:
//
// An envelope is a JWE (RFC 7516) in compact serialization: five base64url
// segments without padding, separated by ".". Its protected header holds
// exactly these members:
//
//	alg  "ECDH-ES+A256KW": an ephemeral X25519 key agreement with the
//	     recipient's key (RFC 8037), Concat KDF, and the content key
//	     wrapped with AES-256 key wrap
//	enc  "A256GCM"
//	epk  the ephemeral public key: {"kty":"OKP","crv":"X25519","x":…}
//	kid  the recipient's key agreement key, a DID URL
//	     ("did:key:z6Mk…#z6LS…", "did:peer:2…#key-2")
//	apv  base64url of SHA-256 of kid, as DIDComm v2 derives it from the
//	     recipients' kids, binding the key to the recipient it was meant for
//	typ  "application/didcomm-encrypted+json"
//
// There is no skid and no apu: the envelope is anonymous (DIDComm
// "anoncrypt"); who sent it is said, and proved, only by the signed message
// inside (sign, then encrypt), which the recipient verifies after
// decrypting. The plaintext of the JWE is that signed message, exactly as
// [Sign] made it.
//
// Compact serialization keeps every header member under the integrity
// check (a JSON JWE may carry unprotected ones) and has one spelling to
// parse. It carries the same cryptographic values as DIDComm's general JSON
// serialization: protected, encrypted_key, iv, ciphertext and tag, the
// protected header being the authenticated data in both, so an envelope
// can be rewritten into that form for a DIDComm mediator without
// re-encrypting.
//
// ECDH-ES+A256KW rather than direct ECDH-ES: the content is encrypted under
// a random key that is then wrapped for the recipient, which is what DIDComm
// anoncrypt uses, and what lets one envelope later be addressed to several
// keys (a person's devices) with one ciphertext. It costs 40 bytes.

// Names in the protected header of an envelope.
const (
	envelopeAlg = "ECDH-ES+A256KW"
	envelopeEnc = "A256GCM"
)

// MaxEnvelopeSize is the largest envelope, in bytes, that [Seal] makes and
// [Unseal] reads, the size of a mailbox letter: a signed message of
// [MaxSize], encoded once more in base64url (4/3 as large), with its
// header, as long as the recipient's kid is not unusually long (a did:key's
// is about 110 bytes; a did:peer:2 with many services may not leave room).
const MaxEnvelopeSize = 64 << 10

// Sizes of an envelope's binary parts.
const (
	wrappedKeySize = 40 // a 256-bit key wrapped with AES key wrap
	gcmIVSize      = 12
	gcmTagSize     = 16
)

// ErrEnvelope is returned by [Seal], [SealSigned], [Unseal] and [UnsealSigned],
// wrapped with a sentence that names what failed: an envelope that is not in
// the format, is larger than [MaxEnvelopeSize], was sealed to another key, or
// was altered; a recipient without a key to seal to. When the message inside
// is at fault, the error also wraps the [Verify] error that says why
// ([ErrForged], …).
var ErrEnvelope = errors.New("sealed envelope refused")

func envelopeError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEnvelope, fmt.Sprintf(format, args...))
}

// Seal signs m as from ([Sign]) and seals it to the recipient to,
// which must be among m's recipients. It encrypts to the first X25519 key
// agreement key of to's DID document (did:key or did:peer:2).
func Seal(from *identity.Identity, to did.DID, m Message) ([]byte, error) {
	if !m.AddressedTo(to) {
		return nil, envelopeError("the message is not addressed to %s", to)
	}
	signed, err := Sign(from, m)
	if err != nil {
		return nil, err
	}
	return sealPayload(to, signed)
}

// SealSigned seals signed, a message already signed by [Sign] (such
// as the one [Planet.NewChat] returns), to the recipient to, which must be
// among its recipients. The signature is not checked again here: the
// recipient checks it when it opens the envelope.
func SealSigned(to did.DID, signed []byte) ([]byte, error) {
	sm, err := ParseSigned(signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	if !sm.Message.AddressedTo(to) {
		return nil, envelopeError("the message is not addressed to %s", to)
	}
	return sealPayload(to, signed)
}

// sealPayload encrypts payload to the key agreement key of to.
func sealPayload(to did.DID, payload []byte) ([]byte, error) {
	kid, key, err := keyAgreementKey(to)
	if err != nil {
		return nil, envelopeError("%s has no key to seal to: %v", to, err)
	}
	pub, err := ecdh.X25519().NewPublicKey(key)
	if err != nil {
		return nil, envelopeError("%s has no key to seal to: %v", to, err)
	}
	hdr := jwe.NewHeaders()
	if err := hdr.Set(jwe.TypeKey, EncryptedMediaType); err != nil {
		return nil, err
	}
	// jwx takes the kid and the apv that enter the key derivation from the
	// recipient's headers; in compact form they land in the protected one.
	rh := jwe.NewHeaders()
	if err := rh.Set(jwe.KeyIDKey, kid); err != nil {
		return nil, err
	}
	if err := rh.Set(jwe.AgreementPartyVInfoKey, envelopeAPV(kid)); err != nil {
		return nil, err
	}
	sealed, err := jwe.Encrypt(payload,
		jwe.WithContentEncryption(jwa.A256GCM()),
		jwe.WithProtectedHeaders(hdr),
		jwe.WithKey(jwa.ECDH_ES_A256KW(), pub, jwe.WithPerRecipientHeaders(rh)))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(sealed) > MaxEnvelopeSize {
		return nil, envelopeError("it would be %d bytes, at most %d are allowed", len(sealed), MaxEnvelopeSize)
	}
	return sealed, nil
}

// envelopeAPV is the apv of an envelope to the key kid: SHA-256 of the
// recipients' kids, sorted and joined with ".", as DIDComm v2 has it; with
// one recipient, of its kid.
func envelopeAPV(kid string) []byte {
	sum := sha256.Sum256([]byte(kid))
	return sum[:]
}

// keyAgreementKey returns the first X25519 key agreement key of d's
// document, and its absolute DID URL.
func keyAgreementKey(d did.DID) (kid string, key []byte, err error) {
	doc, err := did.Resolve(d)
	if err != nil {
		return "", nil, err
	}
	for _, ref := range doc.KeyAgreement {
		if key, err := doc.X25519Key(ref); err == nil {
			return doc.Absolute(ref), key, nil
		}
	}
	return "", nil, errors.New("its document lists no X25519 key agreement key")
}

// Unseal opens an envelope sealed to me at time now and returns the
// message inside, verified as [Verify] does. See [UnsealSigned].
func Unseal(me *identity.Identity, data []byte, now time.Time) (*Message, error) {
	m, _, err := UnsealSigned(me, data, now)
	return m, err
}

// UnsealSigned opens an envelope sealed to me at time now and returns the
// message inside, verified as [Verify] does, and the signed message
// itself, for [Planet.ReceiveChat] or for keeping as evidence.
//
// It refuses, with an error wrapping [ErrEnvelope] that names what failed:
// an envelope larger than [MaxEnvelopeSize] or not in the format (any other
// header member, such as zip, skid or crit, included); one sealed to a key
// that is not me's; one that does not decrypt, which means it was altered;
// a message inside that is not signed, does not verify (the error also
// wraps the reason from [Verify]), or is not addressed to the DID the
// envelope was sealed to. It never panics on any input, but it does once
// me was wiped.
func UnsealSigned(me *identity.Identity, data []byte, now time.Time) (*Message, []byte, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, nil, envelopeError("it is %d bytes, at most %d are allowed", len(data), MaxEnvelopeSize)
	}
	parts := strings.Split(string(data), ".")
	if len(parts) != 5 {
		return nil, nil, envelopeError("it is not five parts separated by dots")
	}
	var raw [5][]byte
	for i, name := range []string{"header", "encrypted key", "iv", "ciphertext", "tag"} {
		b, err := jws.Base64.DecodeString(parts[i])
		if err != nil {
			return nil, nil, envelopeError("its %s is not base64url", name)
		}
		raw[i] = b
	}
	kid, err := checkEnvelopeHeader(raw[0])
	if err != nil {
		return nil, nil, envelopeError("its header %v", err)
	}
	switch {
	case len(raw[1]) != wrappedKeySize:
		return nil, nil, envelopeError("its encrypted key is %d bytes, want %d", len(raw[1]), wrappedKeySize)
	case len(raw[2]) != gcmIVSize:
		return nil, nil, envelopeError("its iv is %d bytes, want %d", len(raw[2]), gcmIVSize)
	case len(raw[3]) == 0:
		return nil, nil, envelopeError("it has no ciphertext")
	case len(raw[4]) != gcmTagSize:
		return nil, nil, envelopeError("its tag is %d bytes, want %d", len(raw[4]), gcmTagSize)
	}

	// Whom it was sealed to: the DID in kid, whose key agreement key kid
	// must be, and that key must be me's.
	didPart, _, _ := strings.Cut(kid, "#")
	recipient, err := did.Parse(didPart)
	if err != nil {
		return nil, nil, envelopeError("it is sealed to %q, which is not a DID URL", kid)
	}
	doc, err := did.Resolve(recipient)
	if err != nil {
		return nil, nil, envelopeError("its recipient %s cannot be resolved: %v", recipient, err)
	}
	key, err := doc.X25519Key(kid)
	if err != nil {
		return nil, nil, envelopeError("it is sealed to %q: %v", kid, err)
	}
	mine, err := keys.X25519PublicFromEd25519(me.PublicKey())
	if err != nil || string(key) != string(mine) {
		return nil, nil, envelopeError("it is sealed to %s, not to you", recipient)
	}

	secret := me.X25519Private()
	priv, err := ecdh.X25519().NewPrivateKey(secret)
	clear(secret)
	if err != nil {
		return nil, nil, fmt.Errorf("open envelope: %w", err)
	}
	signed, err := jwe.Decrypt(data, jwe.WithKey(jwa.ECDH_ES_A256KW(), priv))
	if err != nil {
		return nil, nil, envelopeError("it does not decrypt: it was altered, or sealed with another key than its header says")
	}
	m, err := Verify(signed, now)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the message inside: %w", ErrEnvelope, err)
	}
	if !m.AddressedTo(recipient) {
		return nil, nil, envelopeError("the message inside is addressed to others, not to %s", recipient)
	}
	return m, signed, nil
}

// checkEnvelopeHeader checks the protected header of an envelope, member by
// member, and returns its kid.
func checkEnvelopeHeader(data []byte) (string, error) {
	hdr, err := jcs.DecodeObject(data)
	if err != nil {
		return "", err
	}
	for name := range hdr {
		switch name {
		case "alg", "enc", "epk", "kid", "apv", "typ":
		default:
			// zip would have the reader inflate what anyone may send;
			// skid, apu and the rest belong to modes PLANET does not use.
			return "", fmt.Errorf("has the member %q, which PLANET does not accept", name)
		}
	}
	str := func(name string) string { s, _ := hdr[name].(string); return s }
	switch {
	case str("typ") != EncryptedMediaType:
		return "", fmt.Errorf("has type %q, want %q", str("typ"), EncryptedMediaType)
	case str("alg") != envelopeAlg:
		return "", fmt.Errorf("has algorithm %q, want %q", str("alg"), envelopeAlg)
	case str("enc") != envelopeEnc:
		return "", fmt.Errorf("has encryption %q, want %q", str("enc"), envelopeEnc)
	}
	epk, ok := hdr["epk"].(map[string]any)
	if !ok || len(epk) != 3 {
		return "", errors.New("has no ephemeral key of the form {kty, crv, x}")
	}
	if epk["kty"] != "OKP" || epk["crv"] != "X25519" {
		return "", errors.New("has an ephemeral key that is not an X25519 key")
	}
	x, _ := epk["x"].(string)
	xb, err := jws.Base64.DecodeString(x)
	if err != nil {
		return "", errors.New("has an ephemeral key that is not base64url")
	}
	if err := keys.CheckX25519Public(xb); err != nil {
		return "", fmt.Errorf("has an unusable ephemeral key: %v", err)
	}
	kid := str("kid")
	if kid == "" {
		return "", errors.New("names no recipient key")
	}
	apv, err := jws.Base64.DecodeString(str("apv"))
	if err != nil || string(apv) != string(envelopeAPV(kid)) {
		return "", errors.New("has an apv that does not match its kid")
	}
	return kid, nil
}
