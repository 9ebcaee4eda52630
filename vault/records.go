package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// index is a collection's table of contents: which records exist and the
// version of each one's current value. Change rules: numbered keys are
// never reused; fields added later are optional.
type index struct {
	Versions map[string]uint64 `cbor:"1,keyasint"`
	Last     uint64            `cbor:"2,keyasint"`
}

// A Record is one decrypted record.
type Record struct {
	ID   string
	Data []byte
}

// loadIndex returns the collection's index, reading and caching it on first
// use, or ErrLocked. v.mu must be held for writing. Reads hold it too: the
// cache fills on first use, and a vault has one user at a time.
func (v *Vault) loadIndex(ctx context.Context, c Collection) (*index, error) {
	if v.secrets == nil {
		return nil, ErrLocked
	}
	if ix, ok := v.indexes[c]; ok {
		return ix, nil
	}
	ix := &index{Versions: map[string]uint64{}}
	b, err := v.store.Get(ctx, v.secrets.indexKey(c))
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("vault: reading index of %s: %w", c, err)
	default:
		pt, err := open(v.secrets.recordKey, b, ad(labelIndex, string(c)))
		if err != nil {
			return nil, fmt.Errorf("vault: index of %s: %w", c, err)
		}
		if err := UnmarshalCBOR(pt, ix); err != nil {
			return nil, fmt.Errorf("vault: index of %s: %w", c, errors.Join(ErrCorrupt, err))
		}
		if ix.Versions == nil {
			ix.Versions = map[string]uint64{}
		}
	}
	v.indexes[c] = ix
	return ix, nil
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
	ix, err := v.loadIndex(ctx, c)
	if err != nil {
		return nil, err
	}
	ver, ok := ix.Versions[id]
	if !ok {
		return nil, fmt.Errorf("vault: %s/%s: %w", c, id, ErrNotFound)
	}
	b, err := v.store.Get(ctx, v.secrets.recordKeyFor(c, id))
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
	ix, err := v.loadIndex(ctx, c)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]string, len(ix.Versions)) // store key → id
	for id := range ix.Versions {
		byKey[v.secrets.recordKeyFor(c, id)] = id
	}
	out := make([]Record, 0, len(ix.Versions))
	err = v.store.Scan(ctx, v.secrets.recordPrefix(c), func(key string, val []byte) error {
		id, ok := byKey[key]
		if !ok {
			return nil // not in the index: unreachable, whatever put it there
		}
		pt, err := open(v.secrets.recordKey, val, recordAD(c, id, ix.Versions[id]))
		if err != nil {
			return fmt.Errorf("vault: %s/%s: %w", c, id, err)
		}
		out = append(out, Record{ID: id, Data: pt})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(ix.Versions) {
		return nil, fmt.Errorf("vault: %s lists %d records but %d are stored: %w", c, len(ix.Versions), len(out), ErrCorrupt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Count returns how many records collection c holds, without decrypting
// them.
func (v *Vault) Count(ctx context.Context, c Collection) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ix, err := v.loadIndex(ctx, c)
	if err != nil {
		return 0, err
	}
	return len(ix.Versions), nil
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
		if !collectionRE.MatchString(string(op.c)) {
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
	// Work on copies of the indexes so that a failed store write leaves the
	// cached ones matching the store.
	next := map[Collection]*index{}
	for _, op := range tx.ops {
		if _, ok := next[op.c]; ok {
			continue
		}
		ix, err := v.loadIndex(ctx, op.c)
		if err != nil {
			return err
		}
		cp := &index{Versions: make(map[string]uint64, len(ix.Versions)+1), Last: ix.Last}
		for k, ver := range ix.Versions {
			cp.Versions[k] = ver
		}
		next[op.c] = cp
	}
	var b Batch
	for _, op := range tx.ops {
		ix := next[op.c]
		key := v.secrets.recordKeyFor(op.c, op.id)
		if op.delete {
			delete(ix.Versions, op.id)
			b.Delete(key)
			continue
		}
		ix.Last++
		ix.Versions[op.id] = ix.Last
		sealed, err := seal(v.secrets.recordKey, op.data, recordAD(op.c, op.id, ix.Last), v.opt.Rand)
		if err != nil {
			return err
		}
		b.Put(key, sealed)
	}
	for c, ix := range next {
		pt, err := MarshalCBOR(ix)
		if err != nil {
			return err
		}
		sealed, err := seal(v.secrets.recordKey, pt, ad(labelIndex, string(c)), v.opt.Rand)
		if err != nil {
			return err
		}
		b.Put(v.secrets.indexKey(c), sealed)
	}
	for _, ref := range tx.blobs {
		b.DeletePrefix(ref.storePrefix())
	}
	if err := v.store.Apply(ctx, &b); err != nil {
		return fmt.Errorf("vault: writing: %w", err)
	}
	for c, ix := range next {
		v.indexes[c] = ix
	}
	return nil
}

// Put stores one record; see [Vault.Update].
func (v *Vault) Put(ctx context.Context, c Collection, id string, data []byte) error {
	return v.Update(ctx, func(tx *Tx) error { tx.Put(c, id, data); return nil })
}

// Delete removes one record; see [Vault.Update].
func (v *Vault) Delete(ctx context.Context, c Collection, id string) error {
	return v.Update(ctx, func(tx *Tx) error { tx.Delete(c, id); return nil })
}
