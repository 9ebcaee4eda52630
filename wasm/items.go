//go:build js && wasm

package main

import (
	"context"
	"io"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/keys"
)

// recordJS is the page's view of a record: the fields of d.ts, times as
// RFC 3339.
func contactJS(c *contacts.Contact) map[string]any {
	m := map[string]any{"id": c.ID, "name": c.Name, "did": c.DID.String(), "notes": c.Notes,
		"created": c.Created, "updated": c.Updated}
	if c.Origin != "" {
		m["origin"] = c.Origin
	}
	if c.IsConnected() {
		m["connected"] = c.Connected
	}
	if !c.IntroducedBy.IsZero() {
		m["introducedBy"] = c.IntroducedBy.String()
	}
	if c.SharingGraph {
		m["sharingGraph"] = true
	}
	if id := contactPeerID(c.DID); id != "" {
		m["peerId"] = id
	}
	if len(c.Relays) > 0 {
		m["relays"] = c.Relays
	}
	return m
}

// contactPeerID is the libp2p peer ID of a did:key, so that the page can tell
// whether the tab is connected to the contact; "" for other DIDs.
func contactPeerID(d did.DID) string {
	pub, err := d.Ed25519PublicKey()
	if err != nil {
		return ""
	}
	return keys.PeerIDFromEd25519(pub).String()
}

func noteJS(n *core.Note) map[string]any {
	return map[string]any{"id": n.ID, "title": n.Title, "body": n.Body,
		"created": core.Time(n.Created), "updated": core.Time(n.Updated)}
}

func contactsAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func([]safejs.Value) (any, error) {
		cs, err := p.Contacts().List(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(cs))
		for i := range cs {
			out[i] = contactJS(&cs[i])
		}
		return toJS(out)
	}))
	o.Set("add", async(func(args []safejs.Value) (any, error) {
		var in contacts.Input
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		c, err := p.Contacts().Add(ctx, in)
		if err != nil {
			return nil, err
		}
		return toJS(contactJS(c))
	}))
	o.Set("update", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		var in contacts.Input
		if err := fromJS(arg(args, 1), &in); err != nil {
			return nil, err
		}
		c, err := p.Contacts().Update(ctx, id, in)
		if err != nil {
			return nil, err
		}
		return toJS(contactJS(c))
	}))
	o.Set("delete", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.Contacts().Delete(ctx, id)
	}))
	return o
}

func notesAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func([]safejs.Value) (any, error) {
		ns, err := p.Notes(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(ns))
		for i := range ns {
			out[i] = noteJS(&ns[i])
		}
		return toJS(out)
	}))
	o.Set("add", async(func(args []safejs.Value) (any, error) {
		var in core.NoteInput
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		n, err := p.AddNote(ctx, in)
		if err != nil {
			return nil, err
		}
		return toJS(noteJS(n))
	}))
	o.Set("update", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		var in core.NoteInput
		if err := fromJS(arg(args, 1), &in); err != nil {
			return nil, err
		}
		n, err := p.UpdateNote(ctx, id, in)
		if err != nil {
			return nil, err
		}
		return toJS(noteJS(n))
	}))
	o.Set("delete", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.DeleteNote(ctx, id)
	}))
	return o
}

// fileJS is a FileInfo: JSON fields plus the thumbnail as a Blob.
func fileJS(f *core.File) (safejs.Value, error) {
	v, err := toJS(map[string]any{"id": f.ID, "kind": f.Kind, "name": f.Name, "type": f.Type,
		"size": f.Size(), "created": core.Time(f.Created)})
	if err != nil {
		return v, err
	}
	thumb := safejs.Null()
	if len(f.Thumbnail) > 0 {
		w, err := newBlobWriter()
		if err != nil {
			return v, err
		}
		if err := w.writePart(f.Thumbnail); err != nil {
			return v, err
		}
		if thumb, err = w.blob("image/jpeg"); err != nil {
			return v, err
		}
	}
	return v, v.Set("thumbnail", thumb)
}

func filesAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func(args []safejs.Value) (any, error) {
		k, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		kind, err := core.ParseFileKind(k)
		if err != nil {
			return nil, err
		}
		fs, err := p.Files(ctx, kind)
		if err != nil {
			return nil, err
		}
		arr, err := jsArray.New()
		if err != nil {
			return nil, err
		}
		for i := range fs {
			v, err := fileJS(&fs[i])
			if err != nil {
				return nil, err
			}
			arr.Call("push", v)
		}
		return arr, nil
	}))
	o.Set("add", async(func(args []safejs.Value) (any, error) {
		file, opts := arg(args, 0), arg(args, 1)
		r, err := newBlobReader(file)
		if err != nil {
			return nil, errInvalidArg
		}
		var in struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		}
		if err := fromJS(opts, &in); err != nil {
			return nil, err
		}
		fi := core.FileInput{Kind: core.FileKind(in.Kind), Name: in.Name}
		if fi.Name == "" {
			if n, err := file.Get("name"); err == nil && n.Type() == safejs.TypeString {
				fi.Name, _ = n.String()
			}
		}
		if t, err := file.Get("type"); err == nil && t.Type() == safejs.TypeString {
			fi.Type, _ = t.String()
		}
		if th, err := opts.Get("thumbnail"); err == nil && th.Type() == safejs.TypeObject && !th.IsNull() {
			tr, err := newBlobReader(th)
			if err != nil {
				return nil, err
			}
			if fi.Thumbnail, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, err
			}
		}
		var onProgress func(int64)
		if cb, err := opts.Get("onProgress"); err == nil {
			if pr := progress(cb); pr != nil {
				onProgress = func(done int64) { pr(done, r.size) }
			}
		}
		f, err := p.AddFile(ctx, r, fi, onProgress)
		if err != nil {
			return nil, err
		}
		return fileJS(f)
	}))
	o.Set("read", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		f, r, err := p.OpenFile(ctx, id)
		if err != nil {
			return nil, err
		}
		pr := progress(arg(args, 1))
		w, err := newBlobWriter()
		if err != nil {
			return nil, err
		}
		var done int64
		for {
			chunk, err := r.NextChunk()
			if len(chunk) > 0 {
				if err := w.writePart(chunk); err != nil {
					return nil, err
				}
				done += int64(len(chunk))
				if pr != nil {
					pr(done, f.Size())
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		mime := f.Type
		if mime == "" {
			mime = "application/octet-stream"
		}
		return w.blob(mime)
	}))
	o.Set("delete", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.DeleteFile(ctx, id)
	}))
	return o
}
