package library

import (
	"context"
	"errors"
	"strings"
	"time"

	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
)

// noteExport is a note in notes.json (docs/export-format.md).
type noteExport struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// fileExport is a file in photos.json or documents.json.
type fileExport struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Size      int64     `json:"size"`
	Created   time.Time `json:"created"`
	Path      string    `json:"path"`
	Thumbnail []byte    `json:"thumbnail,omitempty"`
}

// NotesSection is notes.json, read back on import, and each note as
// Markdown under notes/, for reading anywhere.
func (l *Service) NotesSection() session.Section { return notesSection{l} }

type notesSection struct{ l *Service }

func (sec notesSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	notes, err := sec.l.Notes(ctx)
	if err != nil {
		return err
	}
	out := make([]noteExport, len(notes))
	for i, n := range notes {
		out[i] = noteExport{n.ID, n.Title, n.Body, n.Created, n.Updated}
	}
	w.JSON("notes.json", out)
	for _, n := range notes {
		w.Bytes(w.UniquePath("notes", safeName(n.Title)+".md"), []byte("# "+n.Title+"\n\n"+n.Body+"\n"))
	}
	w.Counts.Notes = len(notes)
	return nil
}

func (notesSection) Import() session.SectionImport { return &notesImport{} }

type notesImport struct{ notes []noteExport }

func (im *notesImport) Claims(name string) bool { return name == "notes.json" }

func (im *notesImport) Entry(_ context.Context, e session.Entry) error { return e.JSON(&im.notes) }

func (im *notesImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for _, n := range im.notes {
		in, err := NoteInput{Title: n.Title, Body: n.Body}.check()
		if err != nil {
			return session.BadExport("note %q: %v", n.Title, err)
		}
		rec := noteRecord{Title: in.Title, Body: in.Body, Created: session.Millis(n.Created), Updated: session.Millis(n.Updated)}
		if err := session.RestoreRecord(tx, NotesCollection, n.ID, rec); err != nil {
			return err
		}
	}
	counts.Notes = len(im.notes)
	return nil
}

// safeName makes a note title usable as a file name.
func safeName(title string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune("/\\:*?\"<>|\x00", r) || r < 0x20 {
			return '-'
		}
		return r
	}, title)
	if s = strings.TrimSpace(s); s == "" || s == "." || s == ".." {
		s = "note"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// FilesSection is photos.json and documents.json, then each file's
// original bytes under photos/ and documents/, after every other entry of
// the archive.
func (l *Service) FilesSection() session.Section { return filesSection{l} }

type filesSection struct{ l *Service }

func (sec filesSection) Export(ctx context.Context, s *session.Session, w *session.Writer) error {
	recs, err := fileRecords(ctx, s.Vault)
	if err != nil {
		return err
	}
	// In the order the person sees them: newest first.
	files := make([]File, len(recs))
	blobs := map[string]vault.BlobRef{}
	for i := range recs {
		files[i] = recs[i].file()
		blobs[recs[i].id] = recs[i].Blob
	}
	sortNewestFirst(files)
	photos, documents := []fileExport{}, []fileExport{}
	var kinds [2][]session.File
	for _, f := range files {
		fe := fileExport{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Created: f.Created, Thumbnail: f.Thumbnail}
		i := 0
		if f.Kind == Photo {
			fe.Path = w.UniquePath("photos", f.Name)
			photos = append(photos, fe)
		} else {
			i = 1
			fe.Path = w.UniquePath("documents", f.Name)
			documents = append(documents, fe)
		}
		kinds[i] = append(kinds[i], session.File{Path: fe.Path, Size: fe.Size, Created: fe.Created, Blob: blobs[f.ID]})
	}
	w.JSON("photos.json", photos)
	w.JSON("documents.json", documents)
	for _, list := range kinds {
		for _, f := range list {
			w.File(f)
		}
	}
	w.Counts.Photos, w.Counts.Documents = len(photos), len(documents)
	return nil
}

func (filesSection) Import() session.SectionImport {
	return &filesImport{described: map[string]fileExport{}, kinds: map[string]FileKind{}}
}

type filesImport struct {
	described map[string]fileExport // by path, waiting for their bytes
	kinds     map[string]FileKind
	records   []fileRecord
}

func (im *filesImport) Claims(name string) bool {
	return name == "photos.json" || name == "documents.json" ||
		strings.HasPrefix(name, "photos/") || strings.HasPrefix(name, "documents/")
}

func (im *filesImport) Entry(ctx context.Context, e session.Entry) error {
	name := e.Name
	if name == "photos.json" || name == "documents.json" {
		var list []fileExport
		if err := e.JSON(&list); err != nil {
			return err
		}
		kind := Photo
		if name == "documents.json" {
			kind = Document
		}
		for _, fe := range list {
			if _, dup := im.described[fe.Path]; dup || !vault.ValidRecordID(fe.ID) {
				return session.BadExport("%s: entry %q is malformed or repeated", name, fe.ID)
			}
			im.described[fe.Path], im.kinds[fe.Path] = fe, kind
		}
		return nil
	}
	fe, ok := im.described[name]
	if !ok {
		return nil // not described: not ours to restore
	}
	if e.Size != fe.Size {
		return session.BadExport("%s is %d bytes, but its description says %d", name, e.Size, fe.Size)
	}
	in, err := FileInput{Kind: im.kinds[name], Name: fe.Name, Type: fe.Type, Thumbnail: fe.Thumbnail}.check()
	if err != nil {
		return session.BadExport("%s: %v", name, err)
	}
	ref, err := e.Vault.WriteBlob(ctx, e.Body, nil)
	if err != nil {
		if errors.Is(err, session.ErrBadExport) {
			return err
		}
		return session.Damaged(err)
	}
	if ref.Size != fe.Size {
		return session.BadExport("%s ended after %d of %d bytes", name, ref.Size, fe.Size)
	}
	im.records = append(im.records, fileRecord{id: fe.ID, Kind: in.Kind, Name: in.Name, Type: in.Type, Created: session.Millis(fe.Created), Blob: ref, Thumbnail: in.Thumbnail})
	delete(im.described, name)
	return nil
}

func (im *filesImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for path := range im.described {
		return session.BadExport("%s is described but missing", path)
	}
	for _, f := range im.records {
		if err := session.RestoreRecord(tx, FilesCollection, f.id, f); err != nil {
			return err
		}
		if f.Kind == Photo {
			counts.Photos++
		} else {
			counts.Documents++
		}
	}
	return nil
}
