//go:build !js

// These tests run the protocol over real go-libp2p hosts, which do not build for js/wasm.

package core_test

import (
	"errors"
	"reflect"
	"testing"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
)

// throughMailbox has from write text to to and to pick it up from the
// mailbox (sealed, opened): from's copy stays sent.
func throughMailbox(t *testing.T, from, to *chatter, text string) *chat.Message {
	t.Helper()
	m, signed := must2(from.p.Chat().NewMessage(ctx, to.id.DID(), text))
	env := must(didcomm.SealSigned(to.id.DID(), signed))
	o, err := to.p.OpenLetter(ctx, env)
	if err != nil || o.Chat == nil || o.Chat.ID != m.ID || o.From != from.id.DID() {
		t.Fatalf("opening %q: %+v, %v", text, o, err)
	}
	return m
}

func states(t *testing.T, c *chatter, with *chatter) []string {
	t.Helper()
	var out []string
	for _, m := range must(c.p.Chat().Conversation(ctx, with.id.DID())) {
		out = append(out, m.Text+": "+string(m.State))
	}
	return out
}

// A receipt on a chat stream marks delivered the messages it names that
// its signer received, and no others.
func TestReceiptOnStream(t *testing.T) {
	clock := newTestClock()
	alice, bob, carol := newChatter(t, clock), newChatter(t, clock), newChatter(t, clock)
	first := throughMailbox(t, alice, bob, "first")
	second := throughMailbox(t, alice, bob, "second")
	toCarol := throughMailbox(t, alice, carol, "for carol")
	fromBob := bob.say(t, alice, "from bob")

	// Bob's receipt names Alice's two messages to him, her message to
	// Carol, his own message to her, one nobody wrote, and one twice.
	_, receipt := must2(bob.p.Chat().NewReceipt(alice.id.DID(), []string{first.ID, toCarol.ID, fromBob.ID, "no-such-message", second.ID, first.ID}))
	if sendErr, serveErr := bob.send(t, alice, receipt); sendErr != nil || serveErr != nil {
		t.Fatalf("the receipt: SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	want := []string{"first: delivered", "second: delivered", "from bob: received"}
	if got := states(t, alice, bob); !reflect.DeepEqual(got, want) {
		t.Errorf("alice's conversation with bob: %q, want %q", got, want)
	}
	if got := states(t, alice, carol); !reflect.DeepEqual(got, []string{"for carol: sent"}) {
		t.Errorf("a receipt from bob changed alice's message to carol: %q", got)
	}
	// The receipt is not a message of the conversation.
	if n := must(alice.p.Counts(ctx)).Messages; n != 4 {
		t.Errorf("alice counts %d messages, want 4", n)
	}
	// Again: nothing changes, and the stream is acknowledged.
	delivered := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0].Delivered
	if sendErr, serveErr := bob.send(t, alice, receipt); sendErr != nil || serveErr != nil {
		t.Fatalf("the receipt again: SendChat %v, ServeChat %v", sendErr, serveErr)
	}
	if again := must(alice.p.Chat().Conversation(ctx, bob.id.DID()))[0].Delivered; !again.Equal(delivered) {
		t.Errorf("a second receipt moved the delivery time from %v to %v", delivered, again)
	}

	// A receipt for Alice's message to Carol, signed by Bob but sent by
	// Carol's peer, is refused like any message from the wrong peer.
	_, forged := must2(bob.p.Chat().NewReceipt(alice.id.DID(), []string{toCarol.ID}))
	if _, serveErr := carol.send(t, alice, forged); !errors.Is(serveErr, core.ErrInvalid) {
		t.Errorf("a receipt relayed by another peer: %v", serveErr)
	}
	if got := states(t, alice, carol); !reflect.DeepEqual(got, []string{"for carol: sent"}) {
		t.Errorf("alice's message to carol: %q", got)
	}
}

// A receipt sealed into the writer's mailbox marks the messages delivered
// when it is opened.
func TestReceiptThroughMailbox(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	m := throughMailbox(t, alice, bob, "while you were out")
	_, receipt := must2(bob.p.Chat().NewReceipt(alice.id.DID(), []string{m.ID}))
	o, err := alice.p.OpenLetter(ctx, must(didcomm.SealSigned(alice.id.DID(), receipt)))
	if err != nil || o.Chat != nil || !reflect.DeepEqual(o.Delivered, []string{m.ID}) || o.From != bob.id.DID() {
		t.Fatalf("opening the receipt: %+v, %v", o, err)
	}
	if got := states(t, alice, bob); !reflect.DeepEqual(got, []string{"while you were out: delivered"}) {
		t.Errorf("alice's conversation: %q", got)
	}
	// Opened again (the mailbox handed it out twice): nothing more.
	o, err = alice.p.OpenLetter(ctx, must(didcomm.SealSigned(alice.id.DID(), receipt)))
	if err != nil || len(o.Delivered) != 0 {
		t.Errorf("opening the receipt again: %+v, %v", o, err)
	}
}

func TestReceiptRefusals(t *testing.T) {
	clock := newTestClock()
	alice, bob := newChatter(t, clock), newChatter(t, clock)
	m := throughMailbox(t, alice, bob, "hello")

	// What NewChatReceipt will not make.
	long := make([]string, chat.MaxReceiptIDs+1)
	for i := range long {
		long[i] = m.ID
	}
	for name, ids := range map[string][]string{"no ids": nil, "too many ids": long, "a malformed id": {"not an id!"}} {
		if _, _, err := bob.p.Chat().NewReceipt(alice.id.DID(), ids); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("NewChatReceipt with %s: %v", name, err)
		}
	}
	if _, _, err := bob.p.Chat().NewReceipt(bob.id.DID(), []string{m.ID}); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a receipt to oneself: %v", err)
	}

	// Receipts made by hand that a reader refuses, resetting the stream.
	receipt := func(to []did.DID, body map[string]any) []byte {
		msg := must(didcomm.NewMessage(bob.id.DID(), to, chat.ReceiptType, body, clock.Now()))
		return must(didcomm.Sign(bob.id, msg))
	}
	to := []did.DID{alice.id.DID()}
	for name, signed := range map[string][]byte{
		"no ids":           receipt(to, map[string]any{}),
		"empty ids":        receipt(to, map[string]any{"ids": []string{}}),
		"ids not a list":   receipt(to, map[string]any{"ids": m.ID}),
		"an id not a text": receipt(to, map[string]any{"ids": []any{m.ID, 7}}),
		"a malformed id":   receipt(to, map[string]any{"ids": []string{"not an id!"}}),
		"too many ids":     receipt(to, map[string]any{"ids": long}),
		"to someone else":  receipt([]did.DID{must(identity.New(nil)).DID()}, map[string]any{"ids": []string{m.ID}}),
		"to two people":    receipt(append(to, must(identity.New(nil)).DID()), map[string]any{"ids": []string{m.ID}}),
		"another major":    must(didcomm.Sign(bob.id, must(didcomm.NewMessage(bob.id.DID(), to, "planet:chat/2.0/receipt", map[string]any{"ids": []string{m.ID}}, clock.Now())))),
	} {
		t.Run(name, func(t *testing.T) {
			if sendErr, serveErr := bob.send(t, alice, signed); sendErr == nil || serveErr == nil {
				t.Errorf("SendChat %v, ServeChat %v", sendErr, serveErr)
			}
			if got := states(t, alice, bob); !reflect.DeepEqual(got, []string{"hello: sent"}) {
				t.Errorf("alice's conversation: %q", got)
			}
		})
	}
}
