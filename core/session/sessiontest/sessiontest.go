// Package sessiontest opens real sessions for the tests of features: a
// vault in memory (with a key derivation cheap enough for tests), an
// identity from a fixed seed, and a clock the test moves.
package sessiontest

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
	"planet/vault/mem"
)

// Opener is a [session.Opener] over an open vault in memory. Lock makes it
// answer vault.ErrLocked, as a locked PLANET would.
type Opener struct {
	S      *session.Session
	Clock  time.Time
	locked bool
}

var _ session.Opener = (*Opener)(nil)

// Open makes a vault in memory and an identity from seed byte b, with the
// clock at 2026-11-01 12:00 UTC.
func Open(tb testing.TB, b byte) *Opener {
	tb.Helper()
	ctx := context.Background()
	o := &Opener{Clock: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	now := func() time.Time { return o.Clock }
	v, err := vault.Create(ctx, mem.New(), "violet tugboat umbrella quince",
		vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	id, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	o.S = &session.Session{Vault: v, Identity: id, Now: now, Rand: bytes.NewReader(bytes.Repeat([]byte{b}, 1<<16))}
	return o
}

// Session returns the session, or vault.ErrLocked after Lock.
func (o *Opener) Session() (*session.Session, error) {
	if o.locked {
		return nil, vault.ErrLocked
	}
	return o.S, nil
}

// Lock makes Session refuse.
func (o *Opener) Lock() { o.locked = true }

// RoundTrip is the check every record type's fuzzer makes: whatever b
// decodes to as a T re-encodes to bytes that decode to the same value and
// encode again to the same bytes (bytes that do not decode are no failure).
func RoundTrip[T any](t *testing.T, b []byte) {
	t.Helper()
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
