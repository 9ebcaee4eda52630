package did

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"planet/core/keys"
)

// did:key (W3C CCG did:key method, Ed25519 only): the method-specific id is
// the key's Multikey, "z6Mk…". The document of a did:key is not looked up
// anywhere; it is generated from the key alone.

// parseKeyID checks the method-specific id of a did:key and returns its key.
func parseKeyID(id string) (ed25519.PublicKey, error) {
	if strings.Contains(id, ":") {
		// The did:key draft allows an optional version segment
		// ("did:key:1:z…"). PLANET neither writes nor reads it: one
		// spelling per key keeps DIDs comparable with ==.
		return nil, fmt.Errorf("%w: did:key id has more than one segment", ErrInvalid)
	}
	pub, err := keys.ParseEd25519Multikey(id)
	if err != nil {
		return nil, fmt.Errorf("%w: did:key %w", ErrInvalid, err)
	}
	return pub, nil
}

// keyDocument generates the DID document of a did:key: the Ed25519 key as the
// verification method for every relationship except key agreement, which
// uses the X25519 key derived from it.
func keyDocument(did string, pub ed25519.PublicKey) (*Document, error) {
	xpub, err := keys.X25519PublicFromEd25519(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	signing := VerificationMethod{
		ID:                 did + "#" + keys.Ed25519Multikey(pub),
		Type:               MultikeyType,
		Controller:         did,
		PublicKeyMultibase: keys.Ed25519Multikey(pub),
	}
	agreement := VerificationMethod{
		ID:                 did + "#" + keys.X25519Multikey(xpub),
		Type:               MultikeyType,
		Controller:         did,
		PublicKeyMultibase: keys.X25519Multikey(xpub),
	}
	return &Document{
		Context:              []string{ContextDIDv1, ContextMultikeyV1},
		ID:                   did,
		VerificationMethod:   []VerificationMethod{signing, agreement},
		Authentication:       []string{signing.ID},
		AssertionMethod:      []string{signing.ID},
		CapabilityInvocation: []string{signing.ID},
		CapabilityDelegation: []string{signing.ID},
		KeyAgreement:         []string{agreement.ID},
	}, nil
}
