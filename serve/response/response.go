// Package response holds what every HTTP response of the server has in common, whichever
// part answers it (the static site, the resolver, the relay's address document): the security
// headers with the page's Content-Security-Policy, the Cache-Control values, short plain-text
// errors, q-values for content negotiation, ETag matching for conditional requests, and
// bodies that HEAD leaves out.
package response

import (
	"net/http"
	"strconv"
	"strings"
)

// ContentSecurityPolicy holds the page to what PLANET promises: no inline script, no script
// from anywhere but this origin, and wasm compilation as the one exception to "no eval".
//
// connect-src decides where the page may open fetch, WebSocket and WebTransport connections:
//   - 'self' covers this origin: the resolver, and /.well-known/planet/relay.json, which tells
//     the page where this server's relay node listens.
//   - ws: and wss: reach relays over WebSocket. This server's own relay listens on its own
//     port (-relay-port), which 'self' does not cover, and invitations and introductions carry
//     other servers' relay addresses, so the hosts cannot be listed in advance: narrowing this
//     to known relays would tie the page to particular operators. Plain ws: is needed because a
//     PLANET server's relay speaks WebSocket without TLS unless a proxy fronts it; that exposes
//     nothing, since libp2p runs Noise inside every connection and authenticates the relay by
//     the peer ID its address ends with. (A page served over https: cannot use ws: anyway: the
//     browser blocks it as mixed content.)
//   - https: covers WebTransport, whose URLs are https: URLs, to the same relays, and the
//     did:webvh logs and pages the tab resolves and reads (docs/didwebvh.md).
//   - http://*.localhost:* covers did:webvh on a server on loopback without TLS (tests, a
//     developer's machine; docs/pages-hosting.md): names under localhost are loopback by
//     RFC 6761 and browsers resolve them so, so this reaches nothing beyond the machine.
//
// WebRTC (ICE, DTLS) is not governed by connect-src and needs no entry.
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; " +
	"img-src 'self' blob: data:; " +
	"connect-src 'self' ws: wss: https: http://*.localhost:*; " +
	"worker-src 'self'; " +
	"manifest-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

// PermissionsPolicy denies the powerful features PLANET never uses, to this page and to
// anything it might embed.
//
// Camera and microphone are allowed to this origin (self), not denied: browser-to-browser
// WebRTC on one machine depends on them. Chromium hides a page's host ICE candidates behind
// mDNS .local names until the page holds a media permission; with the permission granted it
// reveals the loopback candidates that connecting two tabs (and the WebRTC tests) rely on. A
// later voice or video call needs them too. "=()" would make getUserMedia fail for good.
//
// browsing-topics=() opts out of Chromium's interest-based advertising API. The older
// interest-cohort feature (FLoC) is not listed: Chromium no longer knows it and reports an
// error in the page's console for every response that names it.
const PermissionsPolicy = "camera=(self), microphone=(self), geolocation=(), browsing-topics=()"

// SetSecurityHeaders sets the headers every response carries, whatever its status.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", PermissionsPolicy)
}

// Cache-Control values. Everything is revalidated on every use (a cheap 304, thanks to the
// ETag), so a new build is picked up at once and the service worker never serves a wasm that
// does not match its wasm_exec.js. Only a file whose name carries a hash of its content can
// be cached for good: a new version has a new name.
const (
	CacheRevalidate = "no-cache"
	CacheImmutable  = "public, max-age=31536000, immutable"
)

// Error writes a short text response. It drops what was set for the asset: an error is
// not encoded, has no ETag, and is never cached.
func Error(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Set("Cache-Control", CacheRevalidate)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// ETagMatches reports whether the If-Match or If-None-Match field values list etag (or
// are "*"). The weak comparison (If-None-Match) ignores a W/ prefix; the strong one
// (If-Match) requires both tags to be strong and equal.
func ETagMatches(values []string, etag string, weak bool) bool {
	for _, value := range values {
		s := value
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			isWeak := strings.HasPrefix(s, "W/")
			if isWeak {
				s = s[2:]
			}
			if s == "" || s[0] != '"' {
				break // malformed: ignore the rest of this value
			}
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				break
			}
			tag := s[:end+2]
			s = s[end+2:]
			if tag == etag && (weak || !isWeak) {
				return true
			}
		}
	}
	return false
}

// Write sends body with status and its Content-Length, leaving the body out for HEAD.
func Write(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// ParseQ parses a qvalue: 0 to 1 with at most three decimals.
func ParseQ(s string) (float64, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 0, false
	}
	return q, true
}
