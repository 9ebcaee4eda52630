package core

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/vc"
	"planet/vault"
)

// maxJSONEntry bounds one JSON entry of an import, so a hostile file cannot
// make the tab allocate without limit.
const maxJSONEntry = 64 << 20

// badExport wraps err as ErrBadExport with a message a person can act on.
func badExport(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrBadExport)
}

// Import restores an export (docs/export-format.md) into this device, which
// must hold no vault yet; the restored vault is sealed with newPassphrase.
// Everything is checked before the vault comes to exist: a wrong
// passphrase, a damaged, truncated or foreign file leaves the device as it
// was. size is the file's length, for progress.
func (p *Planet) Import(ctx context.Context, r io.Reader, size int64, exportPassphrase, newPassphrase string, progress func(done, total int64)) (*identity.Identity, Counts, error) {
	var counts Counts
	if err := vault.RequireStrong(newPassphrase); err != nil {
		return nil, counts, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v != nil {
		return nil, counts, vault.ErrExists
	}

	ident, err := age.NewScryptIdentity(exportPassphrase)
	if err != nil {
		return nil, counts, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	ident.SetMaxWorkFactor(importMaxWorkFactor)
	cr := &countingReader{r: r, total: size, progress: progress}
	ar, err := age.Decrypt(cr, ident)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, counts, badExport("the export passphrase is wrong")
		}
		return nil, counts, badExport("this is not a PLANET export file (%v)", err)
	}

	id, counts, err := p.restoreLocked(ctx, ar, newPassphrase)
	if err != nil {
		return nil, counts, err
	}
	p.armIdleLocked()
	return id, counts, nil
}

// restoreLocked fills a new vault from a decrypted export archive and, if
// every check passes, makes it this Planet's vault. On any failure the
// store is left empty. p.mu must be held and there must be no vault.
func (p *Planet) restoreLocked(ctx context.Context, archive io.Reader, newPassphrase string) (*identity.Identity, Counts, error) {
	v, commit, err := vault.Prepare(ctx, p.store, newPassphrase, p.opt.Vault)
	if err != nil {
		return nil, Counts{}, err
	}
	im := importer{v: v, now: p.opt.Now}
	id, settings, err := im.run(ctx, tar.NewReader(archive), archive)
	if err == nil {
		err = commit(ctx)
	}
	if err != nil {
		// Nothing of a failed import may remain: without a header the
		// store holds no vault, and the leftovers go now.
		var b vault.Batch
		b.DeletePrefix("")
		p.store.Apply(context.WithoutCancel(ctx), &b)
		if id != nil {
			id.Wipe()
		}
		return nil, Counts{}, err
	}
	p.v, p.id, p.settings = v, id, settings
	return id, im.counts, nil
}

type countingReader struct {
	r        io.Reader
	done     int64
	total    int64
	progress func(done, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.done, c.total)
	}
	return n, err
}

type importer struct {
	v        *vault.Vault
	now      func() time.Time
	counts   Counts
	messages []messageExport
	trust    trustExport
}

// run reads the archive into the prepared vault.
func (im *importer) run(ctx context.Context, tr *tar.Reader, rest io.Reader) (*identity.Identity, Settings, error) {
	settings := DefaultSettings
	next := func() (*tar.Header, error) {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, damaged(err)
		}
		return h, nil
	}
	h, err := next()
	if err != nil || h.Name != "manifest.json" {
		return nil, settings, badExport("the archive does not start with manifest.json")
	}
	var m manifest
	if err := readJSON(tr, h, &m); err != nil {
		return nil, settings, err
	}
	if m.Format != exportFormat {
		return nil, settings, badExport("the archive is not a PLANET export (format %q)", m.Format)
	}
	if m.Version < 1 || m.Version > exportVersion {
		return nil, settings, badExport("export version %d is newer than this PLANET reads (%d)", m.Version, exportVersion)
	}

	var id *identity.Identity
	files := map[string]fileExport{} // by path, waiting for their bytes
	kinds := map[string]FileKind{}
	var fileRecords []File
	var contacts []contactExport
	var creds []credentialExport
	var notes []noteExport
	for {
		h, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return id, settings, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		switch name := h.Name; {
		case name == "identity.json":
			var ie identityExport
			if err := readJSON(tr, h, &ie); err != nil {
				return id, settings, err
			}
			seed, err := decodePrivateMultikey(ie.PrivateKeyMultibase)
			if err != nil {
				return id, settings, badExport("identity.json: %v", err)
			}
			id, err = identity.FromSeed(seed)
			clear(seed)
			if err != nil {
				return id, settings, badExport("identity.json: %v", err)
			}
			if id.DID().String() != m.DID || ie.DID != m.DID {
				return id, settings, badExport("identity.json holds the key of %s, but the export is of %s", id.DID(), m.DID)
			}
		case name == "settings.json":
			if err := readJSON(tr, h, &settings); err != nil {
				return id, settings, err
			}
			if err := settings.check(); err != nil {
				return id, settings, badExport("settings.json: %v", err)
			}
		case name == "contacts.json":
			if err := readJSON(tr, h, &contacts); err != nil {
				return id, settings, err
			}
		case name == "credentials.json":
			if err := readJSON(tr, h, &creds); err != nil {
				return id, settings, err
			}
		case name == "messages.json":
			if err := readJSON(tr, h, &im.messages); err != nil {
				return id, settings, err
			}
		case name == "trust.json":
			if err := readJSON(tr, h, &im.trust); err != nil {
				return id, settings, err
			}
		case name == "notes.json":
			if err := readJSON(tr, h, &notes); err != nil {
				return id, settings, err
			}
		case name == "photos.json" || name == "documents.json":
			var list []fileExport
			if err := readJSON(tr, h, &list); err != nil {
				return id, settings, err
			}
			kind := Photo
			if name == "documents.json" {
				kind = Document
			}
			for _, fe := range list {
				if _, dup := files[fe.Path]; dup || !vault.ValidRecordID(fe.ID) {
					return id, settings, badExport("%s: entry %q is malformed or repeated", name, fe.ID)
				}
				files[fe.Path], kinds[fe.Path] = fe, kind
			}
		case strings.HasPrefix(name, "photos/") || strings.HasPrefix(name, "documents/"):
			fe, ok := files[name]
			if !ok {
				continue // not described: not ours to restore
			}
			if h.Size != fe.Size {
				return id, settings, badExport("%s is %d bytes, but its description says %d", name, h.Size, fe.Size)
			}
			in, err := FileInput{Kind: kinds[name], Name: fe.Name, Type: fe.Type, Thumbnail: fe.Thumbnail}.check()
			if err != nil {
				return id, settings, badExport("%s: %v", name, err)
			}
			ref, err := im.v.WriteBlob(ctx, tr, nil)
			if err != nil {
				if errors.Is(err, ErrBadExport) {
					return id, settings, err
				}
				return id, settings, damaged(err)
			}
			if ref.Size != fe.Size {
				return id, settings, badExport("%s ended after %d of %d bytes", name, ref.Size, fe.Size)
			}
			fileRecords = append(fileRecords, File{ID: fe.ID, Kind: in.Kind, Name: in.Name, Type: in.Type, Created: millis(fe.Created), Blob: ref, Thumbnail: in.Thumbnail})
			delete(files, name)
		}
	}
	// The archive's end must also be the end of the authenticated stream:
	// this is where age detects a truncated file.
	if _, err := io.Copy(io.Discard, rest); err != nil {
		return id, settings, damaged(err)
	}
	if id == nil {
		return nil, settings, badExport("the export holds no identity")
	}
	for path := range files {
		return id, settings, badExport("%s is described but missing", path)
	}
	return id, settings, im.writeRecords(ctx, id, settings, contacts, notes, creds, fileRecords, m.Counts)
}

func (im *importer) writeRecords(ctx context.Context, id *identity.Identity, settings Settings, contacts []contactExport, notes []noteExport, creds []credentialExport, files []File, want Counts) error {
	return im.v.Update(ctx, func(tx *vault.Tx) error {
		put := func(c vault.Collection, recID string, rec any) error {
			if !vault.ValidRecordID(recID) {
				return badExport("%s: %q is not a record id", c, recID)
			}
			b, err := vault.MarshalCBOR(rec)
			if err != nil {
				return err
			}
			tx.Put(c, recID, b)
			return nil
		}
		seed := id.Seed()
		defer clear(seed)
		if err := put(colIdentity, "self", identityRecord{Seed: seed, Created: im.now().UnixMilli()}); err != nil {
			return err
		}
		if err := put(colSettings, "settings", settings); err != nil {
			return err
		}
		for _, c := range contacts {
			in, err := ContactInput{Name: c.Name, DID: c.DID, Notes: c.Notes}.check()
			if err != nil {
				return badExport("contact %q: %v", c.Name, err)
			}
			rec := Contact{Name: in.Name, DID: in.DID, Notes: in.Notes, Created: millis(c.Created), Updated: millis(c.Updated),
				Relays: cleanRelays(c.Relays), SharingGraph: c.SharingGraph}
			switch c.Origin {
			case "", OriginInvitedMe, OriginInvitedByMe, OriginIntroduced:
				rec.Origin = c.Origin
			default:
				return badExport("contact %q: unknown origin %q", c.Name, c.Origin)
			}
			if c.IntroducedBy != "" {
				d, err := did.Parse(c.IntroducedBy)
				if err != nil {
					return badExport("contact %q: introducedBy: %v", c.Name, err)
				}
				rec.IntroducedBy = d.String()
			}
			if c.Connected != nil {
				rec.Connected = millis(*c.Connected)
			}
			if err := put(colContacts, c.ID, rec); err != nil {
				return err
			}
		}
		for _, n := range notes {
			in, err := NoteInput{Title: n.Title, Body: n.Body}.check()
			if err != nil {
				return badExport("note %q: %v", n.Title, err)
			}
			if err := put(colNotes, n.ID, Note{Title: in.Title, Body: in.Body, Created: millis(n.Created), Updated: millis(n.Updated)}); err != nil {
				return err
			}
		}
		for _, ce := range creds {
			// The archive is authenticated as a whole; each credential is
			// parsed, not re-verified, so one that has since expired is
			// still restored, as it was kept.
			c, err := vc.Parse(ce.Credential)
			if err != nil {
				return badExport("credentials.json: %v", err)
			}
			var by did.DID
			if ce.SharedBy != "" {
				if by, err = did.Parse(ce.SharedBy); err != nil {
					return badExport("credentials.json: %v", err)
				}
			}
			recID, err := credentialRecordID(c, by)
			if err != nil {
				return badExport("credentials.json: %v", err)
			}
			exact, err := c.MarshalJSON()
			if err != nil {
				return err
			}
			if err := put(colCredentials, recID, credentialRecord{JSON: exact, SharedBy: ce.SharedBy, Received: millis(ce.Received)}); err != nil {
				return err
			}
		}
		im.counts.Credentials = len(creds)
		if err := im.writeMessages(tx, id); err != nil {
			return err
		}
		if err := restoreTrust(im.trust, put); err != nil {
			return err
		}
		for _, f := range files {
			if err := put(colFiles, f.ID, f); err != nil {
				return err
			}
			if f.Kind == Photo {
				im.counts.Photos++
			} else {
				im.counts.Documents++
			}
		}
		im.counts.Contacts, im.counts.Notes = len(contacts), len(notes)
		if im.counts != want {
			return badExport("the export lists %+v but holds %+v", want, im.counts)
		}
		return nil
	})
}

// writeMessages restores the chat messages of messages.json. Each is
// restored from its signed form, which is parsed, not verified again (the
// archive is authenticated as a whole, and a message kept long ago may
// have expired since); the state and times come from the entry.
func (im *importer) writeMessages(tx *vault.Tx, id *identity.Identity) error {
	seen := map[string]bool{}
	for i, e := range im.messages {
		refuse := func(format string, a ...any) error {
			return badExport("messages.json: message %d: %s", i+1, fmt.Sprintf(format, a...))
		}
		sm, err := didcomm.ParseSigned([]byte(e.Signed))
		if err != nil {
			return refuse("%v", err)
		}
		m := sm.Message
		body, err := readChat(m)
		if err != nil {
			return refuse("%v", err)
		}
		outgoing := m.From == id.DID()
		switch {
		case outgoing && (e.State == ChatQueued || e.State == ChatSent || e.State == ChatDelivered):
		case !outgoing && m.To[0] == id.DID() && e.State == ChatReceived:
		default:
			return refuse("a %q message from %s to %s is not one of this person's", e.State, m.From, m.To[0])
		}
		if e.Via != "" && e.Via != ViaDirect && e.Via != ViaMailbox {
			return refuse("unknown way of arrival %q", e.Via)
		}
		recID := messageRecordID(m.ID, m.From)
		if seen[recID] {
			return refuse("it appears twice")
		}
		seen[recID] = true
		rec := messageRecord{
			ID: m.ID, From: m.From.String(), To: m.To[0].String(), Text: body.Text, Seq: body.Seq,
			Created: millis(m.Created), State: e.State, Stored: millis(e.Stored), Via: e.Via,
			Signed: []byte(e.Signed),
		}
		if !e.Delivered.IsZero() {
			rec.Delivered = millis(e.Delivered)
		}
		b, err := vault.MarshalCBOR(rec)
		if err != nil {
			return err
		}
		tx.Put(colMessages, recID, b)
		if outgoing && e.State != ChatDelivered { // queued or sent: in the outbox
			entry, err := vault.MarshalCBOR(outboxRecord{ID: m.ID})
			if err != nil {
				return err
			}
			tx.Put(colOutbox, recID, entry)
		}
	}
	im.counts.Messages = len(im.messages)
	return nil
}

func readJSON(tr *tar.Reader, h *tar.Header, v any) error {
	if h.Size > maxJSONEntry {
		return badExport("%s is too large (%d bytes)", h.Name, h.Size)
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxJSONEntry))
	if err != nil {
		return damaged(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badExport("%s is malformed: %v", h.Name, err)
	}
	return nil
}

// damaged reports a failure to read the archive: in an authenticated age
// stream that means the file was cut short or altered.
func damaged(err error) error {
	return badExport("the export file is damaged or incomplete (%v)", err)
}
