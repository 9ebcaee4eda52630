package core

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps keeps core pure. No package of core's own or of its dependencies
// outside the standard library may import syscall/js (the browser belongs in
// wasm/, idb/ and webrtc/; the standard library's own use is its business),
// and nothing may carry packages that only tests or native tools need into
// the browser's binary.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	banned := []string{"testing", "os/exec", "github.com/hack-pad/safejs"}
	for _, goos := range []string{"js", ""} {
		// Each line: Standard ImportPath Imports...
		cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.Standard}} {{.ImportPath}} {{join .Imports " "}}`, ".")
		cmd.Env = os.Environ()
		if goos == "js" {
			cmd.Env = append(cmd.Env, "GOOS=js", "GOARCH=wasm")
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (GOOS=%s): %v", goos, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			standard, pkg, imports := f[0] == "true", f[1], f[2:]
			if slices.Contains(banned, pkg) {
				t.Errorf("GOOS=%s: core depends on %s", goos, pkg)
			}
			if !standard && slices.Contains(imports, "syscall/js") {
				t.Errorf("GOOS=%s: %s imports syscall/js", goos, pkg)
			}
		}
	}
}
