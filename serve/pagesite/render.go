package pagesite

import (
	"embed"
	"html/template"
	"net/http"
	"time"

	"planet/core/page"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"markdown": markdown,
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
	}
	h.render(w, r, http.StatusOK, "profile.html", v)
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

// markdown renders a post's body. page.RenderHTML shows the author's raw
// HTML as text and lets through only http(s) and mailto links, so its
// output may be placed in the page as markup.
func markdown(body string) template.HTML { return template.HTML(page.RenderHTML(body)) }

// Checks are the documents the profile page verified.
func (v profileView) Checks() []check { return []check{v.ProfileCheck, v.IndexCheck} }

// Checks are the documents the post page verified.
func (v postView) Checks() []check { return []check{v.ProfileCheck, v.Check} }
