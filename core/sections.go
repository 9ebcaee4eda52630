package core

import (
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
		p.chat.Section(),
		p.trust.TrustSection(),
		p.relationships.Section(),
		p.publish.Section(),
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
