// Package pagesite renders people's public pages (First Person Pages,
// docs/pages.md) from what the server hosts for their did:webvh DIDs: the
// profile as an h-card, the posts as h-entries, an Atom feed, as plain HTML
// that reads with scripts off.
//
// Nothing is shown as verified unless the server verified it on this
// request: the log is resolved with webvh.Resolve, every document checked
// with page.VerifyVersions, and the page says in words what was verified and
// when, or plainly what failed (and then does not show it). A static
// script, [VerifyScript], lets the visitor's browser check the same things
// again without trusting this server.
//
// # Routes
//
//	GET /<name>/               the profile and the list of posts
//	GET /<name>/posts/<slug>   one post
//	GET /<name>/feed.atom      the Atom feed of the posts
//	GET /pages-assets/…        the verification script and the style sheet
//	POST /pages-assets/preview a post's Markdown rendered as the post page would
//
// Any other path under /<name>/ (did.jsonl, profile.json, posts/<slug>.json,
// the picture) is the DID's raw files: they go to [Options.Files] when set,
// or are served from the [Reader].
package pagesite

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"planet/core/page"
)

// Reader reads what the server stores for a name: the DID's log, its
// witness file and its other files. A missing name or file is an error
// wrapping fs.ErrNotExist.
type Reader interface {
	// Log returns <name>/did.jsonl.
	Log(name string) ([]byte, error)
	// Witness returns <name>/did-witness.json.
	Witness(name string) ([]byte, error)
	// File returns the file at path ("profile.json", "posts/x.json")
	// under the name.
	File(name, path string) ([]byte, error)
}

// AssetsPrefix is where the handler serves the verification script and
// the style sheet. It is one fixed place for every page, so the Content
// Security Policy can name it.
const AssetsPrefix = "/pages-assets/"

// VerifyScript is the path of the verification script.
const VerifyScript = AssetsPrefix + "verify.js"

// PreviewPath is where a tab has a post's body rendered before publishing
// it: POST the Markdown, get back the HTML the post page will show. The
// rendering runs here rather than in the tab because the Markdown parser
// would add some 1.4 MB to the tab's WebAssembly.
const PreviewPath = AssetsPrefix + "preview"

// ContentSecurityPolicy is sent with every page: scripts only from this
// origin (the one verification script: no inline script, no eval), style
// only from the style sheet, images only from this origin (the picture is
// one of the DID's files), fetches only back to this origin (the script
// reads did.jsonl and the documents), no forms, no framing, no plugins.
// Nothing a person writes on their page can run in a reader's browser.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configure a [Handler].
type Options struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Files serves the DID's raw files under /<name>/ (the hosting
	// package's own handler). Nil serves them from the Reader.
	Files http.Handler
	// RelMe checks the profile's links both ways (rel="me"); nil does
	// not check them.
	RelMe *RelMe
}

// Handler serves public pages.
type Handler struct {
	r     Reader
	now   func() time.Time
	files http.Handler
	relme *RelMe
}

// New returns a handler over r.
func New(r Reader, opts Options) *Handler {
	h := &Handler{r: r, now: opts.Now, files: opts.Files, relme: opts.RelMe}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

//go:embed assets
var assets embed.FS

// namePattern is a page's name: one path segment the hosting package
// accepts (it decides which names exist; this only keeps odd paths out).
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// filePattern is a raw file path this handler serves from the Reader:
// plain segments, no dot files, no "..".
var filePattern = regexp.MustCompile(`^([A-Za-z0-9_-][A-Za-z0-9._-]{0,63}/){0,3}[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w.Header())
	if r.URL.Path == PreviewPath {
		h.servePreview(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.errorPage(w, http.StatusMethodNotAllowed, "Method not allowed", "Public pages are read with GET.")
		return
	}
	p := r.URL.Path
	if asset, ok := strings.CutPrefix(p, AssetsPrefix); ok {
		h.serveAsset(w, r, asset)
		return
	}
	name, rest, hasSlash := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !namePattern.MatchString(name) {
		h.errorPage(w, http.StatusNotFound, "Not found", "There is no page here.")
		return
	}
	switch {
	case !hasSlash:
		http.Redirect(w, r, "/"+name+"/", http.StatusMovedPermanently)
	case rest == "":
		h.serveProfile(w, r, name)
	case rest == "feed.atom":
		h.serveFeed(w, r, name)
	case strings.HasPrefix(rest, "posts/") && page.CheckSlug(strings.TrimPrefix(rest, "posts/")) == nil:
		h.servePost(w, r, name, strings.TrimPrefix(rest, "posts/"))
	case h.files != nil:
		h.files.ServeHTTP(w, r)
	default:
		h.serveFile(w, r, name, rest)
	}
}

// setHeaders sets what every response of the handler carries.
func setHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-cache")
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	data, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil || strings.Contains(name, "/") {
		h.errorPage(w, http.StatusNotFound, "Not found", "There is no such file.")
		return
	}
	write(w, r, http.StatusOK, mime.TypeByExtension(path.Ext(name)), data)
}

// serveFile serves one of the DID's raw files from the Reader, so that a
// reader's script (this one, or anyone's resolver) can fetch what the page
// was made from. JSON documents may be fetched from any origin.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name, p string) {
	if !filePattern.MatchString(p) {
		h.errorPage(w, http.StatusNotFound, "Not found", "There is no such file.")
		return
	}
	var data []byte
	var err error
	switch p {
	case "did.jsonl":
		data, err = h.r.Log(name)
	case "did-witness.json":
		data, err = h.r.Witness(name)
	default:
		data, err = h.r.File(name, p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		h.errorPage(w, http.StatusNotFound, "Not found", "There is no such file.")
		return
	}
	if err != nil {
		h.errorPage(w, http.StatusServiceUnavailable, "Not available", "The file could not be read just now.")
		return
	}
	ctype := mime.TypeByExtension(path.Ext(p))
	switch path.Ext(p) {
	case ".jsonl":
		ctype = "application/jsonl"
	case ".json":
		ctype = "application/json"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if strings.HasPrefix(ctype, "application/json") {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	// A stored file is data, never a page of this origin.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	write(w, r, http.StatusOK, ctype, data)
}

func write(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	w.Write(body)
}

// render executes a template into a buffer first, so a failure is an error
// page and never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		h.errorPage(w, http.StatusInternalServerError, "This page could not be shown", "Rendering it failed.")
		return
	}
	write(w, r, status, "text/html; charset=utf-8", buf.Bytes())
}

// errorPage writes a short HTML page saying what went wrong.
func (h *Handler) errorPage(w http.ResponseWriter, status int, title, msg string) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "error.html", map[string]any{"Title": title, "Message": msg, "Status": status}); err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
