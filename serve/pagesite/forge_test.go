package pagesite

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/mr-tron/base58"

	"planet/core/jcs"
	"planet/core/keys"
	"planet/core/page/pagetest"
)

// forgeLastEntry rewrites the last entry of a did.jsonl as someone without
// the update key would: its document's key replaced by theirs, its entry
// hash recomputed so the chain holds, and an eddsa-jcs-2022 proof made with
// their own key. Only the authorisation of the update key stands in the
// way, which is what a verifier must check.
func forgeLastEntry(t *testing.T, log []byte, attacker pagetest.Key) []byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(log), []byte("\n"))
	var prev, entry map[string]any
	must(t, json.Unmarshal(lines[len(lines)-2], &prev))
	must(t, json.Unmarshal(lines[len(lines)-1], &entry))
	state := entry["state"].(map[string]any)
	vm := state["verificationMethod"].([]any)[0].(map[string]any)
	vm["publicKeyMultibase"] = keys.Ed25519Multikey(attacker.PublicKey())
	delete(entry, "proof")
	entry["versionId"] = prev["versionId"]
	n := bytes.SplitN([]byte(prev["versionId"].(string)), []byte("-"), 2)[0][0] + 1
	entry["versionId"] = string(n) + "-" + hashString(t, entry)
	mk := keys.Ed25519Multikey(attacker.PublicKey())
	proof := map[string]any{"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
		"verificationMethod": "did:key:" + mk + "#" + mk, "created": entry["versionTime"], "proofPurpose": "assertionMethod"}
	c1, c2 := sha256.Sum256(canonical(t, proof)), sha256.Sum256(canonical(t, entry))
	proof["proofValue"] = "z" + base58.Encode(attacker.Sign(append(c1[:], c2[:]...)))
	entry["proof"] = []any{proof}
	lines[len(lines)-1] = canonical(t, entry)
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

func canonical(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jcs.Marshal(v)
	must(t, err)
	return b
}

// hashString is did:webvh's entry hash: base58btc of the SHA-256
// multihash of the canonical entry.
func hashString(t *testing.T, v any) string {
	sum := sha256.Sum256(canonical(t, v))
	return base58.Encode(append([]byte{0x12, 0x20}, sum[:]...))
}
