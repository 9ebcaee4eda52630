package trust_test

import (
	"errors"
	"testing"

	"planet/core/did"
	"planet/core/invite"
	"planet/core/session"
	"planet/core/trust"
	"planet/core/wire"
)

// FuzzTrustFrame feeds any bytes to the trust network's frame decoders and
// handlers, as a peer or a letter could: nothing panics, and a frame refused
// as malformed changes nothing in the vault.
func FuzzTrustFrame(f *testing.F) {
	n := network{}
	alice, bob := n.add(f, "Alice", 1), n.add(f, "Bob", 2)

	inv, err := alice.trust.CreateInvitation(ctx, invite.Options{Note: "seed"})
	if err != nil {
		f.Fatal(err)
	}
	_, out, err := bob.trust.AcceptInvitation(ctx, inv.Token)
	if err != nil {
		f.Fatal(err)
	}
	seed := func(protocol byte, frame any) {
		b, err := trust.EncodeFrame(frame)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(protocol, b)
	}
	seed(0, out.Frame)
	seed(0, &trust.ConnectFrame{Reply: &trust.ConnectReply{Ref: inv.ID, Refused: &trust.RemoteError{Code: trust.CodeDeclined}}})
	seed(1, &trust.IntroduceFrame{Answer: &trust.IntroAnswer{ID: "x", State: trust.IntroAccepted}})
	seed(1, &trust.IntroduceFrame{Received: true})
	seed(2, &trust.ShareFrame{Revoke: true})
	seed(2, &trust.ShareFrame{Credentials: [][]byte{[]byte(`{}`)}})

	protocols := trust.Protocols
	senders := []did.DID{bob.did, alice.did}
	f.Fuzz(func(t *testing.T, protocol byte, frame []byte) {
		proto := protocols[int(protocol)%len(protocols)]
		from := senders[int(protocol/8)%len(senders)]
		before := alice.counts(t)
		_, err := alice.trust.HandleFrame(ctx, from, proto, frame)
		if err == nil || !errors.Is(err, wire.ErrMalformedFrame) {
			return
		}
		if after := alice.counts(t); after != before {
			t.Fatalf("a malformed %s frame changed the vault: %+v, then %+v", proto, before, alice.counts(t))
		}
	})
}

// counts counts what the person's trust network and address book hold.
func (p *person) counts(t *testing.T) session.Counts {
	t.Helper()
	var c session.Counts
	if err := p.trust.Count(ctx, &c); err != nil {
		t.Fatal(err)
	}
	c.Contacts = must(p.cs.Count(ctx))
	return c
}
