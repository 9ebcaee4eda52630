package vault_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"planet/vault"
	"planet/vault/mem"
)

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	io.ReadFull(seeded(seed), b)
	return b
}

func TestBlobRoundTrip(t *testing.T) {
	v, _ := newVault(t)
	for _, size := range []int{0, 1, vault.ChunkSize - 1, vault.ChunkSize, vault.ChunkSize + 1, 3*vault.ChunkSize + 17, 17 * vault.ChunkSize} {
		data := randomBytes(size, byte(size))
		var progress []int64
		ref, err := v.WriteBlob(ctx, bytes.NewReader(data), func(n int64) { progress = append(progress, n) })
		if err != nil {
			t.Fatalf("WriteBlob(%d bytes): %v", size, err)
		}
		if ref.Size != int64(size) || progress[len(progress)-1] != int64(size) {
			t.Fatalf("WriteBlob(%d bytes): ref.Size %d, last progress %d", size, ref.Size, progress[len(progress)-1])
		}
		r, err := v.OpenBlob(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (%v), want %d identical", len(got), err, size)
		}
	}
}

func TestBlobDelete(t *testing.T) {
	v, s := newVault(t)
	ref, err := v.WriteBlob(ctx, bytes.NewReader(randomBytes(3*vault.ChunkSize, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := v.WriteBlob(ctx, strings.NewReader("keep me"), nil)
	n := s.Len()
	if err := v.Update(ctx, func(tx *vault.Tx) error { tx.DeleteBlob(ref); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != n-3 {
		t.Fatalf("store holds %d keys after deleting a 3-chunk file, want %d", got, n-3)
	}
	r, _ := v.OpenBlob(ctx, other)
	if b, err := io.ReadAll(r); err != nil || string(b) != "keep me" {
		t.Fatalf("other file = %q, %v", b, err)
	}
}

// A failing reader leaves no chunks behind.
func TestBlobWriteFailureCleansUp(t *testing.T) {
	v, s := newVault(t)
	n := s.Len()
	r := io.MultiReader(bytes.NewReader(randomBytes(5*vault.ChunkSize, 2)), errReader{})
	if _, err := v.WriteBlob(ctx, r, nil); err == nil {
		t.Fatal("WriteBlob succeeded on a failing reader")
	}
	if got := s.Len(); got != n {
		t.Fatalf("failed write left %d keys", got-n)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestBlobTamper(t *testing.T) {
	chunk := func(s *mem.Store, i int) string {
		var keys []string
		s.Scan(ctx, "b/", func(k string, _ []byte) error { keys = append(keys, k); return nil })
		return keys[i]
	}
	set := func(s *mem.Store, k string, v []byte) {
		var b vault.Batch
		if v == nil {
			b.Delete(k)
		} else {
			b.Put(k, v)
		}
		s.Apply(ctx, &b)
	}
	tests := []struct {
		name string
		fn   func(s *mem.Store, ref vault.BlobRef)
	}{
		{"truncate: drop last chunk", func(s *mem.Store, _ vault.BlobRef) { set(s, chunk(s, 2), nil) }},
		{"reorder chunks", func(s *mem.Store, _ vault.BlobRef) {
			a, _ := s.Get(ctx, chunk(s, 0))
			b, _ := s.Get(ctx, chunk(s, 1))
			set(s, chunk(s, 0), b)
			set(s, chunk(s, 1), a)
		}},
		{"flip a bit", func(s *mem.Store, _ vault.BlobRef) {
			a, _ := s.Get(ctx, chunk(s, 1))
			a[100] ^= 0x80
			set(s, chunk(s, 1), a)
		}},
		{"claim fewer chunks", func(s *mem.Store, ref vault.BlobRef) {}}, // ref.Size lowered below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, s := newVault(t)
			data := randomBytes(2*vault.ChunkSize+5, 9)
			ref, err := v.WriteBlob(ctx, bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.fn(s, ref)
			if tt.name == "claim fewer chunks" {
				ref.Size = 2 * vault.ChunkSize // chunk 1 is not final: must not open as final
			}
			r, err := v.OpenBlob(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("ReadAll = %d bytes, %v; want ErrCorrupt", len(got), err)
			}
		})
	}
}

// Chunks of one file cannot stand in for another's, even at the same index.
func TestBlobSwapBetweenFiles(t *testing.T) {
	v, s := newVault(t)
	a, _ := v.WriteBlob(ctx, strings.NewReader("file a"), nil)
	b, _ := v.WriteBlob(ctx, strings.NewReader("file b"), nil)
	var keys []string
	s.Scan(ctx, "b/", func(k string, _ []byte) error { keys = append(keys, k); return nil })
	va, _ := s.Get(ctx, keys[0])
	vb, _ := s.Get(ctx, keys[1])
	var batch vault.Batch
	batch.Put(keys[0], vb)
	batch.Put(keys[1], va)
	s.Apply(ctx, &batch)
	for _, ref := range []vault.BlobRef{a, b} {
		r, _ := v.OpenBlob(ctx, ref)
		if got, err := io.ReadAll(r); !errors.Is(err, vault.ErrCorrupt) {
			t.Fatalf("swapped chunk read as %q, %v", got, err)
		}
	}
}

func TestGoChunkCryptoMatchesFormat(t *testing.T) {
	// AES-256-GCM, key 0x00..1f, nonce u64be(0)||000||01, ad label||0||id.
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	aead, err := vault.GoChunkCrypto(key)
	if err != nil {
		t.Fatal(err)
	}
	nonce := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	ct, _ := aead.Seal(nonce, []byte("x"), []byte("ad"))
	if len(ct) != 1+16 {
		t.Fatalf("sealed length %d, want 17", len(ct))
	}
	pt, err := aead.Open(nonce, ct, []byte("ad"))
	if err != nil || string(pt) != "x" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestSweepBlobs(t *testing.T) {
	v, s := newVault(t)
	keep, _ := v.WriteBlob(ctx, bytes.NewReader(randomBytes(2*vault.ChunkSize, 3)), nil)
	orphan, _ := v.WriteBlob(ctx, bytes.NewReader(randomBytes(3*vault.ChunkSize, 4)), nil)
	if err := v.Put(ctx, "notes", "n", []byte("unrelated")); err != nil {
		t.Fatal(err)
	}
	before := s.Len()
	n, err := v.SweepBlobs(ctx, []vault.BlobRef{keep})
	if err != nil || n != 1 {
		t.Fatalf("SweepBlobs = %d, %v; want 1 file removed", n, err)
	}
	if got := s.Len(); got != before-3 {
		t.Fatalf("store holds %d keys after the sweep, want %d", got, before-3)
	}
	r, _ := v.OpenBlob(ctx, keep)
	if _, err := io.ReadAll(r); err != nil {
		t.Fatalf("kept file: %v", err)
	}
	r, _ = v.OpenBlob(ctx, orphan)
	if _, err := io.ReadAll(r); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("swept file still reads: %v", err)
	}
	if got, _ := v.Get(ctx, "notes", "n"); string(got) != "unrelated" {
		t.Fatal("the sweep touched a record")
	}
	if n, _ := v.SweepBlobs(ctx, []vault.BlobRef{keep}); n != 0 {
		t.Fatalf("second sweep removed %d files", n)
	}
}
