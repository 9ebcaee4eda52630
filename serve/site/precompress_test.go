package site

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"planet/serve/servetest"
)

func TestPrecompress(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"index.html":        []byte(strings.Repeat("<p>Your vault, your people.</p>\n", 100)),
		"js/app.js":         append([]byte("export const data = `"), compressibleBytes(3, 32<<10)...),
		"sw.js":             []byte(strings.Repeat("// __PLANET_BUILD__\n", 100)),
		"icon.png":          compressibleBytes(4, 4<<10),
		"small.txt":         []byte("too small to compress\n"),
		"noise.js":          randomBytes(5, 2<<10), // compressing would not make it smaller
		"noise.js.br":       []byte("stale"),
		".hidden/secret.js": []byte(strings.Repeat("secret();\n", 200)),
		"notes.xyz":         []byte(strings.Repeat("unknown type\n", 200)),
	}
	writeFiles(t, dir, files)
	if err := Precompress(dir, quiet); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"index.html", "js/app.js"} {
		for _, c := range codings {
			comp, err := os.ReadFile(filepath.Join(dir, name+c.ext))
			if err != nil {
				t.Fatal(err)
			}
			if !c.decodesTo(comp, files[name]) {
				t.Errorf("%s%s does not decode to %s", name, c.ext, name)
			}
			if len(comp) >= len(files[name]) {
				t.Errorf("%s%s is %d bytes, the file %d", name, c.ext, len(comp), len(files[name]))
			}
		}
	}
	for _, name := range []string{"sw.js", "icon.png", "small.txt", "noise.js", ".hidden/secret.js", "notes.xyz"} {
		for _, c := range codings {
			if _, err := os.Stat(filepath.Join(dir, name+c.ext)); err == nil {
				t.Errorf("%s%s was written (or kept)", name, c.ext)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != ".hidden" {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	// The server sends the precompressed bytes as they are.
	s, err := Load(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codings {
		disk, _ := os.ReadFile(filepath.Join(dir, "js/app.js"+c.ext))
		w := servetest.Do(s, "GET", "/js/app.js", "Accept-Encoding", c.name)
		if w.Header().Get("Content-Encoding") != c.name || !bytes.Equal(w.Body.Bytes(), disk) {
			t.Errorf("%s: the server did not send js/app.js%s from disk", c.name, c.ext)
		}
	}

	// Running it again keeps what is up to date.
	before, _ := os.Stat(filepath.Join(dir, "js/app.js.br"))
	if err := Precompress(dir, quiet); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, "js/app.js.br"))
	if !os.SameFile(before, after) {
		t.Error("an up-to-date js/app.js.br was rewritten")
	}
}

// A precompressed file that cannot be trusted is not sent: older than its file, or not
// decoding to it. The server compresses the file itself instead.
func TestPrecompressedUntrusted(t *testing.T) {
	dir := t.TempDir()
	old := []byte(strings.Repeat("export const version = 1;\n", 100))
	writeFiles(t, dir, map[string][]byte{"a.js": old, "b.js": old})
	if err := Precompress(dir, quiet); err != nil {
		t.Fatal(err)
	}
	cur := []byte(strings.Repeat("export const version = 2;\n", 100))
	writeFiles(t, dir, map[string][]byte{"a.js": cur, "b.js": cur})
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, c := range codings {
		// a.js's variants are older than a.js; b.js's look newer but are of the old content.
		os.Chtimes(filepath.Join(dir, "a.js"+c.ext), past, past)
		os.Chtimes(filepath.Join(dir, "b.js"+c.ext), future, future)
	}

	s, err := Load(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.js", "b.js"} {
		for _, c := range codings {
			w := servetest.Do(s, "GET", "/"+name, "Accept-Encoding", c.name)
			if w.Header().Get("Content-Encoding") != c.name {
				t.Fatalf("%s: Content-Encoding %q, want %q", name, w.Header().Get("Content-Encoding"), c.name)
			}
			if got := servetest.Decode(t, c.name, w.Body.Bytes()); !bytes.Equal(got, cur) {
				t.Errorf("%s (%s): the stale precompressed file was sent", name, c.name)
			}
		}
	}

	// -precompress replaces them.
	if err := Precompress(dir, quiet); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.js", "b.js"} {
		for _, c := range codings {
			comp, _ := os.ReadFile(filepath.Join(dir, name+c.ext))
			if !c.decodesTo(comp, cur) {
				t.Errorf("%s%s was not brought up to date", name, c.ext)
			}
		}
	}
}

func TestDecodesTo(t *testing.T) {
	data := compressibleBytes(6, 100<<10)
	for _, c := range codings {
		comp := c.encode(data, false)
		if !c.decodesTo(comp, data) {
			t.Errorf("%s: does not decode to its input", c.name)
		}
		for _, other := range [][]byte{data[:len(data)-1], append(bytes.Clone(data), 0), {}} {
			if c.decodesTo(comp, other) {
				t.Errorf("%s: decodes to %d bytes as well as to %d", c.name, len(other), len(data))
			}
		}
		if c.decodesTo(comp[:len(comp)/2], data) || c.decodesTo([]byte("garbage"), data) {
			t.Errorf("%s: a damaged stream passes", c.name)
		}
	}
}

// The root and the files in it may be links, as when a developer links build/www to a
// working copy.
func TestLinkedRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"real/index.html": []byte("<p>hi</p>"), "elsewhere/app.js": []byte("x()")})
	root := filepath.Join(dir, "www")
	if err := os.Symlink(filepath.Join(dir, "real"), root); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere", "app.js"), filepath.Join(dir, "real", "app.js")); err != nil {
		t.Fatal(err)
	}
	s, err := Load(root, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if w := servetest.Do(s, "GET", "/"); w.Code != 200 || w.Body.String() != "<p>hi</p>" {
		t.Errorf("GET /: %d %q", w.Code, w.Body.String())
	}
	if w := servetest.Do(s, "GET", "/app.js"); w.Code != 200 || w.Body.String() != "x()" {
		t.Errorf("GET /app.js: %d %q", w.Code, w.Body.String())
	}
}
