//go:build !js

package core

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/wire"
	"planet/core/wire/wiretest"
	"planet/vault"
	"planet/vault/mem"
)

// FuzzServeChat feeds a reader's chat stream whatever its peer may send,
// frames and all, chat messages and receipts among them: it must answer
// only with acknowledgements, never crash, and never lose or change a
// message it kept, but by a receipt of the peer's that marks one of the
// reader's own messages to that peer delivered.
func FuzzServeChat(f *testing.F) {
	ctx := context.Background()
	peerID, _ := identity.FromSeed(bytes.Repeat([]byte{7}, 32))
	p, err := Open(ctx, mem.New(), Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := p.Create(ctx, "violet tugboat umbrella quince"); err != nil {
		f.Fatal(err)
	}
	me, _ := p.Identity()
	peer := peerID.DID()

	// What the reader keeps before: a message from the peer, and one to it.
	hello := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, ChatMessageType, chatBody{Seq: 1, Text: "hello"}, time.Now()))
	if _, _, err := p.ReceiveChat(ctx, must(didcomm.Sign(peerID, hello)), ViaMailbox); err != nil {
		f.Fatal(err)
	}
	mine, _, err := p.NewChat(ctx, peer, "hello to you")
	if err != nil {
		f.Fatal(err)
	}
	before := len(must(p.Conversation(ctx, peer)))

	frames := func(signed ...[]byte) []byte {
		var b bytes.Buffer
		for _, s := range signed {
			wire.WriteFrame(&b, chatMaxFrame, ChatFrame{Signed: s})
		}
		return b.Bytes()
	}
	next := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, ChatMessageType, chatBody{Seq: 2, Text: "and more"}, time.Now()))
	receipt := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, ChatReceiptType, receiptBody{IDs: []string{mine.ID, "other-id"}}, time.Now()))
	f.Add(frames(must(didcomm.Sign(peerID, next)), must(didcomm.Sign(peerID, receipt))))
	f.Add(frames(must(didcomm.Sign(peerID, receipt)), []byte("a.b.c")))
	self := must(didcomm.NewMessage(me.DID(), []did.DID{me.DID()}, ChatMessageType, chatBody{Seq: 1, Text: "me"}, time.Now()))
	f.Add(frames(must(didcomm.Sign(me, self))))
	f.Add([]byte{0x05, 0xa1, 0x01, 0x41, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		p.ServeChat(ctx, &wiretest.Stream{R: bytes.NewReader(in), W: &out}, peerID.PeerID())
		for out.Len() > 0 {
			var ack ChatAck
			if err := wire.ReadFrame(&out, chatMaxAck, &ack); err != nil || didcomm.CheckID(ack.ID) != nil {
				t.Fatalf("the reader wrote what is not an acknowledgement: %v", err)
			}
		}
		conv, err := p.Conversation(ctx, peer)
		if err != nil {
			t.Fatal(err)
		}
		if len(conv) < before {
			t.Fatalf("%d messages kept, %d before", len(conv), before)
		}
		for _, c := range conv {
			switch {
			case c.ID == hello.ID:
				if c.Text != "hello" || c.State != ChatReceived {
					t.Fatalf("the kept message changed: %+v", c)
				}
			case c.ID == mine.ID:
				if c.Text != "hello to you" || (c.State != ChatSent && c.State != ChatDelivered) {
					t.Fatalf("the reader's own message changed: %+v", c)
				}
			case c.From != peer || c.State != ChatReceived:
				t.Fatalf("kept %+v, not from the peer", c)
			default:
				if _, err := didcomm.Verify(c.Signed, time.Now()); err != nil && !errors.Is(err, didcomm.ErrExpired) {
					t.Fatalf("kept a message that does not verify: %v", err)
				}
			}
		}
	})
}
