package webvh

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/internal/eddsajcs"
)

// testSigner is an Ed25519 key held by the test, as a person's vault holds
// their update keys.
type testSigner struct{ priv ed25519.PrivateKey }

func newSigner(seed string) testSigner {
	s := sha256.Sum256([]byte(seed))
	return testSigner{ed25519.NewKeyFromSeed(s[:])}
}

func (s testSigner) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }
func (s testSigner) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}
func (s testSigner) multikey() string { return Multikey(s.PublicKey()) }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// document makes a DID document with one verification method.
func document(key testSigner) func(id string) map[string]any {
	return func(id string) map[string]any {
		return map[string]any{
			"@context": []any{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
			"id":       id,
			"verificationMethod": []any{map[string]any{
				"id": id + "#key-1", "type": "Multikey", "controller": id, "publicKeyMultibase": key.multikey(),
			}},
			"authentication":  []any{id + "#key-1"},
			"assertionMethod": []any{id + "#key-1"},
		}
	}
}

func mustParse(t testing.TB, s string) DID {
	t.Helper()
	d, err := ParseDID(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func current(t testing.TB, log Log) DID {
	t.Helper()
	id, _ := log[len(log)-1].State["id"].(string)
	return mustParse(t, id)
}

// TestLifecycle creates a DID with pre-rotation, updates it, rotates its
// key, ends pre-rotation, rotates without it, moves it and deactivates it,
// resolving every version on the way.
func TestLifecycle(t *testing.T) {
	k0, k1, k2, k3 := newSigner("k0"), newSigner("k1"), newSigner("k2"), newSigner("k3")
	now := t0.Add(time.Hour)
	log, err := Create(CreateOptions{
		Host: "example.com", Path: []string{"people", "alice"}, Time: t0,
		Document: document(k0), NextKeyHashes: []string{NextKeyHash(k1.multikey())}, Portable: true,
	}, k0)
	if err != nil {
		t.Fatal(err)
	}
	d := current(t, log)
	if !strings.HasPrefix(d.String(), "did:webvh:Qm") || !strings.HasSuffix(d.String(), ":example.com:people:alice") {
		t.Fatalf("DID %s", d)
	}
	if got := d.LogURL(); got != "https://example.com/people/alice/did.jsonl" {
		t.Errorf("log URL %s", got)
	}

	// Under pre-rotation the current key cannot update without revealing
	// a committed key.
	if _, err := log.Update(UpdateOptions{Time: t0.Add(time.Minute)}, k0, now); !errors.Is(err, ErrPreRotation) {
		t.Fatalf("update without updateKeys = %v", err)
	}
	if _, err := log.Update(UpdateOptions{Time: t0.Add(time.Minute), UpdateKeys: []string{k2.multikey()}, NextKeyHashes: []string{}}, k2, now); !errors.Is(err, ErrPreRotation) {
		t.Fatalf("update with an uncommitted key = %v", err)
	}
	log, err = log.Update(UpdateOptions{
		Time: t0.Add(time.Minute), Document: document(k1)(d.String()),
		UpdateKeys: []string{k1.multikey()}, NextKeyHashes: []string{NextKeyHash(k2.multikey())},
	}, k1, now)
	if err != nil {
		t.Fatal(err)
	}
	// End pre-rotation with the committed key k2.
	log, err = log.Update(UpdateOptions{Time: t0.Add(2 * time.Minute), UpdateKeys: []string{k2.multikey()}, NextKeyHashes: []string{}}, k2, now)
	if err != nil {
		t.Fatal(err)
	}
	// Without pre-rotation, the active key (k2) signs the rotation to k3.
	if _, err := log.Update(UpdateOptions{Time: t0.Add(3 * time.Minute), UpdateKeys: []string{k3.multikey()}}, k3, now); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("rotation signed by the new key = %v", err)
	}
	log, err = log.Update(UpdateOptions{Time: t0.Add(3 * time.Minute), UpdateKeys: []string{k3.multikey()}}, k2, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Update(UpdateOptions{Time: t0.Add(4 * time.Minute)}, k2, now); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("update by the rotated-out key = %v", err)
	}
	// Move to another host.
	log, err = log.Move("bücher.example", 8443, []string{"alice"}, UpdateOptions{Time: t0.Add(4 * time.Minute)}, k3, now)
	if err != nil {
		t.Fatal(err)
	}
	moved := current(t, log)
	if moved.SCID() != d.SCID() || moved.String() != "did:webvh:"+d.SCID()+":xn--bcher-kva.example%3A8443:alice" {
		t.Fatalf("moved DID %s", moved)
	}
	if got := moved.LogURL(); got != "https://xn--bcher-kva.example:8443/alice/did.jsonl" {
		t.Errorf("moved log URL %s", got)
	}
	res, err := Resolve(moved, log, nil, Query{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if aka, _ := res.Document["alsoKnownAs"].([]any); len(aka) != 1 || aka[0] != d.String() {
		t.Errorf("alsoKnownAs %v", res.Document["alsoKnownAs"])
	}
	vm := res.Document["verificationMethod"].([]any)[0].(map[string]any)
	if vm["id"] != moved.String()+"#key-1" || vm["controller"] != moved.String() {
		t.Errorf("verification method not renamed: %v", vm)
	}
	if doc, err := res.Doc(); err != nil || doc.ID != moved.String() {
		t.Errorf("Doc() = %v, %v", doc, err)
	}
	// The old name resolves too: it is the state.id of earlier entries.
	if _, err := Resolve(d, log, nil, Query{}, now); err != nil {
		t.Errorf("resolve the old name: %v", err)
	}

	log, err = log.Deactivate(t0.Add(5*time.Minute), k3, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Update(UpdateOptions{Time: t0.Add(6 * time.Minute)}, k3, now); !errors.Is(err, ErrDeactivated) {
		t.Fatalf("update after deactivation = %v", err)
	}
	res, err = Resolve(moved, log, nil, Query{}, now)
	if err != nil || res.Document != nil || !res.Metadata.Deactivated {
		t.Fatalf("deactivated: %+v, %v", res, err)
	}
	if _, err := res.Doc(); !errors.Is(err, ErrDeactivated) {
		t.Errorf("Doc() of a deactivated DID = %v", err)
	}

	// Every version by number, id and time.
	for i, e := range log {
		for _, q := range []Query{{VersionNumber: i + 1}, {VersionID: e.VersionID}, {VersionTime: t0.Add(time.Duration(i)*time.Minute + 30*time.Second)}} {
			res, err := Resolve(moved, log, nil, q, now)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if res.Metadata.VersionNumber != i+1 || res.Document == nil || !res.Metadata.Deactivated {
				t.Errorf("%+v: version %d, document %v, deactivated %v", q, res.Metadata.VersionNumber, res.Document != nil, res.Metadata.Deactivated)
			}
		}
	}
	for _, q := range []Query{{VersionNumber: 99}, {VersionID: "1-QmNotThere"}, {VersionTime: t0.Add(-time.Hour)}} {
		if _, err := Resolve(moved, log, nil, q, now); !errors.Is(err, did.ErrNotFound) {
			t.Errorf("%+v: %v, want not found", q, err)
		}
	}

	// The log survives its file form.
	data, err := log.MarshalJSONL()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseLog(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(moved, again, nil, Query{VersionNumber: 2}, now); err != nil {
		t.Fatal(err)
	}
}

// TestImplicitServices checks #files and #whois: added from the DID's
// location, and replaced by the document's own.
func TestImplicitServices(t *testing.T) {
	k := newSigner("k")
	log, err := Create(CreateOptions{Host: "example.com", Port: 3000, Time: t0, Document: document(k)}, k)
	if err != nil {
		t.Fatal(err)
	}
	d := current(t, log)
	res, err := Resolve(d, log, nil, Query{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	services := res.Document["service"].([]any)
	files := findService(services, d, ServiceFiles)
	whois := findService(services, d, ServiceWhois)
	if files["serviceEndpoint"] != "https://example.com:3000/" || whois["serviceEndpoint"] != "https://example.com:3000/whois.vp" {
		t.Errorf("services %v", services)
	}
	if got, err := res.FileURL("/posts/hello%20world.html"); err != nil || got != "https://example.com:3000/posts/hello%20world.html" {
		t.Errorf("FileURL = %q, %v", got, err)
	}
	for _, bad := range []string{"/../did.jsonl", "/a/%2e%2e/b", "/a%2Fb", "/a%5Cb", "/a%00", "//x", "x"} {
		if _, err := res.FileURL(bad); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("FileURL(%q) = %v, want ErrInvalidDID", bad, err)
		}
	}
	// The document's own #files wins.
	doc := maps.Clone(log[0].State)
	doc["service"] = []any{map[string]any{"id": d.String() + "#files", "type": "relativeRef", "serviceEndpoint": "https://files.example.org/alice/"}}
	log, err = log.Update(UpdateOptions{Time: t0.Add(time.Second), Document: doc}, k, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res, err = Resolve(d, log, nil, Query{}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := res.FileURL("/a.txt"); got != "https://files.example.org/alice/a.txt" {
		t.Errorf("explicit #files: %s", got)
	}
	if n := len(res.Document["service"].([]any)); n != 2 {
		t.Errorf("%d services, want the explicit #files and the implicit #whois", n)
	}
}

// TestTransformation checks the DID-to-HTTPS transformation against the
// examples of spec "The DID to HTTPS Transformation".
func TestTransformation(t *testing.T) {
	scid := "QmfGEUAcMpzo25kF2Rhn8L5FAXysfGnkzjwdKoNPi615XQ"
	for _, c := range []struct{ did, log, base string }{
		{"example.com", "https://example.com/.well-known/did.jsonl", "https://example.com/"},
		{"issuer.example.com", "https://issuer.example.com/.well-known/did.jsonl", "https://issuer.example.com/"},
		{"example.com:dids:issuer", "https://example.com/dids/issuer/did.jsonl", "https://example.com/dids/issuer/"},
		{"example.com%3A3000:dids:issuer", "https://example.com:3000/dids/issuer/did.jsonl", "https://example.com:3000/dids/issuer/"},
		{"example.com%3a3000", "https://example.com:3000/.well-known/did.jsonl", "https://example.com:3000/"},
		{"jp%E7%B4%8D%E8%B1%86.%E4%BE%8B.jp:%E7%94%A8%E6%88%B7", "https://xn--jp-cd2fp15c.xn--fsq.jp/%E7%94%A8%E6%88%B7/did.jsonl", "https://xn--jp-cd2fp15c.xn--fsq.jp/%E7%94%A8%E6%88%B7/"},
		{"EXAMPLE.com:a%20b", "https://example.com/a%20b/did.jsonl", "https://example.com/a%20b/"},
	} {
		d := mustParse(t, "did:webvh:"+scid+":"+c.did)
		if got := d.LogURL(); got != c.log {
			t.Errorf("%s: log %s, want %s", c.did, got, c.log)
		}
		if got := d.WitnessURL(); got != strings.TrimSuffix(c.log, "did.jsonl")+"did-witness.json" {
			t.Errorf("%s: witness %s", c.did, got)
		}
		if got := d.BaseURL(); got != c.base {
			t.Errorf("%s: base %s, want %s", c.did, got, c.base)
		}
	}
	// DID URLs: path, query and fragment are split off first.
	u, err := ParseDIDURL("did:webvh:" + scid + ":example.com:dids/whois?versionNumber=2#frag")
	if err != nil || u.DID.String() != "did:webvh:"+scid+":example.com:dids" || u.Path != "/whois" || u.Query != "versionNumber=2" || u.Fragment != "frag" {
		t.Errorf("ParseDIDURL = %+v, %v", u, err)
	}
	for _, bad := range []string{
		"did:webvh:" + scid + ":127.0.0.1#x",
		"did:webvh:" + scid + ":example.com/../x",
		"did:webvh:" + scid + ":example.com/a/%2E%2E/x",
		"did:webvh:" + scid + ":example.com:%2E%2E/x",
		"did:web:example.com",
	} {
		if _, err := ParseDIDURL(bad); !errors.Is(err, ErrInvalidDID) || !errors.Is(err, did.ErrInvalid) {
			t.Errorf("ParseDIDURL(%q) = %v, want ErrInvalidDID and did.ErrInvalid", bad, err)
		}
	}
}

// resign re-hashes and re-signs entry i of log (and those after it) after
// a change, as an attacker holding the key could, so that only the check
// under test fails.
func resign(t *testing.T, log Log, signer testSigner, from int) Log {
	t.Helper()
	for i := from; i < len(log); i++ {
		e := log[i]
		prev := log[0].Parameters["scid"].(string)
		if i > 0 {
			prev = log[i-1].VersionID
		}
		h, err := entryHash(e, prev)
		if err != nil {
			t.Fatal(err)
		}
		n, _, _ := splitVersionID(e.VersionID)
		e.VersionID = strings.Split(e.VersionID, "-")[0] + "-" + h
		_ = n
		if err := signEntry(&e, signer, t0); err != nil {
			t.Fatal(err)
		}
		log[i] = e
	}
	return log
}

// cloneLog deep-copies a log through its file form.
func cloneLog(t *testing.T, log Log) Log {
	t.Helper()
	data, err := log.MarshalJSONL()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseLog(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestResolveRefuses breaks a valid log in one way at a time and checks
// resolution names what failed.
func TestResolveRefuses(t *testing.T) {
	k0, k1, other := newSigner("k0"), newSigner("k1"), newSigner("other")
	now := t0.Add(time.Hour)
	base, err := Create(CreateOptions{Host: "example.com", Time: t0, Document: document(k0), NextKeyHashes: []string{NextKeyHash(k1.multikey())}}, k0)
	if err != nil {
		t.Fatal(err)
	}
	base, err = base.Update(UpdateOptions{Time: t0.Add(time.Minute), UpdateKeys: []string{k1.multikey()}, NextKeyHashes: []string{}}, k1, now)
	if err != nil {
		t.Fatal(err)
	}
	base, err = base.Update(UpdateOptions{Time: t0.Add(2 * time.Minute), Watchers: []string{"https://watcher.example/"}}, k1, now)
	if err != nil {
		t.Fatal(err)
	}
	d := current(t, base)
	otherSCID := "QmfGEUAcMpzo25kF2Rhn8L5FAXysfGnkzjwdKoNPi615XQ"
	cases := []struct {
		name   string
		break_ func(Log) Log
		want   error
	}{
		{"wrong cryptosuite", func(l Log) Log { l[1].Proof[0]["cryptosuite"] = "eddsa-rdfc-2022"; return l }, ErrCryptosuite},
		{"wrong proof purpose", func(l Log) Log { l[1].Proof[0]["proofPurpose"] = "authentication"; return l }, ErrCryptosuite},
		{"signature over other content", func(l Log) Log { l[2].State["extra"] = "x"; return l }, ErrHashChain},
		{"tampered signature", func(l Log) Log {
			sig, _ := eddsajcs.DecodeProofValue(l[2].Proof[0]["proofValue"].(string))
			sig[0] ^= 1
			l[2].Proof[0]["proofValue"] = eddsajcs.EncodeProofValue(sig)
			return l
		}, ErrInvalidProof},
		{"did:key body and fragment differ", func(l Log) Log {
			l[2].Proof[0]["verificationMethod"] = "did:key:" + k1.multikey() + "#" + k0.multikey()
			return l
		}, ErrInvalidProof},
		{"scid not the hash of the first entry", func(l Log) Log {
			l[0].State["extra"] = "x"
			return resign(t, l, k0, 0)
		}, ErrSCIDMismatch},
		{"state.id with another scid", func(l Log) Log {
			l[2].State["id"] = strings.Replace(l[2].State["id"].(string), d.SCID(), otherSCID, 1)
			return resign(t, l, k1, 2)
		}, ErrSCIDMismatch},
		{"broken hash chain", func(l Log) Log { l[1].VersionID = "2-" + otherSCID; return resign(t, l, k1, 2) }, ErrHashChain},
		{"version number skipped", func(l Log) Log { l[2].VersionID = "4-" + strings.Split(l[2].VersionID, "-")[1]; return l }, ErrHashChain},
		{"two dashes", func(l Log) Log { l[2].VersionID = "3--" + strings.Split(l[2].VersionID, "-")[1]; return l }, ErrHashChain},
		{"time going backwards", func(l Log) Log { l[2].VersionTime = "2026-01-02T03:04:05Z"; return resign(t, l, k1, 2) }, ErrVersionTime},
		{"time in the future", func(l Log) Log { l[2].VersionTime = "2027-01-01T00:00:00Z"; return resign(t, l, k1, 2) }, ErrVersionTime},
		{"time not UTC", func(l Log) Log { l[2].VersionTime = "2026-01-02T05:10:05+02:00"; return resign(t, l, k1, 2) }, ErrVersionTime},
		{"time without a zone", func(l Log) Log { l[2].VersionTime = "2026-01-02T03:10:05"; return resign(t, l, k1, 2) }, ErrVersionTime},
		{"unauthorised key", func(l Log) Log { return resign(t, l, other, 2) }, ErrUnauthorizedKey},
		{"key not committed by pre-rotation", func(l Log) Log {
			l[1].Parameters["updateKeys"] = []any{other.multikey()}
			return resign(t, l, other, 1)
		}, ErrPreRotation},
		{"updateKeys left out under pre-rotation", func(l Log) Log {
			delete(l[1].Parameters, "updateKeys")
			return resign(t, l, k1, 1)
		}, ErrPreRotation},
		{"parameter of version 0.5", func(l Log) Log { l[2].Parameters["prerotation"] = true; return resign(t, l, k1, 2) }, ErrMethodVersion},
		{"method of another version", func(l Log) Log { l[2].Parameters["method"] = "did:webvh:0.5"; return resign(t, l, k1, 2) }, ErrMethodVersion},
		{"scid after the first entry", func(l Log) Log { l[2].Parameters["scid"] = d.SCID(); return resign(t, l, k1, 2) }, ErrInvalidParameter},
		{"portable turned on later", func(l Log) Log { l[2].Parameters["portable"] = true; return resign(t, l, k1, 2) }, ErrPortability},
		{"move without portability", func(l Log) Log {
			l[2].State["id"] = "did:webvh:" + d.SCID() + ":elsewhere.example"
			return resign(t, l, k1, 2)
		}, ErrPortability},
		{"threshold above witnesses", func(l Log) Log {
			l[2].Parameters["witness"] = map[string]any{"threshold": json.Number("2"), "witnesses": []any{map[string]any{"id": "did:key:" + other.multikey()}}}
			return resign(t, l, k1, 2)
		}, ErrInvalidParameter},
		{"ttl negative", func(l Log) Log { l[2].Parameters["ttl"] = json.Number("-1"); return resign(t, l, k1, 2) }, ErrInvalidParameter},
		{"entry after deactivation", func(l Log) Log {
			l[1].Parameters["deactivated"] = true
			return resign(t, l, k1, 1)
		}, ErrDeactivated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			broken := c.break_(cloneLog(t, base))
			_, err := Resolve(d, broken, nil, Query{}, now)
			if !errors.Is(err, c.want) {
				t.Fatalf("Resolve = %v, want %v", err, c.want)
			}
		})
	}
	// Another DID's log, or a log served for a DID it never named.
	if _, err := Resolve(mustParse(t, "did:webvh:"+otherSCID+":example.com"), base, nil, Query{}, now); !errors.Is(err, ErrSCIDMismatch) {
		t.Errorf("other scid: %v", err)
	}
	if _, err := Resolve(mustParse(t, "did:webvh:"+d.SCID()+":evil.example"), base, nil, Query{}, now); !errors.Is(err, ErrDIDMismatch) {
		t.Errorf("other host: %v", err)
	}
	// A version before a broken entry still resolves by query.
	broken := cloneLog(t, base)
	broken[2].Proof[0]["cryptosuite"] = "ecdsa-jcs-2019"
	if res, err := Resolve(d, broken, nil, Query{VersionNumber: 2}, now); err != nil || res.Metadata.VersionNumber != 2 {
		t.Errorf("version before the failure: %v", err)
	}
	if _, err := Resolve(d, broken, nil, Query{VersionNumber: 3}, now); !errors.Is(err, ErrCryptosuite) {
		t.Errorf("the broken version: %v", err)
	}
}

// TestWitnesses checks witness thresholds: met, short, replayed from
// another DID, and a witness counted once however many proofs it made.
func TestWitnesses(t *testing.T) {
	k := newSigner("k")
	w1, w2, w3 := newSigner("w1"), newSigner("w2"), newSigner("w3")
	now := t0.Add(time.Hour)
	witness := Witness{Threshold: 2, Witnesses: []string{"did:key:" + w1.multikey(), "did:key:" + w2.multikey(), "did:key:" + w3.multikey()}}
	create := func(host string) Log {
		log, err := Create(CreateOptions{Host: host, Time: t0, Document: document(k), Witness: witness}, k)
		if err != nil {
			t.Fatal(err)
		}
		return log
	}
	log := create("example.com")
	d := current(t, log)
	sign := func(wf WitnessFile, versionID string, w testSigner) WitnessFile {
		p, err := SignWitness(versionID, w, t0)
		if err != nil {
			t.Fatal(err)
		}
		return wf.Add(versionID, p)
	}
	v1 := log[0].VersionID
	if _, err := Resolve(d, log, nil, Query{}, now); !errors.Is(err, ErrWitness) {
		t.Fatalf("no proofs: %v", err)
	}
	one := sign(nil, v1, w1)
	if _, err := Resolve(d, log, sign(one, v1, w1), Query{}, now); !errors.Is(err, ErrWitness) {
		t.Fatalf("one witness twice: %v", err)
	}
	two := sign(one, v1, w2)
	if _, err := Resolve(d, log, two, Query{}, now); err != nil {
		t.Fatalf("threshold met: %v", err)
	}
	// Proofs made for another DID's first version count for nothing here.
	otherLog := create("other.example")
	replayed := sign(sign(nil, otherLog[0].VersionID, w1), otherLog[0].VersionID, w2)
	replayed = append(replayed, WitnessProofs{VersionID: v1, Proof: replayed[0].Proof})
	if _, err := Resolve(d, log, replayed, Query{}, now); !errors.Is(err, ErrWitness) {
		t.Fatalf("replayed proofs: %v", err)
	}
	// An update: proofs over version 2 approve version 1 too.
	log2, err := log.Update(UpdateOptions{Time: t0.Add(time.Minute), Witness: &Witness{}}, k, now)
	if err != nil {
		t.Fatal(err)
	}
	v2 := log2[1].VersionID
	wf := sign(sign(nil, v2, w2), v2, w3)
	if _, err := Resolve(d, log2, wf, Query{}, now); err != nil {
		t.Fatalf("later proofs approve earlier versions: %v", err)
	}
	// Proofs over version 1 do not approve version 2 (stale versionId).
	if _, err := Resolve(d, log2, two, Query{}, now); !errors.Is(err, ErrWitness) {
		t.Fatalf("stale proofs: %v", err)
	}
	if res, err := Resolve(d, log2, two, Query{VersionNumber: 1}, now); err != nil || res.Metadata.VersionNumber != 1 {
		t.Fatalf("version 1 stays resolvable: %v", err)
	}
	// With witnessing stopped by version 2, version 3 needs no proofs.
	log3, err := log2.Update(UpdateOptions{Time: t0.Add(2 * time.Minute)}, k, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(d, log3, wf, Query{}, now); err != nil {
		t.Fatalf("after witnessing stopped: %v", err)
	}
	data, err := json.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseWitnessFile(data)
	if err != nil || len(back) != 1 || len(back[0].Proof) != 2 {
		t.Fatalf("witness file round trip: %v", err)
	}
	// A witness that is not a did:key is refused when the log is made.
	bad := Witness{Threshold: 1, Witnesses: []string{w1.multikey()}}
	if _, err := Create(CreateOptions{Host: "example.com", Time: t0, Witness: bad}, k); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("bare multikey witness: %v", err)
	}
}

// BenchmarkResolve100 resolves a 100-entry log with pre-rotation, each
// entry revealing the key committed by the one before (DESIGN.md's target
// is 100 ms in the tab; make bench compares it with didwebvh-ts).
func BenchmarkResolve100(b *testing.B) {
	signers := make([]testSigner, 101)
	for i := range signers {
		signers[i] = newSigner(fmt.Sprint("key", i))
	}
	log, err := Create(CreateOptions{Host: "example.com", Time: t0, Document: document(signers[0]), NextKeyHashes: []string{NextKeyHash(signers[1].multikey())}}, signers[0])
	if err != nil {
		b.Fatal(err)
	}
	now := t0.Add(24 * time.Hour)
	for i := 1; i < 100; i++ {
		// Appending re-verifies the whole log, so build it from the entries.
		next, err := log.Update(UpdateOptions{
			Time: t0.Add(time.Duration(i) * time.Minute), UpdateKeys: []string{signers[i].multikey()},
			NextKeyHashes: []string{NextKeyHash(signers[i+1].multikey())},
		}, signers[i], now)
		if err != nil {
			b.Fatal(err)
		}
		log = next
	}
	d := current(b, log)
	b.ResetTimer()
	for range b.N {
		if _, err := Resolve(d, log, nil, Query{}, now); err != nil {
			b.Fatal(err)
		}
	}
}
