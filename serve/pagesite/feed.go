package pagesite

import (
	"encoding/xml"
	"net/http"
	"time"

	"planet/core/page"
	"planet/core/page/markdown"
)

// maxFeedEntries is how many of the newest posts the feed carries, each
// read and verified on the request.
const maxFeedEntries = 50

// The Atom 1.0 feed (RFC 4287). Ids are the DID URLs of the documents:
// permanent IRIs that stay the same when the page moves to another host.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string    `xml:"id"`
	Title     string    `xml:"title"`
	Published string    `xml:"published"`
	Updated   string    `xml:"updated"`
	Link      atomLink  `xml:"link"`
	Summary   *atomText `xml:"summary,omitempty"`
	Content   atomText  `xml:"content"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// serveFeed writes the feed of the verified posts: those listed by the
// verified index whose own document verifies. A post that does not verify
// is left out of the feed (a feed reader cannot show a warning).
func (h *Handler) serveFeed(w http.ResponseWriter, r *http.Request, name string) {
	s, f := h.load(name)
	if f != nil {
		h.errorPage(w, f.status, f.title, f.msg)
		return
	}
	if s.Deactivated {
		h.render(w, r, http.StatusGone, "deactivated.html", s)
		return
	}
	feed := atomFeed{
		ID:      s.DID.String(),
		Title:   name,
		Updated: atomTime(s.Updated),
		Author:  atomPerson{Name: name, URI: s.Base},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: s.Base + "feed.atom"},
			{Rel: "alternate", Type: "text/html", Href: s.Base},
		},
	}
	if s.Profile != nil {
		feed.Title, feed.Author.Name = s.Profile.Name, s.Profile.Name
		if s.Profile.Updated.After(s.Updated) {
			feed.Updated = atomTime(s.Profile.Updated)
		}
	}
	if s.Index != nil {
		if s.Index.Updated.After(s.Updated) {
			feed.Updated = atomTime(s.Index.Updated)
		}
		for i, e := range s.Index.Posts {
			if i == maxFeedEntries {
				break
			}
			v, _ := h.verify(s, page.PostPath(e.Slug), s.Checked)
			if v == nil {
				continue
			}
			p := v.Post
			entry := atomEntry{
				ID:        s.DID.String() + "/" + page.PostPath(p.Slug),
				Title:     p.Title,
				Published: atomTime(p.Published),
				Updated:   atomTime(p.Updated),
				Link:      atomLink{Rel: "alternate", Type: "text/html", Href: s.Base + "posts/" + p.Slug},
				// The rendered body, escaped once more as the element's
				// text, as RFC 4287 3.1.1.2 says type="html" content is.
				Content: atomText{Type: "html", Text: markdown.HTML(p.Body)},
			}
			if p.Summary != "" {
				entry.Summary = &atomText{Type: "text", Text: p.Summary}
			}
			feed.Entries = append(feed.Entries, entry)
		}
	}
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		h.errorPage(w, http.StatusInternalServerError, "The feed could not be made", "Writing it failed.")
		return
	}
	write(w, r, http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), append(out, '\n')...))
}
