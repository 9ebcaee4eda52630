package page_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"planet/core/did/webvh"
	"planet/core/page"
	"planet/core/page/pagetest"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func profile() *page.Profile {
	return &page.Profile{
		Name: "Ada Lovelace", Summary: "Writes about engines.",
		Links:         []page.Link{{Title: "Code", URL: "https://code.example/ada"}},
		Relationships: []page.Relationship{{Name: "Charles", DID: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Since: t0}},
		Picture:       "avatar.jpg", Updated: t0,
	}
}

func post(slug string) *page.Post {
	return &page.Post{Slug: slug, Title: "On engines", Body: "First paragraph.\n\nSee https://example.org/x", Published: t0, Updated: t0}
}

func TestSignVerify(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	res := p.Resolve(t, t0.Add(time.Hour))
	at := t0.Add(time.Minute)

	data, err := page.SignProfile(profile(), p.ContentKey, p.DID, p.KeyID, at)
	if err != nil {
		t.Fatal(err)
	}
	v, err := page.Verify(data, res)
	if err != nil {
		t.Fatalf("verify profile: %v", err)
	}
	if v.Type != page.TypeProfile || v.Profile.Name != "Ada Lovelace" || v.Profile.Relationships[0].Since != t0 || v.Path != "profile.json" {
		t.Errorf("profile = %+v", v)
	}
	want := "signed by #key-1 of " + p.DID.String() + ", version 1, on 2026-03-01 10:01 UTC"
	if v.Words() != want {
		t.Errorf("Words() = %q, want %q", v.Words(), want)
	}

	data, err = page.SignPost(post("on-engines"), p.ContentKey, p.DID, p.KeyID, at)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = page.Verify(data, res); err != nil || v.Post.Body != post("").Body || v.Path != "posts/on-engines.json" {
		t.Fatalf("verify post: %+v, %v", v, err)
	}
	if !bytes.Contains(data, []byte(`"id":"`+p.DID.String()+`/posts/on-engines.json"`)) {
		t.Errorf("post id not the DID URL: %s", data)
	}

	x := &page.Index{Updated: at, Posts: []page.IndexEntry{{Slug: "on-engines", Title: "On engines", Published: t0, Updated: t0}}}
	data, err = page.SignIndex(x, p.ContentKey, p.DID, p.KeyID, at)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = page.Verify(data, res); err != nil || len(v.Index.Posts) != 1 {
		t.Fatalf("verify index: %+v, %v", v, err)
	}
}

func TestVerifyFails(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	other := pagetest.New(t, "example.com", "bob", t0)
	res := p.Resolve(t, t0.Add(time.Hour))
	at := t0.Add(time.Minute)
	good, err := page.SignPost(post("hello"), p.ContentKey, p.DID, p.KeyID, at)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(po *page.Post, key pagetest.Key, d webvh.DID, vm string) []byte {
		t.Helper()
		b, err := page.SignPost(po, key, d, vm, at)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		res  *webvh.Resolution
		want error
	}{
		{"changed body", bytes.Replace(good, []byte("First paragraph."), []byte("Forged paragraph."), 1), res, page.ErrBadProof},
		{"other person's post", sign(post("hello"), other.ContentKey, other.DID, "#key-1"), res, page.ErrWrongDID},
		{"verified against another did", good, other.Resolve(t, at), page.ErrWrongDID},
		{"key not in the document", sign(post("hello"), p.ContentKey, p.DID, "#key-2"), res, page.ErrNotAssertionKey},
		{"wrong key for #key-1", sign(post("hello"), other.ContentKey, p.DID, "#key-1"), res, page.ErrBadProof},
		{"moved to another path", bytes.Replace(good, []byte("/posts/hello.json"), []byte("/posts/other.json"), 1), res, page.ErrWrongDID},
		{"unknown type", bytes.Replace(good, []byte(`"PagePost"`), []byte(`"PageComment"`), 1), res, page.ErrUnknownType},
		{"unknown context", bytes.Replace(good, []byte(page.Context), []byte("urn:planet:page:v9"), 1), res, page.ErrUnknownType},
		{"extra member", bytes.Replace(good, []byte(`{"@context"`), []byte(`{"x":1,"@context"`), 1), res, page.ErrMalformed},
		{"duplicate member", bytes.Replace(good, []byte(`{"@context"`), []byte(`{"title":"x","@context"`), 1), res, page.ErrMalformed},
		{"oversize", append(good, bytes.Repeat([]byte(" "), page.MaxDocument)...), res, page.ErrTooLarge},
		{"not json", []byte("<html>"), res, page.ErrMalformed},
		{"proof purpose", bytes.Replace(good, []byte(`"assertionMethod"`), []byte(`"authentication"`), 1), res, page.ErrBadProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := page.Verify(tt.data, tt.res)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignRefusesBadContent(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	big := post("big")
	big.Body = strings.Repeat("a", page.MaxBody+1)
	js := profile()
	js.Links = []page.Link{{Title: "x", URL: "javascript:alert(1)"}}
	ctl := post("ctl")
	ctl.Title = "a\x1bb"
	bad := post("Bad_Slug")
	pic := profile()
	pic.Picture = "../secret.jpg"
	for name, sign := range map[string]func() ([]byte, error){
		"body over 64 KiB": func() ([]byte, error) { return page.SignPost(big, p.ContentKey, p.DID, "#key-1", t0) },
		"javascript link":  func() ([]byte, error) { return page.SignProfile(js, p.ContentKey, p.DID, "#key-1", t0) },
		"control in title": func() ([]byte, error) { return page.SignPost(ctl, p.ContentKey, p.DID, "#key-1", t0) },
		"bad slug":         func() ([]byte, error) { return page.SignPost(bad, p.ContentKey, p.DID, "#key-1", t0) },
		"picture path":     func() ([]byte, error) { return page.SignProfile(pic, p.ContentKey, p.DID, "#key-1", t0) },
		"index too long": func() ([]byte, error) {
			x := &page.Index{Updated: t0}
			for i := range page.MaxPosts + 1 {
				x.Posts = append(x.Posts, page.IndexEntry{Slug: "p" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + "-" + string(rune('a'+i/26)), Title: "t", Published: t0, Updated: t0})
			}
			return page.SignIndex(x, p.ContentKey, p.DID, "#key-1", t0)
		},
	} {
		if _, err := sign(); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if _, err := page.SignPost(big, p.ContentKey, p.DID, "#key-1", t0); !errors.Is(err, page.ErrTooLarge) {
		t.Errorf("body over 64 KiB: %v, want ErrTooLarge", err)
	}
}

// TestRotation: a post signed before the content key was rotated still
// verifies against the version in force then; the old key signs nothing
// new; the new key signs.
func TestRotation(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	oldKey := p.ContentKey
	before, err := page.SignPost(post("old"), oldKey, p.DID, "#key-1", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p.RotateContentKey(t, "key-2", t0.Add(time.Hour))
	now := t0.Add(2 * time.Hour)
	v, err := page.VerifyLog(before, p.DID, p.Log, nil, now)
	if err != nil || v.Version != 1 {
		t.Fatalf("old post: %+v, %v", v, err)
	}
	after, _ := page.SignPost(post("new"), p.ContentKey, p.DID, p.KeyID, now)
	if v, err = page.VerifyLog(after, p.DID, p.Log, nil, now); err != nil || v.Version != 2 || !strings.Contains(v.Words(), "#key-2") {
		t.Fatalf("new post: %+v, %v", v, err)
	}
	stale, _ := page.SignPost(post("stale"), oldKey, p.DID, "#key-1", now)
	if _, err := page.VerifyLog(stale, p.DID, p.Log, nil, now); !errors.Is(err, page.ErrNotAssertionKey) {
		t.Fatalf("old key after rotation: %v, want ErrNotAssertionKey", err)
	}
	early, _ := page.SignPost(post("early"), oldKey, p.DID, "#key-1", t0.Add(-time.Hour))
	if _, err := page.VerifyLog(early, p.DID, p.Log, nil, now); !errors.Is(err, page.ErrNotAssertionKey) {
		t.Fatalf("signed before the did: %v, want ErrNotAssertionKey", err)
	}
	future, _ := page.SignPost(post("future"), p.ContentKey, p.DID, p.KeyID, now.Add(time.Hour))
	if _, err := page.VerifyLog(future, p.DID, p.Log, nil, now); !errors.Is(err, page.ErrBadProof) {
		t.Fatalf("signed in the future: %v, want ErrBadProof", err)
	}
	p.Deactivate(t, now.Add(time.Minute))
	if _, err := page.VerifyLog(after, p.DID, p.Log, nil, now.Add(time.Hour)); !errors.Is(err, webvh.ErrDeactivated) {
		t.Fatalf("deactivated: %v, want webvh.ErrDeactivated", err)
	}
}
