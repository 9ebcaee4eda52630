package library

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"planet/core/internal/input"
	"planet/core/session"
	"planet/core/session/sessiontest"
	"planet/vault"
)

func TestNotes(t *testing.T) {
	ctx := context.Background()
	o := sessiontest.Open(t, 1)
	l := New(o)
	a := must(l.AddNote(ctx, NoteInput{Title: " Ideas ", Body: "Analytical engine"}))
	o.Clock = o.Clock.Add(time.Minute)
	must(l.AddNote(ctx, NoteInput{Title: "Later"}))
	if _, err := l.AddNote(ctx, NoteInput{Title: "  "}); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("a note without a title: %v", err)
	}
	o.Clock = o.Clock.Add(time.Minute)
	u := must(l.UpdateNote(ctx, a.ID, NoteInput{Title: "Ideas", Body: "Difference engine"}))
	if u.Title != "Ideas" || u.Body != "Difference engine" || !u.Created.Equal(a.Created) || !u.Updated.Equal(o.Clock) {
		t.Errorf("UpdateNote = %+v", u)
	}
	notes := must(l.Notes(ctx))
	if len(notes) != 2 || notes[0].ID != a.ID {
		t.Errorf("Notes = %+v, want the one changed last first", notes)
	}
	if err := l.DeleteNote(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := l.UpdateNote(ctx, a.ID, NoteInput{Title: "gone"}); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("updating a deleted note: %v", err)
	}
}

func TestFiles(t *testing.T) {
	ctx := context.Background()
	o := sessiontest.Open(t, 1)
	l := New(o)
	photo := bytes.Repeat([]byte("jpeg"), 100_000)
	var last int64
	p := must(l.AddFile(ctx, bytes.NewReader(photo), FileInput{Kind: Photo, Name: "beach.jpg", Type: "image/jpeg", Thumbnail: []byte{1}}, func(n int64) { last = n }))
	if p.Size != int64(len(photo)) || last != p.Size || p.Kind != Photo {
		t.Errorf("AddFile = %+v, progress %d", p, last)
	}
	o.Clock = o.Clock.Add(time.Minute)
	d := must(l.AddFile(ctx, bytes.NewReader([]byte("%PDF")), FileInput{Kind: Document, Name: "lease.pdf"}, nil))
	for _, bad := range []FileInput{{Kind: "video", Name: "x"}, {Kind: Photo, Name: "a/b.jpg"}, {Kind: Photo, Name: "big.jpg", Thumbnail: make([]byte, maxThumbnail+1)}} {
		if _, err := l.AddFile(ctx, bytes.NewReader(nil), bad, nil); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("AddFile(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if all := must(l.Files(ctx, "")); len(all) != 2 || all[0].ID != d.ID {
		t.Errorf("Files = %+v, want the newest first", all)
	}
	if photos := must(l.Files(ctx, Photo)); len(photos) != 1 || photos[0].ID != p.ID {
		t.Errorf("Files(photo) = %+v", photos)
	}
	f, r, err := l.OpenFile(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for {
		chunk, err := r.NextChunk()
		got.Write(chunk)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), photo) || f.Name != "beach.jpg" {
		t.Errorf("OpenFile read %d bytes of %s", got.Len(), f.Name)
	}
	var counts session.Counts
	if err := l.Count(ctx, &counts); err != nil {
		t.Fatal(err)
	}
	if counts.Photos != 1 || counts.Documents != 1 || counts.Notes != 0 {
		t.Errorf("Count = %+v", counts)
	}
	if err := l.DeleteFile(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.OpenFile(ctx, p.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("opening a deleted file: %v", err)
	}
}

func FuzzDecodeRecords(f *testing.F) {
	for _, rec := range []any{
		noteRecord{Title: "T", Body: "B", Created: 1, Updated: 2},
		fileRecord{Kind: Photo, Name: "p.jpg", Type: "image/jpeg", Created: 1, Blob: vault.BlobRef{ID: make([]byte, 16), Key: make([]byte, 32), Size: 3, ChunkSize: vault.ChunkSize}, Thumbnail: []byte{1}},
	} {
		enc := must(vault.MarshalCBOR(rec))
		_, isFile := rec.(fileRecord)
		f.Add(isFile, enc)
	}
	f.Fuzz(func(t *testing.T, isFile bool, b []byte) {
		if isFile {
			sessiontest.RoundTrip[fileRecord](t, b)
		} else {
			sessiontest.RoundTrip[noteRecord](t, b)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
