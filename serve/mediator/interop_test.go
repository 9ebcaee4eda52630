package mediator

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/keys"
)

// The mediator with an independent DIDComm implementation, didcomm-node
// 0.4.1 (didcomm-rust, the DIF reference implementation, in WebAssembly),
// driven through web/test/interop/didcomm.mjs: a sender outside PLANET
// forwards a message through the mediator to a PLANET client, and a client
// outside PLANET asks for mediation and reads the mediator's answers.

const interopScript = "../../web/test/interop/didcomm.mjs"

// nodeRun runs one request through the script and returns its results, or
// skips the test when didcomm-node is not installed, unless
// PLANET_REQUIRE_INTEROP=1 says it must run.
func nodeRun(t *testing.T, req map[string]any) []map[string]any {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat("../../web/test/node_modules/didcomm-node/package.json"); err != nil {
		missing = "web/test/node_modules/didcomm-node is not installed (cd web/test && npm ci)"
	}
	if missing != "" {
		if os.Getenv("PLANET_REQUIRE_INTEROP") == "1" {
			t.Fatalf("interop with didcomm-node required (PLANET_REQUIRE_INTEROP=1), but %s", missing)
		}
		t.Skipf("skipping interop with didcomm-node: %s", missing)
	}
	script, _ := filepath.Abs(interopScript)
	in, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("didcomm.mjs: %v\n%s", err, stderr.Bytes())
	}
	var results []map[string]any
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("didcomm.mjs wrote %s: %v", out, err)
	}
	for i, r := range results {
		if e, ok := r["error"]; ok {
			t.Fatalf("didcomm-node, operation %d: %v", i, e)
		}
	}
	return results
}

var b64 = base64.RawURLEncoding

// nodeDocument writes the document of d as didcomm-node reads it: keys as
// JsonWebKey2020 (it does not read Multikey), ids absolute, a service's
// routing keys under both names its versions have used.
func nodeDocument(t *testing.T, d did.DID) map[string]any {
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
		ep := s.ServiceEndpoint.(map[string]any)
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

// nodeSecrets gives didcomm-node id's private keys under the kids of d.
func nodeSecrets(t *testing.T, id *identity.Identity, d did.DID) []map[string]any {
	t.Helper()
	doc, err := did.Local.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	xd := id.X25519Private()
	xk, _ := ecdh.X25519().NewPrivateKey(xd)
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

// A message packed by didcomm-node for a PLANET client's DID, whose service
// names the mediator by its DID, is routed by didcomm-node itself (it
// resolves the mediator and wraps the forward); the mediator accepts it and
// the client picks it up and reads it.
func TestInteropNodeForwardsThroughMediator(t *testing.T) {
	s := startServer(t, "", Config{})
	bob := newRecipient(t, s)
	alice := newParty(t)
	docs := map[string]any{}
	for _, d := range []did.DID{alice.did, bob.rel.did, s.agent.did} {
		docs[d.String()] = nodeDocument(t, d)
	}
	now := time.Now().Unix()
	results := nodeRun(t, map[string]any{
		"dids": docs, "secrets": nodeSecrets(t, alice.id, alice.did),
		"ops": []map[string]any{{
			"op": "pack_encrypted", "to": bob.rel.did.String(), "from": alice.did.String(),
			"message": map[string]any{"id": "interop-1", "typ": "application/didcomm-plain+json",
				"type": "https://didcomm.org/basicmessage/2.0/message", "from": alice.did.String(),
				"to": []string{bob.rel.did.String()}, "created_time": now, "body": map[string]string{"content": "from outside PLANET"}},
			"options": map[string]any{"forward": true},
		}},
	})
	ok := results[0]["ok"].(map[string]any)
	meta, _ := ok["metadata"].(map[string]any)
	svc, _ := meta["messaging_service"].(map[string]any)
	if svc == nil || svc["service_endpoint"] != s.url {
		t.Fatalf("didcomm-node routes to %v, want the mediator's endpoint %s", svc, s.url)
	}
	if code, reply := post(t, s.url, []byte(ok["packed"].(string))); code != http.StatusAccepted {
		t.Fatalf("the mediator refused didcomm-node's forward: HTTP %d: %s", code, reply)
	}
	if got := bob.pickup(s); len(got) != 1 || got[0] != "from outside PLANET" {
		t.Fatalf("picked up %q", got)
	}
}

// A client outside PLANET asks for mediation, registers a DID and asks for
// its status; didcomm-node reads each answer as authcrypted by the mediator.
func TestInteropNodeClient(t *testing.T) {
	s := startServer(t, "", Config{})
	carol := newParty(t)
	docs := map[string]any{carol.did.String(): nodeDocument(t, carol.did), s.agent.did.String(): nodeDocument(t, s.agent.did)}
	secrets := nodeSecrets(t, carol.id, carol.did)
	now := time.Now().Unix()
	ask := func(typ string, body any) map[string]any {
		t.Helper()
		packed := nodeRun(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{
			"op": "pack_encrypted", "to": s.DID(), "from": carol.did.String(),
			"message": map[string]any{"id": "interop-" + typ[len(typ)-8:], "typ": "application/didcomm-plain+json", "type": typ,
				"from": carol.did.String(), "to": []string{s.DID()}, "created_time": now, "body": body, "return_route": "all"},
			"options": map[string]any{"forward": false},
		}}})[0]["ok"].(map[string]any)["packed"].(string)
		code, reply := post(t, s.url, []byte(packed))
		if code != http.StatusOK {
			t.Fatalf("%s from didcomm-node: HTTP %d: %s", typ, code, reply)
		}
		read := nodeRun(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{"op": "unpack", "message": string(reply)}}})
		ok := read[0]["ok"].(map[string]any)
		meta := ok["metadata"].(map[string]any)
		if meta["authenticated"] != true || meta["encrypted_from_kid"] != s.agent.doc.Absolute(s.agent.doc.KeyAgreement[0]) {
			t.Fatalf("didcomm-node says the answer to %s is not authcrypted by the mediator: %v", typ, meta)
		}
		return ok["message"].(map[string]any)
	}
	grant := ask(typeMediateRequest, map[string]any{})
	if grant["type"] != typeMediateGrant || grant["body"].(map[string]any)["routing_did"] != s.DID() {
		t.Fatalf("mediate-request answered with %v", grant)
	}
	upd := ask(typeKeylistUpdate, map[string]any{"updates": []any{map[string]string{"recipient_did": carol.did.String(), "action": "add"}}})
	if upd["type"] != typeKeylistResult || upd["body"].(map[string]any)["updated"].([]any)[0].(map[string]any)["result"] != resultSuccess {
		t.Fatalf("keylist-update answered with %v", upd)
	}
	st := ask(typeStatusRequest, map[string]any{})
	if st["type"] != typeStatus || st["body"].(map[string]any)["message_count"] != float64(0) {
		t.Fatalf("status-request answered with %v", st)
	}
}
