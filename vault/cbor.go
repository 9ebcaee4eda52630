package vault

import "planet/core/cbor"

// MarshalCBOR encodes v in core deterministic CBOR (see package
// planet/core/cbor). Packages that store records in a vault use it so that
// their records follow the vault's rules.
func MarshalCBOR(v any) ([]byte, error) { return cbor.Marshal(v) }

// UnmarshalCBOR decodes strict CBOR into v: anything but the one
// deterministic encoding of a value is an error (see package
// planet/core/cbor). Unknown map keys are skipped, so that older readers can
// read records that gained optional fields.
func UnmarshalCBOR(data []byte, v any) error { return cbor.Unmarshal(data, v) }
