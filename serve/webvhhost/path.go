package webvhhost

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSegment bounds a canonical segment, well under what file systems allow in a name (255).
const maxSegment = 200

// CheckPath checks the path of a file under a name ("posts/hello.html", as the URL has it
// after "/<name>/", no leading slash) and returns its canonical form, which is also where
// it is stored under files/. The rules are those did:webvh applies to DID URL paths
// (core/did/webvh: no "." or ".." segment, no empty segment, nothing that decodes to a
// slash, a backslash, NUL or surrounding whitespace, only characters a URL path may hold),
// and the server's own: at most MaxPathDepth segments, each ASCII (other bytes
// percent-encoded) decoding to UTF-8 without control characters and not beginning with a
// dot (the store's temporary files do), at most maxSegment bytes once canonical.
//
// The canonical form percent-decodes each segment once and encodes it again keeping only
// RFC 3986's unreserved characters, with uppercase hex: "a%7eb" and "a~b" are one file.
// The error wraps ErrBadPath and names the segment.
func CheckPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty", ErrBadPath)
	}
	segs := strings.Split(p, "/")
	if len(segs) > MaxPathDepth {
		return "", fmt.Errorf("%w: %d segments, at most %d", ErrBadPath, len(segs), MaxPathDepth)
	}
	out := make([]string, len(segs))
	for i, seg := range segs {
		c, err := checkSegment(seg)
		if err != nil {
			return "", fmt.Errorf("%w: segment %d %s", ErrBadPath, i+1, err)
		}
		out[i] = c
	}
	return strings.Join(out, "/"), nil
}

func checkSegment(seg string) (string, error) {
	if seg == "" {
		return "", fmt.Errorf("is empty")
	}
	for j := 0; j < len(seg); j++ {
		if c := seg[j]; c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '?' || c == '#' || c >= 0x7f {
			return "", fmt.Errorf("has %q, which a URL path may not hold unencoded", seg[j:j+1])
		}
	}
	decoded, err := url.PathUnescape(seg)
	if err != nil {
		return "", fmt.Errorf("has a bad percent-encoding")
	}
	switch {
	case decoded == "." || decoded == "..":
		return "", fmt.Errorf("is %q, which would climb the directories", decoded)
	case strings.HasPrefix(decoded, "."):
		return "", fmt.Errorf("begins with a dot")
	case !utf8.ValidString(decoded):
		return "", fmt.Errorf("does not decode to UTF-8")
	case strings.ContainsAny(decoded, "/\\"):
		return "", fmt.Errorf("decodes to a slash or backslash")
	case strings.TrimFunc(decoded, unicode.IsSpace) != decoded:
		return "", fmt.Errorf("begins or ends with whitespace")
	case strings.IndexFunc(decoded, unicode.IsControl) >= 0:
		return "", fmt.Errorf("decodes to a control character")
	}
	c := escapeSegment(decoded)
	if len(c) > maxSegment {
		return "", fmt.Errorf("is %d bytes once encoded, at most %d", len(c), maxSegment)
	}
	return c, nil
}

// escapeSegment percent-encodes everything but RFC 3986's unreserved characters, with
// uppercase hex, as did:webvh's transformation does.
func escapeSegment(s string) string {
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
