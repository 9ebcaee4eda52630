package chat

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/session/sessiontest"
	"planet/core/wire"
	"planet/core/wire/wiretest"
	"planet/vault"
)

// Each message says how it travelled, both ways: an incoming one how it
// arrived, one the person wrote how it was handed over (the first way
// counts: a message left in the mailbox stays so, however it is
// acknowledged later). The ways survive writing behind, an export and an
// import; an import refuses a way it does not know.
func TestEachMessageSaysHowItTravelled(t *testing.T) {
	ctx := context.Background()
	bobID, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	bob := bobID.DID()
	o := sessiontest.Open(t, 1)
	p := newService(t, o, bob)
	me := o.S.Identity.DID()

	write := func(text string) *Message {
		t.Helper()
		m, _, err := p.NewMessage(ctx, bob, text)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fromBob := func(seq uint64, text string) []byte {
		t.Helper()
		m, err := didcomm.NewMessage(bob, []did.DID{me}, MessageType, chatBody{Seq: seq, Text: text}, o.Clock)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := didcomm.Sign(bobID, m)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}

	relayed := write("acknowledged through the relay")
	p.Acknowledged(relayed.ID, ViaRelayed)
	direct := write("queued, then acknowledged directly")
	if err := p.Queue(ctx, direct.ID); err != nil {
		t.Fatal(err)
	}
	p.Acknowledged(direct.ID, ViaDirect)
	mailed := write("left in the mailbox, then acknowledged directly")
	if err := p.MarkSent(ctx, mailed.ID); err != nil {
		t.Fatal(err)
	}
	if rec := stored(t, o, mailed.ID); rec.State != Sent || rec.Via != ViaMailbox {
		t.Fatalf("left in the mailbox, it is stored %s via %q", rec.State, rec.Via)
	}
	p.Acknowledged(mailed.ID, ViaDirect)
	receipted := write("delivered by a receipt")
	receipt, err := didcomm.NewMessage(bob, []did.DID{me}, ReceiptType, receiptBody{IDs: []string{receipted.ID}}, o.Clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := p.Take(ctx, &receipt, nil, ViaRelayed); err != nil || len(got) != 1 {
		t.Fatalf("the receipt marked %v delivered: %v", got, err)
	}
	unknown := write("acknowledged on no way it knows")
	p.Acknowledged(unknown.ID, "carrier pigeon")
	waiting := write("not delivered yet")

	// Bob's, on a stream through the relay, on one straight from him, and
	// from the mailbox.
	for i, via := range []string{ViaRelayed, ViaDirect, ViaMailbox} {
		if got, isNew, err := p.Receive(ctx, fromBob(uint64(i+1), "by "+via), via); err != nil || !isNew || got.Via != via {
			t.Fatalf("received %s: %+v, %v, %v", via, got, isNew, err)
		}
	}
	if _, _, err := p.Receive(ctx, fromBob(9, "by carrier pigeon"), "carrier pigeon"); !errors.Is(err, input.ErrInvalid) {
		t.Fatalf("a way of arrival chat does not know: %v", err)
	}
	// On a stream, through the relay.
	var frames bytes.Buffer
	if err := wire.WriteFrame(&frames, chatMaxFrame, Frame{Signed: fromBob(4, "on a relayed stream")}); err != nil {
		t.Fatal(err)
	}
	var acks bytes.Buffer
	if err := p.Serve(ctx, &wiretest.Stream{R: &frames, W: &acks}, bobID.PeerID(), ViaRelayed); err != nil {
		t.Fatal(err)
	}
	if err := p.Serve(ctx, &wiretest.Stream{R: strings.NewReader(""), W: &acks}, bobID.PeerID(), ViaMailbox); !errors.Is(err, input.ErrInvalid) {
		t.Fatalf("a stream said to travel through the mailbox: %v", err)
	}

	want := map[string]string{
		relayed.Text:          ViaRelayed + " delivered",
		direct.Text:           ViaDirect + " delivered",
		mailed.Text:           ViaMailbox + " delivered",
		receipted.Text:        ViaMailbox + " delivered",
		unknown.Text:          " delivered",
		waiting.Text:          " sent",
		"by relayed":          ViaRelayed + " received",
		"by direct":           ViaDirect + " received",
		"by mailbox":          ViaMailbox + " received",
		"on a relayed stream": ViaRelayed + " received",
	}
	check := func(when string, svc *Service) {
		t.Helper()
		conv, err := svc.Conversation(ctx, bob)
		if err != nil {
			t.Fatal(err)
		}
		if len(conv) != len(want) {
			t.Fatalf("%s: %d messages, want %d", when, len(conv), len(want))
		}
		for _, m := range conv {
			if got := m.Via + " " + string(m.State); got != want[m.Text] {
				t.Errorf("%s: %q is %q, want %q", when, m.Text, got, want[m.Text])
			}
		}
	}
	check("acknowledged", p)

	// Written behind, the acknowledgements keep their ways in the vault.
	p.WriteAcknowledged()
	deadline := time.Now().Add(10 * time.Second)
	for _, m := range []*Message{relayed, direct, mailed, unknown} {
		for stored(t, o, m.ID).State != Delivered {
			if time.Now().After(deadline) {
				t.Fatalf("%q was never written delivered", m.Text)
			}
			time.Sleep(time.Millisecond)
		}
	}
	check("written", New(o, nil))
	check("exported and imported", exportImport(t, p, o))

	// An export naming a way chat does not know is refused, saying so.
	entries, err := p.export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if entries[i].Text == "on a relayed stream" {
			entries[i].Via = "relay"
		}
	}
	q := sessiontest.Open(t, 1)
	err = q.S.Vault.Update(ctx, func(tx *vault.Tx) error { return restore(tx, q.S.Identity, entries) })
	if err == nil || !strings.Contains(err.Error(), `"relay"`) {
		t.Fatalf("an export with an unknown way: %v", err)
	}
}
