package trust_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/session"
	"planet/core/session/sessiontest"
	"planet/core/trust"
	"planet/core/vc"
	"planet/vault"
)

// retiredCredential returns alice's credential for bob under the retired
// pre-v1 DTG context, genuinely signed by alice, as an older PLANET kept it.
func retiredCredential(t *testing.T, alice, bob *person) []byte {
	t.Helper()
	c := must(vc.IssueRelationship(alice.o.S.Identity, bob.did, vc.RelationshipContext{Context: "choir"}, time.Now().Add(-time.Hour), time.Time{}, nil))
	doc := must(jcs.DecodeObject(must(c.MarshalJSON())))
	delete(doc, "proof")
	doc["@context"] = []any{vc.ContextCredentialsV2, vc.ContextRetiredDTG}
	doc["proof"] = must(vc.SignDocument(doc, alice.o.S.Identity, vc.ProofPurposeAssertion, time.Now().Add(-time.Hour)))
	return must(json.Marshal(doc))
}

// TestRetiredContext checks the decision for credentials under the retired
// context (docs/protocols/openvtc.md): one offered now is refused, and one a
// vault already kept stays readable as history, restored from an export and
// listed, though it no longer verifies.
func TestRetiredContext(t *testing.T) {
	n := network{}
	alice, bob := n.add(t, "Alice", 1), n.add(t, "Bob", 2)
	data := retiredCredential(t, alice, bob)

	// Offered now, it is refused and nothing is kept.
	if _, err := bob.trust.KeepCredential(ctx, data, did.DID{}); !errors.Is(err, input.ErrInvalid) || !errors.Is(err, vc.ErrRetiredContext) {
		t.Fatalf("KeepCredential of a retired credential: %v", err)
	}
	if k := must(bob.trust.Credentials(ctx)); len(k) != 0 {
		t.Fatalf("kept %d credentials", len(k))
	}

	// Kept before, it comes back with the vault's export and is listed.
	entry := must(json.Marshal([]map[string]any{{"credential": json.RawMessage(data), "received": time.Now().UTC()}}))
	o := sessiontest.Open(t, 2)
	restored := trust.New(o, contacts.New(o), func() string { return "Bob" })
	im := restored.CredentialsSection().Import()
	if err := im.Entry(ctx, session.Entry{Name: "credentials.json", Size: int64(len(entry)), Body: bytes.NewReader(entry), Vault: o.S.Vault}); err != nil {
		t.Fatal(err)
	}
	var counts session.Counts
	if err := o.S.Vault.Update(ctx, func(tx *vault.Tx) error { return im.Restore(tx, o.S.Identity, &counts) }); err != nil {
		t.Fatalf("restoring a retired credential: %v", err)
	}
	kept := must(restored.Credentials(ctx))
	if len(kept) != 1 || kept[0].Credential.Context[1] != vc.ContextRetiredDTG {
		t.Fatalf("restored %+v", kept)
	}
	if err := vc.Verify(kept[0].Credential, time.Now()); !errors.Is(err, vc.ErrRetiredContext) {
		t.Errorf("a kept retired credential verifies: %v", err)
	}
}
