//go:build !js

package core_test

import (
	"bytes"
	"errors"
	"testing"

	"planet/core"
	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/relationship"
	"planet/core/vc"
	"planet/vault/mem"
)

// deliver hands out's message to p as its mediator would, and returns what
// p made of it.
func deliver(t *testing.T, p *core.Planet, out core.Outgoing) core.DIDCommReceipt {
	t.Helper()
	if len(out.Packed.Routes) != 1 {
		t.Fatalf("%d routes, want the recipient's mediator", len(out.Packed.Routes))
	}
	r, err := p.ReceiveDIDComm(ctx, out.Packed.Message, chat.ViaDIDComm)
	if err != nil {
		t.Fatal(err)
	}
	if r.Relationship == nil {
		t.Fatalf("received %s, not a relationship message", r.Type)
	}
	return r
}

// TestRelationshipBetweenPlanets runs the First Person Network handshake
// between two PLANETs by the DIDs they share (Connect with a note, accept,
// finalize), then a VRC each way, and checks what each vault keeps, what a
// replay or a stranger's answer does, and that an export brings it back.
func TestRelationshipBetweenPlanets(t *testing.T) {
	med := mediatorDID(t)
	clock := newTestClock()
	alice, aliceDID := fpnPersonAt(t, med, clock)
	bob, bobDID := fpnPersonAt(t, med, clock)
	carol, _ := fpnPersonAt(t, med, clock)
	s := must(alice.Settings())
	s.Name = "Alice"
	must(alice.SetSettings(ctx, s))

	// Alice connects to Bob by the DID he shared.
	asked, req, err := alice.RequestRelationship(ctx, bobDID, "We met at the co-op meeting")
	if err != nil {
		t.Fatal(err)
	}
	if asked.State != relationship.StateRequested || req.Register.IsZero() || req.Register != asked.DID {
		t.Fatalf("requested %+v, register %s", asked, req.Register)
	}
	if _, _, err := alice.RequestRelationship(ctx, bobDID, "again"); !errors.Is(err, relationship.ErrState) {
		t.Errorf("a second request while one waits: %v", err)
	}
	if _, _, err := alice.RequestRelationship(ctx, aliceDID, ""); err == nil {
		t.Error("a request to oneself")
	}

	got := deliver(t, bob, req)
	ev := got.Relationship
	if ev.Kind != relationship.KindRequest || ev.Relationship.State != relationship.StatePending || ev.Relationship.PeerName != "Alice" ||
		ev.Relationship.Reason != "We met at the co-op meeting" || ev.Relationship.Peer != aliceDID || ev.Relationship.PeerDID != asked.DID {
		t.Fatalf("Bob got %+v", ev.Relationship)
	}
	if again := deliver(t, bob, req); !again.Relationship.Again {
		t.Error("a second delivery of the request was taken as new")
	}
	if c := must(bob.Contacts().ByDID(ctx, aliceDID)); c != nil {
		t.Fatalf("a pending request made a contact: %+v", c)
	}

	// Bob accepts: his accept names his own relationship DID; Alice
	// finalizes and has him as a contact at once, Bob when the finalize
	// arrives.
	accepted, acc, err := bob.AcceptRelationship(ctx, ev.Relationship.ID)
	if err != nil {
		t.Fatal(err)
	}
	if accepted.State != relationship.StateAccepted || acc.Register != accepted.DID || accepted.DID == asked.DID {
		t.Fatalf("accepted %+v", accepted)
	}
	if _, _, err := bob.AcceptRelationship(ctx, ev.Relationship.ID); !errors.Is(err, relationship.ErrState) {
		t.Errorf("accepting twice: %v", err)
	}
	// Carol cannot answer for Bob: the accept comes from someone not asked.
	if _, err := carol.ReceiveDIDComm(ctx, acc.Packed.Message, chat.ViaDIDComm); err == nil {
		t.Error("Carol read a message to Alice")
	}
	done := deliver(t, alice, acc)
	if done.Relationship.Kind != relationship.KindEstablished || len(done.Replies) != 1 || done.Relationship.Relationship.PeerDID != accepted.DID {
		t.Fatalf("Alice after the accept: %+v, %d replies", done.Relationship, len(done.Replies))
	}
	if c := must(alice.Contacts().ByDID(ctx, bobDID)); c == nil || c.Origin != contacts.OriginRelationship || !c.IsConnected() {
		t.Fatalf("Alice's contact for Bob: %+v", c)
	}
	fin := deliver(t, bob, done.Replies[0])
	if fin.Relationship.Kind != relationship.KindEstablished {
		t.Fatalf("Bob after the finalize: %+v", fin.Relationship)
	}
	if c := must(bob.Contacts().ByDID(ctx, aliceDID)); c == nil || c.Name != "Alice" || c.Origin != contacts.OriginRelationship {
		t.Fatalf("Bob's contact for Alice: %+v", c)
	}

	// Alice asks Bob for a VRC, between their relationship DIDs; Bob
	// issues it, and it verifies in Alice's vault.
	aliceRel := must(alice.Relationships().List(ctx))[0]
	asking, vreq, err := alice.RequestVRC(ctx, aliceRel.ID, "for the register")
	if err != nil {
		t.Fatal(err)
	}
	vev := deliver(t, bob, vreq).Relationship
	if vev.Kind != relationship.KindVRCRequest || vev.VRC.Reason != "for the register" || vev.VRC.Direction != relationship.AskedOfMe {
		t.Fatalf("Bob got %+v", vev.VRC)
	}
	issued, vout, err := bob.IssueVRC(ctx, vev.VRC.ID)
	if err != nil {
		t.Fatal(err)
	}
	if issued.State != relationship.VRCIssued || issued.Credential.Issuer != accepted.DID || issued.Credential.Subject.ID != asked.DID {
		t.Fatalf("issued %+v", issued)
	}
	kept := deliver(t, alice, vout).Relationship
	if kept.Kind != relationship.KindVRCIssued || kept.VRC.ID != asking.ID || kept.VRC.Credential == nil {
		t.Fatalf("Alice kept %+v", kept.VRC)
	}
	if err := vc.Verify(kept.VRC.Credential, clock.Now()); err != nil {
		t.Errorf("the VRC Alice kept: %v", err)
	}
	if kept.VRC.Credential.IssuerScope != vc.IssuerScopePairwise {
		t.Errorf("issuerScope %q", kept.VRC.Credential.IssuerScope)
	}

	// Bob asks too; Alice declines.
	bobRel := must(bob.Relationships().List(ctx))[0]
	_, breq := must2(bob.RequestVRC(ctx, bobRel.ID, ""))
	aev := deliver(t, alice, breq).Relationship
	_, rej := must2(alice.DeclineVRC(ctx, aev.VRC.ID, "not yet"))
	if r := deliver(t, bob, rej).Relationship; r.Kind != relationship.KindVRCRejected || r.VRC.State != relationship.VRCRejected || r.VRC.Reason != "not yet" {
		t.Fatalf("Bob after the decline: %+v", r.VRC)
	}

	// The export carries the relationships and the credentials; a new
	// vault reads messages to the relationship DIDs again.
	var buf bytes.Buffer
	must(struct{}{}, alice.Export(ctx, &buf, "harbour lights at eleven", nil))
	file := buf.Bytes()
	q := must(core.Open(ctx, mem.New(), core.Options{Vault: testOpts.Vault, Now: clock.Now}))
	if _, _, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "another local passphrase", nil); err != nil {
		t.Fatal(err)
	}
	q.SetMediator(med)
	rels, vrcs := must(q.Relationships().List(ctx)), must(q.Relationships().VRCs(ctx))
	if len(rels) != 1 || rels[0].DID != asked.DID || rels[0].State != relationship.StateEstablished || len(vrcs) != 2 {
		t.Fatalf("after import: %+v, %d VRCs", rels, len(vrcs))
	}
	_, again := must2(bob.RequestVRC(ctx, bobRel.ID, "once more"))
	if r := deliver(t, q, again).Relationship; r.Kind != relationship.KindVRCRequest {
		t.Fatalf("the imported vault took %+v", r)
	}
}

// TestRelationshipDeclineAndBlock: a declined request answers with a
// reject; a blocked sender's requests are dropped.
func TestRelationshipDeclineAndBlock(t *testing.T) {
	med := mediatorDID(t)
	clock := newTestClock()
	alice, aliceDID := fpnPersonAt(t, med, clock)
	bob, bobDID := fpnPersonAt(t, med, clock)

	asked, req := must2(alice.RequestRelationship(ctx, bobDID, ""))
	ev := deliver(t, bob, req).Relationship
	_, rej, err := bob.DeclineRelationship(ctx, ev.Relationship.ID, "I do not know you")
	if err != nil {
		t.Fatal(err)
	}
	r := deliver(t, alice, rej).Relationship
	if r.Kind != relationship.KindRejected || r.Relationship.ID != asked.ID || r.Relationship.State != relationship.StateRejected {
		t.Fatalf("Alice after the reject: %+v", r.Relationship)
	}
	if c := must(alice.Contacts().ByDID(ctx, bobDID)); c != nil {
		t.Fatalf("a rejected request made a contact: %+v", c)
	}

	must(struct{}{}, bob.Chat().Block(ctx, aliceDID))
	_, req2 := must2(alice.RequestRelationship(ctx, bobDID, "please"))
	if d := deliver(t, bob, req2).Relationship; d.Kind != relationship.KindDropped {
		t.Fatalf("a blocked sender's request: %+v", d)
	}
	for _, r := range must(bob.Relationships().List(ctx)) {
		if r.State == relationship.StatePending {
			t.Fatalf("kept from a blocked sender: %+v", r)
		}
	}
}
