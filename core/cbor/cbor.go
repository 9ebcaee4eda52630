// Package cbor is the one CBOR encoding PLANET writes, at rest and on the
// wire: core deterministic encoding (RFC 8949 §4.2.1) out, and a strict
// decoder in, so that one value has exactly one encoding and altered
// encodings are refused rather than reinterpreted. The vault's records and
// the frames of every PLANET stream protocol use it.
//
// Types encoded with it document their rules for change in their own doc
// comments: numbered keys are never reused, new fields are optional.
package cbor

import (
	"bytes"
	"errors"
	"fmt"

	fxcbor "github.com/fxamacker/cbor/v2"
)

var (
	encMode fxcbor.EncMode
	decMode fxcbor.DecMode
)

func init() {
	var err error
	encMode, err = fxcbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = fxcbor.DecOptions{
		DupMapKey:        fxcbor.DupMapKeyEnforcedAPF,
		IndefLength:      fxcbor.IndefLengthForbidden,
		TagsMd:           fxcbor.TagsForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v in core deterministic CBOR.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes strict CBOR into v. Anything but the one
// deterministic encoding of a value is an error: duplicate map keys,
// indefinite lengths, tags, non-shortest forms, unsorted maps and trailing
// bytes. Unknown map keys are skipped, so that older readers can read
// records that gained optional fields.
func Unmarshal(data []byte, v any) error {
	var generic any
	rest, err := decMode.UnmarshalFirst(data, &generic)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("cbor: %d trailing bytes", len(rest))
	}
	// Decoding is lenient about serialization; the canonical form is not.
	// Re-encoding the generic value reproduces the input exactly when, and
	// only when, the input was deterministic.
	again, err := encMode.Marshal(generic)
	if err != nil || !bytes.Equal(again, data) {
		return errors.New("cbor: not in deterministic encoding")
	}
	return decMode.Unmarshal(data, v)
}
