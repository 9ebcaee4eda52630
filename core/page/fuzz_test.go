package page

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planet/core/did/webvh"
	"planet/core/internal/eddsajcs"
	"planet/core/page/pagetest"
)

var update = flag.Bool("update", false, "rewrite testdata/valid-*.json")

var fuzzTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fuzzDID is the DID the testdata documents are signed for: a real log,
// the same on every run (the keys come from fixed seeds).
func fuzzDID(t testing.TB) (*pagetest.Person, *webvh.Resolution) {
	p := pagetest.New(t, "example.com", "ada", fuzzTime)
	return p, p.Resolve(t, fuzzTime.Add(time.Hour))
}

// TestTestdata checks that testdata/valid-*.json verify and every
// testdata/invalid-*.json fails; with -update it writes the valid ones.
func TestTestdata(t *testing.T) {
	p, res := fuzzDID(t)
	at := fuzzTime.Add(time.Minute)
	if *update {
		prof, err := SignProfile(&Profile{Name: "Ada <b>Lovelace</b>", Summary: "Engines & numbers.",
			Links:         []Link{{Title: "Notes", URL: "https://notes.example/ada?x=1&y=2"}},
			Relationships: []Relationship{{Name: "Charles", DID: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Since: fuzzTime}},
			Picture:       "avatar.jpg", Updated: at}, p.ContentKey, p.DID, p.KeyID, at)
		must(t, err)
		post, err := SignPost(&Post{Slug: "hello", Title: "Hello <script>", Summary: "First.", Body: "One.\n\nTwo https://example.org/a?b=c.\n",
			Published: fuzzTime, Updated: at}, p.ContentKey, p.DID, p.KeyID, at)
		must(t, err)
		idx, err := SignIndex(&Index{Updated: at, Posts: []IndexEntry{{Slug: "hello", Title: "Hello <script>", Summary: "First.", Published: fuzzTime, Updated: at}}},
			p.ContentKey, p.DID, p.KeyID, at)
		must(t, err)
		for name, data := range map[string][]byte{"valid-profile.json": prof, "valid-post.json": post, "valid-index.json": idx} {
			must(t, os.WriteFile(filepath.Join("testdata", name), append(data, '\n'), 0o644))
		}
	}
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 3 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		must(t, err)
		_, err = Verify(bytes.TrimSuffix(data, []byte("\n")), res)
		switch base := filepath.Base(f); {
		case strings.HasPrefix(base, "valid-") && err != nil:
			t.Errorf("%s: %v", base, err)
		case strings.HasPrefix(base, "invalid-") && err == nil:
			t.Errorf("%s verifies", base)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzVerify feeds Verify any bytes against a real resolution. It must not
// panic, and what verifies must be one canonical reading: the decoded
// document, written back with its header and proof, is the canonical form
// of the input.
func FuzzVerify(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.TrimSuffix(data, []byte("\n")))
	}
	_, res := fuzzDID(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Verify(data, res)
		if err != nil {
			return
		}
		m, err := jcsDecode(data)
		must(t, err)
		var doc map[string]any
		switch {
		case v.Profile != nil:
			doc = v.Profile.members()
		case v.Post != nil:
			doc = v.Post.members()
		default:
			doc = v.Index.members()
		}
		for _, k := range commonMembers {
			doc[k] = m[k]
		}
		got, err := eddsajcs.Canonical(doc)
		must(t, err)
		want, err := eddsajcs.Canonical(m)
		must(t, err)
		if !bytes.Equal(got, want) {
			t.Fatalf("verified document reads back differently:\n got %s\nwant %s", got, want)
		}
	})
}
