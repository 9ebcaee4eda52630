//go:build !js

package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layers are the project's packages from the lowest up (docs/architecture.md
// draws them). A package may import only packages of lower layers: never one
// of its own layer, never one above. A new package must be given its place
// here, or TestLayers fails.
var layers = []struct {
	name string
	pkgs []string
}{
	{"encodings", []string{"planet/core/cbor", "planet/core/jcs", "planet/core/keys", "planet/core/internal/input", "planet/core/internal/vectors", "planet/wasm/browser"}},
	{"identifiers, framing, storage", []string{"planet/core/did", "planet/core/internal/eddsajcs", "planet/core/internal/jws", "planet/core/wire", "planet/vault"}},
	{"identity, stores", []string{"planet/core/identity", "planet/core/did/webvh", "planet/core/wire/wiretest", "planet/vault/mem", "planet/vault/storetest", "planet/idb"}},
	{"signed formats and protocols", []string{"planet/core/vc", "planet/core/invite", "planet/core/didcomm", "planet/core/mailbox", "planet/core/identity/identitytest", "planet/core/didcomm/didcommtest", "planet/core/page", "planet/core/page/markdown"}},
	{"protocols over signed formats", []string{"planet/core/fpn", "planet/core/mediation", "planet/core/page/pagetest"}},
	{"algorithms", []string{"planet/core/graph"}},
	{"the session a feature gets", []string{"planet/core/session"}},
	{"features others build on", []string{"planet/core/contacts"}},
	{"features", []string{"planet/core/trust", "planet/core/relationship", "planet/core/publish", "planet/core/library", "planet/core/chat", "planet/core/session/sessiontest"}},
	{"the person's PLANET", []string{"planet/core"}},
	{"the network", []string{"planet/core/p2p", "planet/webrtc"}},
	{"the server's HTTP responses and quotas", []string{"planet/serve/response", "planet/serve/quota"}},
	{"the server's parts", []string{"planet/serve/site", "planet/serve/relay", "planet/serve/mailboxstore", "planet/serve/mediator", "planet/serve/resolver", "planet/serve/pagesite", "planet/serve/webvhhost"}},
	{"the server on loopback, for tests", []string{"planet/serve/servetest"}},
	{"programs", []string{"planet/wasm", "planet/serve", "planet/serve/relayload", "planet/serve/mediatorload"}},
}

// serveMustNot are what the server must never link: the vault and its
// encryption, the person's PLANET and the features over it. The server
// keeps sealed letters and resolves DIDs; it never opens anyone's vault.
// (It does link core/didcomm: its mediator is a DIDComm party with keys of
// its own, which reads the messages addressed to it and no others.)
var serveMustNot = []string{"planet/vault", "planet/core", "planet/core/p2p", "planet/core/vc", "planet/core/graph",
	"planet/core/invite", "planet/core/session", "planet/core/trust", "planet/core/chat", "filippo.io/age"}

// goList runs go list over the project with the given template, once for
// the native build and once for the browser's.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	var lines []string
	for _, env := range [][]string{nil, {"GOOS=js", "GOARCH=wasm"}} {
		cmd := exec.Command("go", append([]string{"list", "-e", "-f", format}, pkgs...)...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", env, err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(out)), "\n")...)
	}
	return lines
}

func TestLayers(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l.pkgs {
			layerOf[p] = i
		}
	}
	seen := map[string]bool{}
	for _, line := range goList(t, `{{.ImportPath}} {{join .Imports " "}}`, "planet/...") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		seen[pkg] = true
		mine, ok := layerOf[pkg]
		if !ok {
			t.Errorf("%s has no layer: give it its place in layers (core/layers_test.go) and docs/architecture.md", pkg)
			continue
		}
		for _, imp := range imports {
			theirs, ok := layerOf[imp]
			if !strings.HasPrefix(imp, "planet/") || !ok {
				continue
			}
			if theirs >= mine {
				t.Errorf("%s (%s) imports %s (%s): a package imports only lower layers",
					pkg, layers[mine].name, imp, layers[theirs].name)
			}
		}
	}
	for p := range layerOf {
		if !seen[p] {
			t.Errorf("layers names %s, which go list did not see", p)
		}
	}
}

func TestServeLinksNoVault(t *testing.T) {
	deps := map[string]bool{}
	for _, line := range goList(t, `{{.ImportPath}}`, "-deps", "planet/serve") {
		deps[line] = true
	}
	if !deps["planet/core/mailbox"] {
		t.Fatal("go list -deps planet/serve does not list the mailbox: the check is not looking at the server")
	}
	for _, p := range serveMustNot {
		if deps[p] {
			t.Errorf("the server links %s", p)
		}
	}
}
