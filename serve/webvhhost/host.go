// Package webvhhost is the server's did:webvh hosting (docs/pages-hosting.md): it keeps the
// logs (did.jsonl), witness proofs (did-witness.json) and public files of the people who
// publish a did:webvh DID on this server, under names taken first come, first served, and
// serves them at /<name>/did.jsonl, /<name>/did-witness.json and /<name>/<path> for any
// resolver to fetch. The DID of a name reads did:webvh:<scid>:<host>[%3A<port>]:<name>.
//
// The server never holds a DID's keys. A log authorises itself: every entry is signed by a key
// the entries before it authorised, so a new log for a free name, or a log that extends the
// stored one and still verifies, is accepted from anyone. Files are written and deleted with
// requests signed by a key in the current update keys (the Authorization scheme DIDWebVH).
//
// [Open] opens the store; [Host] is the http.Handler, the [Reader] of what is stored (for the
// page renderer) and, with [Host.Resolver], the resolver of did:webvh DIDs.
package webvhhost

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"planet/core/did/webvh"
)

// Defaults of Config: a person's page, a few hundred posts and photos fit in 8 MiB; a log of a
// thousand entries fits in 1 MiB.
const (
	DefaultMaxNameBytes = 8 << 20
	DefaultMaxFileBytes = 1 << 20
	DefaultMaxFiles     = 1000
	DefaultMaxLogBytes  = 1 << 20
	// MaxWitnessBytes bounds did-witness.json, as the resolver driver does.
	MaxWitnessBytes = webvh.DefaultMaxWitnessSize
	// MaxPathDepth is how many segments a file's path may have.
	MaxPathDepth = 8
)

// Config is what a Host is told.
type Config struct {
	// PublicURL is the URL at which others reach this server (serve's -public-url):
	// http:// or https://, a host and an optional port, no path. Its host and port make
	// the DIDs of the names. did:webvh names domains only: a loopback IP address
	// (127.0.0.1, ::1) is read as "localhost", which RFC 6761 reserves for loopback, and
	// since a DID's domain needs two labels the name is then "planet.localhost"; any other
	// IP address is refused.
	PublicURL string
	// MaxNameBytes bounds what one name keeps: log, witness proofs and files together.
	MaxNameBytes int64
	// MaxFileBytes bounds one file.
	MaxFileBytes int64
	// MaxFiles bounds how many files one name keeps.
	MaxFiles int
	// MaxLogBytes bounds did.jsonl.
	MaxLogBytes int64
	// Now is the clock; time.Now when nil (tests set it).
	Now func() time.Time
	// Log receives warnings; slog.Default() when nil.
	Log *slog.Logger
}

// AddFlags adds the hosting limits to fs (the public URL is serve's -public-url).
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.Int64Var(&c.MaxNameBytes, "pages-max-bytes", DefaultMaxNameBytes, "most `bytes` one hosted did:webvh name keeps (log, witness proofs and files)")
	fs.Int64Var(&c.MaxFileBytes, "pages-max-file", DefaultMaxFileBytes, "largest file of a hosted name, in `bytes`")
	fs.IntVar(&c.MaxFiles, "pages-max-files", DefaultMaxFiles, "most `files` one hosted name keeps")
	fs.Int64Var(&c.MaxLogBytes, "pages-max-log", DefaultMaxLogBytes, "largest did.jsonl of a hosted name, in `bytes`")
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxNameBytes < 0 || c.MaxFileBytes < 0 || c.MaxFiles < 0 || c.MaxLogBytes < 0 {
		return c, errors.New("webvhhost: limits must not be negative")
	}
	if c.MaxNameBytes == 0 {
		c.MaxNameBytes = DefaultMaxNameBytes
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = DefaultMaxFiles
	}
	if c.MaxLogBytes == 0 {
		c.MaxLogBytes = DefaultMaxLogBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c, nil
}

// LoopbackHost is the host name DIDs get when the public URL's host is a loopback address.
const LoopbackHost = "planet.localhost"

// origin is where the server is reached, as its DIDs name it.
type origin struct {
	scheme string // "http" or "https"
	host   string // lowercase ASCII domain
	port   int    // 0 when the URL names none
}

// parsePublicURL reads Config.PublicURL.
func parsePublicURL(s string) (origin, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return origin{}, fmt.Errorf("webvhhost: public URL %q: want http:// or https:// and a host", s)
	}
	if u.Path != "" && u.Path != "/" {
		return origin{}, fmt.Errorf("webvhhost: public URL %q has a path: the names are served at the top of the server", s)
	}
	o := origin{scheme: u.Scheme, host: strings.ToLower(u.Hostname())}
	if p := u.Port(); p != "" {
		if o.port, err = strconv.Atoi(p); err != nil || o.port < 1 || o.port > 65535 {
			return origin{}, fmt.Errorf("webvhhost: public URL %q: bad port", s)
		}
	}
	if ip, err := netip.ParseAddr(strings.Trim(o.host, "[]")); err == nil {
		if !ip.IsLoopback() {
			return origin{}, fmt.Errorf("webvhhost: public URL %q names an IP address; did:webvh needs a domain name", s)
		}
		o.host = LoopbackHost
	}
	if o.host == "localhost" {
		o.host = LoopbackHost
	}
	// The DID of a name must parse: this refuses what did:webvh refuses (one label, …).
	if _, err := webvh.ParseDID(o.didOf(strings.Repeat("1", 46), "a")); err != nil {
		return origin{}, fmt.Errorf("webvhhost: public URL %q: %w", s, err)
	}
	return o, nil
}

// didOf returns the DID of name with the given SCID at o.
func (o origin) didOf(scid, name string) string {
	s := "did:webvh:" + scid + ":" + o.host
	if o.port != 0 {
		s += "%3A" + strconv.Itoa(o.port)
	}
	return s + ":" + name
}

// plainHTTP reports whether the server is reached over http:// at a localhost name: then it
// and its resolver fetch logs of that host over plain HTTP.
func (o origin) plainHTTP() bool {
	return o.scheme == "http" && isLocalhostName(o.host)
}

// isLocalhostName reports whether host is "localhost" or a name under it (RFC 6761 section
// 6.3: such names are loopback and never looked up in DNS).
func isLocalhostName(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// nameRE is the syntax of a name: a DNS label in lowercase.
var nameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Reserved are the top-level paths the server or the page already answers (the site's
// files and folders under web/, the resolver, the mediator, the relay's address document,
// the service worker) and a few it may answer later, so no one can take them as a name: a
// person's files there would shadow PLANET's own or be shadowed by them. Names that the
// syntax already refuses (".well-known", "index.html", "1.0", …) are listed too, so that the
// list says in one place what is not a name.
var Reserved = []string{
	// The server: resolver, mediator, relay info.
	"1.0", "didcomm", ".well-known", "relay.json",
	// The page's top level (serve/site serves web/ as built).
	"index.html", "sw.js", "manifest.webmanifest", "icons", "app.js", "boot.js", "base.css",
	"planet.wasm", "wasm_exec.js", "planet.d.ts", "wasm_exec.d.ts",
	// The public pages' script and style sheet (serve/pagesite.AssetsPrefix).
	"pages-assets",
	"lib", "ui", "screens", "home", "contacts", "chat", "library", "trust", "settings", "page", "test",
	// Where the tab learns the host of this server's DIDs (serve's /pages.json).
	"pages.json",
	// Kept for later parts of PLANET and for names that would mislead.
	"assets", "static", "api", "pages", "p", "feed", "atom", "admin", "www", "mail", "relay",
	"mailbox", "mediator", "resolver", "identifiers", "did", "well-known", "favicon.ico",
	"robots.txt", "planet", "localhost",
}

// CheckName returns nil if name can be taken: the syntax of a DNS label in lowercase, not
// one of Reserved. The error says which rule failed.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q: a name is 1 to 63 lowercase letters, digits and inner hyphens", ErrBadName, name)
	}
	if slices.Contains(Reserved, name) {
		return fmt.Errorf("%w: %q is reserved for the server", ErrBadName, name)
	}
	return nil
}

// NamePath reports whether the URL path p is a hosted name's: "/<name>", "/<name>/" or
// "/<name>/…" with a name CheckName accepts. The server routes such paths to the public
// page (serve/pagesite, for GET and HEAD; it hands the raw files to Host) and to Host (for
// PUT, DELETE and OPTIONS).
func NamePath(p string) (name string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return "", false
	}
	name, _, _ = strings.Cut(rest, "/")
	return name, CheckName(name) == nil
}

// Errors of the store, wrapped with what failed.
var (
	// ErrNotFound reports a name, log, witness file or file that is not stored. It wraps
	// fs.ErrNotExist, which is what the page renderer (serve/pagesite) tests for.
	ErrNotFound = fmt.Errorf("not hosted here: %w", fs.ErrNotExist)
	// ErrBadName reports a name that breaks the syntax or is reserved.
	ErrBadName = errors.New("not a name")
	// ErrBadPath reports a file path that breaks the path rules.
	ErrBadPath = errors.New("not a file path")
)

// Reader is what the page renderer reads of the store. Every method is safe for concurrent
// use; a name not stored gives an error wrapping ErrNotFound.
type Reader interface {
	// Names returns the names that have a log, sorted.
	Names() []string
	// Log returns the name's did.jsonl as stored.
	Log(name string) ([]byte, error)
	// Witness returns the name's did-witness.json (ErrNotFound when it has none).
	Witness(name string) ([]byte, error)
	// Files returns the paths of the name's files, sorted, in canonical form ("posts/hello.html",
	// segments percent-encoded as RFC 3986 asks, with uppercase hex).
	Files(name string) ([]string, error)
	// File returns a file of the name; path is as Files gives it or as a URL path after
	// "/<name>/" has it.
	File(name, path string) ([]byte, error)
	// Resolve returns the current version of the name's DID, verified (a deactivated DID
	// has a nil Document).
	Resolve(name string) (*webvh.Resolution, error)
}

var _ Reader = (*Host)(nil)

// Host is the hosting: the store under <data>/pages, its HTTP handler and its resolver. It
// is safe for concurrent use.
type Host struct {
	cfg    Config
	origin origin
	store  *store

	// publish serialises publications of logs and witness proofs (and guards pending),
	// which verify without holding mu.
	publish sync.Mutex
	// mu guards the index and the files on disk: held for reading to read, for writing
	// to write, never while a log is verified.
	mu      sync.RWMutex
	pending *pendingWitnesses
	replay  *replayCache
}

// Open opens (creating it if need be) the store under dir (serve passes <data>/pages) and
// reads what it holds; every stored log is verified again.
func Open(dir string, cfg Config) (*Host, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	st, err := openStore(dir, cfg.Now, cfg.Log)
	if err != nil {
		return nil, err
	}
	return &Host{cfg: cfg, origin: o, store: st, pending: newPendingWitnesses(), replay: newReplayCache()}, nil
}

// DIDPrefix returns how the DIDs of this server begin once the SCID is known, with a
// "{SCID}" placeholder: did:webvh:{SCID}:<host>[%3A<port>]:. A name follows it.
func (h *Host) DIDPrefix() string {
	return strings.TrimSuffix(h.origin.didOf("{SCID}", "x"), "x")
}

// Location returns the host and port a tab passes to webvh.Create (with Path {name}) for a
// DID of this server.
func (h *Host) Location() (host string, port int) { return h.origin.host, h.origin.port }

// Names implements Reader.
func (h *Host) Names() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.store.names()
}

// Log implements Reader.
func (h *Host) Log(name string) ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.store.index[name] == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return h.store.read(name, logFile)
}

// Witness implements Reader.
func (h *Host) Witness(name string) ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e := h.store.index[name]
	if e == nil || e.witnessSize == 0 {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, name, witnessFile)
	}
	return h.store.read(name, witnessFile)
}

// Files implements Reader.
func (h *Host) Files(name string) ([]string, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e := h.store.index[name]
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	paths := make([]string, 0, len(e.files))
	for p := range e.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, nil
}

// File implements Reader.
func (h *Host) File(name, path string) ([]byte, error) {
	p, err := CheckPath(strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	e := h.store.index[name]
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if _, ok := e.files[p]; !ok {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, name, p)
	}
	return h.store.read(name, filesDir+"/"+p)
}

// Resolve implements Reader.
func (h *Host) Resolve(name string) (*webvh.Resolution, error) {
	return h.resolveName(name, webvh.Query{})
}

// resolveName resolves the version q selects of the DID stored under name, as its latest
// entry names it.
func (h *Host) resolveName(name string, q webvh.Query) (*webvh.Resolution, error) {
	h.mu.RLock()
	e := h.store.index[name]
	if e == nil {
		h.mu.RUnlock()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	current := e.did
	h.mu.RUnlock()
	return h.resolveStored(name, current, q)
}

// resolveStored resolves d from the log stored under name.
func (h *Host) resolveStored(name string, d webvh.DID, q webvh.Query) (*webvh.Resolution, error) {
	h.mu.RLock()
	e := h.store.index[name]
	if e == nil {
		h.mu.RUnlock()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	logData, err := h.store.read(name, logFile)
	var wfData []byte
	if err == nil && e.witnessSize > 0 {
		wfData, err = h.store.read(name, witnessFile)
	}
	h.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	log, err := webvh.ParseLog(logData)
	if err != nil {
		return nil, err
	}
	var wf webvh.WitnessFile
	if wfData != nil {
		if wf, err = webvh.ParseWitnessFile(wfData); err != nil {
			return nil, err
		}
	}
	return webvh.Resolve(d, log, wf, q, h.cfg.Now())
}
