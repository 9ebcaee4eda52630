package core

import (
	"fmt"
	"time"

	"planet/core/session"
	"planet/vault"
)

// The vault collections PLANET keeps its records in.
const (
	colIdentity vault.Collection = "identity"
	colSettings vault.Collection = "settings"
)

// Records are CBOR with small integer keys (core deterministic encoding,
// via vault.MarshalCBOR). Change rules for every record type here: a key
// number is never reused for another meaning; fields added later are
// optional, and readers skip keys they do not know. Times are Unix
// milliseconds.

// identityRecord holds the person's signing key. It never leaves the vault
// except in an export the person asks for.
type identityRecord struct {
	Seed    []byte `cbor:"1,keyasint"`
	Created int64  `cbor:"2,keyasint"`
}

// Settings are the person's preferences.
type Settings struct {
	// AutoLockMinutes of inactivity lock the vault; 0 means never.
	AutoLockMinutes int `cbor:"1,keyasint" json:"autoLockMinutes"`
	// Name is how the person calls themself to the people they connect
	// with; empty until they give one.
	Name string `cbor:"2,keyasint,omitempty" json:"name"`
}

// DefaultSettings apply until the person changes them.
var DefaultSettings = Settings{AutoLockMinutes: 15}

// MaxAutoLockMinutes is a week: longer than that is "never", which is 0.
const MaxAutoLockMinutes = 7 * 24 * 60

func (s Settings) check() error {
	if s.AutoLockMinutes < 0 || s.AutoLockMinutes > MaxAutoLockMinutes {
		return fmt.Errorf("auto-lock must be between 0 (never) and %d minutes: %w", MaxAutoLockMinutes, ErrInvalid)
	}
	if _, err := session.CheckText("your name", s.Name, session.MaxNameLen, false); err != nil {
		return err
	}
	return nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts a record's Unix milliseconds to a time.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
