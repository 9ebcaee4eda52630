package pagesite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/html"
)

// Links checked both ways (IndieWeb rel-me, docs/pages.md): every link on
// a profile carries rel="me", saying "this is me too"; when the linked
// page links back to the profile with rel="me" (an <a> or a <link>), the
// two say it of each other, and the page shows the link as verified both
// ways. The server fetches the linked pages itself, so it guards the
// fetch: http(s) only, public addresses only (a profile must not make the
// server probe its own network), bounded in time and size, and the
// answers are remembered for a while so a page read often costs its links'
// sites little.

// Bounds of a rel-me fetch.
const (
	RelMeTimeout  = 5 * time.Second // the whole fetch, redirects included
	RelMeMaxBytes = 512 << 10       // of the linked page read
	RelMeTTL      = 10 * time.Minute
	relMeFailTTL  = time.Minute // a failure is asked again sooner
	relMeMaxCache = 4096
	relMeParallel = 8 // fetches at once for one page
	relMeRedirs   = 5
)

// RelMeOptions configure a [RelMe].
type RelMeOptions struct {
	// Localhost lists the localhost names (RFC 6761) to fetch from, in
	// plain HTTP or HTTPS on loopback (127.0.0.1): for a server and its
	// tests on one machine. No other name reaching a loopback, private or
	// link-local address is fetched.
	Localhost []string
	// Now is the clock of the cache; nil is time.Now.
	Now func() time.Time
}

// RelMe checks rel="me" links back, remembering the answers.
type RelMe struct {
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[relMeKey]relMeEntry
}

type relMeKey struct{ link, profile string }

type relMeEntry struct {
	ok      bool
	expires time.Time
}

// NewRelMe returns a checker with its own guarded HTTP client.
func NewRelMe(opts RelMeOptions) *RelMe {
	r := &RelMe{now: opts.Now, cache: map[relMeKey]relMeEntry{}}
	if r.now == nil {
		r.now = time.Now
	}
	public := &net.Dialer{Timeout: RelMeTimeout, Control: refuseNonPublic}
	loopback := &net.Dialer{Timeout: RelMeTimeout}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			host = strings.ToLower(host)
			if host == "localhost" || strings.HasSuffix(host, ".localhost") {
				// Localhost names are never asked of DNS (RFC 6761
				// section 6.3), and only the listed ones are fetched.
				if !slices.Contains(opts.Localhost, host) {
					return nil, fmt.Errorf("%s is a localhost name this server does not fetch from", host)
				}
				return loopback.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			}
			return public.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   RelMeTimeout,
		ResponseHeaderTimeout: RelMeTimeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       time.Minute,
	}
	r.client = &http.Client{
		Transport: transport,
		Timeout:   RelMeTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= relMeRedirs {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("a redirect to %s, not http(s)", req.URL.Scheme)
			}
			return nil
		},
	}
	return r
}

// refuseNonPublic refuses a connection to an address that is not a
// public unicast one: loopback, private, link-local, multicast,
// unspecified.
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

// Check returns, for each link, whether the page it points at links back
// to one of profiles (the profile's URLs) with rel="me". Links are fetched
// at most relMeParallel at a time, each within [RelMeTimeout]; an answer
// is remembered for [RelMeTTL] (a failure for a minute).
func (r *RelMe) Check(ctx context.Context, links []string, profiles []string) map[string]bool {
	var unique []string
	for _, link := range links {
		if !slices.Contains(unique, link) {
			unique = append(unique, link)
		}
	}
	results := make([]bool, len(unique))
	var wg sync.WaitGroup
	sem := make(chan struct{}, relMeParallel)
	for i, link := range unique {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = r.check(ctx, link, profiles)
		})
	}
	wg.Wait()
	out := make(map[string]bool, len(unique))
	for i, link := range unique {
		out[link] = results[i]
	}
	return out
}

func (r *RelMe) check(ctx context.Context, link string, profiles []string) bool {
	key := relMeKey{link, strings.Join(profiles, " ")}
	now := r.now()
	r.mu.Lock()
	e, found := r.cache[key]
	r.mu.Unlock()
	if found && now.Before(e.expires) {
		return e.ok
	}
	ok, err := r.fetch(ctx, link, profiles)
	ttl := RelMeTTL
	if err != nil {
		ttl = relMeFailTTL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= relMeMaxCache {
		for k, e := range r.cache {
			if !now.Before(e.expires) {
				delete(r.cache, k)
			}
		}
		if len(r.cache) >= relMeMaxCache {
			clear(r.cache)
		}
	}
	r.cache[key] = relMeEntry{ok: ok, expires: now.Add(ttl)}
	return ok
}

// fetch reads the page at link and looks for a rel="me" link to one of
// profiles. An error is a page that could not be read (not one without a
// link back).
func (r *RelMe) fetch(ctx context.Context, link string, profiles []string) (bool, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, fmt.Errorf("%q is not an http(s) address", link)
	}
	ctx, cancel := context.WithTimeout(ctx, RelMeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/html, application/xhtml+xml")
	resp, err := r.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s answered %s", link, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "html") {
		return false, nil
	}
	for _, me := range RelMeLinks(io.LimitReader(resp.Body, RelMeMaxBytes), resp.Request.URL) {
		if slices.ContainsFunc(profiles, func(p string) bool { return SameProfile(me, p) }) {
			return true, nil
		}
	}
	return false, nil
}

// RelMeLinks returns the targets of the rel="me" links of an HTML page
// (<a> and <link> elements whose rel, a space-separated list compared
// without case, holds "me"), resolved against base (the page's own URL,
// or its <base href>). Only http(s) targets are returned. HTML is read
// as browsers read it, forgivingly: a page that is not HTML has no links.
func RelMeLinks(page io.Reader, base *url.URL) []string {
	var out []string
	z := html.NewTokenizer(page)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		tag := string(name)
		if (tag != "a" && tag != "link" && tag != "base") || !hasAttr {
			continue
		}
		var rel, href string
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			switch string(k) {
			case "rel":
				rel = string(v)
			case "href":
				href = string(v)
			}
		}
		if tag == "base" {
			if b, err := base.Parse(href); err == nil && href != "" {
				base = b
			}
			continue
		}
		if !slices.ContainsFunc(strings.Fields(rel), func(t string) bool { return strings.EqualFold(t, "me") }) {
			continue
		}
		t, err := base.Parse(strings.TrimSpace(href))
		if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
			continue
		}
		out = append(out, t.String())
	}
}

// SameProfile reports whether the URLs a and b name the same page, as
// rel-me compares them: the same host (without case) and path (a trailing
// slash aside), whichever of http and https, query and fragment aside.
func SameProfile(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Host == "" {
		return false
	}
	web := func(s string) bool { return s == "http" || s == "https" }
	return web(ua.Scheme) && web(ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.EscapedPath(), "/") == strings.TrimSuffix(ub.EscapedPath(), "/")
}
