package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"planet/vault"
)

// listRecords decodes every record of a collection; setID gives each its id.
func listRecords[T any](ctx context.Context, v *vault.Vault, c vault.Collection, setID func(*T, string)) ([]T, error) {
	recs, err := v.List(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(recs))
	for _, r := range recs {
		var t T
		if err := vault.UnmarshalCBOR(r.Data, &t); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", c, r.ID, errors.Join(vault.ErrCorrupt, err))
		}
		setID(&t, r.ID)
		out = append(out, t)
	}
	return out, nil
}

func getRecord[T any](ctx context.Context, v *vault.Vault, c vault.Collection, id string) (*T, error) {
	if !vault.ValidRecordID(id) {
		return nil, fmt.Errorf("%q is not a record id: %w", id, ErrInvalid)
	}
	b, err := v.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var t T
	if err := vault.UnmarshalCBOR(b, &t); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", c, id, errors.Join(vault.ErrCorrupt, err))
	}
	return &t, nil
}

func putRecord(ctx context.Context, v *vault.Vault, c vault.Collection, id string, rec any) error {
	b, err := vault.MarshalCBOR(rec)
	if err != nil {
		return err
	}
	return v.Put(ctx, c, id, b)
}

func (p *Planet) deleteRecord(ctx context.Context, c vault.Collection, id string) error {
	v, _, err := p.unlocked()
	if err != nil {
		return err
	}
	if !vault.ValidRecordID(id) {
		return fmt.Errorf("%q is not a record id: %w", id, ErrInvalid)
	}
	if _, err := v.Get(ctx, c, id); err != nil {
		return err
	}
	return v.Delete(ctx, c, id)
}

// Notes lists the person's notes, newest first.
func (p *Planet) Notes(ctx context.Context) ([]Note, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	ns, err := listRecords(ctx, v, colNotes, func(n *Note, id string) { n.ID = id })
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].Updated > ns[j].Updated })
	return ns, err
}

// AddNote stores a new note.
func (p *Planet) AddNote(ctx context.Context, in NoteInput) (*Note, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	now := millis(p.opt.Now())
	n := &Note{ID: vault.NewRecordID(), Title: in.Title, Body: in.Body, Created: now, Updated: now}
	return n, putRecord(ctx, v, colNotes, n.ID, n)
}

// UpdateNote replaces a note's title and body.
func (p *Planet) UpdateNote(ctx context.Context, id string, in NoteInput) (*Note, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	n, err := getRecord[Note](ctx, v, colNotes, id)
	if err != nil {
		return nil, err
	}
	n.ID, n.Title, n.Body, n.Updated = id, in.Title, in.Body, millis(p.opt.Now())
	return n, putRecord(ctx, v, colNotes, id, n)
}

// DeleteNote removes a note.
func (p *Planet) DeleteNote(ctx context.Context, id string) error {
	return p.deleteRecord(ctx, colNotes, id)
}

// Files lists photos or documents (kind "" lists both), newest first.
func (p *Planet) Files(ctx context.Context, kind FileKind) ([]File, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	all, err := listRecords(ctx, v, colFiles, func(f *File, id string) { f.ID = id })
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, f := range all {
		if kind == "" || f.Kind == kind {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// AddFile streams r into the vault as a new photo or document. progress,
// if set, receives the bytes stored so far.
func (p *Planet) AddFile(ctx context.Context, r io.Reader, in FileInput, progress func(done int64)) (*File, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	ref, err := v.WriteBlob(ctx, r, progress)
	if err != nil {
		return nil, err
	}
	f := &File{ID: vault.NewRecordID(), Kind: in.Kind, Name: in.Name, Type: in.Type, Created: millis(p.opt.Now()), Blob: ref, Thumbnail: in.Thumbnail}
	b, err := vault.MarshalCBOR(f)
	if err != nil {
		return nil, err
	}
	err = v.Update(ctx, func(tx *vault.Tx) error { tx.Put(colFiles, f.ID, b); return nil })
	if err != nil {
		v.Update(context.WithoutCancel(ctx), func(tx *vault.Tx) error { tx.DeleteBlob(ref); return nil })
		return nil, err
	}
	return f, nil
}

// File returns one file's description.
func (p *Planet) File(ctx context.Context, id string) (*File, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	f, err := getRecord[File](ctx, v, colFiles, id)
	if err != nil {
		return nil, err
	}
	f.ID = id
	return f, nil
}

// OpenFile returns a file's description and a reader of its bytes.
func (p *Planet) OpenFile(ctx context.Context, id string) (*File, *vault.BlobReader, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, nil, err
	}
	f, err := p.File(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	r, err := v.OpenBlob(ctx, f.Blob)
	return f, r, err
}

// DeleteFile removes a file's description and its bytes, atomically.
func (p *Planet) DeleteFile(ctx context.Context, id string) error {
	v, _, err := p.unlocked()
	if err != nil {
		return err
	}
	f, err := p.File(ctx, id)
	if err != nil {
		return err
	}
	return v.Update(ctx, func(tx *vault.Tx) error {
		tx.Delete(colFiles, id)
		tx.DeleteBlob(f.Blob)
		return nil
	})
}
