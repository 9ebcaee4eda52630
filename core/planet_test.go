package core_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"planet/core"
	"planet/core/contacts"
	"planet/core/library"
	"planet/vault"
	"planet/vault/mem"
)

var ctx = context.Background()

const pass = "violet tugboat umbrella quince"

var testOpts = core.Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}}

func newPlanet(t testing.TB) (*core.Planet, *mem.Store) {
	t.Helper()
	s := mem.New()
	p, err := core.Open(ctx, s, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if p.State() != core.StateNone {
		t.Fatalf("new planet state %s", p.State())
	}
	if _, err := p.Create(ctx, pass); err != nil {
		t.Fatal(err)
	}
	return p, s
}

// must returns v, or panics with err: the test fails with the error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCreateRefusesWeakPassphrase(t *testing.T) {
	p := must(core.Open(ctx, mem.New(), testOpts))
	_, err := p.Create(ctx, "password1")
	var weak *vault.ErrWeakPassphrase
	if !errors.As(err, &weak) || p.State() != core.StateNone {
		t.Fatalf("Create(weak) = %v, state %s", err, p.State())
	}
}

func TestLifecycle(t *testing.T) {
	p, s := newPlanet(t)
	id := must(p.Identity())
	if !strings.HasPrefix(id.DID().String(), "did:key:z6Mk") {
		t.Fatalf("DID %s", id.DID())
	}
	c := must(p.Contacts().Add(ctx, contacts.Input{Name: "  Ada Lovelace ", DID: id.DID().String(), Notes: "met at the co-op AGM"}))
	if c.Name != "Ada Lovelace" {
		t.Fatalf("name not trimmed: %q", c.Name)
	}
	if _, err := p.Contacts().Add(ctx, contacts.Input{Name: "Bad", DID: "did:key:nope"}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("AddContact with bad DID: %v", err)
	}
	if _, err := p.Contacts().Add(ctx, contacts.Input{Name: "  "}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("AddContact without name: %v", err)
	}
	must(p.Contacts().Update(ctx, c.ID, contacts.Input{Name: "Ada King"}))
	n := must(p.Library().AddNote(ctx, library.NoteInput{Title: "Ideas", Body: "Analytical engine"}))
	f := must(p.Library().AddFile(ctx, strings.NewReader("%PDF-1.7 ..."), library.FileInput{Kind: library.Document, Name: "notes.pdf", Type: "application/pdf"}, nil))

	p.Lock()
	if p.State() != core.StateLocked {
		t.Fatalf("state after Lock: %s", p.State())
	}
	if _, err := p.Contacts().List(ctx); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("Contacts while locked: %v", err)
	}

	// A new page load: open the store afresh and unlock.
	p2 := must(core.Open(ctx, s, testOpts))
	if _, err := p2.Unlock(ctx, "not the passphrase at all"); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("Unlock with wrong passphrase: %v", err)
	}
	id2 := must(p2.Unlock(ctx, pass))
	if id2.DID() != id.DID() {
		t.Fatalf("DID after unlock %s, want %s", id2.DID(), id.DID())
	}
	cs := must(p2.Contacts().List(ctx))
	if len(cs) != 1 || cs[0].Name != "Ada King" || !cs[0].DID.IsZero() {
		t.Fatalf("contacts %+v", cs)
	}
	if ns := must(p2.Library().Notes(ctx)); len(ns) != 1 || ns[0].ID != n.ID || ns[0].Body != "Analytical engine" {
		t.Fatalf("notes %+v", ns)
	}
	_, r, err := p2.Library().OpenFile(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "%PDF-1.7 ..." {
		t.Fatalf("file %q", b)
	}
	if err := p2.Library().DeleteFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := p2.Library().DeleteNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := p2.Library().DeleteNote(ctx, n.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	got := must(p2.Counts(ctx))
	if got != (core.Counts{Contacts: 1}) {
		t.Fatalf("counts %+v", got)
	}
}

// fakeTimers runs scheduled calls when the test says time has passed.
type fakeTimers struct {
	now   time.Time
	queue []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (ft *fakeTimer) Stop() bool { ft.stopped = true; return true }

func (c *fakeTimers) AfterFunc(d time.Duration, f func()) core.Timer {
	ft := &fakeTimer{at: c.now.Add(d), f: f}
	c.queue = append(c.queue, ft)
	return ft
}

// advance moves the clock and runs what came due.
func (c *fakeTimers) advance(d time.Duration) {
	c.now = c.now.Add(d)
	for len(c.queue) > 0 {
		due := c.queue
		c.queue = nil
		ran := false
		for _, ft := range due {
			if !ft.stopped && !ft.at.After(c.now) {
				ft.f()
				ran = true
			} else if !ft.stopped {
				c.queue = append(c.queue, ft)
			}
		}
		if !ran {
			return
		}
	}
}

func TestAutoLock(t *testing.T) {
	clock := &fakeTimers{now: time.Unix(1_800_000_000, 0)}
	opts := testOpts
	opts.Now = func() time.Time { return clock.now }
	opts.AfterFunc = clock.AfterFunc
	p := must(core.Open(ctx, mem.New(), opts))
	must(p.Create(ctx, pass))
	locks := 0
	p.OnLock(func() { locks++ })
	if _, err := p.SetSettings(ctx, core.Settings{AutoLockMinutes: -1}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("negative auto-lock: %v", err)
	}
	must(p.SetSettings(ctx, core.Settings{AutoLockMinutes: 5}))

	clock.advance(4 * time.Minute)
	p.Touch() // activity at minute 4 postpones the lock to minute 9
	clock.advance(4 * time.Minute)
	if p.State() != core.StateUnlocked {
		t.Fatal("locked although the person was active 4 minutes ago")
	}
	clock.advance(time.Minute + time.Second)
	if p.State() != core.StateLocked || locks != 1 {
		t.Fatalf("after 5 idle minutes: state %s, %d lock calls", p.State(), locks)
	}

	// Settings persist; 0 means never.
	must(p.Unlock(ctx, pass))
	if s := must(p.Settings()); s.AutoLockMinutes != 5 {
		t.Fatalf("settings after unlock: %+v", s)
	}
	must(p.SetSettings(ctx, core.Settings{AutoLockMinutes: 0}))
	clock.advance(24 * time.Hour)
	if p.State() != core.StateUnlocked {
		t.Fatal("auto-lock 0 locked the vault")
	}
	p.Lock()
	if locks != 2 {
		t.Fatalf("Lock called the listener %d times in all, want 2", locks)
	}
}

func fill(t *testing.T, p *core.Planet) (photo, doc []byte) {
	t.Helper()
	photo = make([]byte, 3*vault.ChunkSize+100)
	doc = make([]byte, 2*vault.ChunkSize)
	r := rand.NewChaCha8([32]byte{7})
	r.Read(photo)
	r.Read(doc)
	must(p.Contacts().Add(ctx, contacts.Input{Name: "Grace, Hopper; RADM", Notes: "line one\nline two"}))
	must(p.Contacts().Add(ctx, contacts.Input{Name: "Ada", DID: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}))
	must(p.Library().AddNote(ctx, library.NoteInput{Title: "Trip/plans", Body: "Pack light."}))
	must(p.Library().AddFile(ctx, bytes.NewReader(photo), library.FileInput{Kind: library.Photo, Name: "beach.jpg", Type: "image/jpeg", Thumbnail: []byte{0xff, 0xd8}}, nil))
	must(p.Library().AddFile(ctx, bytes.NewReader(photo[:10]), library.FileInput{Kind: library.Photo, Name: "beach.jpg", Type: "image/jpeg"}, nil))
	must(p.Library().AddFile(ctx, bytes.NewReader(doc), library.FileInput{Kind: library.Document, Name: "lease.pdf", Type: "application/pdf"}, nil))
	return photo, doc
}

func export(t *testing.T, p *core.Planet, passphrase string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var last [2]int64
	if err := p.Export(ctx, &buf, passphrase, func(d, tot int64) { last = [2]int64{d, tot} }); err != nil {
		t.Fatal(err)
	}
	if last[0] != last[1] || last[1] == 0 {
		t.Fatalf("export progress ended at %v", last)
	}
	return buf.Bytes()
}

func TestExportIsStandardAgeTar(t *testing.T) {
	p, _ := newPlanet(t)
	photo, doc := fill(t, p)
	relationships(t, p)
	var weak *vault.ErrWeakPassphrase
	if err := p.Export(ctx, io.Discard, "password1", nil); !errors.As(err, &weak) {
		t.Fatalf("export with a weak passphrase: %v", err)
	}
	file := export(t, p, "harbour lights at eleven")

	ident := must(age.NewScryptIdentity("harbour lights at eleven"))
	r := must(age.Decrypt(bytes.NewReader(file), ident))
	tr := tar.NewReader(r)
	entries := map[string][]byte{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = must(io.ReadAll(tr))
		order = append(order, h.Name)
	}
	if order[0] != "manifest.json" {
		t.Fatalf("first entry %s", order[0])
	}
	for _, name := range []string{"identity.json", "settings.json", "contacts.json", "contacts.vcf", "notes.json", "notes/Trip-plans.md", "credentials.json", "graph.json", "photos.json", "documents.json"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("missing %s (have %v)", name, order)
		}
	}
	// Two photos share a name: one keeps it, the other gets " (2)".
	a, b := entries["photos/beach.jpg"], entries["photos/beach (2).jpg"]
	if len(a) < len(b) {
		a, b = b, a
	}
	if !bytes.Equal(a, photo) || !bytes.Equal(b, photo[:10]) || !bytes.Equal(entries["documents/lease.pdf"], doc) {
		t.Errorf("files differ from originals; entries %v", order)
	}
	vcf := string(entries["contacts.vcf"])
	if !strings.Contains(vcf, `FN:Grace\, Hopper\; RADM`) || !strings.Contains(vcf, `NOTE:line one\nline two`) || !strings.Contains(vcf, "X-DID:did:key:z6Mki") {
		t.Errorf("vCard:\n%s", vcf)
	}
	if !strings.Contains(string(entries["manifest.json"]), `"photos": 2`) || !strings.Contains(string(entries["manifest.json"]), `"credentials": 3`) {
		t.Errorf("manifest:\n%s", entries["manifest.json"])
	}
}

func TestImportRestores(t *testing.T) {
	p, _ := newPlanet(t)
	photo, _ := fill(t, p)
	file := export(t, p, "harbour lights at eleven")
	want := must(p.Identity()).DID()

	q := must(core.Open(ctx, mem.New(), testOpts))
	id, counts, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), "harbour lights at eleven", "a different local passphrase", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.DID() != want || counts != (core.Counts{Contacts: 2, Notes: 1, Photos: 2, Documents: 1}) {
		t.Fatalf("import: %s %+v", id.DID(), counts)
	}
	files := must(q.Library().Files(ctx, library.Photo))
	for _, f := range files {
		_, r, err := q.Library().OpenFile(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := must(io.ReadAll(r))
		if f.Size == int64(len(photo)) && !bytes.Equal(b, photo) {
			t.Fatal("photo differs after import")
		}
	}
	// The original and the import are the same person, with the same data.
	pc, qc := must(p.Contacts().List(ctx)), must(q.Contacts().List(ctx))
	if !reflect.DeepEqual(pc, qc) {
		t.Fatalf("contacts differ:\n%+v\n%+v", pc, qc)
	}
	if _, _, err := q.Import(ctx, bytes.NewReader(file), 0, "harbour lights at eleven", "a different local passphrase", nil); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("import over a vault: %v", err)
	}
}

func TestImportRefusesBadFiles(t *testing.T) {
	p, _ := newPlanet(t)
	fill(t, p)
	file := export(t, p, "harbour lights at eleven")
	flipped := bytes.Clone(file)
	flipped[len(flipped)/2] ^= 1
	var foreign bytes.Buffer
	{
		rc := must(age.NewScryptRecipient("harbour lights at eleven"))
		rc.SetWorkFactor(10)
		w := must(age.Encrypt(&foreign, rc))
		io.WriteString(w, "just some text, not a tar archive")
		w.Close()
	}
	tests := []struct {
		name, pass string
		file       []byte
		msg        string
	}{
		{"wrong passphrase", "not it", file, "passphrase is wrong"},
		{"truncated", "harbour lights at eleven", file[:len(file)-1000], "damaged"},
		{"cut at half", "harbour lights at eleven", file[:len(file)/2], "damaged"},
		{"flipped byte", "harbour lights at eleven", flipped, "damaged"},
		{"not age", "harbour lights at eleven", []byte("hello, this is a text file\n"), "not a PLANET export"},
		{"age but not an export", "harbour lights at eleven", foreign.Bytes(), "manifest.json"},
		{"empty", "harbour lights at eleven", nil, "not a PLANET export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mem.New()
			q := must(core.Open(ctx, s, testOpts))
			_, _, err := q.Import(ctx, bytes.NewReader(tt.file), int64(len(tt.file)), tt.pass, "a different local passphrase", nil)
			if !errors.Is(err, core.ErrBadExport) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Import = %v; want ErrBadExport saying %q", err, tt.msg)
			}
			if s.Len() != 0 || q.State() != core.StateNone {
				t.Fatalf("failed import left %d keys, state %s", s.Len(), q.State())
			}
		})
	}
}
