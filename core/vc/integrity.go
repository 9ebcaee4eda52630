package vc

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"planet/core/did"
	"planet/core/internal/eddsajcs"
)

// Data Integrity proofs with eddsa-jcs-2022 over any JSON object, not only a
// credential: the statements of other protocols (OpenVTC's relationship DID
// binding, for one) and the Bitstring Status List credentials a status entry
// points to. The algorithm is the one [DataIntegrityProof] describes: the
// Ed25519 signature of SHA-256(JCS(proof configuration)) ||
// SHA-256(JCS(document without proof)), where the configuration is the proof
// without proofValue and carries the document's @context when it has one.

// ProofPurposeAuthentication is the proofPurpose of a proof that its signer
// controls a DID (OpenVTC's relationship DID binding).
const ProofPurposeAuthentication = "authentication"

// A Signer signs with the Ed25519 key that the DID URL SigningKeyID names:
// an identity.Identity or an identity.Relationship.
type Signer interface {
	DID() did.DID
	SigningKeyID() string
	Sign(msg []byte) []byte
}

// proofMembers of a generic proof that PLANET reads. Others change what the
// proof means (domain, challenge, previousProof…) and are refused.
var genericProofMembers = []string{"@context", "type", "cryptosuite", "created", "expires", "verificationMethod", "proofPurpose", "proofValue"}

// SignDocument returns the eddsa-jcs-2022 proof by signer over doc (a JSON
// object without "proof"), for purpose, created at created (UTC, to the
// second). The proof is a JSON object; add it to doc as "proof".
func SignDocument(doc map[string]any, signer Signer, purpose string, created time.Time) (map[string]any, error) {
	if _, ok := doc["proof"]; ok {
		return nil, fmt.Errorf("%w: sign document: it already has a proof", ErrInvalidCredential)
	}
	proof := map[string]any{
		"type":               ProofTypeDataIntegrity,
		"cryptosuite":        CryptosuiteEdDSAJCS2022,
		"created":            NewCredentialTime(created).String(),
		"verificationMethod": signer.SigningKeyID(),
		"proofPurpose":       purpose,
	}
	if ctx, ok := doc["@context"]; ok {
		proof["@context"] = ctx
	}
	hash, err := documentHash(doc, proof)
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	proof["proofValue"] = eddsajcs.EncodeProofValue(signer.Sign(hash))
	return proof, nil
}

// documentHash returns what eddsa-jcs-2022 signs for doc (without its proof)
// and proof (whose proofValue is left out).
func documentHash(doc, proof map[string]any) ([]byte, error) { return eddsajcs.Hash(doc, proof) }

// VerifyDocument verifies the one eddsa-jcs-2022 proof of doc (a decoded JSON
// object, as [jcs.DecodeObject] gives) as a proof by signer for purpose at
// time now: the proof's verificationMethod must be a method of signer's
// document (resolved with r), controlled by signer, listed under the
// relationship purpose names, and hold the Ed25519 key the signature verifies
// with; created may be at most five minutes in the future, and expires, when
// present, not past. The error says which check failed.
func VerifyDocument(ctx context.Context, r did.Resolver, doc map[string]any, signer did.DID, purpose string, now time.Time) error {
	raw, ok := doc["proof"]
	if !ok {
		return errors.New("no proof")
	}
	proof, ok := raw.(map[string]any)
	if !ok {
		return errors.New("proof is not one JSON object")
	}
	for name := range proof {
		if !slices.Contains(genericProofMembers, name) {
			return fmt.Errorf("proof member %q is not supported", name)
		}
	}
	str := func(name string) string { s, _ := proof[name].(string); return s }
	if str("type") != ProofTypeDataIntegrity || str("cryptosuite") != CryptosuiteEdDSAJCS2022 {
		return fmt.Errorf("proof is %q with cryptosuite %q, want %q with %q", str("type"), str("cryptosuite"), ProofTypeDataIntegrity, CryptosuiteEdDSAJCS2022)
	}
	if str("proofPurpose") != purpose {
		return fmt.Errorf("proofPurpose is %q, want %q", str("proofPurpose"), purpose)
	}
	if c, ok := proof["@context"]; ok {
		dc, _ := doc["@context"]
		a, _ := canonicalJSON(c)
		b, _ := canonicalJSON(dc)
		if string(a) != string(b) {
			return errors.New("proof @context differs from the document's")
		}
	}
	for _, name := range []string{"created", "expires"} {
		v, ok := proof[name]
		if !ok {
			continue
		}
		s, _ := v.(string)
		t, err := ParseCredentialTime(s)
		if err != nil {
			return fmt.Errorf("proof %s: %w", name, err)
		}
		if name == "created" && t.Time().After(now.Add(MaxClockSkew)) {
			return fmt.Errorf("proof created %s is in the future", t)
		}
		if name == "expires" && !now.Before(t.Time()) {
			return fmt.Errorf("proof expired at %s", t)
		}
	}
	if r == nil {
		r = did.Local
	}
	signerDoc, err := r.Resolve(ctx, signer)
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	var relationship []string
	switch purpose {
	case ProofPurposeAssertion:
		relationship = signerDoc.AssertionMethod
	case ProofPurposeAuthentication:
		relationship = signerDoc.Authentication
	default:
		return fmt.Errorf("proofPurpose %q is not one PLANET verifies", purpose)
	}
	pub, err := signerKey(signerDoc, signer, str("verificationMethod"), relationship)
	if err != nil {
		return err
	}
	sig, err := decodeProofValue(str("proofValue"))
	if err != nil {
		return err
	}
	hash, err := documentHash(doc, proof)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, hash, sig) {
		return fmt.Errorf("signature does not verify with %s", str("verificationMethod"))
	}
	return nil
}

// MaxClockSkew is how far in the future a proof's created time may be: a
// signer's clock a little fast is not a forgery.
const MaxClockSkew = 5 * time.Minute

// signerKey returns the Ed25519 key of the verification method vm, which
// must be a Multikey of doc, controlled by signer and listed in
// relationship.
func signerKey(doc *did.Document, signer did.DID, vm string, relationship []string) (ed25519.PublicKey, error) {
	vmDID, _, ok := cutFragment(vm)
	if !ok || vmDID != signer.String() {
		return nil, fmt.Errorf("verification method %q is not one of the signer's", vm)
	}
	m, found := doc.FindVerificationMethod(vm)
	if !found {
		return nil, fmt.Errorf("verification method %q is not in the signer's document", vm)
	}
	if m.Controller != signer.String() {
		return nil, fmt.Errorf("verification method %q is controlled by %q, not the signer", vm, m.Controller)
	}
	pub, err := doc.Ed25519Key(vm, relationship)
	if err != nil {
		return nil, err
	}
	return pub, nil
}

func cutFragment(vm string) (string, string, bool) {
	for i := 0; i < len(vm); i++ {
		if vm[i] == '#' {
			return vm[:i], vm[i+1:], i+1 < len(vm)
		}
	}
	return vm, "", false
}

// canonicalJSON returns the RFC 8785 form of a decoded JSON value.
func canonicalJSON(v any) ([]byte, error) { return eddsajcs.Canonical(v) }
