package webvh

import (
	"fmt"
	"slices"
	"time"
)

// Version is one verified version of a DID: its entry and what was in
// force once it was published.
type Version struct {
	Entry
	Number int
	Time   time.Time
	// DID is the entry's state.id: the DID's name at this version, which
	// changes only when a portable DID moves.
	DID DID
	// Parameters are those in force after this entry.
	Parameters Parameters
	// witness is the witness configuration that must approve this entry,
	// if any (spec "DID Witnesses").
	witness Witness
}

// Verify checks a log as a resolver must (spec "Read (Resolve)"), every
// entry, in order: the version number and the entry hash chained to the
// previous entry, the versionTime (UTC, strictly increasing, not more than
// [MaxClockSkew] after now), the parameters against version 1.0, the SCID
// of the first entry, the SCID of every state.id, portability for a change
// of name, the pre-rotation commitments, and every proof by an authorised
// update key; then, when entries need witnessing, the proofs of wf (nil if
// the log has no witnesses).
//
// It returns the versions that verified, in order, and the first failure,
// if any: entries before a failure stay valid (a versionId query may
// still resolve them), entries from it on are not returned. The error
// wraps the sentinel of the check that failed.
func Verify(log Log, wf WitnessFile, now time.Time) ([]Version, error) {
	versions, err := verifyEntries(log, now)
	if werr := checkWitnesses(versions, wf); werr != nil {
		return versions[:werr.number-1], werr.err
	}
	return versions, err
}

// verifyEntries checks everything but witness proofs.
func verifyEntries(log Log, now time.Time) ([]Version, error) {
	if len(log) == 0 {
		return nil, fmt.Errorf("%w: empty log", ErrMalformed)
	}
	var versions []Version
	var prev Version
	for i, e := range log {
		v, err := verifyEntry(e, i, prev, now)
		if err != nil {
			return versions, fmt.Errorf("version %d: %w", i+1, err)
		}
		versions = append(versions, v)
		prev = v
	}
	return versions, nil
}

// verifyEntry checks entry e, the i-th (from 0), after prev.
func verifyEntry(e Entry, i int, prev Version, now time.Time) (Version, error) {
	first := i == 0
	v := Version{Entry: e, Number: i + 1}
	if !first && prev.Parameters.Deactivated {
		return Version{}, fmt.Errorf("%w: no entry may follow deactivation", ErrDeactivated)
	}

	n, hash, err := splitVersionID(e.VersionID)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrHashChain, err)
	}
	if n != i+1 {
		return Version{}, fmt.Errorf("%w: versionId %q has number %d, want %d", ErrHashChain, e.VersionID, n, i+1)
	}
	if err := checkHashString(hash); err != nil {
		return Version{}, fmt.Errorf("%w: entry hash %w", ErrHashChain, err)
	}

	if v.Time, err = parseTime(e.VersionTime); err != nil {
		return Version{}, fmt.Errorf("%w: versionTime %w", ErrVersionTime, err)
	}
	if !first && !v.Time.After(prev.Time) {
		return Version{}, fmt.Errorf("%w: versionTime %s is not after the previous entry's %s", ErrVersionTime, e.VersionTime, prev.VersionTime)
	}
	if v.Time.After(now.Add(MaxClockSkew)) {
		return Version{}, fmt.Errorf("%w: versionTime %s is in the future", ErrVersionTime, e.VersionTime)
	}

	if v.Parameters, err = applyParameters(prev.Parameters, e.Parameters, first); err != nil {
		return Version{}, err
	}
	p := v.Parameters

	prevID := prev.VersionID
	if first {
		scid, err := scidOf(e, p.SCID)
		if err != nil {
			return Version{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if scid != p.SCID {
			return Version{}, fmt.Errorf("%w: scid %s is not the hash of the first entry (%s)", ErrSCIDMismatch, p.SCID, scid)
		}
		prevID = p.SCID
	}
	want, err := entryHash(e, prevID)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if hash != want {
		return Version{}, fmt.Errorf("%w: entry hash %s, want %s", ErrHashChain, hash, want)
	}

	id, _ := e.State["id"].(string)
	if v.DID, err = ParseDID(id); err != nil {
		return Version{}, fmt.Errorf("state.id: %w", err)
	}
	if v.DID.SCID() != p.SCID {
		return Version{}, fmt.Errorf("%w: state.id %s does not carry the log's scid %s", ErrSCIDMismatch, id, p.SCID)
	}
	if !first && v.DID != prev.DID {
		if !prev.Parameters.Portable {
			return Version{}, fmt.Errorf("%w: state.id changes from %s to %s", ErrPortability, prev.DID, v.DID)
		}
		if !listsString(e.State["alsoKnownAs"], prev.DID.String()) {
			return Version{}, fmt.Errorf("%w: moved from %s without listing it in alsoKnownAs", ErrPortability, prev.DID)
		}
	}

	// The keys that may sign: the entry's own in the first entry and under
	// pre-rotation (whose commitments they must meet), else the previous
	// entry's (spec "Authorized Keys").
	authorised := prev.Parameters.UpdateKeys
	switch {
	case first:
		authorised = p.UpdateKeys
	case prev.Parameters.PreRotation():
		if _, ok := e.Parameters["updateKeys"]; !ok {
			return Version{}, fmt.Errorf("%w: updateKeys must be given while pre-rotation is active", ErrPreRotation)
		}
		if _, ok := e.Parameters["nextKeyHashes"]; !ok {
			return Version{}, fmt.Errorf("%w: nextKeyHashes must be given while pre-rotation is active", ErrPreRotation)
		}
		for _, k := range p.UpdateKeys {
			if !slices.Contains(prev.Parameters.NextKeyHashes, NextKeyHash(k)) {
				return Version{}, fmt.Errorf("%w: update key %s was not committed to in the previous nextKeyHashes", ErrPreRotation, k)
			}
		}
		authorised = p.UpdateKeys
	}
	unsigned := e.unsigned(e.VersionID)
	for j, proof := range e.Proof {
		key, err := checkProof(unsigned, proof)
		if err != nil {
			return Version{}, fmt.Errorf("proof %d: %w", j+1, err)
		}
		if !slices.Contains(authorised, key) {
			return Version{}, fmt.Errorf("proof %d: %w: %s", j+1, ErrUnauthorizedKey, key)
		}
	}

	// Witnesses: while a configuration is active it approves each entry,
	// including the one that replaces it; a first configuration applies at
	// once to the entry that sets it.
	switch {
	case prev.Parameters.Witness.Active():
		v.witness = prev.Parameters.Witness
	case p.Witness.Active():
		if _, set := e.Parameters["witness"]; set || first {
			v.witness = p.Witness
		}
	}
	return v, nil
}

// listsString reports whether v, a decoded JSON value, is an array holding s.
func listsString(v any, s string) bool {
	list, _ := v.([]any)
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type witnessError struct {
	number int // the first version not approved
	err    error
}

func (e *witnessError) Error() string { return e.err.Error() }

// checkWitnesses checks that every version needing witnesses has Threshold
// approvals from distinct witnesses of its configuration. A witness
// approves a version by a valid proof over its versionId or that of any
// later version of this log (a proof approves all before it); proofs over
// versionIds not in the log, of another DID or not yet published, count for
// nothing, and each witness counts once.
func checkWitnesses(versions []Version, wf WitnessFile) *witnessError {
	needed := false
	for _, v := range versions {
		needed = needed || v.witness.Active()
	}
	if !needed {
		return nil
	}
	position := make(map[string]int, len(versions))
	for i, v := range versions {
		position[v.VersionID] = i
	}
	// signedAt[w] is the latest version index witness w (a did:key) signed.
	signedAt := make(map[string]int)
	var rejected []string
	for _, set := range wf {
		i, ok := position[set.VersionID]
		if !ok {
			continue
		}
		doc := map[string]any{"versionId": set.VersionID}
		for _, proof := range set.Proof {
			key, err := checkProof(doc, proof)
			if err != nil {
				rejected = append(rejected, err.Error())
				continue
			}
			w := "did:key:" + key
			if j, ok := signedAt[w]; !ok || i > j {
				signedAt[w] = i
			}
		}
	}
	for i, v := range versions {
		if !v.witness.Active() {
			continue
		}
		approvals := 0
		for _, w := range v.witness.Witnesses {
			if j, ok := signedAt[w]; ok && j >= i {
				approvals++
			}
		}
		if approvals < v.witness.Threshold {
			err := fmt.Errorf("version %d: %w: %d of %d approvals from its witnesses", v.Number, ErrWitness, approvals, v.witness.Threshold)
			if len(rejected) > 0 {
				err = fmt.Errorf("%w (proofs refused: %s)", err, rejected[0])
			}
			return &witnessError{number: v.Number, err: err}
		}
	}
	return nil
}
