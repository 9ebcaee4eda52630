package core

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"filippo.io/edwards25519"
	"github.com/mr-tron/base58"
)

// Multicodec codes of the public key types PLANET writes, from the
// multiformats table. A Multikey is 'z' (multibase base58btc) followed by the
// base58 of the code as an unsigned varint and then the raw key.
const (
	codecEd25519Pub = 0xed // ed25519-pub, 32 bytes; as varint ed 01, so "z6Mk…"
	codecX25519Pub  = 0xec // x25519-pub, 32 bytes; as varint ec 01, so "z6LS…"
)

// codecNames names the key codecs that a did:key may carry, so that an error
// can say which one was found.
var codecNames = map[uint64]string{
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

// codecName returns the multicodec name and code of a key codec, for errors.
func codecName(code uint64) string {
	if name, ok := codecNames[code]; ok {
		return fmt.Sprintf("%s (0x%x)", name, code)
	}
	return fmt.Sprintf("0x%x", code)
}

// Ed25519Multikey returns the Multikey encoding of an Ed25519 public key, the
// "z6Mk…" string used as a did:key id and as publicKeyMultibase in DID
// documents. It panics if pub is not [ed25519.PublicKeySize] bytes long.
func Ed25519Multikey(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("core: Ed25519Multikey: public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize))
	}
	return encodeMultikey(codecEd25519Pub, pub)
}

// X25519Multikey returns the Multikey encoding of an X25519 public key, the
// "z6LS…" string used as publicKeyMultibase of a key agreement method. It
// panics if pub is not 32 bytes long.
func X25519Multikey(pub []byte) string {
	if len(pub) != x25519KeySize {
		panic(fmt.Sprintf("core: X25519Multikey: public key is %d bytes, want %d", len(pub), x25519KeySize))
	}
	return encodeMultikey(codecX25519Pub, pub)
}

func encodeMultikey(code uint64, key []byte) string {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(key)), code)
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
// checkedKeys holds Ed25519 keys checked (to nothing).
var checkedMultikeys, montgomeryKeys, checkedKeys keyCache

// checkEd25519Public is decodeEd25519Public for a key that need only be
// checked, remembering the keys it checked: the peer IDs of the same few
// people are made again and again.
func checkEd25519Public(pub ed25519.PublicKey) error {
	if _, ok := checkedKeys.get(string(pub)); ok {
		return nil
	}
	if _, err := decodeEd25519Public(pub); err != nil {
		return err
	}
	checkedKeys.put(string(pub), nil)
	return nil
}

// decodeEd25519Multikey decodes a "z6Mk…" Multikey and checks that it holds a
// usable Ed25519 public key.
func decodeEd25519Multikey(s string) (ed25519.PublicKey, error) {
	if pub, ok := checkedMultikeys.get(s); ok {
		return pub, nil
	}
	pub, err := decodeEd25519MultikeyUncached(s)
	if err != nil {
		return nil, err
	}
	checkedMultikeys.put(s, pub)
	return pub, nil
}

func decodeEd25519MultikeyUncached(s string) (ed25519.PublicKey, error) {
	if s == "" || s[0] != 'z' {
		return nil, errors.New("multikey is not base58btc multibase (must start with 'z')")
	}
	if len(s) == 1 {
		return nil, errors.New("multikey has nothing after the multibase prefix")
	}
	b, err := base58.Decode(s[1:])
	if err != nil {
		return nil, fmt.Errorf("multikey is not base58btc: %w", err)
	}
	code, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("multikey has no multicodec prefix")
	}
	if n != len(binary.AppendUvarint(nil, code)) {
		// Two spellings of one code would give one key two DIDs.
		return nil, errors.New("multikey has a multicodec prefix that is not minimally encoded")
	}
	if code != codecEd25519Pub {
		return nil, fmt.Errorf("multikey holds unsupported key type %s: only ed25519-pub (0xed) is accepted", codecName(code))
	}
	pub := ed25519.PublicKey(b[n:])
	if _, err := decodeEd25519Public(pub); err != nil {
		return nil, err
	}
	return pub, nil
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
