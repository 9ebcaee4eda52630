package trust_test

import (
	"bytes"
	"reflect"
	"testing"

	"planet/core/contacts"
	"planet/core/invite"
	"planet/core/session"
	"planet/core/session/sessiontest"
	"planet/core/trust"
	"planet/vault"
)

// TestSectionsRoundTrip: what the trust network's sections write into an
// export, a new vault reads back the same: invitations with their uses and
// who accepted them, introductions received and made, pending connections
// and the credentials kept, counted in the manifest's way.
func TestSectionsRoundTrip(t *testing.T) {
	n := network{}
	alice, bob, carol := n.add(t, "Alice", 1), n.add(t, "Bob", 2), n.add(t, "Carol", 3)
	inv := must(alice.trust.CreateInvitation(ctx, invite.Options{Note: "met at the allotment", Uses: 2}))
	_, out := must2(bob.trust.AcceptInvitation(ctx, inv.Token))
	if err := n.deliver(t, bob, out); err != nil {
		t.Fatal(err)
	}
	inv2 := must(alice.trust.CreateInvitation(ctx, invite.Options{Note: "choir"}))
	_, out = must2(carol.trust.AcceptInvitation(ctx, inv2.Token))
	if err := n.deliver(t, carol, out); err != nil {
		t.Fatal(err)
	}
	_, outs := must2(alice.trust.Introduce(ctx, bob.did, carol.did, "you both grow beans"))
	for _, o := range outs {
		if err := n.deliver(t, alice, o); err != nil {
			t.Fatal(err)
		}
	}

	var w session.Writer
	for _, sec := range []session.Section{alice.trust.CredentialsSection(), alice.trust.TrustSection()} {
		if err := sec.Export(ctx, alice.o.S, &w); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := w.Entries()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name] = true
	}
	for _, want := range []string{"credentials.json", "graph.json", "trust.json"} {
		if !names[want] {
			t.Errorf("the sections wrote %v, not %s", names, want)
		}
	}

	// The same person on a new device: the same identity, a new vault.
	o := sessiontest.Open(t, 1)
	restored := trust.New(o, contacts.New(o), func() string { return "Alice" })
	imports := []session.SectionImport{restored.CredentialsSection().Import(), restored.TrustSection().Import()}
	for _, e := range entries {
		for _, im := range imports {
			if im.Claims(e.Name) {
				if err := im.Entry(ctx, session.Entry{Name: e.Name, Size: int64(len(e.Body)), Body: bytes.NewReader(e.Body), Vault: o.S.Vault}); err != nil {
					t.Fatalf("%s: %v", e.Name, err)
				}
			}
		}
	}
	var counts session.Counts
	err = o.S.Vault.Update(ctx, func(tx *vault.Tx) error {
		for _, im := range imports {
			if err := im.Restore(tx, o.S.Identity, &counts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts.Credentials != w.Counts.Credentials || counts.Credentials == 0 {
		t.Errorf("restored %d credentials, the export counts %d", counts.Credentials, w.Counts.Credentials)
	}
	for _, c := range []struct {
		what string
		get  func(*trust.Service) any
	}{
		{"invitations", func(s *trust.Service) any { return must(s.Invitations(ctx)) }},
		{"introductions", func(s *trust.Service) any { r, m, _ := s.Introductions(ctx); return [2]any{r, m} }},
		{"pending connections", func(s *trust.Service) any { return must(s.PendingConnections(ctx)) }},
		{"credentials", func(s *trust.Service) any { return len(must(s.Credentials(ctx))) }},
	} {
		if got, want := c.get(restored), c.get(alice.trust); !reflect.DeepEqual(got, want) {
			t.Errorf("%s after the round trip:\n%+v\nwant\n%+v", c.what, got, want)
		}
	}
	// The book still holds the secret's hash: the invitation with a use
	// left is still good for someone new.
	dave := n.add(t, "Dave", 4)
	n[alice.did] = &person{name: "Alice", o: o, cs: contacts.New(o), trust: restored, did: alice.did}
	_, out = must2(dave.trust.AcceptInvitation(ctx, inv.Token))
	if err := n.deliver(t, dave, out); err != nil {
		t.Fatalf("the restored invitation refused its second use: %v", err)
	}
}
