//go:build !js

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBrowserBinaryDeps keeps the browser's binary lean and its boundary
// fenced: nothing that only tests or native tools need (testing, os/exec,
// httptest) may reach the wasm build; none of the project's own packages
// may use net/http there (jwx's jwk package links it in for fetching key
// sets, which PLANET never calls); and only the browser packages (wasm,
// idb, webrtc) may touch syscall/js among the project's own.
func TestBrowserBinaryDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.Standard}} {{.ImportPath}} {{join .Imports " "}}`, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := map[string]bool{"testing": true, "os/exec": true, "net/http/httptest": true}
	browser := map[string]bool{"planet/wasm": true, "planet/idb": true, "planet/webrtc": true}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[1], f[2:]
		seen++
		if banned[pkg] {
			t.Errorf("the wasm build depends on %s", pkg)
		}
		if strings.HasPrefix(pkg, "planet/") && !browser[pkg] {
			for _, imp := range imports {
				if imp == "syscall/js" || strings.HasPrefix(imp, "github.com/hack-pad/safejs") {
					t.Errorf("%s imports %s: the browser belongs in wasm/, idb/ and webrtc/", pkg, imp)
				}
			}
		}
		if strings.HasPrefix(pkg, "planet/") {
			for _, imp := range imports {
				if imp == "net/http" {
					t.Errorf("%s imports net/http in the browser's build", pkg)
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("go list saw only %d packages; the check is not looking at the wasm build", seen)
	}
}
