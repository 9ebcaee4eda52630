package core

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"planet/vault"
)

// The vault collections PLANET keeps its records in.
const (
	colIdentity vault.Collection = "identity"
	colSettings vault.Collection = "settings"
	colNotes    vault.Collection = "notes"
	colFiles    vault.Collection = "files"
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
	if _, err := checkText("your name", s.Name, maxNameLen, false); err != nil {
		return err
	}
	return nil
}

// Limits on what a person types, so that one record stays small.
const (
	maxNameLen  = 200
	maxTextLen  = 1 << 20
	maxTitleLen = 300
)

func checkText(field, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%s is not valid text: %w", field, ErrInvalid)
	}
	if required {
		s = strings.TrimSpace(s)
		if s == "" {
			return "", fmt.Errorf("%s is required: %w", field, ErrInvalid)
		}
	}
	if len(s) > max {
		return "", fmt.Errorf("%s is longer than %d bytes: %w", field, max, ErrInvalid)
	}
	return s, nil
}

// A Note is a piece of text the person keeps.
type Note struct {
	ID      string `cbor:"-" json:"id"`
	Title   string `cbor:"1,keyasint" json:"title"`
	Body    string `cbor:"2,keyasint,omitempty" json:"body"`
	Created int64  `cbor:"3,keyasint" json:"-"`
	Updated int64  `cbor:"4,keyasint" json:"-"`
}

// NoteInput is what a person types for a note.
type NoteInput struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (in NoteInput) check() (NoteInput, error) {
	var err error
	if in.Title, err = checkText("title", in.Title, maxTitleLen, true); err != nil {
		return in, err
	}
	in.Body, err = checkText("body", in.Body, maxTextLen, false)
	return in, err
}

// FileKind says whether a file is a photo or a document.
type FileKind string

const (
	Photo    FileKind = "photo"
	Document FileKind = "document"
)

// ParseFileKind checks a file kind.
func ParseFileKind(s string) (FileKind, error) {
	switch k := FileKind(s); k {
	case Photo, Document:
		return k, nil
	}
	return "", fmt.Errorf("file kind %q is neither photo nor document: %w", s, ErrInvalid)
}

// A File is a photo or document's description; its bytes are a blob.
type File struct {
	ID        string        `cbor:"-" json:"id"`
	Kind      FileKind      `cbor:"1,keyasint" json:"kind"`
	Name      string        `cbor:"2,keyasint" json:"name"`
	Type      string        `cbor:"3,keyasint,omitempty" json:"type"`
	Created   int64         `cbor:"4,keyasint" json:"-"`
	Blob      vault.BlobRef `cbor:"5,keyasint" json:"-"`
	Thumbnail []byte        `cbor:"6,keyasint,omitempty" json:"-"` // a small JPEG, for photos
}

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.Blob.Size }

// FileInput describes a file being added.
type FileInput struct {
	Kind      FileKind
	Name      string
	Type      string // MIME type
	Thumbnail []byte
}

// maxThumbnail bounds a preview image kept inside a record.
const maxThumbnail = 256 << 10

func (in FileInput) check() (FileInput, error) {
	var err error
	if in.Kind, err = ParseFileKind(string(in.Kind)); err != nil {
		return in, err
	}
	if in.Name, err = checkText("file name", in.Name, maxNameLen, true); err != nil {
		return in, err
	}
	if strings.ContainsAny(in.Name, "/\\\x00") {
		return in, fmt.Errorf("file name %q contains a path separator: %w", in.Name, ErrInvalid)
	}
	if in.Type, err = checkText("file type", in.Type, 200, false); err != nil {
		return in, err
	}
	if len(in.Thumbnail) > maxThumbnail {
		return in, fmt.Errorf("thumbnail is larger than %d KiB: %w", maxThumbnail>>10, ErrInvalid)
	}
	return in, nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts a record's Unix milliseconds to a time.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
