package pagesite

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"planet/core/page"
)

// linkSite is a loopback web site whose one page links to target with
// rel="me" (or not), counting the requests it answers.
type linkSite struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newLinkSite(t *testing.T, body string) *linkSite {
	t.Helper()
	s := &linkSite{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// port is the loopback port the site listens on.
func (s *linkSite) port() string {
	_, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	return port
}

func TestRelMeBothWays(t *testing.T) {
	back := newLinkSite(t, `<html><body><a rel="me noopener" href="https://example.com/ada/">Ada's page</a></body></html>`)
	noBack := newLinkSite(t, `<html><body><a href="https://example.com/ada/">Ada's page</a> <a rel="me" href="https://example.com/bob/">Bob</a></body></html>`)
	direct := newLinkSite(t, `<html><body><a rel="me" href="https://example.com/ada/">Ada</a></body></html>`)

	mem := newMem()
	p := publish(t, mem, "ada")
	backURL := "http://back.localhost:" + back.port() + "/"
	noBackURL := "http://noback.localhost:" + noBack.port() + "/"
	directURL := "http://127.0.0.1:" + direct.port() + "/"           // loopback by address: never fetched
	unlisted := "http://elsewhere.localhost:" + direct.port() + "/x" // a localhost name not listed: never fetched
	p.sign(t, &page.Profile{Name: "Ada Lovelace", Links: []page.Link{
		{Title: "Back", URL: backURL}, {Title: "No back", URL: noBackURL}, {Title: "Direct", URL: directURL}, {Title: "Unlisted", URL: unlisted},
	}, Updated: t0.Add(time.Minute)})

	clock := t0.Add(24 * time.Hour)
	relme := NewRelMe(RelMeOptions{Localhost: []string{"back.localhost", "noback.localhost"}, Now: func() time.Time { return clock }})
	h := New(mem, Options{Now: func() time.Time { return clock }, RelMe: relme})

	_, body := get(t, h, "/ada/")
	doc := parse(t, body)
	verified := map[string]bool{}
	for _, li := range find(doc, tag("li")) {
		if as := find(li, withClass("u-url")); len(as) == 1 {
			verified[attr(as[0], "href")] = strings.Contains(text(li), "verified both ways")
		}
	}
	want := map[string]bool{backURL: true, noBackURL: false, directURL: false, unlisted: false}
	for u, v := range want {
		if verified[u] != v {
			t.Errorf("%s verified both ways: %v, want %v (page: %v)", u, verified[u], v, verified)
		}
	}
	if direct.hits.Load() != 0 {
		t.Errorf("a loopback address or unlisted localhost name was fetched %d times", direct.hits.Load())
	}
	if back.hits.Load() != 1 || noBack.hits.Load() != 1 {
		t.Fatalf("hits: back %d, no back %d", back.hits.Load(), noBack.hits.Load())
	}

	// Remembered: a second reading fetches nothing; after the TTL it
	// asks again.
	get(t, h, "/ada/")
	if back.hits.Load() != 1 {
		t.Errorf("read again within the TTL: %d fetches", back.hits.Load())
	}
	clock = clock.Add(RelMeTTL + time.Second)
	get(t, h, "/ada/")
	if back.hits.Load() != 2 || noBack.hits.Load() != 2 {
		t.Errorf("after the TTL: back %d, no back %d fetches", back.hits.Load(), noBack.hits.Load())
	}
}

// A linked page that is too slow, too large or not HTML verifies
// nothing, and the page is still rendered within the bound.
func TestRelMeBounded(t *testing.T) {
	huge := newLinkSite(t, strings.Repeat("<p>padding</p>", RelMeMaxBytes/14+10)+`<a rel="me" href="https://example.com/ada/">late</a>`)
	text := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, `<a rel="me" href="https://example.com/ada/">`)
	}))
	defer text.Close()
	_, textPort, _ := net.SplitHostPort(text.Listener.Addr().String())
	relme := NewRelMe(RelMeOptions{Localhost: []string{"huge.localhost", "text.localhost"}})
	got := relme.Check(t.Context(), []string{
		"http://huge.localhost:" + huge.port() + "/", "http://text.localhost:" + textPort + "/", "ftp://example.com/", "https://10.0.0.1:1/",
	}, []string{"https://example.com/ada/"})
	for u, ok := range got {
		if ok {
			t.Errorf("%s verified", u)
		}
	}
	if len(got) != 4 {
		t.Errorf("answers: %v", got)
	}
}

func TestSameProfile(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"https://example.com/ada/", "https://example.com/ada/", true},
		{"https://EXAMPLE.com/ada", "https://example.com/ada/", true},
		{"http://example.com/ada/", "https://example.com/ada/", true},
		{"https://example.com/ada/?x=1#me", "https://example.com/ada/", true},
		{"https://example.com/adam/", "https://example.com/ada/", false},
		{"https://example.org/ada/", "https://example.com/ada/", false},
		{"javascript://example.com/ada/", "https://example.com/ada/", false},
		{"/ada/", "https://example.com/ada/", false},
	} {
		if got := SameProfile(c.a, c.b); got != c.same {
			t.Errorf("SameProfile(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestRelMeLinks(t *testing.T) {
	base, _ := url.Parse("https://ada.example/about")
	for name, want := range map[string][]string{
		"relme-back.html": {"https://example.com/ada", "https://ada.example/relative"},
		"relme-none.html": {"https://base.example/dir/page"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := RelMeLinks(bytes.NewReader(data), base); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// FuzzRelMeLinks reads any bytes as a page: no panic, and every target
// is an absolute http(s) URL.
func FuzzRelMeLinks(f *testing.F) {
	files, _ := filepath.Glob("testdata/relme-*.html")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base, _ := url.Parse("https://ada.example/about")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range RelMeLinks(bytes.NewReader(data), base) {
			u, err := url.Parse(l)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("target %q", l)
			}
		}
	})
}
