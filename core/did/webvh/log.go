package webvh

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"planet/core/internal/eddsajcs"
	"planet/core/jcs"
)

// Entry is one line of a did.jsonl log (spec "The DID Log File"): one
// version of the DID. The members are kept as decoded JSON (objects as
// map[string]any, numbers as json.Number) because the entry hash, the SCID
// and the proofs are computed over exactly what was written.
type Entry struct {
	VersionID   string           // "<version number>-<entry hash>"
	VersionTime string           // UTC ISO 8601, as written
	Parameters  map[string]any   // the parameters this entry sets
	State       map[string]any   // the DID document of this version
	Proof       []map[string]any // Data Integrity proofs by update keys
}

// Log is a did:webvh log: its entries in order, the first being the DID's
// creation.
type Log []Entry

// entryMembers are the members of a log entry, in the order PLANET writes
// them; a line with any other member is refused.
var entryMembers = []string{"versionId", "versionTime", "parameters", "state", "proof"}

// ParseLog decodes a did.jsonl file strictly: one JSON object a line, each
// ending in "\n" (the last may omit it), with exactly the members of an
// entry and the right types; no blank lines, duplicate keys or invalid
// UTF-8. It checks the form only: [Verify] checks what the entries say.
// Errors wrap [ErrMalformed].
func ParseLog(data []byte) (Log, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty log", ErrMalformed)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	log := make(Log, 0, len(lines))
	for i, line := range lines {
		e, err := parseEntry(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrMalformed, i+1, err)
		}
		log = append(log, e)
	}
	return log, nil
}

// parseEntry decodes one line of a log.
func parseEntry(line []byte) (Entry, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return Entry{}, fmt.Errorf("is blank")
	}
	obj, err := jcs.DecodeObject(line)
	if err != nil {
		return Entry{}, err
	}
	for k := range obj {
		if !slices.Contains(entryMembers, k) {
			return Entry{}, fmt.Errorf("has member %q, which a log entry does not have", k)
		}
	}
	var e Entry
	var ok bool
	if e.VersionID, ok = obj["versionId"].(string); !ok {
		return Entry{}, fmt.Errorf("versionId is missing or not a string")
	}
	if e.VersionTime, ok = obj["versionTime"].(string); !ok {
		return Entry{}, fmt.Errorf("versionTime is missing or not a string")
	}
	if e.Parameters, ok = obj["parameters"].(map[string]any); !ok {
		return Entry{}, fmt.Errorf("parameters is missing or not an object")
	}
	if e.State, ok = obj["state"].(map[string]any); !ok {
		return Entry{}, fmt.Errorf("state is missing or not an object")
	}
	proofs, ok := obj["proof"].([]any)
	if !ok || len(proofs) == 0 {
		return Entry{}, fmt.Errorf("proof is missing or not a non-empty array")
	}
	for i, p := range proofs {
		m, ok := p.(map[string]any)
		if !ok {
			return Entry{}, fmt.Errorf("proof %d is not an object", i+1)
		}
		e.Proof = append(e.Proof, m)
	}
	return e, nil
}

// unsigned returns the entry as a JSON object without its proof, with
// versionID in place of its own: the input of the entry hash.
func (e Entry) unsigned(versionID string) map[string]any {
	return map[string]any{
		"versionId":   versionID,
		"versionTime": e.VersionTime,
		"parameters":  e.Parameters,
		"state":       e.State,
	}
}

// object returns the whole entry as a JSON object.
func (e Entry) object() map[string]any {
	m := e.unsigned(e.VersionID)
	proofs := make([]any, len(e.Proof))
	for i, p := range e.Proof {
		proofs[i] = p
	}
	m["proof"] = proofs
	return m
}

// MarshalJSONL returns the log as a did.jsonl file: each entry on one line
// with its members in the order versionId, versionTime, parameters, state,
// proof, each value in RFC 8785 form, and "\n" after each. Parsing it
// again gives the same entries.
func (l Log) MarshalJSONL() ([]byte, error) {
	var b bytes.Buffer
	for i, e := range l {
		line, err := e.marshal()
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func (e Entry) marshal() ([]byte, error) {
	obj := e.object()
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range entryMembers {
		v, err := eddsajcs.Canonical(obj[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jcs.AppendString(nil, k))
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WitnessFile is a did-witness.json file (spec "The Witness Proofs File"):
// for versions of the log, the proofs witnesses made over their versionId.
type WitnessFile []WitnessProofs

// WitnessProofs are the witness proofs over one versionId.
type WitnessProofs struct {
	VersionID string
	Proof     []map[string]any
}

// ParseWitnessFile decodes a did-witness.json file strictly: a JSON array
// of objects with exactly versionId (a string) and proof (an array of
// objects). Errors wrap [ErrMalformed]. Whether the proofs verify is for
// [Verify].
func ParseWitnessFile(data []byte) (WitnessFile, error) {
	v, err := jcs.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: did-witness.json is not valid JSON: %v", ErrMalformed, err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: did-witness.json is not a JSON array", ErrMalformed)
	}
	wf := make(WitnessFile, 0, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: did-witness.json item %d is not an object", ErrMalformed, i+1)
		}
		for k := range obj {
			if k != "versionId" && k != "proof" {
				return nil, fmt.Errorf("%w: did-witness.json item %d has member %q", ErrMalformed, i+1, k)
			}
		}
		var w WitnessProofs
		if w.VersionID, ok = obj["versionId"].(string); !ok || w.VersionID == "" {
			return nil, fmt.Errorf("%w: did-witness.json item %d has no versionId string", ErrMalformed, i+1)
		}
		proofs, ok := obj["proof"].([]any)
		if !ok {
			return nil, fmt.Errorf("%w: did-witness.json item %d has no proof array", ErrMalformed, i+1)
		}
		for j, p := range proofs {
			m, ok := p.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: did-witness.json item %d proof %d is not an object", ErrMalformed, i+1, j+1)
			}
			w.Proof = append(w.Proof, m)
		}
		wf = append(wf, w)
	}
	return wf, nil
}

// MarshalJSON returns the file as JSON, each item's members in the order
// versionId, proof.
func (wf WitnessFile) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, w := range wf {
		if i > 0 {
			b.WriteByte(',')
		}
		proofs := make([]any, len(w.Proof))
		for j, p := range w.Proof {
			proofs[j] = p
		}
		p, err := eddsajcs.Canonical(proofs)
		if err != nil {
			return nil, err
		}
		b.WriteString(`{"versionId":`)
		b.Write(jcs.AppendString(nil, w.VersionID))
		b.WriteString(`,"proof":`)
		b.Write(p)
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// versionNumber splits a versionId into its number and entry hash.
func splitVersionID(v string) (n int, hash string, err error) {
	num, hash, ok := strings.Cut(v, "-")
	if !ok || strings.Contains(hash, "-") {
		return 0, "", fmt.Errorf("versionId %q is not a number, one dash and a hash", v)
	}
	if num == "" || len(num) > 9 || (num[0] == '0') || strings.Trim(num, "0123456789") != "" {
		return 0, "", fmt.Errorf("versionId %q does not start with a version number", v)
	}
	for _, c := range num {
		n = n*10 + int(c-'0')
	}
	return n, hash, nil
}
