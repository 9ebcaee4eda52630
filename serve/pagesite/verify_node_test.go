package pagesite

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planet/core/page"
	"planet/core/page/pagetest"
)

// The verification script runs under Node (20 has WebCrypto Ed25519 and
// fetch) against the handler on loopback, over logs and documents made by
// PLANET's Go code: what it accepts and refuses is what a visitor's
// browser would.

type scriptResult struct {
	OK    bool
	Lines []struct {
		OK   bool
		Text string
	}
}

// nodeDir returns node and a directory holding verify.js as verify.mjs
// and the drivers from testdata. It skips without node unless
// PLANET_REQUIRE_INTEROP=1.
func nodeDir(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatal("node is required (PLANET_REQUIRE_INTEROP=1) but not on PATH")
		}
		t.Skip("node is not on PATH")
	}
	dir := t.TempDir()
	script, err := assets.ReadFile("assets/verify.js")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "verify.mjs"), script, 0o644))
	for _, d := range []string{"verify_driver.mjs", "vector_driver.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata", d))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, d), data, 0o644))
	}
	return node, dir
}

// runScript runs verify.js on the page of p served by h. It skips without
// node unless PLANET_REQUIRE_INTEROP=1.
func runScript(t *testing.T, h *Handler, p *published, docs ...string) scriptResult {
	t.Helper()
	node, dir := nodeDir(t)
	srv := httptest.NewServer(h) // loopback, a free port
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "verify_driver.mjs"),
		srv.URL+"/"+p.name+"/", p.DID.String(), strings.Join(docs, " "), h.now().Format(time.RFC3339))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var r scriptResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	for _, l := range r.Lines {
		t.Logf("script: ok=%v %s", l.OK, l.Text)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestScriptVerifiesPage(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada", newPost("hello", "Hello", "One.\n\nTwo.", t0), newPost("again", "Again", "Ünïcode ✓ and \"quotes\" <b>", t0.Add(time.Minute)))
	h := handler(mem)
	docs := []string{page.ProfilePath, page.IndexPath, page.PostPath("hello"), page.PostPath("again")}
	r := runScript(t, h, p, docs...)
	if !r.OK || len(r.Lines) != 1+len(docs) {
		t.Fatalf("valid page: %+v", r)
	}
	if !strings.Contains(r.Lines[1].Text, "signed by #key-1 of "+p.DID.String()+", version 1, on 2026-03-01 10:01 UTC") {
		t.Errorf("profile line = %q", r.Lines[1].Text)
	}

	// A rotated content key: the old posts verify against version 1, the
	// new one against version 2; a rotation of the update key with
	// pre-rotation is covered by the log checks below.
	p.RotateContentKey(t, "key-2", t0.Add(time.Hour))
	mem.put("ada", "did.jsonl", p.LogBytes(t))
	p.posts(t, newPost("hello", "Hello", "One, edited.", t0), newPost("again", "Again", "Ünïcode ✓ and \"quotes\" <b>", t0.Add(time.Minute)))
	r = runScript(t, h, p, docs...)
	if !r.OK || !strings.Contains(r.Lines[0].Text, "2 versions") || !strings.Contains(r.Lines[3].Text, "#key-2") || !strings.Contains(r.Lines[1].Text, "#key-1") {
		t.Fatalf("after rotation: %+v", r)
	}
}

func TestScriptRefusesTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, p *published)
		line   int // the line that must fail
		want   string
	}{
		{"changed post", func(t *testing.T, p *published) {
			data, _ := p.mem.File("ada", page.PostPath("hello"))
			p.mem.put("ada", page.PostPath("hello"), bytes.Replace(data, []byte("One."), []byte("Forged."), 1))
		}, 3, "signature does not match"},
		{"post of another path", func(t *testing.T, p *published) {
			data, _ := p.mem.File("ada", page.PostPath("hello"))
			p.mem.put("ada", page.PostPath("again"), data)
		}, 4, "it says it is"},
		{"forged log entry", func(t *testing.T, p *published) {
			p.RotateContentKey(t, "key-2", t0.Add(time.Hour))
			log := p.LogBytes(t)
			lines := bytes.Split(bytes.TrimSpace(log), []byte("\n"))
			lines[1] = bytes.Replace(lines[1], []byte(`"key-2"`), []byte(`"key-9"`), 1)
			lines[1] = bytes.ReplaceAll(lines[1], []byte(`#key-2`), []byte(`#key-9`))
			p.mem.put("ada", "did.jsonl", append(bytes.Join(lines, []byte("\n")), '\n'))
		}, 0, "entry hash is not chained"},
		{"forged log signature", func(t *testing.T, p *published) {
			log := p.LogBytes(t)
			i := bytes.Index(log, []byte(`"proofValue":"z`)) + len(`"proofValue":"z`) + 5
			c := byte('2')
			if log[i] == c {
				c = '3'
			}
			log[i] = c
			p.mem.put("ada", "did.jsonl", log)
		}, 0, "signature does not match"},
		{"entry re-hashed and signed by a key not authorised", func(t *testing.T, p *published) {
			p.RotateContentKey(t, "key-2", t0.Add(time.Hour))
			p.mem.put("ada", "did.jsonl", forgeLastEntry(t, p.LogBytes(t), pagetest.NewKey("attacker")))
		}, 0, "not an authorised update key"},
		{"log of another did", func(t *testing.T, p *published) {
			other := pagetest.New(t, "example.com", "ada", t0.Add(time.Second))
			p.mem.put("ada", "did.jsonl", other.LogBytes(t))
		}, 0, "the log is of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newMem()
			p := publish(t, mem, "ada", newPost("hello", "Hello", "One.\n\nTwo.", t0), newPost("again", "Again", "Three.", t0))
			tt.tamper(t, p)
			r := runScript(t, handler(mem), p, page.ProfilePath, page.IndexPath, page.PostPath("hello"), page.PostPath("again"))
			if r.OK || len(r.Lines) <= tt.line || r.Lines[tt.line].OK || !strings.Contains(r.Lines[tt.line].Text, tt.want) {
				t.Fatalf("want line %d to fail with %q: %+v", tt.line, tt.want, r)
			}
		})
	}
}

// TestScriptW3CVector checks the script's JCS and eddsa-jcs-2022 against
// the W3C vc-di-eddsa test vector (w3c/vc-di-eddsa,
// TestVectors/eddsa-jcs-2022/signedJCS.json, copied unchanged but for
// whitespace), and that a changed copy fails.
func TestScriptW3CVector(t *testing.T) {
	node, dir := nodeDir(t)
	const key = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" // TestVectors/keyPair.json
	vector, err := os.ReadFile("testdata/w3c-eddsa-jcs-2022-signedJCS.json")
	must(t, err)
	changed := filepath.Join(dir, "changed.json")
	must(t, os.WriteFile(changed, bytes.Replace(vector, []byte("The School of Examples"), []byte("The School of Forgeries"), 1), 0o644))
	for file, want := range map[string]string{"testdata/w3c-eddsa-jcs-2022-signedJCS.json": "ok", changed: "its signature does not match"} {
		abs, err := filepath.Abs(file)
		must(t, err)
		out, err := exec.Command(node, filepath.Join(dir, "vector_driver.mjs"), abs, key).Output()
		must(t, err)
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("%s: %q, want %q", filepath.Base(file), out, want)
		}
	}
}
