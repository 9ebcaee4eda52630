package vault

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// CBOR modes for everything the vault writes: core deterministic encoding
// out, and a strict decoder in, so one value has exactly one encoding and
// altered encodings are refused rather than reinterpreted.
var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// MarshalCBOR encodes v in core deterministic CBOR. Packages that store
// records in a vault use it so that their records follow the vault's rules.
func MarshalCBOR(v any) ([]byte, error) { return encMode.Marshal(v) }

// UnmarshalCBOR decodes strict CBOR into v. Anything but the one
// deterministic encoding of a value is an error: duplicate map keys,
// indefinite lengths, tags, non-shortest forms, unsorted maps and trailing
// bytes. Unknown map keys are skipped, so that older readers can read
// records that gained optional fields.
func UnmarshalCBOR(data []byte, v any) error {
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
