package core_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"planet/core"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/library"
	"planet/core/vc"
	"planet/vault/mem"
)

// relationships gives p one relationship of its own (with Bob, both ways)
// and one Bob shared (Bob and Carol), and returns Bob's and Carol's DIDs.
func relationships(t *testing.T, p *core.Planet) (bob, carol *identity.Identity) {
	t.Helper()
	me := must(p.Identity())
	bob = must(identity.New(nil))
	carol = must(identity.New(nil))
	now := time.Now()
	issue := func(from *identity.Identity, to did.DID, words string) []byte {
		c := must(vc.IssueRelationship(from, to, vc.RelationshipContext{Context: words}, now.Add(-time.Hour), now.AddDate(1, 0, 0), nil))
		return must(c.MarshalJSON())
	}
	must(p.Trust().KeepCredential(ctx, issue(bob, me.DID(), "met at the co-op AGM"), did.DID{}))
	must(p.Trust().KeepCredential(ctx, issue(me, bob.DID(), "met at the co-op AGM"), did.DID{}))
	must(p.Trust().KeepCredential(ctx, issue(bob, carol.DID(), "climbing partners"), bob.DID()))
	return bob, carol
}

func TestKeepCredentialsAndGraph(t *testing.T) {
	p, _ := newPlanet(t)
	me := must(p.Identity())
	bob, carol := relationships(t, p)

	// Credentials the person is not part of, or that a contact shares
	// without being part of, are refused; so is a forgery.
	dana := must(identity.New(nil))
	stranger := must(vc.IssueRelationship(dana, carol.DID(), vc.RelationshipContext{}, time.Now().Add(-time.Hour), time.Time{}, nil))
	raw := must(stranger.MarshalJSON())
	if _, err := p.Trust().KeepCredential(ctx, raw, did.DID{}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("keeping a stranger's credential: %v", err)
	}
	if _, err := p.Trust().KeepCredential(ctx, raw, bob.DID()); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("keeping a credential Bob is not part of as shared by Bob: %v", err)
	}
	forged := bytes.Replace(must(must(vc.IssueRelationship(bob, me.DID(), vc.RelationshipContext{Context: "friends"}, time.Now().Add(-time.Hour), time.Time{}, nil)).MarshalJSON()), []byte("friends"), []byte("fiends!"), 1)
	if _, err := p.Trust().KeepCredential(ctx, forged, did.DID{}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("keeping a forged credential: %v", err)
	}

	g := must(p.Trust().Graph(ctx))
	paths := must(g.Paths(me.DID(), carol.DID(), 3))
	if len(paths) != 1 || len(paths[0]) != 2 {
		t.Fatalf("paths to Carol: %v", paths)
	}
	if n := must(p.Trust().ForgetShared(ctx, bob.DID())); n != 1 {
		t.Fatalf("ForgetShared removed %d, want 1", n)
	}
	g = must(p.Trust().Graph(ctx))
	if paths := must(g.Paths(me.DID(), carol.DID(), 3)); len(paths) != 0 {
		t.Fatalf("Carol still reachable after Bob stopped sharing: %v", paths)
	}
	if c := must(p.Counts(ctx)); c.Credentials != 2 {
		t.Fatalf("counts %+v", c)
	}
}

func TestCredentialsTravelInExport(t *testing.T) {
	p, _ := newPlanet(t)
	me := must(p.Identity())
	_, carol := relationships(t, p)
	must(p.Library().AddFile(ctx, bytes.NewReader([]byte("a letter")), library.FileInput{Kind: library.Document, Name: "letter.txt"}, nil))
	file := export(t, p, "harbour lights at eleven")

	q := must(core.Open(ctx, mem.New(), testOpts))
	_, counts, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "a different local passphrase", nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Credentials != 3 {
		t.Fatalf("imported %+v", counts)
	}
	orig, got := must(p.Trust().Credentials(ctx)), must(q.Trust().Credentials(ctx))
	if len(got) != len(orig) {
		t.Fatalf("%d credentials after import, want %d", len(got), len(orig))
	}
	for _, k := range got {
		if err := vc.Verify(k.Credential, time.Now()); err != nil {
			t.Fatalf("imported credential does not verify: %v", err)
		}
	}
	g := must(q.Trust().Graph(ctx))
	if paths := must(g.Paths(me.DID(), carol.DID(), 3)); len(paths) != 1 {
		t.Fatalf("graph after import: paths to Carol %v", paths)
	}
}
