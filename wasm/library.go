//go:build js && wasm

package main

import (
	"context"
	"io"

	"planet/core"
	"planet/core/library"

	"github.com/hack-pad/safejs"
)

func noteJS(n *library.Note) map[string]any {
	return map[string]any{"id": n.ID, "title": n.Title, "body": n.Body,
		"created": n.Created, "updated": n.Updated}
}

func notesAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func([]safejs.Value) (any, error) {
		ns, err := p.Library().Notes(ctx)
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
		var in library.NoteInput
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		n, err := p.Library().AddNote(ctx, in)
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
		var in library.NoteInput
		if err := fromJS(arg(args, 1), &in); err != nil {
			return nil, err
		}
		n, err := p.Library().UpdateNote(ctx, id, in)
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
		return nil, p.Library().DeleteNote(ctx, id)
	}))
	return o
}

// fileJS is a FileInfo: JSON fields plus the thumbnail as a Blob.
func fileJS(f *library.File) (safejs.Value, error) {
	v, err := toJS(map[string]any{"id": f.ID, "kind": f.Kind, "name": f.Name, "type": f.Type,
		"size": f.Size, "created": f.Created})
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
		kind, err := library.ParseFileKind(k)
		if err != nil {
			return nil, err
		}
		fs, err := p.Library().Files(ctx, kind)
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
		fi := library.FileInput{Kind: library.FileKind(in.Kind), Name: in.Name}
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
		f, err := p.Library().AddFile(ctx, r, fi, onProgress)
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
		f, r, err := p.Library().OpenFile(ctx, id)
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
					pr(done, f.Size)
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
		return nil, p.Library().DeleteFile(ctx, id)
	}))
	return o
}
