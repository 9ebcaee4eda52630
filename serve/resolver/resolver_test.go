package resolver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"planet/core/did"
	"planet/serve/response"
	"planet/serve/servetest"
)

const (
	testDIDKey  = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	testDIDPeer = "did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9kaWRjb21tIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0xIl19fQ"
)

// result is a DID resolution result as a client reads it.
type result struct {
	Context          string            `json:"@context"`
	DIDDocument      *did.Document     `json:"didDocument"`
	ResolutionMeta   map[string]string `json:"didResolutionMetadata"`
	DocumentMetadata map[string]any    `json:"didDocumentMetadata"`
}

func decodeResult(t *testing.T, body []byte) result {
	t.Helper()
	var r result
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("resolution result %s: %v", body, err)
	}
	if r.Context != "https://w3id.org/did-resolution/v1" || r.DocumentMetadata == nil || len(r.DocumentMetadata) != 0 {
		t.Errorf("resolution result: @context %q, didDocumentMetadata %v", r.Context, r.DocumentMetadata)
	}
	return r
}

// wantDocument returns the JSON of the document core resolves did to.
func wantDocument(t *testing.T, s string) []byte {
	t.Helper()
	d, err := did.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.Resolve(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := http.Header{}
	response.SetSecurityHeaders(want)
	for k := range want {
		if got := h.Get(k); got != want.Get(k) {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want.Get(k))
		}
	}
}

func TestResolverRoundTrip(t *testing.T) {
	res := New()
	for _, did := range []string{testDIDKey, testDIDPeer} {
		w := servetest.Do(res, "GET", Prefix+did)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", did, w.Code, w.Body)
		}
		h := w.Header()
		if got := h.Get("Content-Type"); got != `application/ld+json;profile="https://w3id.org/did-resolution"` {
			t.Errorf("%s: Content-Type %q", did, got)
		}
		if h.Get("Cache-Control") != cacheResolved || h.Get("Vary") != "Accept" || h.Get("ETag") == "" {
			t.Errorf("%s: Cache-Control %q, Vary %q, ETag %q", did, h.Get("Cache-Control"), h.Get("Vary"), h.Get("ETag"))
		}
		if h.Get("Content-Length") != fmt.Sprint(w.Body.Len()) {
			t.Errorf("%s: Content-Length %q for %d bytes", did, h.Get("Content-Length"), w.Body.Len())
		}
		checkSecurityHeaders(t, did, h)
		r := decodeResult(t, w.Body.Bytes())
		if r.ResolutionMeta["contentType"] != "application/did+ld+json" || len(r.ResolutionMeta) != 1 {
			t.Errorf("%s: didResolutionMetadata %v", did, r.ResolutionMeta)
		}
		got, _ := json.Marshal(r.DIDDocument)
		if want := wantDocument(t, did); !bytes.Equal(got, want) {
			t.Errorf("%s: document\n got %s\nwant %s", did, got, want)
		}
		if r.DIDDocument.ID != did {
			t.Errorf("%s: document id %q", did, r.DIDDocument.ID)
		}
	}
	// The did:peer:2 service arrived whole.
	r := decodeResult(t, servetest.Do(res, "GET", Prefix+testDIDPeer).Body.Bytes())
	if s := r.DIDDocument.Service; len(s) != 1 || s[0].Type != "DIDCommMessaging" ||
		s[0].ServiceEndpoint.(map[string]any)["uri"] != "http://example.com/didcomm" {
		t.Errorf("did:peer:2 services: %#v", s)
	}
}

func TestResolverDocumentOnly(t *testing.T) {
	res := New()
	resultType := `application/ld+json;profile="https://w3id.org/did-resolution"`
	for _, tc := range []struct {
		accept string
		want   string // Content-Type
	}{
		{"application/did+ld+json", "application/did+ld+json"},
		{"application/did+json", "application/did+json"},
		{"application/did+ld+json;q=0.9, application/did+json", "application/did+json"},
		{"application/did+ld+json, */*;q=0.1", "application/did+ld+json"},
		{"text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", resultType},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, resultType},
		{`application/ld+json; profile="https://example.com/x https://w3id.org/did-resolution"`, resultType},
		{"application/ld+json", resultType},
		{"application/json", resultType},
		{"application/*", resultType},
		{"application/did+ld+json, application/ld+json", resultType},
		{"*/*, application/ld+json;q=0", "application/did+ld+json"},
		{"application/did+json;q=0, application/*", resultType},
		{"nonsense, application/did+ld+json;q=2, application/did+json;q=0.5", "application/did+json"},
	} {
		w := servetest.Do(res, "GET", Prefix+testDIDPeer, "Accept", tc.accept)
		if w.Code != 200 || w.Header().Get("Content-Type") != tc.want {
			t.Errorf("Accept %q: %d %q, want %q", tc.accept, w.Code, w.Header().Get("Content-Type"), tc.want)
			continue
		}
		if tc.want != resultType {
			if want := wantDocument(t, testDIDPeer); !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("Accept %q: body\n got %s\nwant %s", tc.accept, w.Body, want)
			}
		}
	}
	for _, accept := range []string{"text/html", `application/ld+json;profile="https://example.com/other"`, "application/did+ld+json;q=0"} {
		w := servetest.Do(res, "GET", Prefix+testDIDKey, "Accept", accept)
		if w.Code != http.StatusNotAcceptable {
			t.Errorf("Accept %q: %d, want 406", accept, w.Code)
			continue
		}
		r := decodeResult(t, w.Body.Bytes())
		if r.DIDDocument != nil || r.ResolutionMeta["error"] != "representationNotSupported" {
			t.Errorf("Accept %q: %s", accept, w.Body)
		}
	}
}

// notFoundResolver stands in for a method whose documents live somewhere
// that can lack them.
type notFoundResolver struct{}

func (notFoundResolver) Resolve(_ context.Context, d did.DID) (*did.Document, error) {
	if strings.HasPrefix(d.String(), "did:peer:3") {
		return nil, errors.New("the disk is on fire")
	}
	return nil, fmt.Errorf("%s: %w", d, did.ErrNotFound)
}

func TestResolverErrors(t *testing.T) {
	res := New()
	missing := &Resolver{dids: notFoundResolver{}}
	for _, tc := range []struct {
		res    *Resolver
		target string
		status int
		code   string
	}{
		{res, Prefix + "not-a-did", 400, "invalidDid"},
		{res, Prefix, 400, "invalidDid"},
		{res, Prefix + "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", 400, "invalidDid"},
		{res, Prefix + "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N", 400, "invalidDid"},
		{res, Prefix + "did:peer:2.Xz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc", 400, "invalidDid"},
		{res, Prefix + "did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.SaGVsbG8", 400, "invalidDid"},
		{res, Prefix + testDIDKey + "/path", 400, "invalidDid"},
		{res, Prefix + testDIDKey + "%23frag", 400, "invalidDid"},
		{res, Prefix + "did:key:" + strings.Repeat("z", 5000), 400, "invalidDid"},
		{res, Prefix + "did:web:example.com", 501, "methodNotSupported"},
		{res, Prefix + "did:example:123456789abcdefghi", 501, "methodNotSupported"},
		{res, Prefix + "did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V", 501, "methodNotSupported"},
		{res, Prefix + "did:peer:4zQmd8CpeFPci817KDsbSAKWcXAE2mjvCQSasRewvbSF54Bd", 501, "methodNotSupported"},
		{missing, Prefix + testDIDKey, 404, "notFound"},
		{missing, Prefix + "did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V", 404, "notFound"},
		{missing, Prefix + "did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9", 500, "internalError"},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			// Errors come as resolution results, even to a client that
			// wanted a document alone.
			w := servetest.Do(tc.res, method, tc.target, "Accept", "application/did+ld+json")
			what := method + " " + tc.target[:min(len(tc.target), 80)]
			if w.Code != tc.status {
				t.Errorf("%s: %d, want %d (%s)", what, w.Code, tc.status, w.Body)
				continue
			}
			h := w.Header()
			if h.Get("Content-Type") != mediaResolutionResult || h.Get("Cache-Control") != "no-cache" || h.Get("ETag") != "" {
				t.Errorf("%s: Content-Type %q, Cache-Control %q, ETag %q", what, h.Get("Content-Type"), h.Get("Cache-Control"), h.Get("ETag"))
			}
			checkSecurityHeaders(t, what, h)
			if method == "HEAD" {
				if w.Body.Len() != 0 || h.Get("Content-Length") == "0" {
					t.Errorf("%s: %d bytes of body, Content-Length %s", what, w.Body.Len(), h.Get("Content-Length"))
				}
				continue
			}
			if !strings.Contains(w.Body.String(), `"didDocument":null`) {
				t.Errorf("%s: no null didDocument in %s", what, w.Body)
			}
			r := decodeResult(t, w.Body.Bytes())
			if r.ResolutionMeta["error"] != tc.code || r.ResolutionMeta["errorMessage"] == "" {
				t.Errorf("%s: didResolutionMetadata %v, want error %q", what, r.ResolutionMeta, tc.code)
			}
			if strings.Contains(r.ResolutionMeta["errorMessage"], "fire") {
				t.Errorf("%s: internal error shown to the client", what)
			}
		}
	}
}

func TestResolverPercentEncoded(t *testing.T) {
	res := New()
	for _, target := range []string{
		Prefix + url.PathEscape(testDIDKey),
		Prefix + strings.ReplaceAll(testDIDKey, ":", "%3A"),
		Prefix + strings.ReplaceAll(strings.ReplaceAll(testDIDPeer, ":", "%3a"), ".", "%2E"),
		Prefix + "%64%69%64:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
	} {
		w := servetest.Do(res, "GET", target)
		if w.Code != 200 {
			t.Errorf("GET %s: %d %s", target, w.Code, w.Body)
			continue
		}
		r := decodeResult(t, w.Body.Bytes())
		if id := r.DIDDocument.ID; id != testDIDKey && id != testDIDPeer {
			t.Errorf("GET %s: document of %s", target, id)
		}
	}
}

func TestResolverConditionalAndHead(t *testing.T) {
	res := New()
	get := servetest.Do(res, "GET", Prefix+testDIDKey)
	head := servetest.Do(res, "HEAD", Prefix+testDIDKey)
	if head.Code != 200 || head.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", head.Code, head.Body.Len())
	}
	for _, k := range []string{"Content-Type", "Content-Length", "ETag", "Cache-Control", "Vary"} {
		if head.Header().Get(k) != get.Header().Get(k) {
			t.Errorf("HEAD %s = %q, GET has %q", k, head.Header().Get(k), get.Header().Get(k))
		}
	}
	etag := get.Header().Get("ETag")
	w := servetest.Do(res, "GET", Prefix+testDIDKey, "If-None-Match", etag)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match: %d, %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("ETag"))
	}
	// The document alone is another representation, with another tag.
	w = servetest.Do(res, "GET", Prefix+testDIDKey, "If-None-Match", etag, "Accept", mediaDIDLDJSON)
	if w.Code != 200 || w.Header().Get("ETag") == etag {
		t.Errorf("If-None-Match of another representation: %d, ETag %q", w.Code, w.Header().Get("ETag"))
	}
}

func TestResolverMethods(t *testing.T) {
	res := New()
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		w := servetest.Do(res, method, Prefix+testDIDKey)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", method, w.Code, w.Header().Get("Allow"))
		}
		checkSecurityHeaders(t, method, w.Header())
	}
}

// TestResolverHTTPServer resolves over real HTTP on a loopback port, as
// a real client does.
func TestResolverHTTPServer(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	base := srv.URL

	for _, did := range []string{testDIDKey, testDIDPeer} {
		resp, body := servetest.Get(t, base+Prefix+url.PathEscape(did))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaResolutionResult {
			t.Fatalf("GET %s: %s %q", did, resp.Status, resp.Header.Get("Content-Type"))
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("GET %s: Content-Length %d, %d bytes", did, resp.ContentLength, len(body))
		}
		got, _ := json.Marshal(decodeResult(t, body).DIDDocument)
		if !bytes.Equal(got, wantDocument(t, did)) {
			t.Errorf("GET %s: wrong document %s", did, got)
		}
		resp, body = servetest.Get(t, base+Prefix+did, "Accept", mediaDIDLDJSON)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaDIDLDJSON || !bytes.Equal(body, wantDocument(t, did)) {
			t.Errorf("GET %s as %s: %s %q %s", did, mediaDIDLDJSON, resp.Status, resp.Header.Get("Content-Type"), body)
		}
	}

	for target, want := range map[string]int{
		Prefix + "did:key:nonsense":              400,
		Prefix + "did:web:example.com":           501,
		Prefix + url.PathEscape(testDIDKey+"#x"): 400,
	} {
		resp, _ := servetest.Get(t, base+target)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", target, resp.Status, want)
		}
	}

	req, _ := http.NewRequest("HEAD", base+Prefix+testDIDPeer, nil)
	resp, err := servetest.NoCompression.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != 0 || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %s, %d bytes, Content-Length %d", resp.Status, n, resp.ContentLength)
	}

	req, _ = http.NewRequest("POST", base+Prefix+testDIDKey, strings.NewReader("{}"))
	resp, err = servetest.NoCompression.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
}
