package webvhhost

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

// seeds returns the lines of a testdata file.
func seeds(f *testing.F, name string) []string {
	f.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// FuzzParseAuth checks that whatever ParseAuth accepts is written back by String in a form
// it parses to the same value, and that the accepted values are well formed.
func FuzzParseAuth(f *testing.F) {
	for _, s := range seeds(f, "auth.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAuth(s)
		if err != nil {
			return
		}
		if len(a.Sig) != 64 || a.Created <= 0 || !strings.HasPrefix(a.Key, "z6Mk") {
			t.Fatalf("ParseAuth(%q) = %+v", s, a)
		}
		b, err := ParseAuth(a.String())
		if err != nil || b.Key != a.Key || b.Created != a.Created || !bytes.Equal(b.Sig, a.Sig) {
			t.Fatalf("round trip of %q: %+v, %v", s, b, err)
		}
	})
}

// FuzzCheckPath checks that an accepted path's canonical form is accepted as itself, stays
// within the depth, and has no segment that climbs, hides or holds a separator.
func FuzzCheckPath(f *testing.F) {
	for _, s := range seeds(f, "paths.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := CheckPath(p)
		if err != nil {
			return
		}
		again, err := CheckPath(c)
		if err != nil || again != c {
			t.Fatalf("CheckPath(%q) = %q, which checks as %q, %v", p, c, again, err)
		}
		segs := strings.Split(c, "/")
		if len(segs) > MaxPathDepth {
			t.Fatalf("%q has %d segments", c, len(segs))
		}
		for _, seg := range segs {
			if seg == "" || strings.HasPrefix(seg, ".") || strings.ContainsAny(seg, "\\\x00?# ") || len(seg) > maxSegment {
				t.Fatalf("%q has segment %q", c, seg)
			}
		}
	})
}

// TestCheckPathSeeds pins which seeds are paths.
func TestCheckPathSeeds(t *testing.T) {
	ok := map[string]string{
		"posts/hello.html":              "posts/hello.html",
		"a%20b.txt":                     "a%20b.txt",
		"a%7eb":                         "a~b",
		"%E7%94%A8%E6%88%B7/index.html": "%E7%94%A8%E6%88%B7/index.html",
		"1/2/3/4/5/6/7/8":               "1/2/3/4/5/6/7/8",
	}
	for _, p := range strings.Split(strings.TrimSpace(string(must(os.ReadFile("testdata/paths.txt")))), "\n") {
		c, err := CheckPath(p)
		if want, good := ok[p]; good != (err == nil) || c != want {
			t.Errorf("CheckPath(%q) = %q, %v", p, c, err)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestParseAuthSeeds pins which seeds are Authorization values: the first two lines (the
// scheme in any case, parameters in any order), no other.
func TestParseAuthSeeds(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(must(os.ReadFile("testdata/auth.txt")))), "\n")
	for i, s := range lines {
		if _, err := ParseAuth(s); (err == nil) != (i < 2) {
			t.Errorf("line %d %q: %v", i+1, s, err)
		}
	}
}
