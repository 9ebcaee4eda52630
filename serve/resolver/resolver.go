// Package resolver is the server's DID resolver: a DIF Universal Resolver style endpoint,
//
//	GET /1.0/identifiers/{did}
//
// answering with a DID resolution result (W3C DID Resolution): the document
// and its metadata, or for a DID that cannot be resolved an error code with a
// null document. A client that asks for application/did+ld+json (or
// application/did+json) gets the document alone instead.
//
// {did} is the path after the prefix, percent-decoded once: a DID whose own
// method-specific id holds percent-encoding must arrive encoded twice.
// did:key and did:peer:2 are resolved from the DID itself, so the server
// keeps no state and makes no requests to resolve them. did:webvh is resolved
// when the server hosts DIDs ([NewWithWebVH]): a query (?versionId=…,
// ?versionTime=…, ?versionNumber=…) selects a version, and the result
// carries the DID's document metadata.
package resolver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"planet/core/did"
	"planet/core/did/webvh"
	"planet/serve/response"
)

// Prefix is the path under which the resolver answers.
const Prefix = "/1.0/identifiers/"

// Media types of the resolver's responses.
const (
	// mediaResolutionResult is the type of a DID resolution result.
	mediaResolutionResult = `application/ld+json;profile="https://w3id.org/did-resolution"`
	// mediaDIDLDJSON and mediaDIDJSON are the types of a DID document alone
	// (DID Core's JSON-LD and JSON representations); PLANET's documents carry
	// @context, so both are the same bytes.
	mediaDIDLDJSON = "application/did+ld+json"
	mediaDIDJSON   = "application/did+json"
)

// contextResolution is the JSON-LD context of a resolution result.
const contextResolution = "https://w3id.org/did-resolution/v1"

// cacheResolved is the Cache-Control of a resolved document. did:key and
// did:peer:2 documents are functions of the DID alone and never change, so
// they may be kept long; not "immutable", since a later PLANET may add to
// what it puts in a document, and a client should see that within a day.
const cacheResolved = "public, max-age=86400"

// Error codes of DID Resolution, with the HTTP status the Universal Resolver
// gives each.
const (
	errInvalidDID                 = "invalidDid"
	errMethodNotSupported         = "methodNotSupported"
	errNotFound                   = "notFound"
	errRepresentationNotSupported = "representationNotSupported"
	errInternal                   = "internalError"
	// errInvalidDIDLog is did:webvh's: the DID's log does not verify.
	errInvalidDIDLog = "invalidDidLog"
)

// isWebVHRefusal reports whether err is a did:webvh log or witness file
// that failed a check of the method.
func isWebVHRefusal(err error) bool {
	for _, s := range []error{webvh.ErrMalformed, webvh.ErrMethodVersion, webvh.ErrInvalidParameter, webvh.ErrCryptosuite,
		webvh.ErrInvalidProof, webvh.ErrUnauthorizedKey, webvh.ErrPreRotation, webvh.ErrSCIDMismatch, webvh.ErrHashChain,
		webvh.ErrVersionTime, webvh.ErrDIDMismatch, webvh.ErrPortability, webvh.ErrWitness, webvh.ErrDeactivated, webvh.ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Resolver is the http.Handler of the resolver endpoint. It is safe for
// concurrent use.
type Resolver struct {
	// dids returns the document of a DID, or an error wrapping
	// did.ErrInvalid, did.ErrUnsupportedMethod or did.ErrNotFound.
	dids did.Resolver
	// webvh resolves did:webvh DIDs; nil when the server does not.
	webvh WebVH
}

// WebVH resolves did:webvh DIDs by version, verified, with their metadata
// (serve/webvhhost's Resolver: the server's own DIDs from its store, others
// over HTTPS).
type WebVH interface {
	ResolveWebVH(ctx context.Context, d webvh.DID, q webvh.Query) (*webvh.Resolution, error)
}

// New returns the resolver of the DID methods the server resolves by itself (did.Local).
func New() *Resolver { return &Resolver{dids: did.Local} }

// NewWithWebVH returns the resolver of did.Local's methods and of did:webvh
// through w.
func NewWithWebVH(w WebVH) *Resolver { return &Resolver{dids: did.Local, webvh: w} }

// resolutionResult is a DID resolution result; encoding/json writes the
// fields in this order.
type resolutionResult struct {
	Context          string             `json:"@context"`
	DIDDocument      any                `json:"didDocument"` // *did.Document, a did:webvh document as decoded JSON, or nil
	ResolutionMeta   resolutionMetadata `json:"didResolutionMetadata"`
	DocumentMetadata any                `json:"didDocumentMetadata"` // documentMetadata or struct{}
}

// documentMetadata is the DID document metadata of a did:webvh DID (DID
// Resolution; did:webvh 1.0, "Read (Resolve)").
type documentMetadata struct {
	Created       string `json:"created"`
	Updated       string `json:"updated"`
	VersionID     string `json:"versionId"`
	VersionTime   string `json:"versionTime"`
	VersionNumber int    `json:"versionNumber"`
	Deactivated   bool   `json:"deactivated"`
	SCID          string `json:"scid"`
	Portable      bool   `json:"portable"`
	TTL           int    `json:"ttl,omitempty"`
}

type resolutionMetadata struct {
	ContentType  string `json:"contentType,omitempty"`
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// ServeHTTP answers GET and HEAD for Prefix + a DID.
func (res *Resolver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	response.SetSecurityHeaders(h)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		response.Error(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	h.Set("Vary", "Accept")

	d, err := did.Parse(strings.TrimPrefix(r.URL.Path, Prefix))
	var doc any
	var meta any = struct{}{}
	status := http.StatusOK
	switch {
	case err == nil && d.Method() == did.MethodWebVH && res.webvh != nil:
		var wr *webvh.Resolution
		if wr, err = res.resolveWebVH(r, d); err == nil {
			meta = metadataOf(wr)
			if wr.Document != nil {
				doc = wr.Document
			} else {
				// Deactivated: no current document, and the metadata says why.
				status = http.StatusGone
			}
		}
	case err == nil:
		doc, err = res.dids.Resolve(r.Context(), d)
	}
	if err != nil {
		status, code := resolutionError(err)
		msg := err.Error()
		if code == errInternal {
			msg = "the resolver failed" // its reasons are the server's business
		}
		writeResolutionError(w, r, status, code, msg)
		return
	}

	media, ok := negotiateResolution(r.Header.Values("Accept"))
	if status == http.StatusGone {
		// No document to send alone: the result says the DID is deactivated.
		media = mediaResolutionResult
		ok = true
	}
	if !ok {
		writeResolutionError(w, r, http.StatusNotAcceptable, errRepresentationNotSupported,
			"representations on offer: "+mediaResolutionResult+", "+mediaDIDLDJSON+", "+mediaDIDJSON)
		return
	}
	var body []byte
	if media == mediaResolutionResult {
		body, err = json.Marshal(resolutionResult{
			Context:          contextResolution,
			DIDDocument:      doc,
			ResolutionMeta:   resolutionMetadata{ContentType: mediaDIDLDJSON},
			DocumentMetadata: meta,
		})
	} else {
		body, err = json.Marshal(doc)
	}
	if err != nil {
		writeResolutionError(w, r, http.StatusInternalServerError, errInternal, "encoding the document failed")
		return
	}

	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheResolved)
	if d.Method() == did.MethodWebVH {
		h.Set("Cache-Control", cacheWebVH)
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && response.ETagMatches(inm, etag, true) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", media)
	response.Write(w, r, status, body)
}

// cacheWebVH is the Cache-Control of a did:webvh resolution: its log may
// grow at any time, so clients keep it briefly, as the resolver's own cache
// of other servers' logs does.
const cacheWebVH = "public, max-age=60"

// resolveWebVH resolves a did:webvh DID with the version the query selects.
func (res *Resolver) resolveWebVH(r *http.Request, d did.DID) (*webvh.Resolution, error) {
	w, err := webvh.FromDID(d)
	if err != nil {
		return nil, err
	}
	q, err := webvh.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	return res.webvh.ResolveWebVH(r.Context(), w, q)
}

func metadataOf(wr *webvh.Resolution) documentMetadata {
	m := wr.Metadata
	const layout = "2006-01-02T15:04:05Z"
	return documentMetadata{
		Created: m.Created.UTC().Format(layout), Updated: m.Updated.UTC().Format(layout),
		VersionID: m.VersionID, VersionTime: m.VersionTime.UTC().Format(layout), VersionNumber: m.VersionNumber,
		Deactivated: m.Deactivated, SCID: m.SCID, Portable: m.Portable, TTL: m.TTL,
	}
}

// resolutionError maps an error of ParseDID or of resolving to its HTTP
// status and DID Resolution error code.
func resolutionError(err error) (int, string) {
	switch {
	case errors.Is(err, did.ErrInvalid), errors.Is(err, webvh.ErrInvalidDID):
		return http.StatusBadRequest, errInvalidDID
	case errors.Is(err, did.ErrUnsupportedMethod):
		return http.StatusNotImplemented, errMethodNotSupported
	case errors.Is(err, did.ErrNotFound):
		return http.StatusNotFound, errNotFound
	case isWebVHRefusal(err):
		// The DID's log was fetched and refused: the fault is the log's, and
		// the message says which check failed.
		return http.StatusBadGateway, errInvalidDIDLog
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, errNotFound
	default:
		return http.StatusInternalServerError, errInternal
	}
}

// writeResolutionError writes a resolution result that carries an error and
// no document. It is always a resolution result, whatever the client
// accepts: there is no document to send. Errors are not cached, since the
// next version of the server may resolve what this one cannot.
func writeResolutionError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body, _ := json.Marshal(resolutionResult{ // cannot fail: strings only
		Context:          contextResolution,
		ResolutionMeta:   resolutionMetadata{Error: code, ErrorMessage: msg},
		DocumentMetadata: struct{}{},
	})
	h := w.Header()
	h.Del("ETag")
	h.Set("Cache-Control", response.CacheRevalidate)
	h.Set("Content-Type", mediaResolutionResult)
	response.Write(w, r, status, body)
}

// negotiateResolution picks the media type of a successful response from the
// Accept field values (RFC 9110, section 12.5.1): each type on offer gets the
// q-value of the most specific range that matches it, and the highest wins,
// the resolution result first when they tie. Without Accept the result is
// sent. ok is false when the client accepts none of them.
//
// application/json and application/ld+json without a profile count as asking
// for the resolution result, which is both; application/ld+json with another
// profile does not.
func negotiateResolution(accept []string) (media string, ok bool) {
	offers := []string{mediaResolutionResult, mediaDIDLDJSON, mediaDIDJSON}
	if len(accept) == 0 {
		return offers[0], true
	}
	best, bestQ := "", 0.0
	for _, offer := range offers {
		q, specificity := 0.0, -1
		for _, value := range accept {
			for _, elem := range splitAccept(value) {
				s, eq, ok := matchAccept(elem, offer)
				if ok && s > specificity {
					q, specificity = eq, s
				}
			}
		}
		if q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best, best != ""
}

// matchAccept reports whether the Accept element elem matches offer, how
// specifically (3 for the exact type, 2 for a type that covers it, 1 for
// type/*, 0 for */*), and the element's q-value. Malformed elements match
// nothing.
func matchAccept(elem, offer string) (specificity int, q float64, ok bool) {
	mt, params, err := mime.ParseMediaType(elem)
	if err != nil {
		return 0, 0, false
	}
	q = 1
	if qs, has := params["q"]; has {
		if q, ok = response.ParseQ(qs); !ok {
			return 0, 0, false
		}
	}
	switch {
	case mt == "*/*":
		return 0, q, true
	case mt == "application/*":
		return 1, q, true
	case offer != mediaResolutionResult:
		return 3, q, mt == offer
	case mt == "application/ld+json":
		profile, has := params["profile"]
		if !has {
			return 2, q, true
		}
		// A profile parameter is a space-separated list of URIs.
		for p := range strings.FieldsSeq(profile) {
			if p == "https://w3id.org/did-resolution" {
				return 3, q, true
			}
		}
		return 0, 0, false
	case mt == "application/json":
		return 2, q, true
	}
	return 0, 0, false
}

// splitAccept splits an Accept field value at the commas that are not inside
// a quoted string (a profile URI may hold one).
func splitAccept(value string) []string {
	var elems []string
	start, quoted := 0, false
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				elems = append(elems, value[start:i])
				start = i + 1
			}
		}
	}
	return append(elems, value[start:])
}
