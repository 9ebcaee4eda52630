package core

import (
	"context"
	"errors"
	"strings"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// sections are the parts of the export archive after the manifest, the
// identity and the settings, in the order docs/export-format.md lists their
// entries. A new feature adds its sections here.
func (p *Planet) sections() []session.Section {
	return []session.Section{
		p.contacts.Section(),
		notesSection{p},
		credentialsSection{p},
		messagesSection{p},
		trustSection{p},
		filesSection{p},
	}
}

// Session returns the open vault, with the identity, the clock and the
// source of randomness, for the features; vault.ErrLocked or
// vault.ErrNoVault when the vault is not open.
func (p *Planet) Session() (*session.Session, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	return &session.Session{Vault: v, Identity: id, Now: p.opt.Now, Rand: p.opt.Rand}, nil
}

// notesSection is notes.json and each note as Markdown.
type notesSection struct{ p *Planet }

func (sec notesSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	notes, err := sec.p.Notes(ctx)
	if err != nil {
		return err
	}
	ne := make([]noteExport, len(notes))
	for i, n := range notes {
		ne[i] = noteExport{n.ID, n.Title, n.Body, Time(n.Created), Time(n.Updated)}
	}
	w.JSON("notes.json", ne)
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
			return badExport("note %q: %v", n.Title, err)
		}
		if err := session.RestoreRecord(tx, colNotes, n.ID, Note{Title: in.Title, Body: in.Body, Created: millis(n.Created), Updated: millis(n.Updated)}); err != nil {
			return err
		}
	}
	counts.Notes = len(im.notes)
	return nil
}

// credentialsSection is credentials.json and graph.json, the trust graph
// they make, for reading.
type credentialsSection struct{ p *Planet }

func (sec credentialsSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	kept, err := sec.p.Credentials(ctx)
	if err != nil {
		return err
	}
	graph, err := graphOf(kept)
	if err != nil {
		return err
	}
	creds := make([]credentialExport, len(kept))
	for i, k := range kept {
		raw, err := k.Credential.MarshalJSON()
		if err != nil {
			return err
		}
		creds[i] = credentialExport{Credential: raw, Received: Time(k.Received)}
		if !k.SharedBy.IsZero() {
			creds[i].SharedBy = k.SharedBy.String()
		}
	}
	w.JSON("credentials.json", creds)
	w.JSON("graph.json", graph)
	w.Counts.Credentials = len(kept)
	return nil
}

func (credentialsSection) Import() session.SectionImport { return &credentialsImport{} }

type credentialsImport struct{ creds []credentialExport }

func (im *credentialsImport) Claims(name string) bool { return name == "credentials.json" }

func (im *credentialsImport) Entry(_ context.Context, e session.Entry) error {
	return e.JSON(&im.creds)
}

func (im *credentialsImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for _, ce := range im.creds {
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
		if err := session.RestoreRecord(tx, colCredentials, recID, credentialRecord{JSON: exact, SharedBy: ce.SharedBy, Received: millis(ce.Received)}); err != nil {
			return err
		}
	}
	counts.Credentials = len(im.creds)
	return nil
}

// messagesSection is messages.json, the chat history.
type messagesSection struct{ p *Planet }

func (sec messagesSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	messages, err := sec.p.messagesExport(ctx)
	if err != nil {
		return err
	}
	w.JSON("messages.json", messages)
	w.Counts.Messages = len(messages)
	return nil
}

func (messagesSection) Import() session.SectionImport { return &messagesImport{} }

type messagesImport struct{ messages []messageExport }

func (im *messagesImport) Claims(name string) bool { return name == "messages.json" }

func (im *messagesImport) Entry(_ context.Context, e session.Entry) error {
	return e.JSON(&im.messages)
}

func (im *messagesImport) Restore(tx *vault.Tx, id *identity.Identity, counts *session.Counts) error {
	if err := restoreMessages(tx, id, im.messages); err != nil {
		return err
	}
	counts.Messages = len(im.messages)
	return nil
}

// trustSection is trust.json: invitations, introductions and connections
// under way.
type trustSection struct{ p *Planet }

func (sec trustSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	trust, err := sec.p.trustForExport(ctx)
	if err != nil {
		return err
	}
	w.JSON("trust.json", trust)
	return nil
}

func (trustSection) Import() session.SectionImport { return &trustImport{} }

type trustImport struct{ trust trustExport }

func (im *trustImport) Claims(name string) bool { return name == "trust.json" }

func (im *trustImport) Entry(_ context.Context, e session.Entry) error { return e.JSON(&im.trust) }

func (im *trustImport) Restore(tx *vault.Tx, _ *identity.Identity, _ *session.Counts) error {
	return restoreTrust(im.trust, func(c vault.Collection, id string, rec any) error {
		return session.RestoreRecord(tx, c, id, rec)
	})
}

// filesSection is photos.json and documents.json, then each file's bytes
// under photos/ and documents/.
type filesSection struct{ p *Planet }

func (sec filesSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	files, err := sec.p.Files(ctx, "")
	if err != nil {
		return err
	}
	var photos, documents []fileExport
	var blobs [2][]session.File
	for _, f := range files {
		fe := fileExport{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size(), Created: Time(f.Created), Thumbnail: f.Thumbnail}
		i := 0
		if f.Kind == Photo {
			fe.Path = w.UniquePath("photos", f.Name)
			photos = append(photos, fe)
		} else {
			i = 1
			fe.Path = w.UniquePath("documents", f.Name)
			documents = append(documents, fe)
		}
		blobs[i] = append(blobs[i], session.File{Path: fe.Path, Size: fe.Size, Created: fe.Created, Blob: f.Blob})
	}
	w.JSON("photos.json", nonNil(photos))
	w.JSON("documents.json", nonNil(documents))
	for _, list := range blobs {
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
	records   []File
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
				return badExport("%s: entry %q is malformed or repeated", name, fe.ID)
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
		return badExport("%s is %d bytes, but its description says %d", name, e.Size, fe.Size)
	}
	in, err := FileInput{Kind: im.kinds[name], Name: fe.Name, Type: fe.Type, Thumbnail: fe.Thumbnail}.check()
	if err != nil {
		return badExport("%s: %v", name, err)
	}
	ref, err := e.Vault.WriteBlob(ctx, e.Body, nil)
	if err != nil {
		if errors.Is(err, ErrBadExport) {
			return err
		}
		return session.Damaged(err)
	}
	if ref.Size != fe.Size {
		return badExport("%s ended after %d of %d bytes", name, ref.Size, fe.Size)
	}
	im.records = append(im.records, File{ID: fe.ID, Kind: in.Kind, Name: in.Name, Type: in.Type, Created: millis(fe.Created), Blob: ref, Thumbnail: in.Thumbnail})
	delete(im.described, name)
	return nil
}

func (im *filesImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for path := range im.described {
		return badExport("%s is described but missing", path)
	}
	for _, f := range im.records {
		if err := session.RestoreRecord(tx, colFiles, f.ID, f); err != nil {
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
