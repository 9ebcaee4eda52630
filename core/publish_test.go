//go:build !js

package core_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/did/webvh"
	"planet/core/page"
	"planet/core/publish"
	"planet/vault/mem"
)

// logResolver resolves did:webvh from logs in hand, as a resolver that
// fetched them would, and everything else locally.
type logResolver map[did.DID]*core.Planet

func (r logResolver) Resolve(ctx context.Context, d did.DID) (*did.Document, error) {
	p, ok := r[d]
	if !ok {
		return did.Local.Resolve(ctx, d)
	}
	page, err := p.Publish().Get(ctx)
	if err != nil {
		return nil, err
	}
	wd, err := webvh.FromDID(d)
	if err != nil {
		return nil, err
	}
	res, err := webvh.Resolve(wd, page.Log, nil, webvh.Query{}, clockNow())
	if err != nil {
		return nil, err
	}
	return res.Doc()
}

var clockNow = newTestClock().Now

// didcommURI is the uri of doc's DIDCommMessaging service.
func didcommURI(doc *did.Document) any {
	for _, s := range doc.Service {
		if s.Type == "DIDCommMessaging" {
			return s.ServiceEndpoint.(map[string]any)["uri"]
		}
	}
	return nil
}

// TestPublishedDID: the person makes a did:webvh whose document holds their
// keys and mediator, rotates its update key under pre-rotation, and the
// document follows a new mediator; someone who resolves it writes to the
// person by it, and the person reads what they wrote.
func TestPublishedDID(t *testing.T) {
	med, med2 := mediatorDID(t), mediatorDID(t)
	clock := newTestClock()
	clockNow = clock.Now
	alice, _ := fpnPersonAt(t, med, clock)
	if _, err := alice.Publish().Get(ctx); !errors.Is(err, publish.ErrNone) {
		t.Fatalf("before: %v", err)
	}
	pg, err := alice.Publish().Create(ctx, publish.Location{Host: "planet.localhost", Port: 8080, Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	wd := must(webvh.FromDID(pg.DID))
	if loc := wd.Location(); loc.Host != "planet.localhost" || wd.LogURL() != "https://planet.localhost:8080/alice/did.jsonl" {
		t.Fatalf("the DID %s is at %+v, %s", pg.DID, loc, wd.LogURL())
	}
	if _, err := alice.Publish().Create(ctx, publish.Location{Host: "planet.localhost", Name: "again"}); !errors.Is(err, publish.ErrExists) {
		t.Errorf("a second DID: %v", err)
	}
	doc := must(alice.Publish().Document(ctx, pg.DID))
	if uri := didcommURI(doc); uri != med.String() {
		t.Fatalf("the document's DIDComm service names %q: %+v", uri, doc.Service)
	}
	id := must(alice.Identity())
	if k, err := doc.Ed25519Key("#key-1", doc.AssertionMethod); err != nil || !k.Equal(id.PublicKey()) {
		t.Fatalf("#key-1 is not the identity's key: %v", err)
	}

	// Rotation: key 1, committed to, signs; the log still verifies.
	rotated := must(alice.Publish().Rotate(ctx))
	if rotated.Key != 1 || len(rotated.Log) != 2 || rotated.DID != pg.DID {
		t.Fatalf("rotated: key %d, %d entries", rotated.Key, len(rotated.Log))
	}
	if _, err := webvh.Verify(rotated.Log, nil, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Nothing changed: no entry. A new mediator: an entry naming it.
	if same := must(alice.Publish().Refresh(ctx)); len(same.Log) != 2 {
		t.Fatalf("refresh without a change wrote %d entries", len(same.Log))
	}
	alice.SetMediator(med2)
	moved := must(alice.Publish().Refresh(ctx))
	if len(moved.Log) != 3 || moved.Key != 2 {
		t.Fatalf("after a new mediator: %d entries, key %d", len(moved.Log), moved.Key)
	}
	if uri := didcommURI(must(alice.Publish().Document(ctx, pg.DID))); uri != med2.String() {
		t.Fatalf("the service names %q, not the new mediator", uri)
	}

	// A profile and posts, signed by the identity's key, verify against the
	// log; editing keeps the slug and the first publication date.
	ups := must(alice.Publish().SaveProfile(ctx, page.Profile{Name: "Alice", Summary: "Gardener", Links: []page.Link{{Title: "Garden", URL: "https://garden.example/"}}}))
	if len(ups) != 1 || ups[0].Path != page.ProfilePath {
		t.Fatalf("profile uploads: %+v", ups)
	}
	post, ups, err := alice.Publish().SavePost(ctx, "", "First light: tomatoes!", "They are red.\n\nFinally.")
	if err != nil {
		t.Fatal(err)
	}
	if post.Slug != "first-light-tomatoes" || len(ups) != 2 || ups[1].Path != page.IndexPath {
		t.Fatalf("post %q, uploads %+v", post.Slug, ups)
	}
	edited, _, err := alice.Publish().SavePost(ctx, post.Slug, "First light: tomatoes!", "They are red. Edited.")
	if err != nil || edited.Slug != post.Slug || !edited.Published.Equal(post.Published) || !edited.Updated.After(post.Updated) {
		t.Fatalf("edited %+v %v", edited, err)
	}
	second, _ := must2(alice.Publish().SavePost(ctx, "", "First light: tomatoes!", "Again"))
	if second.Slug != "first-light-tomatoes-2" {
		t.Fatalf("a second post of the same title: slug %q", second.Slug)
	}
	if ups := must(alice.Publish().DeletePost(ctx, second.Slug)); len(ups) != 2 || ups[0].Body != nil {
		t.Fatalf("delete uploads: %+v", ups)
	}
	c := must(alice.Publish().Content(ctx))
	if c.Profile == nil || c.Profile.Name != "Alice" || len(c.Posts) != 1 || c.Posts[0].Body != "They are red. Edited." {
		t.Fatalf("content: %+v", c)
	}

	// An export carries it; the imported vault can update it.
	var buf bytes.Buffer
	must(struct{}{}, alice.Export(ctx, &buf, "harbour lights at eleven", nil))
	q := must(core.Open(ctx, mem.New(), core.Options{Vault: testOpts.Vault, Now: clock.Now}))
	if _, _, err := q.Import(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "harbour lights at eleven", "another local passphrase", nil); err != nil {
		t.Fatal(err)
	}
	if again := must(q.Publish().Rotate(ctx)); again.DID != pg.DID || again.Key != 3 {
		t.Fatalf("after import: %s key %d", again.DID, again.Key)
	}
	if c := must(q.Publish().Content(ctx)); c.Profile == nil || len(c.Posts) != 1 {
		t.Fatalf("content after import: %+v", c)
	}

	// Bob, resolving Alice's did:webvh, writes to it; Alice reads it.
	opts := testOpts
	opts.Now = clock.Now
	opts.Resolver = logResolver{pg.DID: alice}
	bob := must(core.Open(ctx, mem.New(), opts))
	must(bob.Create(ctx, pass))
	bob.SetMediator(med)
	_, packed, err := bob.WriteBasic(ctx, pg.DID, "Hello, Alice of the web")
	if err != nil {
		t.Fatal(err)
	}
	got, err := alice.ReceiveDIDComm(ctx, packed.Message, chat.ViaDIDComm)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != chat.BasicMessageType || got.From != must(bob.ShareDID()) {
		t.Fatalf("Alice got %+v", got)
	}
	reqs := must(alice.Chat().Requests(ctx))
	if len(reqs) != 1 || reqs[0].Messages[0].Text != "Hello, Alice of the web" || reqs[0].Messages[0].To != pg.DID {
		t.Fatalf("Alice's requests: %+v", reqs)
	}

	// And a relationship by it: Bob asks Alice's did:webvh; she accepts as
	// it (her proofs by its #key-1); Bob verifies them by resolving it.
	_, req, err := bob.RequestRelationship(ctx, pg.DID, "Bob, who read your page")
	if err != nil {
		t.Fatal(err)
	}
	in := must(alice.ReceiveDIDComm(ctx, req.Packed.Message, chat.ViaDIDComm))
	if in.Relationship == nil || in.Relationship.Relationship.Persona != pg.DID {
		t.Fatalf("Alice got %+v", in.Relationship)
	}
	_, acc := must2(alice.AcceptRelationship(ctx, in.Relationship.Relationship.ID))
	done := must(bob.ReceiveDIDComm(ctx, acc.Packed.Message, chat.ViaDIDComm))
	if done.Relationship == nil || done.Relationship.Kind != "established" || done.Relationship.Relationship.Peer != pg.DID {
		t.Fatalf("Bob after the accept: %+v", done.Relationship)
	}
}

// TestPublishPictureAndMove: a picture joins the profile (the old one
// goes); the DID moves to another server with every document signed again
// for its new name, and the log still verifies, naming the old DID.
func TestPublishPictureAndMove(t *testing.T) {
	clock := newTestClock()
	alice, _ := fpnPersonAt(t, mediatorDID(t), clock)
	first := must(alice.Publish().Create(ctx, publish.Location{Host: "old.localhost", Port: 8080, Name: "alice"}))
	must(alice.Publish().SaveProfile(ctx, page.Profile{Name: "Alice"}))
	must2(alice.Publish().SavePost(ctx, "", "Hello", "World"))
	if _, err := alice.Publish().SavePicture(ctx, []byte("GIF89a"), "image/gif"); err == nil {
		t.Error("a GIF was taken")
	}
	ups := must(alice.Publish().SavePicture(ctx, []byte("\xff\xd8\xff jpeg bytes"), "image/jpeg"))
	if len(ups) != 2 || !strings.HasSuffix(ups[0].Path, ".jpg") || ups[1].Path != page.ProfilePath {
		t.Fatalf("picture uploads: %+v", ups)
	}
	again := must(alice.Publish().SavePicture(ctx, []byte("\xff\xd8\xff other bytes"), "image/jpeg"))
	if len(again) != 3 || again[2].Path != ups[0].Path || again[2].Body != nil {
		t.Fatalf("a second picture should delete the first: %+v", again)
	}
	// A profile saved without a picture keeps the one there is.
	must(alice.Publish().SaveProfile(ctx, page.Profile{Name: "Alice L."}))
	if c := must(alice.Publish().Content(ctx)); c.Profile.Picture != again[0].Path {
		t.Fatalf("the picture after a profile edit: %q", c.Profile.Picture)
	}

	moved, files, err := alice.Publish().Move(ctx, publish.Location{Host: "new.localhost", Port: 9090})
	if err != nil {
		t.Fatal(err)
	}
	if moved.DID == first.DID || !strings.Contains(moved.DID.String(), ":new.localhost%3A9090:alice") || moved.Key != first.Key+1 {
		t.Fatalf("moved to %s, key %d", moved.DID, moved.Key)
	}
	versions := must(webvh.Verify(moved.Log, nil, clock.Now()))
	if aka, _ := versions[len(versions)-1].State["alsoKnownAs"].([]any); len(aka) == 0 || aka[0] != first.DID.String() {
		t.Fatalf("alsoKnownAs %v", versions[len(versions)-1].State["alsoKnownAs"])
	}
	if len(files) != 4 { // picture, profile, post, index
		t.Fatalf("%d files to upload after the move: %+v", len(files), files)
	}
	if c := must(alice.Publish().Content(ctx)); c.Profile == nil || len(c.Posts) != 1 {
		t.Fatalf("content after the move: %+v", c)
	}
}
