//go:build !js

// These tests run the protocol over real go-libp2p hosts, which do not build for js/wasm.

package core_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"planet/core"
	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/keys"
	"planet/core/wire"
	"planet/vault"
	"planet/vault/mem"
)

// testClock is a clock shared by the people of a test: each reading is a
// second after the one before, so that every message has its own time and
// the order of a conversation is the same on both sides.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// chatter is one person in a chat test: their PLANET over an in-memory
// store, and a libp2p host on loopback whose peer ID is their identity's,
// serving the chat protocol.
type chatter struct {
	p      *core.Planet
	id     *identity.Identity
	h      host.Host
	served chan error // what each ServeChat returned
}

// newChatter is a person who knows (has as contacts) every other chatter
// of the test, and is known by them; see newStranger for one who is not.
func newChatter(t *testing.T, clock *testClock) *chatter {
	t.Helper()
	c := newStranger(t, clock)
	chattersMu.Lock()
	others := chatters[t]
	chatters[t] = append(others, c)
	chattersMu.Unlock()
	for _, o := range others {
		c.knows(t, o)
		o.knows(t, c)
	}
	t.Cleanup(func() {
		chattersMu.Lock()
		delete(chatters, t)
		chattersMu.Unlock()
	})
	return c
}

// chatters are the chatters of each test so far.
var (
	chattersMu sync.Mutex
	chatters   = map[*testing.T][]*chatter{}
)

// newStranger is a person nobody of the test knows, nor they anyone.
func newStranger(t *testing.T, clock *testClock) *chatter {
	t.Helper()
	opts := testOpts
	opts.Now = clock.Now
	p := must(core.Open(ctx, mem.New(), opts))
	id := must(p.Create(ctx, pass))
	return hostFor(t, p, id)
}

// hostFor starts a libp2p host for id and serves p's chat on it.
func hostFor(t *testing.T, p *core.Planet, id *identity.Identity) *chatter {
	t.Helper()
	seed := id.Seed()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	clear(seed)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.Identity(k))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if h.ID().String() != id.PeerID().String() {
		t.Fatalf("host peer ID %s, identity's %s", h.ID(), id.PeerID())
	}
	c := &chatter{p: p, id: id, h: h, served: make(chan error, 16)}
	h.SetStreamHandler(chat.Protocol, func(s network.Stream) {
		remote, err := keys.ParsePeerID(s.Conn().RemotePeer().String())
		if err != nil {
			s.Reset()
			c.served <- err
			return
		}
		c.served <- p.Chat().Serve(ctx, s, remote, chat.ViaDirect) // loopback TCP, no relay
	})
	return c
}

// knows adds other to c's contacts, once: chat from someone who is not a
// contact waits as a request.
func (c *chatter) knows(t *testing.T, other *chatter) {
	t.Helper()
	if k, err := c.p.Contacts().ByDID(ctx, other.id.DID()); err != nil || k != nil {
		return
	}
	if _, err := c.p.Contacts().Add(ctx, contacts.Input{Name: "Someone", DID: other.id.DID().String()}); err != nil {
		t.Fatal(err)
	}
}

// open opens a chat stream from c to to.
func (c *chatter) open(t *testing.T, to *chatter) network.Stream {
	t.Helper()
	if err := c.h.Connect(ctx, peer.AddrInfo{ID: to.h.ID(), Addrs: to.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := c.h.NewStream(ctx, to.h.ID(), chat.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// send sends each signed message from c to to on one stream, and returns
// what SendChat returned for the first that failed and what the receiver's
// ServeChat returned.
func (c *chatter) send(t *testing.T, to *chatter, signed ...[]byte) (sendErr, serveErr error) {
	t.Helper()
	s := c.open(t, to)
	for _, m := range signed {
		if sendErr = chat.Send(ctx, s, m); sendErr != nil {
			break
		}
	}
	s.Close()
	return sendErr, to.wait(t)
}

// wait returns what the next ServeChat of c returned.
func (c *chatter) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.served:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the chat stream was not served")
		return nil
	}
}

// say writes text from c to to and sends it directly; once acknowledged it
// is marked delivered.
func (c *chatter) say(t *testing.T, to *chatter, text string) *chat.Message {
	t.Helper()
	m, signed, err := c.p.Chat().NewMessage(ctx, to.id.DID(), text)
	if err != nil {
		t.Fatal(err)
	}
	if sendErr, serveErr := c.send(t, to, signed); sendErr != nil || serveErr != nil {
		t.Fatalf("sending %q: SendChat %v, ServeChat %v", text, sendErr, serveErr)
	}
	if err := c.p.Chat().MarkDelivered(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	return m
}

// summary is what a test checks of a conversation: who said what, in
// which state.
func summary(t *testing.T, p *core.Planet, with did.DID, names map[did.DID]string) []string {
	t.Helper()
	msgs, err := p.Chat().Conversation(ctx, with)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = names[m.From] + ": " + m.Text + " (" + string(m.State) + ")"
	}
	return out
}

func TestChatBothDirections(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	names := map[did.DID]string{alice.id.DID(): "alice", bob.id.DID(): "bob"}

	sent := alice.say(t, bob, "  Hello Bob — tea at five?\n")
	if sent.Text != "Hello Bob — tea at five?" || sent.Seq != 1 || sent.State != chat.Sent || sent.To != bob.id.DID() {
		t.Fatalf("NewChat = %+v", sent)
	}
	bob.say(t, alice, "Yes! <3 & see you")
	alice.say(t, bob, "👍")

	want := []string{"alice: Hello Bob — tea at five? (delivered)", "bob: Yes! <3 & see you (received)", "alice: 👍 (delivered)"}
	if got := summary(t, alice.p, bob.id.DID(), names); !reflect.DeepEqual(got, want) {
		t.Errorf("alice's conversation:\n %q\nwant\n %q", got, want)
	}
	want = []string{"alice: Hello Bob — tea at five? (received)", "bob: Yes! <3 & see you (delivered)", "alice: 👍 (received)"}
	if got := summary(t, bob.p, alice.id.DID(), names); !reflect.DeepEqual(got, want) {
		t.Errorf("bob's conversation:\n %q\nwant\n %q", got, want)
	}
	msgs := must(bob.p.Chat().Conversation(ctx, alice.id.DID()))
	if m := msgs[0]; m.ID != sent.ID || m.Via != chat.ViaDirect || m.Seq != 1 || !m.Created.Equal(sent.Created) || m.Stored.IsZero() || !m.Delivered.IsZero() {
		t.Errorf("bob's copy of alice's first message: %+v", m)
	}
	if msgs[2].Seq != 2 || msgs[1].Seq != 1 {
		t.Errorf("seqs %d, %d, %d; want 1, 1, 2", msgs[0].Seq, msgs[1].Seq, msgs[2].Seq)
	}
	if got := must(bob.p.Counts(ctx)).Messages; got != 3 {
		t.Errorf("bob counts %d messages, want 3", got)
	}
	// Nobody else is in the conversation.
	if got := must(alice.p.Chat().Conversation(ctx, must(identity.New(nil)).DID())); len(got) != 0 {
		t.Errorf("conversation with a stranger: %+v", got)
	}
}

func TestChatDuplicateKeptOnce(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	m, signed := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "once only"))

	// Twice on one stream, both acknowledged; again on another stream.
	if sendErr, serveErr := alice.send(t, bob, signed, signed); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	if sendErr, serveErr := alice.send(t, bob, signed); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	// And from the mailbox, sealed.
	env := must(didcomm.SealSigned(bob.id.DID(), signed))
	opened, inner, err := didcomm.UnsealSigned(bob.id, env, clock.Now())
	if err != nil || opened.ID != m.ID {
		t.Fatalf("UnsealSigned = %+v, %v", opened, err)
	}
	got, isNew, err := bob.p.Chat().Receive(ctx, inner, chat.ViaMailbox)
	if err != nil || isNew || got.Via != chat.ViaDirect || got.Text != "once only" {
		t.Fatalf("ReceiveChat of a message kept before = %+v, new %v, %v", got, isNew, err)
	}
	if n := len(must(bob.p.Chat().Conversation(ctx, alice.id.DID()))); n != 1 {
		t.Fatalf("bob keeps %d messages, want 1", n)
	}
	if c := must(bob.p.Counts(ctx)); c.Messages != 1 {
		t.Fatalf("bob counts %d messages, want 1", c.Messages)
	}
}

func TestChatMailboxDelivery(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	m, signed := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "while you were away"))
	env := must(didcomm.SealSigned(bob.id.DID(), signed))
	_, inner, err := didcomm.UnsealSigned(bob.id, env, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, isNew, err := bob.p.Chat().Receive(ctx, inner, chat.ViaMailbox)
	if err != nil || !isNew || got.ID != m.ID || got.Via != chat.ViaMailbox || got.State != chat.Received {
		t.Fatalf("ReceiveChat = %+v, new %v, %v", got, isNew, err)
	}
	// Alice's message stays sent until she learns it was delivered.
	if s := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0].State; s != chat.Sent {
		t.Fatalf("state %s before any acknowledgement", s)
	}
	for _, bad := range []string{"", "carrier pigeon"} {
		if _, _, err := bob.p.Chat().Receive(ctx, inner, bad); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("ReceiveChat via %q: %v", bad, err)
		}
	}
}

func TestChatOrder(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	names := map[did.DID]string{alice.id.DID(): "alice", bob.id.DID(): "bob"}
	var signed [][]byte
	for _, text := range []string{"one", "two", "three"} {
		_, s := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), text))
		signed = append(signed, s)
	}
	// They arrive in reverse, some directly and one through the mailbox;
	// bob answers in between.
	if sendErr, serveErr := alice.send(t, bob, signed[2]); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	bob.say(t, alice, "reply")
	must2(bob.p.Chat().Receive(ctx, signed[1], chat.ViaMailbox))
	if sendErr, serveErr := alice.send(t, bob, signed[0]); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	want := []string{"alice: one (received)", "alice: two (received)", "alice: three (received)", "bob: reply (delivered)"}
	if got := summary(t, bob.p, alice.id.DID(), names); !reflect.DeepEqual(got, want) {
		t.Errorf("bob's conversation:\n %q\nwant\n %q", got, want)
	}

	// Sequence numbers win over clocks: a sender whose clock went back
	// still has their messages shown in the order they were written.
	carol := must(identity.New(nil))
	names[carol.DID()] = "carol"
	must(bob.p.Contacts().Add(ctx, contacts.Input{Name: "Carol", DID: carol.DID().String()}))
	t0 := clock.Now()
	for _, m := range []struct {
		seq  int
		text string
		at   time.Time
	}{{1, "first", t0.Add(-10 * time.Second)}, {2, "second, clock went back", t0.Add(-time.Hour)}, {3, "third", t0}} {
		msg := must(didcomm.NewMessage(carol.DID(), []did.DID{bob.id.DID()}, chat.MessageType, map[string]any{"seq": m.seq, "text": m.text}, m.at))
		must2(bob.p.Chat().Receive(ctx, must(didcomm.Sign(carol, msg)), chat.ViaMailbox))
	}
	_, s := must2(bob.p.Chat().NewMessage(ctx, carol.DID(), "hi carol"))
	_ = s
	want = []string{"carol: first (received)", "carol: second, clock went back (received)", "carol: third (received)", "bob: hi carol (sent)"}
	if got := summary(t, bob.p, carol.DID(), names); !reflect.DeepEqual(got, want) {
		t.Errorf("bob's conversation with carol:\n %q\nwant\n %q", got, want)
	}
}

func TestChatManyMessages(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	const n = 300
	var signed [][]byte
	for i := range n {
		m, s := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), strings.Repeat("x", i%50+1)))
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d", i+1, m.Seq)
		}
		signed = append(signed, s)
	}
	if sendErr, serveErr := alice.send(t, bob, signed...); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	msgs := must(bob.p.Chat().Conversation(ctx, alice.id.DID()))
	if len(msgs) != n {
		t.Fatalf("bob keeps %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d of the conversation has seq %d", i+1, m.Seq)
		}
	}
}

func TestChatDelivered(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	m, signed := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "did you get this?"))
	if sendErr, serveErr := alice.send(t, bob, signed); sendErr != nil || serveErr != nil {
		t.Fatalf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	got := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0]
	if got.State != chat.Sent || !bytes.Equal(got.Signed, signed) {
		t.Fatalf("before MarkDelivered: %+v", got)
	}
	if err := alice.p.Chat().MarkDelivered(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	got = must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0]
	if got.State != chat.Delivered || got.Delivered.IsZero() {
		t.Fatalf("after MarkDelivered: %+v", got)
	}
	if err := alice.p.Chat().MarkDelivered(ctx, m.ID); err != nil {
		t.Fatalf("marking again: %v", err)
	}
	if again := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0]; !again.Delivered.Equal(got.Delivered) {
		t.Errorf("marking again moved the delivery time from %v to %v", got.Delivered, again.Delivered)
	}
	// Two more: the earlier is marked from the vault, the later from what
	// NewChat remembers; both end delivered, with their seq.
	m2, _ := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "and this?"))
	m3, _ := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "and this one?"))
	for _, id := range []string{m2.ID, m3.ID} {
		if err := alice.p.Chat().MarkDelivered(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range must(alice.p.Chat().Conversation(ctx, bob.id.DID())) {
		if c.State != chat.Delivered || c.Seq != uint64(i+1) {
			t.Errorf("message %d: %s with seq %d, want delivered with seq %d", i+1, c.State, c.Seq, i+1)
		}
	}
	if err := bob.p.Chat().MarkDelivered(ctx, m.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("bob marking alice's message: %v", err)
	}
	if err := alice.p.Chat().MarkDelivered(ctx, "no-such-message"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("marking an unknown message: %v", err)
	}
	if err := alice.p.Chat().MarkDelivered(ctx, "not an id!"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("marking a malformed id: %v", err)
	}
}

// forge returns a compact JWS over payload with the given header, signed
// by signer's key: a message whose header may name a key that is not the
// signer's.
func forge(signer *identity.Identity, header, payload []byte) []byte {
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	return []byte(input + "." + b64.EncodeToString(signer.Sign([]byte(input))))
}

// refused checks that sending signed from c to to fails, that to's
// ServeChat says why (errors.Is want), and that to keeps nothing. It
// returns what ServeChat said.
func refused(t *testing.T, c, to *chatter, want error, signed ...[]byte) error {
	t.Helper()
	sendErr, serveErr := c.send(t, to, signed...)
	if sendErr == nil {
		t.Error("SendChat succeeded")
	}
	if !errors.Is(serveErr, want) {
		t.Errorf("ServeChat = %v, want %v", serveErr, want)
	}
	if n := must(to.p.Counts(ctx)).Messages; n != 0 {
		t.Errorf("the receiver keeps %d messages", n)
	}
	return serveErr
}

func TestChatForgedSenderRefused(t *testing.T) {
	clock := newTestClock()
	alice, bob, mallory := newChatter(t, clock), newChatter(t, clock), newChatter(t, clock)

	// A message alice really signed, sent by mallory's peer.
	_, signed := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "for bob only"))
	refused(t, mallory, bob, core.ErrInvalid, signed)

	// A message claiming to be from alice, signed by mallory.
	parts := strings.Split(string(signed), ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	refused(t, mallory, bob, didcomm.ErrForged, forge(mallory.id, header, payload))

	// Mallory's own message with alice's text changed after signing.
	_, own := must2(mallory.p.Chat().NewMessage(ctx, bob.id.DID(), "hello"))
	parts = strings.Split(string(own), ".")
	payload, _ = base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte("hello"), []byte("HELLO"), 1))
	refused(t, mallory, bob, didcomm.ErrForged, []byte(strings.Join(parts, ".")))

	// A good message first, then a forged one: the good one is kept, the
	// stream is reset at the forgery.
	_, good := must2(mallory.p.Chat().NewMessage(ctx, bob.id.DID(), "honest"))
	sendErr, serveErr := mallory.send(t, bob, good, forge(mallory.id, header, payload))
	if sendErr == nil || !errors.Is(serveErr, didcomm.ErrForged) {
		t.Errorf("SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	if got := must(bob.p.Chat().Conversation(ctx, mallory.id.DID())); len(got) != 1 || got[0].Text != "honest" {
		t.Errorf("bob keeps %+v", got)
	}
	if got := must(bob.p.Chat().Conversation(ctx, alice.id.DID())); len(got) != 0 {
		t.Errorf("bob keeps from alice %+v", got)
	}
}

func TestChatMalformedRefused(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	id := alice.id
	signed := func(to did.DID, body map[string]any) []byte {
		m := must(didcomm.NewMessage(id.DID(), []did.DID{to}, chat.MessageType, body, clock.Now()))
		return must(didcomm.Sign(id, m))
	}
	other := must(didcomm.NewMessage(id.DID(), []did.DID{bob.id.DID()}, "planet:chat/2.0/message", map[string]any{"seq": 1, "text": "from the future"}, clock.Now()))
	notChat := must(didcomm.NewMessage(id.DID(), []did.DID{bob.id.DID()}, "planet:connect/1.0/request", map[string]any{}, clock.Now()))
	two := must(didcomm.NewMessage(id.DID(), []did.DID{bob.id.DID(), must(identity.New(nil)).DID()}, chat.MessageType, map[string]any{"seq": 1, "text": "hi all"}, clock.Now()))
	tests := []struct {
		name   string
		signed []byte
	}{
		{"text too long", signed(bob.id.DID(), map[string]any{"seq": 1, "text": strings.Repeat("é", chat.MaxTextLength/2+1)})},
		{"no text", signed(bob.id.DID(), map[string]any{"seq": 1})},
		{"blank text", signed(bob.id.DID(), map[string]any{"seq": 1, "text": " \n "})},
		{"text with a control character", signed(bob.id.DID(), map[string]any{"seq": 1, "text": "bell\a"})},
		{"no seq", signed(bob.id.DID(), map[string]any{"text": "hi"})},
		{"seq zero", signed(bob.id.DID(), map[string]any{"seq": 0, "text": "hi"})},
		{"seq fractional", signed(bob.id.DID(), map[string]any{"seq": 1.5, "text": "hi"})},
		{"seq beyond 2^53", signed(bob.id.DID(), map[string]any{"seq": uint64(1) << 53, "text": "hi"})},
		{"to someone else", signed(must(identity.New(nil)).DID(), map[string]any{"seq": 1, "text": "hi"})},
		{"to two people", must(didcomm.Sign(id, two))},
		{"another major version", must(didcomm.Sign(id, other))},
		{"not a chat message", must(didcomm.Sign(id, notChat))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, alice, bob, core.ErrInvalid, tt.signed)
		})
	}
	// What SendChat would not send, written as frames directly.
	for _, signed := range [][]byte{[]byte(`{"id":"x"}`), nil, []byte("a.b.c")} {
		s := alice.open(t, bob)
		if err := wire.WriteFrame(s, didcomm.MaxSize+16, chat.Frame{Signed: signed}); err != nil {
			t.Fatal(err)
		}
		var ack chat.Ack
		if err := wire.ReadFrame(s, 256, &ack); err == nil {
			t.Errorf("frame %q acknowledged", signed)
		}
		if err := bob.wait(t); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("ServeChat of frame %q: %v", signed, err)
		}
	}
	if n := must(bob.p.Counts(ctx)).Messages; n != 0 {
		t.Errorf("bob keeps %d messages", n)
	}

	// A later minor version is read, its unknown body members ignored.
	newer := must(didcomm.NewMessage(id.DID(), []did.DID{bob.id.DID()}, "planet:chat/1.4/message", map[string]any{"seq": 1, "text": "hi", "reply_to": "x"}, clock.Now()))
	if got, _, err := bob.p.Chat().Receive(ctx, must(didcomm.Sign(id, newer)), chat.ViaMailbox); err != nil || got.Text != "hi" {
		t.Errorf("a chat/1.4 message: %+v, %v", got, err)
	}
	// From oneself.
	self := must(didcomm.NewMessage(bob.id.DID(), []did.DID{bob.id.DID()}, chat.MessageType, map[string]any{"seq": 1, "text": "me"}, clock.Now()))
	if _, _, err := bob.p.Chat().Receive(ctx, must(didcomm.Sign(bob.id, self)), chat.ViaMailbox); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a message from oneself: %v", err)
	}
}

func TestChatOversizeRefused(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)

	// NewChat refuses long text before anything is kept.
	if _, _, err := alice.p.Chat().NewMessage(ctx, bob.id.DID(), strings.Repeat("x", chat.MaxTextLength+1)); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("NewChat of long text: %v", err)
	}
	if _, _, err := alice.p.Chat().NewMessage(ctx, bob.id.DID(), strings.Repeat("x", chat.MaxTextLength)); err != nil {
		t.Errorf("NewChat of the longest text: %v", err)
	}

	// A frame announcing more than the protocol allows is refused before
	// it is read.
	s := alice.open(t, bob)
	s.Write(binary.AppendUvarint(nil, 1<<20))
	s.Write(make([]byte, 1024))
	if err := bob.wait(t); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Errorf("ServeChat of an oversize frame: %v", err)
	}
	s.Reset()

	// So is a frame that is not a ChatFrame.
	s = alice.open(t, bob)
	must(s.Write([]byte{3, 0x63, 'a', 'b'})) // a CBOR text string, not a map
	if err := bob.wait(t); !errors.Is(err, wire.ErrMalformedFrame) {
		t.Errorf("ServeChat of a malformed frame: %v", err)
	}
	s.Reset()

	// A signed message with a body larger than any chat message needs,
	// though its text is short.
	m := must(didcomm.NewMessage(alice.id.DID(), []did.DID{bob.id.DID()}, chat.MessageType, map[string]any{"seq": 1, "text": "hi", "pad": strings.Repeat("p", 34<<10)}, clock.Now()))
	if err := refused(t, alice, bob, core.ErrInvalid, must(didcomm.Sign(alice.id, m))); err == nil || !strings.Contains(err.Error(), "more than a chat message needs") {
		t.Errorf("ServeChat of a padded message: %v", err)
	}
	if n := must(bob.p.Counts(ctx)).Messages; n != 0 {
		t.Errorf("bob keeps %d messages", n)
	}
}

func TestChatSendCancelled(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	_, signed := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "never mind"))
	c, cancel := context.WithCancel(ctx)
	cancel()
	s := alice.open(t, bob)
	if err := chat.Send(c, s, signed); !errors.Is(err, context.Canceled) {
		t.Errorf("SendChat with a cancelled context: %v", err)
	}
	if err := chat.Send(ctx, s, []byte("not a message")); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("SendChat of what is not a signed message: %v", err)
	}
	s.Reset() // never written to, so never opened at bob's end
	if n := must(bob.p.Counts(ctx)).Messages; n != 0 {
		t.Errorf("bob keeps %d messages", n)
	}

	// Cancelling while the receiver has not answered resets the stream
	// and returns at once.
	stalled := make(chan struct{})
	bob.h.SetStreamHandler(chat.Protocol, func(s network.Stream) {
		<-stalled
		s.Reset()
	})
	defer close(stalled)
	c, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := chat.Send(c, alice.open(t, bob), signed); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SendChat to a receiver that never answers: %v", err)
	}
}

// exportFile exports p with passphrase.
func exportFile(t *testing.T, p *core.Planet, passphrase string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Export(ctx, &buf, passphrase, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decryptExport returns the tar archive inside an export.
func decryptExport(t *testing.T, file []byte, passphrase string) []byte {
	t.Helper()
	id := must(age.NewScryptIdentity(passphrase))
	return must(io.ReadAll(must(age.Decrypt(bytes.NewReader(file), id))))
}

// encryptExport seals a tar archive as an export, cheaply.
func encryptExport(t *testing.T, archive []byte, passphrase string) []byte {
	t.Helper()
	r := must(age.NewScryptRecipient(passphrase))
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	w := must(age.Encrypt(&buf, r))
	must(w.Write(archive))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewriteEntry returns archive with the entry name changed by change.
func rewriteEntry(t *testing.T, archive []byte, name string, change func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b := must(io.ReadAll(tr))
		if h.Name == name {
			b, found = change(b), true
			h.Size = int64(len(b))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		must(tw.Write(b))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("the archive has no %s", name)
	}
	return out.Bytes()
}

func TestChatExportImport(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	alice.say(t, bob, "first")
	bob.say(t, alice, "second")
	_, pending := must2(alice.p.Chat().NewMessage(ctx, bob.id.DID(), "third, not yet delivered"))
	must2(bob.p.Chat().Receive(ctx, pending, chat.ViaMailbox))
	before := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))

	file := exportFile(t, alice.p, "harbour lights at eleven")
	opts := testOpts
	opts.Now = clock.Now
	q := must(core.Open(ctx, mem.New(), opts))
	_, counts, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "a different local passphrase", nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Messages != 3 {
		t.Errorf("import counts %d messages, want 3", counts.Messages)
	}
	after := must(q.Chat().Conversation(ctx, bob.id.DID()))
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("conversation before export:\n %+v\nafter import:\n %+v", before, after)
	}

	// The restored vault carries on: the next message continues alice's
	// sequence, and the undelivered one can still be marked delivered.
	next, _ := must2(q.Chat().NewMessage(ctx, bob.id.DID(), "fourth"))
	if next.Seq != 3 {
		t.Errorf("next message after import has seq %d, want 3", next.Seq)
	}
	if err := q.Chat().MarkDelivered(ctx, after[2].ID); err != nil {
		t.Error(err)
	}
	if c := must(q.Counts(ctx)); c.Messages != 4 {
		t.Errorf("counts %+v", c)
	}
}

func TestChatImportRefusesBadMessages(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	alice.say(t, bob, "hello")
	bob.say(t, alice, "hi")
	file := exportFile(t, alice.p, "harbour lights at eleven")
	archive := decryptExport(t, file, "harbour lights at eleven")

	tests := []struct {
		name   string
		change func([]map[string]any) []map[string]any
		says   string
	}{
		{"state of the other direction", func(ms []map[string]any) []map[string]any { ms[0]["state"] = "received"; return ms }, "not one of this person's"},
		{"unknown state", func(ms []map[string]any) []map[string]any { ms[1]["state"] = "read"; return ms }, "not one of this person's"},
		{"signed altered", func(ms []map[string]any) []map[string]any { ms[0]["signed"] = "x.y.z"; return ms }, "message 1"},
		{"twice", func(ms []map[string]any) []map[string]any { return append(ms, ms[0]) }, "twice"},
		{"one missing", func(ms []map[string]any) []map[string]any { return ms[:1] }, "lists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := rewriteEntry(t, archive, "messages.json", func(b []byte) []byte {
				var ms []map[string]any
				if err := json.Unmarshal(b, &ms); err != nil {
					t.Fatal(err)
				}
				return must(json.Marshal(tt.change(ms)))
			})
			file := encryptExport(t, changed, "harbour lights at eleven")
			s := mem.New()
			q := must(core.Open(ctx, s, testOpts))
			_, _, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "a different local passphrase", nil)
			if !errors.Is(err, core.ErrBadExport) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Import = %v; want ErrBadExport saying %q", err, tt.says)
			}
			if s.Len() != 0 {
				t.Fatalf("failed import left %d keys", s.Len())
			}
		})
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
