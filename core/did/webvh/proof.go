package webvh

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/internal/eddsajcs"
	"planet/core/keys"
)

// A Signer signs log entries (or, for a witness, witness proofs) with an
// Ed25519 key it keeps to itself: an update key of the DID in a person's
// vault, or a hardware or WebCrypto key. This package never sees a private
// key.
type Signer interface {
	// PublicKey returns the Ed25519 public key the signer signs with.
	PublicKey() ed25519.PublicKey
	// Sign returns the Ed25519 signature of msg.
	Sign(msg []byte) ([]byte, error)
}

// Proof constants of did:webvh 1.0: every log entry proof and witness proof
// is a DataIntegrityProof with eddsa-jcs-2022 for assertionMethod, by a
// did:key.
const (
	proofType    = "DataIntegrityProof"
	cryptosuite  = "eddsa-jcs-2022"
	proofPurpose = "assertionMethod"
)

// proofMembers are the members of a proof that this package reads; a proof
// with any other (domain, challenge, previousProof…) would mean something
// the method does not define, and is refused.
var proofMembers = []string{"type", "cryptosuite", "verificationMethod", "created", "proofPurpose", "proofValue", "id"}

// Multikey returns the Multikey form of an Ed25519 public key, "z6Mk…", as
// updateKeys lists it.
func Multikey(pub ed25519.PublicKey) string { return keys.Ed25519Multikey(pub) }

// sign returns the eddsa-jcs-2022 proof by signer over doc (a JSON object
// without proof).
func sign(doc map[string]any, signer Signer, created time.Time) (map[string]any, error) {
	mk := Multikey(signer.PublicKey())
	proof := map[string]any{
		"type":               proofType,
		"cryptosuite":        cryptosuite,
		"verificationMethod": "did:key:" + mk + "#" + mk,
		"created":            formatTime(created),
		"proofPurpose":       proofPurpose,
	}
	hash, err := eddsajcs.Hash(doc, proof)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(hash)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	proof["proofValue"] = eddsajcs.EncodeProofValue(sig)
	return proof, nil
}

// checkProof verifies one eddsa-jcs-2022 proof over doc and returns the
// Multikey of the did:key that made it. The verification key comes from the
// did:key URL alone: its body and its fragment must be the same Multikey,
// so a proof cannot claim one key and be checked with another.
func checkProof(doc, proof map[string]any) (string, error) {
	for name := range proof {
		if !slices.Contains(proofMembers, name) {
			return "", fmt.Errorf("%w: proof member %q is not supported", ErrMalformed, name)
		}
	}
	str := func(name string) string { s, _ := proof[name].(string); return s }
	if str("type") != proofType || str("cryptosuite") != cryptosuite {
		return "", fmt.Errorf("%w: proof is %q with cryptosuite %q, want %q with %q", ErrCryptosuite, str("type"), str("cryptosuite"), proofType, cryptosuite)
	}
	if str("proofPurpose") != proofPurpose {
		return "", fmt.Errorf("%w: proofPurpose is %q, want %q", ErrCryptosuite, str("proofPurpose"), proofPurpose)
	}
	if c, ok := proof["created"]; ok {
		if _, err := parseTime(str("created")); err != nil || c == "" {
			return "", fmt.Errorf("%w: proof created %s is not a UTC timestamp", ErrMalformed, describe(c))
		}
	}
	vm := str("verificationMethod")
	body, fragment, ok := strings.Cut(strings.TrimPrefix(vm, "did:key:"), "#")
	if !strings.HasPrefix(vm, "did:key:") || !ok || body != fragment {
		return "", fmt.Errorf("%w: verificationMethod %q is not did:key:<key>#<key> with the same key twice", ErrInvalidProof, vm)
	}
	pub, err := keys.ParseEd25519Multikey(body)
	if err != nil {
		return "", fmt.Errorf("%w: verificationMethod %q: %w", ErrInvalidProof, vm, err)
	}
	sig, err := eddsajcs.DecodeProofValue(str("proofValue"))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	hash, err := eddsajcs.Hash(doc, proof)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !ed25519.Verify(pub, hash, sig) {
		return "", fmt.Errorf("%w: signature by %s does not verify", ErrInvalidProof, body)
	}
	return body, nil
}

// SignWitness returns the proof by a witness over versionID, for the
// controller to add to did-witness.json with [WitnessFile.Add]. A witness
// signs only after it has verified the entry as the next of the log it
// holds (spec "Witnessing a DID Version Update"): use [Verify] on the log
// with the entry appended.
func SignWitness(versionID string, witness Signer, created time.Time) (map[string]any, error) {
	return sign(map[string]any{"versionId": versionID}, witness, created)
}

// Add returns wf with proof added to the proofs over versionID.
func (wf WitnessFile) Add(versionID string, proof map[string]any) WitnessFile {
	out := slices.Clone(wf)
	for i := range out {
		if out[i].VersionID == versionID {
			out[i].Proof = append(slices.Clone(out[i].Proof), proof)
			return out
		}
	}
	return append(out, WitnessProofs{VersionID: versionID, Proof: []map[string]any{proof}})
}

// MaxClockSkew is how far in the future a versionTime may be: the
// specification asks for a tolerance of no more than five minutes.
const MaxClockSkew = 5 * time.Minute

// parseTime reads a versionTime: ISO 8601 in UTC, with "Z" or "+00:00".
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 timestamp", s)
	}
	if _, offset := t.Zone(); offset != 0 || !(strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "+00:00")) {
		return time.Time{}, fmt.Errorf("%q is not in UTC", s)
	}
	return t.UTC(), nil
}

// formatTime writes a versionTime or created time, to the second.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}
