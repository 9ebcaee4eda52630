package publish

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"planet/core/did/webvh"
	"planet/core/identity"
	"planet/core/page"
	"planet/core/session"
	"planet/vault"
)

// exportName is the section's entry in the export (docs/export-format.md).
const exportName = "publish.json"

// exported is publish.json: the log as published and the update key in
// force (the keys themselves are derived from the identity again).
type exported struct {
	DID     string         `json:"did"`
	Log     string         `json:"log"` // did.jsonl
	Key     uint32         `json:"key"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
	Files   []exportedFile `json:"files,omitempty"`
}

// exportedFile is a document the person publishes, as signed, or their
// picture's bytes.
type exportedFile struct {
	Path     string          `json:"path"`
	Document json.RawMessage `json:"document,omitempty"`
	Bytes    []byte          `json:"bytes,omitempty"` // base64 in JSON: the picture
}

// Section is the person's DID on the web in the export: publish.json,
// absent when there is none.
func (svc *Service) Section() session.Section { return section{} }

type section struct{}

func (section) Export(ctx context.Context, s *session.Session, w *session.Writer) error {
	p, err := get(ctx, s)
	if errors.Is(err, ErrNone) {
		return nil
	} else if err != nil {
		return err
	}
	data, err := p.JSONL()
	if err != nil {
		return err
	}
	out := exported{DID: p.DID.String(), Log: string(data), Key: p.Key, Created: p.Created, Updated: p.Updated}
	files, err := session.List(ctx, s.Vault, filesCollection, func(*fileRecord, string) {})
	if err != nil {
		return err
	}
	for _, f := range files {
		if isPicture(f.Path) {
			out.Files = append(out.Files, exportedFile{Path: f.Path, Bytes: f.Data})
		} else {
			out.Files = append(out.Files, exportedFile{Path: f.Path, Document: f.Data})
		}
	}
	w.JSON(exportName, out)
	return nil
}

func (section) Import() session.SectionImport { return &sectionImport{} }

type sectionImport struct{ in *exported }

func (im *sectionImport) Claims(name string) bool { return name == exportName }

func (im *sectionImport) Entry(_ context.Context, e session.Entry) error {
	im.in = &exported{}
	return e.JSON(im.in)
}

// Restore keeps the log if it verifies and the update key in force is one
// of the imported identity's: else the DID could not be updated from here.
func (im *sectionImport) Restore(tx *vault.Tx, id *identity.Identity, _ *session.Counts) error {
	if im.in == nil {
		return nil
	}
	log, err := webvh.ParseLog([]byte(im.in.Log))
	if err != nil {
		return session.BadExport("publish.json: %v", err)
	}
	versions, err := webvh.Verify(log, nil, time.Now().Add(time.Hour))
	if err != nil {
		return session.BadExport("publish.json: %v", err)
	}
	last := versions[len(versions)-1]
	if last.DID.String() != im.in.DID {
		return session.BadExport("publish.json: the log is of %s, not %s", last.DID, im.in.DID)
	}
	mk := webvh.Multikey(id.UpdateKey(im.in.Key).Public())
	found := false
	for _, k := range last.Parameters.UpdateKeys {
		found = found || k == mk
	}
	if !found {
		return session.BadExport("publish.json: update key %d of this identity may not update the log", im.in.Key)
	}
	wd, err := webvh.FromDID(last.DID.DID())
	if err != nil {
		return session.BadExport("publish.json: %v", err)
	}
	for _, f := range im.in.Files {
		if isPicture(f.Path) {
			if len(f.Bytes) == 0 || len(f.Bytes) > MaxPicture {
				return session.BadExport("publish.json: %s: not a picture of at most %d bytes", f.Path, MaxPicture)
			}
			if err := session.RestoreRecord(tx, filesCollection, fileID(f.Path), fileRecord{Path: f.Path, Data: f.Bytes}); err != nil {
				return err
			}
			continue
		}
		if f.Path == page.WhoisPath {
			if _, err := page.VerifyWhois(f.Document, versions, time.Now().Add(time.Hour)); err != nil {
				return session.BadExport("publish.json: %s does not verify: %v", f.Path, err)
			}
		} else if v, err := page.VerifyLog(f.Document, wd, log, nil, time.Now().Add(time.Hour)); err != nil || v.Path != f.Path {
			return session.BadExport("publish.json: %s does not verify: %v", f.Path, err)
		}
		// Kept as exported: JSON re-indented by the export is the same
		// document to its proof (JCS), and it is uploaded as kept.
		if err := session.RestoreRecord(tx, filesCollection, fileID(f.Path), fileRecord{Path: f.Path, Data: f.Document}); err != nil {
			return err
		}
	}
	data, err := log.MarshalJSONL()
	if err != nil {
		return err
	}
	return session.RestoreRecord(tx, collection, recordID, record{Log: data, Key: im.in.Key,
		Created: session.Millis(im.in.Created), Updated: session.Millis(im.in.Updated)})
}
