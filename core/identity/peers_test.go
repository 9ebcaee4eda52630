package identity

import (
	"bytes"
	"testing"

	"planet/core/did"
)

func TestPeersSpeakForTheirDID(t *testing.T) {
	alice, _ := FromSeed(bytes.Repeat([]byte{1}, 32))
	bob, _ := FromSeed(bytes.Repeat([]byte{2}, 32))
	if d, err := PeerDID(alice.PeerID()); err != nil || d != alice.DID() {
		t.Errorf("PeerDID(alice's peer) = %v, %v; want %s", d, err, alice.DID())
	}
	if p, err := DIDPeer(alice.DID()); err != nil || p != alice.PeerID() {
		t.Errorf("DIDPeer(alice) = %v, %v; want %s", p, err, alice.PeerID())
	}
	if !SpeaksFor(alice.PeerID(), alice.DID()) || SpeaksFor(bob.PeerID(), alice.DID()) {
		t.Error("a peer must speak for its own DID and no other")
	}
	peerDID, err := alice.Peer2DID()
	if err != nil {
		t.Fatal(err)
	}
	if SpeaksFor(alice.PeerID(), peerDID) || SpeaksFor(alice.PeerID(), did.DID{}) {
		t.Error("a peer speaks for no did:peer and no zero DID until bindings exist")
	}
}
