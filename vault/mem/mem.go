// Package mem is an in-memory [vault.Store], for tests and native tools.
package mem

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"planet/vault"
)

// Store is a [vault.Store] kept in memory. The zero value is empty and ready.
type Store struct {
	mu sync.RWMutex
	m  map[string][]byte
}

var (
	_ vault.Store     = (*Store)(nil)
	_ vault.KeyLister = (*Store)(nil)
)

// New returns an empty store.
func New() *Store { return &Store{} }

// Get implements [vault.Store].
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[key]
	if !ok {
		return nil, fmt.Errorf("mem: %q: %w", key, vault.ErrNotFound)
	}
	return clone(v), nil
}

// Scan implements [vault.Store]. It snapshots the matching entries first,
// so fn runs without the lock held.
func (s *Store) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type kv struct {
		k string
		v []byte
	}
	s.mu.RLock()
	var hits []kv
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			hits = append(hits, kv{k, clone(v)})
		}
	}
	s.mu.RUnlock()
	sort.Slice(hits, func(i, j int) bool { return hits[i].k < hits[j].k })
	for _, h := range hits {
		if err := fn(h.k, h.v); err != nil {
			return err
		}
	}
	return nil
}

// Keys implements [vault.KeyLister].
func (s *Store) Keys(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var ks []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	s.mu.RUnlock()
	sort.Strings(ks)
	return ks, nil
}

// Apply implements [vault.Store]. The batch is validated before anything
// changes, so a bad batch leaves the store as it was.
func (s *Store) Apply(ctx context.Context, b *vault.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, op := range b.Ops {
		switch op.Kind {
		case vault.OpPut, vault.OpDelete, vault.OpDeletePrefix:
		default:
			return fmt.Errorf("mem: unknown batch operation %d", op.Kind)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	for _, op := range b.Ops {
		switch op.Kind {
		case vault.OpPut:
			s.m[op.Key] = clone(op.Value)
		case vault.OpDelete:
			delete(s.m, op.Key)
		case vault.OpDeletePrefix:
			for k := range s.m {
				if strings.HasPrefix(k, op.Key) {
					delete(s.m, k)
				}
			}
		}
	}
	return nil
}

// Len reports how many keys the store holds.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}
