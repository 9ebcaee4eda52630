package core

import (
	"testing"

	"planet/core/session/sessiontest"
	"planet/vault"
)

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
			sessiontest.RoundTrip[Settings](t, rest)
		case 1:
			sessiontest.RoundTrip[identityRecord](t, rest)
		}
	})
}
