package core

import (
	"context"

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
		p.library.NotesSection(),
		credentialsSection{p},
		p.chat.Section(),
		trustSection{p},
		p.library.FilesSection(),
	}
}

// Session returns the open vault, with the identity, the clock and the
// source of randomness, for the features; vault.ErrLocked or
// vault.ErrNoVault when the vault is not open.
//
// The session is made once for each vault and identity, not at each call:
// features ask for it at every call, chat for every message it writes or
// receives.
func (p *Planet) Session() (*session.Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.v == nil:
		return nil, vault.ErrNoVault
	case p.id == nil:
		return nil, vault.ErrLocked
	}
	if p.session == nil || p.session.Vault != p.v || p.session.Identity != p.id {
		p.session = &session.Session{Vault: p.v, Identity: p.id, Now: p.opt.Now, Rand: p.opt.Rand}
	}
	return p.session, nil
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
