package webvhhost

import (
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"planet/core/did/webvh"
	"planet/core/page"
	"planet/serve/pagesite"
)

// The page renderer reads the store through its own Reader interface.
var _ pagesite.Reader = (*Host)(nil)

// pageSigner signs page documents with a test key.
type pageSigner struct{ k key }

func (s pageSigner) Sign(msg []byte) []byte { return ed25519.Sign(s.k.priv, msg) }

// wired routes as serve does: the pages' assets and GET/HEAD of a name's paths to the
// page renderer (which hands the raw files to the host), the other methods to the host.
func wired(host *Host) http.Handler {
	pages := pagesite.New(host, pagesite.Options{Files: host})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		_, isName := NamePath(p)
		switch {
		case strings.HasPrefix(p, pagesite.AssetsPrefix):
			pages.ServeHTTP(w, r)
		case isName && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			pages.ServeHTTP(w, r)
		case isName:
			host.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// TestWithThePageRenderer publishes a DID and a signed profile through the host and reads the
// public page the renderer makes of them, as serve wires the two.
func TestWithThePageRenderer(t *testing.T) {
	s := startServer(t, Config{})
	k := newKey("k")
	d := s.create("ada", k, webvh.CreateOptions{})
	srv := httptest.NewServer(wired(s.host))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, body []byte, auth string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(string(body)))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := do("PUT", "/ada/did.jsonl", d.bytes(), ""); resp.StatusCode != 201 {
		t.Fatalf("publish: %s", resp.Status)
	}
	w, _ := webvh.ParseDID(d.did())
	now := time.Now()
	profile, err := page.SignProfile(&page.Profile{Name: "Ada Lovelace", Summary: "Notes on the engine", Updated: now.Add(-time.Minute)}, pageSigner{k}, w, "#key-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if resp := do("PUT", "/ada/profile.json", profile, Sign(k.priv, "PUT", d.did(), "/ada/profile.json", profile, now)); resp.StatusCode != 201 {
		t.Fatalf("profile: %s", resp.Status)
	}
	if resp := do("OPTIONS", "/ada/profile.json", nil, ""); resp.StatusCode != 204 {
		t.Errorf("preflight through the router: %s", resp.Status)
	}
	resp := do("GET", "/ada/did.jsonl", nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaLog {
		t.Errorf("the log through the renderer: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	resp = do("GET", "/ada/", nil, "")
	html, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(html), "Ada Lovelace") {
		t.Errorf("the page: %s %v\n%s", resp.Status, err, html)
	}
}
