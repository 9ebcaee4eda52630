package webvhhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"planet/core/did"
	"planet/core/did/webvh"
)

// Limits of the resolver's fetches of other servers' logs.
const (
	DialTimeout  = 5 * time.Second  // connecting, TLS included
	FetchTimeout = 10 * time.Second // a whole fetch, redirects included
	maxRedirects = 3
	// CacheSize and CacheTTL bound what the resolver remembers of other servers' files:
	// a DID read again and again is fetched once every few minutes, and a stranger's
	// made-up DIDs cannot grow the memory without end.
	CacheSize = 256
	CacheTTL  = 5 * time.Minute
)

// Resolver resolves did:webvh DIDs for the server's resolver endpoint: the DIDs of this
// server from the store directly, with no request to itself, and others over HTTPS through
// webvh.Driver with a bounded cache. It is a did.Resolver for method webvh, and has
// ResolveWebVH for versions and metadata.
type Resolver struct {
	host   *Host
	driver *webvh.Driver
	cache  *cachingGetter
}

var _ did.Resolver = (*Resolver)(nil)

// ResolverOptions adjust the resolver of other servers' DIDs.
type ResolverOptions struct {
	// PlainHTTPHosts are localhost names (RFC 6761) whose logs are fetched over http://
	// and dialled on loopback. The server's own name is added when its public URL is an
	// http:// localhost one. Names not under "localhost" are ignored: plain HTTP and
	// loopback are for a server on a developer's machine, never for the Internet.
	PlainHTTPHosts []string
	// Transport replaces the HTTP transport (tests reach a TLS test server with it); nil
	// builds one with the timeouts above that refuses private and loopback addresses.
	Transport http.RoundTripper
	// CacheSize, CacheTTL and Timeout (of a whole fetch) override the defaults when
	// positive.
	CacheSize int
	CacheTTL  time.Duration
	Timeout   time.Duration
}

// Resolver returns the resolver of did:webvh DIDs backed by this host.
func (h *Host) Resolver(opts ResolverOptions) *Resolver {
	var plain []string
	for _, n := range opts.PlainHTTPHosts {
		if isLocalhostName(n) {
			plain = append(plain, n)
		}
	}
	if h.origin.plainHTTP() && !slices.Contains(plain, h.origin.host) {
		plain = append(plain, h.origin.host)
	}
	tr := opts.Transport
	if tr == nil {
		tr = newTransport(plain)
	}
	timeout := FetchTimeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	g := &httpGetter{client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Same scheme only (the Getter contract), few hops; a redirect to plain
			// HTTP is followed only to the hosts allowed it.
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != via[0].URL.Scheme || (req.URL.Scheme == "http" && !slices.Contains(plain, req.URL.Hostname())) {
				return fmt.Errorf("redirect from %s to %s changes the scheme", via[0].URL.Scheme, req.URL.Scheme)
			}
			return nil
		},
	}}
	size, ttl := CacheSize, CacheTTL
	if opts.CacheSize > 0 {
		size = opts.CacheSize
	}
	if opts.CacheTTL > 0 {
		ttl = opts.CacheTTL
	}
	c := &cachingGetter{next: g, size: size, ttl: ttl, now: h.cfg.Now, entries: map[string]cached{}}
	return &Resolver{
		host:   h,
		cache:  c,
		driver: &webvh.Driver{Getter: c, Now: h.cfg.Now, PlainHTTPHosts: plain},
	}
}

// Resolve implements did.Resolver: the current document of d.
func (r *Resolver) Resolve(ctx context.Context, d did.DID) (*did.Document, error) {
	w, err := webvh.FromDID(d)
	if err != nil {
		return nil, err
	}
	res, err := r.ResolveWebVH(ctx, w, webvh.Query{})
	if err != nil {
		return nil, err
	}
	return res.Doc()
}

// ResolveWebVH resolves the version q selects of d, verified. A DID of this server's host
// and port is answered from the store alone: a name not taken (or a path this server does
// not host) is did.ErrNotFound, never a request to itself.
func (r *Resolver) ResolveWebVH(ctx context.Context, d webvh.DID, q webvh.Query) (*webvh.Resolution, error) {
	if name, ours := r.host.localName(d); ours {
		if name == "" {
			return nil, fmt.Errorf("%w: %s: this server hosts DIDs of one path segment only", did.ErrNotFound, d)
		}
		res, err := r.host.resolveStored(name, d, q)
		if errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is not hosted here", did.ErrNotFound, d)
		}
		return res, err
	}
	return r.driver.ResolveVersion(ctx, d, q)
}

// localName reports whether d is at this server's host and port, and if so the name it
// would be stored under ("" for a location this server does not host).
func (h *Host) localName(d webvh.DID) (name string, ours bool) {
	loc := d.Location()
	if loc.Host != h.origin.host || loc.Port != h.origin.port {
		return "", false
	}
	if len(loc.Path) != 1 || CheckName(loc.Path[0]) != nil {
		return "", true
	}
	return loc.Path[0], true
}

// httpGetter is a webvh.Getter over net/http.
type httpGetter struct {
	client *http.Client
}

func (g *httpGetter) Get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/jsonl, application/jsonl, application/json;q=0.9, */*;q=0.1")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: %s answered %s", did.ErrNotFound, u, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is over %d bytes", webvh.ErrTooLarge, u, limit)
	}
	return data, nil
}

// newTransport returns a transport with the timeouts above that dials localhost names in
// plain (and only those) on loopback, never asking DNS (RFC 6761 section 6.3), and refuses
// to connect anywhere else but public addresses, so that a DID naming an internal host
// cannot make the server probe its own network.
func newTransport(plain []string) *http.Transport {
	public := &net.Dialer{Timeout: DialTimeout, Control: refuseNonPublic}
	loopback := &net.Dialer{Timeout: DialTimeout}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if isLocalhostName(host) {
				if !slices.Contains(plain, host) {
					return nil, fmt.Errorf("%s is a localhost name this server does not fetch from", host)
				}
				return loopback.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			}
			return public.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: FetchTimeout,
		MaxIdleConns:          32,
		IdleConnTimeout:       time.Minute,
		ForceAttemptHTTP2:     true,
	}
}

// refuseNonPublic refuses a connection to an address that is not a public unicast one.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	ip := ap.Addr().Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return fmt.Errorf("%s is not a public address", ip)
	}
	return nil
}

// cachingGetter remembers what another Getter fetched, and its "not found", for ttl, at
// most size URLs. Other errors (a timeout, a refusal) are not remembered.
type cachingGetter struct {
	next webvh.Getter
	size int
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	data    []byte
	err     error
	limit   int64
	expires time.Time
}

func (c *cachingGetter) Get(ctx context.Context, u string, limit int64) ([]byte, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[u]
	c.mu.Unlock()
	if ok && now.Before(e.expires) && e.limit == limit {
		return e.data, e.err
	}
	data, err := c.next.Get(ctx, u, limit)
	if err != nil && !errors.Is(err, did.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.evict(now)
	}
	c.entries[u] = cached{data: data, err: err, limit: limit, expires: now.Add(c.ttl)}
	return data, err
}

// evict drops the expired entries, or the one that expires first if none has.
func (c *cachingGetter) evict(now time.Time) {
	oldest := ""
	for u, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, u)
		} else if oldest == "" || e.expires.Before(c.entries[oldest].expires) {
			oldest = u
		}
	}
	if len(c.entries) >= c.size {
		delete(c.entries, oldest)
	}
}

// len returns how many URLs the cache holds (tests).
func (c *cachingGetter) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// forget empties the cache.
func (c *cachingGetter) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
