//go:build js && wasm

package main

import (
	"context"
	"io"

	"github.com/hack-pad/safejs"

	"planet/wasm/browser"
)

// blobReader reads a JavaScript Blob (or File) in slices, so that a file
// of any size crosses into Go a bounded piece at a time.
type blobReader struct {
	blob safejs.Value
	size int64
	off  int64
	buf  []byte
}

const blobSlice = 1 << 20

func newBlobReader(blob safejs.Value) (*blobReader, error) {
	sz, err := blob.Get("size")
	if err != nil {
		return nil, err
	}
	n, err := sz.Float()
	if err != nil {
		return nil, err
	}
	return &blobReader{blob: blob, size: int64(n)}, nil
}

func (r *blobReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.size {
			return 0, io.EOF
		}
		end := min(r.off+blobSlice, r.size)
		part, err := r.blob.Call("slice", float64(r.off), float64(end))
		if err != nil {
			return 0, err
		}
		ab, err := part.Call("arrayBuffer")
		if err != nil {
			return 0, err
		}
		buf, err := browser.Await(context.Background(), ab)
		if err != nil {
			return 0, err
		}
		// Copied into r.buf, which is reused: a file crosses in one
		// allocation rather than one per slice.
		arr, err := browser.Uint8Array.New(buf)
		if err != nil {
			return 0, err
		}
		if cap(r.buf) < int(end-r.off) {
			r.buf = make([]byte, end-r.off)
		}
		r.buf = r.buf[:end-r.off]
		if _, err := safejs.CopyBytesToGo(r.buf, arr); err != nil {
			return 0, err
		}
		r.off = end
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// blobWriter collects bytes into JavaScript memory, a part at a time, and
// hands back a Blob: the Go heap holds at most one part.
type blobWriter struct {
	parts safejs.Value
	buf   []byte
}

func newBlobWriter() (*blobWriter, error) {
	parts, err := browser.Array.New()
	return &blobWriter{parts: parts, buf: make([]byte, 0, blobSlice)}, err
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// writePart appends b as a part of its own, without copying it in Go.
func (w *blobWriter) writePart(b []byte) error {
	if err := w.flush(); err != nil {
		return err
	}
	arr, err := browser.BytesToJS(b)
	if err != nil {
		return err
	}
	_, err = w.parts.Call("push", arr)
	return err
}

func (w *blobWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	arr, err := browser.BytesToJS(w.buf)
	if err != nil {
		return err
	}
	w.buf = w.buf[:0]
	_, err = w.parts.Call("push", arr)
	return err
}

// blob returns everything written as a Blob of the given MIME type.
func (w *blobWriter) blob(mime string) (safejs.Value, error) {
	if err := w.flush(); err != nil {
		return safejs.Value{}, err
	}
	opts := newObject()
	opts.Set("type", mime)
	return browser.Global("Blob").New(w.parts, opts)
}
