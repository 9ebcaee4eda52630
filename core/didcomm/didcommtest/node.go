// Package didcommtest runs didcomm-node, the DIF reference DIDComm
// implementation (didcomm-rust in WebAssembly, from npm), for tests that
// prove interop against it: web/test/interop/didcomm.mjs takes the DID
// documents, secrets and operations of a request and answers each
// operation. Tests use it; nothing else may.
package didcommtest

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/keys"
)

// root is the repository's root, found from this file's place in it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Run runs one request through the script and returns the result of each
// operation ({"ok": …}), failing the test on any operation's error. It
// skips the test when node or didcomm-node is missing, unless
// PLANET_REQUIRE_INTEROP=1 says the test must run (make test sets it).
func Run(t testing.TB, req map[string]any) []map[string]any {
	t.Helper()
	var results []map[string]any
	if err := json.Unmarshal(Exec(t, req), &results); err != nil {
		t.Fatalf("didcomm.mjs: %v", err)
	}
	for i, r := range results {
		if e, ok := r["error"]; ok {
			t.Fatalf("didcomm-node, operation %d: %v", i, e)
		}
	}
	return results
}

// Exec runs one request through the script and returns what it wrote: a
// JSON array with one result per operation, {"ok": …} or {"error": "…"}.
// It skips the test as Run does.
func Exec(t testing.TB, req map[string]any) []byte {
	t.Helper()
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(root(), "web/test/node_modules/didcomm-node/package.json")); err != nil {
		missing = "web/test/node_modules/didcomm-node is not installed (cd web/test && npm ci)"
	}
	if missing != "" {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatalf("interop with didcomm-node required (PLANET_REQUIRE_INTEROP=1), but %s", missing)
		}
		t.Skipf("skipping interop with didcomm-node: %s", missing)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root(), "web/test/interop/didcomm.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("didcomm.mjs: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// OK returns the "ok" object of a result.
func OK(r map[string]any) map[string]any {
	ok, _ := r["ok"].(map[string]any)
	return ok
}

var b64 = base64.RawURLEncoding

// Document writes the document of d (did:key or did:peer:2) as
// didcomm-node reads it: keys as JsonWebKey2020 (it does not read
// Multikey), ids absolute, a service's routing keys under both names its
// versions have used.
func Document(t testing.TB, d did.DID) map[string]any {
	t.Helper()
	doc, err := did.Local.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	var vms []map[string]any
	for _, vm := range doc.VerificationMethod {
		codec, pub, err := keys.DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			t.Fatal(err)
		}
		crv := map[keys.Codec]string{keys.CodecEd25519Pub: "Ed25519", keys.CodecX25519Pub: "X25519"}[codec]
		vms = append(vms, map[string]any{"id": doc.Absolute(vm.ID), "type": "JsonWebKey2020", "controller": doc.ID,
			"publicKeyJwk": map[string]string{"kty": "OKP", "crv": crv, "x": b64.EncodeToString(pub)}})
	}
	abs := func(refs []string) []string {
		out := []string{}
		for _, r := range refs {
			out = append(out, doc.Absolute(r))
		}
		return out
	}
	services := []map[string]any{}
	for _, s := range doc.Service {
		ep, ok := s.ServiceEndpoint.(map[string]any)
		if !ok {
			t.Fatalf("service %s: an endpoint that is not a map", s.ID)
		}
		rk := ep["routingKeys"]
		if rk == nil {
			rk = []any{}
		}
		services = append(services, map[string]any{"id": doc.Absolute(s.ID), "type": s.Type,
			"serviceEndpoint": map[string]any{"uri": ep["uri"], "accept": ep["accept"], "routingKeys": rk, "routing_keys": rk}})
	}
	return map[string]any{"id": doc.ID, "verificationMethod": vms, "service": services,
		"authentication": abs(doc.Authentication), "keyAgreement": abs(doc.KeyAgreement)}
}

// Secrets gives didcomm-node id's private keys under the kids of d, one of
// id's DIDs.
func Secrets(t testing.TB, id *identity.Identity, d did.DID) []map[string]any {
	t.Helper()
	doc, err := did.Local.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	xd := id.X25519Private()
	xk, err := ecdh.X25519().NewPrivateKey(xd)
	if err != nil {
		t.Fatal(err)
	}
	seed := id.Seed()
	x := map[string]string{"kty": "OKP", "crv": "X25519", "x": b64.EncodeToString(xk.PublicKey().Bytes()), "d": b64.EncodeToString(xd)}
	e := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)), "d": b64.EncodeToString(seed)}
	var out []map[string]any
	for _, ref := range doc.KeyAgreement {
		out = append(out, map[string]any{"id": doc.Absolute(ref), "type": "JsonWebKey2020", "privateKeyJwk": x})
	}
	for _, ref := range doc.Authentication {
		out = append(out, map[string]any{"id": doc.Absolute(ref), "type": "JsonWebKey2020", "privateKeyJwk": e})
	}
	return out
}
