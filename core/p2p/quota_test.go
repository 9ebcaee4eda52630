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
	"planet/core/did"
	"planet/core/invite"
	"planet/core/mailbox"
	"planet/core/p2p"
	"planet/serve/servetest"
)

// flood has a stranger with a throwaway key leave one-byte letters for to
// at the relay at addr until the mailbox refuses them, and returns how many
// it took.
func flood(t *testing.T, addr string, to did.DID) int {
	t.Helper()
	stranger := servetest.Peer(t, libp2p.DefaultTransports)
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(addr))
	if err != nil {
		t.Fatal(err)
	}
	ctx := servetest.Context(t)
	if err := stranger.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		s, err := stranger.NewStream(ctx, ai.ID, protocol.ID(mailbox.Protocol))
		if err != nil {
			t.Fatal(err)
		}
		err = mailbox.Deposit(ctx, s, to, fmt.Sprintf("flood-%010d", i), []byte{'x'})
		s.Close()
		if errors.Is(err, mailbox.ErrFull) {
			return i
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return 1000
}

// Accepting an invitation while the inviter is away goes into their
// mailbox even when strangers filled its strangers' share: the inviter
// registered the token of their open invitation, which the acceptance
// carries.
func TestStrangerFloodLeavesRoomForInvitees(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := newTabPerson(t, "Alice"), newTabPerson(t, "Bob")
	alice.online(t, relay)
	inv, err := alice.planet.Trust().CreateInvitation(ctx, invite.Options{Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	alice.pickup(t, 0) // registers the invitation's token
	alice.offline()
	left := flood(t, relay, alice.did)
	t.Logf("the stranger left %d letters", left)

	bob.online(t, relay)
	_, out, err := bob.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if posted, err := bob.node.Send(servetest.Context(t), out); err != nil || !posted {
		t.Fatalf("Bob's acceptance after a stranger's flood: posted %v, %v", posted, err)
	}
	alice.online(t, relay)
	alice.pickup(t, left+1)
	if c, _ := alice.planet.Contacts().ByDID(ctx, bob.did); c == nil || !c.IsConnected() {
		t.Fatalf("Alice's contact for Bob: %+v", c)
	}
}

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
	left := flood(t, relay, bob.did)
	t.Logf("the stranger left %d letters before the mailbox refused", left)
	ctx := servetest.Context(t)

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
