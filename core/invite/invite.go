// Package invite makes and reads invitations: how a person asks someone they know to connect. The inviter's
// vault makes a token, a compact JWS (RFC 7515) signed with the inviter's
// Ed25519 key, and shows it as a link ([Link]) or a QR code.
// Whoever opens the link reads the token with [Parse], which
// checks everything that can be checked without the inviter: the signature,
// the key, the dates and the form of every claim. The inviter's
// [Book] then decides, when the invitee reaches them, whether the
// invitation may still be used.
//
// # Token format (version 1)
//
// The token is the compact serialization of a JWS: three base64url segments
// without padding, separated by ".". The protected header is a JSON object
// with exactly these members:
//
//	alg  "EdDSA" (RFC 8037): Ed25519
//	kid  the verification method of the inviter's key, a DID URL that
//	     starts with the inviter's DID: for did:key, "did:key:z6Mk…#z6Mk…"
//	typ  "planet-invitation+jwt"
//
// The payload is a JSON object with these members, in this order, written
// without whitespace by encoding/json with HTML escaping off:
//
//	v       1, the version of this format
//	iss     the inviter's DID
//	jti     the invitation's id: 16 random bytes, base64url
//	iat     when it was made, and
//	exp     when it stops being valid, both whole seconds since 1970 (UTC)
//	uses    how many people may accept it, 1 to [MaxUses]
//	secret  the one-time secret: 32 random bytes, base64url
//	note    (optional) the context, in the inviter's words, at most
//	        [MaxNoteLength] characters
//	peer    the libp2p peer ID at which the inviter is reached
//	relays  (optional) relay multiaddrs through which to reach the peer,
//	        at most [MaxRelays], each at most
//	        [MaxRelayLength] bytes
//
// A reader MUST refuse a token whose header or payload has any other
// member, a duplicate member, or a payload that is not byte for byte the
// encoding above of its own values: each invitation then has exactly one
// spelling, and no two JSON parsers (this one, jwx's, the page's) can read
// different claims from the same signed bytes. A later version changes v
// and the typ; readers refuse versions they do not know, since an
// invitation they cannot fully read is one they cannot safely accept.
//
// The secret travels in the token because the link is the invitation:
// whoever holds it may accept. The inviter's book keeps only its hash.
package invite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/keys"
)

// TokenType is the typ header of an invitation token.
const TokenType = "planet-invitation+jwt"

// Version is the version ("v") of the token format that
// [New] writes and [Parse] reads.
const Version = 1

// Limits on invitations. They keep a token small enough for a QR code and
// bound the work that a hostile token can cause.
const (
	// MaxTokenLength is the longest token, in bytes, that
	// [Parse] reads.
	MaxTokenLength = 4096
	// MaxNoteLength is the most characters (Unicode code points)
	// in a note: a sentence or two.
	MaxNoteLength = 280
	// MaxRelays is the most relay addresses in an invitation.
	MaxRelays = 4
	// MaxRelayLength is the longest relay address, in bytes.
	MaxRelayLength = 256
	// MaxUses is the most people one invitation may admit.
	MaxUses = 1000
	// MaxLifetime is the longest time from making an invitation
	// to its expiry. A forgotten invitation should not stay open for years.
	MaxLifetime = 366 * 24 * time.Hour
	// DefaultLifetime is the lifetime of an invitation made
	// without one.
	DefaultLifetime = 7 * 24 * time.Hour
	// ClockSkew is how far in the future an invitation's iat may
	// be: devices' clocks disagree by a little.
	ClockSkew = 5 * time.Minute
)

const (
	invitationSecretSize = 32
	invitationIDSize     = 16
	invitationLinkPrefix = "/invite/"
)

// Errors about invitations. Each is wrapped with a sentence on what is wrong,
// fit to show the person; test for them with [errors.Is].
var (
	// ErrMalformed is returned by [Parse] and
	// [TokenFromLink] for text that is not an invitation in the format
	// PLANET reads: broken, truncated, of another kind or version.
	ErrMalformed = errors.New("this is not a valid invitation")
	// ErrForged is returned by [Parse] when the token
	// is well formed but was not signed by the inviter it names, or was
	// altered after signing; and by [Book.Redeem] when the
	// secret presented is not the invitation's.
	ErrForged = errors.New("this invitation is forged or was altered")
	// ErrExpired is returned by [Parse] and
	// [Book.Redeem] for an invitation past its expiry.
	ErrExpired = errors.New("this invitation has expired")
	// ErrNotYetValid is returned by [Parse] for an
	// invitation made in the future: usually a device clock that is wrong.
	ErrNotYetValid = errors.New("this invitation is not valid yet")
	// ErrUsedUp is returned by [Book.Redeem] once an
	// invitation has been accepted as many times as it allows.
	ErrUsedUp = errors.New("this invitation has already been used")
	// ErrRevoked is returned by [Book.Redeem] for an
	// invitation its inviter withdrew.
	ErrRevoked = errors.New("this invitation was withdrawn by the person who made it")
	// ErrUnknown is returned by [Book.Redeem] and
	// [Book.Revoke] for an invitation the book never recorded.
	ErrUnknown = errors.New("this invitation is not known to the person who made it")
)

// Options are the choices a person makes when inviting someone.
// The zero value is an invitation for one person, valid for
// [DefaultLifetime], reachable at the inviter's own peer ID.
type Options struct {
	// Note is the context of the invitation in the inviter's words ("for
	// the co-op AGM"); optional.
	Note string
	// Lifetime is how long the invitation stays valid; zero means
	// DefaultLifetime.
	Lifetime time.Duration
	// Uses is how many people may accept it; zero means one.
	Uses int
	// Peer is the peer ID at which the inviter is reached; the zero
	// PeerID means the inviter's own.
	Peer keys.PeerID
	// Relays are relay multiaddrs ("/dns4/relay.example/tcp/443/wss/p2p/…")
	// through which to reach Peer.
	Relays []string
}

// Invitation is what an invitation token says, as made by [New]
// or read and verified by [Parse]. Its fields follow the claims
// described above; change none of them, since Token is what was signed.
type Invitation struct {
	ID       string      // "jti"
	Inviter  did.DID     // "iss"
	Secret   []byte      // "secret", 32 bytes; whoever holds the token has it
	Note     string      // "note"; empty if none
	IssuedAt time.Time   // "iat", in UTC
	Expires  time.Time   // "exp", in UTC
	Uses     int         // "uses"
	Peer     keys.PeerID // "peer"
	Relays   []string    // "relays"; nil if none

	// Token is the compact JWS the invitation was made as or read from.
	Token string
}

// invitationClaims is the payload of a token. Its field order is the format.
type invitationClaims struct {
	V      int      `json:"v"`
	Iss    string   `json:"iss"`
	Jti    string   `json:"jti"`
	Iat    int64    `json:"iat"`
	Exp    int64    `json:"exp"`
	Uses   int      `json:"uses"`
	Secret string   `json:"secret"`
	Note   string   `json:"note,omitempty"`
	Peer   string   `json:"peer"`
	Relays []string `json:"relays,omitempty"`
}

// New makes an invitation from inviter with opts, issued at now,
// its id and secret read from random (nil means crypto/rand), and returns
// the token and what it says. It does not record the invitation: give it to
// an [Book] so that it can be redeemed. Options outside the
// limits of the format return an error wrapping [input.ErrInvalid]. Like every
// signing, it panics once inviter was wiped.
func New(inviter *identity.Identity, opts Options, now time.Time, random io.Reader) (string, *Invitation, error) {
	if random == nil {
		random = rand.Reader
	}
	lifetime := opts.Lifetime
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	if lifetime < time.Second || lifetime > MaxLifetime {
		return "", nil, fmt.Errorf("new invitation: %w: lifetime %v is not between a second and %v", input.ErrInvalid, lifetime, MaxLifetime)
	}
	uses := opts.Uses
	if uses == 0 {
		uses = 1
	}
	peer := opts.Peer
	if peer.IsZero() {
		peer = inviter.PeerID()
	}
	buf := make([]byte, invitationIDSize+invitationSecretSize)
	if _, err := io.ReadFull(random, buf); err != nil {
		return "", nil, fmt.Errorf("new invitation: reading randomness: %w", err)
	}
	iat := now.Unix()
	inv := &Invitation{
		ID:       jws.Base64.EncodeToString(buf[:invitationIDSize]),
		Inviter:  inviter.DID(),
		Secret:   buf[invitationIDSize:],
		Note:     opts.Note,
		IssuedAt: time.Unix(iat, 0).UTC(),
		Expires:  time.Unix(iat+int64(lifetime/time.Second), 0).UTC(),
		Uses:     uses,
		Peer:     peer,
		Relays:   append([]string(nil), opts.Relays...),
	}
	if len(inv.Relays) == 0 {
		inv.Relays = nil
	}
	if err := inv.check(); err != nil {
		return "", nil, fmt.Errorf("new invitation: %w: %w", input.ErrInvalid, err)
	}
	payload, err := encodeInvitationClaims(inv.claims())
	if err != nil {
		return "", nil, fmt.Errorf("new invitation: %w", err)
	}
	token, err := jws.Sign(inviter, invitationKeyID(inviter.DID()), TokenType, payload)
	if err != nil {
		return "", nil, fmt.Errorf("new invitation: %w", err)
	}
	inv.Token = string(token)
	// Read back what was signed, so that a token PLANET makes is always
	// one PLANET reads: the header is checked along with the rest.
	if _, err := Parse(inv.Token, now); err != nil {
		return "", nil, fmt.Errorf("new invitation: the token made does not read back: %w", err)
	}
	return inv.Token, inv, nil
}

// invitationKeyID returns the kid of tokens signed by the key of a did:key
// DID: its one verification method, "did:key:z6Mk…#z6Mk…".
func invitationKeyID(d did.DID) string {
	return d.String() + "#" + d.MethodSpecificID()
}

// Parse reads token, verifies it as an invitation at time now and
// returns what it says. It refuses, with an error fit to show the person:
// anything not in the token format (see the top of this file), wrapping
// [ErrMalformed]; a signature that does not verify with the key
// that kid names, or a kid not among the inviter's assertion keys, wrapping
// [ErrForged]; an invitation past exp, wrapping
// [ErrExpired]; one whose iat is more than [ClockSkew]
// after now, wrapping [ErrNotYetValid].
//
// The checks run from cheapest to dearest, and the signature is checked
// before dates, so that a forged token says "forged", not "expired".
func Parse(token string, now time.Time) (*Invitation, error) {
	if len(token) > MaxTokenLength {
		return nil, malformed("it is longer than %d characters", MaxTokenLength)
	}
	hdrBytes, payload, sig, err := jws.Split(token)
	if err != nil {
		return nil, malformed("%v", err)
	}

	var hdr jws.Header
	if err := decodeInvitationJSON(hdrBytes, &hdr); err != nil {
		return nil, malformed("its header %v", err)
	}
	if hdr.Typ != TokenType {
		return nil, malformed("its type is %q, want %q", hdr.Typ, TokenType)
	}
	if hdr.Alg != jws.AlgEdDSA {
		// "none" and HMAC are refused here, whatever the rest says.
		return nil, malformed("it is signed with %q, want %q", hdr.Alg, jws.AlgEdDSA)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, malformed("its signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}

	var c invitationClaims
	if err := decodeInvitationJSON(payload, &c); err != nil {
		return nil, malformed("its content %v", err)
	}
	if c.V != Version {
		return nil, malformed("it is of version %d, want %d", c.V, Version)
	}
	if canonical, err := encodeInvitationClaims(c); err != nil || !bytes.Equal(canonical, payload) {
		return nil, malformed("its content is not in the one form PLANET writes")
	}
	inv, err := c.invitation()
	if err != nil {
		return nil, malformed("%v", err)
	}
	inv.Token = token

	pub, err := invitationKey(inv.Inviter, hdr.Kid)
	if err != nil {
		return nil, err
	}
	if !jws.Verify([]byte(token), pub, payload) {
		return nil, fmt.Errorf("%w: the signature does not match its inviter %s", ErrForged, inv.Inviter)
	}

	if !now.Before(inv.Expires) {
		return nil, fmt.Errorf("%w: it expired on %s", ErrExpired, inv.Expires.Format(time.RFC1123))
	}
	if inv.IssuedAt.After(now.Add(ClockSkew)) {
		return nil, fmt.Errorf("%w: it was made on %s, after the time on this device (%s): check the device's clock",
			ErrNotYetValid, inv.IssuedAt.Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	return inv, nil
}

// invitationKey returns the Ed25519 key that kid names in the DID document
// of inviter, refusing a kid that is not one of inviter's assertion keys.
func invitationKey(inviter did.DID, kid string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(kid, inviter.String()+"#") {
		return nil, fmt.Errorf("%w: it is signed with key %q, which is not a key of its inviter %s", ErrForged, kid, inviter)
	}
	doc, err := did.Resolve(inviter)
	if err != nil {
		return nil, malformed("its inviter's identifier cannot be resolved: %v", err)
	}
	pub, err := doc.Ed25519Key(kid, doc.AssertionMethod)
	if err != nil {
		return nil, fmt.Errorf("%w: it is signed with key %q, which is not a signing key of its inviter %s", ErrForged, kid, inviter)
	}
	return pub, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// decodeInvitationJSON decodes data, one JSON object, into v, refusing members
// v does not have, duplicate members and anything after the object.
// encoding/json alone would take the last of two duplicates and match names
// without regard to case; the canonical-form check catches the second, this
// catches the first, so that no two readers see different claims.
func decodeInvitationJSON(data []byte, v any) error {
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("is not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errors.New("is not valid JSON")
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("has %q twice", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errors.New("is not valid JSON")
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("has data after the JSON object")
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var field string
		if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
			field = ": unknown member " + name
		}
		return fmt.Errorf("does not have the expected members and types%s", field)
	}
	return nil
}

// encodeInvitationClaims writes c in the one form of the token format.
func encodeInvitationClaims(c invitationClaims) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// claims returns the payload of inv.
func (inv *Invitation) claims() invitationClaims {
	return invitationClaims{
		V:      Version,
		Iss:    inv.Inviter.String(),
		Jti:    inv.ID,
		Iat:    inv.IssuedAt.Unix(),
		Exp:    inv.Expires.Unix(),
		Uses:   inv.Uses,
		Secret: jws.Base64.EncodeToString(inv.Secret),
		Note:   inv.Note,
		Peer:   inv.Peer.String(),
		Relays: inv.Relays,
	}
}

// invitation returns the Invitation that c describes, checking each claim.
func (c invitationClaims) invitation() (*Invitation, error) {
	iss, err := did.Parse(c.Iss)
	if err != nil {
		return nil, fmt.Errorf("its inviter is not a valid identifier: %w", err)
	}
	peer, err := keys.ParsePeerID(c.Peer)
	if err != nil {
		return nil, fmt.Errorf("its peer address is not valid: %w", err)
	}
	secret, err := jws.Base64.DecodeString(c.Secret)
	if err != nil {
		return nil, errors.New("its secret is not base64url")
	}
	// Times beyond what time.Time and JSON numbers hold exactly are
	// refused before they reach time.Unix.
	const maxSeconds = 1 << 40
	if c.Iat < 0 || c.Iat > maxSeconds || c.Exp < 0 || c.Exp > maxSeconds {
		return nil, errors.New("its dates are out of range")
	}
	inv := &Invitation{
		ID:       c.Jti,
		Inviter:  iss,
		Secret:   secret,
		Note:     c.Note,
		IssuedAt: time.Unix(c.Iat, 0).UTC(),
		Expires:  time.Unix(c.Exp, 0).UTC(),
		Uses:     c.Uses,
		Peer:     peer,
		Relays:   c.Relays,
	}
	if err := inv.check(); err != nil {
		return nil, err
	}
	return inv, nil
}

// check checks the claims of inv against the limits of the format.
func (inv *Invitation) check() error {
	if id, err := jws.Base64.DecodeString(inv.ID); err != nil || len(id) != invitationIDSize {
		return fmt.Errorf("its id is not %d bytes of base64url", invitationIDSize)
	}
	if inv.Inviter.Method() != did.MethodKey {
		return fmt.Errorf("its inviter %s is not a did:key", inv.Inviter)
	}
	if len(inv.Secret) != invitationSecretSize {
		return fmt.Errorf("its secret is %d bytes, want %d", len(inv.Secret), invitationSecretSize)
	}
	if err := checkInvitationNote(inv.Note); err != nil {
		return err
	}
	switch d := inv.Expires.Sub(inv.IssuedAt); {
	case d <= 0:
		return errors.New("it expires before it was made")
	case d > MaxLifetime:
		return fmt.Errorf("its expiry is more than %d days after its making", MaxLifetime/(24*time.Hour))
	}
	if inv.Uses < 1 || inv.Uses > MaxUses {
		return fmt.Errorf("it allows %d uses, want 1 to %d", inv.Uses, MaxUses)
	}
	if inv.Peer.IsZero() {
		return errors.New("it has no peer address")
	}
	if len(inv.Relays) > MaxRelays {
		return fmt.Errorf("it has %d relay addresses, at most %d are allowed", len(inv.Relays), MaxRelays)
	}
	if inv.Relays != nil && len(inv.Relays) == 0 {
		return errors.New("it has an empty list of relay addresses")
	}
	for i, r := range inv.Relays {
		if err := CheckRelayAddr(r); err != nil {
			return fmt.Errorf("its relay address %d %w", i+1, err)
		}
	}
	return nil
}

// checkInvitationNote checks a note: valid UTF-8 of at most
// MaxNoteLength characters, with no control characters other
// than line breaks, which could otherwise disguise what the note says.
func checkInvitationNote(note string) error {
	if !utf8.ValidString(note) {
		return errors.New("its note is not valid text")
	}
	if n := utf8.RuneCountInString(note); n > MaxNoteLength {
		return fmt.Errorf("its note is %d characters long, at most %d are allowed", n, MaxNoteLength)
	}
	for _, r := range note {
		if r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return fmt.Errorf("its note holds the control character %U", r)
		}
	}
	return nil
}

// CheckRelayAddr checks the text form of a multiaddr for its shape only: it
// starts with "/", has no empty component, and is printable ASCII. Whether
// the protocols exist is for the libp2p layer to say when it dials.
func CheckRelayAddr(addr string) error {
	if addr == "" || addr[0] != '/' {
		return errors.New("does not start with \"/\"")
	}
	if len(addr) > MaxRelayLength {
		return fmt.Errorf("is longer than %d bytes", MaxRelayLength)
	}
	if strings.Contains(addr, "//") || strings.HasSuffix(addr, "/") {
		return errors.New("has an empty component")
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("has the character %q", addr[i:i+1])
		}
	}
	return nil
}

// Link returns the link that opens the invitation token on the
// PLANET page at baseURL ("https://planet.example/"): baseURL, without any
// fragment it had, then "#/invite/" and the token. The token rides in the
// fragment, which browsers never send to the server, so that it reaches no
// server's log.
func Link(baseURL, token string) string {
	base, _, _ := strings.Cut(baseURL, "#")
	return base + "#" + invitationLinkPrefix + token
}

// TokenFromLink returns the token in a link made by [Link]. The
// token is not verified: pass it to [Parse]. A link without an
// invitation returns an error wrapping [ErrMalformed].
func TokenFromLink(link string) (string, error) {
	_, fragment, ok := strings.Cut(strings.TrimSpace(link), "#")
	if !ok {
		return "", malformed("the link holds no invitation")
	}
	token, ok := strings.CutPrefix(fragment, invitationLinkPrefix)
	if !ok || token == "" {
		return "", malformed("the link holds no invitation")
	}
	if len(token) > MaxTokenLength {
		return "", malformed("the link's invitation is longer than %d characters", MaxTokenLength)
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", malformed("the link's invitation has the character %q: it may have been cut or changed", token[i:i+1])
		}
	}
	return token, nil
}

// Record is what an inviter's [Book] keeps of one
// invitation it issued.
//
// It is meant to be stored in the vault as deterministic CBOR with the
// integer keys in its field tags. Rules for change: a key is never reused
// or given another meaning; new fields are optional, with a zero value that
// means what older records meant without them.
type Record struct {
	ID         string `cbor:"1,keyasint"` // the invitation's jti
	SecretHash []byte `cbor:"2,keyasint"` // SHA-256 of the secret
	Expires    int64  `cbor:"3,keyasint"` // exp, seconds since 1970
	UsesLeft   int    `cbor:"4,keyasint"` // accepting a use takes one
	Revoked    bool   `cbor:"5,keyasint,omitempty"`
	Note       string `cbor:"6,keyasint,omitempty"` // the note, for the person's list
	// AcceptedBy lists the DIDs of the people who accepted it, so that one
	// person's acceptance arriving twice (directly and from the mailbox)
	// takes one use, not two.
	AcceptedBy []string `cbor:"7,keyasint,omitempty"`
	Created    int64    `cbor:"8,keyasint,omitempty"` // iat, seconds since 1970
}

// Book is the inviter's account of the invitations they issued and
// how many uses each has left. It holds only a hash of each secret: the
// secret itself is in the link, which the book never needs.
//
// The book is in memory; its records are [Record]s, ready to be
// kept in the vault. Its methods may be called from several goroutines.
type Book struct {
	mu      sync.Mutex
	records map[string]*Record
}

// NewBook returns an empty book.
func NewBook() *Book {
	return &Book{records: map[string]*Record{}}
}

// Add records inv, as just made by [New], with all its uses left.
// Adding an id that the book already holds is an error wrapping [input.ErrInvalid]:
// ids are random, so it means the same invitation twice.
func (b *Book) Add(inv *Invitation) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.records[inv.ID]; ok {
		return fmt.Errorf("add invitation: %w: invitation %s is already recorded", input.ErrInvalid, inv.ID)
	}
	b.records[inv.ID] = NewRecord(inv)
	return nil
}

// NewRecord is the record of inv, just made, with all its uses left.
func NewRecord(inv *Invitation) *Record {
	sum := sha256.Sum256(inv.Secret)
	return &Record{
		ID:         inv.ID,
		SecretHash: sum[:],
		Expires:    inv.Expires.Unix(),
		UsesLeft:   inv.Uses,
		Note:       inv.Note,
		Created:    inv.IssuedAt.Unix(),
	}
}

// Redeem takes one use of the invitation inv, which someone accepting it
// presented with secret, at time now. inv is expected to have come from
// [Parse]; the book trusts only its own record of the id. Redeem
// refuses an invitation the book does not hold ([ErrUnknown]), one
// that was revoked ([ErrRevoked]), expired ([ErrExpired])
// or used up ([ErrUsedUp]), and a secret that is not the
// invitation's ([ErrForged]); a refusal changes nothing.
func (b *Book) Redeem(inv *Invitation, secret []byte, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[inv.ID]
	if !ok {
		return fmt.Errorf("redeem invitation: %w", ErrUnknown)
	}
	return r.Redeem(secret, now)
}

// Redeem takes one use of the invitation r records for someone presenting
// secret at time now, with the refusals described at [Book.Redeem].
// A refusal leaves r unchanged.
func (r *Record) Redeem(secret []byte, now time.Time) error {
	sum := sha256.Sum256(secret)
	// The secret is checked first, and in constant time, so that someone
	// guessing learns nothing of an invitation's state or its secret.
	if subtle.ConstantTimeCompare(sum[:], r.SecretHash) != 1 {
		return fmt.Errorf("redeem invitation: %w: the secret does not match", ErrForged)
	}
	switch {
	case r.Revoked:
		return fmt.Errorf("redeem invitation: %w", ErrRevoked)
	case now.Unix() >= r.Expires:
		return fmt.Errorf("redeem invitation: %w: it expired on %s", ErrExpired, time.Unix(r.Expires, 0).UTC().Format(time.RFC1123))
	case r.UsesLeft <= 0:
		return fmt.Errorf("redeem invitation: %w", ErrUsedUp)
	}
	r.UsesLeft--
	return nil
}

// Revoke withdraws the invitation with the given id, so that it can no
// longer be redeemed. Revoking one already revoked does nothing; an id the
// book does not hold returns an error wrapping [ErrUnknown].
func (b *Book) Revoke(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	if !ok {
		return fmt.Errorf("revoke invitation: %w", ErrUnknown)
	}
	r.Revoked = true
	return nil
}

// Record returns a copy of the book's record of the invitation with the
// given id, and whether it has one.
func (b *Book) Record(id string) (Record, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	if !ok {
		return Record{}, false
	}
	c := *r
	c.SecretHash = append([]byte(nil), r.SecretHash...)
	return c, true
}
