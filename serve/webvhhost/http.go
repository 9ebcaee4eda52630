package webvhhost

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"planet/serve/response"
)

// Media types of what is served. The log is JSON Lines: the did:webvh watcher API
// (decentralized-identity/didwebvh, watcherOpenAPI/watcher-v1.0.0.yml) serves it as
// text/jsonl.
const (
	mediaLog   = "text/jsonl; charset=utf-8"
	mediaJSON  = "application/json"
	mediaError = "application/json; charset=utf-8"
)

// cacheHosted is the Cache-Control of hosted files: short, since a log grows and a file may
// be replaced at any time, and revalidation is a cheap 304.
const cacheHosted = "public, max-age=60"

// filePolicy is the Content-Security-Policy of hosted files. They are served from PLANET's
// own origin, where the vault lives, so a person's HTML or SVG must never run script or load
// anything there: sandbox gives the document an opaque origin with scripts off, and nothing
// may be fetched. JavaScript files are served as text/plain for the same reason: with
// nosniff, no page can run them.
const filePolicy = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"

// contentTypes maps file extensions to media types. Anything else is
// application/octet-stream; types that could run script on this origin are made inert
// (text/plain), as above.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".css": "text/css; charset=utf-8", ".csv": "text/csv; charset=utf-8",
	".js": "text/plain; charset=utf-8", ".mjs": "text/plain; charset=utf-8",
	".json": "application/json", ".jsonld": "application/ld+json", ".jsonl": "text/jsonl; charset=utf-8",
	".vp": "application/json", ".vc": "application/json",
	".xml": "application/xml", ".atom": "application/atom+xml", ".rss": "application/rss+xml",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".ico": "image/x-icon",
	".pdf": "application/pdf", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".mp4": "video/mp4", ".webm": "video/webm",
	".woff2": "font/woff2",
}

func contentType(p string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(p))]; ok {
		return t
	}
	return "application/octet-stream"
}

// Handles reports whether Host answers the URL path p: "/<name>/<rest>" with a name of the
// right syntax that is not reserved and a non-empty rest. "/<name>" and "/<name>/" are not
// its (the public page is), nor is anything reserved.
func (h *Host) Handles(p string) bool {
	name, rest, ok := splitPath(p)
	return ok && rest != "" && CheckName(name) == nil
}

// splitPath splits "/<name>/<rest>".
func splitPath(p string) (name, rest string, ok bool) {
	p, ok = strings.CutPrefix(p, "/")
	if !ok {
		return "", "", false
	}
	name, rest, ok = strings.Cut(p, "/")
	return name, rest, ok
}

// ServeHTTP answers /<name>/did.jsonl, /<name>/did-witness.json and /<name>/<path>: GET and
// HEAD for anyone, PUT of the log and the witness proofs (self-authorising), PUT and DELETE of
// files (signed), and the CORS preflight of all of them.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	response.SetSecurityHeaders(hd)
	// Resolvers and tabs of other origins fetch these: they are public.
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	name, rest, ok := splitPath(r.URL.EscapedPath())
	if !ok || rest == "" {
		h.writeError(w, r, refuse(http.StatusNotFound, codeNotFound, "not a hosted file"))
		return
	}
	if err := CheckName(name); err != nil {
		h.writeError(w, r, refuse(http.StatusNotFound, codeBadName, "%v", err))
		return
	}
	kind := rest // did.jsonl, did-witness.json, or a file
	if r.URL.RawQuery != "" && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		h.writeError(w, r, refuse(http.StatusBadRequest, codeBadPath, "a write takes no query"))
		return
	}
	var p string
	if kind != logFile && kind != witnessFile {
		var err error
		if p, err = CheckPath(rest); err != nil {
			h.writeError(w, r, refuse(http.StatusBadRequest, codeBadPath, "%v", err))
			return
		}
		if p == logFile || p == witnessFile {
			h.writeError(w, r, refuse(http.StatusBadRequest, codeBadPath, "%q is published as the DID's own file, not with a signed file request", p))
			return
		}
	}
	switch r.Method {
	case http.MethodOptions:
		hd.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, DELETE")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match")
		hd.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
		h.serveGet(w, r, name, kind, p)
	case http.MethodPut:
		h.servePut(w, r, name, kind, p)
	case http.MethodDelete:
		if p == "" {
			h.writeError(w, r, refuse(http.StatusMethodNotAllowed, codeMethod, "a DID's log and witness proofs are never deleted; deactivate the DID instead"))
			return
		}
		res, err := h.deleteFile(name, p, r.Header.Get("Authorization"))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, res)
	default:
		hd.Set("Allow", "GET, HEAD, PUT, DELETE, OPTIONS")
		h.writeError(w, r, refuse(http.StatusMethodNotAllowed, codeMethod, "use GET, HEAD, PUT or DELETE"))
	}
}

func (h *Host) serveGet(w http.ResponseWriter, r *http.Request, name, kind, p string) {
	h.mu.RLock()
	e := h.store.index[name]
	var loc string
	if e != nil && h.moved(name, e) {
		loc = h.newLocation(e, kind, p)
	}
	h.mu.RUnlock()
	if e == nil {
		h.writeError(w, r, refuse(http.StatusNotFound, codeNotFound, "no DID is published under %q", name))
		return
	}
	if loc != "" {
		// DID Portability: the old location answers with a redirect to the new one.
		w.Header().Set("Location", loc)
		writeJSON(w, r, http.StatusMovedPermanently, map[string]string{"location": loc})
		return
	}
	var data []byte
	var err error
	var media string
	switch kind {
	case logFile:
		media = mediaLog
		data, err = h.Log(name)
	case witnessFile:
		media = mediaJSON
		data, err = h.Witness(name)
	default:
		media = contentType(p)
		data, err = h.File(name, p)
		w.Header().Set("Content-Security-Policy", filePolicy)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		h.writeError(w, r, refuse(http.StatusNotFound, codeNotFound, "%s has no %q", name, kind))
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", cacheHosted)
	hd.Set("Access-Control-Expose-Headers", "ETag")
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && response.ETagMatches(inm, etag, true) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", media)
	response.Write(w, r, http.StatusOK, data)
}

// newLocation is the URL of the same file at a moved DID's new location.
func (h *Host) newLocation(e *entry, kind, p string) string {
	var u string
	switch kind {
	case logFile:
		u = e.did.LogURL()
	case witnessFile:
		u = e.did.WitnessURL()
	default:
		u = e.did.BaseURL() + p
	}
	if h.origin.plainHTTP() && e.did.Location().Host == h.origin.host {
		u = "http://" + strings.TrimPrefix(u, "https://")
	}
	return u
}

func (h *Host) servePut(w http.ResponseWriter, r *http.Request, name, kind, p string) {
	limit := h.cfg.MaxFileBytes
	switch kind {
	case logFile:
		limit = h.cfg.MaxLogBytes
	case witnessFile:
		limit = MaxWitnessBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.writeError(w, r, refuse(http.StatusRequestEntityTooLarge, codeTooLarge, "%s is over %d bytes", kind, limit))
		return
	}
	if err != nil {
		h.writeError(w, r, refuse(http.StatusBadRequest, codeBadLog, "reading the body: %v", err))
		return
	}
	var res Result
	created := false
	switch kind {
	case logFile:
		res, created, err = h.putLog(name, body)
	case witnessFile:
		res, err = h.putWitness(name, body)
	default:
		res, created, err = h.putFile(name, p, r.Header.Get("Authorization"), body)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, r, status, res)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, _ := json.Marshal(v) // cannot fail: plain structs and strings
	h := w.Header()
	h.Set("Content-Type", mediaError)
	h.Set("Cache-Control", response.CacheRevalidate)
	response.Write(w, r, status, body)
}

// writeError writes err as {"error": code, "message": words}; an error of the store itself
// is a 500 whose reasons stay in the server.
func (h *Host) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		h.cfg.Log.Warn("webvhhost", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = refuse(http.StatusInternalServerError, codeInternal, "the server could not store or read the file; try again later")
	}
	w.Header().Del("ETag")
	writeJSON(w, r, ae.status, map[string]string{"error": ae.code, "message": ae.msg})
}

// codes lists the error codes, for the documentation test.
var codes = []string{codeBadName, codeBadPath, codeBadLog, codeBadWitness, codeWrongDID, codeNameTaken,
	codeRewritten, codeDeactivated, codeMoved, codeConflict, codeTooLarge, codeQuota, codeTooManyFiles,
	codeUnauthorized, codeNotFound, codeNoLog, codeMethod, codeBusy, codeInternal, codeNotAuthorised}
