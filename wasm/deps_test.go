//go:build !js

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const safejs = "github.com/hack-pad/safejs"

// browserPkgs are the only packages of the project that may use syscall/js
// or safejs: the page's API, the bridge and the two that need the browser's
// own objects.
var browserPkgs = map[string]bool{"planet/wasm": true, "planet/wasm/browser": true, "planet/idb": true, "planet/webrtc": true}

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
// wasm/browser, idb, webrtc) may touch syscall/js among the project's own.
// The Markdown parser stays out too: it would add some 1.4 MB, so the
// server renders posts and their previews.
func TestBrowserBinaryDeps(t *testing.T) {
	banned := map[string]bool{"testing": true, "os/exec": true, "net/http/httptest": true}
	for _, f := range listDeps(t, ".") {
		pkg, imports := f[1], f[2:]
		if banned[pkg] || strings.HasPrefix(pkg, "github.com/yuin/goldmark") {
			t.Errorf("the wasm build depends on %s", pkg)
		}
		if !strings.HasPrefix(pkg, "planet/") {
			continue
		}
		for _, imp := range imports {
			if !browserPkgs[pkg] && (imp == "syscall/js" || strings.HasPrefix(imp, safejs)) {
				t.Errorf("%s imports %s: the browser belongs in wasm/, idb/ and webrtc/", pkg, imp)
			}
			if imp == "net/http" {
				t.Errorf("%s imports net/http in the browser's build", pkg)
			}
		}
	}
}

// TestBrowserBoundary fences the browser in for every package of the
// project, built for the browser, tests included, whether or not the
// binary uses it: only wasm, wasm/browser, idb and webrtc import syscall/js
// or safejs.
func TestBrowserBoundary(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "planet/...")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 5 {
		t.Fatalf("go list saw only %d packages of the project", len(lines))
	}
	seen := map[string]bool{}
	for _, line := range lines {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		seen[pkg] = true
		if browserPkgs[pkg] {
			continue
		}
		for _, imp := range imports {
			if imp == "syscall/js" || strings.HasPrefix(imp, safejs) {
				t.Errorf("%s imports %s: the browser belongs in wasm/, wasm/browser, idb/ and webrtc/", pkg, imp)
			}
		}
	}
	for pkg := range browserPkgs {
		if !seen[pkg] {
			t.Errorf("go list did not see %s: the check is not looking at the project", pkg)
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
