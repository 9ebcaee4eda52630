package webvh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"planet/core/did"
)

// httpsGetter is a Getter over net/http, as the server's would be, except
// that every host is dialled at the loopback test server: httptest's
// certificate is valid for example.com, so the fetch is real HTTPS to the
// URL the driver built, never to the network.
type httpsGetter struct {
	client *http.Client
	count  atomic.Int32
}

func newHTTPSGetter(srv *httptest.Server) *httpsGetter {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &httpsGetter{client: &http.Client{
		Transport:     tr,
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (g *httpsGetter) Get(ctx context.Context, url string, limit int64) ([]byte, error) {
	g.count.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: %s", did.ErrNotFound, url)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, url)
	}
	return data, nil
}

// files is a web server's directory: path to content.
type files struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (f *files) put(path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[path] = data
}

func (f *files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	data, ok := f.m[r.URL.EscapedPath()]
	f.mu.Unlock()
	if r.Host != "example.com" || !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

func TestDriver(t *testing.T) {
	fs := &files{m: map[string][]byte{}}
	srv := httptest.NewTLSServer(fs)
	defer srv.Close()
	getter := newHTTPSGetter(srv)
	now := time.Now().UTC().Truncate(time.Second)
	driver := &Driver{Getter: getter, Now: func() time.Time { return now }}
	resolver := did.Methods{did.MethodWebVH: driver, did.MethodKey: did.KeyMethod}

	k, w1 := newSigner("k"), newSigner("w1")
	log, err := Create(CreateOptions{
		Host: "example.com", Path: []string{"alice"}, Time: now.Add(-time.Hour), Document: document(k),
		Witness: Witness{Threshold: 1, Witnesses: []string{"did:key:" + w1.multikey()}},
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	log, err = log.Update(UpdateOptions{Time: now.Add(-time.Minute)}, k, now)
	if err != nil {
		t.Fatal(err)
	}
	d := current(t, log)
	data, _ := log.MarshalJSONL()
	fs.put("/alice/did.jsonl", data)
	ctx := context.Background()

	// The witness file is missing: the threshold is not met.
	if _, err := resolver.Resolve(ctx, d.DID()); !errors.Is(err, ErrWitness) {
		t.Fatalf("no witness file: %v", err)
	}
	proof, _ := SignWitness(log[1].VersionID, w1, now)
	wfData, _ := json.Marshal(WitnessFile(nil).Add(log[1].VersionID, proof))
	fs.put("/alice/did-witness.json", wfData)
	doc, err := resolver.Resolve(ctx, d.DID())
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != d.String() || len(doc.VerificationMethod) != 1 {
		t.Errorf("document %+v", doc)
	}
	if _, err := doc.Ed25519Key("#key-1", doc.AssertionMethod); err != nil {
		t.Errorf("the document's key: %v", err)
	}

	res, file, err := driver.ResolveURL(ctx, d.String()+"/posts/first.html?versionNumber=1")
	if err != nil || res.Metadata.VersionNumber != 1 || file != "https://example.com/alice/posts/first.html" {
		t.Errorf("ResolveURL = %+v, %q, %v", res, file, err)
	}
	before := getter.count.Load()
	if _, _, err := driver.ResolveURL(ctx, d.String()+"/%2e%2e/secret"); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("traversal: %v", err)
	}
	if getter.count.Load() != before {
		t.Error("a hostile DID URL was fetched")
	}

	if _, err := resolver.Resolve(ctx, mustParse(t, "did:webvh:"+d.SCID()+":example.com:bob").DID()); !errors.Is(err, did.ErrNotFound) {
		t.Errorf("no log: %v", err)
	}
	small := &Driver{Getter: getter, MaxLogSize: 100, Now: driver.Now}
	if _, err := small.Resolve(ctx, d.DID()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the size limit: %v", err)
	}
	fs.put("/alice/did.jsonl", []byte(strings.Replace(string(data), `"versionId"`, `"versionID"`, 1)))
	if _, err := resolver.Resolve(ctx, d.DID()); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed log: %v", err)
	}
}

// urlGetter records the URLs it is asked for and serves one log for all.
type urlGetter struct {
	log  []byte
	urls []string
}

func (g *urlGetter) Get(_ context.Context, url string, _ int64) ([]byte, error) {
	g.urls = append(g.urls, url)
	return g.log, nil
}

// TestDriverPlainHTTPHosts checks that the plain-HTTP option is off by
// default and, when on, applies to the hosts it names only.
func TestDriverPlainHTTPHosts(t *testing.T) {
	k := newSigner("k")
	local, err := Create(CreateOptions{Host: "planet.localhost", Port: 8080, Path: []string{"alice"}, Time: t0}, k)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := Create(CreateOptions{Host: "example.com", Path: []string{"bob"}, Time: t0}, k)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		hosts []string
		log   Log
		want  string
	}{
		{nil, local, "https://planet.localhost:8080/alice/did.jsonl"},
		{[]string{"planet.localhost"}, local, "http://planet.localhost:8080/alice/did.jsonl"},
		{[]string{"planet.localhost"}, remote, "https://example.com/bob/did.jsonl"},
	} {
		data, _ := tc.log.MarshalJSONL()
		g := &urlGetter{log: data}
		driver := &Driver{Getter: g, PlainHTTPHosts: tc.hosts}
		if _, err := driver.Resolve(ctx, current(t, tc.log).DID()); err != nil {
			t.Fatal(err)
		}
		if len(g.urls) != 1 || g.urls[0] != tc.want {
			t.Errorf("hosts %v: fetched %v, want %s", tc.hosts, g.urls, tc.want)
		}
	}
}
