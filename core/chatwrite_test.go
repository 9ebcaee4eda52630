package core

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
	"planet/vault/mem"
)

// newChatWriter is a person with a vault over store, and a DID to write to.
func newChatWriter(t *testing.T, store vault.Store) (*Planet, did.DID) {
	t.Helper()
	ctx := context.Background()
	p, err := Open(ctx, store, Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Create(ctx, "violet tugboat umbrella quince"); err != nil {
		t.Fatal(err)
	}
	other, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, other.DID()
}

// stored reads the person's message id as the vault holds it, past what
// chat remembers.
func stored(t *testing.T, p *Planet, id string) *messageRecord {
	t.Helper()
	v, me, err := p.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := session.Get[messageRecord](context.Background(), v, colMessages, messageRecordID(id, me.DID()))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// An acknowledged message reads as delivered at once, and is written so in
// the vault in the background.
func TestAcknowledgedIsWrittenBehind(t *testing.T) {
	ctx := context.Background()
	p, bob := newChatWriter(t, mem.New())
	var ids []string
	for _, text := range []string{"one", "two", "three"} {
		m, _, err := p.NewChat(ctx, bob, text)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	p.Acknowledged(ids[0])
	p.Acknowledged(ids[2])
	p.Acknowledged(ids[2])
	p.Acknowledged("not an id!")
	conv, err := p.Conversation(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []ChatState{ChatDelivered, ChatSent, ChatDelivered} {
		if conv[i].State != want || (want == ChatDelivered) == conv[i].Delivered.IsZero() {
			t.Errorf("message %d reads as %s (delivered %v), want %s", i+1, conv[i].State, conv[i].Delivered, want)
		}
	}
	// MarkDelivered of an acknowledged message changes nothing more.
	if err := p.MarkDelivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, p, ids[0]).State != ChatDelivered || stored(t, p, ids[2]).State != ChatDelivered {
		if time.Now().After(deadline) {
			t.Fatal("the acknowledgements were never written")
		}
		time.Sleep(time.Millisecond)
	}
	if got := stored(t, p, ids[1]).State; got != ChatSent {
		t.Errorf("the message not acknowledged is stored %s", got)
	}
	p.chatMu.Lock()
	left, writing := len(p.chat.acked), p.chat.writing
	p.chatMu.Unlock()
	for left > 0 || writing {
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledgements left, writer running %v", left, writing)
		}
		time.Sleep(time.Millisecond)
		p.chatMu.Lock()
		left, writing = len(p.chat.acked), p.chat.writing
		p.chatMu.Unlock()
	}
	if again, _ := p.Conversation(ctx, bob); !again[0].Delivered.Equal(conv[0].Delivered) {
		t.Errorf("written, the delivery time moved from %v to %v", conv[0].Delivered, again[0].Delivered)
	}
}

// WriteAcknowledged writes what was acknowledged without waiting for the
// conversation to pause, and takes it out of the outbox.
func TestWriteAcknowledgedAtOnce(t *testing.T) {
	quiet, most := ackWriteQuiet, ackWriteMax
	ackWriteQuiet, ackWriteMax = time.Hour, time.Hour
	t.Cleanup(func() { ackWriteQuiet, ackWriteMax = quiet, most })
	ctx := context.Background()
	p, bob := newChatWriter(t, mem.New())
	m, _, err := p.NewChat(ctx, bob, "written at once")
	if err != nil {
		t.Fatal(err)
	}
	p.WriteAcknowledged() // nothing to write: nothing happens
	p.Acknowledged(m.ID)
	time.Sleep(50 * time.Millisecond)
	if got := stored(t, p, m.ID).State; got != ChatSent {
		t.Fatalf("before WriteAcknowledged, stored %s", got)
	}
	p.WriteAcknowledged()
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, p, m.ID).State != ChatDelivered {
		if time.Now().After(deadline) {
			t.Fatal("WriteAcknowledged wrote nothing")
		}
		time.Sleep(time.Millisecond)
	}
	if out, err := p.Outbox(ctx); err != nil || len(out) != 0 {
		t.Fatalf("the outbox holds %+v, %v", out, err)
	}
}

// Messages written one after the other may be kept in any order; the
// conversation's record keeps the last seq taken, so that a vault opened
// afresh numbers on from it.
func TestKeepInAnyOrder(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	p, bob := newChatWriter(t, store)
	first, err := p.WriteChat(ctx, bob, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.WriteChat(ctx, bob, "second")
	if err != nil {
		t.Fatal(err)
	}
	if first.Message.Seq != 1 || second.Message.Seq != 2 {
		t.Fatalf("seqs %d, %d", first.Message.Seq, second.Message.Seq)
	}
	if err := second.Keep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Keep(ctx); err != nil {
		t.Fatal(err)
	}
	p.Lock()
	if _, err := p.Unlock(ctx, "violet tugboat umbrella quince"); err != nil {
		t.Fatal(err)
	}
	third, _, err := p.NewChat(ctx, bob, "third")
	if err != nil {
		t.Fatal(err)
	}
	if third.Seq != 3 {
		t.Errorf("after a reopen the next seq is %d, want 3", third.Seq)
	}
}

// A message that could not be handed over waits in the outbox, queued,
// until it goes to a mailbox or is acknowledged; the outbox is kept in
// order, and an export carries it.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	p, bob := newChatWriter(t, mem.New())
	carolID, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	carol := carolID.DID()
	write := func(to did.DID, text string) *ChatMessage {
		t.Helper()
		m, _, err := p.NewChat(ctx, to, text)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Queue(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		return m
	}
	b1, c1, b2 := write(bob, "bob one"), write(carol, "carol one"), write(bob, "bob two")
	// outbox lists the outbox as "text state".
	outbox := func() []string {
		t.Helper()
		ms, err := p.Outbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			if len(m.Signed) == 0 {
				t.Errorf("%q is listed without its signed form", m.Text)
			}
			out = append(out, m.Text+" "+string(m.State))
		}
		return out
	}
	byReader := func(forBob []string, forCarol ...string) []string {
		if bob.String() > carol.String() {
			return append(forCarol, forBob...)
		}
		return append(forBob, forCarol...)
	}
	if got, want := outbox(), byReader([]string{"bob one queued", "bob two queued"}, "carol one queued"); !slices.Equal(got, want) {
		t.Fatalf("outbox %q, want %q", got, want)
	}
	if conv, _ := p.Conversation(ctx, bob); conv[0].State != ChatQueued || conv[1].State != ChatQueued {
		t.Fatalf("bob's conversation: %+v", conv)
	}

	// Exported and imported, the outbox comes back whole.
	var file bytes.Buffer
	if err := p.Export(ctx, &file, "lantern orchard velvet thimble", nil); err != nil {
		t.Fatal(err)
	}
	q, err := Open(ctx, mem.New(), Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Import(ctx, bytes.NewReader(file.Bytes()), int64(file.Len()), "lantern orchard velvet thimble", "violet tugboat umbrella quince", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := q.Outbox(ctx); err != nil || len(got) != 3 {
		t.Fatalf("the imported outbox: %d messages, %v", len(got), err)
	}

	// Left in Bob's mailbox, his first is sent, and stays in the outbox
	// until his receipt comes; acknowledged, his second is delivered;
	// Carol's stays queued.
	if err := p.MarkSent(ctx, b1.ID); err != nil {
		t.Fatal(err)
	}
	p.Acknowledged(b2.ID)
	if got, want := outbox(), byReader([]string{"bob one sent"}, "carol one queued"); !slices.Equal(got, want) {
		t.Fatalf("after sending Bob's: outbox %q, want %q", got, want)
	}
	conv, _ := p.Conversation(ctx, bob)
	if conv[0].State != ChatSent || conv[1].State != ChatDelivered {
		t.Fatalf("bob's conversation: %s, %s", conv[0].State, conv[1].State)
	}
	// Once written, the acknowledgement takes it out of the outbox too.
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, p, b2.ID).State != ChatDelivered {
		if time.Now().After(deadline) {
			t.Fatal("the acknowledgement was never written")
		}
		time.Sleep(time.Millisecond)
	}
	if got, want := outbox(), byReader([]string{"bob one sent"}, "carol one queued"); !slices.Equal(got, want) {
		t.Fatalf("after the acknowledgement is written: outbox %q, want %q", got, want)
	}
	// Marking a message that is not queued changes nothing; so does
	// queueing a delivered one.
	if err := p.MarkSent(ctx, b2.ID); err != nil || stored(t, p, b2.ID).State != ChatDelivered {
		t.Errorf("MarkSent of a delivered message: %v, %s", err, stored(t, p, b2.ID).State)
	}
	if err := p.Queue(ctx, b2.ID); err != nil || stored(t, p, b2.ID).State != ChatDelivered {
		t.Errorf("Queue of a delivered message: %v, %s", err, stored(t, p, b2.ID).State)
	}
	if err := p.Queue(ctx, "no-such-message"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Queue of no message: %v", err)
	}
	for _, m := range []*ChatMessage{c1, b1} {
		if err := p.MarkDelivered(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := outbox(); len(got) != 0 {
		t.Errorf("after all are delivered: outbox %q", got)
	}
}
