//go:build !js

package chat

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/session/sessiontest"
	"planet/core/wire"
	"planet/core/wire/wiretest"
	"planet/vault"
)

// FuzzServeChat feeds a reader's chat stream whatever its peer may send,
// frames and all, chat messages and receipts among them: it must answer
// only with acknowledgements, never crash, and never lose or change a
// message it kept, but by a receipt of the peer's that marks one of the
// reader's own messages to that peer delivered.
func FuzzServeChat(f *testing.F) {
	ctx := context.Background()
	peerID, _ := identity.FromSeed(bytes.Repeat([]byte{7}, 32))
	o := sessiontest.Open(f, 1)
	p := newService(f, o, peerID.DID())
	me := o.S.Identity
	peer := peerID.DID()

	// What the reader keeps before: a message from the peer, and one to it.
	hello := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, MessageType, chatBody{Seq: 1, Text: "hello"}, o.Clock))
	if _, _, err := p.Receive(ctx, must(didcomm.Sign(peerID, hello)), ViaMailbox); err != nil {
		f.Fatal(err)
	}
	mine, _, err := p.NewMessage(ctx, peer, "hello to you")
	if err != nil {
		f.Fatal(err)
	}
	before := len(must(p.Conversation(ctx, peer)))

	frames := func(signed ...[]byte) []byte {
		var b bytes.Buffer
		for _, s := range signed {
			wire.WriteFrame(&b, chatMaxFrame, Frame{Signed: s})
		}
		return b.Bytes()
	}
	next := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, MessageType, chatBody{Seq: 2, Text: "and more"}, o.Clock))
	receipt := must(didcomm.NewMessage(peer, []did.DID{me.DID()}, ReceiptType, receiptBody{IDs: []string{mine.ID, "other-id"}}, o.Clock))
	f.Add(frames(must(didcomm.Sign(peerID, next)), must(didcomm.Sign(peerID, receipt))))
	f.Add(frames(must(didcomm.Sign(peerID, receipt)), []byte("a.b.c")))
	self := must(didcomm.NewMessage(me.DID(), []did.DID{me.DID()}, MessageType, chatBody{Seq: 1, Text: "me"}, o.Clock))
	f.Add(frames(must(didcomm.Sign(me, self))))
	f.Add([]byte{0x05, 0xa1, 0x01, 0x41, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		p.Serve(ctx, &wiretest.Stream{R: bytes.NewReader(in), W: &out}, peerID.PeerID(), ViaRelayed)
		for out.Len() > 0 {
			var ack Ack
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
				if c.Text != "hello" || c.State != Received {
					t.Fatalf("the kept message changed: %+v", c)
				}
			case c.ID == mine.ID:
				if c.Text != "hello to you" || (c.State != Sent && c.State != Delivered) {
					t.Fatalf("the reader's own message changed: %+v", c)
				}
			case c.From != peer || c.State != Received:
				t.Fatalf("kept %+v, not from the peer", c)
			default:
				if _, err := didcomm.Verify(c.Signed, o.Clock); err != nil && !errors.Is(err, didcomm.ErrExpired) {
					t.Fatalf("kept a message that does not verify: %v", err)
				}
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// FuzzDecodeRecords covers the decoders of chat's records. The first byte
// picks the type.
func FuzzDecodeRecords(f *testing.F) {
	seeds := []any{
		messageRecord{ID: "m", From: "did:key:a", To: "did:key:b", Text: "hi", Seq: 1, Created: 1, State: Delivered, Stored: 2, Delivered: 3, Via: ViaDirect, Signed: []byte("a.b.c")},
		conversationRecord{Peer: "did:key:b", LastSeq: 7},
		outboxRecord{ID: "m"},
		requestSender{From: "did:key:a", Count: 3, Last: 9},
		blockedRecord{DID: "did:key:a", Blocked: 9},
		// Five types: the sixth seed is a message record again.
		messageRecord{ID: "m", From: "did:key:a", To: "did:key:b", Text: "hi", Seq: 1, Created: 1, State: Received, Stored: 2, Via: ViaRelayed, Signed: []byte("a.b.c")},
	}
	for i, s := range seeds {
		enc, err := vault.MarshalCBOR(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(i)}, enc...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		switch rest := b[1:]; b[0] % 5 {
		case 0:
			sessiontest.RoundTrip[messageRecord](t, rest)
		case 1:
			sessiontest.RoundTrip[conversationRecord](t, rest)
		case 2:
			sessiontest.RoundTrip[outboxRecord](t, rest)
		case 3:
			sessiontest.RoundTrip[requestSender](t, rest)
		case 4:
			sessiontest.RoundTrip[blockedRecord](t, rest)
		}
	})
}
