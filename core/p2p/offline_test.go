//go:build !js

// These tests run PLANET nodes over the server's real relay and mailbox (serve/servetest).

package p2p_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core"
	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/invite"
	"planet/core/p2p"
	"planet/core/vc"
	"planet/serve/servetest"
	"planet/vault"
	"planet/vault/mem"
)

// tabPerson is a PLANET user whose host, like a browser's, listens nowhere
// and is reached through the relay; their vault outlives the host.
type tabPerson struct {
	name   string
	planet *core.Planet
	host   host.Host
	node   *p2p.Node
	did    did.DID
}

func newTabPerson(t *testing.T, name string) *tabPerson {
	t.Helper()
	ctx := context.Background()
	pl, err := core.Open(ctx, mem.New(), core.Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := pl.Create(ctx, "correct horse battery staple "+name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.SetSettings(ctx, core.Settings{Name: name}); err != nil {
		t.Fatal(err)
	}
	return &tabPerson{name: name, planet: pl, did: id.DID()}
}

// online starts the person's host and reserves a slot on the relay at addr.
func (p *tabPerson) online(t *testing.T, addr string) {
	t.Helper()
	id, err := p.planet.Identity()
	if err != nil {
		t.Fatal(err)
	}
	key, err := p2p.PrivateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	p.host = servetest.Peer(t, libp2p.Identity(key), libp2p.DefaultTransports)
	if p.node, err = p2p.New(p.host, p.planet, p2p.Options{Relays: []string{addr}, DialTimeout: 3 * time.Second, Log: servetest.Log(t, p.name+"'s node")}); err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(addr))
	if err != nil {
		t.Fatal(err)
	}
	ctx := servetest.Context(t)
	if err := p.host.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, p.host, *ai); err != nil {
		t.Fatal(err)
	}
}

func (p *tabPerson) offline() { p.host.Close() }

func (p *tabPerson) pickup(t *testing.T, want int) {
	t.Helper()
	n, err := p.node.Pickup(servetest.Context(t))
	if err != nil {
		t.Fatalf("%s picking up: %v", p.name, err)
	}
	if n != want {
		t.Fatalf("%s picked up %d letters, want %d", p.name, n, want)
	}
}

// An invitation accepted while the inviter is offline completes through
// the mailbox when they return, and the answer reaches the invitee, who by
// then is offline too, the same way; the server restarts in between and
// loses nothing. Chat left in the mailbox arrives the same way.
func TestOfflineCompletionThroughMailbox(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()

	alice, bob := newTabPerson(t, "Alice"), newTabPerson(t, "Bob")
	alice.online(t, relay)
	bob.online(t, relay)
	inv, err := alice.planet.Trust().CreateInvitation(ctx, invite.Options{Note: "allotment neighbours", Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	alice.offline()

	_, out, err := bob.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	posted, err := bob.node.Send(servetest.Context(t), out)
	if err != nil || !posted {
		t.Fatalf("Bob's acceptance with Alice offline: posted %v, %v", posted, err)
	}
	if pending, _ := bob.planet.Trust().PendingConnections(ctx); len(pending) != 1 {
		t.Fatalf("Bob's pending connections: %+v", pending)
	}
	bob.offline()

	// The server restarts, on the same address; the letter waits on disk.
	srv.Stop()
	srv.Start()

	// Alice returns and picks up Bob's acceptance; Bob is away, so her
	// answer goes to his mailbox.
	alice.online(t, relay)
	alice.pickup(t, 1)
	if c, _ := alice.planet.Contacts().ByDID(ctx, bob.did); c == nil || !c.IsConnected() || c.Name != "Bob" {
		t.Fatalf("Alice's contact for Bob: %+v", c)
	}
	welcome, err := alice.node.Chat(servetest.Context(t), bob.did, "welcome to the allotments!")
	if err != nil || welcome.State != chat.Sent || welcome.Via != chat.ViaMailbox {
		t.Fatalf("Alice's message with Bob away: %+v, %v", welcome, err)
	}

	bob.online(t, relay)
	bob.pickup(t, 2)
	c, _ := bob.planet.Contacts().ByDID(ctx, alice.did)
	if c == nil || c.Origin != contacts.OriginInvitedMe || c.Name != "Alice" {
		t.Fatalf("Bob's contact for Alice: %+v", c)
	}
	if pending, _ := bob.planet.Trust().PendingConnections(ctx); len(pending) != 0 {
		t.Fatalf("Bob's connection is still pending: %+v", pending)
	}
	kept, _ := bob.planet.Trust().Credentials(ctx)
	if len(kept) != 2 {
		t.Fatalf("Bob holds %d credentials, want his and Alice's", len(kept))
	}
	for _, k := range kept {
		if err := vc.Verify(k.Credential, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := bob.planet.Chat().Conversation(ctx, alice.did)
	if err != nil || len(conv) != 1 || conv[0].Text != "welcome to the allotments!" || conv[0].Via != chat.ViaMailbox {
		t.Fatalf("Bob's conversation with Alice: %+v, %v", conv, err)
	}
	// Bob's receipt reaches Alice, who is online, directly.
	if got := chatState(t, alice, bob, welcome.ID); got != chat.Delivered {
		t.Fatalf("Alice's message after Bob picked it up is %s, want delivered", got)
	}
	if conv, _ := alice.planet.Chat().Conversation(ctx, bob.did); len(conv) != 1 || conv[0].Via != chat.ViaMailbox {
		t.Fatalf("Alice's message delivered from the mailbox: %+v, want it via the mailbox", conv)
	}
	// Both online now: chat goes directly and is delivered.
	msg, err := bob.node.Chat(servetest.Context(t), alice.did, "thank you!")
	if err != nil || msg.State != chat.Delivered {
		t.Fatalf("direct chat: %+v, %v", msg, err)
	}
	// Nothing is left in either mailbox.
	alice.pickup(t, 0)
	bob.pickup(t, 0)
}

// connectedPair is Alice and Bob, online on the relay at addr and
// connected by an invitation of Alice's that Bob accepted directly.
func connectedPair(t *testing.T, addr string) (alice, bob *tabPerson) {
	t.Helper()
	alice, bob = newTabPerson(t, "Alice"), newTabPerson(t, "Bob")
	alice.online(t, addr)
	bob.online(t, addr)
	inv, err := alice.planet.Trust().CreateInvitation(context.Background(), invite.Options{Note: "allotment neighbours", Relays: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := bob.planet.Trust().AcceptInvitation(context.Background(), inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if posted, err := bob.node.Send(servetest.Context(t), out); err != nil || posted {
		t.Fatalf("Bob's acceptance: posted %v, %v", posted, err)
	}
	return alice, bob
}

// chatState is where p's message id to other stands.
func chatState(t *testing.T, p, other *tabPerson, id string) chat.State {
	t.Helper()
	conv, err := p.planet.Chat().Conversation(context.Background(), other.did)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range conv {
		if m.ID == id {
			return m.State
		}
	}
	t.Fatalf("%s has no message %s", p.name, id)
	return ""
}

// A message that waited in the mailbox becomes delivered for its writer
// when the reader picks it up: by a receipt that, with the writer away
// too, waits in the writer's mailbox in turn, across a server restart.
func TestReceiptForAMessageFromTheMailbox(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := connectedPair(t, relay)
	bob.offline()

	var sent []string
	for _, text := range []string{"are you coming saturday?", "bring the shears"} {
		m, err := alice.node.Chat(servetest.Context(t), bob.did, text)
		if err != nil || m.State != chat.Sent {
			t.Fatalf("%q with Bob away: %+v, %v", text, m, err)
		}
		sent = append(sent, m.ID)
	}
	alice.offline()

	bob.online(t, relay)
	bob.pickup(t, 2)
	bob.offline()
	srv.Stop()
	srv.Start()

	alice.online(t, relay)
	for _, id := range sent {
		if got := chatState(t, alice, bob, id); got != chat.Sent {
			t.Fatalf("before the receipt: %s", got)
		}
	}
	alice.pickup(t, 1) // Bob's receipt, one for both messages
	for _, id := range sent {
		if got := chatState(t, alice, bob, id); got != chat.Delivered {
			t.Fatalf("after the receipt: %s, want delivered", got)
		}
	}
	if n, _ := alice.planet.Counts(ctx); n.Messages != 2 {
		t.Fatalf("Alice counts %d messages, want 2", n.Messages)
	}
	alice.pickup(t, 0)
}

// run brings the person online the way the tab does: the node holds its
// reservation on the relay by itself and picks up its mailbox.
func (p *tabPerson) run(t *testing.T, addr string) (stop func()) {
	t.Helper()
	return p.runWith(t, addr, 50*time.Millisecond, 400*time.Millisecond)
}

// runWith is run with the node's back-off between minBackoff and maxBackoff.
func (p *tabPerson) runWith(t *testing.T, addr string, minBackoff, maxBackoff time.Duration) (stop func()) {
	t.Helper()
	id, err := p.planet.Identity()
	if err != nil {
		t.Fatal(err)
	}
	key, err := p2p.PrivateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	p.host = servetest.Peer(t, libp2p.Identity(key), libp2p.DefaultTransports)
	p.node, err = p2p.New(p.host, p.planet, p2p.Options{
		Relays: []string{addr}, DialTimeout: 2 * time.Second,
		MinBackoff: minBackoff, MaxBackoff: maxBackoff,
		Log: servetest.Log(t, p.name+"'s node"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.node.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done; p.host.Close() }
	t.Cleanup(func() { cancel(); <-done })
	return stop
}

func (p *tabPerson) reserved() bool {
	st := p.node.Status()
	return len(st) == 1 && st[0].Connected
}

// The node keeps its place on the relay by itself: it reserves, picks up
// what waited while it was away, notices the relay going down, and
// reserves again with back-off when the relay returns.
func TestNodeKeepsItsRelay(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := newTabPerson(t, "Alice"), newTabPerson(t, "Bob")
	for _, pair := range [][2]*tabPerson{{alice, bob}, {bob, alice}} {
		if _, err := pair[0].planet.Contacts().Add(ctx, contacts.Input{Name: pair[1].name, DID: pair[1].did.String()}); err != nil {
			t.Fatal(err)
		}
	}
	bob.online(t, relay)

	// While Alice is away, Bob's message waits in her mailbox; when her
	// tab comes back, it arrives without her asking.
	if err := bob.node.Post(servetest.Context(t), alice.did, []string{relay}, "first-letter-0001", sealChat(t, bob, alice, "are you coming saturday?")); err != nil {
		t.Fatal(err)
	}
	alice.run(t, relay)
	servetest.Eventually(t, "Alice's node reserves on the relay", alice.reserved)
	servetest.Eventually(t, "the waiting message reaches Alice", func() bool {
		conv, _ := alice.planet.Chat().Conversation(ctx, bob.did)
		return len(conv) == 1 && conv[0].Via == chat.ViaMailbox
	})

	// The relay goes down: Alice's node notices; it comes back on the same
	// address: her node reserves again by itself.
	srv.Stop()
	servetest.Eventually(t, "Alice's node notices the relay has gone", func() bool { return !alice.reserved() })
	if st := alice.node.Status(); st[0].Err == "" {
		t.Fatalf("a lost relay without a reason: %+v", st)
	}
	srv.Start()
	servetest.Eventually(t, "Alice's node reserves again", alice.reserved)
	bob.offline()
	bob.online(t, relay)
	direct(t, bob, alice, "see you there")
}

// sealChat makes a chat message from one person to another, sealed for the mailbox.
func sealChat(t *testing.T, from, to *tabPerson, text string) []byte {
	t.Helper()
	_, signed, err := from.planet.Chat().NewMessage(context.Background(), to.did, text)
	if err != nil {
		t.Fatal(err)
	}
	env, err := didcomm.SealSigned(to.did, signed)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// direct sends a chat message that must be delivered over a stream, through
// the relay's circuit to the recipient's reservation.
func direct(t *testing.T, from, to *tabPerson, text string) {
	t.Helper()
	pid, err := p2p.PeerID(to.did)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.node.Reach(servetest.Context(t), pid, to.node.Relays()); err != nil {
		t.Fatalf("%s cannot reach %s through the relay: %v", from.name, to.name, err)
	}
	msg, err := from.node.Chat(servetest.Context(t), to.did, text)
	if err != nil || msg.State != chat.Delivered {
		t.Fatalf("%s's message to %s: %+v, %v", from.name, to.name, msg, err)
	}
}

// A message written while neither its reader nor the server can be
// reached waits in the writer's outbox; when the server comes back, the
// writer's node leaves it in the reader's mailbox by itself, and the
// reader's receipt makes it delivered.
func TestQueuedMessageGoesWhenTheServerReturns(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := connectedPair(t, relay)
	alice.offline()
	bob.offline()
	srv.Stop()

	stop := alice.run(t, relay)
	defer stop()
	var waiting []string
	for _, text := range []string{"the server is down", "still down"} {
		m, err := alice.node.Chat(servetest.Context(t), bob.did, text)
		if !errors.Is(err, p2p.ErrQueued) || m == nil || m.State != chat.Queued {
			t.Fatalf("%q with Bob and the server away: %+v, %v", text, m, err)
		}
		waiting = append(waiting, m.ID)
	}
	if q, _ := alice.planet.Chat().Outbox(ctx); len(q) != 2 || q[0].State != chat.Queued || q[1].State != chat.Queued {
		t.Fatalf("Alice's outbox: %+v, want 2 queued messages", q)
	}

	srv.Start()
	servetest.Eventually(t, "Alice's messages to leave her outbox for Bob's mailbox", func() bool {
		return chatState(t, alice, bob, waiting[0]) == chat.Sent && chatState(t, alice, bob, waiting[1]) == chat.Sent
	})
	if q, _ := alice.planet.Chat().Outbox(ctx); len(q) != 2 || q[0].State != chat.Sent || q[1].State != chat.Sent || q[0].Via != chat.ViaMailbox || q[1].Via != chat.ViaMailbox {
		t.Fatalf("Alice's outbox: %+v, want her 2 messages sent, waiting for their receipt", q)
	}
	bob.online(t, relay)
	bob.pickup(t, 2)
	conv, _ := bob.planet.Chat().Conversation(ctx, alice.did)
	if len(conv) != 2 || conv[0].Text != "the server is down" || conv[1].Text != "still down" {
		t.Fatalf("Bob's conversation: %+v", conv)
	}
	servetest.Eventually(t, "Bob's receipt to reach Alice", func() bool {
		return chatState(t, alice, bob, waiting[0]) == chat.Delivered && chatState(t, alice, bob, waiting[1]) == chat.Delivered
	})
	if q, _ := alice.planet.Chat().Outbox(ctx); len(q) != 0 {
		t.Fatalf("Alice's outbox still holds %+v", q)
	}
}

// A pickup that fails while the reservation holds (here: the relay is up
// before its mailbox) is tried again on the back-off, not only at the next
// renewal.
func TestFailedPickupIsTriedAgain(t *testing.T) {
	ctx := context.Background()
	srv := servetest.Start(t)
	relay := srv.Addr()
	alice, bob := connectedPair(t, relay)
	bob.offline()
	if m, err := alice.node.Chat(servetest.Context(t), bob.did, "left in the mailbox"); err != nil || m.State != chat.Sent {
		t.Fatalf("Alice's message with Bob away: %+v, %v", m, err)
	}
	alice.offline()
	srv.Stop()

	// The relay alone, for now.
	srv.StartRelay()
	stop := bob.run(t, relay)
	defer stop()
	servetest.Eventually(t, "Bob's reservation", bob.reserved)
	time.Sleep(100 * time.Millisecond) // and the pickup that fails
	if conv, _ := bob.planet.Chat().Conversation(ctx, alice.did); len(conv) != 0 {
		t.Fatalf("Bob picked up from a relay without a mailbox: %+v", conv)
	}
	srv.StartMailbox()
	servetest.Eventually(t, "Bob to pick up Alice's message", func() bool {
		conv, _ := bob.planet.Chat().Conversation(ctx, alice.did)
		return len(conv) == 1 && conv[0].Text == "left in the mailbox"
	})
}

// A message its reader acknowledged, whose acknowledgement was not yet
// written when the vault locked (as when the page closes), stays sent, in
// the outbox; it turns delivered once the reader is next connected, and
// the reader keeps it once.
func TestUnwrittenAcknowledgementIsConfirmedAgain(t *testing.T) {
	ctx := context.Background()
	relay := servetest.Start(t).Addr()
	alice, bob := connectedPair(t, relay)
	m, err := alice.node.Chat(servetest.Context(t), bob.did, "the gate code is 1914")
	if err != nil || m.State != chat.Delivered {
		t.Fatalf("Alice's message: %+v, %v", m, err)
	}
	alice.planet.Lock() // before the acknowledgement is written
	alice.offline()
	time.Sleep(time.Second) // the write-behind finds the vault locked
	if _, err := alice.planet.Unlock(ctx, "correct horse battery staple Alice"); err != nil {
		t.Fatal(err)
	}
	if got := chatState(t, alice, bob, m.ID); got != chat.Sent {
		t.Fatalf("after locking: %s, want sent", got)
	}
	if q, _ := alice.planet.Chat().Outbox(ctx); len(q) != 1 || q[0].ID != m.ID {
		t.Fatalf("Alice's outbox: %+v", q)
	}

	stop := alice.run(t, relay)
	defer stop()
	servetest.Eventually(t, "Alice's reservation", alice.reserved)
	if got := chatState(t, alice, bob, m.ID); got != chat.Sent {
		t.Fatalf("with Bob not connected: %s, want sent", got)
	}
	direct(t, bob, alice, "noted") // Bob writes, through the relay
	servetest.Eventually(t, "Alice's message to be acknowledged again", func() bool {
		return chatState(t, alice, bob, m.ID) == chat.Delivered
	})
	if q, _ := alice.planet.Chat().Outbox(ctx); len(q) != 0 {
		t.Fatalf("Alice's outbox still holds %+v", q)
	}
	conv, err := bob.planet.Chat().Conversation(ctx, alice.did)
	if err != nil || len(conv) != 2 || conv[0].Text != "the gate code is 1914" || conv[1].Text != "noted" {
		t.Fatalf("Bob's conversation: %+v, %v", conv, err)
	}
}

// A node waiting out a long back-off, as a background tab's slowed timers
// make it, tries its relay again at once when woken.
func TestWakeEndsTheBackOff(t *testing.T) {
	srv := servetest.Start(t)
	relay := srv.Addr()
	srv.Stop()
	alice := newTabPerson(t, "Alice")
	stop := alice.runWith(t, relay, 10*time.Minute, 10*time.Minute)
	defer stop()
	servetest.Eventually(t, "Alice's node to find the relay down", func() bool {
		st := alice.node.Status()
		return len(st) == 1 && st[0].Err != "" && time.Until(st[0].Retry) > time.Minute
	})
	srv.Start()
	time.Sleep(300 * time.Millisecond)
	if alice.reserved() {
		t.Fatal("reserved before its back-off ended, unwoken")
	}
	alice.node.Wake()
	servetest.Eventually(t, "Alice's node, woken, to reserve at once", alice.reserved)
}
