package page

import (
	"fmt"
	"strings"
	"time"

	"planet/core/did/webvh"
	"planet/core/internal/eddsajcs"
	"planet/core/jcs"
)

// A Signer signs with the Ed25519 key of a verification method of the DID
// (in PLANET, the identity's key, #key-1). This package never sees the
// private key.
type Signer interface {
	// Sign returns the Ed25519 signature of msg.
	Sign(msg []byte) []byte
}

// Proof constants: the documents' proofs are what did:webvh uses for its
// own log, eddsa-jcs-2022 Data Integrity proofs, so a verifier needs one
// algorithm for both.
const (
	proofType    = "DataIntegrityProof"
	cryptosuite  = "eddsa-jcs-2022"
	proofPurpose = "assertionMethod"
)

// SignProfile returns the signed profile of d, as published at
// [ProfilePath]. vmID is the verification method ("#key-1" or the full
// DID URL); it must be an assertion method of d's document when now falls,
// or no one will verify the result.
func SignProfile(p *Profile, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	if _, err := decodeProfile(withCommon(p.members())); err != nil {
		return nil, err
	}
	return sign(TypeProfile, ProfilePath, p.members(), signer, d, vmID, now)
}

// SignPost returns the signed post of d, as published at [PostPath].
func SignPost(p *Post, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	if _, err := decodePost(withCommon(p.members())); err != nil {
		return nil, err
	}
	return sign(TypePost, PostPath(p.Slug), p.members(), signer, d, vmID, now)
}

// SignIndex returns the signed index of d's posts, as published at
// [IndexPath].
func SignIndex(x *Index, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	if _, err := decodeIndex(withCommon(x.members())); err != nil {
		return nil, err
	}
	return sign(TypeIndex, IndexPath, x.members(), signer, d, vmID, now)
}

// withCommon adds placeholders for the common members, so the content
// decoders check what is about to be signed.
func withCommon(m map[string]any) map[string]any {
	for _, k := range commonMembers {
		m[k] = ""
	}
	return m
}

func sign(typ, path string, doc map[string]any, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	doc["@context"] = []any{Context}
	doc["type"] = typ
	doc["id"] = d.String() + "/" + path
	doc["author"] = d.String()
	return signAs(doc, signer, d, vmID, now)
}

// signAs adds to doc the eddsa-jcs-2022 proof by vmID (relative, "#key-1",
// or a DID URL of d) and returns the signed document in its canonical
// form, refusing one over MaxDocument: every document of a page and its
// presentation are signed so.
func signAs(doc map[string]any, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	if strings.HasPrefix(vmID, "#") {
		vmID = d.String() + vmID
	}
	if !strings.HasPrefix(vmID, d.String()+"#") {
		return nil, fmt.Errorf("%w: verification method %q is not one of %s", ErrWrongDID, vmID, d)
	}
	proof := map[string]any{
		"type":               proofType,
		"cryptosuite":        cryptosuite,
		"verificationMethod": vmID,
		"created":            formatTime(now),
		"proofPurpose":       proofPurpose,
	}
	hash, err := eddsajcs.Hash(doc, proof)
	if err != nil {
		return nil, err
	}
	proof["proofValue"] = eddsajcs.EncodeProofValue(signer.Sign(hash))
	doc["proof"] = proof
	out, err := eddsajcs.Canonical(doc)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxDocument {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(out), MaxDocument)
	}
	return out, nil
}

// jcsDecode is the strict decoder every document goes through.
var jcsDecode = jcs.DecodeObject
