package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ChunkSize is how much plaintext each sealed chunk of a file holds (the
// last one may hold less). 256 KiB keeps memory small and makes each
// WebCrypto call in the browser worth its fixed cost.
const ChunkSize = 256 << 10

// chunksPerWrite is how many chunks go to the store in one atomic write
// while a file streams in: large enough that per-write overhead is small,
// small enough that memory stays bounded (4 MiB).
const chunksPerWrite = 16

// A BlobRef is what a record keeps to find and open a file: where its
// chunks are, the key that seals them, and its size. It is secret: it is
// only ever stored inside a sealed record. Change rules: numbered keys are
// never reused; fields added later are optional.
type BlobRef struct {
	ID        []byte `cbor:"1,keyasint" json:"-"` // 16 random bytes
	Key       []byte `cbor:"2,keyasint" json:"-"` // 32 random bytes
	Size      int64  `cbor:"3,keyasint" json:"size"`
	ChunkSize int64  `cbor:"4,keyasint" json:"-"`
}

func (r BlobRef) check() error {
	if len(r.ID) != 16 || len(r.Key) != 32 || r.Size < 0 || r.ChunkSize != ChunkSize {
		return fmt.Errorf("vault: malformed file reference: %w", ErrCorrupt)
	}
	return nil
}

func (r BlobRef) storePrefix() string { return "b/" + hex.EncodeToString(r.ID) + "/" }

func (r BlobRef) chunkKey(i int64) string { return fmt.Sprintf("%s%08x", r.storePrefix(), i) }

// chunks is the number of chunks a file of this size has: at least one.
func (r BlobRef) chunks() int64 {
	if r.Size == 0 {
		return 1
	}
	return (r.Size + r.ChunkSize - 1) / r.ChunkSize
}

func (r BlobRef) ad() []byte { return append(ad(labelChunk, ""), r.ID...) }

// chunkNonce is the chunk's index and final flag, which the AEAD binds in.
func chunkNonce(i int64, final bool) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n, uint64(i))
	if final {
		n[11] = 1
	}
	return n
}

// ChunkCrypto makes the AES-256-GCM that seals a file's chunks, given the
// file's key. Implementations must be interchangeable byte for byte.
type ChunkCrypto func(key []byte) (ChunkAEAD, error)

// ChunkAEAD seals and opens chunks (nonce 12 bytes, tag 16 bytes appended).
type ChunkAEAD interface {
	Seal(nonce, plaintext, ad []byte) ([]byte, error)
	Open(nonce, ciphertext, ad []byte) ([]byte, error)
}

// GoChunkCrypto is AES-256-GCM from Go's standard library.
func GoChunkCrypto(key []byte) (ChunkAEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return goGCM{g}, nil
}

type goGCM struct{ g cipher.AEAD }

func (g goGCM) Seal(nonce, pt, ad []byte) ([]byte, error) { return g.g.Seal(nil, nonce, pt, ad), nil }
func (g goGCM) Open(nonce, ct, ad []byte) ([]byte, error) { return g.g.Open(nil, nonce, ct, ad) }

// WriteBlob streams r into the vault as sealed chunks and returns the
// reference to keep in a record. Nothing refers to the chunks until that
// record is committed, so an interrupted write leaves no visible file.
// progress, if not nil, is called with the bytes stored so far.
func (v *Vault) WriteBlob(ctx context.Context, r io.Reader, progress func(done int64)) (BlobRef, error) {
	if v.Locked() {
		return BlobRef{}, ErrLocked
	}
	ref := BlobRef{ID: make([]byte, 16), Key: make([]byte, 32), ChunkSize: ChunkSize}
	if _, err := io.ReadFull(v.opt.Rand, ref.ID); err != nil {
		return BlobRef{}, err
	}
	if _, err := io.ReadFull(v.opt.Rand, ref.Key); err != nil {
		return BlobRef{}, err
	}
	aead, err := v.opt.Chunks(ref.Key)
	if err != nil {
		return BlobRef{}, err
	}
	fail := func(err error) (BlobRef, error) {
		var b Batch
		b.DeletePrefix(ref.storePrefix())
		_ = v.store.Apply(context.WithoutCancel(ctx), &b) // best effort: leftovers are invisible anyway
		return BlobRef{}, err
	}

	// Read one chunk ahead: a chunk is final when nothing follows it.
	cur, next := make([]byte, ChunkSize), make([]byte, ChunkSize)
	n, err := readChunk(r, cur)
	if err != nil {
		return fail(err)
	}
	var batch Batch
	for i := int64(0); ; i++ {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		m := 0
		if n == ChunkSize {
			if m, err = readChunk(r, next); err != nil {
				return fail(err)
			}
		}
		final := m == 0
		ct, err := aead.Seal(chunkNonce(i, final), cur[:n], ref.ad())
		if err != nil {
			return fail(fmt.Errorf("vault: sealing chunk %d: %w", i, err))
		}
		batch.Put(ref.chunkKey(i), ct)
		ref.Size += int64(n)
		if final || batch.Len() == chunksPerWrite {
			if err := v.store.Apply(ctx, &batch); err != nil {
				return fail(fmt.Errorf("vault: writing file: %w", err))
			}
			batch = Batch{}
			if progress != nil {
				progress(ref.Size)
			}
		}
		if final {
			return ref, nil
		}
		cur, next, n = next, cur, m
	}
}

// readChunk fills buf as far as r allows, returning how much it read.
func readChunk(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	if err != nil {
		return n, fmt.Errorf("vault: reading file: %w", err)
	}
	return n, nil
}

// OpenBlob returns a reader of the file ref points to. It reads and checks
// one chunk at a time; a tampered, reordered or truncated file yields an
// error wrapping ErrCorrupt, never wrong bytes.
func (v *Vault) OpenBlob(ctx context.Context, ref BlobRef) (*BlobReader, error) {
	if v.Locked() {
		return nil, ErrLocked
	}
	if err := ref.check(); err != nil {
		return nil, err
	}
	aead, err := v.opt.Chunks(ref.Key)
	if err != nil {
		return nil, err
	}
	return &BlobReader{ctx: ctx, v: v, ref: ref, aead: aead}, nil
}

// A BlobReader reads a file from the vault; see [Vault.OpenBlob].
type BlobReader struct {
	ctx  context.Context
	v    *Vault
	ref  BlobRef
	aead ChunkAEAD
	next int64  // next chunk to read
	read int64  // plaintext bytes produced
	buf  []byte // unread plaintext of the current chunk
	err  error
}

// Size is the file's size in bytes.
func (b *BlobReader) Size() int64 { return b.ref.Size }

// Read implements io.Reader.
func (b *BlobReader) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		b.buf, b.err = b.nextChunk()
		if b.err != nil && len(b.buf) == 0 && b.err != io.EOF {
			return 0, b.err
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// NextChunk returns the next chunk's plaintext whole, for callers that
// move data in chunks (the browser), or io.EOF after the last.
func (b *BlobReader) NextChunk() ([]byte, error) {
	if len(b.buf) > 0 {
		c := b.buf
		b.buf = nil
		return c, nil
	}
	if b.err != nil {
		return nil, b.err
	}
	c, err := b.nextChunk()
	b.err = err
	if len(c) == 0 && err != nil {
		return nil, err
	}
	return c, nil
}

func (b *BlobReader) nextChunk() ([]byte, error) {
	total := b.ref.chunks()
	if b.next == total {
		return nil, io.EOF
	}
	if b.v.Locked() {
		return nil, ErrLocked
	}
	i := b.next
	ct, err := b.v.store.Get(b.ctx, b.ref.chunkKey(i))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("vault: file chunk %d of %d is missing: %w", i, total, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: reading file: %w", err)
	}
	final := i == total-1
	pt, err := b.aead.Open(chunkNonce(i, final), ct, b.ref.ad())
	if err != nil {
		return nil, fmt.Errorf("vault: file chunk %d of %d: %w", i, total, ErrCorrupt)
	}
	if (!final && len(pt) != int(b.ref.ChunkSize)) || (final && b.read+int64(len(pt)) != b.ref.Size) {
		return nil, fmt.Errorf("vault: file chunk %d has the wrong length: %w", i, ErrCorrupt)
	}
	b.next++
	b.read += int64(len(pt))
	if final {
		return pt, io.EOF
	}
	return pt, nil
}

// SweepBlobs deletes the chunks of every file not in live: what an upload
// interrupted by a closed tab or a crash left behind. It needs a store that
// is a [KeyLister] (otherwise it does nothing), and it must not run while a
// file is being written, whose chunks are not yet referred to by anything.
// It returns how many files it removed.
func (v *Vault) SweepBlobs(ctx context.Context, live []BlobRef) (int, error) {
	if v.Locked() {
		return 0, ErrLocked
	}
	kl, ok := v.store.(KeyLister)
	if !ok {
		return 0, nil
	}
	keys, err := kl.Keys(ctx, "b/")
	if err != nil {
		return 0, fmt.Errorf("vault: listing file chunks: %w", err)
	}
	keep := make(map[string]bool, len(live))
	for _, ref := range live {
		keep[ref.storePrefix()] = true
	}
	var b Batch
	seen := map[string]bool{}
	for _, k := range keys {
		i := strings.IndexByte(k[2:], '/')
		if i < 0 {
			continue
		}
		prefix := k[:2+i+1]
		if !keep[prefix] && !seen[prefix] {
			seen[prefix] = true
			b.DeletePrefix(prefix)
		}
	}
	if b.Len() == 0 {
		return 0, nil
	}
	if err := v.store.Apply(ctx, &b); err != nil {
		return 0, fmt.Errorf("vault: removing unreferenced file chunks: %w", err)
	}
	return b.Len(), nil
}
