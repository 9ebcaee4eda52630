package identity

import (
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

// SpeaksFor reports whether a connection from peer p speaks for d.
func SpeaksFor(p keys.PeerID, d did.DID) bool {
	q, err := DIDPeer(d)
	return err == nil && q == p
}
