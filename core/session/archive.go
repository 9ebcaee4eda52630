package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"planet/core/identity"
	"planet/vault"
)

// ErrBadExport: an import file is not a PLANET export, is damaged or
// truncated, or the passphrase does not decrypt it. Sections wrap it with
// [BadExport].
var ErrBadExport = errors.New("not a readable PLANET export")

// BadExport wraps ErrBadExport with a message a person can act on.
func BadExport(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrBadExport)
}

// Counts says how many records of each kind a vault or an export holds: the
// counts of an export's manifest. Each section counts its own kinds.
type Counts struct {
	Contacts  int `json:"contacts"`
	Notes     int `json:"notes"`
	Photos    int `json:"photos"`
	Documents int `json:"documents"`
	// Credentials counts relationship credentials, own and shared.
	Credentials int `json:"credentials"`
	// Messages counts chat messages, sent and received.
	Messages int `json:"messages"`
}

// A Section is one part of the export archive (docs/export-format.md): a
// few entries that one feature writes and reads back. A feature may own
// several sections; the archive holds them in the order package core lists
// them, which is the documented order of the entries.
type Section interface {
	// Export writes the section's entries and counts what it wrote.
	Export(ctx context.Context, s *Session, w *Writer) error
	// Import starts reading the section back for one import.
	Import() SectionImport
}

// A SectionImport reads one section of one archive into a new vault: it is
// handed the entries it claims as they come, then restores what it read.
type SectionImport interface {
	// Claims reports whether the section reads the entry called name.
	Claims(name string) bool
	// Entry reads an entry the section claims. Its errors should wrap
	// ErrBadExport when the entry is at fault.
	Entry(ctx context.Context, e Entry) error
	// Restore writes what the section read into the new vault, in the one
	// update that makes the whole import, and adds what it restored to
	// counts. It refuses, wrapping ErrBadExport, what it cannot restore.
	Restore(tx *vault.Tx, id *identity.Identity, counts *Counts) error
}

// Entry is one entry of an archive being imported.
type Entry struct {
	Name string
	Size int64
	Body io.Reader
	// Vault is the vault being filled, for entries whose bytes go into a
	// blob as they are read; records go in through Restore.
	Vault *vault.Vault
}

// MaxJSONEntry bounds one JSON entry of an import, so a hostile file cannot
// make the tab allocate without limit.
const MaxJSONEntry = 64 << 20

// JSON decodes the entry, a JSON document, into v.
func (e Entry) JSON(v any) error {
	if e.Size > MaxJSONEntry {
		return BadExport("%s is too large (%d bytes)", e.Name, e.Size)
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, MaxJSONEntry))
	if err != nil {
		return Damaged(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return BadExport("%s is malformed: %v", e.Name, err)
	}
	return nil
}

// Damaged reports a failure to read the archive: in an authenticated age
// stream that means the file was cut short or altered.
func Damaged(err error) error {
	return BadExport("the export file is damaged or incomplete (%v)", err)
}

// Writer collects the entries of an export: small entries in memory, in
// the order written, and the files whose bytes follow them all.
type Writer struct {
	Counts  Counts
	entries []WriterEntry
	files   []File
	taken   map[string]bool
	err     error
}

// WriterEntry is an entry written to a [Writer].
type WriterEntry struct {
	Name string
	Body []byte
}

// File is a file of the archive, written after every other entry, in the
// order given.
type File struct {
	Path    string
	Size    int64
	Created time.Time
	Blob    vault.BlobRef
}

// JSON writes v, indented, as the entry name.
func (w *Writer) JSON(name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		w.err = errors.Join(w.err, err)
		return
	}
	w.Bytes(name, append(b, '\n'))
}

// Bytes writes b as the entry name.
func (w *Writer) Bytes(name string, b []byte) {
	w.entries = append(w.entries, WriterEntry{name, b})
}

// File adds a file whose bytes are the blob ref, to be written after
// every other entry.
func (w *Writer) File(f File) { w.files = append(w.files, f) }

// UniquePath returns dir/name, or dir/"name (2).ext" and so on if another
// entry of the archive took it.
func (w *Writer) UniquePath(dir, name string) string {
	if w.taken == nil {
		w.taken = map[string]bool{}
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	p := dir + "/" + name
	for i := 2; w.taken[p]; i++ {
		p = fmt.Sprintf("%s/%s (%d)%s", dir, base, i, ext)
	}
	w.taken[p] = true
	return p
}

// Entries returns what was written: the entries, then the files, and the
// first error in marshalling an entry.
func (w *Writer) Entries() ([]WriterEntry, []File, error) { return w.entries, w.files, w.err }

// RestoreRecord encodes rec and puts it in tx as record id of collection c,
// refusing an id that is not a record id: the archive names its records.
func RestoreRecord(tx *vault.Tx, c vault.Collection, id string, rec any) error {
	if !vault.ValidRecordID(id) {
		return BadExport("%s: %q is not a record id", c, id)
	}
	b, err := vault.MarshalCBOR(rec)
	if err != nil {
		return err
	}
	tx.Put(c, id, b)
	return nil
}
