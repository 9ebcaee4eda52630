package core

import (
	"bytes"
	"reflect"
	"testing"

	"planet/vault"
)

// recordRoundTrip decodes b as a T; whatever decodes must re-encode to bytes
// that decode to the same value and encode again to the same bytes.
func recordRoundTrip[T any](t *testing.T, b []byte) {
	var x T
	if vault.UnmarshalCBOR(b, &x) != nil {
		return
	}
	enc, err := vault.MarshalCBOR(x)
	if err != nil {
		t.Fatalf("re-encoding %x: %v", b, err)
	}
	var y T
	if err := vault.UnmarshalCBOR(enc, &y); err != nil {
		t.Fatalf("re-encoding of %x does not decode: %v", b, err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("%x decodes to %+v, re-encoded to %+v", b, x, y)
	}
	if enc2, _ := vault.MarshalCBOR(y); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding of %x is not stable", b)
	}
}

// FuzzDecodeRecords covers the decoders of every record type core keeps in
// the vault (each feature package fuzzes its own). The first byte picks the type.
func FuzzDecodeRecords(f *testing.F) {
	seeds := []any{
		Settings{AutoLockMinutes: 15},
		identityRecord{Seed: make([]byte, 32), Created: 1},
	}
	for i, s := range seeds {
		enc, err := vault.MarshalCBOR(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(i)}, enc...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		switch rest := b[1:]; b[0] % 2 {
		case 0:
			recordRoundTrip[Settings](t, rest)
		case 1:
			recordRoundTrip[identityRecord](t, rest)
		}
	})
}
