package main

import (
	"net/http"
	"path"
	"regexp"
	"strings"
)

// contentSecurityPolicy holds the page to what PLANET promises: no inline script, no script
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
//   - https: covers WebTransport, whose URLs are https: URLs, to the same relays.
//
// WebRTC (ICE, DTLS) is not governed by connect-src and needs no entry.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; " +
	"img-src 'self' blob: data:; " +
	"connect-src 'self' ws: wss: https:; " +
	"worker-src 'self'; " +
	"manifest-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

// permissionsPolicy denies the powerful features PLANET never uses, to this page and to
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
const permissionsPolicy = "camera=(self), microphone=(self), geolocation=(), browsing-topics=()"

// setSecurityHeaders sets the headers every response carries, whatever its status.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", permissionsPolicy)
}

// Cache-Control values. Everything is revalidated on every use (a cheap 304, thanks to the
// ETag), so a new build is picked up at once and the service worker never serves a wasm that
// does not match its wasm_exec.js. Only a file whose name carries a hash of its content can
// be cached for good: a new version has a new name.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// hashedName matches base names like app.0123abcd.js: a dot, 8 or more hex digits, a dot and
// the extension, at the end of the name.
var hashedName = regexp.MustCompile(`.\.[0-9a-fA-F]{8,}\.[A-Za-z0-9]+$`)

func cacheControl(name string) string {
	if hashedName.MatchString(path.Base(name)) {
		return cacheImmutable
	}
	return cacheRevalidate
}

// fileType is how a file is served.
type fileType struct {
	contentType string
	// compress is false for formats that are already compressed.
	compress bool
}

// fileTypes is the complete list of what the server serves, by extension. A file whose
// extension is not listed is not served at all: no type is ever guessed or sniffed.
var fileTypes = map[string]fileType{
	".html":        {"text/html; charset=utf-8", true},
	".js":          {"text/javascript; charset=utf-8", true},
	".mjs":         {"text/javascript; charset=utf-8", true},
	".css":         {"text/css; charset=utf-8", true},
	".json":        {"application/json", true},
	".webmanifest": {"application/manifest+json", true},
	".wasm":        {"application/wasm", true},
	".svg":         {"image/svg+xml", true},
	".ico":         {"image/x-icon", true},
	".txt":         {"text/plain; charset=utf-8", true},
	// The TypeScript declaration of the wasm API, for people writing apps against it.
	".d.ts":  {"text/plain; charset=utf-8", true},
	".png":   {"image/png", false},
	".jpg":   {"image/jpeg", false},
	".jpeg":  {"image/jpeg", false},
	".webp":  {"image/webp", false},
	".woff2": {"font/woff2", false},
}

// typeOf returns how the file called name is served, and false if it is not served.
func typeOf(name string) (fileType, bool) {
	ext := path.Ext(name)
	if strings.HasSuffix(name, ".d.ts") {
		ext = ".d.ts"
	}
	t, ok := fileTypes[strings.ToLower(ext)]
	return t, ok
}
