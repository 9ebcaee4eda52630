package didcomm

import (
	"crypto/aes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwe/jwebb"
	"golang.org/x/crypto/chacha20poly1305"

	"planet/core/did"
	"planet/core/internal/jws"
	"planet/core/jcs"
)

// DIDComm encrypted messages: a JWE (RFC 7516) in General JSON
// serialization, one ciphertext for every recipient key, the key-wrapping
// key agreed with one ephemeral key (epk) common to all recipients.
// docs/didcomm.md, "Encrypted messages", is the specification.
//
// The content ciphers A256CBC-HS512 and A256GCM and AES key wrap are jwx's
// (its jwebb building blocks). The key agreement and its Concat KDF are
// written here: jwx's ECDH-ES gives each recipient an ephemeral key of its
// own in an unprotected header, where DIDComm puts one in the protected
// header for all, it has no ECDH-1PU, and it wants the private key itself
// where PLANET hands out only an [AgreementKey]. XC20P is
// golang.org/x/crypto's XChaCha20-Poly1305.

// Key-wrapping algorithms of DIDComm encrypted messages.
const (
	// AlgAnoncrypt is ECDH-ES with AES-256 key wrap (RFC 7518 §4.6):
	// the sender is anonymous.
	AlgAnoncrypt = "ECDH-ES+A256KW"
	// AlgAuthcrypt is ECDH-1PU with AES-256 key wrap
	// (draft-madden-jose-ecdh-1pu-04): the sender's static key enters the
	// agreement, which authenticates it to the recipients.
	AlgAuthcrypt = "ECDH-1PU+A256KW"
)

// ContentEncryption is a content encryption algorithm ("enc") of a DIDComm
// encrypted message.
type ContentEncryption string

// The content encryptions DIDComm v2.1 lists. Authcrypt allows only
// A256CBC-HS512, whose tag ECDH-1PU binds into the key agreement.
const (
	A256CBCHS512 ContentEncryption = "A256CBC-HS512" // AES-256-CBC with HMAC-SHA-512 (RFC 7518 §5.2.5); the default
	A256GCM      ContentEncryption = "A256GCM"       // AES-256-GCM
	XC20P        ContentEncryption = "XC20P"         // XChaCha20-Poly1305 (draft-amringer-jose-chacha)
)

// MaxJWERecipients is the most recipient keys of one encrypted message.
const MaxJWERecipients = 32

// sizes returns the CEK, IV and tag sizes of e, in bytes.
func (e ContentEncryption) sizes() (key, iv, tag int, ok bool) {
	switch e {
	case A256CBCHS512:
		return 64, 16, 32, true
	case A256GCM:
		return 32, 12, 16, true
	case XC20P:
		return 32, chacha20poly1305.NonceSizeX, chacha20poly1305.Overhead, true
	}
	return 0, 0, 0, false
}

// jwxEncrypter is the Encrypt of the cipher jwebb.CreateContentCipher
// returns, whose static type only shows Decrypt.
type jwxEncrypter interface {
	Encrypt(cek, plaintext, aad []byte) (iv, ciphertext, tag []byte, err error)
}

// sealContent encrypts plaintext under cek with a fresh IV.
func sealContent(e ContentEncryption, cek, plaintext, aad []byte) (iv, ciphertext, tag []byte, err error) {
	if e == XC20P {
		aead, err := chacha20poly1305.NewX(cek)
		if err != nil {
			return nil, nil, nil, err
		}
		iv = make([]byte, aead.NonceSize())
		rand.Read(iv)
		out := aead.Seal(nil, iv, plaintext, aad)
		n := len(out) - aead.Overhead()
		return iv, out[:n], out[n:], nil
	}
	c, err := jwebb.CreateContentCipher(string(e))
	if err != nil {
		return nil, nil, nil, err
	}
	enc, ok := c.(jwxEncrypter)
	if !ok {
		return nil, nil, nil, fmt.Errorf("content cipher %s cannot encrypt", e)
	}
	return enc.Encrypt(cek, plaintext, aad)
}

// openContent decrypts and authenticates; its error says only that it failed.
func openContent(e ContentEncryption, cek, iv, ciphertext, tag, aad []byte) ([]byte, error) {
	if e == XC20P {
		aead, err := chacha20poly1305.NewX(cek)
		if err != nil {
			return nil, err
		}
		sealed := append(slices.Clip(ciphertext), tag...)
		return aead.Open(nil, iv, sealed, aad)
	}
	c, err := jwebb.CreateContentCipher(string(e))
	if err != nil {
		return nil, err
	}
	return c.Decrypt(cek, iv, ciphertext, tag, aad)
}

// jweRecipient is one recipient key of an encrypted message.
type jweRecipient struct {
	kid          string
	encryptedKey []byte
}

// jweMessage is an encrypted message taken apart and checked for form.
type jweMessage struct {
	protected  string // the protected header as written, base64url: the AAD
	alg        string
	enc        ContentEncryption
	epk        *ecdh.PublicKey
	skid       string // authcrypt: the sender's key, from skid or apu
	apu, apv   []byte
	recipients []jweRecipient
	iv         []byte
	ciphertext []byte
	tag        []byte
}

// curve returns the crv of the message's keys.
func (m *jweMessage) curve() string { return curveName(m.epk.Curve()) }

// kids returns the recipients' kids, in the message's order.
func (m *jweMessage) kids() []string {
	out := make([]string, len(m.recipients))
	for i, r := range m.recipients {
		out[i] = r.kid
	}
	return out
}

// recipientsAPV is DIDComm's apv: SHA-256 of the recipients' kids, sorted
// and joined with ".".
func recipientsAPV(kids []string) []byte {
	sorted := slices.Clone(kids)
	slices.Sort(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, ".")))
	return sum[:]
}

// b64Member returns the base64url-decoded string member name of obj.
func b64Member(obj map[string]any, name string) ([]byte, error) {
	s, ok := obj[name].(string)
	if !ok {
		return nil, fmt.Errorf("has no %q, or one that is not a string", name)
	}
	b, err := jws.Base64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("has a %q that is not base64url", name)
	}
	return b, nil
}

// parseJWE reads the General JSON serialization of an encrypted message
// and checks its form: exactly the members protected, recipients, iv,
// ciphertext and tag; a protected header of the members and values
// docs/didcomm.md allows; each recipient exactly {header: {kid},
// encrypted_key}; the sizes of every binary part. It does not check apv
// against the kids: [decryptJWE]'s callers do, as DIDComm's rules say.
func parseJWE(obj map[string]any) (*jweMessage, error) {
	for name := range obj {
		switch name {
		case "protected", "recipients", "iv", "ciphertext", "tag":
		default:
			// aad and unprotected would let unauthenticated or extra data
			// ride along; flattened members mean another serialization.
			return nil, fmt.Errorf("has the member %q, which DIDComm encrypted messages do not use", name)
		}
	}
	var m jweMessage
	var ok bool
	if m.protected, ok = obj["protected"].(string); !ok {
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
	if err := m.readHeader(hdr); err != nil {
		if isUnsupported(err) {
			return nil, err
		}
		return nil, fmt.Errorf("has a protected header that %v", err)
	}

	list, ok := obj["recipients"].([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New(`has no "recipients" list`)
	}
	if len(list) > MaxJWERecipients {
		return nil, fmt.Errorf("has %d recipients, at most %d are allowed", len(list), MaxJWERecipients)
	}
	keySize, ivSize, tagSize, _ := m.enc.sizes()
	for i, e := range list {
		r, ok := e.(map[string]any)
		if !ok || len(r) != 2 {
			return nil, fmt.Errorf("has recipient %d that is not {header, encrypted_key}", i+1)
		}
		h, ok := r["header"].(map[string]any)
		if !ok || len(h) != 1 {
			return nil, fmt.Errorf("has recipient %d whose header is not {kid}", i+1)
		}
		kid, _ := h["kid"].(string)
		if _, err := kidDID(kid); err != nil {
			return nil, fmt.Errorf("has recipient %d whose kid %v", i+1, err)
		}
		if slices.ContainsFunc(m.recipients, func(r jweRecipient) bool { return r.kid == kid }) {
			return nil, fmt.Errorf("names recipient %s twice", kid)
		}
		ek, err := b64Member(r, "encrypted_key")
		if err != nil {
			return nil, fmt.Errorf("has recipient %d that %v", i+1, err)
		}
		if len(ek) != keySize+8 {
			return nil, fmt.Errorf("has recipient %d whose encrypted key is %d bytes, want %d", i+1, len(ek), keySize+8)
		}
		m.recipients = append(m.recipients, jweRecipient{kid: kid, encryptedKey: ek})
	}
	if m.iv, err = b64Member(obj, "iv"); err != nil {
		return nil, err
	}
	if len(m.iv) != ivSize {
		return nil, fmt.Errorf("has an iv of %d bytes, want %d for %s", len(m.iv), ivSize, m.enc)
	}
	if m.tag, err = b64Member(obj, "tag"); err != nil {
		return nil, err
	}
	if len(m.tag) != tagSize {
		return nil, fmt.Errorf("has a tag of %d bytes, want %d for %s", len(m.tag), tagSize, m.enc)
	}
	if m.ciphertext, err = b64Member(obj, "ciphertext"); err != nil {
		return nil, err
	}
	if len(m.ciphertext) == 0 {
		return nil, errors.New("has no ciphertext")
	}
	return &m, nil
}

// readHeader checks the protected header of an encrypted message.
func (m *jweMessage) readHeader(hdr map[string]any) error {
	for name := range hdr {
		switch name {
		case "typ", "cty", "alg", "enc", "epk", "apu", "apv", "skid":
		default:
			// zip would have the reader inflate what anyone may send; crit,
			// jku, jwk, x5u and the rest name what DIDComm does not use.
			return fmt.Errorf("has the member %q, which PLANET does not accept", name)
		}
	}
	str := func(name string) (string, bool) {
		v, present := hdr[name]
		s, ok := v.(string)
		return s, !present || ok
	}
	if typ, ok := str("typ"); !ok || typ != "" && !isMediaType(typ, EncryptedMediaType) {
		return fmt.Errorf("has typ %q, want %q", hdr["typ"], EncryptedMediaType)
	}
	if cty, ok := str("cty"); !ok || cty != "" && !isMediaType(cty, PlainMediaType) && !isMediaType(cty, SignedMediaType) && !isMediaType(cty, EncryptedMediaType) {
		return fmt.Errorf("has cty %q, which is not a DIDComm media type", hdr["cty"])
	}
	m.alg, _ = str("alg")
	enc, _ := str("enc")
	m.enc = ContentEncryption(enc)
	switch {
	case m.alg != AlgAnoncrypt && m.alg != AlgAuthcrypt:
		return unsupported("the key wrapping %q is not supported, only %s and %s", hdr["alg"], AlgAnoncrypt, AlgAuthcrypt)
	case m.alg == AlgAuthcrypt && m.enc != A256CBCHS512:
		return fmt.Errorf("has authcrypt with %q, which allows only %s", hdr["enc"], A256CBCHS512)
	}
	if _, _, _, ok := m.enc.sizes(); !ok {
		return unsupported("the content encryption %q is not supported", hdr["enc"])
	}
	epk, ok := hdr["epk"].(map[string]any)
	if !ok {
		return errors.New("has no epk")
	}
	for name := range epk {
		if name != "kty" && name != "crv" && name != "x" && name != "y" {
			return fmt.Errorf("has an epk with the member %q", name)
		}
	}
	var jwk did.JWK
	var okKty, okCrv, okX, okY bool
	jwk.Kty, okKty = epk["kty"].(string)
	jwk.Crv, okCrv = epk["crv"].(string)
	jwk.X, okX = epk["x"].(string)
	jwk.Y, okY = epk["y"].(string)
	if _, present := epk["y"]; !okKty || !okCrv || !okX || present && !okY {
		return errors.New("has an epk whose members are not strings")
	}
	pk, err := parseJWK(jwk)
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			return err
		}
		return fmt.Errorf("has an unusable epk: %v", err)
	}
	if pk.ecdh == nil {
		return fmt.Errorf("has an epk on %s, not a key agreement curve", pk.crv)
	}
	m.epk = pk.ecdh

	apv, ok := str("apv")
	if !ok || apv == "" {
		return errors.New("has no apv")
	}
	if m.apv, err = jws.Base64.DecodeString(apv); err != nil {
		return errors.New("has an apv that is not base64url")
	}
	apu, ok := str("apu")
	if !ok {
		return errors.New("has an apu that is not a string")
	}
	if m.apu, err = jws.Base64.DecodeString(apu); err != nil {
		return errors.New("has an apu that is not base64url")
	}
	skid, ok := str("skid")
	if !ok {
		return errors.New("has a skid that is not a string")
	}
	if m.alg == AlgAnoncrypt {
		if skid != "" {
			return errors.New("names a sender (skid) in anoncrypt")
		}
		return nil
	}
	// Authcrypt: apu is the skid, and names it when skid is left out.
	switch {
	case skid == "" && len(m.apu) == 0:
		return errors.New("names no sender: it has neither skid nor apu")
	case skid == "":
		skid = string(m.apu)
	case string(m.apu) != skid:
		return errors.New("has an apu that is not its skid")
	}
	if _, err := kidDID(skid); err != nil {
		return fmt.Errorf("has a sender key that %v", err)
	}
	m.skid = skid
	return nil
}

// decrypt decrypts m as the recipient kid with key; sender is the
// sender's static key for authcrypt, nil for anoncrypt. Every failure after
// the checks of form means the message was altered or not made for this
// key, and says no more.
func (m *jweMessage) decrypt(kid string, key AgreementKey, sender *ecdh.PublicKey) ([]byte, error) {
	i := slices.IndexFunc(m.recipients, func(r jweRecipient) bool { return r.kid == kid })
	if i < 0 {
		return nil, fmt.Errorf("it is not encrypted to %s", kid)
	}
	if key.PublicKey().Curve() != m.epk.Curve() {
		return nil, fmt.Errorf("its epk is on %s, the key of %s on %s", m.curve(), kid, curveName(key.PublicKey().Curve()))
	}
	ze, err := key.ECDH(m.epk)
	if err != nil {
		return nil, fmt.Errorf("its epk does not agree with %s: %v", kid, err)
	}
	var zs []byte
	if m.alg == AlgAuthcrypt {
		if sender == nil || sender.Curve() != m.epk.Curve() {
			return nil, errors.New("its sender key is not on the curve of its epk")
		}
		if zs, err = key.ECDH(sender); err != nil {
			return nil, fmt.Errorf("its sender key does not agree with %s: %v", kid, err)
		}
	}
	kek := keyWrappingKey(m.alg, ze, zs, m.apu, m.apv, m.tag)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	cek, err := jwebb.Unwrap(block, m.recipients[i].encryptedKey)
	if err != nil {
		return nil, errors.New("its content key does not unwrap: it was altered, or is not for this key or sender")
	}
	plaintext, err := openContent(m.enc, cek, m.iv, m.ciphertext, m.tag, []byte(m.protected))
	clear(cek)
	if err != nil {
		return nil, errors.New("its content does not decrypt: it was altered")
	}
	return plaintext, nil
}

// recipientKey is a key to encrypt to.
type recipientKey struct {
	kid string
	pub *ecdh.PublicKey
}

// senderKey is the static key of an authcrypt sender.
type senderKey struct {
	kid string
	key AgreementKey
}

// encryptJWE encrypts plaintext to recipients, all on one curve: anoncrypt
// when sender is nil, authcrypt (which requires A256CBC-HS512) otherwise.
// It writes the General JSON serialization, protected header members in the
// order typ, alg, enc, skid, apu, apv, epk.
func encryptJWE(plaintext []byte, enc ContentEncryption, recipients []recipientKey, sender *senderKey) ([]byte, error) {
	keySize, _, _, ok := enc.sizes()
	if !ok {
		return nil, unsupported("the content encryption %q is not supported", enc)
	}
	if len(recipients) == 0 || len(recipients) > MaxJWERecipients {
		return nil, fmt.Errorf("%d recipient keys, want 1 to %d", len(recipients), MaxJWERecipients)
	}
	curve := recipients[0].pub.Curve()
	kids := make([]string, len(recipients))
	for i, r := range recipients {
		if r.pub.Curve() != curve {
			return nil, fmt.Errorf("recipient keys on two curves, %s and %s", curveName(curve), curveName(r.pub.Curve()))
		}
		kids[i] = r.kid
	}
	alg := AlgAnoncrypt
	var apu []byte
	if sender != nil {
		alg = AlgAuthcrypt
		if enc != A256CBCHS512 {
			return nil, fmt.Errorf("authcrypt allows only %s, not %s", A256CBCHS512, enc)
		}
		if sender.key.PublicKey().Curve() != curve {
			return nil, fmt.Errorf("the sender's key is on %s, the recipients' on %s", curveName(sender.key.PublicKey().Curve()), curveName(curve))
		}
		apu = []byte(sender.kid)
	}
	apv := recipientsAPV(kids)
	eph, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}

	var hdr objectWriter
	hdr.str("typ", EncryptedMediaType)
	hdr.str("alg", alg)
	hdr.str("enc", string(enc))
	if sender != nil {
		hdr.str("skid", sender.kid)
		hdr.str("apu", jws.Base64.EncodeToString(apu))
	}
	hdr.str("apv", jws.Base64.EncodeToString(apv))
	epk := jwkOf(eph.PublicKey())
	var e objectWriter
	if epk.Kty == "OKP" {
		e.str("kty", epk.Kty)
		e.str("crv", epk.Crv)
		e.str("x", epk.X)
	} else {
		e.str("kty", epk.Kty)
		e.str("crv", epk.Crv)
		e.str("x", epk.X)
		e.str("y", epk.Y)
	}
	hdr.raw("epk", e.close())
	protected := jws.Base64.EncodeToString(hdr.close())

	cek := make([]byte, keySize)
	rand.Read(cek)
	defer clear(cek)
	iv, ciphertext, tag, err := sealContent(enc, cek, plaintext, []byte(protected))
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}

	var list objectList
	for _, r := range recipients {
		ze, err := eph.ECDH(r.pub)
		if err != nil {
			return nil, fmt.Errorf("key agreement with %s: %w", r.kid, err)
		}
		var zs []byte
		if sender != nil {
			if zs, err = sender.key.ECDH(r.pub); err != nil {
				return nil, fmt.Errorf("key agreement of %s with %s: %w", sender.kid, r.kid, err)
			}
		}
		block, err := aes.NewCipher(keyWrappingKey(alg, ze, zs, apu, apv, tag))
		if err != nil {
			return nil, err
		}
		wrapped, err := jwebb.Wrap(block, cek)
		if err != nil {
			return nil, err
		}
		var rh, rw objectWriter
		rh.str("kid", r.kid)
		rw.raw("header", rh.close())
		rw.str("encrypted_key", jws.Base64.EncodeToString(wrapped))
		list.add(rw.close())
	}
	var out objectWriter
	out.str("protected", protected)
	out.raw("recipients", list.bytes())
	out.str("iv", jws.Base64.EncodeToString(iv))
	out.str("ciphertext", jws.Base64.EncodeToString(ciphertext))
	out.str("tag", jws.Base64.EncodeToString(tag))
	return out.close(), nil
}

// CheckEncrypted checks that data is an encrypted message of the form
// docs/didcomm.md accepts, without decrypting it (it cannot: the message is
// for someone else). A mediator checks a forward's payload so before it
// keeps it, so that what it holds for a recipient is at least a message
// the recipient's DIDComm can read, not arbitrary bytes.
func CheckEncrypted(data []byte) error {
	if len(data) > MaxPackedSize {
		return invalid("the encrypted message is larger than %d bytes", MaxPackedSize)
	}
	obj, err := jcs.DecodeObject(data)
	if err != nil {
		return invalid("the encrypted message is not a JSON object: %v", err)
	}
	if _, err := parseJWE(obj); err != nil {
		return invalid("the encrypted message %v", err)
	}
	return nil
}
