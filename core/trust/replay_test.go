package trust_test

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/trust"
)

// letter seals out, from from, as it would travel through the mailbox.
func letter(t *testing.T, from *person, out trust.Outgoing) []byte {
	t.Helper()
	_, env, err := from.trust.SealOutgoing(out)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// open unseals env as to and hands it to svc (to's trust network, or
// another Service over the same vault).
func open(t *testing.T, to *person, svc *trust.Service, env []byte) error {
	t.Helper()
	m, err := didcomm.Unseal(to.o.S.Identity, env, to.o.Clock)
	if err != nil {
		return err
	}
	_, _, err = svc.HandleMessage(ctx, m)
	return err
}

func sharedBy(t *testing.T, p *person, by did.DID) int {
	n := 0
	for _, k := range must(p.trust.Credentials(ctx)) {
		if k.SharedBy == by {
			n++
		}
	}
	return n
}

// A sealed trust message is applied once: a replay of a share after it
// was revoked is refused, also after a restart, and a message older than
// the most a message may wait is refused by its age.
func TestSealedTrustMessageReplay(t *testing.T) {
	n := network{}
	alice, bob, carol := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3)
	n.connect(t, alice, bob)
	n.connect(t, alice, carol)

	share := letter(t, alice, must(alice.trust.SetSharing(ctx, bob.did, true))[0])
	if err := open(t, bob, bob.trust, share); err != nil {
		t.Fatal(err)
	}
	if got := sharedBy(t, bob, alice.did); got != 2 {
		t.Fatalf("Bob keeps %d credentials Alice shared, want 2", got)
	}
	revoke := letter(t, alice, must(alice.trust.SetSharing(ctx, bob.did, false))[0])
	if err := open(t, bob, bob.trust, revoke); err != nil {
		t.Fatal(err)
	}
	if got := sharedBy(t, bob, alice.did); got != 0 {
		t.Fatalf("Bob keeps %d credentials after Alice revoked, want 0", got)
	}

	// Someone who kept the letter (the mailbox, say) deposits it again.
	err := open(t, bob, bob.trust, share)
	if !errors.Is(err, trust.ErrReplayed) {
		t.Errorf("the share again = %v, want ErrReplayed", err)
	}
	if got := sharedBy(t, bob, alice.did); got != 0 {
		t.Fatalf("a replayed share brought back %d credentials Alice revoked", got)
	}

	// A restart (a new Service over the same vault) remembers.
	again := trust.New(bob.o, bob.cs, func() string { return "Bob" })
	if err := open(t, bob, again, share); !errors.Is(err, trust.ErrReplayed) {
		t.Errorf("the share again after a restart = %v, want ErrReplayed", err)
	}
	if got := sharedBy(t, bob, alice.did); got != 0 {
		t.Fatalf("a replayed share after a restart brought back %d credentials", got)
	}

	// Every trust message carries an expiry, at most MaxMessageAge away.
	m := must(didcomm.Unseal(bob.o.S.Identity, share, bob.o.Clock))
	if m.Expires.IsZero() || m.Expires.Sub(m.Created) > trust.MaxMessageAge {
		t.Errorf("a sealed trust message expires %v after it was made, want at most %v", m.Expires.Sub(m.Created), trust.MaxMessageAge)
	}

	// A message made more than MaxMessageAge ago is refused by its age,
	// whatever the record says: one the trust network sealed has expired
	// by then, and one made with no expiry (as earlier versions made them)
	// is held to the same bound.
	expiring := letter(t, alice, must(alice.trust.SetSharing(ctx, bob.did, true))[0])
	unbounded := noExpiry(t, alice, bob, must(alice.trust.SetSharing(ctx, bob.did, true))[0])
	bob.o.Clock = bob.o.Clock.Add(trust.MaxMessageAge + time.Hour)
	alice.o.Clock = bob.o.Clock
	if err := open(t, bob, bob.trust, expiring); !errors.Is(err, didcomm.ErrExpired) {
		t.Errorf("a sealed message older than MaxMessageAge = %v, want ErrExpired", err)
	}
	if err := open(t, bob, bob.trust, unbounded); !errors.Is(err, trust.ErrReplayed) {
		t.Errorf("a message without expiry made more than MaxMessageAge ago = %v, want ErrReplayed", err)
	}
	if got := sharedBy(t, bob, alice.did); got != 0 {
		t.Fatalf("a stale share was applied: %d credentials", got)
	}
	// Fresh messages still go through once the record was pruned.
	fresh := letter(t, alice, must(alice.trust.SetSharing(ctx, bob.did, true))[0])
	if err := open(t, bob, bob.trust, fresh); err != nil {
		t.Fatalf("a fresh share after the old ones were forgotten: %v", err)
	}
	if got := sharedBy(t, bob, alice.did); got != 2 {
		t.Errorf("Bob keeps %d credentials of a fresh share, want 2", got)
	}
}

// A message made without an expiry (as earlier versions sealed them) is
// applied once, and its repeat refused.
func TestSealedTrustMessageWithoutExpiry(t *testing.T) {
	n := network{}
	alice, bob, carol := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3)
	n.connect(t, alice, bob)
	n.connect(t, alice, carol)
	env := noExpiry(t, alice, bob, must(alice.trust.SetSharing(ctx, bob.did, true))[0])
	if err := open(t, bob, bob.trust, env); err != nil {
		t.Fatal(err)
	}
	if err := open(t, bob, bob.trust, env); !errors.Is(err, trust.ErrReplayed) {
		t.Errorf("the same message again = %v, want ErrReplayed", err)
	}
}

func base64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// noExpiry seals out as earlier versions did: a message with no expiry.
func noExpiry(t *testing.T, from, to *person, out trust.Outgoing) []byte {
	t.Helper()
	frame := must(trust.EncodeFrame(out.Frame))
	m := must(didcomm.NewMessage(from.did, []did.DID{to.did}, "planet:share/1.0/frame",
		map[string]string{"frame": base64url(frame)}, from.o.Clock))
	return must(didcomm.Seal(from.o.S.Identity, to.did, m))
}
