package trust_test

import (
	"errors"
	"testing"

	"planet/core/contacts"
	"planet/core/trust"
)

func TestIntroductionAcceptedByBoth(t *testing.T) {
	n := network{}
	alice, bob, carol := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3)
	n.connect(t, alice, bob)
	n.connect(t, alice, carol)

	made, outs := must2(alice.trust.Introduce(ctx, bob.did, carol.did, "you both build boats"))
	if made.A != bob.did || made.B != carol.did || made.StateA != trust.IntroPending || made.StateB != trust.IntroPending || len(outs) != 2 {
		t.Fatalf("Introduce = %+v, %d frames", made, len(outs))
	}
	if err := n.deliver(t, alice, outs...); err != nil {
		t.Fatal(err)
	}
	received, _ := must2(bob.trust.Introductions(ctx))
	if len(received) != 1 || received[0].Introducer != alice.did || received[0].Other != carol.did || received[0].OtherName != "Carol" ||
		received[0].State != trust.IntroPending || received[0].Note != "you both build boats" || !received[0].Expires.After(bob.o.Clock) {
		t.Fatalf("Bob received %+v", received)
	}

	// Bob accepts first: Carol has not answered, so his request waits.
	outs = must(bob.trust.AnswerIntroduction(ctx, made.ID, true))
	if err := n.deliver(t, bob, outs...); err != nil {
		t.Fatal(err)
	}
	pending := must(bob.trust.PendingConnections(ctx))
	if len(pending) != 1 || pending[0].With != carol.did || pending[0].Waiting != trust.WaitingAnswer {
		t.Fatalf("Bob's pending after accepting first: %+v", pending)
	}
	if _, err := bob.trust.AnswerIntroduction(ctx, made.ID, true); err == nil {
		t.Error("an introduction was answered twice")
	}

	// Carol accepts: her request finds Bob's acceptance, and both connect.
	outs = must(carol.trust.AnswerIntroduction(ctx, made.ID, true))
	if err := n.deliver(t, carol, outs...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ p, other *person }{{bob, carol}, {carol, bob}} {
		ct := must(c.p.cs.ByDID(ctx, c.other.did))
		if ct == nil || !ct.IsConnected() || ct.Origin != contacts.OriginIntroduced || ct.IntroducedBy != alice.did {
			t.Errorf("%s's contact for %s: %+v", c.p.name, c.other.name, ct)
		}
		received, _ := must2(c.p.trust.Introductions(ctx))
		if len(received) != 1 || received[0].State != trust.IntroConnected {
			t.Errorf("%s's introduction: %+v", c.p.name, received)
		}
		introduced := 0
		for _, k := range must(c.p.trust.Credentials(ctx)) {
			if k.Credential.Subject.IntroducedBy == alice.did {
				introduced++
			}
		}
		if introduced != 2 {
			t.Errorf("%s keeps %d credentials naming Alice as introducer, want 2", c.p.name, introduced)
		}
	}
	// Bob's request was answered by Carol's: one credential each way, not two.
	if k := must(bob.trust.Credentials(ctx)); len(k) != 4 {
		t.Errorf("Bob keeps %d credentials, want 4", len(k))
	}
	// Carol's request completed Bob's as well.
	if p := must(bob.trust.PendingConnections(ctx)); len(p) != 0 {
		t.Errorf("Bob's pending after connecting: %+v", p)
	}
	_, mades := must2(alice.trust.Introductions(ctx))
	if len(mades) != 1 || mades[0].StateA != trust.IntroConnected || mades[0].StateB != trust.IntroConnected {
		t.Errorf("Alice's introduction: %+v", mades)
	}
}

func TestIntroductionDeclined(t *testing.T) {
	n := network{}
	alice, carol, dave := n.add(t, "Alice", 1), n.add(t, "Carol", 3), n.add(t, "Dave", 4)
	n.connect(t, alice, carol)
	n.connect(t, alice, dave)
	made, outs := must2(alice.trust.Introduce(ctx, carol.did, dave.did, ""))
	if err := n.deliver(t, alice, outs...); err != nil {
		t.Fatal(err)
	}
	if err := n.deliver(t, dave, must(dave.trust.AnswerIntroduction(ctx, made.ID, false))...); err != nil {
		t.Fatal(err)
	}
	outs = must(carol.trust.AnswerIntroduction(ctx, made.ID, true))
	// The news for Alice goes first; then the request to Dave is refused.
	if err := n.deliver(t, carol, outs[0]); err != nil {
		t.Fatal(err)
	}
	if err := n.deliver(t, carol, outs[1]); !errors.Is(err, trust.ErrDeclined) {
		t.Fatalf("Carol's request to Dave after he declined: %v, want ErrDeclined", err)
	}
	received, _ := must2(carol.trust.Introductions(ctx))
	if len(received) != 1 || received[0].State != trust.IntroOtherDeclined {
		t.Errorf("Carol's introduction: %+v", received)
	}
	if p := must(carol.trust.PendingConnections(ctx)); len(p) != 0 {
		t.Errorf("Carol's pending after the refusal: %+v", p)
	}
	if ct := must(carol.cs.ByDID(ctx, dave.did)); ct != nil {
		t.Errorf("Carol has a contact for Dave: %+v", ct)
	}
	_, mades := must2(alice.trust.Introductions(ctx))
	if len(mades) != 1 || mades[0].StateA != trust.IntroAccepted || mades[0].StateB != trust.IntroDeclined {
		t.Errorf("Alice's introduction: %+v", mades)
	}

	// Only a connected contact may introduce: Carol and Dave are strangers.
	if _, _, err := carol.trust.Introduce(ctx, alice.did, dave.did, ""); err == nil {
		t.Error("Carol introduced someone she is not connected with")
	}
}
