package webvhhost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/did/webvh"
	"planet/serve/resolver"
)

// resolutionResult is the resolver endpoint's answer as a client reads it.
type resolutionResult struct {
	DIDDocument      map[string]any    `json:"didDocument"`
	ResolutionMeta   map[string]string `json:"didResolutionMetadata"`
	DocumentMetadata map[string]any    `json:"didDocumentMetadata"`
}

// resolve asks the resolver endpoint at base for didURL (a DID and a query).
func resolve(t *testing.T, base, didURL string) (int, resolutionResult) {
	t.Helper()
	d, query, _ := strings.Cut(didURL, "?")
	u := base + resolver.Prefix + url.PathEscape(d)
	if query != "" {
		u += "?" + query
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r resolutionResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

func TestResolver(t *testing.T) {
	a, b := startServer(t, Config{}), startServer(t, Config{})
	k := newKey("k")
	alice := a.create("alice", k, webvh.CreateOptions{})
	alice2 := alice.update(webvh.UpdateOptions{}, k)
	resp, body := a.do("PUT", "/alice/did.jsonl", alice2.bytes())
	want(t, "alice", resp, body, 201, "")
	bob := b.create("bob", k, webvh.CreateOptions{})
	resp, body = b.do("PUT", "/bob/did.jsonl", bob.bytes())
	want(t, "bob", resp, body, 201, "")

	rv := a.host.Resolver(ResolverOptions{})
	endpoint := httptest.NewServer(resolver.NewWithWebVH(rv))
	defer endpoint.Close()

	// This server's DID, from the store: no request to itself.
	before := a.count.Load()
	status, r := resolve(t, endpoint.URL, alice.did())
	if status != 200 || r.DIDDocument["id"] != alice.did() || r.DocumentMetadata["versionNumber"] != 2.0 ||
		r.DocumentMetadata["scid"] == "" || r.DocumentMetadata["deactivated"] != false {
		t.Fatalf("alice: %d %+v", status, r)
	}
	status, r = resolve(t, endpoint.URL, alice.did()+"?versionNumber=1")
	if status != 200 || r.DocumentMetadata["versionNumber"] != 1.0 || r.DocumentMetadata["versionId"] != alice.log[0].VersionID {
		t.Fatalf("alice version 1: %d %+v", status, r)
	}
	status, r = resolve(t, endpoint.URL, alice.did()+"?versionNumber=3")
	if status != 404 || r.ResolutionMeta["error"] != "notFound" {
		t.Errorf("alice version 3: %d %+v", status, r)
	}
	status, r = resolve(t, endpoint.URL, alice.did()+"?color=blue")
	if status != 400 || r.ResolutionMeta["error"] != "invalidDid" {
		t.Errorf("an unknown query: %d %+v", status, r)
	}
	if a.count.Load() != before {
		t.Errorf("resolving its own DID, the server made %d requests to itself", a.count.Load()-before)
	}
	for _, free := range []string{":nobody", ":a:b", ":Didcomm"} {
		status, r = resolve(t, endpoint.URL, strings.Replace(alice.did(), ":alice", free, 1))
		if status != 404 || r.ResolutionMeta["error"] != "notFound" {
			t.Errorf("%s on this server: %d %+v", free, status, r)
		}
	}
	if a.count.Load() != before {
		t.Errorf("resolving DIDs of its own, the server made %d requests to itself", a.count.Load()-before)
	}

	// Another server's DID, over loopback HTTP (the localhost option), then from the cache.
	before = b.count.Load()
	status, r = resolve(t, endpoint.URL, bob.did())
	if status != 200 || r.DIDDocument["id"] != bob.did() {
		t.Fatalf("bob: %d %+v", status, r)
	}
	if b.count.Load() != before+1 {
		t.Errorf("bob's server served %d requests, want 1", b.count.Load()-before)
	}
	if status, _ = resolve(t, endpoint.URL, bob.did()); status != 200 || b.count.Load() != before+1 {
		t.Errorf("bob again: %d, %d requests: the cache did not answer", status, b.count.Load()-before)
	}
	status, r = resolve(t, endpoint.URL, strings.Replace(bob.did(), ":bob", ":nobody", 1))
	if status != 404 || r.ResolutionMeta["error"] != "notFound" {
		t.Errorf("a free name on the other server: %d %+v", status, r)
	}
	// The other server keeps the DIDs working through the did.Resolver interface too.
	d, _ := did.Parse(bob.did())
	if doc, err := rv.Resolve(context.Background(), d); err != nil || doc.ID != bob.did() {
		t.Errorf("did.Resolver: %v, %v", doc, err)
	}

	// A deactivated DID has no document; the metadata says why.
	gone, err := alice2.log.Deactivate(time.Now().Add(-time.Minute).UTC().Truncate(time.Second), k, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, body = a.do("PUT", "/alice/did.jsonl", (&didLog{t: t, log: gone}).bytes())
	want(t, "deactivation", resp, body, 200, "")
	status, r = resolve(t, endpoint.URL, alice.did())
	if status != 410 || r.DIDDocument != nil || r.DocumentMetadata["deactivated"] != true {
		t.Errorf("deactivated: %d %+v", status, r)
	}

	// A log that does not verify is the log's fault, and the message says which check.
	forged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Replace(string(bob.bytes()), `"proofValue":"z`, `"proofValue":"z1`, 1)))
	})
	b.override.Store(&forged)
	rv.cache.forget()
	status, r = resolve(t, endpoint.URL, bob.did())
	if status != 502 || r.ResolutionMeta["error"] != "invalidDidLog" || !strings.Contains(r.ResolutionMeta["errorMessage"], "proof") {
		t.Errorf("a forged remote log: %d %+v", status, r)
	}
}

func TestResolverCacheBound(t *testing.T) {
	a, b := startServer(t, Config{}), startServer(t, Config{})
	rv := a.host.Resolver(ResolverOptions{CacheSize: 2})
	k := newKey("k")
	for _, name := range []string{"one", "two", "three", "four"} {
		d := b.create(name, k, webvh.CreateOptions{})
		resp, body := b.do("PUT", "/"+name+"/did.jsonl", d.bytes())
		want(t, name, resp, body, 201, "")
		w, _ := webvh.ParseDID(d.did())
		if _, err := rv.ResolveWebVH(context.Background(), w, webvh.Query{}); err != nil {
			t.Fatal(err)
		}
		if n := rv.cache.len(); n > 2 {
			t.Fatalf("the cache holds %d URLs, more than its 2", n)
		}
	}
}

func TestResolverSlowRemote(t *testing.T) {
	a, b := startServer(t, Config{}), startServer(t, Config{})
	k := newKey("k")
	d := b.create("slow", k, webvh.CreateOptions{})
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	b.override.Store(&slow)
	defer close(release)
	rv := a.host.Resolver(ResolverOptions{Timeout: 300 * time.Millisecond})
	w, _ := webvh.ParseDID(d.did())
	start := time.Now()
	_, err := rv.ResolveWebVH(context.Background(), w, webvh.Query{})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("a slow server: %v after %s", err, time.Since(start))
	}
	if rv.cache.len() != 0 {
		t.Error("a timeout was cached")
	}
}

func TestResolverRefusesLoopbackWithoutTheOption(t *testing.T) {
	b := startServer(t, Config{})
	d := b.create("bob", newKey("k"), webvh.CreateOptions{})
	resp, body := b.do("PUT", "/bob/did.jsonl", d.bytes())
	want(t, "bob", resp, body, 201, "")
	h, err := Open(t.TempDir(), Config{PublicURL: "https://pages.example/"})
	if err != nil {
		t.Fatal(err)
	}
	before := b.count.Load()
	w, _ := webvh.ParseDID(d.did())
	if _, err := h.Resolver(ResolverOptions{}).ResolveWebVH(context.Background(), w, webvh.Query{}); err == nil {
		t.Error("a server on the Internet resolved a DID on loopback")
	}
	// Even told to, a server never fetches a name outside localhost in plain HTTP.
	rv := h.Resolver(ResolverOptions{PlainHTTPHosts: []string{"example.com"}})
	if slices := rv.driver.PlainHTTPHosts; len(slices) != 0 {
		t.Errorf("plain HTTP for %v", slices)
	}
	if b.count.Load() != before {
		t.Error("the loopback server was reached")
	}
	for addr, ok := range map[string]bool{
		"127.0.0.1:443": false, "10.1.2.3:443": false, "192.168.0.1:443": false, "169.254.169.254:80": false,
		"[::1]:443": false, "[fe80::1]:443": false, "0.0.0.0:443": false, "93.184.216.34:443": true, "[2606:4700::1]:443": true,
	} {
		if err := refuseNonPublic("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("refuseNonPublic(%s) = %v", addr, err)
		}
	}
}

// TestResolverDocumentOnly checks the document-only representation of a did:webvh DID: the
// document with its implicit services, alsoKnownAs and all, as the log has it.
func TestResolverDocumentOnly(t *testing.T) {
	a := startServer(t, Config{})
	k := newKey("k")
	d := a.create("alice", k, webvh.CreateOptions{})
	resp, body := a.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "alice", resp, body, 201, "")
	endpoint := httptest.NewServer(resolver.NewWithWebVH(a.host.Resolver(ResolverOptions{})))
	defer endpoint.Close()
	req, _ := http.NewRequest("GET", endpoint.URL+resolver.Prefix+url.PathEscape(d.did()), nil)
	req.Header.Set("Accept", "application/did+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	services, _ := doc["service"].([]any)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/did+json" || doc["id"] != d.did() || len(services) != 2 {
		t.Errorf("document: %s %s %v", res.Status, res.Header.Get("Content-Type"), doc)
	}
}
