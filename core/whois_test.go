//go:build !js

package core_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"planet/core"
	"planet/core/did/webvh"
	"planet/core/internal/input"
	"planet/core/page"
	"planet/core/publish"
	"planet/vault/mem"
)

// TestSaveWhois: the person shows two of their own relationship
// credentials on their page; the presentation verifies against their
// did:webvh, holds the two as signed, travels in the export, and comes
// down when they show none. A credential a contact shared is not theirs
// to show.
func TestSaveWhois(t *testing.T) {
	p, _ := newPlanet(t)
	relationships(t, p)
	pg := must(p.Publish().Create(ctx, publish.Location{Host: "planet.localhost", Name: "ada"}))
	var own, shared []string
	for _, k := range must(p.Trust().Credentials(ctx)) {
		if k.SharedBy.IsZero() {
			own = append(own, k.Credential.ID)
		} else {
			shared = append(shared, k.Credential.ID)
		}
	}
	if len(own) != 2 || len(shared) != 1 {
		t.Fatalf("own %v, shared %v", own, shared)
	}
	if _, err := p.SaveWhois(ctx, []string{own[0], shared[0]}); !errors.Is(err, input.ErrInvalid) {
		t.Fatalf("showing a shared credential: %v", err)
	}
	if _, err := p.SaveWhois(ctx, []string{"urn:uuid:00000000-0000-4000-8000-000000000000"}); !errors.Is(err, input.ErrInvalid) {
		t.Fatalf("showing an unknown credential: %v", err)
	}

	ups := must(p.SaveWhois(ctx, []string{own[0], own[1], own[0]}))
	if len(ups) != 1 || ups[0].Path != page.WhoisPath || ups[0].Body == nil {
		t.Fatalf("uploads %+v", ups)
	}
	now := time.Now()
	versions := must(webvh.Verify(pg.Log, nil, now))
	w := must(page.VerifyWhois(ups[0].Body, versions, now))
	if w.DID.String() != pg.DID.String() || len(w.Credentials) != 2 {
		t.Fatalf("whois %+v", w)
	}
	for _, c := range w.Credentials {
		if !c.Verified {
			t.Errorf("credential %s: %v", c.ID, c.Problem)
		}
	}
	c := must(p.Publish().Content(ctx))
	if c.Whois == nil || len(c.Whois.Credentials) != 2 {
		t.Fatalf("content %+v", c)
	}
	files := must(p.Publish().Files(ctx))
	if len(files) != 1 || !bytes.Equal(files[0].Body, ups[0].Body) {
		t.Fatalf("files %+v", files)
	}

	// The export carries it, and the import verifies it.
	var buf bytes.Buffer
	must(struct{}{}, p.Export(ctx, &buf, "harbour lights at eleven", nil))
	q := must(core.Open(ctx, mem.New(), testOpts))
	if _, _, err := q.Import(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "harbour lights at eleven", "another local passphrase", nil); err != nil {
		t.Fatal(err)
	}
	if c := must(q.Publish().Content(ctx)); c.Whois == nil || len(c.Whois.Credentials) != 2 {
		t.Fatalf("content after import: %+v", c)
	}

	// None: it comes down.
	ups = must(p.SaveWhois(ctx, nil))
	if len(ups) != 1 || ups[0].Path != page.WhoisPath || ups[0].Body != nil {
		t.Fatalf("uploads %+v", ups)
	}
	if c := must(p.Publish().Content(ctx)); c.Whois != nil {
		t.Fatalf("still shown: %+v", c.Whois)
	}
}
