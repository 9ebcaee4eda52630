package core

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// fixtureArchives returns the decrypted archives of the exports that
// earlier PLANETs made (testdata/fixtures/*/export.age; fixtures_test.go).
func fixtureArchives(f *testing.F) [][]byte {
	dirs, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			f.Fatal(err)
		}
		var want struct {
			ExportPassphrase string `json:"exportPassphrase"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			f.Fatalf("%s/expected.json: %v", dir, err)
		}
		file, err := os.ReadFile(filepath.Join(dir, "export.age"))
		if err != nil {
			f.Fatal(err)
		}
		id, err := age.NewScryptIdentity(want.ExportPassphrase)
		if err != nil {
			f.Fatal(err)
		}
		r, err := age.Decrypt(bytes.NewReader(file), id)
		if err != nil {
			f.Fatalf("%s/export.age: %v", dir, err)
		}
		a, err := io.ReadAll(r)
		if err != nil {
			f.Fatalf("%s/export.age: %v", dir, err)
		}
		out = append(out, a)
	}
	return out
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
	for _, a := range fixtureArchives(f) {
		f.Add(a)
	}
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
