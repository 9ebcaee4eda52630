package webvh

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"planet/core/internal/eddsajcs"
	"planet/core/jcs"

	"github.com/mr-tron/base58"
)

// Hashes in did:webvh 1.0 are base58btc (no multibase prefix) of a SHA-256
// multihash: 0x12, 0x20, then the 32-byte digest. Version 1.0 permits no
// other algorithm (spec "did:webvh DID Method Parameters", method).

// hashString returns base58btc(multihash(SHA-256(data))).
func hashString(data []byte) string {
	sum := sha256.Sum256(data)
	return base58.Encode(append([]byte{0x12, 0x20}, sum[:]...))
}

// checkHashString checks that s is base58btc of a SHA-256 multihash.
func checkHashString(s string) error {
	b, err := base58.Decode(s)
	if err != nil {
		return fmt.Errorf("%q is not base58btc", s)
	}
	if len(b) != 34 || b[0] != 0x12 || b[1] != 0x20 {
		return fmt.Errorf("%q is not a SHA-256 multihash, the only hash did:webvh 1.0 permits", s)
	}
	return nil
}

// NextKeyHash returns the pre-rotation commitment to an update key (spec
// "Pre-Rotation Key Hash Generation and Verification"): the hash of the
// key's Multikey string, to list in nextKeyHashes now and reveal in
// updateKeys in the next entry.
func NextKeyHash(multikey string) string { return hashString([]byte(multikey)) }

// entryHash returns the hash of e chained to prev, the versionId of the
// entry before it (the SCID for the first entry).
func entryHash(e Entry, prev string) (string, error) {
	canonical, err := eddsajcs.Canonical(e.unsigned(prev))
	if err != nil {
		return "", err
	}
	return hashString(canonical), nil
}

// scidOf computes the SCID of a first entry (spec "SCID Generation and
// Verification"): the entry without its proof, versionId set to "{SCID}",
// and every occurrence of scid in its text replaced by the placeholder,
// canonicalised and hashed. Creation calls it with scid "" on the entry
// that still holds the placeholders.
func scidOf(e Entry, scid string) (string, error) {
	data, err := jcs.Encode(e.unsigned(scidPlaceholder))
	if err != nil {
		return "", err
	}
	if scid != "" {
		// The SCID is base58btc, which JSON writes without escapes, so a
		// text replacement finds every place it is used.
		data = bytes.ReplaceAll(data, []byte(scid), []byte(scidPlaceholder))
	}
	v, err := jcs.Decode(data)
	if err != nil {
		return "", errors.New("entry with the placeholder is not JSON")
	}
	canonical, err := eddsajcs.Canonical(v)
	if err != nil {
		return "", err
	}
	return hashString(canonical), nil
}
