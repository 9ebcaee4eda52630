package vault

import (
	"context"
	"errors"
)

// ErrNotFound is returned by [Store.Get] when the key is absent, and by the
// vault when a record does not exist.
var ErrNotFound = errors.New("not found")

// A Store holds a vault's bytes: a flat map from string keys to byte values,
// ordered by key. It never sees plaintext; the vault seals everything first.
//
// Implementations must be safe for concurrent use. Values passed in and
// returned are owned by the receiver: a store copies what it keeps and hands
// out copies.
type Store interface {
	// Get returns the value stored at key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)

	// Scan calls fn for every key that starts with prefix, in key order,
	// stopping at the first error fn returns (which Scan returns).
	// fn must not call the store.
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error

	// Apply performs the batch's operations in order, atomically: after a
	// crash or a closed tab either all of them are visible or none is.
	Apply(ctx context.Context, b *Batch) error
}

// A KeyLister is a [Store] that can list keys without reading their
// values. The vault uses it to find file chunks that nothing refers to
// (left by an interrupted upload) without reading them.
type KeyLister interface {
	// Keys returns every key starting with prefix, in order.
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// OpKind says what a batch operation does.
type OpKind uint8

const (
	OpPut          OpKind = iota + 1 // store Value at Key
	OpDelete                         // remove Key
	OpDeletePrefix                   // remove every key starting with Key
)

// An Op is one operation of a [Batch].
type Op struct {
	Kind  OpKind
	Key   string
	Value []byte // for OpPut
}

// A Batch is a list of writes that a [Store] applies atomically.
type Batch struct {
	Ops []Op
}

// Put adds a write of value at key.
func (b *Batch) Put(key string, value []byte) { b.Ops = append(b.Ops, Op{OpPut, key, value}) }

// Delete adds the removal of key.
func (b *Batch) Delete(key string) { b.Ops = append(b.Ops, Op{Kind: OpDelete, Key: key}) }

// DeletePrefix adds the removal of every key starting with prefix.
// An empty prefix clears the store.
func (b *Batch) DeletePrefix(prefix string) {
	b.Ops = append(b.Ops, Op{Kind: OpDeletePrefix, Key: prefix})
}

// Len is the number of operations in the batch.
func (b *Batch) Len() int { return len(b.Ops) }

// PrefixEnd returns the smallest string greater than every string with the
// given prefix, or "" if there is none (the prefix is all 0xff bytes or
// empty). Stores use it to turn a prefix into a key range.
func PrefixEnd(prefix string) string {
	p := []byte(prefix)
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] < 0xff {
			p[i]++
			return string(p[:i+1])
		}
	}
	return ""
}
