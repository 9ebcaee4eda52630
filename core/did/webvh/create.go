package webvh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/jcs"
)

// The operations below are run by the DID's controller, in the person's
// tab: they build the next entry, have a [Signer] sign it, and check the
// whole log again before returning it, so that a log this package writes
// always resolves. The server that hosts the log only stores it.

// CreateOptions describe a new DID (spec "Create (Register)").
type CreateOptions struct {
	// Host, Port and Path say where the log will be published: Host may be
	// an internationalised name (it is written in punycode), Port is 0 for
	// 443, Path holds plain (not percent-encoded) segments.
	Host string
	Port int
	Path []string
	// Time is the versionTime of the first entry.
	Time time.Time
	// Document returns the DID document given the DID, which still holds
	// the "{SCID}" placeholder: use it for the id and in every DID URL of
	// the document. Nil gives a document with only @context and id.
	Document func(id string) map[string]any
	// UpdateKeys are the Multikeys that may sign the next entry; nil means
	// the signer's key alone. The signer's key must be among them.
	UpdateKeys []string
	// NextKeyHashes, when not empty, turn pre-rotation on: the next entry's
	// update keys must be among these commitments ([NextKeyHash]).
	NextKeyHashes []string
	// Portable lets the DID move to another host later; it cannot be
	// turned on after creation.
	Portable bool
	Witness  Witness
	Watchers []string
	// TTL is the cache time in seconds the DID asks resolvers for; 0 writes
	// none (the default, 3600).
	TTL int
}

// Create returns the log of a new DID: its first entry, with the SCID
// computed and the entry signed by signer. Publishing it, and any witness
// proofs it needs (when Witness is set, the first entry must be witnessed
// before it is published), is the caller's.
func Create(opts CreateOptions, signer Signer) (Log, error) {
	id, err := placeholderDID(opts.Host, opts.Port, opts.Path)
	if err != nil {
		return nil, err
	}
	state := map[string]any{"@context": []any{did.ContextDIDv1}, "id": id}
	if opts.Document != nil {
		state = opts.Document(id)
		if state["id"] != id {
			return nil, fmt.Errorf("%w: document id %v is not %s", ErrInvalidDID, state["id"], id)
		}
	}
	updateKeys := opts.UpdateKeys
	if updateKeys == nil {
		updateKeys = []string{Multikey(signer.PublicKey())}
	}
	params := map[string]any{
		"method":        MethodV1,
		"scid":          scidPlaceholder,
		"updateKeys":    anyList(updateKeys),
		"nextKeyHashes": anyList(opts.NextKeyHashes),
		"portable":      opts.Portable,
		"witness":       opts.Witness.object(),
		"watchers":      anyList(opts.Watchers),
		"deactivated":   false,
	}
	if opts.TTL != 0 {
		params["ttl"] = json.Number(fmt.Sprint(opts.TTL))
	}
	// Normalise through JSON so the entry holds decoded JSON only.
	prelim, err := decodedEntry(Entry{VersionID: scidPlaceholder, VersionTime: formatTime(opts.Time), Parameters: params, State: state})
	if err != nil {
		return nil, err
	}
	scid, err := scidOf(prelim, "")
	if err != nil {
		return nil, err
	}
	// Replace the placeholder in the text of the entry (spec step 5.2).
	data, err := jcs.Encode(prelim.unsigned(scidPlaceholder))
	if err != nil {
		return nil, err
	}
	obj, err := jcs.DecodeObject(bytes.ReplaceAll(data, []byte(scidPlaceholder), []byte(scid)))
	if err != nil {
		return nil, fmt.Errorf("%w: entry: %w", ErrMalformed, err)
	}
	entry := Entry{VersionTime: obj["versionTime"].(string), Parameters: obj["parameters"].(map[string]any), State: obj["state"].(map[string]any)}
	hash, err := entryHash(entry, scid)
	if err != nil {
		return nil, err
	}
	entry.VersionID = "1-" + hash
	if err := signEntry(&entry, signer, opts.Time); err != nil {
		return nil, err
	}
	log := Log{entry}
	if _, err := verifyEntries(log, opts.Time); err != nil {
		return nil, fmt.Errorf("new log does not verify: %w", err)
	}
	return log, nil
}

// UpdateOptions describe the next version of a DID (spec "Update
// (Rotate)"). A nil field leaves what is in force unchanged.
type UpdateOptions struct {
	// Time is the new entry's versionTime: after the last entry's.
	Time time.Time
	// Document is the new DID document; its id must stay the DID's (use
	// [Log.Move] to change it). Nil keeps the current document.
	Document map[string]any
	// UpdateKeys replaces the keys that may sign. While pre-rotation is on
	// it must be given, each key committed to in the last nextKeyHashes,
	// and the signer's key among them.
	UpdateKeys []string
	// NextKeyHashes replaces the pre-rotation commitments; an empty
	// non-nil list turns pre-rotation off. While pre-rotation is on it
	// must be given.
	NextKeyHashes []string
	Witness       *Witness // &Witness{} stops witnessing
	Watchers      []string
	TTL           *int
	// EndPortability turns portability off for good.
	EndPortability bool
}

// Update returns log with a new entry made of opts, signed by signer (an
// authorised update key: the current one, or under pre-rotation one of
// opts.UpdateKeys). now bounds the versionTimes of the log as a resolver
// would.
func (log Log) Update(opts UpdateOptions, signer Signer, now time.Time) (Log, error) {
	return log.appendEntry(opts, signer, now, nil, false)
}

// Move returns log with a new entry that moves a portable DID to another
// host and path (spec "DID Portability"): the document's id and every use
// of the old DID in it become the new DID, and the old DID is added to
// alsoKnownAs. The SCID stays. The old host should then redirect to the
// new one.
func (log Log) Move(host string, port int, path []string, opts UpdateOptions, signer Signer, now time.Time) (Log, error) {
	id, err := placeholderDID(host, port, path)
	if err != nil {
		return nil, err
	}
	return log.appendEntry(opts, signer, now, &id, false)
}

// Deactivate returns log with the entries that deactivate the DID (spec
// "Deactivate (Revoke)"): deactivated set and updateKeys emptied, so that
// nobody can update it again. Under pre-rotation that takes two entries,
// the first revealing signer's committed key and ending pre-rotation, the
// second (one second later) deactivating.
func (log Log) Deactivate(t time.Time, signer Signer, now time.Time) (Log, error) {
	versions, err := verifyEntries(log, now)
	if err != nil {
		return nil, err
	}
	if versions[len(versions)-1].Parameters.PreRotation() {
		if log, err = log.Update(UpdateOptions{Time: t, UpdateKeys: []string{Multikey(signer.PublicKey())}, NextKeyHashes: []string{}}, signer, now); err != nil {
			return nil, err
		}
		t = t.Add(time.Second)
	}
	return log.appendEntry(UpdateOptions{Time: t, UpdateKeys: []string{}}, signer, now, nil, true)
}

// appendEntry builds, signs and checks the next entry.
func (log Log) appendEntry(opts UpdateOptions, signer Signer, now time.Time, moveTo *string, deactivate bool) (Log, error) {
	versions, err := verifyEntries(log, now)
	if err != nil {
		return nil, fmt.Errorf("log does not verify: %w", err)
	}
	last := versions[len(versions)-1]
	p := last.Parameters
	if p.Deactivated {
		return nil, fmt.Errorf("%w: %s", ErrDeactivated, last.DID)
	}
	if p.PreRotation() && (opts.UpdateKeys == nil || opts.NextKeyHashes == nil) {
		return nil, fmt.Errorf("%w: updateKeys and nextKeyHashes must be given while pre-rotation is active", ErrPreRotation)
	}
	params := map[string]any{}
	if opts.UpdateKeys != nil {
		params["updateKeys"] = anyList(opts.UpdateKeys)
	}
	if opts.NextKeyHashes != nil {
		params["nextKeyHashes"] = anyList(opts.NextKeyHashes)
	}
	if opts.Witness != nil {
		params["witness"] = opts.Witness.object()
	}
	if opts.Watchers != nil {
		params["watchers"] = anyList(opts.Watchers)
	}
	if opts.TTL != nil {
		params["ttl"] = json.Number(fmt.Sprint(*opts.TTL))
	}
	if opts.EndPortability {
		params["portable"] = false
	}
	if deactivate {
		params["deactivated"] = true
	}
	state := last.State
	if opts.Document != nil {
		state = opts.Document
		if state["id"] != last.DID.String() {
			return nil, fmt.Errorf("%w: document id %v is not %s; move the DID with Move", ErrInvalidDID, state["id"], last.DID)
		}
	}
	if moveTo != nil {
		if !p.Portable {
			return nil, fmt.Errorf("%w: %s was not created portable", ErrPortability, last.DID)
		}
		newID := strings.Replace(*moveTo, scidPlaceholder, p.SCID, 1)
		if state, err = renamed(state, last.DID.String(), newID); err != nil {
			return nil, err
		}
	}
	entry, err := decodedEntry(Entry{VersionTime: formatTime(opts.Time), Parameters: params, State: state})
	if err != nil {
		return nil, err
	}
	hash, err := entryHash(entry, last.VersionID)
	if err != nil {
		return nil, err
	}
	entry.VersionID = fmt.Sprintf("%d-%s", last.Number+1, hash)
	if err := signEntry(&entry, signer, opts.Time); err != nil {
		return nil, err
	}
	next := append(slices.Clone(log), entry)
	if _, err := verifyEntries(next, now); err != nil {
		return nil, fmt.Errorf("new entry does not verify: %w", err)
	}
	return next, nil
}

// renamed returns state with every use of the DID old (as a whole DID or
// the start of a DID URL) replaced by new, and old added to alsoKnownAs.
func renamed(state map[string]any, old, new string) (map[string]any, error) {
	data, err := jcs.Encode(state)
	if err != nil {
		return nil, err
	}
	for _, suffix := range []string{`"`, `#`, `/`, `?`} {
		data = bytes.ReplaceAll(data, []byte(`"`+old+suffix), []byte(`"`+new+suffix))
	}
	out, err := jcs.DecodeObject(data)
	if err != nil {
		return nil, err
	}
	aka, _ := out["alsoKnownAs"].([]any)
	if !listsString(aka, old) {
		out["alsoKnownAs"] = append(slices.Clone(aka), old)
	}
	return out, nil
}

// signEntry adds signer's proof to e.
func signEntry(e *Entry, signer Signer, t time.Time) error {
	proof, err := sign(e.unsigned(e.VersionID), signer, t)
	if err != nil {
		return err
	}
	e.Proof = []map[string]any{proof}
	return nil
}

// decodedEntry returns e with its parameters and state passed through JSON,
// so that they hold exactly what a reader of the log will decode.
func decodedEntry(e Entry) (Entry, error) {
	data, err := jcs.Encode(e.unsigned(e.VersionID))
	if err != nil {
		return Entry{}, fmt.Errorf("%w: entry: %w", ErrMalformed, err)
	}
	obj, err := jcs.DecodeObject(data)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: entry %w", ErrMalformed, err)
	}
	p, ok1 := obj["parameters"].(map[string]any)
	s, ok2 := obj["state"].(map[string]any)
	if !ok1 || !ok2 {
		return Entry{}, errors.New("entry parameters or state is not an object")
	}
	return Entry{VersionID: e.VersionID, VersionTime: e.VersionTime, Parameters: p, State: s}, nil
}

func anyList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
