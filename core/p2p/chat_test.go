//go:build !js

package p2p_test

import (
	"context"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/p2p"
	"planet/serve/servetest"
)

// chatStreams are the open chat streams h has to p.
func chatStreams(h interface {
	Network() network.Network
}, p peer.ID) []network.Stream {
	var out []network.Stream
	for _, c := range h.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == chat.Protocol {
				out = append(out, s)
			}
		}
	}
	return out
}

// chatPair is Alice and Bob over a relay, Alice's node made with opt.
func chatPair(t *testing.T, opt p2p.Options) (alice, bob *person) {
	t.Helper()
	relay := servetest.Start(t).Addr()
	bob = newPerson(t, "Bob", relay)
	alice = newPersonWith(t, "Alice", relay, opt)
	// Bob knows Alice (chat from a stranger waits as a request).
	if _, err := bob.planet.Contacts().Add(context.Background(), contacts.Input{Name: "Alice", DID: alice.did.String()}); err != nil {
		t.Fatal(err)
	}
	if err := alice.node.Reach(context.Background(), bob.host.ID(), []string{relay}); err != nil {
		t.Fatal(err)
	}
	return alice, bob
}

func chatDelivered(t *testing.T, from, to *person, text string) *chat.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := from.node.Chat(ctx, to.did, text)
	if err != nil {
		t.Fatalf("%s chatting to %s: %v", from.name, to.name, err)
	}
	if m.State != chat.Delivered {
		t.Fatalf("%q is %s, want delivered", text, m.State)
	}
	return m
}

// TestChatKeepsOneStream: a conversation goes over one chat stream, not
// one per message, in order; the stream closes once the conversation is
// idle, and the next message opens another.
func TestChatKeepsOneStream(t *testing.T) {
	alice, bob := chatPair(t, p2p.Options{ChatIdle: 500 * time.Millisecond})
	texts := []string{"one", "two", "three", "four", "five"}
	for _, text := range texts {
		chatDelivered(t, alice, bob, text)
		if n := len(chatStreams(alice.host, bob.host.ID())); n != 1 {
			t.Fatalf("after %q alice has %d chat streams to bob, want 1", text, n)
		}
	}
	convo, err := bob.planet.Chat().Conversation(context.Background(), alice.did)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range convo {
		got = append(got, m.Text)
	}
	if len(got) != len(texts) {
		t.Fatalf("bob has %q, want %q", got, texts)
	}
	for i := range texts {
		if got[i] != texts[i] {
			t.Fatalf("bob has %q, want %q", got, texts)
		}
	}
	servetest.Eventually(t, "the idle chat stream to close", func() bool {
		return len(chatStreams(alice.host, bob.host.ID())) == 0 && len(chatStreams(bob.host, alice.host.ID())) == 0
	})
	chatDelivered(t, alice, bob, "six, after a pause")
}

// TestChatReplacesABrokenStream: when the stream kept for the
// conversation is gone (reset by the other side, say after a restart of
// its node), the next message goes over a new one, delivered as ever.
func TestChatReplacesABrokenStream(t *testing.T) {
	alice, bob := chatPair(t, p2p.Options{})
	chatDelivered(t, alice, bob, "before")
	theirs := chatStreams(bob.host, alice.host.ID())
	if len(theirs) != 1 {
		t.Fatalf("bob has %d chat streams from alice, want 1", len(theirs))
	}
	theirs[0].Reset()
	chatDelivered(t, alice, bob, "after the reset")
	convo, err := bob.planet.Chat().Conversation(context.Background(), alice.did)
	if err != nil {
		t.Fatal(err)
	}
	if len(convo) != 2 {
		t.Fatalf("bob has %d messages, want 2", len(convo))
	}
}

// TestChatGivesUpOnASilentStream: a chat stream on which no answer comes
// (the way Chromium sometimes leaves a new data channel) is given up after
// Options.ChatTimeout, and the message is delivered over a new stream,
// kept once.
func TestChatGivesUpOnASilentStream(t *testing.T) {
	alice, bob := chatPair(t, p2p.Options{ChatTimeout: 500 * time.Millisecond})
	var silenced atomic.Int32
	bob.host.SetStreamHandler(chat.Protocol, func(s network.Stream) {
		silenced.Add(1)
		// Read what comes and answer nothing, then let Bob's node answer
		// chat streams again (New sets its handlers anew).
		go io.Copy(io.Discard, s)
		if _, err := p2p.New(bob.host, bob.planet, p2p.Options{Relays: bob.node.Relays()}); err != nil {
			t.Error(err)
		}
	})
	start := time.Now()
	m := chatDelivered(t, alice, bob, "through in the end")
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("delivered after %v, before the first stream could time out", took)
	}
	if silenced.Load() != 1 {
		t.Errorf("%d streams went unanswered, want 1", silenced.Load())
	}
	convo, err := bob.planet.Chat().Conversation(context.Background(), alice.did)
	if err != nil {
		t.Fatal(err)
	}
	if len(convo) != 1 || convo[0].ID != m.ID {
		t.Fatalf("bob has %v, want the one message", convo)
	}
}

// TestChatSaysHowItTravelled: between two people reached only through
// the relay, a message goes on a stream over the relayed (limited)
// connection, and both its writer and its reader record it "relayed";
// once a direct connection comes up, the next messages, both ways, go
// over it and are recorded "direct". An export keeps each way.
func TestChatSaysHowItTravelled(t *testing.T) {
	ctx := context.Background()
	alice, bob := chatPair(t, p2p.Options{})
	if _, err := alice.planet.Contacts().Add(ctx, contacts.Input{Name: "Bob", DID: bob.did.String()}); err != nil {
		t.Fatal(err)
	}
	if c := alice.host.Network().Connectedness(bob.host.ID()); c != network.Limited {
		t.Fatalf("alice is %v to bob, want only the relayed connection", c)
	}
	// send sends text from one to the other and checks the way each
	// records: the writer's at once, the reader's once it is kept.
	send := func(from, to *person, text, want string) {
		t.Helper()
		// Each message in a second of its own on both clocks: two
		// writers' messages of one second have no one order after an
		// import, which keeps times to the second.
		alice.clock.advance(time.Second)
		bob.clock.advance(time.Second)
		m := chatDelivered(t, from, to, text)
		if m.Via != want {
			t.Errorf("%s's %q went %q, want %q", from.name, text, m.Via, want)
		}
		for _, s := range chatStreams(from.host, to.host.ID()) {
			if s.Stat().Direction != network.DirOutbound {
				continue // the other's stream to from
			}
			if got := p2p.Relayed(s.Conn()); got != (want == chat.ViaRelayed) {
				t.Errorf("%s's chat stream to %s is on %s, relayed %v", from.name, to.name, s.Conn().RemoteMultiaddr(), got)
			}
		}
		conv, err := to.planet.Chat().Conversation(ctx, from.did)
		if err != nil {
			t.Fatal(err)
		}
		if last := conv[len(conv)-1]; last.ID != m.ID || last.State != chat.Received || last.Via != want {
			t.Errorf("%s has %q %s via %q, want received via %q", to.name, last.Text, last.State, last.Via, want)
		}
	}
	send(alice, bob, "through the relay", chat.ViaRelayed)
	send(bob, alice, "back through the relay", chat.ViaRelayed)

	// A direct connection: Bob listens on loopback, and Alice dials him
	// there (as WebRTC comes up beside the relayed connection in the
	// browser). The streams kept on the relayed connection are let go.
	if err := bob.host.Network().Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0")); err != nil {
		t.Fatal(err)
	}
	direct := network.WithForceDirectDial(ctx, "test")
	if err := alice.host.Connect(direct, peer.AddrInfo{ID: bob.host.ID(), Addrs: bob.host.Network().ListenAddresses()}); err != nil {
		t.Fatal(err)
	}
	if c := alice.host.Network().Connectedness(bob.host.ID()); c != network.Connected {
		t.Fatalf("alice is %v to bob, want a direct connection", c)
	}
	send(alice, bob, "now directly", chat.ViaDirect)
	send(bob, alice, "directly back", chat.ViaDirect)

	// How each went, on both sides, written and carried by an export.
	want := []string{
		"through the relay relayed", "back through the relay relayed",
		"now directly direct", "directly back direct",
	}
	for _, p := range []*person{alice, bob} {
		p.planet.Chat().WriteAcknowledged()
		other := bob.did
		if p == bob {
			other = alice.did
		}
		conv, err := reimported(t, p).Chat().Conversation(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range conv {
			got = append(got, m.Text+" "+m.Via)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s's conversation, exported and imported: %q, want %q", p.name, got, want)
		}
	}
}
