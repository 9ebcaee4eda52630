package core

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"filippo.io/age"

	"planet/core/contacts"
	"planet/core/library"
	"planet/vault"
	"planet/vault/mem"
)

var fuzzOpts = Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}}

// exportArchive returns the decrypted archive of a small real export.
func exportArchive(f *testing.F) []byte {
	ctx := context.Background()
	p, err := Open(ctx, mem.New(), fuzzOpts)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := p.Create(ctx, "violet tugboat umbrella quince"); err != nil {
		f.Fatal(err)
	}
	p.Contacts().Add(ctx, contacts.Input{Name: "Ada", Notes: "hi"})
	p.Library().AddNote(ctx, library.NoteInput{Title: "T", Body: "B"})
	p.Library().AddFile(ctx, bytes.NewReader([]byte("photo bytes")), library.FileInput{Kind: library.Photo, Name: "p.jpg", Type: "image/jpeg"}, nil)
	var buf bytes.Buffer
	if err := p.Export(ctx, &buf, "harbour lights at eleven", nil); err != nil {
		f.Fatal(err)
	}
	id, _ := age.NewScryptIdentity("harbour lights at eleven")
	r, err := age.Decrypt(&buf, id)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	return b
}

// FuzzImportArchive feeds the archive reader of an import (what lies inside
// the age layer) with mutations of a real export. Whatever the input, it
// must not panic, and a refused archive must leave the store empty and no
// vault behind.
func FuzzImportArchive(f *testing.F) {
	seed := exportArchive(f)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	var onlyManifest bytes.Buffer
	tw := tar.NewWriter(&onlyManifest)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Size: 2, Mode: 0o600})
	tw.Write([]byte("{}"))
	tw.Close()
	f.Add(onlyManifest.Bytes())
	f.Fuzz(func(t *testing.T, archive []byte) {
		ctx := context.Background()
		s := mem.New()
		p, err := Open(ctx, s, fuzzOpts)
		if err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		_, _, err = p.restoreLocked(ctx, bytes.NewReader(archive), "violet tugboat umbrella quince")
		p.mu.Unlock()
		if err != nil {
			if s.Len() != 0 || p.State() != StateNone {
				t.Fatalf("refused archive (%v) left %d keys, state %s", err, s.Len(), p.State())
			}
			if !errors.Is(err, ErrBadExport) {
				t.Fatalf("refusal is not ErrBadExport: %v", err)
			}
			return
		}
		if p.State() != StateUnlocked {
			t.Fatalf("accepted archive left state %s", p.State())
		}
	})
}
