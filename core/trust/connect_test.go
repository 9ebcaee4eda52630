package trust_test

import (
	"errors"
	"strings"
	"testing"

	"planet/core/contacts"
	"planet/core/internal/input"
	"planet/core/invite"
	"planet/core/trust"
)

func TestInvitationAccepted(t *testing.T) {
	n := network{}
	alice, bob := n.add(t, "Alice", 1), n.add(t, "Bob", 2)

	inv := must(alice.trust.CreateInvitation(ctx, invite.Options{Note: "met at the allotment"}))
	got, out := must2(bob.trust.AcceptInvitation(ctx, inv.Token))
	if got.Inviter != alice.did || out.To != alice.did || out.Protocol != trust.ProtocolConnect {
		t.Fatalf("AcceptInvitation = %+v, %+v", got, out)
	}
	pending := must(bob.trust.PendingConnections(ctx))
	if len(pending) != 1 || pending[0].With != alice.did || pending[0].Ref != inv.ID || pending[0].Waiting != trust.WaitingDelivery ||
		!pending[0].Created.Equal(bob.o.Clock) || pending[0].Note != "met at the allotment" {
		t.Fatalf("pending before the answer: %+v", pending)
	}
	if err := n.deliver(t, bob, out); err != nil {
		t.Fatal(err)
	}
	if pending := must(bob.trust.PendingConnections(ctx)); len(pending) != 0 {
		t.Errorf("pending after the answer: %+v", pending)
	}
	for _, c := range []struct {
		p      *person
		other  *person
		origin contacts.Origin
	}{{alice, bob, contacts.OriginInvitedByMe}, {bob, alice, contacts.OriginInvitedMe}} {
		k := must(c.p.trust.Credentials(ctx))
		if len(k) != 2 {
			t.Errorf("%s keeps %d credentials, want 2 (one each way)", c.p.name, len(k))
		}
		for _, kc := range k {
			if kc.Credential.Subject.Context != "met at the allotment" || !kc.SharedBy.IsZero() || !kc.Received.Equal(c.p.o.Clock) {
				t.Errorf("%s keeps %+v", c.p.name, kc)
			}
		}
		ct := must(c.p.cs.ByDID(ctx, c.other.did))
		if ct == nil || !ct.IsConnected() || ct.Name != c.other.name || ct.Origin != c.origin || len(ct.Relays) != 1 {
			t.Errorf("%s's contact for %s: %+v", c.p.name, c.other.name, ct)
		}
	}
	invs := must(alice.trust.Invitations(ctx))
	if len(invs) != 1 || invs[0].UsesLeft != 0 || len(invs[0].AcceptedBy) != 1 || invs[0].AcceptedBy[0] != bob.did {
		t.Errorf("Alice's invitation after use: %+v", invs)
	}
	// The same request again (a retry after a lost answer) is answered
	// without a second use.
	if err := n.deliver(t, bob, out); err != nil {
		t.Errorf("the same request again: %v", err)
	}
}

func TestInvitationRefused(t *testing.T) {
	n := network{}
	alice, bob, carol := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3)
	used := must(alice.trust.CreateInvitation(ctx, invite.Options{}))
	n.connect(t, alice, bob) // another invitation, so that Bob is not a stranger
	_, out := must2(bob.trust.AcceptInvitation(ctx, used.Token))
	if err := n.deliver(t, bob, out); err != nil {
		t.Fatal(err)
	}
	revoked := must(alice.trust.CreateInvitation(ctx, invite.Options{}))
	if err := alice.trust.RevokeInvitation(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	bobs := must(bob.trust.CreateInvitation(ctx, invite.Options{}))

	for _, c := range []struct {
		name  string
		token string
		to    *person // where Carol sends her request; the inviter if nil
		want  error
		code  string
	}{
		{"used up", used.Token, nil, invite.ErrUsedUp, trust.CodeInvitationUsedUp},
		{"revoked", revoked.Token, nil, invite.ErrRevoked, trust.CodeInvitationRevoked},
		{"presented to someone else", bobs.Token, alice, invite.ErrForged, trust.CodeInvitationForged},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(must(carol.trust.Credentials(ctx)))
			inv, out := must2(carol.trust.AcceptInvitation(ctx, c.token))
			if c.to != nil {
				out.To = c.to.did
			}
			// What the one reached answers.
			h, err := n[out.To].trust.HandleFrame(ctx, carol.did, out.Protocol, must(trust.EncodeFrame(out.Frame)))
			if err != nil {
				t.Fatal(err)
			}
			if r := h.Reply.(*trust.ConnectFrame).Reply; r == nil || r.Refused == nil || r.Refused.Code != c.code || r.Credential != nil {
				t.Fatalf("%s answers %+v, want a refusal %s", n[out.To].name, r, c.code)
			}
			err = n.deliver(t, carol, out)
			var remote *trust.RemoteError
			if c.to == nil && (!errors.Is(err, c.want) || !errors.As(err, &remote) || remote.Code != c.code) {
				t.Fatalf("refusal = %v, want %v (%s)", err, c.want, c.code)
			}
			if c.to != nil && !errors.Is(err, input.ErrInvalid) {
				t.Fatalf("a refusal from someone other than the one asked = %v, want one wrapping input.ErrInvalid", err)
			}
			if c.to == nil {
				// The refusal names the invitation: Carol's side is tidied.
				if p := must(carol.trust.PendingConnections(ctx)); len(p) != 0 {
					t.Errorf("pending after a refusal: %+v", p)
				}
				if k := must(carol.trust.Credentials(ctx)); len(k) != before {
					t.Errorf("Carol keeps %d credentials after a refusal, had %d: the one she issued is not withdrawn", len(k), before)
				}
			} else if p := must(carol.trust.PendingConnections(ctx)); len(p) != 1 || p[0].Ref != inv.ID {
				// Someone else's refusal does not end the connection asked for.
				t.Errorf("pending after a refusal from the wrong person: %+v", p)
			}
			if ct := must(carol.cs.ByDID(ctx, alice.did)); ct != nil {
				t.Errorf("Carol has a contact for Alice after a refusal: %+v", ct)
			}
		})
	}

	// An altered token does not even parse; one's own is refused.
	altered := used.Token[:len(used.Token)-2] + strings.Repeat("A", 2)
	if altered == used.Token {
		altered = used.Token[:len(used.Token)-2] + "BB"
	}
	if _, _, err := carol.trust.AcceptInvitation(ctx, altered); err == nil {
		t.Error("an altered invitation was accepted")
	}
	own := must(carol.trust.CreateInvitation(ctx, invite.Options{}))
	if _, _, err := carol.trust.AcceptInvitation(ctx, own.Token); err == nil {
		t.Error("Carol accepted her own invitation")
	}
}

// Revocation is final for everyone: someone who accepted an invitation
// before it was revoked cannot redeem it again (a replayed or repeated
// request is refused as revoked, and does not connect them anew).
func TestRevokedInvitationRefusesEarlierAcceptor(t *testing.T) {
	n := network{}
	alice, bob := n.add(t, "Alice", 1), n.add(t, "Bob", 2)
	inv := must(alice.trust.CreateInvitation(ctx, invite.Options{Uses: 2}))
	_, out := must2(bob.trust.AcceptInvitation(ctx, inv.Token))
	if err := n.deliver(t, bob, out); err != nil {
		t.Fatal(err)
	}
	if err := alice.trust.RevokeInvitation(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	// Alice also deletes Bob from her contacts: the request must not
	// bring him back.
	if c := must(alice.cs.ByDID(ctx, bob.did)); c == nil {
		t.Fatal("Bob is not Alice's contact")
	} else if err := alice.cs.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	h, err := alice.trust.HandleFrame(ctx, bob.did, out.Protocol, must(trust.EncodeFrame(out.Frame)))
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Reply.(*trust.ConnectFrame).Reply; r.Refused == nil || r.Refused.Code != trust.CodeInvitationRevoked || r.Credential != nil {
		t.Fatalf("Alice answers Bob's earlier request to a revoked invitation with credential=%t refused=%+v, want a refusal %s", r.Credential != nil, r.Refused, trust.CodeInvitationRevoked)
	}
	if c := must(alice.cs.ByDID(ctx, bob.did)); c != nil && c.IsConnected() {
		t.Errorf("the revoked invitation connected Bob again: %+v", c)
	}
}
