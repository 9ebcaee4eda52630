package webvh

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"planet/core/did"

	"golang.org/x/net/idna"
)

// DID is a did:webvh DID, such as
// "did:webvh:QmcKnGa3dur9W5JbQ3CC7D95Aqy5g4tbp81U3QG8DG1wtv:example.com".
// It is made only by [ParseDID] (or [FromDID]), so holding one means the
// identifier passed every rule of the method: a base58btc SCID, a domain
// that is no IP address, path segments that stay in their directory.
//
// DIDs are comparable with ==, which compares their text.
type DID struct {
	d did.DID
}

// ParseDID parses s as a did:webvh DID (no path, query or fragment: see
// [ParseDIDURL] for those). The error wraps [ErrInvalidDID] and
// did.ErrInvalid.
func ParseDID(s string) (DID, error) {
	d, err := did.Parse(s)
	if errors.Is(err, did.ErrUnsupportedMethod) {
		return DID{}, fmt.Errorf("%w: %w: %q is not a did:webvh", ErrInvalidDID, did.ErrInvalid, s)
	}
	if err != nil {
		return DID{}, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	return FromDID(d)
}

// FromDID returns d as a did:webvh DID; it fails, wrapping [ErrInvalidDID]
// and did.ErrInvalid, if d is of another method.
func FromDID(d did.DID) (DID, error) {
	if _, err := d.WebVHLocation(); err != nil {
		return DID{}, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	return DID{d: d}, nil
}

// DID returns d as a did.DID.
func (d DID) DID() did.DID { return d.d }

// String returns the DID as text, as parsed.
func (d DID) String() string { return d.d.String() }

// IsZero reports whether d is the zero DID, which is not valid.
func (d DID) IsZero() bool { return d.d.IsZero() }

// SCID returns the DID's self-certifying identifier.
func (d DID) SCID() string {
	scid, _, _ := strings.Cut(d.d.MethodSpecificID(), ":")
	return scid
}

// Location returns the host, port and path the DID names.
func (d DID) Location() did.WebVHLocation {
	loc, _ := d.d.WebVHLocation() // checked when d was made
	return loc
}

// LogURL returns the HTTPS URL of the DID's log (spec "The DID to HTTPS
// Transformation"): https://host[:port]/path/did.jsonl, or
// https://host[:port]/.well-known/did.jsonl when the DID has no path.
func (d DID) LogURL() string { return d.fileBase(true) + "did.jsonl" }

// WitnessURL returns the HTTPS URL of the DID's did-witness.json, beside
// its log.
func (d DID) WitnessURL() string { return d.fileBase(true) + "did-witness.json" }

// BaseURL returns the HTTPS URL that DID URL paths resolve against (the
// implicit #files service): https://host[:port]/path/, never under
// .well-known.
func (d DID) BaseURL() string { return d.fileBase(false) }

// fileBase returns the directory of the log, ending in "/".
func (d DID) fileBase(wellKnown bool) string {
	loc := d.Location()
	var b strings.Builder
	b.WriteString("https://")
	b.WriteString(loc.Host)
	if loc.Port != 0 {
		b.WriteString(":" + strconv.Itoa(loc.Port))
	}
	b.WriteString("/")
	if len(loc.Path) == 0 && wellKnown {
		b.WriteString(".well-known/")
	}
	for _, seg := range loc.Path {
		b.WriteString(escapePathSegment(seg))
		b.WriteString("/")
	}
	return b.String()
}

// escapePathSegment percent-encodes everything but RFC 3986's unreserved
// characters, with uppercase hex digits, as the transformation asks.
func escapePathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// escapeDIDSegment percent-encodes what DID Core's idchar does not allow.
func escapeDIDSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; did.IsIDChar(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// DIDURL is a did:webvh DID URL: a DID with an optional path, query and
// fragment (DID Core section 3.2).
type DIDURL struct {
	DID      DID
	Path     string // "" or starting with "/", as written (still percent-encoded)
	Query    string // without the "?"
	Fragment string // without the "#"
}

// ParseDIDURL parses s as a did:webvh DID URL. The DID is split off before
// anything else, so neither a path, a query nor a fragment can leak into
// the host or the log's path. A path that would leave the DID's directory
// once decoded ("..", an encoded slash or backslash, NUL) is refused with
// [ErrInvalidDID], as the DID itself would be.
func ParseDIDURL(s string) (DIDURL, error) {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	d, err := ParseDID(s[:end])
	if err != nil {
		return DIDURL{}, err
	}
	u := DIDURL{DID: d}
	rest := s[end:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.Fragment, rest = rest[i+1:], rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Query, rest = rest[i+1:], rest[:i]
	}
	u.Path = rest
	if u.Path != "" {
		if _, err := cleanPath(u.Path); err != nil {
			return DIDURL{}, fmt.Errorf("%w: %w: path %w", ErrInvalidDID, did.ErrInvalid, err)
		}
	}
	return u, nil
}

// cleanPath checks a DID URL path ("/a/b.json") segment by segment and
// returns it re-encoded for an HTTPS URL, without the leading slash. The
// refusals are those the method applies to the DID's own path segments.
func cleanPath(p string) (string, error) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return "", errors.New("does not start with a slash")
	}
	if rest == "" {
		return "", errors.New("names no file")
	}
	segs := strings.Split(rest, "/")
	out := make([]string, len(segs))
	for i, seg := range segs {
		if seg == "" {
			return "", fmt.Errorf("has an empty segment %d", i+1)
		}
		decoded, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("segment %d has a bad percent-encoding", i+1)
		}
		switch {
		case decoded == "." || decoded == "..":
			return "", fmt.Errorf("segment %d is %q, which would climb the server's directories", i+1, decoded)
		case strings.ContainsAny(decoded, "/\\\x00"):
			return "", fmt.Errorf("segment %d decodes to %q, which holds a slash, backslash or NUL", i+1, decoded)
		case strings.TrimFunc(decoded, unicode.IsSpace) != decoded:
			return "", fmt.Errorf("segment %d begins or ends with whitespace", i+1)
		}
		for j := 0; j < len(seg); j++ {
			if c := seg[j]; c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c >= 0x7f {
				return "", fmt.Errorf("segment %d has %q, which a URL path may not hold", i+1, seg[j:j+1])
			}
		}
		out[i] = escapePathSegment(decoded)
	}
	return strings.Join(out, "/"), nil
}

// FileURL returns the HTTPS URL of the DID URL path p ("/posts/hello")
// under the implicit #files service: [DID.BaseURL] followed by the path.
// Use [Resolution.FileURL] to honour a #files service the document
// defines itself.
func (d DID) FileURL(p string) (string, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return "", fmt.Errorf("%w: path %w", ErrInvalidDID, err)
	}
	return d.BaseURL() + clean, nil
}

// scidPlaceholder stands for the SCID in the first entry until the SCID,
// its hash, is known.
const scidPlaceholder = "{SCID}"

// placeholderDID returns the DID that the first entry is written with:
// "did:webvh:{SCID}:" and the location, the host IDNA-encoded, a port as
// "%3A", path segments percent-encoded. It checks the result would parse
// once the SCID replaces the placeholder.
func placeholderDID(host string, port int, path []string) (string, error) {
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("%w: host %q: %v", ErrInvalidDID, host, err)
	}
	var b strings.Builder
	b.WriteString("did:webvh:" + scidPlaceholder + ":")
	b.WriteString(strings.ToLower(ascii))
	if port != 0 {
		b.WriteString("%3A" + strconv.Itoa(port))
	}
	for _, seg := range path {
		b.WriteString(":" + escapeDIDSegment(seg))
	}
	s := b.String()
	check := strings.Replace(s, scidPlaceholder, strings.Repeat("1", did.WebVHSCIDLength), 1)
	if _, err := ParseDID(check); err != nil {
		return "", err
	}
	return s, nil
}
