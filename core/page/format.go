package page

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"planet/core/did"
)

// slugPattern is a post's slug: lowercase, digits and hyphens, so that it
// is the same in a file name, a URL and a DID URL without any escaping.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,79}$`)

// picturePattern is the path of the profile picture under #files: plain
// segments of safe characters ending in an image extension.
var picturePattern = regexp.MustCompile(`^([A-Za-z0-9_-][A-Za-z0-9._-]{0,63}/){0,3}[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}\.(jpg|jpeg|png|webp|gif|avif)$`)

// CheckSlug reports whether s is a valid slug.
func CheckSlug(s string) error {
	if !slugPattern.MatchString(s) {
		return fmt.Errorf("%w: slug %q is not 1-80 of a-z, 0-9 and '-' (not starting with '-')", ErrMalformed, s)
	}
	return nil
}

// timeLayout is how the documents write times: UTC, to the second.
const timeLayout = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(timeLayout) }

// obj reads the members of a decoded JSON object, remembering the first
// failure so a decoder reads as a list of fields.
type obj struct {
	m    map[string]any
	path string // "" at the top, "links[2]." below
	err  error
}

func (o *obj) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// members checks that o has exactly the required members and no others
// than the optional ones.
func (o *obj) members(required []string, optional ...string) {
	for _, k := range required {
		if _, ok := o.m[k]; !ok {
			o.fail("member %s%s is missing", o.path, k)
		}
	}
	for k := range o.m {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			o.fail("member %s%q is not part of the format", o.path, k)
		}
	}
}

// text reads a string member: valid UTF-8 (the decoder checked), at most
// max bytes, no control characters except newlines where multiline.
func (o *obj) text(name string, max int, multiline, optional bool) string {
	v, ok := o.m[name]
	if !ok && optional {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.fail("%s%s is not a string", o.path, name)
		return ""
	}
	if len(s) > max {
		if name == "body" {
			o.err = fmt.Errorf("%w: body is %d bytes, more than %d", ErrTooLarge, len(s), max)
		}
		o.fail("%s%s is %d bytes, more than %d", o.path, name, len(s), max)
		return ""
	}
	if strings.TrimSpace(s) == "" && !optional {
		o.fail("%s%s is empty", o.path, name)
	}
	for _, r := range s {
		if (unicode.IsControl(r) && !(multiline && r == '\n')) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			o.fail("%s%s holds the control character %U", o.path, name, r)
			break
		}
	}
	return s
}

func (o *obj) time(name string, optional bool) time.Time {
	v, ok := o.m[name]
	if !ok && optional {
		return time.Time{}
	}
	s, _ := v.(string)
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		o.fail("%s%s %q is not a UTC time such as 2026-01-02T03:04:05Z", o.path, name, s)
	}
	return t
}

// list reads an array member of objects, at most max.
func (o *obj) list(name string, max int) []*obj {
	v, ok := o.m[name].([]any)
	if !ok {
		o.fail("%s%s is not an array", o.path, name)
		return nil
	}
	if len(v) > max {
		if o.err == nil {
			o.err = fmt.Errorf("%w: %s has %d entries, more than %d", ErrTooLarge, name, len(v), max)
		}
		return nil
	}
	out := make([]*obj, len(v))
	for i, e := range v {
		m, ok := e.(map[string]any)
		if !ok {
			o.fail("%s%s[%d] is not an object", o.path, name, i)
			return nil
		}
		out[i] = &obj{m: m, path: fmt.Sprintf("%s%s[%d].", o.path, name, i)}
	}
	return out
}

func (o *obj) collect(child *obj) {
	if o.err == nil {
		o.err = child.err
	}
}

// checkURL refuses a link that is not an absolute http(s) URL with a host:
// a javascript: or data: URL in a page would run in the reader's browser.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an http or https URL", s)
	}
	return nil
}

// Common members of every document.
var commonMembers = []string{"@context", "type", "id", "author", "proof"}

// header is what every document carries besides its content.
type header struct {
	typ    string
	id     string
	author string
	proof  map[string]any
}

// readHeader checks @context and type and reads id, author and proof.
func readHeader(m map[string]any) (header, error) {
	ctx, _ := m["@context"].([]any)
	if len(ctx) != 1 || ctx[0] != Context {
		return header{}, fmt.Errorf("%w: @context is %s, want [%q]", ErrUnknownType, describe(m["@context"]), Context)
	}
	h := header{}
	h.typ, _ = m["type"].(string)
	switch h.typ {
	case TypeProfile, TypePost, TypeIndex:
	default:
		return header{}, fmt.Errorf("%w: type is %s, want %s, %s or %s", ErrUnknownType, describe(m["type"]), TypeProfile, TypePost, TypeIndex)
	}
	var ok bool
	if h.id, ok = m["id"].(string); !ok || len(h.id) > maxURL {
		return header{}, fmt.Errorf("%w: id is missing, not a string or too long", ErrMalformed)
	}
	if h.author, ok = m["author"].(string); !ok || len(h.author) > maxURL {
		return header{}, fmt.Errorf("%w: author is missing, not a string or too long", ErrMalformed)
	}
	if h.proof, ok = m["proof"].(map[string]any); !ok {
		return header{}, fmt.Errorf("%w: proof is missing or not an object (one proof is expected)", ErrMalformed)
	}
	return h, nil
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "missing"
	case string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprintf("%v", v)
	}
}

// decodeProfile reads a profile's members.
func decodeProfile(m map[string]any) (*Profile, error) {
	o := &obj{m: m}
	o.members(append([]string{"name", "summary", "links", "relationships", "updated"}, commonMembers...), "picture")
	p := &Profile{
		Name:    o.text("name", maxLine, false, false),
		Summary: o.text("summary", maxSummary, false, true),
		Picture: o.text("picture", 300, false, true),
		Updated: o.time("updated", false),
	}
	if _, ok := m["picture"]; ok && o.err == nil && !picturePattern.MatchString(p.Picture) {
		o.fail("picture %q is not a path of an image file under the DID", p.Picture)
	}
	for _, l := range o.list("links", MaxLinks) {
		l.members([]string{"title", "url"})
		link := Link{Title: l.text("title", maxLine, false, false), URL: l.text("url", maxURL, false, false)}
		if l.err == nil {
			if err := checkURL(link.URL); err != nil {
				l.fail("%surl: %v", l.path, err)
			}
		}
		o.collect(l)
		p.Links = append(p.Links, link)
	}
	for _, r := range o.list("relationships", MaxRelationships) {
		r.members([]string{"name", "did"}, "since")
		rel := Relationship{Name: r.text("name", maxLine, false, false), DID: r.text("did", maxURL, false, false), Since: r.time("since", true)}
		if r.err == nil {
			if _, err := did.Parse(rel.DID); err != nil {
				r.fail("%sdid: %v", r.path, err)
			}
		}
		o.collect(r)
		p.Relationships = append(p.Relationships, rel)
	}
	if o.err != nil {
		return nil, o.err
	}
	return p, nil
}

func (p *Profile) members() map[string]any {
	links := []any{}
	for _, l := range p.Links {
		links = append(links, map[string]any{"title": l.Title, "url": l.URL})
	}
	rels := []any{}
	for _, r := range p.Relationships {
		m := map[string]any{"name": r.Name, "did": r.DID}
		if !r.Since.IsZero() {
			m["since"] = formatTime(r.Since)
		}
		rels = append(rels, m)
	}
	m := map[string]any{"name": p.Name, "summary": p.Summary, "links": links, "relationships": rels, "updated": formatTime(p.Updated)}
	if p.Picture != "" {
		m["picture"] = p.Picture
	}
	return m
}

func decodePost(m map[string]any) (*Post, error) {
	o := &obj{m: m}
	o.members(append([]string{"slug", "title", "body", "published", "updated"}, commonMembers...), "summary")
	p := &Post{
		Slug:      o.text("slug", 80, false, false),
		Title:     o.text("title", maxLine, false, false),
		Summary:   o.text("summary", maxSummary, false, true),
		Body:      o.text("body", MaxBody, true, false),
		Published: o.time("published", false),
		Updated:   o.time("updated", false),
	}
	if o.err == nil {
		if err := CheckSlug(p.Slug); err != nil {
			return nil, err
		}
		if p.Updated.Before(p.Published) {
			o.fail("updated %s is before published %s", formatTime(p.Updated), formatTime(p.Published))
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	return p, nil
}

func (p *Post) members() map[string]any {
	m := map[string]any{"slug": p.Slug, "title": p.Title, "body": p.Body, "published": formatTime(p.Published), "updated": formatTime(p.Updated)}
	if p.Summary != "" {
		m["summary"] = p.Summary
	}
	return m
}

func decodeIndex(m map[string]any) (*Index, error) {
	o := &obj{m: m}
	o.members(append([]string{"posts", "updated"}, commonMembers...))
	x := &Index{Updated: o.time("updated", false)}
	seen := map[string]bool{}
	for _, e := range o.list("posts", MaxPosts) {
		e.members([]string{"slug", "title", "published", "updated"}, "summary")
		entry := IndexEntry{
			Slug:      e.text("slug", 80, false, false),
			Title:     e.text("title", maxLine, false, false),
			Summary:   e.text("summary", maxSummary, false, true),
			Published: e.time("published", false),
			Updated:   e.time("updated", false),
		}
		if e.err == nil {
			if err := CheckSlug(entry.Slug); err != nil {
				e.err = fmt.Errorf("%sslug: %w", e.path, err)
			} else if seen[entry.Slug] {
				e.fail("%sslug %q is listed twice", e.path, entry.Slug)
			}
		}
		seen[entry.Slug] = true
		o.collect(e)
		x.Posts = append(x.Posts, entry)
	}
	if o.err != nil {
		return nil, o.err
	}
	return x, nil
}

func (x *Index) members() map[string]any {
	posts := []any{}
	for _, e := range x.Posts {
		m := map[string]any{"slug": e.Slug, "title": e.Title, "published": formatTime(e.Published), "updated": formatTime(e.Updated)}
		if e.Summary != "" {
			m["summary"] = e.Summary
		}
		posts = append(posts, m)
	}
	return map[string]any{"posts": posts, "updated": formatTime(x.Updated)}
}
