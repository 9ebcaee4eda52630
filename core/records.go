package core

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"planet/core/did"
	"planet/vault"
)

// The vault collections PLANET keeps its records in.
const (
	colIdentity vault.Collection = "identity"
	colSettings vault.Collection = "settings"
	colContacts vault.Collection = "contacts"
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

// A Contact is someone the person knows.
type Contact struct {
	ID      string `cbor:"-" json:"id"`
	Name    string `cbor:"1,keyasint" json:"name"`
	DID     string `cbor:"2,keyasint,omitempty" json:"did"`
	Notes   string `cbor:"3,keyasint,omitempty" json:"notes"`
	Created int64  `cbor:"4,keyasint" json:"-"`
	Updated int64  `cbor:"5,keyasint" json:"-"`

	// What the trust network knows of the contact; all empty for a contact
	// the person typed in by hand.

	// Relays are the relay multiaddrs at which the contact is reached.
	Relays []string `cbor:"6,keyasint,omitempty" json:"relays,omitempty"`
	// Origin says how the two came to be connected: [OriginInvitedMe],
	// [OriginInvitedByMe] or [OriginIntroduced]; empty for one typed in.
	Origin string `cbor:"7,keyasint,omitempty" json:"origin,omitempty"`
	// IntroducedBy is the DID of whoever introduced them, for
	// OriginIntroduced.
	IntroducedBy string `cbor:"8,keyasint,omitempty" json:"introducedBy,omitempty"`
	// Connected is when the two exchanged relationship credentials, in
	// Unix milliseconds; 0 if they have not.
	Connected int64 `cbor:"9,keyasint,omitempty" json:"connected,omitempty"`
	// SharingGraph is whether the person shares their relationships with
	// this contact (opt-in, per contact, revocable).
	SharingGraph bool `cbor:"10,keyasint,omitempty" json:"sharingGraph,omitempty"`
}

// How a contact came to be connected; see [Contact.Origin].
const (
	OriginInvitedMe   = "invited-me"    // they invited the person: the first link of the person's chain of trust
	OriginInvitedByMe = "invited-by-me" // the person invited them
	OriginIntroduced  = "introduced"    // someone introduced the two
)

// ContactInput is what a person types for a contact.
type ContactInput struct {
	Name  string `json:"name"`
	DID   string `json:"did"`
	Notes string `json:"notes"`
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

func (in ContactInput) check() (ContactInput, error) {
	var err error
	if in.Name, err = checkText("name", in.Name, maxNameLen, true); err != nil {
		return in, err
	}
	if in.Notes, err = checkText("notes", in.Notes, maxTextLen, false); err != nil {
		return in, err
	}
	if in.DID = strings.TrimSpace(in.DID); in.DID != "" {
		d, err := did.Parse(in.DID)
		if err != nil {
			return in, fmt.Errorf("%w: %w", err, ErrInvalid)
		}
		in.DID = d.String()
	}
	return in, nil
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
