package chat

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/session"
	"planet/core/session/sessiontest"
	"planet/vault"
)

// newChatWriter is a person with chat over a vault in memory, and a DID to
// write to.
func newChatWriter(t *testing.T) (*Service, *sessiontest.Opener, did.DID) {
	t.Helper()
	o := sessiontest.Open(t, 1)
	other, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return newService(t, o, other.DID()), o, other.DID()
}

// newService is chat for o, whose address book holds known (so that their
// messages go into conversations, not requests).
func newService(t testing.TB, o *sessiontest.Opener, known ...did.DID) *Service {
	t.Helper()
	cs := contacts.New(o)
	for _, d := range known {
		if _, err := cs.Add(context.Background(), contacts.Input{Name: "Someone", DID: d.String()}); err != nil {
			t.Fatal(err)
		}
	}
	return New(o, cs)
}

// stored reads the person's message id as the vault holds it, past what
// chat remembers.
func stored(t *testing.T, o *sessiontest.Opener, id string) *messageRecord {
	t.Helper()
	rec, err := session.Get[messageRecord](context.Background(), o.S.Vault, colMessages, messageRecordID(id, o.S.Identity.DID()))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// exportImport writes svc's section as an export would, and reads it back
// into a new vault of the same person, as an import would.
func exportImport(t *testing.T, svc *Service, o *sessiontest.Opener) *Service {
	t.Helper()
	ctx := context.Background()
	var w session.Writer
	if err := svc.Section().Export(ctx, o.S, &w); err != nil {
		t.Fatal(err)
	}
	entries, _, err := w.Entries()
	if err != nil {
		t.Fatal(err)
	}
	q := sessiontest.Open(t, 1)
	im := New(q, nil).Section().Import()
	for _, e := range entries {
		if im.Claims(e.Name) {
			if err := im.Entry(ctx, session.Entry{Name: e.Name, Size: int64(len(e.Body)), Body: bytes.NewReader(e.Body), Vault: q.S.Vault}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var counts session.Counts
	if err := q.S.Vault.Update(ctx, func(tx *vault.Tx) error { return im.Restore(tx, q.S.Identity, &counts) }); err != nil {
		t.Fatal(err)
	}
	if counts.Messages != w.Counts.Messages {
		t.Fatalf("%d messages exported, %d restored", w.Counts.Messages, counts.Messages)
	}
	return New(q, nil)
}

// An acknowledged message reads as delivered at once, and is written so in
// the vault in the background.
func TestAcknowledgedIsWrittenBehind(t *testing.T) {
	ctx := context.Background()
	p, o, bob := newChatWriter(t)
	var ids []string
	for _, text := range []string{"one", "two", "three"} {
		m, _, err := p.NewMessage(ctx, bob, text)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	p.Acknowledged(ids[0], ViaRelayed)
	p.Acknowledged(ids[2], ViaDirect)
	p.Acknowledged(ids[2], ViaRelayed) // the first acknowledgement counts
	p.Acknowledged("not an id!", ViaDirect)
	conv, err := p.Conversation(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		state State
		via   string
	}{{Delivered, ViaRelayed}, {Sent, ""}, {Delivered, ViaDirect}} {
		if conv[i].State != want.state || (want.state == Delivered) == conv[i].Delivered.IsZero() || conv[i].Via != want.via {
			t.Errorf("message %d reads as %s (delivered %v) via %q, want %s via %q", i+1, conv[i].State, conv[i].Delivered, conv[i].Via, want.state, want.via)
		}
	}
	// MarkDelivered of an acknowledged message changes nothing more.
	if err := p.MarkDelivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, o, ids[0]).State != Delivered || stored(t, o, ids[2]).State != Delivered {
		if time.Now().After(deadline) {
			t.Fatal("the acknowledgements were never written")
		}
		time.Sleep(time.Millisecond)
	}
	if got := stored(t, o, ids[1]).State; got != Sent {
		t.Errorf("the message not acknowledged is stored %s", got)
	}
	if a, c := stored(t, o, ids[0]).Via, stored(t, o, ids[2]).Via; a != ViaRelayed || c != ViaDirect {
		t.Errorf("the acknowledged messages are stored via %q and %q, want %q and %q", a, c, ViaRelayed, ViaDirect)
	}
	p.mu.Lock()
	left, writing := len(p.mem.acked), p.mem.writing
	p.mu.Unlock()
	for left > 0 || writing {
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledgements left, writer running %v", left, writing)
		}
		time.Sleep(time.Millisecond)
		p.mu.Lock()
		left, writing = len(p.mem.acked), p.mem.writing
		p.mu.Unlock()
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
	p, o, bob := newChatWriter(t)
	m, _, err := p.NewMessage(ctx, bob, "written at once")
	if err != nil {
		t.Fatal(err)
	}
	p.WriteAcknowledged() // nothing to write: nothing happens
	p.Acknowledged(m.ID, ViaDirect)
	time.Sleep(50 * time.Millisecond)
	if got := stored(t, o, m.ID).State; got != Sent {
		t.Fatalf("before WriteAcknowledged, stored %s", got)
	}
	p.WriteAcknowledged()
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, o, m.ID).State != Delivered {
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
// conversation's record keeps the last seq taken, so that chat that
// remembers nothing yet (a vault opened afresh) numbers on from it.
func TestKeepInAnyOrder(t *testing.T) {
	ctx := context.Background()
	p, o, bob := newChatWriter(t)
	first, err := p.Write(ctx, bob, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Write(ctx, bob, "second")
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
	third, _, err := New(o, nil).NewMessage(ctx, bob, "third")
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
	p, o, bob := newChatWriter(t)
	carolID, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	carol := carolID.DID()
	write := func(to did.DID, text string) *Message {
		t.Helper()
		m, _, err := p.NewMessage(ctx, to, text)
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
	if conv, _ := p.Conversation(ctx, bob); conv[0].State != Queued || conv[1].State != Queued {
		t.Fatalf("bob's conversation: %+v", conv)
	}

	// Exported and imported, the outbox comes back whole.
	q := exportImport(t, p, o)
	if got, err := q.Outbox(ctx); err != nil || len(got) != 3 {
		t.Fatalf("the imported outbox: %d messages, %v", len(got), err)
	}

	// Left in Bob's mailbox, his first is sent, and stays in the outbox
	// until his receipt comes; acknowledged, his second is delivered;
	// Carol's stays queued.
	if err := p.MarkSent(ctx, b1.ID); err != nil {
		t.Fatal(err)
	}
	p.Acknowledged(b2.ID, ViaRelayed)
	if got, want := outbox(), byReader([]string{"bob one sent"}, "carol one queued"); !slices.Equal(got, want) {
		t.Fatalf("after sending Bob's: outbox %q, want %q", got, want)
	}
	conv, _ := p.Conversation(ctx, bob)
	if conv[0].State != Sent || conv[1].State != Delivered {
		t.Fatalf("bob's conversation: %s, %s", conv[0].State, conv[1].State)
	}
	// Once written, the acknowledgement takes it out of the outbox too.
	deadline := time.Now().Add(10 * time.Second)
	for stored(t, o, b2.ID).State != Delivered {
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
	if err := p.MarkSent(ctx, b2.ID); err != nil || stored(t, o, b2.ID).State != Delivered {
		t.Errorf("MarkSent of a delivered message: %v, %s", err, stored(t, o, b2.ID).State)
	}
	if err := p.Queue(ctx, b2.ID); err != nil || stored(t, o, b2.ID).State != Delivered {
		t.Errorf("Queue of a delivered message: %v, %s", err, stored(t, o, b2.ID).State)
	}
	if err := p.Queue(ctx, "no-such-message"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Queue of no message: %v", err)
	}
	for _, m := range []*Message{c1, b1} {
		if err := p.MarkDelivered(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := outbox(); len(got) != 0 {
		t.Errorf("after all are delivered: outbox %q", got)
	}
}
