package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// Labels carry the format version so nothing sealed under one version can
// be mistaken for another (docs/vault-format.md).
const (
	labelKeyWrap = "planet-vault/1 key-wrap"
	labelRecords = "planet-vault/1 records"
	labelNames   = "planet-vault/1 names"
	labelIndex   = "planet-vault/1 index"
	labelRecord  = "planet-vault/1 record"
	labelChunk   = "planet-vault/1 chunk"

	envelopeV1 = 0x01
)

// ErrCorrupt is returned when stored data fails authentication: it was
// altered, moved, replayed or truncated.
var ErrCorrupt = errors.New("vault data is corrupt or was tampered with")

// A Collection names a group of records, like "contacts". Names match
// [a-z][a-z0-9-]{0,31}; make one with [ParseCollection] or a constant.
type Collection string

// ParseCollection checks a collection name.
func ParseCollection(s string) (Collection, error) {
	if !validCollection(s) {
		return "", fmt.Errorf("vault: invalid collection name %q", s)
	}
	return Collection(s), nil
}

// validCollection matches [a-z][a-z0-9-]{0,31}.
func validCollection(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidRecordID reports whether id may name a record: 1 to 128 characters
// from A–Z, a–z, 0–9, '.', '_' and '-'. (Checked on every write, so by
// hand rather than with a regexp.)
func ValidRecordID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewRecordID returns a random record id (26 base32 characters, 128 bits).
func NewRecordID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b32(b[:])
}

var b32enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func b32(b []byte) string { return b32enc.EncodeToString(b) }

// secrets are the keys of an unlocked vault. They are wiped on lock.
type secrets struct {
	dataKey   []byte
	recordKey []byte
	nameKey   []byte
	ctags     map[Collection]string // collection tags, computed once
	mac       hash.Hash             // HMAC-SHA-256 under nameKey, reset per use
}

func deriveSecrets(dataKey []byte) (*secrets, error) {
	rk, err := hkdf.Key(sha256.New, dataKey, nil, labelRecords, 32)
	if err != nil {
		return nil, err
	}
	nk, err := hkdf.Key(sha256.New, dataKey, nil, labelNames, 32)
	if err != nil {
		return nil, err
	}
	return &secrets{dataKey: dataKey, recordKey: rk, nameKey: nk, ctags: map[Collection]string{}, mac: hmac.New(sha256.New, nk)}, nil
}

func (s *secrets) wipe() {
	clear(s.dataKey)
	clear(s.recordKey)
	clear(s.nameKey)
	clear(s.ctags)
	s.mac.Reset() // the HMAC keeps nameKey-derived pads; they go with the object
	s.mac = nil
}

// tag is HMAC(NK, parts joined by 0x00). Callers hold the vault's lock,
// which guards the reused HMAC state.
func (s *secrets) tag(parts ...string) []byte {
	m := s.mac
	m.Reset()
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		io.WriteString(m, p)
	}
	return m.Sum(nil)
}

// collectionTag is ctag (docs/vault-format.md). Callers hold the vault's
// lock, which guards the cache.
func (s *secrets) collectionTag(c Collection) string {
	t, ok := s.ctags[c]
	if !ok {
		t = b32(s.tag("c", string(c)))[:20]
		s.ctags[c] = t
	}
	return t
}

// indexShards is how many pieces a collection's index is cut into, one per
// base32 character: a write re-seals only the piece of the record it
// changes, so writes stay cheap however large a collection grows.
const indexShards = 32

// indexPrefix is where a collection's index shards are stored.
func (s *secrets) indexPrefix(c Collection) string { return "i/" + s.collectionTag(c) + "/" }

func (s *secrets) recordPrefix(c Collection) string { return "r/" + s.collectionTag(c) + "/" }

// A location is where a record and its index entry are stored.
type location struct {
	key   string // the record's store key
	shard byte   // its index shard: the first character of its rtag
}

func (s *secrets) locate(c Collection, id string) location {
	rtag := b32(s.tag("r", string(c), id))[:26]
	return location{key: s.recordPrefix(c) + rtag, shard: rtag[0]}
}

// seal encrypts plaintext with XChaCha20-Poly1305 under key, producing
// envelope version || nonce || ciphertext.
func seal(key, plaintext, ad []byte, random io.Reader) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = envelopeV1
	if _, err := io.ReadFull(random, out[1:]); err != nil {
		return nil, fmt.Errorf("vault: reading randomness: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

// open reverses seal. Any failure is ErrCorrupt: callers add what was
// being opened.
func open(key, sealed, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != envelopeV1 {
		return nil, ErrCorrupt
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	pt, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], ad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// ad joins labels and values with zero bytes, the separator the format uses.
func ad(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}
