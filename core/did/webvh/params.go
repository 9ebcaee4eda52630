package webvh

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"planet/core/did"
	"planet/core/keys"
)

// MethodV1 is the value of the method parameter for did:webvh 1.0, the only
// version this package reads and writes.
const MethodV1 = "did:webvh:1.0"

// DefaultTTL is the ttl, in seconds, of a DID whose log sets none.
const DefaultTTL = 3600

// Parameters are the parameters in force after an entry (spec "did:webvh
// DID Method Parameters"): those of the first entry, each later entry
// overriding the ones it sets.
type Parameters struct {
	Method        string
	SCID          string
	UpdateKeys    []string // Ed25519 Multikeys ("z6Mk…") authorised to sign entries
	NextKeyHashes []string // pre-rotation commitments; pre-rotation is on while non-empty
	Portable      bool
	Witness       Witness
	Watchers      []string
	Deactivated   bool
	TTL           int
}

// PreRotation reports whether pre-rotation is active.
func (p Parameters) PreRotation() bool { return len(p.NextKeyHashes) > 0 }

// Witness is the witness parameter: Threshold approvals from distinct
// Witnesses are needed for each entry while it is active. The zero Witness
// is "{}", no witnesses.
type Witness struct {
	Threshold int
	Witnesses []string // did:key DIDs of Ed25519 keys
}

// Active reports whether w asks for witnessing.
func (w Witness) Active() bool { return len(w.Witnesses) > 0 }

// MarshalJSON writes {} for no witnesses, else
// {"threshold": n, "witnesses": [{"id": …}, …]}.
func (w Witness) MarshalJSON() ([]byte, error) {
	if !w.Active() {
		return []byte("{}"), nil
	}
	list := make([]map[string]string, len(w.Witnesses))
	for i, id := range w.Witnesses {
		list[i] = map[string]string{"id": id}
	}
	return json.Marshal(map[string]any{"threshold": w.Threshold, "witnesses": list})
}

func (w Witness) object() any {
	if !w.Active() {
		return map[string]any{}
	}
	list := make([]any, len(w.Witnesses))
	for i, id := range w.Witnesses {
		list[i] = map[string]any{"id": id}
	}
	return map[string]any{"threshold": json.Number(fmt.Sprint(w.Threshold)), "witnesses": list}
}

// parameterNames are the parameters version 1.0 defines. Any other name
// (0.5's "prerotation" or "witnessThreshold", a later version's) is
// refused with ErrMethodVersion.
var parameterNames = []string{"method", "scid", "updateKeys", "nextKeyHashes", "portable", "witness", "watchers", "deactivated", "ttl"}

// applyParameters returns the parameters in force after an entry that sets
// raw, given those in force before it (the zero Parameters for the first
// entry). It checks every value against version 1.0's rules.
func applyParameters(prev Parameters, raw map[string]any, first bool) (Parameters, error) {
	next := prev
	next.UpdateKeys = slices.Clone(prev.UpdateKeys)
	if first {
		next = Parameters{TTL: DefaultTTL}
	}
	for name := range raw {
		if !slices.Contains(parameterNames, name) {
			return Parameters{}, fmt.Errorf("%w: parameter %q is not one of did:webvh 1.0's", ErrMethodVersion, name)
		}
	}
	if v, ok := raw["method"]; ok {
		s, _ := v.(string)
		if s != MethodV1 {
			return Parameters{}, fmt.Errorf("%w: method %s; only %q is supported", ErrMethodVersion, describe(v), MethodV1)
		}
		next.Method = s
	} else if first {
		return Parameters{}, fmt.Errorf("%w: the first entry has no method parameter", ErrMethodVersion)
	}
	if v, ok := raw["scid"]; ok {
		s, _ := v.(string)
		if !first {
			return Parameters{}, fmt.Errorf("%w: scid may appear in the first entry only", ErrInvalidParameter)
		}
		if err := checkHashString(s); err != nil {
			return Parameters{}, fmt.Errorf("%w: scid: %w", ErrSCIDMismatch, err)
		}
		next.SCID = s
	} else if first {
		return Parameters{}, fmt.Errorf("%w: the first entry has no scid", ErrInvalidParameter)
	}
	if v, ok := raw["updateKeys"]; ok {
		list, err := stringList(v, "updateKeys")
		if err != nil {
			return Parameters{}, err
		}
		for _, k := range list {
			if _, err := keys.ParseEd25519Multikey(k); err != nil {
				return Parameters{}, fmt.Errorf("%w: updateKeys %q: %w (did:webvh 1.0 signs with eddsa-jcs-2022 only)", ErrInvalidParameter, k, err)
			}
		}
		next.UpdateKeys = list
	} else if first {
		return Parameters{}, fmt.Errorf("%w: the first entry has no updateKeys", ErrInvalidParameter)
	}
	if v, ok := raw["nextKeyHashes"]; ok {
		list, err := stringList(v, "nextKeyHashes")
		if err != nil {
			return Parameters{}, err
		}
		next.NextKeyHashes = list
	}
	if v, ok := raw["portable"]; ok {
		b, isBool := v.(bool)
		switch {
		case !isBool:
			return Parameters{}, fmt.Errorf("%w: portable is %s, not a boolean", ErrInvalidParameter, describe(v))
		case b && !first:
			return Parameters{}, fmt.Errorf("%w: portable may be turned on in the first entry only", ErrPortability)
		}
		next.Portable = b
	}
	if v, ok := raw["witness"]; ok {
		w, err := parseWitness(v)
		if err != nil {
			return Parameters{}, err
		}
		next.Witness = w
	}
	if v, ok := raw["watchers"]; ok {
		list, err := stringList(v, "watchers")
		if err != nil {
			return Parameters{}, err
		}
		next.Watchers = list
	}
	if v, ok := raw["deactivated"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return Parameters{}, fmt.Errorf("%w: deactivated is %s, not a boolean", ErrInvalidParameter, describe(v))
		}
		next.Deactivated = b
	}
	if v, ok := raw["ttl"]; ok {
		n := DefaultTTL
		if v != nil {
			var err error
			if n, err = integer(v, 0, math.MaxInt32); err != nil {
				return Parameters{}, fmt.Errorf("%w: ttl %w", ErrInvalidParameter, err)
			}
		}
		next.TTL = n
	}
	return next, nil
}

// stringList reads a JSON array of non-empty strings. JSON null, which
// early implementations wrote for "none", reads as an empty list, as the
// specification asks resolvers to accept.
func stringList(v any, name string) ([]string, error) {
	if v == nil {
		return []string{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, not an array", ErrInvalidParameter, name, describe(v))
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("%w: %s item %d is %s, not a non-empty string", ErrInvalidParameter, name, i+1, describe(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// parseWitness reads the witness parameter: {} (or null) for none, else a
// threshold between 1 and the number of witnesses, and witnesses each an
// Ed25519 did:key listed once. A malformed witness is an error, never "no
// witnesses".
func parseWitness(v any) (Witness, error) {
	if v == nil {
		return Witness{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Witness{}, fmt.Errorf("%w: witness is %s, not an object", ErrInvalidParameter, describe(v))
	}
	if len(m) == 0 {
		return Witness{}, nil
	}
	for k := range m {
		if k != "threshold" && k != "witnesses" {
			return Witness{}, fmt.Errorf("%w: witness has member %q", ErrInvalidParameter, k)
		}
	}
	list, ok := m["witnesses"].([]any)
	if !ok || len(list) == 0 {
		return Witness{}, fmt.Errorf("%w: witness has no non-empty witnesses array", ErrInvalidParameter)
	}
	var w Witness
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return Witness{}, fmt.Errorf("%w: witness %d is not an object", ErrInvalidParameter, i+1)
		}
		for k := range obj {
			if k != "id" {
				return Witness{}, fmt.Errorf("%w: witness %d has member %q; version 1.0 gives a witness only an id", ErrInvalidParameter, i+1, k)
			}
		}
		id, _ := obj["id"].(string)
		d, err := did.Parse(id)
		if err != nil || d.Method() != did.MethodKey {
			return Witness{}, fmt.Errorf("%w: witness %d id %q is not an Ed25519 did:key", ErrInvalidParameter, i+1, id)
		}
		if slices.Contains(w.Witnesses, id) {
			return Witness{}, fmt.Errorf("%w: witness %s is listed twice", ErrInvalidParameter, id)
		}
		w.Witnesses = append(w.Witnesses, id)
	}
	t, ok := m["threshold"]
	if !ok {
		return Witness{}, fmt.Errorf("%w: witness has no threshold", ErrInvalidParameter)
	}
	n, err := integer(t, 1, len(w.Witnesses))
	if err != nil {
		return Witness{}, fmt.Errorf("%w: witness threshold %w", ErrInvalidParameter, err)
	}
	w.Threshold = n
	return w, nil
}

// integer reads a JSON number that is an integer between lo and hi.
func integer(v any, lo, hi int) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("is %s, not a number", describe(v))
	}
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("is %s, not an integer from %d to %d", num, lo, hi)
	}
	return int(f), nil
}

// describe names a decoded JSON value for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case []any:
		return "an array"
	default:
		return "an object"
	}
}
