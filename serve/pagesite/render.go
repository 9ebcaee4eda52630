package pagesite

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"planet/core/page"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"paras":    paragraphs,
	"script":   func() string { return VerifyScript },
	"css":      func() string { return AssetsPrefix + "page.css" },
}).ParseFS(templateFS, "templates/*.html"))

// profileView is what profile.html shows.
type profileView struct {
	*site
	Title       string
	Description string
	URL         string // the page's canonical https URL
	Picture     string // the picture's https URL, or ""
	Docs        string // the documents the browser's script checks, space-separated
	// BothWays says, by URL, which links link back to this page with
	// rel="me" (nil when links are not checked).
	BothWays map[string]bool
}

func (h *Handler) serveProfile(w http.ResponseWriter, r *http.Request, name string) {
	s, f := h.load(name)
	if f != nil {
		h.errorPage(w, f.status, f.title, f.msg)
		return
	}
	if s.Deactivated {
		h.render(w, r, http.StatusGone, "deactivated.html", s)
		return
	}
	v := profileView{site: s, Title: name, URL: s.Base, Docs: page.ProfilePath + " " + page.IndexPath}
	if s.Profile != nil {
		v.Title, v.Description = s.Profile.Name, s.Profile.Summary
		if s.Profile.Picture != "" {
			v.Picture = s.Base + s.Profile.Picture
		}
		v.BothWays = h.checkLinks(r, s)
	}
	if s.Whois != nil {
		v.Docs += " " + page.WhoisPath
	}
	h.render(w, r, http.StatusOK, "profile.html", v)
}

// checkLinks checks the profile's links both ways: whether each links
// back with rel="me" to this page, by its DID's URL or the URL it was
// asked by.
func (h *Handler) checkLinks(r *http.Request, s *site) map[string]bool {
	if h.relme == nil || len(s.Profile.Links) == 0 {
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	links := make([]string, len(s.Profile.Links))
	for i, l := range s.Profile.Links {
		links[i] = l.URL
	}
	return h.relme.Check(r.Context(), links, []string{s.Base, scheme + "://" + r.Host + "/" + s.Name + "/"})
}

// postView is what post.html shows.
type postView struct {
	*site
	Slug   string
	Post   *page.Post // nil unless verified
	Check  check
	Author string
	URL    string
	Docs   string
}

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request, name, slug string) {
	s, f := h.load(name)
	if f != nil {
		h.errorPage(w, f.status, f.title, f.msg)
		return
	}
	if s.Deactivated {
		h.render(w, r, http.StatusGone, "deactivated.html", s)
		return
	}
	v := postView{site: s, Slug: slug, Author: name, URL: s.Base + "posts/" + slug,
		Docs: page.ProfilePath + " " + page.PostPath(slug)}
	if s.Profile != nil {
		v.Author = s.Profile.Name
	}
	vd, c := h.verify(s, page.PostPath(slug), s.Checked)
	v.Check = c
	if c.Missing {
		h.errorPage(w, http.StatusNotFound, "No such post", "This page has no post called "+slug+".")
		return
	}
	if vd != nil {
		v.Post = vd.Post
	}
	h.render(w, r, http.StatusOK, "post.html", v)
}

// linkPattern finds bare http(s) links in a post's body.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// paraBreak separates paragraphs: a blank line (perhaps with spaces).
var paraBreak = regexp.MustCompile(`\n[ \t]*\n\s*`)

// paragraphs renders a post's plain-text body: paragraphs at blank lines,
// line breaks kept, bare http(s) links made links. Every piece of text is
// escaped; a link's href is the escaped URL and carries
// rel="nofollow ugc noopener", as the link is the author's, not this
// server's.
func paragraphs(body string) []template.HTML {
	var out []template.HTML
	for _, para := range paraBreak.Split(strings.TrimSpace(body), -1) {
		var b strings.Builder
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			last := 0
			for _, m := range linkPattern.FindAllStringIndex(line, -1) {
				link := strings.TrimRight(line[m[0]:m[1]], ".,;:!?)]}'")
				end := m[0] + len(link)
				b.WriteString(template.HTMLEscapeString(line[last:m[0]]))
				if u, err := url.Parse(link); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
					b.WriteString(`<a href="` + template.HTMLEscapeString(u.String()) + `" rel="nofollow ugc noopener">` + template.HTMLEscapeString(link) + `</a>`)
				} else {
					b.WriteString(template.HTMLEscapeString(link))
				}
				last = end
			}
			b.WriteString(template.HTMLEscapeString(line[last:]))
		}
		out = append(out, template.HTML(b.String()))
	}
	return out
}

// Checks are the documents the profile page verified.
func (v profileView) Checks() []check {
	if v.WhoisCheck.Missing {
		return []check{v.ProfileCheck, v.IndexCheck}
	}
	return []check{v.ProfileCheck, v.IndexCheck, v.WhoisCheck}
}

// Checks are the documents the post page verified.
func (v postView) Checks() []check { return []check{v.ProfileCheck, v.Check} }
