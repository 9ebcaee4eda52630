//go:build !js

package core_test

import (
	"fmt"
	"testing"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/vault/mem"
)

// strangerMessages are n chat messages from a stranger to the person me,
// signed, numbered from first.
func strangerMessages(t *testing.T, stranger *identity.Identity, me did.DID, first, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		m := must(didcomm.NewMessage(stranger.DID(), []did.DID{me}, chat.MessageType,
			map[string]any{"seq": first + i, "text": fmt.Sprintf("buy now! %d", first+i)}, newTestClock().Now()))
		out[i] = must(didcomm.Sign(stranger, m))
	}
	return out
}

// A stranger's chat (from a DID that is not a contact) is not stored
// without limit among the person's messages: it waits apart, capped per
// sender and in all, and is in no conversation until the person accepts it.
func TestStrangersChatIsCapped(t *testing.T) {
	p := must(core.Open(ctx, mem.New(), testOpts))
	me := must(p.Create(ctx, pass))
	for s := range 15 {
		stranger := must(identity.New(nil))
		for _, signed := range strangerMessages(t, stranger, me.DID(), 1, 30) {
			if _, _, err := p.Chat().Receive(ctx, signed, chat.ViaMailbox); err != nil {
				t.Fatalf("stranger %d: %v", s, err)
			}
		}
		if conv := must(p.Chat().Conversation(ctx, stranger.DID())); len(conv) != 0 {
			t.Fatalf("a stranger's messages are in a conversation: %d of them", len(conv))
		}
	}
	if n := must(p.Chat().Count(ctx)); n != 0 {
		t.Errorf("the person's messages hold %d from strangers, want none", n)
	}
}

// Strangers' messages wait as requests: one per stranger, at most
// MaxRequestsPerSender messages each and MaxRequests in all; the person
// accepts one (the stranger becomes a contact, the messages a
// conversation), declines one (deleted) or blocks its sender (deleted,
// and what they send after is dropped).
func TestChatRequests(t *testing.T) {
	clock := newTestClock()
	bob := newChatter(t, clock)
	carol, dave, eve := newStranger(t, clock), newStranger(t, clock), newStranger(t, clock)
	me := bob.id.DID()

	// Carol writes over a stream, 25 messages: 20 wait.
	if sendErr, serveErr := carol.send(t, bob, strangerMessages(t, carol.id, me, 1, 25)...); sendErr != nil || serveErr != nil {
		t.Fatalf("Carol's messages over a stream: %v, %v", sendErr, serveErr)
	}
	// Dave's come through the mailbox: no receipt goes back for them.
	for _, signed := range strangerMessages(t, dave.id, me, 1, 3) {
		o, err := bob.p.OpenLetter(ctx, must(didcomm.SealSigned(me, signed)))
		if err != nil || o.Chat != nil {
			t.Fatalf("a stranger's letter opened as %+v, %v: want no message to acknowledge", o.Chat, err)
		}
	}
	if sendErr, serveErr := eve.send(t, bob, strangerMessages(t, eve.id, me, 1, 1)...); sendErr != nil || serveErr != nil {
		t.Fatal(sendErr, serveErr)
	}
	reqs := must(bob.p.Chat().Requests(ctx))
	got := map[did.DID]int{}
	for _, r := range reqs {
		got[r.From] = len(r.Messages)
	}
	if len(reqs) != 3 || got[carol.id.DID()] != chat.MaxRequestsPerSender || got[dave.id.DID()] != 3 || got[eve.id.DID()] != 1 {
		t.Fatalf("requests: %v", got)
	}
	if reqs[0].From != eve.id.DID() {
		t.Errorf("the latest request is not first: %v", reqs[0].From)
	}
	if m := reqs[1].Messages; m[0].Text != "buy now! 1" || m[len(m)-1].Text != "buy now! 3" {
		t.Errorf("Dave's request in order: %q … %q", m[0].Text, m[len(m)-1].Text)
	}
	if n := must(bob.p.Chat().Count(ctx)); n != 0 {
		t.Errorf("requests are counted among the person's messages: %d", n)
	}

	// Bob accepts Dave: a contact, and a conversation.
	if err := bob.p.Chat().AcceptRequest(ctx, dave.id.DID(), "Dave"); err != nil {
		t.Fatal(err)
	}
	if c := must(bob.p.Contacts().ByDID(ctx, dave.id.DID())); c == nil || c.Name != "Dave" {
		t.Fatalf("Dave after his request was accepted: %+v", c)
	}
	if conv := must(bob.p.Chat().Conversation(ctx, dave.id.DID())); len(conv) != 3 || conv[0].Text != "buy now! 1" {
		t.Fatalf("the conversation with Dave: %d messages", len(conv))
	}
	// What Dave writes now goes into the conversation.
	if _, _, err := bob.p.Chat().Receive(ctx, strangerMessages(t, dave.id, me, 4, 1)[0], chat.ViaMailbox); err != nil {
		t.Fatal(err)
	}
	if conv := must(bob.p.Chat().Conversation(ctx, dave.id.DID())); len(conv) != 4 {
		t.Fatalf("Dave's next message is not in the conversation: %d", len(conv))
	}

	// Bob declines Eve: gone; she may write again.
	if err := bob.p.Chat().DeclineRequest(ctx, eve.id.DID()); err != nil {
		t.Fatal(err)
	}
	// Bob blocks Carol: gone, and what she sends next is dropped, though
	// her stream is answered as ever (she learns nothing).
	if err := bob.p.Chat().Block(ctx, carol.id.DID()); err != nil {
		t.Fatal(err)
	}
	if sendErr, serveErr := carol.send(t, bob, strangerMessages(t, carol.id, me, 100, 2)...); sendErr != nil || serveErr != nil {
		t.Fatalf("a blocked sender's stream: %v, %v", sendErr, serveErr)
	}
	if reqs := must(bob.p.Chat().Requests(ctx)); len(reqs) != 0 {
		t.Fatalf("requests after accepting, declining and blocking: %+v", reqs)
	}
	if err := bob.p.Chat().DeclineRequest(ctx, eve.id.DID()); err == nil {
		t.Error("declining a request that is not there")
	}
	if err := bob.p.Chat().Block(ctx, me); err == nil {
		t.Error("Bob blocked himself")
	}

	// In all, strangers get MaxRequests messages.
	for range chat.MaxRequests/chat.MaxRequestsPerSender + 2 {
		s := must(identity.New(nil))
		for _, signed := range strangerMessages(t, s, me, 1, chat.MaxRequestsPerSender) {
			must2(bob.p.Chat().Receive(ctx, signed, chat.ViaMailbox))
		}
	}
	total := 0
	for _, r := range must(bob.p.Chat().Requests(ctx)) {
		total += len(r.Messages)
	}
	if total != chat.MaxRequests {
		t.Errorf("strangers left %d messages, want at most %d", total, chat.MaxRequests)
	}
}
