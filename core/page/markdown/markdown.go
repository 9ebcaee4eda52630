// Package markdown renders a public page's post body, which is Markdown
// (docs/pages.md, "The body: Markdown"), as HTML that is safe to place in a
// page. It is its own package, apart from core/page, so that the tab's
// WebAssembly build, which signs and verifies pages but does not render
// them, does not link the Markdown parser.
package markdown

import (
	"bytes"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// A post's body is CommonMark. PLANET
// renders a fixed subset of it, the same on the public page and in the
// tab's preview, so the person sees what a visitor sees:
//
//   - paragraphs, headings (one level down, so a "#" heading sits under the
//     post's title), emphasis and strong emphasis, inline code, indented and
//     fenced code blocks, block quotes, ordered and bullet lists, thematic
//     breaks, hard breaks; a single newline is a line break too, as it was in
//     the plain-text bodies written before Markdown;
//   - links, <autolinks> and bare addresses (http, https, www., e-mail) when
//     the destination is an absolute http or https URL with a host, or a
//     mailto: URL; each carries rel="nofollow ugc noopener", as the link is
//     the author's, not the page's. Any other destination (javascript:,
//     data:, relative paths, fragments) leaves the link's text as text;
//   - raw HTML, inline or as a block, is shown as the text it is, never as
//     markup;
//   - images are not loaded: an image with an http(s) source becomes a link
//     to it labelled with its alt text, others just their alt text. A page's
//     own images would need a URL that means the same on the public page
//     and in the tab, which a relative path does not.
//
// The renderer is goldmark's HTML renderer in its safe mode (raw HTML is
// never passed through) with the node kinds that carry a URL or raw HTML
// rendered here instead, so what reaches a page is escaped text and a fixed
// set of tags whose only attributes are the filtered href, rel and a fenced
// block's language class. Tables, strikethrough, footnotes, heading ids and
// attribute syntax are not enabled.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.NewLinkify(
		extension.WithLinkifyAllowedProtocols([]string{"http:", "https:", "mailto:"}),
	)),
	goldmark.WithRendererOptions(
		ghtml.WithHardWraps(),
		renderer.WithNodeRenderers(util.Prioritized(safeRenderer{}, 100)),
	),
)

// linkRel is on every link of a post.
const linkRel = `" rel="nofollow ugc noopener">`

// HTML renders a post's body (Markdown) as HTML to place inside an
// element such as <div class="e-content">. The result is safe to insert
// into a page as markup whatever body holds: it is produced with raw HTML
// off, every URL filtered to http, https and mailto, and every piece of the
// author's text escaped (FuzzRenderMarkdown checks it). It returns a plain
// string; an html/template user wraps it in template.HTML itself.
//
// A body built to make the parser work hard (a paragraph of thousands of
// emphasis or bracket delimiters, block quotes nested thousands deep: work
// that grows with the square of their number) is shown as plain text
// instead, so a body of page.MaxBody (64 KiB) always renders in milliseconds.
func HTML(body string) string {
	if degenerate(body) {
		return plainHTML(body)
	}
	var b bytes.Buffer
	if err := markdown.Convert([]byte(body), &b); err != nil {
		// Only the writer can fail, and a bytes.Buffer does not; should
		// it ever, the body as plain text is still correct.
		return plainHTML(body)
	}
	return b.String()
}

// maxMarks is how many of the characters that open or close inline
// constructs or nest blocks one stretch of the body between blank lines
// may hold before it is shown as plain text. goldmark's emphasis, link and
// block quote handling grows with the square of their number within one
// block: 4096 cost some 20 ms, 40,000 (what 64 KiB can hold) two seconds.
// Prose, lists and code stay far below it.
const maxMarks = 4096

// paraBreak separates the stretches degenerate and plainHTML look at: a
// blank line.
var paraBreak = regexp.MustCompile(`\n[ ]*\n\s*`)

// maxNesting is how many block markers (">", "-", "1." …) a line may
// open with: each nests a block quote or a list, and goldmark's work grows
// with the square of the depth.
const maxNesting = 64

// degenerate reports whether a stretch of body holds more than maxMarks
// delimiter characters or a line opens more than maxNesting blocks.
func degenerate(body string) bool {
	if len(body) <= maxMarks {
		return false
	}
	for line := range strings.Lines(body) {
		marks := 0
		for _, c := range []byte(line) {
			if c == ' ' {
				continue
			}
			if !strings.ContainsRune(">-*+.)0123456789", rune(c)) {
				break
			}
			marks++
		}
		if marks > maxNesting {
			return true
		}
	}
	for _, para := range paraBreak.Split(body, -1) {
		if strings.Count(para, "*")+strings.Count(para, "_")+strings.Count(para, "[")+strings.Count(para, "]")+
			strings.Count(para, "(")+strings.Count(para, ">")+strings.Count(para, "<")+strings.Count(para, "`") > maxMarks {
			return true
		}
	}
	return false
}

// plainHTML renders body as escaped text: paragraphs at blank lines, line
// breaks kept, no links.
func plainHTML(body string) string {
	var b strings.Builder
	for _, para := range paraBreak.Split(strings.TrimSpace(body), -1) {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>\n") + "</p>\n")
	}
	return b.String()
}

// tagPattern matches one tag of HTML's output. The author's text there
// is escaped, so every '<' begins a tag of the renderer's own.
var tagPattern = regexp.MustCompile(`<[^>]*>`)

// Excerpt returns the text of the body's first paragraph, without markup,
// cut at about max bytes (at a word when it can) with "…" after it: what a
// list of posts shows for a post without a summary.
func Excerpt(body string, max int) string {
	if degenerate(body) {
		first, _, _ := strings.Cut(strings.TrimSpace(paraBreak.ReplaceAllString(body, "\n\n")), "\n\n")
		return cut(strings.Join(strings.Fields(first), " "), max)
	}
	src := []byte(body)
	doc := markdown.Parser().Parse(text.NewReader(src))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if n.Kind() != ast.KindParagraph {
			continue
		}
		var b bytes.Buffer
		if err := markdown.Renderer().Render(&b, src, n); err != nil {
			return ""
		}
		plain := strings.Join(strings.Fields(html.UnescapeString(tagPattern.ReplaceAllString(strings.ReplaceAll(b.String(), "<br>", " "), ""))), " ")
		return cut(plain, max)
	}
	return ""
}

// cut shortens s to at most max bytes, at a space when there is one in
// the last quarter, and marks the cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if sp := strings.LastIndexByte(s[:i], ' '); sp > max*3/4 {
		i = sp
	}
	return strings.TrimRight(s[:i], " ,;:") + "…"
}

// safeURL returns dest as it may appear in an href, or "" if it may not:
// an absolute http or https URL with a host and no user information, or a
// mailto: URL with an address. Anything else (javascript:, data:, vbscript:,
// file:, relative or protocol-relative paths) could run script, reach into
// the page's own origin, or mean something else in the tab than on the
// page. dest is the destination after the parser resolved its escapes and
// entities, so "&#106;avascript:" arrives here as "javascript:".
func safeURL(dest []byte) string {
	s := string(dest)
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
		if u.Host == "" || u.User != nil || u.Opaque != "" {
			return ""
		}
	case "mailto":
		if u.Opaque == "" || !strings.Contains(u.Opaque, "@") {
			return ""
		}
	default:
		return ""
	}
	// The scheme in lower case, as a reader of the page expects it.
	dest = append([]byte(scheme), dest[len(scheme):]...)
	return string(util.EscapeHTML(util.URLEscape(dest, false)))
}

// safeRenderer renders the node kinds that carry a URL or raw HTML, in
// place of goldmark's own renderers for them.
type safeRenderer struct{}

func (safeRenderer) RegisterFuncs(r renderer.NodeRendererFuncRegisterer) {
	r.Register(ast.KindLink, renderLink)
	r.Register(ast.KindImage, renderImage)
	r.Register(ast.KindAutoLink, renderAutoLink)
	r.Register(ast.KindRawHTML, renderRawHTML)
	r.Register(ast.KindHTMLBlock, renderHTMLBlock)
	r.Register(ast.KindHeading, renderHeading)
}

// renderLink writes a link whose destination passes safeURL, else only its
// text. The link's title is left out: it adds nothing a reader needs.
func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	href := safeURL(node.(*ast.Link).Destination)
	if href == "" {
		return ast.WalkContinue, nil
	}
	if entering {
		_, _ = w.WriteString(`<a href="` + href + linkRel)
	} else {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

// renderImage writes an image as a link to it labelled with its alt text
// (its children), never as an <img>: loading it would tell a third party
// who reads the page.
func renderImage(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	href := safeURL(node.(*ast.Image).Destination)
	if href == "" || strings.HasPrefix(href, "mailto:") {
		return ast.WalkContinue, nil
	}
	if entering {
		_, _ = w.WriteString(`<a href="` + href + linkRel)
	} else {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

// renderAutoLink writes <https://…>, <a@b.example> and the bare addresses
// Linkify finds.
func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest := n.URL(source)
	label := util.EscapeHTML(n.Label(source))
	switch {
	case n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(dest), []byte("mailto:")):
		dest = append([]byte("mailto:"), dest...)
	case n.AutoLinkType == ast.AutoLinkURL && bytes.HasPrefix(bytes.ToLower(dest), []byte("www.")):
		dest = append([]byte("http://"), dest...)
	}
	if href := safeURL(dest); href != "" {
		_, _ = w.WriteString(`<a href="` + href + linkRel)
		_, _ = w.Write(label)
		_, _ = w.WriteString("</a>")
	} else {
		_, _ = w.Write(label)
	}
	return ast.WalkContinue, nil
}

// renderRawHTML shows inline HTML as the text it is.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := node.(*ast.RawHTML).Segments
		for i := range segs.Len() {
			seg := segs.At(i)
			_, _ = w.Write(util.EscapeHTML(seg.Value(source)))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock shows an HTML block as a paragraph of the text it is,
// its lines kept.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var lines []string
	for i := range n.Lines().Len() {
		line := n.Lines().At(i)
		lines = append(lines, string(line.Value(source)))
	}
	if n.HasClosure() {
		lines = append(lines, string(n.ClosureLine.Value(source)))
	}
	raw := strings.TrimRight(strings.Join(lines, ""), "\n")
	if raw == "" {
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(raw), "\n", "<br>\n") + "</p>\n")
	return ast.WalkSkipChildren, nil
}

// renderHeading writes a heading one level down (h2 for "#"), as the page's
// h1 is the post's title.
func renderHeading(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	level := min(node.(*ast.Heading).Level+1, 6)
	if entering {
		_, _ = fmt.Fprintf(w, "<h%d>", level)
	} else {
		_, _ = fmt.Fprintf(w, "</h%d>\n", level)
	}
	return ast.WalkContinue, nil
}
