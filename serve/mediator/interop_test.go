package mediator

import (
	"net/http"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm/didcommtest"
	"planet/core/mediation"
)

// The mediator with an independent DIDComm implementation, didcomm-node
// 0.4.1 (didcomm-rust, the DIF reference implementation, in WebAssembly),
// driven through web/test/interop/didcomm.mjs: a sender outside PLANET
// forwards a message through the mediator to a PLANET client, and a client
// outside PLANET asks for mediation and reads the mediator's answers.

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
		docs[d.String()] = didcommtest.Document(t, d)
	}
	now := time.Now().Unix()
	results := didcommtest.Run(t, map[string]any{
		"dids": docs, "secrets": didcommtest.Secrets(t, alice.id, alice.did),
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
	docs := map[string]any{carol.did.String(): didcommtest.Document(t, carol.did), s.agent.did.String(): didcommtest.Document(t, s.agent.did)}
	secrets := didcommtest.Secrets(t, carol.id, carol.did)
	now := time.Now().Unix()
	ask := func(typ string, body any) map[string]any {
		t.Helper()
		packed := didcommtest.Run(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{
			"op": "pack_encrypted", "to": s.DID(), "from": carol.did.String(),
			"message": map[string]any{"id": "interop-" + typ[len(typ)-8:], "typ": "application/didcomm-plain+json", "type": typ,
				"from": carol.did.String(), "to": []string{s.DID()}, "created_time": now, "body": body, "return_route": "all"},
			"options": map[string]any{"forward": false},
		}}})[0]["ok"].(map[string]any)["packed"].(string)
		code, reply := post(t, s.url, []byte(packed))
		if code != http.StatusOK {
			t.Fatalf("%s from didcomm-node: HTTP %d: %s", typ, code, reply)
		}
		read := didcommtest.Run(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{"op": "unpack", "message": string(reply)}}})
		ok := read[0]["ok"].(map[string]any)
		meta := ok["metadata"].(map[string]any)
		if meta["authenticated"] != true || meta["encrypted_from_kid"] != s.agent.doc.Absolute(s.agent.doc.KeyAgreement[0]) {
			t.Fatalf("didcomm-node says the answer to %s is not authcrypted by the mediator: %v", typ, meta)
		}
		return ok["message"].(map[string]any)
	}
	grant := ask(mediation.TypeMediateRequest, map[string]any{})
	if grant["type"] != mediation.TypeMediateGrant || grant["body"].(map[string]any)["routing_did"] != s.DID() {
		t.Fatalf("mediate-request answered with %v", grant)
	}
	upd := ask(mediation.TypeKeylistUpdate, map[string]any{"updates": []any{map[string]string{"recipient_did": carol.did.String(), "action": "add"}}})
	if upd["type"] != mediation.TypeKeylistResult || upd["body"].(map[string]any)["updated"].([]any)[0].(map[string]any)["result"] != resultSuccess {
		t.Fatalf("keylist-update answered with %v", upd)
	}
	st := ask(mediation.TypeStatusRequest, map[string]any{})
	if st["type"] != mediation.TypeStatus || st["body"].(map[string]any)["message_count"] != float64(0) {
		t.Fatalf("status-request answered with %v", st)
	}
}
