package pagesite

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"planet/core/page"
	"planet/core/page/pagetest"
)

// node is a parsed element with its classes.
func classes(n *html.Node) []string { return strings.Fields(attr(n, "class")) }

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// find returns the elements under n for which match is true, in order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func withClass(c string) func(*html.Node) bool {
	return func(n *html.Node) bool { return slices.Contains(classes(n), c) }
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// one returns the single element under n matching, failing otherwise.
func one(t *testing.T, n *html.Node, what string, match func(*html.Node) bool) *html.Node {
	t.Helper()
	got := find(n, match)
	if len(got) != 1 {
		t.Fatalf("%d elements %s, want 1", len(got), what)
	}
	return got[0]
}

// checkCSPClean checks the page keeps to its Content-Security-Policy: the
// one script from the assets, no inline script or style, no event
// handler attributes.
func checkCSPClean(t *testing.T, res *http.Response, doc *html.Node) {
	t.Helper()
	if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
		t.Errorf("CSP = %q", got)
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'self';") || strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Errorf("CSP is not strict: %s", ContentSecurityPolicy)
	}
	scripts := find(doc, tag("script"))
	if len(scripts) != 1 || attr(scripts[0], "src") != VerifyScript || scripts[0].FirstChild != nil {
		t.Errorf("scripts: want only %s, got %d", VerifyScript, len(scripts))
	}
	if len(find(doc, tag("style"))) != 0 {
		t.Error("inline <style>")
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=…>", n.Data, a.Key)
			}
		}
	}
}

func TestProfilePage(t *testing.T) {
	mem := newMem()
	older := newPost("older", "Older post", "# Head\n\nOld *and* <b>bold</b> [link](https://a.example/).\n\nSecond.", t0)
	older.Summary = "" // the list shows its first paragraph, as text
	p := publish(t, mem, "ada", older,
		newPost("newer", "Newer <script>alert(1)</script> post", "New.", t0.Add(time.Hour)))
	res, body := get(t, handler(mem), "/ada/")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, type %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := parse(t, body)
	checkCSPClean(t, res, doc)

	card := one(t, doc, "h-card profile", func(n *html.Node) bool { return slices.Contains(classes(n), "profile") })
	if !slices.Contains(classes(card), "h-card") {
		t.Fatal("profile is not an h-card")
	}
	// The first p-name is the card's own; the others are its
	// relationships' nested h-cards.
	if got := text(find(card, withClass("p-name"))[0]); got != "Ada Lovelace" {
		t.Errorf("p-name = %q", got)
	}
	if got := text(one(t, card, "p-note", withClass("p-note"))); got != "Writes about engines." {
		t.Errorf("p-note = %q", got)
	}
	if got := attr(one(t, card, "u-photo", withClass("u-photo")), "src"); got != "avatar.jpg" {
		t.Errorf("u-photo = %q", got)
	}
	var urls []string
	for _, n := range find(card, withClass("u-url")) {
		urls = append(urls, attr(n, "href"))
	}
	if !slices.Contains(urls, "https://code.example/ada") || !slices.Contains(urls, "https://example.com/ada/") {
		t.Errorf("u-url = %v", urls)
	}
	rel := one(t, card, "relationship", func(n *html.Node) bool { return n.Data == "li" && slices.Contains(classes(n), "h-card") })
	if !strings.Contains(text(rel), "Charles Babbage") || attr(one(t, rel, "u-uid", withClass("u-uid")), "value") != "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" {
		t.Errorf("relationship = %q", text(rel))
	}

	entries := find(doc, withClass("h-entry"))
	if len(entries) != 2 {
		t.Fatalf("%d h-entry, want 2", len(entries))
	}
	first := one(t, entries[0], "p-name", withClass("p-name"))
	if text(first) != "Newer <script>alert(1)</script> post" || attr(first, "href") != "posts/newer" {
		t.Errorf("newest first: %q %q", text(first), attr(first, "href"))
	}
	if attr(one(t, entries[1], "dt-published", withClass("dt-published")), "datetime") != "2026-03-01T10:00:00Z" {
		t.Error("dt-published")
	}
	if got := text(one(t, entries[0], "p-summary", withClass("p-summary"))); got != "About newer." {
		t.Errorf("summary = %q", got)
	}
	if s := one(t, entries[1], "p-summary", withClass("p-summary")); text(s) != "Old and <b>bold</b> link." || s.FirstChild.NextSibling != nil {
		t.Errorf("first paragraph = %q", text(s))
	}

	meta := map[string]string{}
	for _, m := range find(doc, tag("meta")) {
		meta[attr(m, "property")+attr(m, "name")] = attr(m, "content")
	}
	for k, want := range map[string]string{"og:title": "Ada Lovelace", "og:type": "profile", "og:url": "https://example.com/ada/",
		"og:image": "https://example.com/ada/avatar.jpg", "twitter:card": "summary", "twitter:title": "Ada Lovelace", "og:description": "Writes about engines."} {
		if meta[k] != want {
			t.Errorf("meta %s = %q, want %q", k, meta[k], want)
		}
	}
	links := map[string][]string{}
	for _, l := range find(doc, tag("link")) {
		links[attr(l, "rel")] = append(links[attr(l, "rel")], attr(l, "href")+" "+attr(l, "type"))
	}
	if !slices.Contains(links["alternate"], "feed.atom application/atom+xml") || !slices.Contains(links["me"], "https://code.example/ada ") {
		t.Errorf("links = %v", links)
	}
	contains(t, body, "profile.json: signed by #key-1 of "+p.DID.String()+", version 1, on 2026-03-01 10:01 UTC",
		"This server checked this page on 2026-03-02 10:00 UTC")
	if strings.Contains(body, "<script>alert") {
		t.Error("hostile title not escaped")
	}
}

func TestPostPage(t *testing.T) {
	mem := newMem()
	hostile := "Hello <script>alert(1)</script> & \"you\""
	body := "First line\nsecond **line**.\n\nSee https://example.org/a?b=c&d=1, and [this](javascript:alert(1)) <img src=x onerror=alert(1)>.\n\n\nhttp://x.example/\"onmouseover=\"alert(1)\n\n<script>alert(1)</script>"
	po := newPost("hello", hostile, body, t0)
	po.Updated = t0.Add(time.Hour)
	publish(t, mem, "ada", po)
	res, page := get(t, handler(mem), "/ada/posts/hello")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := parse(t, page)
	checkCSPClean(t, res, doc)
	entry := one(t, doc, "h-entry", withClass("h-entry"))
	if got := text(one(t, entry, "p-name", withClass("p-name"))); got != hostile {
		t.Errorf("p-name = %q", got)
	}
	if a := one(t, entry, "p-author", withClass("p-author")); !slices.Contains(classes(a), "h-card") || text(a) != "Ada Lovelace" {
		t.Errorf("p-author h-card = %v %q", classes(a), text(a))
	}
	if attr(one(t, entry, "dt-published", withClass("dt-published")), "datetime") != "2026-03-01T10:00:00Z" ||
		attr(one(t, entry, "dt-updated", withClass("dt-updated")), "datetime") != "2026-03-01T11:00:00Z" {
		t.Error("dt-published or dt-updated")
	}
	content := one(t, entry, "e-content", withClass("e-content"))
	paras := find(content, tag("p"))
	if len(paras) != 4 || len(find(paras[0], tag("br"))) != 1 {
		t.Fatalf("%d paragraphs", len(paras))
	}
	var elems []string
	for _, n := range find(content, func(*html.Node) bool { return true }) {
		elems = append(elems, n.Data)
	}
	if got := strings.Join(elems, " "); got != "div p br strong p a p a p" {
		t.Errorf("content elements = %s: hostile text became markup", got)
	}
	for _, a := range find(content, tag("a")) {
		if attr(a, "rel") != "nofollow ugc noopener" || !strings.HasPrefix(attr(a, "href"), "http") || len(a.Attr) != 2 {
			t.Errorf("link %v", a.Attr)
		}
	}
	if got := attr(find(content, tag("a"))[0], "href"); got != "https://example.org/a?b=c&d=1" {
		t.Errorf("href = %q", got)
	}
	if !strings.Contains(text(content), "<img src=x onerror=alert(1)>") || !strings.Contains(text(content), "<script>alert(1)</script>") {
		t.Error("hostile text not shown as text")
	}
	if len(find(doc, tag("img"))) != 0 {
		t.Error("an <img> came out of the body")
	}
}

func TestFeed(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada", newPost("older", "Older", "Old & <b>.", t0), newPost("newer", "Newer <i>", "New.", t0.Add(time.Hour)))
	res, body := get(t, handler(mem), "/ada/feed.atom")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("status %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var feed atomFeed
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(&feed); err != nil {
		t.Fatalf("feed is not well-formed: %v", err)
	}
	if feed.XMLName.Space != "http://www.w3.org/2005/Atom" || feed.ID != p.DID.String() || feed.Title != "Ada Lovelace" || feed.Author.Name != "Ada Lovelace" || feed.Updated == "" {
		t.Errorf("feed = %+v", feed)
	}
	if len(feed.Entries) != 2 || feed.Entries[0].Title != "Newer <i>" || feed.Entries[1].Content.Text != "<p>Old &amp; &lt;b&gt;.</p>\n" {
		t.Fatalf("entries = %+v", feed.Entries)
	}
	// The author's "<b>" is text in the HTML, which is text in the XML.
	if !strings.Contains(body, "&lt;p&gt;Old &amp;amp; &amp;lt;b&amp;gt;.&lt;/p&gt;") || strings.Contains(body, "<b>") {
		t.Error("html content not escaped as the element's text")
	}
	e := feed.Entries[0]
	if e.ID != p.DID.String()+"/posts/newer.json" || e.Link.Href != "https://example.com/ada/posts/newer" || e.Published != "2026-03-01T11:00:00Z" || e.Content.Type != "html" {
		t.Errorf("entry = %+v", e)
	}
	if _, err := time.Parse(time.RFC3339, feed.Updated); err != nil {
		t.Error(err)
	}
}

func TestNotVerified(t *testing.T) {
	tamper := func(t *testing.T, mem *memReader, path string, from, to string) {
		data, err := mem.File("ada", path)
		must(t, err)
		mem.put("ada", path, bytes.Replace(data, []byte(from), []byte(to), 1))
	}
	t.Run("changed post", func(t *testing.T) {
		mem := newMem()
		publish(t, mem, "ada", newPost("hello", "Hello", "The real words.", t0))
		tamper(t, mem, page.PostPath("hello"), "The real words.", "Forged words.")
		res, body := get(t, handler(mem), "/ada/posts/hello")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if strings.Contains(body, "Forged words") || len(find(parse(t, body), withClass("h-entry"))) != 0 {
			t.Error("a post that does not verify is shown")
		}
		contains(t, body, "This post is not shown", "posts/hello.json does not verify, so it is not shown", "page document proof does not verify")
		_, feed := get(t, handler(mem), "/ada/feed.atom")
		if strings.Contains(feed, "<entry>") {
			t.Error("the feed carries a post that does not verify")
		}
	})
	t.Run("changed profile", func(t *testing.T) {
		mem := newMem()
		publish(t, mem, "ada")
		tamper(t, mem, page.ProfilePath, "Writes about engines.", "Sends money to strangers.")
		_, body := get(t, handler(mem), "/ada/")
		if strings.Contains(body, "Sends money") || len(find(parse(t, body), withClass("p-name"))) != 0 {
			t.Error("a profile that does not verify is shown")
		}
		contains(t, body, "The profile is not shown: it does not verify")
	})
	t.Run("post signed with a key not in the document", func(t *testing.T) {
		mem := newMem()
		p := publish(t, mem, "ada")
		data, err := page.SignPost(newPost("hello", "Hello", "Hi.", t0), pagetest.NewKey("stranger"), p.DID, "#key-1", t0.Add(time.Minute))
		must(t, err)
		mem.put("ada", page.PostPath("hello"), data)
		_, body := get(t, handler(mem), "/ada/posts/hello")
		contains(t, body, "This post is not shown")
	})
	t.Run("post put at another path", func(t *testing.T) {
		mem := newMem()
		publish(t, mem, "ada", newPost("hello", "Hello", "The real words.", t0))
		data, _ := mem.File("ada", page.PostPath("hello"))
		mem.put("ada", page.PostPath("other"), data)
		_, body := get(t, handler(mem), "/ada/posts/other")
		if strings.Contains(body, "The real words") {
			t.Error("a post at another path is shown")
		}
		contains(t, body, "posts/other.json does not verify, so it is not shown: it says it is posts/hello.json")
	})
	t.Run("forged log", func(t *testing.T) {
		mem := newMem()
		p := publish(t, mem, "ada")
		p.RotateContentKey(t, "key-2", t0.Add(time.Hour))
		mem.put("ada", "did.jsonl", forgeLastEntry(t, p.LogBytes(t), pagetest.NewKey("attacker")))
		res, body := get(t, handler(mem), "/ada/")
		if res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "Ada Lovelace") {
			t.Fatalf("status %d:\n%s", res.StatusCode, body)
		}
		contains(t, body, "This page does not verify", "not authorised to update")
	})
	t.Run("malformed log", func(t *testing.T) {
		mem := newMem()
		publish(t, mem, "ada")
		mem.put("ada", "did.jsonl", []byte("{\"versionId\": 1}\n"))
		res, body := get(t, handler(mem), "/ada/")
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "did.jsonl is malformed") {
			t.Fatalf("status %d:\n%s", res.StatusCode, body)
		}
	})
	t.Run("malformed document", func(t *testing.T) {
		mem := newMem()
		publish(t, mem, "ada")
		mem.put("ada", page.PostPath("x"), []byte("{\"@context\": ["))
		res, body := get(t, handler(mem), "/ada/posts/x")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		contains(t, body, "posts/x.json does not verify, so it is not shown: malformed page document")
	})
}

func TestDeactivated(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada", newPost("hello", "Hello", "Hi.", t0))
	p.Deactivate(t, t0.Add(time.Hour))
	mem.put("ada", "did.jsonl", p.LogBytes(t))
	for _, path := range []string{"/ada/", "/ada/posts/hello", "/ada/feed.atom"} {
		res, body := get(t, handler(mem), path)
		if res.StatusCode != http.StatusGone || !strings.Contains(body, "This identity has been deactivated") || strings.Contains(body, "Hi.") {
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
	}
}

func TestNotFound(t *testing.T) {
	mem := newMem()
	publish(t, mem, "ada", newPost("hello", "Hello", "Hi.", t0))
	h := handler(mem)
	for _, path := range []string{"/bob/", "/bob/posts/hello", "/bob/feed.atom", "/ada/posts/nope", "/.hidden/", "/ada/../etc/passwd",
		"/pages-assets/nope.js", "/pages-assets/../pagesite.go", "/ada/secret/../../x", "/ada/.git/config"} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(body, "<!doctype html>") || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
	}
	res, _ := get(t, h, "/ada")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/ada/" {
		t.Errorf("/ada: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ada/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestFilesAndAssets(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada", newPost("hello", "Hello", "Hi.", t0))
	h := handler(mem)
	res, body := get(t, h, "/ada/did.jsonl")
	if res.StatusCode != http.StatusOK || body != string(p.LogBytes(t)) || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("did.jsonl: %d %v", res.StatusCode, res.Header)
	}
	res, _ = get(t, h, "/ada/posts/hello.json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("post json: %d %v", res.StatusCode, res.Header)
	}
	res, body = get(t, h, VerifyScript)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "export async function verifySite") {
		t.Errorf("script: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res, _ = get(t, h, AssetsPrefix+"page.css")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("css: %d", res.StatusCode)
	}
	// With the hosting package's handler for files, those requests go there.
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hosted " + r.URL.Path)) })
	hf := New(mem, Options{Files: files})
	if _, body := get(t, hf, "/ada/did.jsonl"); body != "hosted /ada/did.jsonl" {
		t.Errorf("Files not used: %q", body)
	}
	if res, _ := get(t, hf, "/ada/posts/hello"); res.StatusCode != http.StatusOK {
		t.Error("page not rendered with Files set")
	}
}

// TestPreview: POST /pages-assets/preview renders Markdown as the post page
// does, as text/plain with the page's headers, and refuses other methods,
// bodies over page.MaxBody and bytes that are not UTF-8.
func TestPreview(t *testing.T) {
	h := handler(newMem())
	post := func(body string) *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, PreviewPath, strings.NewReader(body)))
		return rec.Result()
	}
	md := "Some **bold**, a [link](https://example.org/) and [not](javascript:alert(1)).\n\n<script>alert(1)</script>"
	res := post(md)
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preview: %d %v", res.StatusCode, res.Header)
	}
	if string(got) != string(renderMarkdown(md)) || !strings.Contains(string(got), "<strong>bold</strong>") ||
		!strings.Contains(string(got), `<a href="https://example.org/" rel="nofollow ugc noopener">link</a>`) ||
		!strings.Contains(string(got), "&lt;script&gt;") || strings.Contains(string(got), "javascript") {
		t.Errorf("preview = %s", got)
	}
	if res := post(strings.Repeat("a", page.MaxBody+1)); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("too long: %d", res.StatusCode)
	}
	if res := post("a\xffb"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("not UTF-8: %d", res.StatusCode)
	}
	if res, _ := get(t, h, PreviewPath); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d", res.StatusCode)
	}
}
