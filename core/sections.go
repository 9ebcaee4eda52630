package core

import (
	"context"

	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
)

// sections are the parts of the export archive after the manifest, the
// identity and the settings, in the order docs/export-format.md lists their
// entries. A new feature adds its sections here.
func (p *Planet) sections() []session.Section {
	return []session.Section{
		p.contacts.Section(),
		p.library.NotesSection(),
		p.trust.CredentialsSection(),
		messagesSection{p},
		p.trust.TrustSection(),
		p.library.FilesSection(),
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
