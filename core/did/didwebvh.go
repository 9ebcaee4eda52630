package did

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// did:webvh (DIF did:webvh 1.0, decentralized-identity/didwebvh,
// spec-v1.0/specification.md, "Method-Specific Identifier"): the id is
// scid ":" domain *(":" path-segment). Only the identifier's syntax lives
// here, so that [Parse] can refuse a hostile did:webvh before anything
// fetches it; its log, its proofs and its resolution are package
// core/did/webvh's.

// MethodWebVH is the method name of did:webvh.
const MethodWebVH = "webvh"

// WebVHSCIDLength is the length of a did:webvh SCID: the base58btc form of
// a 34-byte SHA-256 multihash.
const WebVHSCIDLength = 46

// WebVHLocation is what a did:webvh identifier says, decoded: its SCID and
// where its log lives.
type WebVHLocation struct {
	// SCID is the self-certifying identifier, as written in the DID.
	SCID string
	// Host is the domain in ASCII form: percent-decoded, IDNA-processed
	// (internationalised labels become "xn--" punycode) and lowercase.
	Host string
	// Port is the TCP port, or 0 when the DID names none (443).
	Port int
	// Path holds the decoded path segments that locate the log, in order;
	// none for a log under /.well-known/.
	Path []string
}

// WebVHLocation returns the location a did:webvh DID names. It returns an
// error wrapping [ErrInvalid] for the zero DID and DIDs of other methods.
func (d DID) WebVHLocation() (WebVHLocation, error) {
	method, id := d.split()
	if method != MethodWebVH {
		return WebVHLocation{}, fmt.Errorf("%w: %q is not a did:webvh", ErrInvalid, d.s)
	}
	return parseWebVHID(id)
}

// parseWebVHID checks the method-specific id of a did:webvh against the
// method's ABNF and the rules on its decoded values, and returns what it
// names. Every refusal here is a DID that a resolver must not fetch: an IP
// address (or anything a URL parser would turn into one) instead of a
// domain, a path segment that climbs out of its directory once decoded,
// a port out of range.
func parseWebVHID(id string) (WebVHLocation, error) {
	segments := strings.Split(id, ":")
	if len(segments) < 2 {
		return WebVHLocation{}, fmt.Errorf("%w: did:webvh needs a scid and a domain", ErrInvalid)
	}
	var loc WebVHLocation
	loc.SCID = segments[0]
	if err := checkWebVHSCID(loc.SCID); err != nil {
		return WebVHLocation{}, fmt.Errorf("%w: did:webvh %w", ErrInvalid, err)
	}
	var err error
	if loc.Host, loc.Port, err = parseWebVHDomain(segments[1]); err != nil {
		return WebVHLocation{}, fmt.Errorf("%w: did:webvh domain %w", ErrInvalid, err)
	}
	for i, seg := range segments[2:] {
		decoded, err := decodeWebVHPathSegment(seg)
		if err != nil {
			return WebVHLocation{}, fmt.Errorf("%w: did:webvh path segment %d %w", ErrInvalid, i+1, err)
		}
		loc.Path = append(loc.Path, decoded)
	}
	return loc, nil
}

// checkWebVHSCID checks the scid production: 46 base58btc characters.
func checkWebVHSCID(scid string) error {
	if len(scid) != WebVHSCIDLength {
		return fmt.Errorf("scid is %d characters, want %d", len(scid), WebVHSCIDLength)
	}
	for i := 0; i < len(scid); i++ {
		if !isBase58(scid[i : i+1]) {
			return fmt.Errorf("scid has %q at offset %d: not base58btc", scid[i:i+1], i)
		}
	}
	return nil
}

// parseWebVHDomain reads the domain segment: encoded labels joined by dots,
// an optional "%3A" port at the end, percent-decoded exactly once, then
// IDNA-processed and checked as a DNS name that is not an IP address.
func parseWebVHDomain(seg string) (host string, port int, err error) {
	encoded := seg
	if i := strings.LastIndex(strings.ToUpper(seg), "%3A"); i >= 0 {
		digits := seg[i+3:]
		if digits == "" || len(digits) > 5 || strings.Trim(digits, "0123456789") != "" {
			return "", 0, errors.New("has a percent-encoded colon that is not a port separator followed by 1 to 5 digits")
		}
		port, _ = strconv.Atoi(digits)
		if port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("port %s is not between 1 and 65535", digits)
		}
		encoded = seg[:i]
	}
	labels := strings.Split(encoded, ".")
	if len(labels) < 2 {
		return "", 0, errors.New("is not a fully qualified name: it needs at least two labels")
	}
	for _, l := range labels {
		if l == "" {
			return "", 0, errors.New("has an empty label")
		}
		for j := 0; j < len(l); j++ {
			if c := l[j]; !(c == '-' || c == '%' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return "", 0, fmt.Errorf("label %q has %q: only letters, digits, hyphens and percent-encodings are allowed", l, l[j:j+1])
			}
		}
	}
	decoded, err := percentDecode(encoded)
	if err != nil {
		return "", 0, err
	}
	if strings.ContainsAny(decoded, ":/\\@?#[] \x00") {
		return "", 0, fmt.Errorf("decodes to %q, which holds a character no host name may hold", decoded)
	}
	// A URL parser would read these as an IPv4 address; a DID must name a
	// domain whose TLS certificate says who serves the log.
	if looksLikeIPv4(decoded) {
		return "", 0, fmt.Errorf("decodes to %q, an IP address rather than a domain", decoded)
	}
	ascii, err := idna.Lookup.ToASCII(decoded)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not a valid internationalised domain name: %v", decoded, err)
	}
	ascii = strings.ToLower(ascii)
	if _, err := netip.ParseAddr(ascii); err == nil || looksLikeIPv4(ascii) {
		return "", 0, fmt.Errorf("decodes to %q, an IP address rather than a domain", ascii)
	}
	if len(ascii) > 253 {
		return "", 0, fmt.Errorf("is %d bytes long once encoded, more than DNS allows (253)", len(ascii))
	}
	asciiLabels := strings.Split(ascii, ".")
	if len(asciiLabels) < 2 {
		return "", 0, errors.New("is not a fully qualified name: it needs at least two labels")
	}
	for _, l := range asciiLabels {
		if l == "" || len(l) > 63 {
			return "", 0, fmt.Errorf("label %q is empty or longer than 63 bytes", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", 0, fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for j := 0; j < len(l); j++ {
			if c := l[j]; !(c == '-' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
				return "", 0, fmt.Errorf("label %q has %q once encoded", l, l[j:j+1])
			}
		}
	}
	return ascii, port, nil
}

// looksLikeIPv4 reports whether a WHATWG URL parser would take host for an
// IPv4 address: its last label is a number (decimal, 0x hex or octal),
// which covers "127.0.0.1" and also "127.1" or "0x7f.1".
func looksLikeIPv4(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndex(host, ".")+1:]
	if last == "" {
		return false
	}
	lower := strings.ToLower(last)
	if hex, ok := strings.CutPrefix(lower, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// decodeWebVHPathSegment checks one path segment (1*idchar) and returns it
// decoded, refusing what would name another directory or file once a web
// server reads it: ".", "..", a slash or backslash, NUL, and surrounding
// whitespace.
func decodeWebVHPathSegment(seg string) (string, error) {
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; c != '%' && !IsIDChar(c) {
			return "", fmt.Errorf("has %q: not allowed", seg[i:i+1])
		}
	}
	decoded, err := percentDecode(seg)
	if err != nil {
		return "", err
	}
	switch {
	case decoded == "":
		return "", errors.New("is empty")
	case decoded == "." || decoded == "..":
		return "", fmt.Errorf("is %q, which would climb the server's directories", decoded)
	case strings.ContainsAny(decoded, "/\\\x00"):
		return "", fmt.Errorf("decodes to %q, which holds a slash, backslash or NUL", decoded)
	case !utf8.ValidString(decoded):
		return "", errors.New("does not decode to UTF-8")
	}
	first, _ := utf8.DecodeRuneInString(decoded)
	last, _ := utf8.DecodeLastRuneInString(decoded)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "", fmt.Errorf("decodes to %q, which begins or ends with whitespace", decoded)
	}
	return decoded, nil
}

// percentDecode decodes %XX sequences once; a '%' not followed by two hex
// digits is an error.
func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
			return "", fmt.Errorf("has a bad percent-encoding at offset %d", i)
		}
		v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
