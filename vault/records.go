package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// index is one shard of a collection's table of contents: which of the
// shard's records exist and the version of each one's current value.
// Change rules: numbered keys are never reused; fields added later are
// optional.
type index struct {
	Versions map[string]uint64 `cbor:"1,keyasint"`
	Last     uint64            `cbor:"2,keyasint"` // last version this shard handed out
}

func newIndex() *index { return &index{Versions: map[string]uint64{}} }

// clone copies an index, for writing without touching the cached one.
func (ix *index) clone() *index {
	cp := &index{Versions: make(map[string]uint64, len(ix.Versions)+1), Last: ix.Last}
	for k, ver := range ix.Versions {
		cp.Versions[k] = ver
	}
	return cp
}

// collectionIndex caches the decrypted shards of a collection's index.
type collectionIndex struct {
	shards   map[byte]*index
	complete bool // every stored shard is in shards; the others are empty
}

// A Record is one decrypted record.
type Record struct {
	ID   string
	Data []byte
}

func indexAD(c Collection, shard byte) []byte { return ad(labelIndex, string(c), string(shard)) }

func (v *Vault) openIndex(c Collection, shard byte, sealed []byte) (*index, error) {
	pt, err := open(v.secrets.recordKey, sealed, indexAD(c, shard))
	if err != nil {
		return nil, fmt.Errorf("vault: index of %s: %w", c, err)
	}
	ix := newIndex()
	if err := UnmarshalCBOR(pt, ix); err != nil {
		return nil, fmt.Errorf("vault: index of %s: %w", c, errors.Join(ErrCorrupt, err))
	}
	if ix.Versions == nil {
		ix.Versions = map[string]uint64{}
	}
	return ix, nil
}

func (v *Vault) cached(c Collection) (*collectionIndex, error) {
	if v.secrets == nil {
		return nil, ErrLocked
	}
	ci, ok := v.indexes[c]
	if !ok {
		ci = &collectionIndex{shards: map[byte]*index{}}
		v.indexes[c] = ci
	}
	return ci, nil
}

// loadShard returns one shard of a collection's index, reading and caching
// it on first use, or ErrLocked. v.mu must be held for writing. Reads hold
// it too: the cache fills on first use, and a vault has one user at a time.
func (v *Vault) loadShard(ctx context.Context, c Collection, shard byte) (*index, error) {
	ci, err := v.cached(c)
	if err != nil {
		return nil, err
	}
	if ix, ok := ci.shards[shard]; ok {
		return ix, nil
	}
	ix := newIndex()
	if !ci.complete {
		b, err := v.store.Get(ctx, v.secrets.indexPrefix(c)+string(shard))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("vault: reading index of %s: %w", c, err)
		default:
			if ix, err = v.openIndex(c, shard, b); err != nil {
				return nil, err
			}
		}
	}
	ci.shards[shard] = ix
	return ix, nil
}

// loadIndex returns every shard of a collection's index, read with one
// scan of the store on first use. v.mu must be held for writing.
func (v *Vault) loadIndex(ctx context.Context, c Collection) (*collectionIndex, error) {
	ci, err := v.cached(c)
	if err != nil || ci.complete {
		return ci, err
	}
	prefix := v.secrets.indexPrefix(c)
	err = v.store.Scan(ctx, prefix, func(key string, val []byte) error {
		if len(key) != len(prefix)+1 {
			return nil // not a shard: unreachable, whatever put it there
		}
		shard := key[len(prefix)]
		if _, ok := ci.shards[shard]; ok {
			return nil
		}
		ix, err := v.openIndex(c, shard, val)
		if err != nil {
			return err
		}
		ci.shards[shard] = ix
		return nil
	})
	if err != nil {
		return nil, err
	}
	ci.complete = true
	return ci, nil
}

func recordAD(c Collection, id string, version uint64) []byte {
	var ver [8]byte
	binary.BigEndian.PutUint64(ver[:], version)
	return append(ad(labelRecord, string(c), id, ""), ver[:]...)
}

// Get returns the record id in collection c, or an error wrapping
// ErrNotFound.
func (v *Vault) Get(ctx context.Context, c Collection, id string) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secrets == nil {
		return nil, ErrLocked
	}
	loc := v.secrets.locate(c, id)
	ix, err := v.loadShard(ctx, c, loc.shard)
	if err != nil {
		return nil, err
	}
	ver, ok := ix.Versions[id]
	if !ok {
		return nil, fmt.Errorf("vault: %s/%s: %w", c, id, ErrNotFound)
	}
	b, err := v.store.Get(ctx, loc.key)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("vault: %s/%s is listed but missing: %w", c, id, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: reading %s/%s: %w", c, id, err)
	}
	pt, err := open(v.secrets.recordKey, b, recordAD(c, id, ver))
	if err != nil {
		return nil, fmt.Errorf("vault: %s/%s: %w", c, id, err)
	}
	return pt, nil
}

// List returns every record of collection c, ordered by id. It reads the
// collection with one scan of the store.
func (v *Vault) List(ctx context.Context, c Collection) ([]Record, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ci, err := v.loadIndex(ctx, c)
	if err != nil {
		return nil, err
	}
	type entry struct {
		id      string
		version uint64
	}
	byKey := map[string]entry{} // store key → record
	for _, ix := range ci.shards {
		for id, ver := range ix.Versions {
			byKey[v.secrets.locate(c, id).key] = entry{id, ver}
		}
	}
	out := make([]Record, 0, len(byKey))
	err = v.store.Scan(ctx, v.secrets.recordPrefix(c), func(key string, val []byte) error {
		e, ok := byKey[key]
		if !ok {
			return nil // not in the index: unreachable, whatever put it there
		}
		id := e.id
		pt, err := open(v.secrets.recordKey, val, recordAD(c, id, e.version))
		if err != nil {
			return fmt.Errorf("vault: %s/%s: %w", c, id, err)
		}
		out = append(out, Record{ID: id, Data: pt})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(byKey) {
		return nil, fmt.Errorf("vault: %s lists %d records but %d are stored: %w", c, len(byKey), len(out), ErrCorrupt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Count returns how many records collection c holds, without decrypting
// them.
func (v *Vault) Count(ctx context.Context, c Collection) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ci, err := v.loadIndex(ctx, c)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ix := range ci.shards {
		n += len(ix.Versions)
	}
	return n, nil
}

// A Tx collects writes that [Vault.Update] commits atomically.
type Tx struct {
	ops   []txOp
	blobs []BlobRef // files to delete
}

type txOp struct {
	c      Collection
	id     string
	data   []byte // nil means delete
	delete bool
}

// Put stores data as record id of collection c, replacing any earlier value.
func (tx *Tx) Put(c Collection, id string, data []byte) {
	if data == nil {
		data = []byte{}
	}
	tx.ops = append(tx.ops, txOp{c: c, id: id, data: data})
}

// Delete removes record id from collection c. Deleting a missing record is
// not an error.
func (tx *Tx) Delete(c Collection, id string) {
	tx.ops = append(tx.ops, txOp{c: c, id: id, delete: true})
}

// DeleteBlob removes a file's chunks. Pair it with deleting the record that
// refers to the file.
func (tx *Tx) DeleteBlob(ref BlobRef) { tx.blobs = append(tx.blobs, ref) }

// Update runs fn to collect writes and commits them in one atomic store
// write, with the indexes of the collections they touch. If fn returns an
// error nothing is written.
func (v *Vault) Update(ctx context.Context, fn func(tx *Tx) error) error {
	var tx Tx
	if err := fn(&tx); err != nil {
		return err
	}
	for _, op := range tx.ops {
		if !validCollection(string(op.c)) {
			return fmt.Errorf("vault: invalid collection name %q", op.c)
		}
		if !ValidRecordID(op.id) {
			return fmt.Errorf("vault: invalid record id %q", op.id)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secrets == nil {
		return ErrLocked
	}
	// Work on copies of the index shards so that a failed store write
	// leaves the cached ones matching the store.
	type shardRef struct {
		c     Collection
		shard byte
	}
	next := map[shardRef]*index{}
	var b Batch
	for _, op := range tx.ops {
		loc := v.secrets.locate(op.c, op.id)
		ref := shardRef{op.c, loc.shard}
		ix, ok := next[ref]
		if !ok {
			cur, err := v.loadShard(ctx, op.c, loc.shard)
			if err != nil {
				return err
			}
			ix = cur.clone()
			next[ref] = ix
		}
		if op.delete {
			delete(ix.Versions, op.id)
			b.Delete(loc.key)
			continue
		}
		ix.Last++
		ix.Versions[op.id] = ix.Last
		sealed, err := seal(v.secrets.recordKey, op.data, recordAD(op.c, op.id, ix.Last), v.opt.Rand)
		if err != nil {
			return err
		}
		b.Put(loc.key, sealed)
	}
	for ref, ix := range next {
		pt, err := MarshalCBOR(ix)
		if err != nil {
			return err
		}
		sealed, err := seal(v.secrets.recordKey, pt, indexAD(ref.c, ref.shard), v.opt.Rand)
		if err != nil {
			return err
		}
		b.Put(v.secrets.indexPrefix(ref.c)+string(ref.shard), sealed)
	}
	for _, ref := range tx.blobs {
		b.DeletePrefix(ref.storePrefix())
	}
	err := v.store.Apply(ctx, &b)
	v.touched(tx.ops)
	if err != nil {
		return fmt.Errorf("vault: writing: %w", err)
	}
	for ref, ix := range next {
		v.indexes[ref.c].shards[ref.shard] = ix
	}
	return nil
}

// Changes returns a number that is the same from one call to the next
// only if nothing was written to collection c in between, and the vault
// was neither locked nor unlocked: a feature that keeps something it
// derived from c's records (which contact has which DID, say, rather than
// decrypting every contact for each message that arrives) keeps it with
// the number and derives it again when the number differs. It assumes, as
// the vault's own cache of indexes does, that the vault is the only writer
// of its store.
func (v *Vault) Changes(c Collection) uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return max(v.changed[c], v.lockGen)
}

// touched counts an update of the collections of ops, whether or not the
// store took it (a failed write may have taken effect, for all the vault
// knows). v.mu is held for writing.
func (v *Vault) touched(ops []txOp) {
	v.gen++
	if v.changed == nil {
		v.changed = map[Collection]uint64{}
	}
	for _, op := range ops {
		v.changed[op.c] = v.gen
	}
}

// Put stores one record; see [Vault.Update].
func (v *Vault) Put(ctx context.Context, c Collection, id string, data []byte) error {
	return v.Update(ctx, func(tx *Tx) error { tx.Put(c, id, data); return nil })
}

// Delete removes one record; see [Vault.Update].
func (v *Vault) Delete(ctx context.Context, c Collection, id string) error {
	return v.Update(ctx, func(tx *Tx) error { tx.Delete(c, id); return nil })
}
