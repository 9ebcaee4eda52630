//go:build !js

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const safejs = "github.com/hack-pad/safejs"

// listDeps returns, for pkgs and everything they depend on in the browser's
// build, whether each is standard and what it imports.
func listDeps(t *testing.T, pkgs ...string) (lines [][]string) {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", `{{.Standard}} {{.ImportPath}} {{join .Imports " "}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lines = append(lines, strings.Fields(line))
	}
	if len(lines) < 20 {
		t.Fatalf("go list saw only %d packages; the check is not looking at the wasm build", len(lines))
	}
	return lines
}

// TestBrowserBinaryDeps keeps the browser's binary lean and its boundary
// fenced: nothing that only tests or native tools need (testing, os/exec,
// httptest) may reach the wasm build; none of the project's own packages
// may use net/http there (jwx's jwk package links it in for fetching key
// sets, which PLANET never calls); and only the browser packages (wasm,
// idb, webrtc) may touch syscall/js among the project's own.
func TestBrowserBinaryDeps(t *testing.T) {
	banned := map[string]bool{"testing": true, "os/exec": true, "net/http/httptest": true}
	browser := map[string]bool{"planet/wasm": true, "planet/idb": true, "planet/webrtc": true}
	for _, f := range listDeps(t, ".") {
		pkg, imports := f[1], f[2:]
		if banned[pkg] {
			t.Errorf("the wasm build depends on %s", pkg)
		}
		if !strings.HasPrefix(pkg, "planet/") {
			continue
		}
		for _, imp := range imports {
			if !browser[pkg] && (imp == "syscall/js" || strings.HasPrefix(imp, safejs)) {
				t.Errorf("%s imports %s: the browser belongs in wasm/, idb/ and webrtc/", pkg, imp)
			}
			if imp == "net/http" {
				t.Errorf("%s imports net/http in the browser's build", pkg)
			}
		}
	}
}

// TestPureCore keeps core and vault buildable and testable natively: none
// of their dependencies outside the standard library (whose own use is its
// business) may reach for syscall/js or safejs.
func TestPureCore(t *testing.T) {
	for _, f := range listDeps(t, "planet/core", "planet/vault") {
		standard, pkg, imports := f[0] == "true", f[1], f[2:]
		if strings.HasPrefix(pkg, safejs) {
			t.Errorf("core or vault depends on %s", pkg)
		}
		for _, imp := range imports {
			if !standard && imp == "syscall/js" {
				t.Errorf("%s, a dependency of core or vault, imports syscall/js", pkg)
			}
		}
	}
}
