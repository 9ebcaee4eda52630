package identity

import (
	"crypto/ed25519"
	"fmt"

	"planet/core/did"
	"planet/core/keys"
)

// Which peer speaks for which person.
//
// Today a person is one key: their did:key is made from it, and so is the
// libp2p peer ID their node connects as, so a connection that Noise
// authenticated as peer P speaks for the did:key of P's key and for no
// other DID. The functions below are the one place where the protocols
// (the trust network's, the mailbox's, the node's dialling) make that
// assumption. When a person has several keys (devices, passkeys, recovery),
// a peer will prove the DID it speaks for with a signed binding, and these
// are where that proof will be checked.

// PeerDID returns the DID that a connection from peer p speaks for.
func PeerDID(p keys.PeerID) (did.DID, error) {
	pub, err := p.Ed25519PublicKey()
	if err != nil {
		return did.DID{}, fmt.Errorf("peer %s: %w", p, err)
	}
	return did.FromEd25519(pub), nil
}

// DIDPeer returns the peer at which the person of d is reached.
func DIDPeer(d did.DID) (keys.PeerID, error) {
	pub, err := d.Ed25519PublicKey()
	if err != nil {
		return keys.PeerID{}, err
	}
	return keys.PeerIDFromEd25519(pub), nil
}

// PersonKey returns the Ed25519 key that speaks for the person of d: a
// did:key's own, or the one authentication key of a did:peer:2 (the DID a
// PLANET person shares carries their identity's key, so it names the same
// person as their did:key, and their tab's peer). A did:peer:2 with no or
// several authentication keys names no one key, and is refused.
func PersonKey(d did.DID) (ed25519.PublicKey, error) {
	if d.Method() == did.MethodKey {
		return d.Ed25519PublicKey()
	}
	doc, err := did.Resolve(d)
	if err != nil {
		return nil, err
	}
	if len(doc.Authentication) != 1 {
		return nil, fmt.Errorf("%s has %d authentication keys, not one", did.Short(d), len(doc.Authentication))
	}
	return doc.Ed25519Key(doc.Authentication[0], doc.Authentication)
}

// SpeaksFor reports whether a connection from peer p speaks for d.
func SpeaksFor(p keys.PeerID, d did.DID) bool {
	q, err := DIDPeer(d)
	return err == nil && q == p
}
