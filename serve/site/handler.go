package site

import (
	"net/http"
	"strconv"
	"strings"

	"planet/serve/response"
)

// ServeHTTP serves GET and HEAD for the site's files; "/" and any path ending in "/" mean the
// index.html there. Requests for hidden files, or with ".." in the path, are refused.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	response.SetSecurityHeaders(h)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		response.Error(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	name, status := assetName(r.URL.Path)
	if status != http.StatusOK {
		response.Error(w, status, strings.ToLower(http.StatusText(status)))
		return
	}
	a, ok := s.assets[name]
	if !ok {
		response.Error(w, http.StatusNotFound, "not found")
		return
	}
	a.serve(w, r)
}

// assetName maps a request path to an asset's name. A path with "..", "." or a backslash is a
// bad request; one naming a hidden file or directory (".git", ".env") is simply not found.
// Nothing here touches the file system: only names loaded at startup can ever be served.
func assetName(p string) (string, int) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", http.StatusBadRequest
	}
	name := p[1:]
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	status := http.StatusOK
	for seg := range strings.SplitSeq(name, "/") {
		switch {
		case seg == "." || seg == "..":
			return "", http.StatusBadRequest
		case seg == "" || strings.HasPrefix(seg, "."):
			status = http.StatusNotFound
		}
	}
	return name, status
}

// serve answers a GET or HEAD for a, following RFC 9110: content negotiation, then the
// conditions (If-Match, If-None-Match, then Range with If-Range). There are no dates: the
// strong ETags are the only validators.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	v := a.choose(r.Header.Values("Accept-Encoding"))
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cacheControl)
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", v.etag)
	if v.coding != "" {
		h.Set("Content-Encoding", v.coding)
	}
	h.Set("Accept-Ranges", "bytes")

	if im := r.Header.Values("If-Match"); len(im) > 0 && !response.ETagMatches(im, v.etag, false) {
		response.Error(w, http.StatusPreconditionFailed, "precondition failed")
		return
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && response.ETagMatches(inm, v.etag, true) {
		// A 304 carries the validator and the caching headers, not the metadata of a body
		// it does not have (RFC 9110, section 15.4.5).
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		h.Del("Accept-Ranges")
		w.WriteHeader(http.StatusNotModified)
		return
	}

	body, status := v.body, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && r.Method == http.MethodGet && ifRange(r, v.etag) {
		size := len(body)
		start, end, ok, satisfiable := parseRange(rg, size)
		switch {
		case !ok:
			// Malformed, several ranges, or an empty body: send the whole, as a server may.
		case !satisfiable:
			h.Set("Content-Range", "bytes */"+strconv.Itoa(size))
			response.Error(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
			return
		default:
			h.Set("Content-Range", "bytes "+strconv.Itoa(start)+"-"+strconv.Itoa(end-1)+"/"+strconv.Itoa(size))
			body, status = body[start:end], http.StatusPartialContent
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// choose picks the variant to send for the Accept-Encoding field values accept: the coding
// with the highest q-value, br before gzip before the identity when q-values tie. A coding
// the client gave q=0 is never sent. Without Accept-Encoding the identity is sent, and so it
// is when nothing the client accepts is on offer, even if it excluded the identity too (RFC
// 9110, section 12.5.3: respond without content coding).
func (a *asset) choose(accept []string) variant {
	identity := a.variants[len(a.variants)-1]
	if len(accept) == 0 {
		return identity
	}
	weights, star := parseAcceptEncoding(accept)
	weight := func(c string) float64 {
		if q, ok := weights[c]; ok {
			return q
		}
		if star >= 0 {
			return star
		}
		if c == "identity" {
			// Acceptable unless excluded, but below any coding the client named: one that
			// sends "br;q=0.5" wants brotli, just not as much as something else it listed.
			return 0.0005
		}
		return 0
	}
	best, bestQ := identity, 0.0
	for _, v := range a.variants {
		c := v.coding
		if c == "" {
			c = "identity"
		}
		if q := weight(c); q > bestQ {
			best, bestQ = v, q
		}
	}
	return best
}

// parseAcceptEncoding returns the q-value of each coding named (lower case; x-gzip counts as
// gzip; the first mention wins) and that of "*", or -1 if there is none. An element whose
// q-value cannot be parsed is ignored.
func parseAcceptEncoding(values []string) (map[string]float64, float64) {
	weights := make(map[string]float64)
	star := -1.0
	for _, value := range values {
		for elem := range strings.SplitSeq(value, ",") {
			name, params, _ := strings.Cut(elem, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if name == "x-gzip" {
				name = "gzip"
			}
			q, ok := 1.0, true
			for param := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q, ok = response.ParseQ(strings.TrimSpace(val))
				}
			}
			if !ok {
				continue
			}
			if name == "*" {
				if star < 0 {
					star = q
				}
				continue
			}
			if _, seen := weights[name]; !seen {
				weights[name] = q
			}
		}
	}
	return weights, star
}

// ifRange reports whether a Range request should be honoured: without If-Range always, with
// one only if it holds the current strong ETag. A date never matches, since no
// Last-Modified is ever sent.
func ifRange(r *http.Request, etag string) bool {
	ir := strings.TrimSpace(r.Header.Get("If-Range"))
	return ir == "" || ir == etag
}

// parseRange parses a Range field for a body of size bytes and returns the half-open range
// [start, end). ok is false when the field should be ignored: malformed, another unit, more
// than one range (a multipart response is not worth it for this site), or an empty body.
// satisfiable is false when the one range lies wholly outside the body (answered with 416).
func parseRange(field string, size int) (start, end int, ok, satisfiable bool) {
	unit, spec, found := strings.Cut(field, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") || size == 0 {
		return 0, 0, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	if first == "" { // suffix range: the last n bytes
		n, ok := parseDigits(last)
		if !ok {
			return 0, 0, false, false
		}
		if n == 0 {
			return 0, 0, true, false
		}
		return max(0, size-n), size, true, true
	}
	a, ok := parseDigits(first)
	if !ok {
		return 0, 0, false, false
	}
	b := size - 1
	if last != "" {
		if b, ok = parseDigits(last); !ok || b < a {
			return 0, 0, false, false
		}
	}
	if a >= size {
		return 0, 0, true, false
	}
	return a, min(b, size-1) + 1, true, true
}

// parseDigits parses a non-negative decimal with no sign; values beyond any body size clamp.
func parseDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<40 {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}
