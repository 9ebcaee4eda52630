package webvh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"planet/core/jcs"
)

// Interop with didwebvh-ts 2.8.0 (decentralized-identity/didwebvh-ts, from
// npm), an independent did:webvh 1.0 implementation, both ways: logs that
// PLANET writes resolve there to the same documents, and logs it writes
// resolve here. web/test/interop/webvh.mjs runs it; it takes the log as
// text, so no HTTP is involved.

// runTS runs operations through webvh.mjs and returns each result; it
// skips the test when node or didwebvh-ts is missing, unless
// PLANET_REQUIRE_INTEROP=1 (make test sets it).
func runTS(t *testing.T, ops ...map[string]any) []map[string]any {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(root, "web/test/node_modules/didwebvh-ts/package.json")); err != nil {
		missing = "web/test/node_modules/didwebvh-ts is not installed (cd web/test && npm ci)"
	}
	if missing != "" {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatalf("interop with didwebvh-ts required (PLANET_REQUIRE_INTEROP=1), but %s", missing)
		}
		t.Skipf("skipping interop with didwebvh-ts: %s", missing)
	}
	in, err := json.Marshal(map[string]any{"ops": ops})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "web/test/interop/webvh.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("webvh.mjs: %v\n%s", err, stderr.Bytes())
	}
	var results []map[string]any
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("webvh.mjs: %v", err)
	}
	return results
}

// okTS returns the "ok" object of a result, failing on an error.
func okTS(t *testing.T, r map[string]any) map[string]any {
	t.Helper()
	if e, ok := r["error"]; ok {
		t.Fatalf("didwebvh-ts: %v", e)
	}
	return r["ok"].(map[string]any)
}

// seedSigner is a key both sides derive from the same seed.
type seedSigner struct {
	testSigner
	seed string
}

func seeded(n byte) seedSigner {
	seed := bytes.Repeat([]byte{0}, 32)
	seed[31] = n
	return seedSigner{testSigner{ed25519.NewKeyFromSeed(seed)}, hex.EncodeToString(seed)}
}

// sameDocument compares two resolved documents: equal once the implicit
// services are set aside, and both having #files and #whois services with
// the same endpoints but for the trailing slash of #files (see
// docs/didwebvh.md: PLANET writes the spec's "https://example.com/",
// didwebvh-ts "https://example.com").
func sameDocument(t *testing.T, what string, goDoc map[string]any, tsDoc any) {
	t.Helper()
	g, _ := jcs.DecodeObject(mustJSON(t, goDoc))
	ts, _ := jcs.DecodeObject(mustJSON(t, tsDoc))
	if !reflect.DeepEqual(withoutImplicitServices(t, g), withoutImplicitServices(t, ts)) {
		t.Errorf("%s: documents differ\n  go %s\n  ts %s", what, mustJSON(t, withoutImplicitServices(t, g)), mustJSON(t, withoutImplicitServices(t, ts)))
	}
	endpoints := func(doc map[string]any) map[string]string {
		out := map[string]string{}
		services, _ := doc["service"].([]any)
		for _, s := range services {
			m := s.(map[string]any)
			id, _ := m["id"].(string)
			ep, _ := m["serviceEndpoint"].(string)
			if i := strings.LastIndex(id, "#"); i >= 0 {
				out[id[i:]] = strings.TrimSuffix(ep, "/")
			}
		}
		return out
	}
	ge, te := endpoints(g), endpoints(ts)
	if ge["#files"] == "" || ge["#files"] != te["#files"] || ge["#whois"] != te["#whois"] {
		t.Errorf("%s: implicit services differ: go %v, ts %v", what, ge, te)
	}
}

// TestInteropPlanetLogsResolveInTS writes a log in Go (pre-rotation, a
// rotation under it, a witness, a rotation without pre-rotation, a move, a
// deactivation) and resolves every version with didwebvh-ts.
func TestInteropPlanetLogsResolveInTS(t *testing.T) {
	k0, k1, k2, k3, w := seeded(1), seeded(2), seeded(3), seeded(4), seeded(9)
	now := time.Now().UTC()
	start := now.Add(-time.Hour).Truncate(time.Second)
	log, err := Create(CreateOptions{
		Host: "example.com", Path: []string{"people", "alice"}, Time: start, Document: document(k0.testSigner),
		NextKeyHashes: []string{NextKeyHash(k1.multikey())}, Portable: true,
	}, k0)
	if err != nil {
		t.Fatal(err)
	}
	d := current(t, log)
	steps := []func(Log) (Log, error){
		func(l Log) (Log, error) { // rotate under pre-rotation, start witnessing
			return l.Update(UpdateOptions{
				Time: start.Add(time.Minute), Document: document(k1.testSigner)(d.String()),
				UpdateKeys: []string{k1.multikey()}, NextKeyHashes: []string{NextKeyHash(k2.multikey())},
				Witness: &Witness{Threshold: 1, Witnesses: []string{"did:key:" + w.multikey()}},
			}, k1, now)
		},
		func(l Log) (Log, error) { // end pre-rotation and witnessing
			return l.Update(UpdateOptions{Time: start.Add(2 * time.Minute), UpdateKeys: []string{k2.multikey()}, NextKeyHashes: []string{}, Witness: &Witness{}}, k2, now)
		},
		func(l Log) (Log, error) { // rotate without pre-rotation
			return l.Update(UpdateOptions{Time: start.Add(3 * time.Minute), UpdateKeys: []string{k3.multikey()}}, k2, now)
		},
		func(l Log) (Log, error) { // move
			return l.Move("bücher.example", 8443, []string{"alice"}, UpdateOptions{Time: start.Add(4 * time.Minute)}, k3, now)
		},
		func(l Log) (Log, error) { return l.Deactivate(start.Add(5*time.Minute), k3, now) },
	}
	for _, step := range steps {
		if log, err = step(log); err != nil {
			t.Fatal(err)
		}
	}
	var wf WitnessFile
	for _, e := range log[1:3] {
		p, err := SignWitness(e.VersionID, w, start)
		if err != nil {
			t.Fatal(err)
		}
		wf = wf.Add(e.VersionID, p)
	}
	wfJSON := json.RawMessage(mustJSON(t, wf))

	var ops []map[string]any
	for n := 1; n <= len(log); n++ {
		text, _ := log[:n].MarshalJSONL()
		ops = append(ops, map[string]any{"op": "resolve", "log": string(text), "witness": wfJSON})
	}
	full, _ := log.MarshalJSONL()
	for n := 1; n <= len(log); n++ {
		ops = append(ops, map[string]any{"op": "resolve", "log": string(full), "witness": wfJSON, "versionNumber": n})
	}
	results := runTS(t, ops...)
	for n := 1; n <= len(log); n++ {
		id, _ := log[n-1].State["id"].(string)
		res, err := Resolve(mustParse(t, id), log[:n], wf, Query{}, now)
		if err != nil {
			t.Fatalf("version %d in Go: %v", n, err)
		}
		ts := okTS(t, results[n-1])
		meta := ts["meta"].(map[string]any)
		if meta["versionId"] != log[n-1].VersionID || ts["did"] != id {
			t.Errorf("version %d: didwebvh-ts resolved %v %v", n, ts["did"], meta["versionId"])
		}
		if res.Metadata.Deactivated {
			if ts["doc"] != nil || meta["deactivated"] != true {
				t.Errorf("version %d: didwebvh-ts gave a document for a deactivated DID", n)
			}
		} else {
			sameDocument(t, fmt.Sprintf("log of %d versions", n), res.Document, ts["doc"])
		}
		byNumber := okTS(t, results[len(log)+n-1])
		res, err = Resolve(mustParse(t, id), log, wf, Query{VersionNumber: n}, now)
		if err != nil {
			t.Fatal(err)
		}
		sameDocument(t, fmt.Sprintf("versionNumber=%d", n), res.Document, byNumber["doc"])
	}
}

// TestInteropTSLogsResolveInGo has didwebvh-ts write a log (pre-rotation,
// a rotation, a move, a deactivation) and resolves it in Go to the
// documents didwebvh-ts resolves it to.
func TestInteropTSLogsResolveInGo(t *testing.T) {
	k0, k1, k2 := seeded(11), seeded(12), seeded(13)
	now := time.Now().UTC()
	start := now.Add(-time.Hour).Truncate(time.Second)
	ts := func(d time.Duration) string { return formatTime(start.Add(d)) }
	log := okTS(t, runTS(t, map[string]any{
		"op": "create", "seed": k0.seed, "domain": "example.com", "paths": []string{"bob"}, "created": ts(0),
		"nextKeyHashes": []string{NextKeyHash(k1.multikey())}, "portable": true,
	})[0])["log"].(string)
	log = okTS(t, runTS(t, map[string]any{
		"op": "update", "log": log, "seed": k1.seed, "updated": ts(time.Minute),
		"updateKeys": []string{k1.multikey()}, "nextKeyHashes": []string{NextKeyHash(k2.multikey())},
	})[0])["log"].(string)
	log = okTS(t, runTS(t, map[string]any{
		"op": "update", "log": log, "seed": k2.seed, "updated": ts(2 * time.Minute),
		"updateKeys": []string{k2.multikey()}, "nextKeyHashes": []string{}, "domain": "new.example.org",
	})[0])["log"].(string)
	log = okTS(t, runTS(t, map[string]any{"op": "deactivate", "log": log, "seed": k2.seed})[0])["log"].(string)

	parsed, err := ParseLog([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	var ops []map[string]any
	for n := 1; n <= len(parsed); n++ {
		ops = append(ops, map[string]any{"op": "resolve", "log": log, "versionNumber": n})
	}
	results := runTS(t, ops...)
	final := mustParse(t, parsed[len(parsed)-1].State["id"].(string))
	if !strings.Contains(final.String(), ":new.example.org") {
		t.Errorf("moved DID %s", final)
	}
	res, err := Resolve(final, parsed, nil, Query{}, now)
	if err != nil {
		t.Fatalf("didwebvh-ts log in Go: %v", err)
	}
	if !res.Metadata.Deactivated || res.Document != nil {
		t.Errorf("deactivation not seen: %+v", res.Metadata)
	}
	for n := 1; n <= len(parsed); n++ {
		res, err := Resolve(final, parsed, nil, Query{VersionNumber: n}, now)
		if err != nil {
			t.Fatalf("version %d: %v", n, err)
		}
		sameDocument(t, fmt.Sprintf("version %d", n), res.Document, okTS(t, results[n-1])["doc"])
	}
}

// TestInteropTSWitnessedLogResolvesInGo has didwebvh-ts write a witnessed
// log and its witness proofs, and checks Go needs and accepts the proofs.
// (didwebvh-ts 2.8.0 fetches did-witness.json itself when deactivating,
// so this log stays active.)
func TestInteropTSWitnessedLogResolvesInGo(t *testing.T) {
	k0, w1, w2 := seeded(21), seeded(28), seeded(29)
	now := time.Now().UTC()
	start := now.Add(-time.Hour).Truncate(time.Second)
	ts := func(d time.Duration) string { return formatTime(start.Add(d)) }
	witness := map[string]any{"threshold": 2, "witnesses": []any{
		map[string]any{"id": "did:key:" + w1.multikey()}, map[string]any{"id": "did:key:" + w2.multikey()},
	}}
	log := okTS(t, runTS(t, map[string]any{"op": "create", "seed": k0.seed, "domain": "example.com", "created": ts(0), "witness": witness})[0])["log"].(string)
	first, err := ParseLog([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	proofs := runTS(t,
		map[string]any{"op": "witness", "seed": w1.seed, "versionId": first[0].VersionID, "created": ts(0)},
		map[string]any{"op": "witness", "seed": w2.seed, "versionId": first[0].VersionID, "created": ts(0)},
	)
	wf := []any{map[string]any{"versionId": first[0].VersionID, "proof": []any{okTS(t, proofs[0])["proof"], okTS(t, proofs[1])["proof"]}}}
	log = okTS(t, runTS(t, map[string]any{"op": "update", "log": log, "seed": k0.seed, "updated": ts(time.Minute), "witness": wf})[0])["log"].(string)
	parsed, err := ParseLog([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	// didwebvh-ts's update left the witness list ({}), so the old list
	// must approve version 2 as well.
	proofs = runTS(t,
		map[string]any{"op": "witness", "seed": w1.seed, "versionId": parsed[1].VersionID, "created": ts(time.Minute)},
		map[string]any{"op": "witness", "seed": w2.seed, "versionId": parsed[1].VersionID, "created": ts(time.Minute)},
	)
	wf = append(wf, map[string]any{"versionId": parsed[1].VersionID, "proof": []any{okTS(t, proofs[0])["proof"], okTS(t, proofs[1])["proof"]}})
	tsRes := okTS(t, runTS(t, map[string]any{"op": "resolve", "log": log, "witness": wf})[0])
	wfile, err := ParseWitnessFile(mustJSON(t, wf))
	if err != nil {
		t.Fatal(err)
	}
	d := mustParse(t, parsed[0].State["id"].(string))
	res, err := Resolve(d, parsed, wfile, Query{}, now)
	if err != nil {
		t.Fatalf("witnessed didwebvh-ts log in Go: %v", err)
	}
	sameDocument(t, "witnessed log", res.Document, tsRes["doc"])
	if _, err := Resolve(d, parsed, wfile[:1], Query{}, now); err == nil {
		t.Error("version 2 resolved without its witness proofs")
	}
}
