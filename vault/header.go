package vault

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

const headerKey = "vault"

// formatVersion is the version of docs/vault-format.md this code writes.
const formatVersion = 1

// KDFParams are the Argon2id parameters that turn a passphrase into the
// key-encryption key. They are stored in the header, so they can be raised
// later without touching anything but the header.
type KDFParams struct {
	Memory uint32 // KiB
	Passes uint32
	Lanes  uint8
}

// DefaultKDF is what new vaults use: Argon2id with 64 MiB, 3 passes, 1 lane.
var DefaultKDF = KDFParams{Memory: 64 * 1024, Passes: 3, Lanes: 1}

// Bounds on stored parameters: a vault never opens with parameters weaker
// than the floor, and a hostile header cannot make the browser allocate
// more than the ceiling.
var (
	minKDF = KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}
	maxKDF = KDFParams{Memory: 4 * 1024 * 1024, Passes: 64, Lanes: 16}
)

func (p KDFParams) check() error {
	if p.Memory < minKDF.Memory || p.Passes < minKDF.Passes || p.Lanes < minKDF.Lanes {
		return fmt.Errorf("vault: key derivation parameters below the minimum (%d KiB, %d passes, %d lanes)", p.Memory, p.Passes, p.Lanes)
	}
	if p.Memory > maxKDF.Memory || p.Passes > maxKDF.Passes || p.Lanes > maxKDF.Lanes {
		return fmt.Errorf("vault: key derivation parameters above the maximum (%d KiB, %d passes, %d lanes)", p.Memory, p.Passes, p.Lanes)
	}
	return nil
}

// header is the one plaintext value in the store. Change rules: numbered
// keys are never reused; fields added later are optional.
type header struct {
	Version    uint64    `cbor:"1,keyasint"`
	KDF        kdfHeader `cbor:"2,keyasint"`
	WrappedKey []byte    `cbor:"3,keyasint"`
	Created    int64     `cbor:"4,keyasint"`
}

type kdfHeader struct {
	Algorithm string `cbor:"1,keyasint"`
	Salt      []byte `cbor:"2,keyasint"`
	Memory    uint32 `cbor:"3,keyasint"`
	Passes    uint32 `cbor:"4,keyasint"`
	Lanes     uint8  `cbor:"5,keyasint"`
}

func (k kdfHeader) params() KDFParams { return KDFParams{k.Memory, k.Passes, k.Lanes} }

func decodeHeader(b []byte) (*header, error) {
	var h header
	if err := UnmarshalCBOR(b, &h); err != nil {
		return nil, fmt.Errorf("vault: reading header: %w", errors.Join(ErrCorrupt, err))
	}
	if h.Version != formatVersion {
		return nil, fmt.Errorf("vault: format version %d is not supported (this build reads version %d)", h.Version, formatVersion)
	}
	if h.KDF.Algorithm != "argon2id" {
		return nil, fmt.Errorf("vault: unknown key derivation %q", h.KDF.Algorithm)
	}
	if len(h.KDF.Salt) != 16 {
		return nil, fmt.Errorf("vault: header salt is %d bytes: %w", len(h.KDF.Salt), ErrCorrupt)
	}
	if err := h.KDF.params().check(); err != nil {
		return nil, err
	}
	return &h, nil
}

func (k kdfHeader) kek(passphrase string) []byte {
	return argon2.IDKey([]byte(passphrase), k.Salt, k.Passes, k.Memory, k.Lanes, 32)
}

func (k kdfHeader) wrapAD() ([]byte, error) {
	enc, err := MarshalCBOR(k)
	if err != nil {
		return nil, err
	}
	return append(ad(labelKeyWrap, ""), enc...), nil
}

// wrap seals dataKey under a new salt and the given passphrase and params.
func wrap(dataKey []byte, passphrase string, p KDFParams, random io.Reader) (kdfHeader, []byte, error) {
	k := kdfHeader{Algorithm: "argon2id", Salt: make([]byte, 16), Memory: p.Memory, Passes: p.Passes, Lanes: p.Lanes}
	if _, err := io.ReadFull(random, k.Salt); err != nil {
		return k, nil, fmt.Errorf("vault: reading randomness: %w", err)
	}
	a, err := k.wrapAD()
	if err != nil {
		return k, nil, err
	}
	kek := k.kek(passphrase)
	defer clear(kek)
	sealed, err := seal(kek, dataKey, a, random)
	if err != nil {
		return k, nil, err
	}
	return k, sealed[1:], nil // the header field has no envelope byte
}

// unwrap returns the data key, or ErrWrongPassphrase.
func (h *header) unwrap(passphrase string) ([]byte, error) {
	a, err := h.KDF.wrapAD()
	if err != nil {
		return nil, err
	}
	kek := h.KDF.kek(passphrase)
	defer clear(kek)
	if len(h.WrappedKey) != chacha20poly1305.NonceSizeX+32+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("vault: wrapped key is %d bytes: %w", len(h.WrappedKey), ErrCorrupt)
	}
	dk, err := open(kek, append([]byte{envelopeV1}, h.WrappedKey...), a)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return dk, nil
}
