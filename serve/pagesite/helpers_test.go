package pagesite

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"planet/core/page"
	"planet/core/page/pagetest"
)

// memReader is the hosting side in memory: name → path → bytes.
type memReader struct {
	mu    sync.Mutex
	files map[string]map[string][]byte
}

var _ Reader = (*memReader)(nil)

func newMem() *memReader { return &memReader{files: map[string]map[string][]byte{}} }

func (m *memReader) put(name, path string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files[name] == nil {
		m.files[name] = map[string][]byte{}
	}
	m.files[name][path] = data
}

func (m *memReader) File(name, path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.files[name][path]
	if !ok {
		return nil, fmt.Errorf("%s/%s: %w", name, path, fs.ErrNotExist)
	}
	return data, nil
}
func (m *memReader) Log(name string) ([]byte, error)     { return m.File(name, "did.jsonl") }
func (m *memReader) Witness(name string) ([]byte, error) { return m.File(name, "did-witness.json") }

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// published is a person whose page the reader holds.
type published struct {
	*pagetest.Person
	name string
	mem  *memReader
}

// publish creates name's DID and publishes a profile and the posts,
// signed by the content key, as the person's PLANET would.
func publish(t *testing.T, mem *memReader, name string, posts ...*page.Post) *published {
	t.Helper()
	p := &published{pagetest.New(t, "example.com", name, t0), name, mem}
	mem.put(name, "did.jsonl", p.LogBytes(t))
	p.sign(t, &page.Profile{Name: "Ada Lovelace", Summary: "Writes about engines.",
		Links:         []page.Link{{Title: "Code", URL: "https://code.example/ada"}},
		Relationships: []page.Relationship{{Name: "Charles Babbage", DID: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Since: t0}},
		Picture:       "avatar.jpg", Updated: t0.Add(time.Minute)})
	p.posts(t, posts...)
	return p
}

func (p *published) sign(t *testing.T, prof *page.Profile) {
	t.Helper()
	data, err := page.SignProfile(prof, p.ContentKey, p.DID, p.KeyID, p.Time.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p.mem.put(p.name, page.ProfilePath, data)
}

func (p *published) posts(t *testing.T, posts ...*page.Post) {
	t.Helper()
	x := &page.Index{Updated: p.Time.Add(time.Minute)}
	for _, po := range posts {
		data, err := page.SignPost(po, p.ContentKey, p.DID, p.KeyID, p.Time.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		p.mem.put(p.name, page.PostPath(po.Slug), data)
		x.Posts = append(x.Posts, page.IndexEntry{Slug: po.Slug, Title: po.Title, Summary: po.Summary, Published: po.Published, Updated: po.Updated})
	}
	data, err := page.SignIndex(x, p.ContentKey, p.DID, p.KeyID, p.Time.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p.mem.put(p.name, page.IndexPath, data)
}

func newPost(slug, title, body string, published time.Time) *page.Post {
	return &page.Post{Slug: slug, Title: title, Body: body, Summary: "About " + slug + ".", Published: published, Updated: published}
}

// get requests path from h and returns the response and its body.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	return res, rec.Body.String()
}

func handler(mem *memReader) *Handler {
	return New(mem, Options{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
}

func contains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
