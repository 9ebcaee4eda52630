package pagesite

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"planet/core/page"
)

// TestBrowserVerifies opens a page in headless Chromium, with its real
// Content-Security-Policy, and reads what the verification script wrote:
// the valid page verifies, the tampered post is named as not verifying,
// and nothing was refused by the policy. It needs /usr/bin/chromium and
// playwright-core installed in web/test (cd web/test && npm ci); without
// them it skips, unless PLANET_REQUIRE_INTEROP=1.
func TestBrowserVerifies(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	webTest := filepath.Join(filepath.Dir(file), "..", "..", "web", "test")
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = "/usr/bin/chromium is not installed"
	} else if _, err := os.Stat(filepath.Join(webTest, "node_modules", "playwright-core")); err != nil {
		missing = "playwright-core is not installed in web/test"
	}
	if missing != "" {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatalf("the browser test is required (PLANET_REQUIRE_INTEROP=1), but %s", missing)
		}
		t.Skip(missing)
	}
	mem := newMem()
	publish(t, mem, "ada", newPost("hello", "Hello", "One.", t0), newPost("bye", "Bye", "Two.", t0))
	data, _ := mem.File("ada", page.PostPath("bye"))
	mem.put("ada", page.PostPath("bye"), bytes.Replace(data, []byte("Two."), []byte("Forged."), 1))
	srv := httptest.NewServer(New(mem, Options{})) // loopback, a free port
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "browser.mjs"), webTest, srv.URL+"/ada/", srv.URL+"/ada/posts/hello", srv.URL+"/ada/posts/bye")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser.mjs: %v\n%s", err, stderr.Bytes())
	}
	var results []struct {
		URL, Text string
		Errors    []string
	}
	must(t, json.Unmarshal(out, &results))
	for i, want := range []string{"Your browser verified this page itself", "Your browser verified this page itself", "posts/bye.json: does not verify: its signature does not match"} {
		r := results[i]
		if !strings.Contains(r.Text, want) || len(r.Errors) > 0 {
			t.Errorf("%s: want %q, errors %v; the page says:\n%s", r.URL, want, r.Errors, r.Text)
		}
	}
}
