package core

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
)

// badExport wraps ErrBadExport with a message a person can act on.
var badExport = session.BadExport

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
	for _, sec := range p.sections() {
		im.sections = append(im.sections, sec.Import())
	}
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
	sections []session.SectionImport
	counts   Counts
}

// run reads the archive into the prepared vault: the manifest first, the
// identity and the settings itself, every other entry through the section
// that claims it (entries no section claims are skipped, as a later
// version may add some).
func (im *importer) run(ctx context.Context, tr *tar.Reader, rest io.Reader) (*identity.Identity, Settings, error) {
	settings := DefaultSettings
	next := func() (*tar.Header, error) {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, session.Damaged(err)
		}
		return h, nil
	}
	entry := func(h *tar.Header) session.Entry {
		return session.Entry{Name: h.Name, Size: h.Size, Body: tr, Vault: im.v}
	}
	h, err := next()
	if err != nil || h.Name != "manifest.json" {
		return nil, settings, badExport("the archive does not start with manifest.json")
	}
	var m manifest
	if err := entry(h).JSON(&m); err != nil {
		return nil, settings, err
	}
	if m.Format != exportFormat {
		return nil, settings, badExport("the archive is not a PLANET export (format %q)", m.Format)
	}
	if m.Version < 1 || m.Version > exportVersion {
		return nil, settings, badExport("export version %d is newer than this PLANET reads (%d)", m.Version, exportVersion)
	}

	var id *identity.Identity
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
		switch name := h.Name; name {
		case "identity.json":
			var ie identityExport
			if err := entry(h).JSON(&ie); err != nil {
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
		case "settings.json":
			if err := entry(h).JSON(&settings); err != nil {
				return id, settings, err
			}
			if err := settings.check(); err != nil {
				return id, settings, badExport("settings.json: %v", err)
			}
		default:
			for _, sec := range im.sections {
				if sec.Claims(name) {
					if err := sec.Entry(ctx, entry(h)); err != nil {
						return id, settings, err
					}
					break
				}
			}
		}
	}
	// The archive's end must also be the end of the authenticated stream:
	// this is where age detects a truncated file.
	if _, err := io.Copy(io.Discard, rest); err != nil {
		return id, settings, session.Damaged(err)
	}
	if id == nil {
		return nil, settings, badExport("the export holds no identity")
	}
	return id, settings, im.writeRecords(ctx, id, settings, m.Counts)
}

// writeRecords writes the identity, the settings and every section in one
// update of the new vault, and checks that the sections restored what the
// manifest counts.
func (im *importer) writeRecords(ctx context.Context, id *identity.Identity, settings Settings, want Counts) error {
	return im.v.Update(ctx, func(tx *vault.Tx) error {
		seed := id.Seed()
		defer clear(seed)
		if err := session.RestoreRecord(tx, colIdentity, "self", identityRecord{Seed: seed, Created: im.now().UnixMilli()}); err != nil {
			return err
		}
		if err := session.RestoreRecord(tx, colSettings, "settings", settings); err != nil {
			return err
		}
		for _, sec := range im.sections {
			if err := sec.Restore(tx, id, &im.counts); err != nil {
				return err
			}
		}
		if im.counts != want {
			return badExport("the export lists %+v but holds %+v", want, im.counts)
		}
		return nil
	})
}
