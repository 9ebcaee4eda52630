//go:build !js

package p2p_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/p2p"
	"planet/core/relationship"
	"planet/serve/servetest"
)

// TestDIDCommOverAStream: two PLANET people who know each other only by
// the DIDs they share hand DIDComm messages (a basic message, a
// relationship request) to each other's tab on a libp2p stream through
// their relay, as their mediator would otherwise carry them; a message the
// tab refuses is reported as refused, and without a way to the tab the
// sender is told to use the mediator.
func TestDIDCommOverAStream(t *testing.T) {
	relay := servetest.Start(t).Addr()
	id, err := identity.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mediator, err := id.Peer2DID(did.DIDCommService("http://127.0.0.1:1/didcomm"))
	if err != nil {
		t.Fatal(err)
	}
	var bobPlanet *core.Planet
	received := make(chan core.DIDCommReceipt, 4)
	bob := newPersonWith(t, "Bob", relay, p2p.Options{DIDComm: func(ctx context.Context, packed []byte, via string) error {
		r, err := bobPlanet.ReceiveDIDComm(ctx, packed, via)
		if err == nil {
			received <- r
		}
		return err
	}})
	bobPlanet = bob.planet
	alice := newPerson(t, "Alice", relay)
	alice.planet.SetMediator(mediator)
	bob.planet.SetMediator(mediator)
	bobShared, err := bob.planet.ShareDID()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := p2p.PeerOf(bobShared)
	if err != nil || pid != bob.host.ID() {
		t.Fatalf("the peer of Bob's shared DID is %s (%v), want his tab %s", pid, err, bob.host.ID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Not connected, and no relay to try: the mediator's turn.
	sent, packed, err := alice.planet.WriteBasic(ctx, bobShared, "Hello Bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.node.SendDIDComm(ctx, pid, nil, packed.Message); !errors.Is(err, p2p.ErrNotConnected) {
		t.Fatalf("without a connection: %v", err)
	}

	// Through the relay both hold a reservation at.
	via, err := alice.node.SendDIDComm(ctx, pid, []string{relay}, packed.Message)
	if err != nil {
		t.Fatal(err)
	}
	if via != chat.ViaRelayed {
		t.Errorf("went %q, want relayed (these hosts make no direct connections)", via)
	}
	r := <-received
	if r.From != must(alice.planet.ShareDID()) || r.Type != chat.BasicMessageType {
		t.Fatalf("Bob received %+v", r)
	}
	reqs, err := bob.planet.Chat().Requests(ctx)
	if err != nil || len(reqs) != 1 || reqs[0].Messages[0].Via != chat.ViaRelayed || reqs[0].Messages[0].Text != "Hello Bob" {
		t.Fatalf("Bob's requests: %+v %v", reqs, err)
	}
	done, err := alice.planet.Chat().DeliveredBasic(ctx, sent.From, sent.ID, via)
	if err != nil || done.State != chat.Delivered || done.Via != chat.ViaRelayed {
		t.Fatalf("Alice's message after delivery: %+v %v", done, err)
	}

	// A relationship request the same way, on the connection there is now.
	_, out, err := alice.planet.RequestRelationship(ctx, bobShared, "Alice, over libp2p")
	if err != nil {
		t.Fatal(err)
	}
	if out.Person != bobShared {
		t.Fatalf("the request goes to %s, want %s", out.Person, bobShared)
	}
	if _, err := alice.node.SendDIDComm(ctx, pid, nil, out.Packed.Message); err != nil {
		t.Fatal(err)
	}
	if r := <-received; r.Relationship == nil || r.Relationship.Kind != relationship.KindRequest || r.Relationship.Relationship.Reason != "Alice, over libp2p" {
		t.Fatalf("Bob received %+v", r)
	}

	// What Bob's tab refuses comes back as refused, with its reason.
	if _, err := alice.node.SendDIDComm(ctx, pid, nil, []byte(`{"not":"didcomm"}`)); !errors.Is(err, p2p.ErrRefused) {
		t.Fatalf("garbage: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
