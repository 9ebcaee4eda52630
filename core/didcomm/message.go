// Package didcomm makes and reads messages: what one person's vault says
// to another's, on a stream, through the mailbox or through DIDComm
// mediators. It holds two formats.
//
// PLANET's first format (docs/envelope.md): a [Message] has the shape of
// a DIDComm v2 plaintext message; it is always signed by its sender
// ([Sign]) and, for the mailbox, sealed to its recipient ([Seal]). Letters
// in this format keep being read.
//
// DIDComm Messaging v2.1 (docs/didcomm.md), for the First Person
// Network's agents and mediators: a [Plaintext] is packed for a recipient
// DID by [Pack] (signed, anoncrypt or authcrypt, wrapped in forwards for
// its mediators) and read by [Unpack], which returns it with the
// [Metadata] of what its packing proved. Secret keys stay behind a
// [Keyring] of [AgreementKey]s and a [Signer].
//
// # Version 1: plaintext (the JWS payload)
//
// A JSON object, written without whitespace, with these members in this
// order:
//
//	id            the message's id: 1 to [MaxIDLength] letters, digits,
//	              "-", "_" or "."; random (16 bytes, base64url) when PLANET
//	              makes it, unique per sender
//	typ           "application/didcomm-plain+json"
//	type          the message type, a URI: see the chat protocol's type and
//	              docs/envelope.md for PLANET's "planet:" type URIs
//	from          the sender's DID (did:key or did:peer:2)
//	to            the recipients' DIDs, 1 to [MaxRecipients], no repeats
//	created_time  when it was made, whole seconds since 1970 (UTC)
//	expires_time  (optional) when it stops being valid, likewise
//	body          a JSON object whose meaning the type gives
//
// A reader refuses a plaintext that is not valid UTF-8, has a duplicate
// member at any depth, nests deeper than 16 levels, or lacks a member or has
// one of the wrong form; it ignores members it does not know, as DIDComm
// asks, so that later versions can add headers (thid, …).
//
// # Version 1: signature
//
// The signed message is the compact serialization of a JWS (RFC 7515) over
// the plaintext bytes, with exactly these protected header members:
//
//	alg  "EdDSA" (RFC 8037): Ed25519
//	kid  the verification method that signed, a DID URL of from
//	     ("did:key:z6Mk…#z6Mk…", "did:peer:2…#key-1"), listed under its
//	     authentication or assertionMethod
//	typ  "application/didcomm-signed+json"
package didcomm

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/jcs"
)

// Media types of the three forms of a message (DIDComm v2).
const (
	PlainMediaType     = "application/didcomm-plain+json"
	SignedMediaType    = "application/didcomm-signed+json"
	EncryptedMediaType = "application/didcomm-encrypted+json"
)

// Limits on messages. They bound the work and memory a hostile peer can
// cause; the longest chat message fits with room to spare.
const (
	// MaxSize is the largest signed message, in bytes, that
	// [Sign] makes and [Verify] reads. It is chosen so that
	// one this large, sealed to a did:key, fits in an envelope of
	// [MaxEnvelopeSize].
	MaxSize = 47 << 10
	// MaxRecipients is the most DIDs in a message's to.
	MaxRecipients = 16
	// MaxIDLength is the longest message id, in bytes.
	MaxIDLength = 64
	// MaxTypeLength is the longest message type URI, in bytes.
	MaxTypeLength = 256
	// ClockSkew is how far in the future a message's created_time
	// may be: devices' clocks disagree by a little.
	ClockSkew = 5 * time.Minute
)

// Errors about signed messages, returned wrapped with a sentence on what is
// wrong by [Verify], and through it by [Unseal] and the chat protocol.
// Test for them with [errors.Is].
var (
	// ErrMalformed: the bytes are not a signed message in the form
	// PLANET reads (see the top of message.go), or break its limits.
	ErrMalformed = errors.New("not a valid signed message")
	// ErrForged: the message is well formed, but its signature does
	// not verify with the key its kid names, or that key is not a signing
	// key of its sender.
	ErrForged = errors.New("message forged or altered")
	// ErrExpired: the message is past its expires_time.
	ErrExpired = errors.New("message has expired")
	// ErrNotYetValid: the message's created_time is more than
	// [ClockSkew] ahead of the reader's clock; usually a device
	// clock that is wrong.
	ErrNotYetValid = errors.New("message is dated in the future")
)

// Message is a DIDComm v2 plaintext message, as made by [NewMessage] or
// read by [Verify]. See the top of message.go for the JSON form.
type Message struct {
	ID      string    // "id"
	Type    string    // "type", a URI
	From    did.DID   // "from"
	To      []did.DID // "to"
	Created time.Time // "created_time", whole seconds, UTC
	Expires time.Time // "expires_time"; zero if none
	// Body is the JSON object "body". [Verify] returns it in one
	// form: keys sorted, no whitespace, numbers as written.
	Body json.RawMessage
}

// messageIDSize is how many random bytes make a message id.
const messageIDSize = 16

// maxMessageSeconds bounds times, in seconds since 1970, so that they stay
// exact in time.Time and in JSON numbers read as doubles elsewhere.
const maxMessageSeconds = 1 << 40

// NewMessage returns a message of type typ from from to the recipients to,
// made at now (truncated to the second), with a new random id and body, a
// value that encoding/json writes as a JSON object. It does not sign it:
// see [Sign]. Arguments that break the format's rules return an
// error wrapping [input.ErrInvalid].
func NewMessage(from did.DID, to []did.DID, typ string, body any, now time.Time) (Message, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Message{}, fmt.Errorf("new message: %w: body: %w", input.ErrInvalid, err)
	}
	id := make([]byte, messageIDSize)
	if _, err := rand.Read(id); err != nil {
		return Message{}, fmt.Errorf("new message: reading randomness: %w", err)
	}
	m := Message{
		ID:      jws.Base64.EncodeToString(id),
		Type:    typ,
		From:    from,
		To:      append([]did.DID(nil), to...),
		Created: time.Unix(now.Unix(), 0).UTC(),
		Body:    raw,
	}
	if err := m.check(); err != nil {
		return Message{}, fmt.Errorf("new message: %w: %w", input.ErrInvalid, err)
	}
	return m, nil
}

// AddressedTo reports whether d is one of the message's recipients.
func (m *Message) AddressedTo(d did.DID) bool {
	for _, t := range m.To {
		if t == d {
			return true
		}
	}
	return false
}

// Sign signs m as from and returns the signed message, a compact
// JWS. m.From must be a DID of from: its did:key, or a did:peer:2 that lists
// from's key under authentication or assertionMethod; a zero m.From means
// from's did:key. m must keep the format's rules and, signed, fit in
// [MaxSize]; otherwise the error wraps [input.ErrInvalid]. Like every
// signing, it panics once from was wiped.
func Sign(from *identity.Identity, m Message) ([]byte, error) {
	if m.From.IsZero() {
		m.From = from.DID()
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("sign message: %w: %w", input.ErrInvalid, err)
	}
	kid, err := signerKeyID(from, m.From)
	if err != nil {
		return nil, fmt.Errorf("sign message: %w: %w", input.ErrInvalid, err)
	}
	payload, err := m.encode()
	if err != nil {
		return nil, fmt.Errorf("sign message: %w: %w", input.ErrInvalid, err)
	}
	signed, err := jws.Sign(from, kid, SignedMediaType, payload)
	if err != nil {
		return nil, fmt.Errorf("sign message: %w", err)
	}
	if len(signed) > MaxSize {
		return nil, fmt.Errorf("sign message: %w: it is %d bytes signed, at most %d are allowed", input.ErrInvalid, len(signed), MaxSize)
	}
	// m.check keeps every rule ParseSigned reads by, so what is
	// signed here reads back; FuzzSignMessage holds the two together (the
	// message is not read back here: a chat message waits for it).
	return signed, nil
}

// signerKeyID returns the kid with which id signs as d: the verification
// method of d's document, under authentication or assertionMethod, that
// holds id's key.
func signerKeyID(id *identity.Identity, d did.DID) (string, error) {
	doc, err := did.Resolve(d)
	if err != nil {
		return "", err
	}
	for _, refs := range [][]string{doc.Authentication, doc.AssertionMethod} {
		for _, ref := range refs {
			if pub, err := doc.Ed25519Key(ref, refs); err == nil && pub.Equal(id.PublicKey()) {
				return doc.Absolute(ref), nil
			}
		}
	}
	return "", fmt.Errorf("%s does not list the key of %s as one it signs with", d, id.DID())
}

// Verify reads data, a signed message, verifies it at time now and
// returns the message. It resolves the sender (did:key or did:peer:2) and
// refuses, with an error fit to show the person: anything not in the
// format or beyond its limits, wrapping [ErrMalformed]; a kid that
// is not a signing key of from, or a signature that does not verify,
// wrapping [ErrForged]; a message past its expires_time, wrapping
// [ErrExpired]; one made more than [ClockSkew] after now,
// wrapping [ErrNotYetValid]. The signature is checked before the
// dates, so that a forgery says "forged".
func Verify(data []byte, now time.Time) (*Message, error) {
	m, _, err := VerifySigner(data, now)
	return m, err
}

// VerifySigner is [Verify], also returning the key that signed, for a
// reader that checks who signed against who sent (a peer on a stream).
func VerifySigner(data []byte, now time.Time) (*Message, ed25519.PublicKey, error) {
	sm, err := ParseSigned(data)
	if err != nil {
		return nil, nil, err
	}
	m := sm.Message
	if !strings.HasPrefix(sm.Kid, m.From.String()+"#") {
		return nil, nil, fmt.Errorf("%w: it is signed with key %q, which is not a key of its sender %s", ErrForged, sm.Kid, m.From)
	}
	doc, err := did.Resolve(m.From)
	if err != nil {
		return nil, nil, messageMalformed("its sender's identifier cannot be resolved: %v", err)
	}
	pub, err := doc.Ed25519Key(sm.Kid, doc.Authentication, doc.AssertionMethod)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: it is signed with key %q, which is not a signing key of its sender %s", ErrForged, sm.Kid, m.From)
	}
	if !jws.Verify(data, pub, sm.Payload) {
		return nil, nil, fmt.Errorf("%w: the signature does not match its sender %s", ErrForged, m.From)
	}
	if !m.Expires.IsZero() && !now.Before(m.Expires) {
		return nil, nil, fmt.Errorf("%w: it expired on %s", ErrExpired, m.Expires.Format(time.RFC1123))
	}
	if m.Created.After(now.Add(ClockSkew)) {
		return nil, nil, fmt.Errorf("%w: it was made on %s, after the time on this device (%s): check the device's clock",
			ErrNotYetValid, m.Created.Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	return m, pub, nil
}

// Signed is a signed message taken apart but not verified.
type Signed struct {
	Message *Message
	Kid     string // the verification method the header names
	Payload []byte // the plaintext, as signed
}

// ParseSigned checks the form of data, a signed message, and
// returns what it says, without checking the signature or the dates: for
// reading back what the vault or an authenticated export holds, and as the
// first step of [Verify]. Errors wrap [ErrMalformed].
func ParseSigned(data []byte) (*Signed, error) {
	if len(data) > MaxSize {
		return nil, messageMalformed("it is %d bytes, at most %d are allowed", len(data), MaxSize)
	}
	if len(data) > 0 && data[0] == '{' {
		return nil, messageMalformed("it is not signed")
	}
	hdrBytes, payload, sig, err := jws.Split(string(data))
	if err != nil {
		return nil, messageMalformed("%v", err)
	}

	hdr, err := jcs.DecodeObject(hdrBytes)
	if err != nil {
		return nil, messageMalformed("its header %v", err)
	}
	if len(hdr) != 3 {
		return nil, messageMalformed("its header has %d members, want alg, kid and typ", len(hdr))
	}
	alg, _ := hdr["alg"].(string)
	kid, _ := hdr["kid"].(string)
	typ, _ := hdr["typ"].(string)
	if typ != SignedMediaType {
		return nil, messageMalformed("its type is %q, want %q", typ, SignedMediaType)
	}
	if alg != jws.AlgEdDSA {
		// "none" and HMAC are refused here, whatever the rest says.
		return nil, messageMalformed("it is signed with %q, want %q", alg, jws.AlgEdDSA)
	}
	if kid == "" {
		return nil, messageMalformed("its header names no key")
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, messageMalformed("its signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	m, err := decodeMessage(payload)
	if err != nil {
		return nil, messageMalformed("%v", err)
	}
	return &Signed{Message: m, Kid: kid, Payload: payload}, nil
}

func messageMalformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// plaintext is the JSON form of a message. Its field order is the format.
type plaintext struct {
	ID      string          `json:"id"`
	Typ     string          `json:"typ"`
	Type    string          `json:"type"`
	From    string          `json:"from"`
	To      []string        `json:"to"`
	Created int64           `json:"created_time"`
	Expires int64           `json:"expires_time,omitempty"`
	Body    json.RawMessage `json:"body"`
}

// encode returns the plaintext JSON of m, its body in its one form.
func (m *Message) encode() ([]byte, error) {
	body, err := canonicalBody(m.Body)
	if err != nil {
		return nil, err
	}
	p := plaintext{
		ID:      m.ID,
		Typ:     PlainMediaType,
		Type:    m.Type,
		From:    m.From.String(),
		To:      make([]string, len(m.To)),
		Created: m.Created.Unix(),
		Body:    body,
	}
	for i, d := range m.To {
		p.To[i] = d.String()
	}
	if !m.Expires.IsZero() {
		p.Expires = m.Expires.Unix()
	}
	return jcs.Encode(p)
}

// decodeMessage reads a plaintext, checking each member. Members are looked
// up by their exact names, never the case-insensitive way of encoding/json.
func decodeMessage(payload []byte) (*Message, error) {
	obj, err := jcs.DecodeObject(payload)
	if err != nil {
		return nil, fmt.Errorf("its content %v", err)
	}
	str := func(name string) (string, error) {
		v, ok := obj[name]
		if !ok {
			return "", fmt.Errorf("it has no %q", name)
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("its %q is not a string", name)
		}
		return s, nil
	}
	seconds := func(name string) (time.Time, error) {
		n, ok := obj[name].(json.Number)
		if !ok {
			return time.Time{}, fmt.Errorf("its %q is not a number", name)
		}
		s, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || s <= 0 || s > maxMessageSeconds {
			return time.Time{}, fmt.Errorf("its %q is not a time in whole seconds", name)
		}
		return time.Unix(s, 0).UTC(), nil
	}

	var m Message
	if typ, err := str("typ"); err != nil || typ != PlainMediaType {
		return nil, fmt.Errorf("its content is not of type %q", PlainMediaType)
	}
	if m.ID, err = str("id"); err != nil {
		return nil, err
	}
	if m.Type, err = str("type"); err != nil {
		return nil, err
	}
	from, err := str("from")
	if err != nil {
		return nil, err
	}
	if m.From, err = did.Parse(from); err != nil {
		return nil, fmt.Errorf("its sender is not a valid identifier: %w", err)
	}
	to, ok := obj["to"].([]any)
	if !ok {
		return nil, errors.New(`its "to" is not a list`)
	}
	if len(to) > MaxRecipients {
		return nil, fmt.Errorf("it has %d recipients, at most %d are allowed", len(to), MaxRecipients)
	}
	for i, v := range to {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("its recipient %d is not a string", i+1)
		}
		d, err := did.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("its recipient %d is not a valid identifier: %w", i+1, err)
		}
		m.To = append(m.To, d)
	}
	if m.Created, err = seconds("created_time"); err != nil {
		return nil, err
	}
	if _, ok := obj["expires_time"]; ok {
		if m.Expires, err = seconds("expires_time"); err != nil {
			return nil, err
		}
	}
	body, ok := obj["body"].(map[string]any)
	if !ok {
		return nil, errors.New(`its "body" is not a JSON object`)
	}
	if m.Body, err = jcs.Encode(body); err != nil {
		return nil, fmt.Errorf("its body: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// check checks m against the rules of the format.
func (m *Message) check() error {
	if err := CheckID(m.ID); err != nil {
		return err
	}
	if err := checkMessageType(m.Type); err != nil {
		return err
	}
	if m.From.IsZero() {
		return errors.New("it has no sender")
	}
	if len(m.To) == 0 || len(m.To) > MaxRecipients {
		return fmt.Errorf("it has %d recipients, want 1 to %d", len(m.To), MaxRecipients)
	}
	for i, d := range m.To {
		if d.IsZero() {
			return fmt.Errorf("its recipient %d is empty", i+1)
		}
		for _, e := range m.To[:i] {
			if e == d {
				return fmt.Errorf("it names recipient %s twice", d)
			}
		}
	}
	if s := m.Created.Unix(); s <= 0 || s > maxMessageSeconds || m.Created.Nanosecond() != 0 {
		return errors.New("its creation time is not a time in whole seconds")
	}
	if !m.Expires.IsZero() {
		if s := m.Expires.Unix(); s > maxMessageSeconds || m.Expires.Nanosecond() != 0 {
			return errors.New("its expiry is not a time in whole seconds")
		}
		if !m.Expires.After(m.Created) {
			return errors.New("it expires before it was made")
		}
	}
	if _, err := canonicalBody(m.Body); err != nil {
		return err
	}
	return nil
}

// CheckID checks an id: 1 to MaxIDLength letters, digits,
// "-", "_" or ".", which covers base64url and UUIDs and keeps ids usable in
// record names.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("its id is not 1 to %d characters", MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !did.IsIDChar(c) {
			return fmt.Errorf("its id has the character %q", id[i:i+1])
		}
	}
	return nil
}

// checkMessageType checks that t has the shape of an absolute URI: a
// scheme (RFC 3986: a letter, then letters, digits, "+", "-" or "."), a
// colon and more, in printable ASCII without spaces. Which types a reader
// acts on is for the reader: see [ChatMessageType].
func checkMessageType(t string) error {
	if len(t) > MaxTypeLength {
		return fmt.Errorf("its type is longer than %d bytes", MaxTypeLength)
	}
	scheme, rest, ok := strings.Cut(t, ":")
	if !ok || scheme == "" || rest == "" {
		return fmt.Errorf("its type %q is not a URI", t)
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return fmt.Errorf("its type %q is not a URI", t)
		}
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("its type %q is not a URI", t)
		}
	}
	return nil
}

// canonicalBody checks that body is one JSON object without duplicate keys
// and returns it in one form: keys sorted, no whitespace, numbers as
// written.
func canonicalBody(body json.RawMessage) ([]byte, error) {
	v, err := jcs.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("its body is not valid JSON: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("its body is not a JSON object")
	}
	return jcs.Encode(v)
}

// TypeMatches reports whether t is the PLANET message type want or another
// minor version of it: "planet:chat/1.3/message" matches
// "planet:chat/1.0/message", "planet:chat/2.0/message" does not. A type URI
// ends with "/<major>.<minor>/<message name>" (docs/envelope.md).
func TypeMatches(t, want string) bool {
	split := func(s string) (prefix, major, minor, name string, ok bool) {
		rest, name, ok1 := cutLast(s, "/")
		prefix, version, ok2 := cutLast(rest, "/")
		major, minor, ok3 := strings.Cut(version, ".")
		return prefix, major, minor, name, ok1 && ok2 && ok3 && isDigits(major) && isDigits(minor)
	}
	tp, tmaj, _, tn, ok := split(t)
	wp, wmaj, _, wn, wok := split(want)
	return ok && wok && tp == wp && tmaj == wmaj && tn == wn
}

// cutLast slices s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
