package core_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"planet/core"
	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/library"
	"planet/core/relationship"
	"planet/core/vc"
	"planet/vault"
	"planet/vault/mem"
)

// Vaults and exports made by an earlier PLANET must still open. Each
// directory under testdata/fixtures was made by the code of one earlier
// commit (its README says which, and how): vault.json is every key and
// value of a vault in a vault/mem store, export.age an export of it, and
// expected.json what that code read back from the vault, expected-import.json
// what its own import made of the export. These tests read them with
// today's code.

// fixtureSummary is expected.json: what a fixture holds. Its JSON is the
// generator's (fixgen.go.txt in each fixture directory).
type fixtureSummary struct {
	Commit           string                `json:"commit"`
	Passphrase       string                `json:"passphrase"`
	ExportPassphrase string                `json:"exportPassphrase"`
	KDF              vault.KDFParams       `json:"kdf"`
	Now              time.Time             `json:"now"`
	DID              string                `json:"did"`
	Mediator         string                `json:"mediator"`
	ShareDID         string                `json:"shareDID"`
	Settings         core.Settings         `json:"settings"`
	Counts           core.Counts           `json:"counts"`
	Contacts         []fixtureContact      `json:"contacts"`
	Notes            []fixtureNote         `json:"notes"`
	Files            []fixtureFile         `json:"files"`
	Conversations    []fixtureConversation `json:"conversations"`
	Requests         []fixtureConversation `json:"requests"`
	Outbox           []string              `json:"outbox"`
	Credentials      []fixtureCredential   `json:"credentials"`
	Invitations      []fixtureInvitation   `json:"invitations"`
	Introductions    []fixtureIntroduction `json:"introductions"`
}

type fixtureContact struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DID          string `json:"did"`
	Notes        string `json:"notes"`
	Origin       string `json:"origin"`
	IntroducedBy string `json:"introducedBy"`
	Connected    bool   `json:"connected"`
	SharingGraph bool   `json:"sharingGraph"`
}

type fixtureNote struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

type fixtureFile struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Thumb  int    `json:"thumbnailBytes"`
}

type fixtureConversation struct {
	With     string           `json:"with"`
	Messages []fixtureMessage `json:"messages"`
}

type fixtureMessage struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Text      string `json:"text"`
	Seq       uint64 `json:"seq"`
	State     string `json:"state"`
	Via       string `json:"via"`
	Delivered bool   `json:"delivered"`
	Basic     bool   `json:"basic"`
}

type fixtureCredential struct {
	ID       string `json:"id"`
	Issuer   string `json:"issuer"`
	Subject  string `json:"subject"`
	Context  string `json:"context"`
	SharedBy string `json:"sharedBy"`
}

type fixtureInvitation struct {
	ID         string   `json:"id"`
	Note       string   `json:"note"`
	UsesLeft   int      `json:"usesLeft"`
	AcceptedBy []string `json:"acceptedBy"`
}

type fixtureIntroduction struct {
	ID     string `json:"id"`
	A      string `json:"a"`
	B      string `json:"b"`
	Note   string `json:"note"`
	StateA string `json:"stateA"`
	StateB string `json:"stateB"`
}

// fixtureClock starts where the fixture's clock stopped and moves a second
// a reading, so that credentials and invitations are read in their time.
type fixtureClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixtureClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// fixtureDirs are the fixture directories, oldest first.
func fixtureDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no fixtures in testdata/fixtures")
	}
	sort.Strings(dirs)
	return dirs
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// loadFixtureStore puts every key and value of a fixture's vault.json into
// a new in-memory store, in one batch, as a browser's IndexedDB would hold
// them.
func loadFixtureStore(t *testing.T, dir string) *mem.Store {
	t.Helper()
	var raw map[string]string
	readJSON(t, filepath.Join(dir, "vault.json"), &raw)
	var b vault.Batch
	for k, v := range raw {
		val, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("vault.json %s: %v", k, err)
		}
		b.Put(k, val)
	}
	s := mem.New()
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if s.Len() != len(raw) {
		t.Fatalf("store holds %d keys, vault.json %d", s.Len(), len(raw))
	}
	return s
}

// summarize reads back what p holds through today's APIs, as the fixture's
// generator read it through its own; withs are the people whose
// conversations it reads. Each credential must still verify.
func summarize(t *testing.T, p *core.Planet, want *fixtureSummary, now time.Time) fixtureSummary {
	t.Helper()
	id := must(p.Identity())
	sum := fixtureSummary{Commit: want.Commit, Passphrase: want.Passphrase, ExportPassphrase: want.ExportPassphrase, KDF: want.KDF,
		Now: want.Now, DID: id.DID().String(), Mediator: want.Mediator, ShareDID: must(p.ShareDID()).String()}
	sum.Settings = must(p.Settings())
	sum.Counts = must(p.Counts(ctx))
	for _, c := range must(p.Contacts().List(ctx)) {
		x := fixtureContact{ID: c.ID, Name: c.Name, Notes: c.Notes, Origin: string(c.Origin), Connected: c.IsConnected(), SharingGraph: c.SharingGraph}
		if !c.DID.IsZero() {
			x.DID = c.DID.String()
		}
		if !c.IntroducedBy.IsZero() {
			x.IntroducedBy = c.IntroducedBy.String()
		}
		sum.Contacts = append(sum.Contacts, x)
	}
	for _, n := range must(p.Library().Notes(ctx)) {
		sum.Notes = append(sum.Notes, fixtureNote{n.ID, n.Title, n.Body})
	}
	for _, kind := range []library.FileKind{library.Photo, library.Document} {
		for _, f := range must(p.Library().Files(ctx, kind)) {
			_, r, err := p.Library().OpenFile(ctx, f.ID)
			if err != nil {
				t.Fatalf("opening %s: %v", f.Name, err)
			}
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil {
				t.Fatalf("reading %s: %v", f.Name, err)
			}
			if n != f.Size {
				t.Errorf("%s: read %d bytes, its record says %d", f.Name, n, f.Size)
			}
			sum.Files = append(sum.Files, fixtureFile{ID: f.ID, Kind: string(f.Kind), Name: f.Name, Type: f.Type, Size: f.Size, SHA256: hex.EncodeToString(h.Sum(nil)), Thumb: len(f.Thumbnail)})
		}
	}
	msgs := func(ms []chat.Message) []fixtureMessage {
		var out []fixtureMessage
		for _, m := range ms {
			out = append(out, fixtureMessage{ID: m.ID, From: m.From.String(), To: m.To.String(), Text: m.Text, Seq: m.Seq, State: string(m.State), Via: m.Via, Delivered: !m.Delivered.IsZero(), Basic: len(m.Plain) > 0})
		}
		return out
	}
	for _, c := range want.Conversations {
		with := must(did.Parse(c.With))
		sum.Conversations = append(sum.Conversations, fixtureConversation{With: c.With, Messages: msgs(must(p.Chat().Conversation(ctx, with)))})
	}
	for _, r := range must(p.Chat().Requests(ctx)) {
		sum.Requests = append(sum.Requests, fixtureConversation{With: r.From.String(), Messages: msgs(r.Messages)})
	}
	for _, m := range must(p.Chat().Outbox(ctx)) {
		sum.Outbox = append(sum.Outbox, m.ID)
	}
	for _, c := range must(p.Trust().Credentials(ctx)) {
		if err := vc.Verify(c.Credential, now); err != nil {
			t.Errorf("credential %s no longer verifies: %v", c.Credential.ID, err)
		}
		x := fixtureCredential{ID: c.Credential.ID, Issuer: c.Credential.Issuer.String(), Subject: c.Credential.Subject.ID.String(), Context: c.Credential.Subject.Context}
		if !c.SharedBy.IsZero() {
			x.SharedBy = c.SharedBy.String()
		}
		sum.Credentials = append(sum.Credentials, x)
	}
	sort.Slice(sum.Credentials, func(i, j int) bool { return sum.Credentials[i].ID < sum.Credentials[j].ID })
	for _, inv := range must(p.Trust().Invitations(ctx)) {
		x := fixtureInvitation{ID: inv.ID, Note: inv.Note, UsesLeft: inv.UsesLeft}
		for _, d := range inv.AcceptedBy {
			x.AcceptedBy = append(x.AcceptedBy, d.String())
		}
		sum.Invitations = append(sum.Invitations, x)
	}
	_, made, err := p.Trust().Introductions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range made {
		sum.Introductions = append(sum.Introductions, fixtureIntroduction{m.ID, m.A.String(), m.B.String(), m.Note, string(m.StateA), string(m.StateB)})
	}
	return sum
}

// sameSummary fails t, naming the first part that differs, unless got is
// want.
func sameSummary(t *testing.T, what string, got, want fixtureSummary) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			gj, _ := json.MarshalIndent(g.Field(i).Interface(), "", " ")
			wj, _ := json.MarshalIndent(w.Field(i).Interface(), "", " ")
			t.Errorf("%s: %s is\n%s\nwant\n%s", what, g.Type().Field(i).Name, gj, wj)
		}
	}
}

// openFixture opens the fixture's vault with the production options (the
// KDF parameters come from the vault's header) and unlocks it.
func openFixture(t *testing.T, s vault.Store, want *fixtureSummary, clock *fixtureClock) *core.Planet {
	t.Helper()
	p, err := core.Open(ctx, s, core.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("opening the vault: %v", err)
	}
	if p.State() != core.StateLocked {
		t.Fatalf("state %s, want locked", p.State())
	}
	id, err := p.Unlock(ctx, want.Passphrase)
	if err != nil {
		t.Fatalf("unlocking: %v", err)
	}
	if id.DID().String() != want.DID {
		t.Fatalf("unlocked as %s, want %s", id.DID(), want.DID)
	}
	p.SetMediator(must(did.Parse(want.Mediator)))
	return p
}

func TestFixturesOpen(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want, wantImport fixtureSummary
			readJSON(t, filepath.Join(dir, "expected.json"), &want)
			readJSON(t, filepath.Join(dir, "expected-import.json"), &wantImport)
			clock := &fixtureClock{t: want.Now}
			s := loadFixtureStore(t, dir)
			p := openFixture(t, s, &want, clock)
			v := must(vault.Open(ctx, s, vault.Options{}))
			if v.KDF() != want.KDF {
				t.Errorf("the vault's header says KDF %+v, the fixture %+v", v.KDF(), want.KDF)
			}
			sameSummary(t, "the old vault", summarize(t, p, &want, clock.Now()), want)
			if rs := must(p.Relationships().List(ctx)); len(rs) != 0 {
				t.Errorf("an old vault has relationships: %+v", rs)
			}
		})
	}
}

// TestFixturesWriteAndExport writes to an old vault with today's code,
// reopens it, exports it and imports the export, and checks that all of
// the old and the new is there each time.
func TestFixturesWriteAndExport(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want fixtureSummary
			readJSON(t, filepath.Join(dir, "expected.json"), &want)
			clock := &fixtureClock{t: want.Now}
			s := loadFixtureStore(t, dir)
			p := openFixture(t, s, &want, clock)

			// Today's writes: a contact, a note, a chat message to the
			// first conversation's person, an old queued message
			// acknowledged on a relayed stream, and a First Person
			// Network relationship asked for (this week's collections).
			c := must(p.Contacts().Add(ctx, contacts.Input{Name: "Nina New", Notes: "added by today's code"}))
			n := must(p.Library().AddNote(ctx, library.NoteInput{Title: "Written today", Body: "after the upgrade"}))
			bob := must(did.Parse(want.Conversations[0].With))
			m, _, err := p.Chat().NewMessage(ctx, bob, "written by today's code")
			if err != nil {
				t.Fatal(err)
			}
			queued := ""
			for _, x := range want.Conversations[0].Messages {
				if x.State == string(chat.Queued) {
					queued = x.ID
				}
			}
			if queued == "" {
				t.Fatal("the fixture has no queued message")
			}
			p.Chat().Acknowledged(queued, chat.ViaRelayed)
			p.Chat().WriteAcknowledged()
			otherOpts := testOpts
			otherOpts.Now = clock.Now
			other := must(core.Open(ctx, mem.New(), otherOpts))
			must(other.Create(ctx, pass))
			other.SetMediator(must(did.Parse(want.Mediator)))
			rel, _, err := p.RequestRelationship(ctx, must(other.ShareDID()), "met at the market")
			if err != nil {
				t.Fatalf("asking for a relationship from an old vault: %v", err)
			}
			// A stranger writes on a relayed stream, and by a basic
			// message on a direct one: both wait as requests.
			otherID := must(other.Identity())
			relayed, signed, err := other.Chat().NewMessage(ctx, must(did.Parse(want.DID)), "relayed hello")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := p.Chat().Receive(ctx, signed, chat.ViaRelayed); err != nil {
				t.Fatalf("receiving on a relayed stream: %v", err)
			}
			basic, packed, err := other.WriteBasic(ctx, must(did.Parse(want.ShareDID)), "a basic message, tab to tab")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.ReceiveDIDComm(ctx, packed.Message, chat.ViaDirect); err != nil {
				t.Fatalf("receiving a basic message on a stream: %v", err)
			}

			after := want
			after.Counts.Contacts++
			after.Counts.Notes++
			after.Counts.Messages++
			after.Contacts = slices.Clone(want.Contacts)
			after.Contacts = append(after.Contacts, fixtureContact{ID: c.ID, Name: c.Name, Notes: c.Notes})
			after.Notes = append([]fixtureNote{{n.ID, n.Title, n.Body}}, want.Notes...)
			after.Conversations = slices.Clone(want.Conversations)
			conv := slices.Clone(want.Conversations[0].Messages)
			for i := range conv {
				if conv[i].ID == queued {
					conv[i].State, conv[i].Via, conv[i].Delivered = string(chat.Delivered), chat.ViaRelayed, true
				}
			}
			conv = append(conv, fixtureMessage{ID: m.ID, From: want.DID, To: want.Conversations[0].With, Text: m.Text, Seq: m.Seq, State: string(chat.Sent)})
			after.Conversations[0] = fixtureConversation{With: want.Conversations[0].With, Messages: conv}
			after.Outbox = slices.DeleteFunc(slices.Clone(want.Outbox), func(id string) bool { return id == queued })
			after.Outbox = append(after.Outbox, m.ID)
			after.Requests = append(slices.Clone(want.Requests),
				fixtureConversation{With: otherID.DID().String(), Messages: []fixtureMessage{{ID: relayed.ID, From: otherID.DID().String(), To: want.DID, Text: "relayed hello", Seq: 1, State: string(chat.Received), Via: chat.ViaRelayed}}},
				fixtureConversation{With: basic.From.String(), Messages: []fixtureMessage{{ID: basic.ID, From: basic.From.String(), To: want.ShareDID, Text: "a basic message, tab to tab", State: string(chat.Received), Via: chat.ViaDirect, Basic: true}}})
			sortAfter(&after)

			sum := summarize(t, p, &want, clock.Now())
			sortAfter(&sum)
			sameSummary(t, "after today's writes", sum, after)

			// A new page load: the same store, opened afresh.
			p.Lock()
			p = openFixture(t, s, &want, clock)
			sum = summarize(t, p, &want, clock.Now())
			sortAfter(&sum)
			sameSummary(t, "reopened after today's writes", sum, after)
			if rs := must(p.Relationships().List(ctx)); len(rs) != 1 || rs[0].ID != rel.ID || rs[0].State != relationship.StateRequested {
				t.Errorf("relationships after reopening: %+v", rs)
			}

			// Exported and imported by today's code.
			const exportPass = "copper kettle on the allotment"
			file := export(t, p, exportPass)
			q := must(core.Open(ctx, mem.New(), testOpts))
			if _, _, err := q.Import(ctx, bytes.NewReader(file), int64(len(file)), exportPass, pass, nil); err != nil {
				t.Fatalf("importing today's export of an old vault: %v", err)
			}
			q.SetMediator(must(did.Parse(want.Mediator)))
			imported := summarize(t, q, &want, clock.Now())
			sortAfter(&imported)
			// Chat requests are not exported (docs/protocols/chat.md).
			after.Requests = nil
			sameSummary(t, "today's export of the old vault, imported", imported, after)
			if rs := must(q.Relationships().List(ctx)); len(rs) != 1 || rs[0].ID != rel.ID || rs[0].State != relationship.StateRequested {
				t.Errorf("relationships imported: %+v", rs)
			}
		})
	}
}

// sortAfter orders a summary's contacts by name, as Contacts().List does,
// and its requests by sender, so that one with some added compares.
func sortAfter(s *fixtureSummary) {
	sort.SliceStable(s.Contacts, func(i, j int) bool { return s.Contacts[i].Name < s.Contacts[j].Name })
	sort.SliceStable(s.Requests, func(i, j int) bool { return s.Requests[i].With < s.Requests[j].With })
}

// TestFixturesImport imports each old export with today's code and checks
// it holds what the old code's own import of it held; then exports that
// vault again and imports the new export.
func TestFixturesImport(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want fixtureSummary
			readJSON(t, filepath.Join(dir, "expected-import.json"), &want)
			clock := &fixtureClock{t: want.Now}
			file, err := os.ReadFile(filepath.Join(dir, "export.age"))
			if err != nil {
				t.Fatal(err)
			}
			opts := testOpts
			opts.Now = clock.Now
			p := must(core.Open(ctx, mem.New(), opts))
			id, counts, err := p.Import(ctx, bytes.NewReader(file), int64(len(file)), want.ExportPassphrase, want.Passphrase, nil)
			if err != nil {
				t.Fatalf("importing an old export: %v", err)
			}
			if id.DID().String() != want.DID || counts != want.Counts {
				t.Fatalf("imported %s with %+v, want %s with %+v", id.DID(), counts, want.DID, want.Counts)
			}
			p.SetMediator(must(did.Parse(want.Mediator)))
			sameSummary(t, "the old export, imported", summarize(t, p, &want, clock.Now()), want)

			again := export(t, p, "copper kettle on the allotment")
			q := must(core.Open(ctx, mem.New(), opts))
			if _, _, err := q.Import(ctx, bytes.NewReader(again), int64(len(again)), "copper kettle on the allotment", pass, nil); err != nil {
				t.Fatalf("importing a new export of an imported old one: %v", err)
			}
			q.SetMediator(must(did.Parse(want.Mediator)))
			sameSummary(t, "re-exported and imported", summarize(t, q, &want, clock.Now()), want)
		})
	}
}
