//go:build js && wasm

package idb

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"

	"planet/vault"
	"planet/wasm/browser"
)

const objectStore = "kv"

// Store is a [vault.Store] in an IndexedDB database.
type Store struct {
	name string
	db   safejs.Value
	// Made once: every transaction would otherwise make it. (The bridge
	// looks the Uint8Array constructor up once, too.)
	relaxed safejs.Value // {durability: "relaxed"}
}

var (
	_ vault.Store     = (*Store)(nil)
	_ vault.KeyLister = (*Store)(nil)
)

// Open opens (creating if needed) the IndexedDB database name as a store.
func Open(ctx context.Context, name string) (*Store, error) {
	factory, err := safejs.Global().Get("indexedDB")
	if err != nil || factory.IsUndefined() || factory.IsNull() {
		return nil, fmt.Errorf("this browser offers no IndexedDB (private mode?): %w", ErrStorage)
	}
	req, err := factory.Call("open", name, 1)
	if err != nil {
		return nil, fmt.Errorf("idb: opening %q: %w", name, err)
	}
	var upgrade browser.Handlers
	defer upgrade.Release()
	err = upgrade.On(req, func(safejs.Value) {
		db, err := req.Get("result")
		if err == nil {
			_, err = db.Call("createObjectStore", objectStore)
		}
		if err != nil {
			// Aborting the upgrade makes the open request fail, which
			// reports the error to the waiting goroutine.
			if tx, e := req.Get("transaction"); e == nil {
				tx.Call("abort")
			}
		}
	}, "onupgradeneeded")
	if err != nil {
		return nil, err
	}
	db, err := await(ctx, req, safejs.Undefined())
	if err != nil {
		return nil, fmt.Errorf("idb: opening %q: %w", name, err)
	}
	relaxed, err := safejs.ValueOf(map[string]any{"durability": "relaxed"})
	if err != nil {
		return nil, err
	}
	return &Store{name: name, db: db, relaxed: relaxed}, nil
}

// Delete removes the IndexedDB database name. Close stores on it first.
func Delete(ctx context.Context, name string) error {
	factory, err := safejs.Global().Get("indexedDB")
	if err != nil {
		return err
	}
	req, err := factory.Call("deleteDatabase", name)
	if err != nil {
		return err
	}
	_, err = await(ctx, req, safejs.Undefined())
	return err
}

// Close closes the database connection.
func (s *Store) Close() error {
	_, err := s.db.Call("close")
	return err
}

func (s *Store) transaction(mode string) (tx, store safejs.Value, err error) {
	if mode == "readonly" {
		tx, err = s.db.Call("transaction", objectStore, mode)
	} else {
		tx, err = s.db.Call("transaction", objectStore, mode, s.relaxed)
	}
	if err != nil {
		return tx, store, fmt.Errorf("idb: starting transaction: %w", err)
	}
	store, err = tx.Call("objectStore", objectStore)
	return tx, store, err
}

// Get implements [vault.Store].
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx, store, err := s.transaction("readonly")
	if err != nil {
		return nil, err
	}
	req, err := store.Call("get", key)
	if err != nil {
		return nil, fmt.Errorf("idb: get %q: %w", key, err)
	}
	v, err := await(ctx, req, tx)
	if err != nil {
		return nil, fmt.Errorf("idb: get %q: %w", key, err)
	}
	if v.IsUndefined() {
		return nil, fmt.Errorf("idb: %q: %w", key, vault.ErrNotFound)
	}
	return bytesOf(v)
}

// Scan implements [vault.Store]. Keys and values come from one readonly
// transaction, so they are a consistent snapshot.
func (s *Store) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, store, err := s.transaction("readonly")
	if err != nil {
		return err
	}
	rng, err := prefixRange(prefix)
	if err != nil {
		return err
	}
	kreq, err := store.Call("getAllKeys", rng)
	if err != nil {
		return fmt.Errorf("idb: scan: %w", err)
	}
	vreq, err := store.Call("getAll", rng)
	if err != nil {
		return fmt.Errorf("idb: scan: %w", err)
	}
	keys, err := await(ctx, kreq, tx)
	if err != nil {
		return fmt.Errorf("idb: scan: %w", err)
	}
	vals, err := await(ctx, vreq, tx)
	if err != nil {
		return fmt.Errorf("idb: scan: %w", err)
	}
	n, err := keys.Length()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		k, err := keys.Index(i)
		if err != nil {
			return err
		}
		ks, err := k.String()
		if err != nil {
			return err
		}
		v, err := vals.Index(i)
		if err != nil {
			return err
		}
		b, err := bytesOf(v)
		if err != nil {
			return err
		}
		if err := fn(ks, b); err != nil {
			return err
		}
	}
	return nil
}

// Keys implements [vault.KeyLister] with one getAllKeys request.
func (s *Store) Keys(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx, store, err := s.transaction("readonly")
	if err != nil {
		return nil, err
	}
	rng, err := prefixRange(prefix)
	if err != nil {
		return nil, err
	}
	req, err := store.Call("getAllKeys", rng)
	if err != nil {
		return nil, fmt.Errorf("idb: keys: %w", err)
	}
	keys, err := await(ctx, req, tx)
	if err != nil {
		return nil, fmt.Errorf("idb: keys: %w", err)
	}
	n, err := keys.Length()
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		k, err := keys.Index(i)
		if err != nil {
			return nil, err
		}
		if out[i], err = k.String(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Apply implements [vault.Store] with one readwrite transaction.
func (s *Store) Apply(ctx context.Context, b *vault.Batch) error {
	for _, op := range b.Ops {
		switch op.Kind {
		case vault.OpPut, vault.OpDelete, vault.OpDeletePrefix:
		default:
			return fmt.Errorf("idb: unknown batch operation %d", op.Kind)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, store, err := s.transaction("readwrite")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tx.Call("abort")
		return fmt.Errorf("idb: write: %w", err)
	}
	for _, op := range b.Ops {
		switch op.Kind {
		case vault.OpPut:
			arr, err := browser.BytesToJS(op.Value)
			if err != nil {
				return fail(err)
			}
			_, err = store.Call("put", arr, op.Key)
			if err != nil {
				return fail(err)
			}
		case vault.OpDelete:
			if _, err := store.Call("delete", op.Key); err != nil {
				return fail(err)
			}
		case vault.OpDeletePrefix:
			rng, err := prefixRange(op.Key)
			if err != nil {
				return fail(err)
			}
			if rng.IsUndefined() { // everything
				_, err = store.Call("clear")
			} else {
				_, err = store.Call("delete", rng)
			}
			if err != nil {
				return fail(err)
			}
		}
	}
	return awaitTx(ctx, tx)
}

// prefixRange returns the IDBKeyRange of keys starting with prefix, or
// undefined for all keys.
func prefixRange(prefix string) (safejs.Value, error) {
	if prefix == "" {
		return safejs.Undefined(), nil
	}
	keyRange, err := safejs.Global().Get("IDBKeyRange")
	if err != nil {
		return safejs.Value{}, err
	}
	if end := vault.PrefixEnd(prefix); end != "" {
		return keyRange.Call("bound", prefix, end, false, true)
	}
	return keyRange.Call("lowerBound", prefix)
}

func bytesOf(v safejs.Value) ([]byte, error) {
	n, err := v.Length()
	if err != nil {
		return nil, fmt.Errorf("idb: stored value is not bytes: %w", err)
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}
