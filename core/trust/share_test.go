package trust_test

import (
	"errors"
	"testing"

	"planet/core/trust"
)

func TestSharingAndRevoking(t *testing.T) {
	n := network{}
	alice, bob, carol, eve := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3), n.add(t, "Eve", 5)
	n.connect(t, alice, bob)
	n.connect(t, alice, carol)

	outs := must(alice.trust.SetSharing(ctx, bob.did, true))
	if len(outs) != 1 || outs[0].To != bob.did || outs[0].Protocol != trust.ProtocolShare {
		t.Fatalf("SetSharing = %+v", outs)
	}
	// Alice shares her relationship with Carol (one credential each way),
	// not the one with Bob, who holds it.
	if f := outs[0].Frame.(*trust.ShareFrame); len(f.Credentials) != 2 {
		t.Fatalf("Alice shares %d credentials, want 2", len(f.Credentials))
	}
	if err := n.deliver(t, alice, outs...); err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, k := range must(bob.trust.Credentials(ctx)) {
		if k.SharedBy == alice.did {
			shared++
		}
	}
	if shared != 2 {
		t.Errorf("Bob keeps %d credentials Alice shared, want 2", shared)
	}
	g := must(bob.trust.Graph(ctx))
	if paths := must(g.Paths(bob.did, carol.did, 3)); len(paths) != 1 {
		t.Errorf("Bob's paths to Carol: %v", paths)
	}
	if ct := must(alice.cs.ByDID(ctx, bob.did)); !ct.SharingGraph {
		t.Error("Alice's contact for Bob does not say she shares with him")
	}

	// Alice stops: Bob forgets what she shared.
	if err := n.deliver(t, alice, must(alice.trust.SetSharing(ctx, bob.did, false))...); err != nil {
		t.Fatal(err)
	}
	g = must(bob.trust.Graph(ctx))
	if paths := must(g.Paths(bob.did, carol.did, 3)); len(paths) != 0 {
		t.Errorf("Bob still reaches Carol after Alice stopped sharing: %v", paths)
	}
	if k := must(bob.trust.Credentials(ctx)); len(k) != 2 {
		t.Errorf("Bob keeps %d credentials, want his own 2", len(k))
	}

	// A share from a stranger is refused, and nothing is kept.
	frame := &trust.ShareFrame{Credentials: [][]byte{must(must(alice.trust.Credentials(ctx))[0].Credential.MarshalJSON())}}
	err := n.deliver(t, eve, trust.Outgoing{To: bob.did, Protocol: trust.ProtocolShare, Frame: frame})
	if !errors.Is(err, trust.ErrNotAContact) {
		t.Errorf("a share from a stranger: %v, want ErrNotAContact", err)
	}
	if k := must(bob.trust.Credentials(ctx)); len(k) != 2 {
		t.Errorf("Bob keeps %d credentials after a stranger's share, want 2", len(k))
	}
	// Sharing with someone who is not a connected contact is refused.
	if _, err := alice.trust.SetSharing(ctx, eve.did, true); err == nil {
		t.Error("Alice shared with a stranger")
	}
}
