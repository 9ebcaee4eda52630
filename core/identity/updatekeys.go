package identity

import "crypto/ed25519"

// Update keys of the person's did:webvh DID (docs/pages-hosting.md,
// core/publish).
//
// A did:webvh log is signed by update keys, which pre-rotation lets the
// person change without anyone being able to sign in their place: each
// entry commits to the hash of the next key. The keys are derived from the
// identity's seed and their index as the relationship keys are (HKDF-SHA256,
// a versioned label, the index big-endian), so the vault keeps only the
// index, an export carries the keys with the seed, and key number n+1 is
// ready to be committed to while key n signs. They are not the identity's
// own key: that key signs what the person says (chat, credentials, page
// posts) and is in the DID document; an update key only says which
// document is current.

// updateKeyLabel is the HKDF label of update keys, version 1.
const updateKeyLabel = "planet did:webvh v1 ed25519 update key"

// UpdateKey returns the person's did:webvh update key number index. It
// panics after [Identity.Wipe].
func (id *Identity) UpdateKey(index uint32) *SigningKey {
	root := id.Seed()
	defer clear(root)
	seed := deriveRelationshipKey(root, updateKeyLabel, index)
	k := newSigningKey(ed25519.NewKeyFromSeed(seed))
	clear(seed)
	return &k
}
