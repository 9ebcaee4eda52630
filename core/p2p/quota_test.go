//go:build !js

package p2p_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core/chat"
	"planet/core/invite"
	"planet/core/mailbox"
	"planet/core/p2p"
	"planet/serve/servetest"
)

// A stranger who floods someone's mailbox with tiny letters does not keep
// that person's contacts out: the contact's letter goes in all the same,
// because the person registered the token of their relationship when they
// last picked up, and the contact's node presents it.
func TestStrangerFloodLeavesRoomForContacts(t *testing.T) {
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := connectedPair(t, relay)
	bob.pickup(t, 0) // registers Alice's token with Bob's mailbox
	bob.offline()

	// A stranger with a throwaway key leaves a thousand one-byte letters
	// for Bob, as many as the mailbox takes.
	stranger := servetest.Peer(t, libp2p.DefaultTransports)
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(relay))
	if err != nil {
		t.Fatal(err)
	}
	ctx := servetest.Context(t)
	if err := stranger.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	left := 0
	for i := range 1000 {
		s, err := stranger.NewStream(ctx, ai.ID, protocol.ID(mailbox.Protocol))
		if err != nil {
			t.Fatal(err)
		}
		err = mailbox.Deposit(ctx, s, bob.did, fmt.Sprintf("flood-%010d", i), []byte{'x'})
		s.Close()
		if errors.Is(err, mailbox.ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		left++
	}
	t.Logf("the stranger left %d letters before the mailbox refused", left)

	msg, err := alice.node.Chat(servetest.Context(t), bob.did, "are you coming to the AGM?")
	if err != nil || msg.State != chat.Sent {
		t.Fatalf("Alice's letter after a stranger's flood: %v", err)
	}
	bob.online(t, relay)
	bob.pickup(t, left+1)
	conv, err := bob.planet.Chat().Conversation(ctx, alice.did)
	if err != nil || len(conv) != 1 || conv[0].Text != "are you coming to the AGM?" {
		t.Fatalf("Bob's conversation with Alice: %+v, %v", conv, err)
	}
}

// A node answers WebRTC signalling (which would give away the addresses of
// the person's device) only from their contacts and the people they are
// connecting with; a stranger, or anyone while the vault is locked, is
// refused.
func TestAnswersSignalingOnlyToPeopleKnown(t *testing.T) {
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := connectedPair(t, relay)
	carol, dave := newTabPerson(t, "Carol"), newTabPerson(t, "Dave")
	carol.online(t, relay)
	peerOf := func(p *tabPerson) peer.ID {
		id, err := p2p.PeerID(p.did)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if !alice.node.AnswersSignaling(peerOf(bob)) || !bob.node.AnswersSignaling(peerOf(alice)) {
		t.Error("contacts do not answer each other's signalling")
	}
	if alice.node.AnswersSignaling(peerOf(carol)) || alice.node.AnswersSignaling(peerOf(dave)) {
		t.Error("Alice answers a stranger's signalling")
	}
	// Carol accepts an invitation from Dave, who is offline: she is now
	// connecting with him, and answers him; he does not know her yet.
	dave.online(t, relay)
	inv, err := dave.planet.Trust().CreateInvitation(context.Background(), invite.Options{Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	dave.offline()
	if _, _, err := carol.planet.Trust().AcceptInvitation(context.Background(), inv.Token); err != nil {
		t.Fatal(err)
	}
	if !carol.node.AnswersSignaling(peerOf(dave)) {
		t.Error("Carol does not answer the person she is connecting with")
	}
	if carol.node.AnswersSignaling(peerOf(alice)) {
		t.Error("Carol answers a stranger")
	}
	// A peer ID that is no PLANET key is nobody's contact.
	if alice.node.AnswersSignaling(peer.ID("not a peer id")) {
		t.Error("Alice answers a malformed peer id")
	}
	alice.planet.Lock()
	if alice.node.AnswersSignaling(peerOf(bob)) {
		t.Error("a locked vault answers signalling")
	}
}
