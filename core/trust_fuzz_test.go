package core_test

import (
	"errors"
	"testing"

	"planet/core/did"
	"planet/core/invite"
	"planet/core/trust"
	"planet/core/wire"
)

// FuzzTrustFrame feeds any bytes to the trust network's frame decoders and
// handlers, as a peer or a letter could: nothing panics, and a frame refused
// as malformed changes nothing in the vault.
func FuzzTrustFrame(f *testing.F) {
	alice, _ := newPlanet(f)
	bob, _ := newPlanet(f)
	aliceID, _ := alice.Identity()
	bobID, _ := bob.Identity()

	inv, err := alice.Trust().CreateInvitation(ctx, invite.Options{Note: "seed"})
	if err != nil {
		f.Fatal(err)
	}
	_, out, err := bob.Trust().AcceptInvitation(ctx, inv.Token)
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
	senders := []did.DID{bobID.DID(), aliceID.DID()}
	f.Fuzz(func(t *testing.T, protocol byte, frame []byte) {
		proto := protocols[int(protocol)%len(protocols)]
		from := senders[int(protocol/8)%len(senders)]
		before, err := alice.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = alice.Trust().HandleFrame(ctx, from, proto, frame)
		if err == nil || !errors.Is(err, wire.ErrMalformedFrame) {
			return
		}
		after, err := alice.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("a malformed %s frame changed the vault: %+v, then %+v", proto, before, after)
		}
	})
}
