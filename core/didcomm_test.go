//go:build !js

// didcomm-node runs under Node, beside the native tests.

package core_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/didcomm/didcommtest"
	"planet/core/identity"
	"planet/vault/mem"
)

// mediatorDID is a mediator's DID as a server publishes it; the tests
// here pack and read messages without one on the way.
func mediatorDID(t *testing.T) did.DID {
	t.Helper()
	id := must(identity.New(rand.Reader))
	return must(id.Peer2DID(did.DIDCommService("http://127.0.0.1:1/didcomm")))
}

// fpnPerson is a person's PLANET with a mediator set, and the DID they share.
func fpnPerson(t *testing.T, mediator did.DID) (*core.Planet, did.DID) {
	t.Helper()
	p, _ := newPlanet(t)
	return sharing(t, p, mediator)
}

// fpnPersonAt is fpnPerson with a clock shared by the people of a test, so
// that each message has its own second and conversations their one order.
func fpnPersonAt(t *testing.T, mediator did.DID, clock *testClock) (*core.Planet, did.DID) {
	t.Helper()
	opts := testOpts
	opts.Now = clock.Now
	p := must(core.Open(ctx, mem.New(), opts))
	must(p.Create(ctx, pass))
	return sharing(t, p, mediator)
}

// sharing sets p's mediator and returns the DID p then shares.
func sharing(t *testing.T, p *core.Planet, mediator did.DID) (*core.Planet, did.DID) {
	t.Helper()
	if _, err := p.ShareDID(); err == nil {
		t.Fatal("ShareDID without a mediator")
	}
	p.SetMediator(mediator)
	return p, must(p.ShareDID())
}

func TestBasicMessagesBetweenPlanets(t *testing.T) {
	med := mediatorDID(t)
	alice, aliceDID := fpnPerson(t, med)
	bob, bobDID := fpnPerson(t, med)
	if doc := must(did.Resolve(aliceDID)); len(doc.Service) != 1 || doc.Service[0].ServiceEndpoint.(map[string]any)["uri"] != med.String() {
		t.Fatalf("the shared DID's service is %+v, want the mediator's DID", doc.Service)
	}

	// Bob writes to Alice by the DID she shared: a stranger's message.
	sent, packed, err := bob.WriteBasic(ctx, aliceDID, "  Hello from Bob  ")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Text != "Hello from Bob" || sent.State != chat.Sent || sent.From != bobDID || len(packed.Routes) != 1 {
		t.Fatalf("written: %+v, %d routes", sent, len(packed.Routes))
	}
	got, err := alice.ReceiveDIDComm(ctx, packed.Message, chat.ViaDIDComm)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != bobDID || got.Chat != nil || !got.Meta.Authenticated {
		t.Fatalf("received %+v: a stranger's message should wait as a request", got)
	}
	reqs := must(alice.Chat().Requests(ctx))
	if len(reqs) != 1 || reqs[0].From != bobDID || reqs[0].Messages[0].Text != "Hello from Bob" || reqs[0].Messages[0].Via != chat.ViaDIDComm {
		t.Fatalf("requests: %+v", reqs)
	}
	// The same message again is kept once.
	must(alice.ReceiveDIDComm(ctx, packed.Message, chat.ViaDIDComm))
	if reqs := must(alice.Chat().Requests(ctx)); len(reqs[0].Messages) != 1 {
		t.Fatalf("a repeat was kept again: %d messages", len(reqs[0].Messages))
	}

	// Alice accepts and answers; Bob, who wrote first, has a conversation.
	if err := alice.Chat().AcceptRequest(ctx, bobDID, "Bob"); err != nil {
		t.Fatal(err)
	}
	_, reply, err := alice.WriteBasic(ctx, bobDID, "Hi Bob")
	if err != nil {
		t.Fatal(err)
	}
	r, err := bob.ReceiveDIDComm(ctx, reply.Message, chat.ViaDIDComm)
	if err != nil {
		t.Fatal(err)
	}
	if r.Chat == nil || !r.New || r.Chat.Text != "Hi Bob" || r.Chat.To != bobDID {
		t.Fatalf("Bob received %+v", r.Chat)
	}
	conv := must(bob.Chat().Conversation(ctx, aliceDID))
	if len(conv) != 2 || conv[0].Text != "Hello from Bob" || conv[1].Text != "Hi Bob" {
		t.Fatalf("Bob's conversation: %+v", conv)
	}

	// Blocked: dropped unread.
	if err := bob.Chat().Block(ctx, aliceDID); err != nil {
		t.Fatal(err)
	}
	_, again, _ := alice.WriteBasic(ctx, bobDID, "still there?")
	if r := must(bob.ReceiveDIDComm(ctx, again.Message, chat.ViaDIDComm)); r.Chat != nil {
		t.Fatalf("a blocked sender's message was kept: %+v", r.Chat)
	}
}

func TestReceiveDIDCommRefuses(t *testing.T) {
	med := mediatorDID(t)
	alice, aliceDID := fpnPerson(t, med)
	bob, bobDID := fpnPerson(t, med)
	bobKeys := must(bob.DIDCommKeys())
	pack := func(typ string, body any, opts didcomm.PackOptions) []byte {
		t.Helper()
		p := must(didcomm.NewPlaintext(typ, body, time.Now()))
		p.From, p.To = bobDID, []did.DID{aliceDID}
		opts.Resolver, opts.Keys, opts.NoForward = did.Local, bobKeys, true
		return must(didcomm.Pack(ctx, p, aliceDID, opts)).Message
	}
	basic := map[string]string{"content": "hi"}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"anoncrypt, no proof of the sender", pack(chat.BasicMessageType, basic, didcomm.PackOptions{Anonymous: true}), core.ErrInvalid},
		{"a type PLANET does not act on", pack("https://didcomm.org/questionanswer/1.0/question", basic, didcomm.PackOptions{}), didcomm.ErrUnsupported},
		{"an empty basic message", pack(chat.BasicMessageType, map[string]string{"content": " "}, didcomm.PackOptions{}), core.ErrInvalid},
		{"a basic message without content", pack(chat.BasicMessageType, map[string]int{"content": 7}, didcomm.PackOptions{}), core.ErrInvalid},
		{"not DIDComm", []byte("hello"), didcomm.ErrInvalidMessage},
	} {
		if _, err := alice.ReceiveDIDComm(ctx, tc.data, chat.ViaDIDComm); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Encrypted to someone else.
	carol, _ := fpnPerson(t, med)
	if _, err := carol.ReceiveDIDComm(ctx, pack(chat.BasicMessageType, basic, didcomm.PackOptions{}), chat.ViaDIDComm); !errors.Is(err, didcomm.ErrNotForMe) {
		t.Errorf("a message for someone else: %v", err)
	}
	if reqs := must(alice.Chat().Requests(ctx)); len(reqs) != 0 {
		t.Fatalf("refused messages were kept: %+v", reqs)
	}
}

// A person outside PLANET, on didcomm-node, writes to a PLANET person's
// shared DID; PLANET reads it, answers, and didcomm-node reads the answer.
func TestBasicMessagesWithDIDCommNode(t *testing.T) {
	med := mediatorDID(t)
	alice, aliceDID := fpnPerson(t, med)
	carolID := must(identity.New(rand.Reader))
	carolDID := must(carolID.Peer2DID(did.DIDCommService(med.String())))
	docs := map[string]any{}
	for _, d := range []did.DID{aliceDID, carolDID, med} {
		docs[d.String()] = didcommtest.Document(t, d)
	}
	secrets := didcommtest.Secrets(t, carolID, carolDID)
	packed := didcommtest.OK(didcommtest.Run(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{
		"op": "pack_encrypted", "to": aliceDID.String(), "from": carolDID.String(), "options": map[string]any{"forward": false},
		"message": map[string]any{"id": "carol-1", "typ": "application/didcomm-plain+json", "type": chat.BasicMessageType,
			"from": carolDID.String(), "to": []string{aliceDID.String()}, "created_time": time.Now().Unix(),
			"body": map[string]string{"content": "Hello from outside PLANET"}, "lang": "en"},
	}}})[0])["packed"].(string)
	got, err := alice.ReceiveDIDComm(ctx, []byte(packed), chat.ViaDIDComm)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != carolDID || got.Meta.EncryptedFrom == "" {
		t.Fatalf("received %+v", got)
	}
	reqs := must(alice.Chat().Requests(ctx))
	if len(reqs) != 1 || reqs[0].Messages[0].Text != "Hello from outside PLANET" {
		t.Fatalf("requests: %+v", reqs)
	}
	must(struct{}{}, alice.Chat().AcceptRequest(ctx, carolDID, "Carol"))
	_, reply, err := alice.WriteBasic(ctx, carolDID, "Welcome, Carol")
	if err != nil {
		t.Fatal(err)
	}
	read := didcommtest.OK(didcommtest.Run(t, map[string]any{"dids": docs, "secrets": secrets, "ops": []map[string]any{{
		"op": "unpack", "message": string(reply.Message),
	}}})[0])
	msg, meta := read["message"].(map[string]any), read["metadata"].(map[string]any)
	if msg["type"] != chat.BasicMessageType || msg["from"] != aliceDID.String() || msg["body"].(map[string]any)["content"] != "Welcome, Carol" || meta["authenticated"] != true {
		t.Fatalf("didcomm-node read %v, %v", msg, meta)
	}
}

// Basic messages go into the export and come back from it.
func TestBasicMessagesExported(t *testing.T) {
	med := mediatorDID(t)
	clock := newTestClock()
	alice, aliceDID := fpnPersonAt(t, med, clock)
	bob, bobDID := fpnPersonAt(t, med, clock)
	_, packed := must2(bob.WriteBasic(ctx, aliceDID, "one"))
	must(alice.ReceiveDIDComm(ctx, packed.Message, chat.ViaDIDComm))
	must(struct{}{}, alice.Chat().AcceptRequest(ctx, bobDID, "Bob"))
	must2(alice.WriteBasic(ctx, bobDID, "two"))

	var buf bytes.Buffer
	if err := alice.Export(ctx, &buf, "harbour lights at eleven", nil); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	q := must(core.Open(ctx, mem.New(), core.Options{Vault: testOpts.Vault, Now: clock.Now}))
	if _, _, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "another local passphrase", nil); err != nil {
		t.Fatal(err)
	}
	before, after := must(alice.Chat().Conversation(ctx, bobDID)), must(q.Chat().Conversation(ctx, bobDID))
	if len(after) != 2 || after[0].Text != "one" || after[1].Text != "two" || after[0].Via != chat.ViaDIDComm || !bytes.Equal(after[1].Plain, before[1].Plain) {
		t.Fatalf("after import: %+v", after)
	}
}

// TestDIDCommKeysAfterLock: a keyring handed out before the vault locked
// (a mediation client keeps one) holds no key afterwards, rather than
// touching the wiped identity.
func TestDIDCommKeysAfterLock(t *testing.T) {
	p, shared := fpnPerson(t, mediatorDID(t))
	keys := must(p.DIDCommKeys())
	kid := shared.String() + "#key-2"
	if _, ok := keys.AgreementKey(kid); !ok {
		t.Fatal("no key while unlocked")
	}
	p.Lock()
	if _, ok := keys.AgreementKey(kid); ok {
		t.Fatal("a key after the vault locked")
	}
	must(p.Unlock(ctx, pass))
	if _, ok := keys.AgreementKey(kid); ok {
		t.Fatal("an old keyring holds the key of a later unlock")
	}
}
