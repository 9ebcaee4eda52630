package core

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/mr-tron/base58"

	"planet/core/did"
	"planet/core/keys"
	"planet/core/session"
	"planet/vault"
)

// The export format; see docs/export-format.md.
const (
	exportFormat  = "planet-export"
	exportVersion = 1
	// exportWorkFactor is age's scrypt cost (2^16: 64 MiB, like the vault's
	// Argon2id). age's own default, 2^18, needs 256 MiB, which a browser
	// tab never gets back once Go has taken it.
	exportWorkFactor = 16
	// importMaxWorkFactor accepts files made by the stock age tool (2^18)
	// but refuses costs that would exhaust the tab.
	importMaxWorkFactor = 18
)

type manifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	DID     string    `json:"did"`
	Counts  Counts    `json:"counts"`
}

type identityExport struct {
	DID                 string        `json:"did"`
	DIDDocument         *did.Document `json:"didDocument"`
	PrivateKeyMultibase string        `json:"privateKeyMultibase"`
}

// Export writes the whole vault to w as an age file sealed with passphrase
// (docs/export-format.md): the manifest, the identity and the settings, then
// each feature's sections in the order of [Planet.sections], then the files
// they named. progress, if set, receives bytes of files written so far and
// their total.
func (p *Planet) Export(ctx context.Context, w io.Writer, passphrase string, progress func(done, total int64)) error {
	s, err := p.Session()
	if err != nil {
		return err
	}
	v, id := s.Vault, s.Identity
	// The export holds the identity's key: its passphrase must be as hard
	// to guess as the vault's own.
	if err := vault.RequireStrong(passphrase); err != nil {
		return err
	}
	settings, err := p.Settings()
	if err != nil {
		return err
	}
	doc, err := id.DID().Document()
	if err != nil {
		return err
	}
	var sw session.Writer
	for _, sec := range p.sections() {
		if err := sec.Export(ctx, s, &sw); err != nil {
			return err
		}
	}
	entries, files, err := sw.Entries()
	if err != nil {
		return err
	}

	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	rcpt.SetWorkFactor(exportWorkFactor)
	aw, err := age.Encrypt(w, rcpt)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(aw)
	now := p.opt.Now().UTC().Truncate(time.Second)
	x := exporter{tw: tw, now: now}

	seed := id.Seed()
	defer clear(seed)
	x.json("manifest.json", manifest{Format: exportFormat, Version: exportVersion, Created: now, DID: id.DID().String(), Counts: sw.Counts})
	x.json("identity.json", identityExport{id.DID().String(), doc, keys.EncodeMultikey(keys.CodecEd25519Priv, seed)})
	x.json("settings.json", settings)
	for _, e := range entries {
		x.bytes(e.Name, e.Body)
	}
	if x.err != nil {
		return x.err
	}

	var done, total int64
	for _, f := range files {
		total += f.Size
	}
	if progress != nil {
		progress(0, total)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := v.OpenBlob(ctx, f.Blob)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(x.header(f.Path, f.Size, f.Created)); err != nil {
			return err
		}
		for {
			chunk, err := r.NextChunk()
			if len(chunk) > 0 {
				if _, werr := tw.Write(chunk); werr != nil {
					return werr
				}
				done += int64(len(chunk))
				if progress != nil {
					progress(done, total)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("exporting %s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return aw.Close()
}

// exporter writes tar entries, keeping the first error.
type exporter struct {
	tw  *tar.Writer
	now time.Time
	err error
}

func (x *exporter) header(name string, size int64, mod time.Time) *tar.Header {
	return &tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: mod.Truncate(time.Second), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
}

func (x *exporter) bytes(name string, b []byte) {
	if x.err != nil {
		return
	}
	if x.err = x.tw.WriteHeader(x.header(name, int64(len(b)), x.now)); x.err == nil {
		_, x.err = x.tw.Write(b)
	}
}

func (x *exporter) json(name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		x.err = err
		return
	}
	x.bytes(name, append(b, '\n'))
}

func decodePrivateMultikey(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, errors.New("private key is not base58btc multibase")
	}
	b, err := base58.Decode(s[1:])
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	code, n := binary.Uvarint(b)
	if n <= 0 || keys.Codec(code) != keys.CodecEd25519Priv {
		return nil, fmt.Errorf("private key is not ed25519-priv")
	}
	if len(b[n:]) != 32 {
		return nil, fmt.Errorf("private key is %d bytes, want 32", len(b[n:]))
	}
	return bytes.Clone(b[n:]), nil
}
