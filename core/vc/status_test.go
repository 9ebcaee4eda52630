package vc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/jcs"
)

// statusLists is a StatusListFetcher over lists held in memory.
type statusLists map[string][]byte

func (s statusLists) FetchStatusList(_ context.Context, url string) ([]byte, error) {
	b, ok := s[url]
	if !ok {
		return nil, fmt.Errorf("no list at %s", url)
	}
	return b, nil
}

var _ StatusListFetcher = statusLists(nil)

// statusListCredential returns a BitstringStatusListCredential by issuer,
// with the bits given, signed with signer.
func statusListCredential(t *testing.T, signer Signer, issuer did.DID, purpose string, bits []byte) []byte {
	t.Helper()
	doc := map[string]any{
		"@context":  []any{ContextCredentialsV2},
		"id":        "https://status.example/list/1",
		"type":      []any{TypeVerifiableCredential, StatusListCredentialType},
		"issuer":    issuer.String(),
		"validFrom": "2025-01-01T00:00:00Z",
		"credentialSubject": map[string]any{
			"id": "https://status.example/list/1#list", "type": StatusListType,
			"statusPurpose": purpose, "encodedList": EncodeStatusList(bits),
		},
	}
	proof, err := SignDocument(doc, signer, ProofPurposeAssertion, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	doc["proof"] = proof
	data, err := jcs.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func statusIdentities(t *testing.T) (alice, bob, mallory *identity.Identity) {
	t.Helper()
	mk := func(b byte) *identity.Identity {
		id, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	return mk(1), mk(2), mk(3)
}

// TestCredentialStatus checks revocation: a bit clear verifies, a bit set is
// ErrRevoked, and a list that cannot be trusted leaves the credential
// unchecked, which is a refusal.
func TestCredentialStatus(t *testing.T) {
	alice, bob, mallory := statusIdentities(t)
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	issue := func(index string) *Credential {
		c, err := IssueRelationship(alice, bob.DID(), RelationshipContext{}, from, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Status = &StatusEntry{Type: StatusEntryType, StatusPurpose: StatusPurposeRevocation, StatusListIndex: index, StatusListCredential: "https://status.example/list/1"}
		credResign(t, c, alice, alice.SigningKeyID())
		// Through the bytes, as a credential arrives.
		back, err := Parse(credMustMarshal(t, c))
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	bits := make([]byte, 16<<10)
	bits[0] = 0x80 >> 3 // index 3 revoked
	good := statusLists{"https://status.example/list/1": statusListCredential(t, alice, alice.DID(), StatusPurposeRevocation, bits)}
	v := Verifier{StatusLists: good}
	ctx := context.Background()

	if err := v.Verify(ctx, issue("2"), now); err != nil {
		t.Errorf("bit 2 clear: %v", err)
	}
	err := v.Verify(ctx, issue("3"), now)
	var ve *VerifyError
	if !errors.Is(err, ErrRevoked) || !errors.As(err, &ve) || ve.Check != CheckCredentialStatus {
		t.Errorf("bit 3 set: %v", err)
	}
	if err := Verify(issue("2"), now); !errors.Is(err, ErrStatusUnchecked) {
		t.Errorf("Verify without a fetcher: %v", err)
	}
	for name, c := range map[string]struct {
		lists statusLists
		index string
	}{
		"index past the list":  {good, fmt.Sprint(len(bits) * 8)},
		"index not canonical":  {good, "02"},
		"index negative":       {good, "-1"},
		"list missing":         {statusLists{}, "2"},
		"list by someone else": {statusLists{"https://status.example/list/1": statusListCredential(t, mallory, mallory.DID(), StatusPurposeRevocation, bits)}, "2"},
		"list forged":          {statusLists{"https://status.example/list/1": statusListCredential(t, mallory, alice.DID(), StatusPurposeRevocation, bits)}, "2"},
		"list for suspension":  {statusLists{"https://status.example/list/1": statusListCredential(t, alice, alice.DID(), StatusPurposeSuspension, bits)}, "2"},
		"list not JSON":        {statusLists{"https://status.example/list/1": []byte("{")}, "2"},
	} {
		err := Verifier{StatusLists: c.lists}.Verify(ctx, issue(c.index), now)
		if !errors.Is(err, ErrStatusUnchecked) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDecodeStatusList(t *testing.T) {
	bits := []byte{0x01, 0x80}
	got, err := DecodeStatusList(EncodeStatusList(bits))
	if err != nil || !bytes.Equal(got, bits) {
		t.Fatalf("round trip: %x %v", got, err)
	}
	// A list that inflates past the bound is refused.
	if _, err := DecodeStatusList(EncodeStatusList(make([]byte, MaxStatusListBits/8+1))); err == nil {
		t.Error("oversized list accepted")
	}
	for _, bad := range []string{"", "z123", "u!!", "u" + "AAAA", EncodeStatusList(nil)} {
		if _, err := DecodeStatusList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecodeStatusList(f *testing.F) {
	f.Add(EncodeStatusList([]byte{1, 2, 3}))
	f.Add("uH4sIAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		bits, err := DecodeStatusList(s)
		if err == nil && (len(bits) == 0 || len(bits) > MaxStatusListBits/8) {
			t.Fatalf("%q decoded to %d bytes", s, len(bits))
		}
	})
}

// TestDigestMultibase checks the digest against one computed by hand: the
// credential without proof, canonical, hashed, as a multihash in base58btc;
// member order and whitespace as received do not change it, the proof does
// not enter it, and any value does.
func TestDigestMultibase(t *testing.T) {
	data := []byte(`{ "b": 1, "a": "x", "proof": {"proofValue": "z1"} }`)
	got, err := DigestMultibase(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := Multihash([]byte(`{"a":"x","b":1}`)); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	if got[:3] != "zQm" {
		t.Errorf("digest %s is not a base58btc sha2-256 multihash", got)
	}
	other, _ := DigestMultibase([]byte(`{"a":"x","b":2}`))
	if other == got {
		t.Error("a changed value gives the same digest")
	}
	for _, bad := range []string{`[]`, `{"a":1,"a":2}`, `{"a":1} x`} {
		if _, err := DigestMultibase([]byte(bad)); !errors.Is(err, ErrInvalidCredential) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func FuzzDigestMultibase(f *testing.F) {
	for _, vec := range readCredentialVectors(f).Valid {
		f.Add(vec.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DigestMultibase(data)
		if err != nil {
			return
		}
		// Canonical JSON of the same object digests the same.
		obj, _ := jcs.DecodeObject(data)
		canon, err := canonicalJSON(obj)
		if err != nil {
			t.Fatal(err)
		}
		if d2, err := DigestMultibase(canon); err != nil || d2 != d {
			t.Fatalf("canonical form digests to %s, %v; want %s", d2, err, d)
		}
	})
}

// TestVerifyDocument checks proofs over statements other than credentials.
func TestVerifyDocument(t *testing.T) {
	alice, bob, _ := statusIdentities(t)
	r, err := alice.Relationship(0, bob.DID())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	doc := map[string]any{"type": "statement", "did": r.DID().String()}
	proof, err := SignDocument(doc, r, ProofPurposeAuthentication, now)
	if err != nil {
		t.Fatal(err)
	}
	doc["proof"] = proof
	ctx := context.Background()
	if err := VerifyDocument(ctx, nil, doc, r.DID(), ProofPurposeAuthentication, now); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := VerifyDocument(ctx, nil, doc, r.DID(), ProofPurposeAssertion, now); err == nil {
		t.Error("verified for another purpose")
	}
	if err := VerifyDocument(ctx, nil, doc, alice.DID(), ProofPurposeAuthentication, now); err == nil {
		t.Error("verified as another signer")
	}
	if err := VerifyDocument(ctx, nil, doc, r.DID(), ProofPurposeAuthentication, now.Add(-time.Hour)); err == nil {
		t.Error("a proof created an hour ahead verified")
	}
	doc["did"] = "did:key:x"
	if err := VerifyDocument(ctx, nil, doc, r.DID(), ProofPurposeAuthentication, now); err == nil {
		t.Error("altered statement verified")
	}
}

// TestIssueRelationshipAs checks a pairwise VRC from a relationship DID.
func TestIssueRelationshipAs(t *testing.T) {
	alice, bob, _ := statusIdentities(t)
	ra, _ := alice.Relationship(7, bob.DID())
	rb, _ := bob.Relationship(9, alice.DID())
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	c, err := IssueRelationshipAs(ra, IssuerScopePairwise, rb.DID(), RelationshipContext{Context: "neighbours"}, now, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.IssuerScope != IssuerScopePairwise || c.Proof.VerificationMethod != ra.DID().String()+"#key-1" {
		t.Errorf("credential %+v", c)
	}
	back, err := Parse(credMustMarshal(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(back, now); err != nil {
		t.Errorf("verify: %v", err)
	}
	if _, err := IssueRelationshipAs(ra, "secret", rb.DID(), RelationshipContext{}, now, time.Time{}, nil); err == nil {
		t.Error("unknown scope accepted")
	}
	// The retired context never verifies.
	back.Context[1] = ContextRetiredDTG
	if err := Verify(back, now); !errors.Is(err, ErrRetiredContext) {
		t.Errorf("retired context: %v", err)
	}
}
