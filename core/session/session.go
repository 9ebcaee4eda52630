// Package session is what a feature of PLANET gets while the person's vault
// is open: the vault, the identity, the clock and the source of randomness
// ([Session]), typed access to the feature's records ([Get], [List], [Put],
// [Delete]), the checks every record's text goes through ([CheckText]), and
// the feature's part of the export archive ([Section]).
//
// A feature is a package built on a session: it keeps its records in its own
// vault collections, answers its own API, and contributes its own sections
// to export and import. It never reaches into another feature's records
// except through that feature's exported calls. Package core wires the
// features together and owns the vault's lifecycle (create, unlock, lock).
//
// # Records
//
// Records are CBOR with small integer keys (core deterministic encoding, see
// package planet/core/cbor, through vault.MarshalCBOR). Change rules for
// every record type: a key number is never reused for another meaning;
// fields added later are optional, and readers skip keys they do not know.
// Times are Unix milliseconds ([Millis], [Time]). A record type is the
// stored form only: the Go API and the page's JSON have types of their own.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"planet/core/identity"
	"planet/core/internal/input"
	"planet/vault"
)

// Session is the open vault and what goes with it. It is valid until the
// vault locks; a feature asks its [Opener] for the session of the moment at
// each call rather than keeping one.
type Session struct {
	Vault    *vault.Vault
	Identity *identity.Identity
	Now      func() time.Time
	Rand     io.Reader
}

// An Opener gives the session of the moment, or an error wrapping
// vault.ErrLocked or vault.ErrNoVault when the vault is not open.
type Opener interface {
	Session() (*Session, error)
}

// List decodes every record of collection c; setID gives each its id.
func List[T any](ctx context.Context, v *vault.Vault, c vault.Collection, setID func(*T, string)) ([]T, error) {
	recs, err := v.List(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(recs))
	for _, r := range recs {
		var t T
		if err := vault.UnmarshalCBOR(r.Data, &t); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", c, r.ID, errors.Join(vault.ErrCorrupt, err))
		}
		setID(&t, r.ID)
		out = append(out, t)
	}
	return out, nil
}

// Get decodes the record id of collection c. It refuses an id that is not a
// record id with an error wrapping input.ErrInvalid, and returns
// vault.ErrNotFound for one the collection does not hold.
func Get[T any](ctx context.Context, v *vault.Vault, c vault.Collection, id string) (*T, error) {
	if !vault.ValidRecordID(id) {
		return nil, fmt.Errorf("%q is not a record id: %w", id, input.ErrInvalid)
	}
	b, err := v.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var t T
	if err := vault.UnmarshalCBOR(b, &t); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", c, id, errors.Join(vault.ErrCorrupt, err))
	}
	return &t, nil
}

// Put encodes rec and stores it as record id of collection c.
func Put(ctx context.Context, v *vault.Vault, c vault.Collection, id string, rec any) error {
	b, err := vault.MarshalCBOR(rec)
	if err != nil {
		return err
	}
	return v.Put(ctx, c, id, b)
}

// Delete removes record id of collection c, returning vault.ErrNotFound if
// there is none.
func Delete(ctx context.Context, v *vault.Vault, c vault.Collection, id string) error {
	if !vault.ValidRecordID(id) {
		return fmt.Errorf("%q is not a record id: %w", id, input.ErrInvalid)
	}
	if _, err := v.Get(ctx, c, id); err != nil {
		return err
	}
	return v.Delete(ctx, c, id)
}

// Limits on what a person types, so that one record stays small.
const (
	MaxNameLen  = 200
	MaxTextLen  = 1 << 20
	MaxTitleLen = 300
)

// CheckText checks what a person typed for field: valid UTF-8, at most max
// bytes, and when required, not empty once trimmed (it returns the trimmed
// text then). Its errors wrap input.ErrInvalid and name the field.
func CheckText(field, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%s is not valid text: %w", field, input.ErrInvalid)
	}
	if required {
		s = strings.TrimSpace(s)
		if s == "" {
			return "", fmt.Errorf("%s is required: %w", field, input.ErrInvalid)
		}
	}
	if len(s) > max {
		return "", fmt.Errorf("%s is longer than %d bytes: %w", field, max, input.ErrInvalid)
	}
	return s, nil
}

// Millis is t as a record stores it: Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts a record's Unix milliseconds to a time, in UTC.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
