// Package library is what the person keeps for themself: notes, photos and
// documents. A note is a record; a photo or document is a record describing
// it and a blob holding its bytes, streamed in and out in chunks so that a
// file of any size fits in the tab's memory.
//
// It is a feature (see package planet/core/session): [Service] answers the
// API over the open vault, and its two sections are its part of the export:
// notes.json with each note as Markdown, and photos.json and documents.json
// with each file's original bytes.
package library

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"planet/core/internal/input"
	"planet/core/session"
	"planet/vault"
)

// The vault collections of the library's records.
const (
	NotesCollection vault.Collection = "notes"
	FilesCollection vault.Collection = "files"
)

// A Note is a piece of text the person keeps.
type Note struct {
	ID      string
	Title   string
	Body    string
	Created time.Time
	Updated time.Time
}

// NoteInput is what a person types for a note.
type NoteInput struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (in NoteInput) check() (NoteInput, error) {
	var err error
	if in.Title, err = session.CheckText("title", in.Title, session.MaxTitleLen, true); err != nil {
		return in, err
	}
	in.Body, err = session.CheckText("body", in.Body, session.MaxTextLen, false)
	return in, err
}

// noteRecord is a note as the vault stores it. Its keys are frozen (see
// package session for the rules of change).
type noteRecord struct {
	id string // the record's id; not stored in it

	Title   string `cbor:"1,keyasint"`
	Body    string `cbor:"2,keyasint,omitempty"`
	Created int64  `cbor:"3,keyasint"`
	Updated int64  `cbor:"4,keyasint"`
}

func (r *noteRecord) note() Note {
	return Note{ID: r.id, Title: r.Title, Body: r.Body, Created: session.Time(r.Created), Updated: session.Time(r.Updated)}
}

// FileKind says whether a file is a photo or a document.
type FileKind string

// The kinds of file.
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
	return "", fmt.Errorf("file kind %q is neither photo nor document: %w", s, input.ErrInvalid)
}

// A File is a photo or a document: its description; its bytes are read
// with [Service.OpenFile].
type File struct {
	ID        string
	Kind      FileKind
	Name      string
	Type      string // MIME type
	Size      int64
	Created   time.Time
	Thumbnail []byte // a small JPEG, for photos
}

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
	if in.Name, err = session.CheckText("file name", in.Name, session.MaxNameLen, true); err != nil {
		return in, err
	}
	if strings.ContainsAny(in.Name, "/\\\x00") {
		return in, fmt.Errorf("file name %q contains a path separator: %w", in.Name, input.ErrInvalid)
	}
	if in.Type, err = session.CheckText("file type", in.Type, 200, false); err != nil {
		return in, err
	}
	if len(in.Thumbnail) > maxThumbnail {
		return in, fmt.Errorf("thumbnail is larger than %d KiB: %w", maxThumbnail>>10, input.ErrInvalid)
	}
	return in, nil
}

// fileRecord is a file's description as the vault stores it. Its keys are
// frozen (see package session for the rules of change).
type fileRecord struct {
	id string // the record's id; not stored in it

	Kind      FileKind      `cbor:"1,keyasint"`
	Name      string        `cbor:"2,keyasint"`
	Type      string        `cbor:"3,keyasint,omitempty"`
	Created   int64         `cbor:"4,keyasint"`
	Blob      vault.BlobRef `cbor:"5,keyasint"`
	Thumbnail []byte        `cbor:"6,keyasint,omitempty"`
}

func (r *fileRecord) file() File {
	return File{ID: r.id, Kind: r.Kind, Name: r.Name, Type: r.Type, Size: r.Blob.Size, Created: session.Time(r.Created), Thumbnail: r.Thumbnail}
}

// Service is the library of the open vault.
type Service struct {
	open session.Opener
}

// New returns the library of the vault that open opens.
func New(open session.Opener) *Service { return &Service{open: open} }

// Notes lists the person's notes, most recently changed first.
func (l *Service) Notes(ctx context.Context) ([]Note, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, err
	}
	recs, err := session.List(ctx, s.Vault, NotesCollection, func(r *noteRecord, id string) { r.id = id })
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Updated > recs[j].Updated })
	out := make([]Note, len(recs))
	for i := range recs {
		out[i] = recs[i].note()
	}
	return out, err
}

// AddNote stores a new note.
func (l *Service) AddNote(ctx context.Context, in NoteInput) (*Note, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	now := session.Millis(s.Now())
	r := &noteRecord{id: vault.NewRecordID(), Title: in.Title, Body: in.Body, Created: now, Updated: now}
	n := r.note()
	return &n, session.Put(ctx, s.Vault, NotesCollection, r.id, r)
}

// UpdateNote replaces a note's title and body.
func (l *Service) UpdateNote(ctx context.Context, id string, in NoteInput) (*Note, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	r, err := session.Get[noteRecord](ctx, s.Vault, NotesCollection, id)
	if err != nil {
		return nil, err
	}
	r.id, r.Title, r.Body, r.Updated = id, in.Title, in.Body, session.Millis(s.Now())
	n := r.note()
	return &n, session.Put(ctx, s.Vault, NotesCollection, id, r)
}

// DeleteNote removes a note.
func (l *Service) DeleteNote(ctx context.Context, id string) error {
	s, err := l.open.Session()
	if err != nil {
		return err
	}
	return session.Delete(ctx, s.Vault, NotesCollection, id)
}

func fileRecords(ctx context.Context, v *vault.Vault) ([]fileRecord, error) {
	return session.List(ctx, v, FilesCollection, func(r *fileRecord, id string) { r.id = id })
}

// Files lists photos or documents (kind "" lists both), newest first.
func (l *Service) Files(ctx context.Context, kind FileKind) ([]File, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, err
	}
	all, err := fileRecords(ctx, s.Vault)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(all))
	for i := range all {
		if kind == "" || all[i].Kind == kind {
			out = append(out, all[i].file())
		}
	}
	sortNewestFirst(out)
	return out, nil
}

func sortNewestFirst(files []File) {
	sort.SliceStable(files, func(i, j int) bool { return files[i].Created.After(files[j].Created) })
}

// AddFile streams r into the vault as a new photo or document. progress,
// if set, receives the bytes stored so far.
func (l *Service) AddFile(ctx context.Context, r io.Reader, in FileInput, progress func(done int64)) (*File, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	v := s.Vault
	ref, err := v.WriteBlob(ctx, r, progress)
	if err != nil {
		return nil, err
	}
	rec := &fileRecord{id: vault.NewRecordID(), Kind: in.Kind, Name: in.Name, Type: in.Type, Created: session.Millis(s.Now()), Blob: ref, Thumbnail: in.Thumbnail}
	b, err := vault.MarshalCBOR(rec)
	if err != nil {
		return nil, err
	}
	err = v.Update(ctx, func(tx *vault.Tx) error { tx.Put(FilesCollection, rec.id, b); return nil })
	if err != nil {
		v.Update(context.WithoutCancel(ctx), func(tx *vault.Tx) error { tx.DeleteBlob(ref); return nil })
		return nil, err
	}
	f := rec.file()
	return &f, nil
}

func (l *Service) fileRecord(ctx context.Context, id string) (*session.Session, *fileRecord, error) {
	s, err := l.open.Session()
	if err != nil {
		return nil, nil, err
	}
	r, err := session.Get[fileRecord](ctx, s.Vault, FilesCollection, id)
	if err != nil {
		return nil, nil, err
	}
	r.id = id
	return s, r, nil
}

// File returns one file's description.
func (l *Service) File(ctx context.Context, id string) (*File, error) {
	_, r, err := l.fileRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	f := r.file()
	return &f, nil
}

// OpenFile returns a file's description and a reader of its bytes.
func (l *Service) OpenFile(ctx context.Context, id string) (*File, *vault.BlobReader, error) {
	s, r, err := l.fileRecord(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	f := r.file()
	br, err := s.Vault.OpenBlob(ctx, r.Blob)
	return &f, br, err
}

// DeleteFile removes a file's description and its bytes, atomically.
func (l *Service) DeleteFile(ctx context.Context, id string) error {
	s, r, err := l.fileRecord(ctx, id)
	if err != nil {
		return err
	}
	return s.Vault.Update(ctx, func(tx *vault.Tx) error {
		tx.Delete(FilesCollection, id)
		tx.DeleteBlob(r.Blob)
		return nil
	})
}

// Count adds the person's notes, photos and documents to c.
func (l *Service) Count(ctx context.Context, c *session.Counts) error {
	s, err := l.open.Session()
	if err != nil {
		return err
	}
	if c.Notes, err = s.Vault.Count(ctx, NotesCollection); err != nil {
		return err
	}
	files, err := fileRecords(ctx, s.Vault)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Kind == Photo {
			c.Photos++
		} else {
			c.Documents++
		}
	}
	return nil
}

// Sweep removes the chunks of files whose upload never finished (the tab
// closed mid-way). Package core runs it while unlocking, before the page can
// start an upload of its own, and the page holds the vault alone (wasm/
// takes a Web Lock), so no upload in progress can be mistaken for debris. It
// is housekeeping: if it fails, the debris waits for the next unlock.
func Sweep(ctx context.Context, v *vault.Vault) {
	recs, err := v.List(ctx, FilesCollection)
	if err != nil {
		return
	}
	live := make([]vault.BlobRef, 0, len(recs))
	for _, r := range recs {
		var f fileRecord
		if vault.UnmarshalCBOR(r.Data, &f) != nil {
			return // never sweep on a partial view of what is live
		}
		live = append(live, f.Blob)
	}
	v.SweepBlobs(ctx, live)
}
