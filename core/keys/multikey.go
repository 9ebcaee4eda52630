package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/mr-tron/base58"
)

// A Codec is a multicodec code from the multiformats table, naming the type
// of key a Multikey holds. A Multikey is 'z' (multibase base58btc) followed by
// the base58 of the code as an unsigned varint and then the raw key.
type Codec uint64

// The codecs PLANET writes.
const (
	CodecEd25519Pub  Codec = 0xed   // ed25519-pub, 32 bytes; as varint ed 01, so "z6Mk…"
	CodecX25519Pub   Codec = 0xec   // x25519-pub, 32 bytes; as varint ec 01, so "z6LS…"
	CodecEd25519Priv Codec = 0x1300 // ed25519-priv, the 32-byte seed; only in exports
)

// codecNames names the key codecs that a did:key may carry, so that an error
// can say which one was found.
var codecNames = map[Codec]string{
	0xe7:   "secp256k1-pub",
	0xea:   "bls12_381-g1-pub",
	0xeb:   "bls12_381-g2-pub",
	0xec:   "x25519-pub",
	0xed:   "ed25519-pub",
	0x1200: "p256-pub",
	0x1201: "p384-pub",
	0x1202: "p521-pub",
	0x1203: "ed448-pub",
	0x1204: "x448-pub",
	0x1205: "rsa-pub",
	0x1300: "ed25519-priv",
}

// String returns the multicodec name and code of a key codec, for errors:
// "x25519-pub (0xec)".
func (c Codec) String() string {
	if name, ok := codecNames[c]; ok {
		return fmt.Sprintf("%s (0x%x)", name, uint64(c))
	}
	return fmt.Sprintf("0x%x", uint64(c))
}

// Ed25519Multikey returns the Multikey encoding of an Ed25519 public key, the
// "z6Mk…" string used as a did:key id and as publicKeyMultibase in DID
// documents. It panics if pub is not [ed25519.PublicKeySize] bytes long.
func Ed25519Multikey(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("keys: Ed25519Multikey: public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize))
	}
	return EncodeMultikey(CodecEd25519Pub, pub)
}

// X25519Multikey returns the Multikey encoding of an X25519 public key, the
// "z6LS…" string used as publicKeyMultibase of a key agreement method. It
// panics if pub is not 32 bytes long.
func X25519Multikey(pub []byte) string {
	if len(pub) != X25519KeySize {
		panic(fmt.Sprintf("keys: X25519Multikey: public key is %d bytes, want %d", len(pub), X25519KeySize))
	}
	return EncodeMultikey(CodecX25519Pub, pub)
}

// EncodeMultikey returns the Multikey of a key of the given codec. It does
// not check the key.
func EncodeMultikey(code Codec, key []byte) string {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(key)), uint64(code))
	return "z" + base58.Encode(append(b, key...))
}

// keyCache remembers the results of a pure computation on public keys, for
// keys already checked: checking a key costs a base58 decode and a field
// inversion, slow in wasm, and one person's key is read again and again (a
// credential names its issuer's DID three times, and a person's contacts
// share many credentials from the same few people). It holds at most
// maxCachedKeys entries and starts afresh when full; what it returns is the
// caller's to keep.
type keyCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

const maxCachedKeys = 4096

func (c *keyCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return bytes.Clone(v), ok
}

func (c *keyCache) put(k string, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[string][]byte)
	}
	c.m[k] = bytes.Clone(v)
}

// checkedMultikeys maps Ed25519 Multikeys to their checked keys;
// montgomeryKeys maps checked Ed25519 keys to their X25519 keys;
// checkedKeys holds Ed25519 keys checked, and checkedX25519 X25519 keys
// (both to nothing).
var checkedMultikeys, montgomeryKeys, checkedKeys, checkedX25519 keyCache

// CheckEd25519 checks that pub is an Ed25519 public key that is safe to use
// (see decodeEd25519Public), remembering the keys it checked: the peer IDs
// and DIDs of the same few people are made again and again.
func CheckEd25519(pub ed25519.PublicKey) error {
	if _, ok := checkedKeys.get(string(pub)); ok {
		return nil
	}
	if _, err := decodeEd25519Public(pub); err != nil {
		return err
	}
	checkedKeys.put(string(pub), nil)
	return nil
}

// ParseEd25519Multikey decodes a "z6Mk…" Multikey and checks that it holds a
// usable Ed25519 public key. Keys it accepted are remembered, so reading the
// same key again costs a map lookup.
func ParseEd25519Multikey(s string) (ed25519.PublicKey, error) {
	if pub, ok := checkedMultikeys.get(s); ok {
		return pub, nil
	}
	code, key, err := DecodeMultikey(s)
	if err != nil {
		return nil, err
	}
	if code != CodecEd25519Pub {
		return nil, fmt.Errorf("multikey holds unsupported key type %s: only ed25519-pub (0xed) is accepted", code)
	}
	pub := ed25519.PublicKey(key)
	if _, err := decodeEd25519Public(pub); err != nil {
		return nil, err
	}
	checkedMultikeys.put(s, pub)
	return pub, nil
}

// DecodeMultikey splits a base58btc Multikey into its multicodec code and key
// bytes. It checks the encoding only, not the key.
func DecodeMultikey(s string) (Codec, []byte, error) {
	if s == "" || s[0] != 'z' {
		return 0, nil, errors.New("multikey is not base58btc multibase (must start with 'z')")
	}
	if len(s) == 1 {
		return 0, nil, errors.New("multikey has nothing after the multibase prefix")
	}
	b, err := base58.Decode(s[1:])
	if err != nil {
		return 0, nil, fmt.Errorf("multikey is not base58btc: %w", err)
	}
	code, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errors.New("multikey has no multicodec prefix")
	}
	if n != len(binary.AppendUvarint(nil, code)) {
		// Two spellings of one code would give one key two DIDs.
		return 0, nil, errors.New("multikey has a multicodec prefix that is not minimally encoded")
	}
	return Codec(code), b[n:], nil
}

// decodeEd25519Public decodes pub as an Ed25519 public key that is safe to
// use: 32 bytes, the canonical encoding of a point on the curve, and not of
// small order.
//
// A point has one canonical encoding; accepting the few others would give one
// key two DIDs and two peer IDs. Small-order keys are refused because no honest key has one, a signature
// under one proves nothing (many messages verify against the same signature),
// and the X25519 key derived from one makes every key agreement output
// predictable.
func decodeEd25519Public(pub ed25519.PublicKey) (*edwards25519.Point, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ed25519 public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, errors.New("ed25519 public key is not a point on the curve")
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return nil, errors.New("ed25519 public key is not canonically encoded")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, errors.New("ed25519 public key has small order")
	}
	return p, nil
}

// x25519Probe is a fixed X25519 private key, not a secret: see
// CheckX25519Public.
var x25519Probe = func() *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{0x5a}, X25519KeySize))
	if err != nil {
		panic(err)
	}
	return k
}()

// CheckX25519Public checks that pub is an X25519 public key that is safe to
// encrypt to: 32 bytes, the canonical encoding of u (below 2^255-19, top bit
// clear, so that one key has one DID), and not of small order. A small-order
// key makes the shared secret of every key agreement predictable; no honest
// key is one. X25519 clamps every private key to a multiple of the cofactor
// 8, which sends exactly the small-order points (of the curve and of its
// twist) to the all-zero output that crypto/ecdh refuses, so one agreement
// with a fixed key finds them all.
func CheckX25519Public(pub []byte) error {
	if len(pub) != X25519KeySize {
		return fmt.Errorf("x25519 public key is %d bytes, want %d", len(pub), X25519KeySize)
	}
	u, err := new(field.Element).SetBytes(pub)
	if err != nil || !bytes.Equal(u.Bytes(), pub) {
		return errors.New("x25519 public key is not canonically encoded")
	}
	// The same few keys are checked again and again (each time a
	// did:peer:2 naming them is parsed, several times for every DIDComm
	// message), and the check below is a whole scalar multiplication.
	if _, ok := checkedX25519.get(string(pub)); ok {
		return nil
	}
	k, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("x25519 public key: %w", err)
	}
	if _, err := x25519Probe.ECDH(k); err != nil {
		return errors.New("x25519 public key has small order")
	}
	checkedX25519.put(string(pub), nil)
	return nil
}
