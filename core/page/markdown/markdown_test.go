package markdown

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowedTags are the only elements HTML may produce.
var allowedTags = map[string]bool{"p": true, "br": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"em": true, "strong": true, "code": true, "pre": true, "blockquote": true, "ul": true, "ol": true, "li": true,
	"hr": true, "a": true}

// checkSafe tokenizes out as a browser would and fails unless it holds
// only allowedTags, links only to http(s) or mailto with the fixed rel, no
// other attribute than a list's start and a code block's language class,
// and no comment, doctype or stray end tag of another element. (A
// tokenizer rather than a tree: a body may nest more deeply than a tree
// parser keeps, and with no raw-text element allowed the tokens are the
// same in any context.)
func checkSafe(t testing.TB, body, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizing: %v", z.Err())
			}
			return
		case html.TextToken:
			continue
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
		default:
			t.Fatalf("token %v %q from %q: %s", tt, z.Token().Data, body, out)
		}
		tok := z.Token()
		if !allowedTags[tok.Data] {
			t.Fatalf("<%s> from %q: %s", tok.Data, body, out)
		}
		for _, a := range tok.Attr {
			ok := false
			switch {
			case tok.Data == "a" && a.Key == "href":
				ok = strings.HasPrefix(a.Val, "https://") || strings.HasPrefix(a.Val, "http://") || strings.HasPrefix(a.Val, "mailto:")
			case tok.Data == "a" && a.Key == "rel":
				ok = a.Val == "nofollow ugc noopener"
			case tok.Data == "ol" && a.Key == "start":
				ok = strings.Trim(a.Val, "0123456789") == ""
			case tok.Data == "code" && a.Key == "class":
				ok = strings.HasPrefix(a.Val, "language-")
			}
			if !ok || a.Namespace != "" || tt == html.EndTagToken {
				t.Fatalf("<%s %s=%q> from %q: %s", tok.Data, a.Key, a.Val, body, out)
			}
		}
		if tt == html.StartTagToken && tok.Data == "a" && len(tok.Attr) != 2 {
			t.Fatalf("link %v from %q", tok.Attr, body)
		}
	}
}

// renderCheck renders body, checks it, and parses it as a tree.
func renderCheck(t *testing.T, body string) (string, []*html.Node) {
	t.Helper()
	out := HTML(body)
	checkSafe(t, body, out)
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	var all []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		all = append(all, n)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return out, all
}

func elements(nodes []*html.Node) string {
	var s []string
	for _, n := range nodes {
		if n.Type == html.ElementNode {
			s = append(s, n.Data)
		}
	}
	return strings.Join(s, " ")
}

func textOf(nodes []*html.Node) string {
	var b strings.Builder
	for _, n := range nodes {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	}
	return b.String()
}

func TestRenderMarkdown(t *testing.T) {
	for _, c := range []struct{ name, body, elems, text string }{
		{"subset", "# Head *em* **strong**\n\nOne\ntwo `c<d`\n\n> q\n\n- a\n- b\n\n3. c\n\n```go\nx\n```\n\n***\n\nhard\\\nbreak",
			"h2 em strong p br code blockquote p ul li li ol li pre code hr p br", ""},
		{"old plain text", "First line\nsecond line.\n\nSee https://example.org/a?b=c&d=1, and more.",
			"p br p a", "First line\nsecond line.See https://example.org/a?b=c&d=1, and more."},
		{"script block", "<script>alert(1)</script>", "p", "<script>alert(1)</script>"},
		{"inline html", "a <img src=x onerror=alert(1)> b", "p", "a <img src=x onerror=alert(1)> b"},
		{"html block", "<div onmouseover=\"x\">\nz\n</div>", "p br br", "<div onmouseover=\"x\">\nz\n</div>"},
		{"comment", "<!-- hidden -->", "p", "<!-- hidden -->"},
		{"javascript link", "[x](javascript:alert(1))", "p", "x"},
		{"entity javascript", "[x](&#106;avascript:alert(1)) [y](jav&#x09;ascript:alert(1))", "p", "x y"},
		{"mixed case", "[x](JaVaScRiPt:alert(1))", "p", "x"},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD4=)", "p", "x"},
		{"relative link", "[x](/local) [y](#f) [z](//evil.example/)", "p", "x y z"},
		{"user info", "[x](https://u:p@host.example/)", "p", "x"},
		{"autolink javascript", "<javascript:alert(1)>", "p", "javascript:alert(1)"},
		{"link", "[x](https://a.example/?q=\"><script>)", "p a", "x"},
		{"mailto", "<mailto:a@b.example> c@d.example", "p a a", "mailto:a@b.example c@d.example"},
		{"image", "![alt](https://i.example/a.png)", "p a", "alt"},
		{"data image", "![alt](data:image/svg+xml,<svg/onload=alert(1)>)", "p", "alt"},
		{"reference", "[r]\n\n[r]: javascript:alert(1)", "p", "r"},
		{"fence info", "```\"><script>alert(1)</script>\nx\n```", "pre code", "x\n"},
		{"entities", "&lt;script&gt; &#60;b&#62;", "p", "<script> <b>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, nodes := renderCheck(t, c.body)
			if got := elements(nodes); got != c.elems {
				t.Errorf("elements %q, want %q: %s", got, c.elems, out)
			}
			if c.text != "" && textOf(nodes) != c.text && strings.ReplaceAll(textOf(nodes), "\n", "") != strings.ReplaceAll(c.text, "\n", "") {
				t.Errorf("text %q, want %q", textOf(nodes), c.text)
			}
		})
	}
	out, _ := renderCheck(t, "[x](https://a.example/?q=\"><script>)")
	if !strings.Contains(out, `href="https://a.example/?q=%22%3E%3Cscript%3E"`) {
		t.Errorf("href not escaped: %s", out)
	}
}

// TestRenderMarkdownPathological renders inputs of maxBody bytes built to
// make a Markdown parser backtrack or nest deeply; each must finish well
// under a second (natively; the race detector slows it some tenfold).
func TestRenderMarkdownPathological(t *testing.T) {
	for name, unit := range map[string]string{
		"emphasis":     "*a",
		"strong":       "**a",
		"mixed":        "*_a",
		"brackets":     "[",
		"links":        "[a](",
		"quotes":       "> ",
		"lists":        "- ",
		"backticks":    "`a",
		"entities":     "&#1",
		"html":         "<a ",
		"autolinks":    "<http://a",
		"bare links":   "http://a.b/(",
		"close":        "a*",
		"images":       "![",
		"indent lists": "1. ",
	} {
		// The whole body one stretch, and stretches just under the limits
		// that make it plain text, rendered by the parser.
		deep := strings.Repeat(unit, maxNesting*2/len(unit)) + "\n\n"
		wide := strings.Repeat(unit, maxMarks/len(unit)) + "\n\n"
		for _, body := range []string{strings.Repeat(unit, maxBody/len(unit)), strings.Repeat(deep, maxBody/len(deep)), strings.Repeat(wide, maxBody/len(wide))} {
			start := time.Now()
			out := HTML(body)
			if d := time.Since(start); d > 500*time.Millisecond*slowdown {
				t.Errorf("%s: %v for %d bytes", name, d, len(body))
			}
			if len(out) > 40*len(body) {
				t.Errorf("%s: %d bytes out of %d", name, len(out), len(body))
			}
			checkSafe(t, name, out)
		}
	}
}

// TestRenderDegenerate: a stretch with more delimiters than the renderer
// handles quickly is plain text, and a long but ordinary body is not.
func TestRenderDegenerate(t *testing.T) {
	out, nodes := renderCheck(t, "Intro *em*\n\n"+strings.Repeat("*_a", maxMarks))
	if elements(nodes) != "p p" || !strings.Contains(out, "<p>Intro *em*</p>") {
		t.Errorf("degenerate body: %.200s", out)
	}
	long := strings.Repeat("Some *emphasis* and a [link](https://a.example/).\n\n", maxBody/60)
	if _, nodes := renderCheck(t, long); !strings.Contains(elements(nodes), "p em a p em a") {
		t.Errorf("ordinary long body rendered as plain text")
	}
}

func TestExcerpt(t *testing.T) {
	for body, want := range map[string]string{
		"# Head\n\nThe *first* paragraph,\nwith a [link](https://a.example/) & `code`.\n\nSecond.": "The first paragraph, with a link & code.",
		"<script>x</script>\n\nText": "Text",
		"a <b> c":                    "a <b> c",
		"- list only":                "",
		strings.Repeat("word ", 100): strings.TrimSpace(strings.Repeat("word ", 20)) + "…",
	} {
		if got := Excerpt(body, 100); got != want {
			t.Errorf("Excerpt(%.30q) = %q, want %q", body, got, want)
		}
	}
}

// FuzzRenderMarkdown: whatever a post's body holds, HTML gives only
// the fixed tags, links to http(s) or mailto with rel="nofollow ugc
// noopener", and escaped text.
func FuzzRenderMarkdown(f *testing.F) {
	seeds, err := os.ReadFile("testdata/bodies.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(string(seeds), "\n---\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkSafe(t, body, HTML(body))
		if e := Excerpt(body, 300); len(e) > 300+len("…") {
			t.Fatalf("excerpt of %d bytes", len(e))
		}
	})
}

// maxBody is page.MaxBody, the most a post's body holds.
const maxBody = 64 << 10
