package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mr-tron/base58"
)

// ErrInvalidPeerID reports a string that is not a libp2p peer ID that PLANET
// accepts. [ParsePeerID] and [PeerID.Ed25519PublicKey] return it, wrapped with
// a description of what is wrong.
var ErrInvalidPeerID = errors.New("invalid peer id")

// A libp2p peer ID is a multihash of the peer's public key, serialised as the
// libp2p PublicKey protobuf message. Keys whose serialisation is at most 42
// bytes, Ed25519 among them, are inlined with the identity multihash, so the
// ID carries the key; larger keys are hashed with SHA-256 (the legacy "Qm…"
// form, from which the key cannot be recovered).
const (
	multihashIdentity = 0x00
	multihashSHA256   = 0x12

	// maxPeerIDLength bounds the text before decoding; the longest form
	// accepted, an Ed25519 identity multihash, is 52 base58 digits.
	maxPeerIDLength = 64
)

// ed25519KeyProto is the libp2p PublicKey protobuf up to the key bytes:
// field 1 (Type, varint) = 1 (Ed25519), field 2 (Data, bytes) of length 32.
// libp2p writes exactly these bytes, so no other encoding is accepted.
var ed25519KeyProto = []byte{0x08, 0x01, 0x12, 0x20}

// libp2pKeyTypes names the values of the libp2p KeyType enum, for errors.
var libp2pKeyTypes = map[byte]string{0: "rsa", 1: "ed25519", 2: "secp256k1", 3: "ecdsa"}

// PeerID is a libp2p peer ID, such as
// "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN".
//
// A PeerID is made only by [ParsePeerID] or [PeerIDFromEd25519]. It is either
// the identity multihash of an Ed25519 key ("12D3KooW…"), from which
// [PeerID.Ed25519PublicKey] recovers the key, or a SHA-256 multihash ("Qm…"),
// accepted for its syntax alone. The zero PeerID is not valid. PeerIDs are
// comparable with ==.
type PeerID struct {
	mh string // the multihash bytes, as libp2p's peer.ID holds them
}

// ParsePeerID parses s, the base58btc text of a peer ID, as libp2p prints
// it. Errors wrap [ErrInvalidPeerID]. The CIDv1 text form ("bafz…") is not
// accepted.
func ParsePeerID(s string) (PeerID, error) {
	if s == "" {
		return PeerID{}, fmt.Errorf("%w: empty", ErrInvalidPeerID)
	}
	if len(s) > maxPeerIDLength {
		return PeerID{}, fmt.Errorf("%w: longer than %d characters", ErrInvalidPeerID, maxPeerIDLength)
	}
	mh, err := base58.Decode(s)
	if err != nil {
		return PeerID{}, fmt.Errorf("%w: not base58btc: %w", ErrInvalidPeerID, err)
	}
	if err := checkPeerMultihash(mh); err != nil {
		return PeerID{}, fmt.Errorf("%w: %w", ErrInvalidPeerID, err)
	}
	return PeerID{mh: string(mh)}, nil
}

// checkPeerMultihash checks that mh is one of the two multihash forms a
// PeerID may hold.
func checkPeerMultihash(mh []byte) error {
	code, n := binary.Uvarint(mh)
	switch {
	case n <= 0:
		return errors.New("no multihash code")
	case code == multihashIdentity:
		_, err := identityEd25519Key(mh)
		return err
	case code == multihashSHA256:
		if len(mh) != 2+32 || mh[1] != 32 {
			return errors.New("sha2-256 multihash is not 32 bytes long")
		}
		return nil
	default:
		return fmt.Errorf("unsupported multihash 0x%x: want identity (0x00) or sha2-256 (0x12)", code)
	}
}

// identityEd25519Key returns the Ed25519 key inside an identity multihash:
// the code 0x00, the digest length 36 (one varint byte), then the digest,
// which is [ed25519KeyProto] and the 32-byte key.
func identityEd25519Key(mh []byte) (ed25519.PublicKey, error) {
	const digestLen = 4 + ed25519.PublicKeySize
	if len(mh) >= 4 && mh[2] == 0x08 && mh[3] != 0x01 {
		if name, ok := libp2pKeyTypes[mh[3]]; ok {
			return nil, fmt.Errorf("identity multihash holds a %s key: only ed25519 is supported", name)
		}
	}
	if len(mh) != 2+digestLen || mh[1] != digestLen || !bytes.Equal(mh[2:6], ed25519KeyProto) {
		return nil, errors.New("identity multihash does not hold an ed25519 public key")
	}
	pub := ed25519.PublicKey(mh[6:])
	if _, err := decodeEd25519Public(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// PeerIDFromEd25519 returns the peer ID of an Ed25519 public key, the same
// one go-libp2p and js-libp2p compute. It panics, like [DIDFromEd25519], if
// pub is not a key that [ParsePeerID] would accept back.
func PeerIDFromEd25519(pub ed25519.PublicKey) PeerID {
	if err := CheckEd25519(pub); err != nil {
		panic("core: PeerIDFromEd25519: " + err.Error())
	}
	mh := make([]byte, 0, 2+len(ed25519KeyProto)+len(pub))
	mh = append(mh, multihashIdentity, byte(len(ed25519KeyProto)+len(pub)))
	mh = append(mh, ed25519KeyProto...)
	mh = append(mh, pub...)
	return PeerID{mh: string(mh)}
}

// String returns the peer ID as base58btc text; it returns "" for the zero
// PeerID.
func (p PeerID) String() string {
	if p.mh == "" {
		return ""
	}
	return base58.Encode([]byte(p.mh))
}

// IsZero reports whether p is the zero PeerID, which is not valid.
func (p PeerID) IsZero() bool { return p.mh == "" }

// Bytes returns the multihash that p holds, the bytes of a libp2p peer.ID.
func (p PeerID) Bytes() []byte { return []byte(p.mh) }

// Ed25519PublicKey returns the key inside an identity-multihash peer ID. It
// returns an error wrapping [ErrInvalidPeerID] for a SHA-256 ("Qm…") peer ID,
// which does not carry its key, and for the zero PeerID.
func (p PeerID) Ed25519PublicKey() (ed25519.PublicKey, error) {
	if p.mh == "" {
		return nil, fmt.Errorf("%w: zero peer id has no key", ErrInvalidPeerID)
	}
	if p.mh[0] != multihashIdentity {
		return nil, fmt.Errorf("%w: a sha2-256 peer id does not carry its key", ErrInvalidPeerID)
	}
	pub, err := identityEd25519Key([]byte(p.mh))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPeerID, err)
	}
	return pub, nil
}

// PeerIDFromBytes returns the PeerID whose multihash is b, the bytes of a
// libp2p peer.ID, checked as [ParsePeerID] checks text.
func PeerIDFromBytes(b []byte) (PeerID, error) {
	if err := checkPeerMultihash(b); err != nil {
		return PeerID{}, fmt.Errorf("%w: %w", ErrInvalidPeerID, err)
	}
	return PeerID{mh: string(b)}, nil
}
