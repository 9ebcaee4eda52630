package pagesite

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"planet/core/page"
	"planet/core/page/markdown"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"markdown": renderMarkdown,
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
	// Excerpts holds, by slug, the first paragraph of each listed post
	// that has no summary, as text: read from the post, and only if the
	// post verifies.
	Excerpts map[string]string
}

// maxExcerpt is how much of a post's first paragraph the list shows.
const maxExcerpt = 300

// excerpts reads the listed posts that have no summary (of the newest
// maxFeedEntries, as the feed does) and returns their first paragraphs.
func (h *Handler) excerpts(s *site) map[string]string {
	if s.Index == nil {
		return nil
	}
	out := map[string]string{}
	for i, e := range s.Index.Posts {
		if i == maxFeedEntries {
			break
		}
		if e.Summary != "" {
			continue
		}
		if v, _ := h.verify(s, page.PostPath(e.Slug), s.Checked); v != nil {
			out[e.Slug] = markdown.Excerpt(v.Post.Body, maxExcerpt)
		}
	}
	return out
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
	v := profileView{site: s, Title: name, URL: s.Base, Docs: page.ProfilePath + " " + page.IndexPath, Excerpts: h.excerpts(s)}
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

// renderMarkdown renders a post's body. markdown.HTML shows the author's raw
// HTML as text and lets through only http(s) and mailto links, so its
// output may be placed in the page as markup.
func renderMarkdown(body string) template.HTML { return template.HTML(markdown.HTML(body)) }

// Checks are the documents the profile page verified.
func (v profileView) Checks() []check {
	if v.WhoisCheck.Missing {
		return []check{v.ProfileCheck, v.IndexCheck}
	}
	return []check{v.ProfileCheck, v.IndexCheck, v.WhoisCheck}
}

// Checks are the documents the post page verified.
func (v postView) Checks() []check { return []check{v.ProfileCheck, v.Check} }

// servePreview renders the posted Markdown as the post page would, for the
// tab's preview. It is text/plain (with nosniff), so a form on another site
// that posts here gets a page of text, not markup of this origin; and it
// carries no CORS header, so no other origin's script reads it. The work
// is bounded as a page's is: a body of at most page.MaxBody bytes, which
// markdown.HTML renders in milliseconds. It stores nothing.
func (h *Handler) servePreview(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.errorPage(w, http.StatusMethodNotAllowed, "Method not allowed", "A preview is asked for with POST.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, page.MaxBody+1))
	switch {
	case err != nil || len(body) > page.MaxBody:
		h.errorPage(w, http.StatusRequestEntityTooLarge, "Too long", fmt.Sprintf("A post's text is at most %d bytes.", page.MaxBody))
		return
	case !utf8.Valid(body):
		h.errorPage(w, http.StatusBadRequest, "Not text", "A post's text is UTF-8.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	write(w, r, http.StatusOK, "text/plain; charset=utf-8", []byte(markdown.HTML(string(body))))
}
