package core_test

import (
	"errors"
	"testing"

	"planet/core"
	"planet/core/didcomm"
	"planet/core/invite"
	"planet/core/trust"
)

// TestConnectionThroughLetters: two people who are never online together
// connect by invitation through the mailbox alone. Each sealed letter is
// opened by the other's Planet and handed to the trust network, whose answer
// goes back sealed too; a letter for someone else or one altered on the way
// is refused and changes nothing.
func TestConnectionThroughLetters(t *testing.T) {
	alice, _ := newPlanet(t)
	bob, _ := newPlanet(t)
	carol, _ := newPlanet(t)
	aliceID, bobID := must(alice.Identity()), must(bob.Identity())

	inv := must(alice.Trust().CreateInvitation(ctx, invite.Options{Note: "met at the allotment"}))
	_, out, err := bob.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	_, request, err := bob.Trust().SealOutgoing(out)
	if err != nil {
		t.Fatal(err)
	}

	// Sealed to Alice: Carol cannot open it; altered, Alice refuses it.
	if _, err := carol.OpenLetter(ctx, request); !errors.Is(err, didcomm.ErrEnvelope) {
		t.Errorf("Carol opened a letter for Alice: %v", err)
	}
	before := must(alice.Counts(ctx))
	altered := append([]byte(nil), request...)
	altered[len(altered)/2] ^= 1
	if _, err := alice.OpenLetter(ctx, altered); err == nil {
		t.Error("Alice opened an altered letter")
	}
	if after := must(alice.Counts(ctx)); after != before {
		t.Errorf("an altered letter changed Alice's vault: %+v, then %+v", before, after)
	}

	o, err := alice.OpenLetter(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	if o.From != bobID.DID() || o.Protocol != trust.ProtocolConnect || o.Reply == nil || o.Chat != nil {
		t.Fatalf("Alice opened %+v", o)
	}
	_, answer, err := alice.Trust().SealOutgoing(trust.Outgoing{To: o.From, Protocol: o.Protocol, Frame: o.Reply})
	if err != nil {
		t.Fatal(err)
	}
	o, err = bob.OpenLetter(ctx, answer)
	if err != nil || o.From != aliceID.DID() || o.Reply != nil {
		t.Fatalf("Bob opened %+v, %v", o, err)
	}

	for _, c := range []struct {
		name string
		p    *core.Planet
	}{{"Alice", alice}, {"Bob", bob}} {
		counts := must(c.p.Counts(ctx))
		if counts.Contacts != 1 || counts.Credentials != 2 {
			t.Errorf("%s holds %+v, want one contact and two credentials", c.name, counts)
		}
		if pending := must(c.p.Trust().PendingConnections(ctx)); len(pending) != 0 {
			t.Errorf("%s still waits for %+v", c.name, pending)
		}
	}
	cs := must(bob.Contacts().List(ctx))
	if len(cs) != 1 || cs[0].DID != aliceID.DID() || !cs[0].IsConnected() {
		t.Errorf("Bob's contacts: %+v", cs)
	}
}
