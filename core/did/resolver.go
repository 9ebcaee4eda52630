package did

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A Resolver finds the DID document of a DID (W3C DID Resolution). Methods
// whose documents live elsewhere (did:webvh, on a web server) need the
// network, so resolution takes a context; for a DID of a method it does not
// handle a Resolver returns an error wrapping [ErrUnsupportedMethod], and
// for a DID of its method that has no document, one wrapping [ErrNotFound].
//
// The document returned may be shared with other callers: it must not be
// modified.
type Resolver interface {
	Resolve(ctx context.Context, d DID) (*Document, error)
}

// Methods is a Resolver that hands each DID to the driver of its method,
// keyed by method name ([MethodKey], [MethodPeer], …). A driver sees only
// DIDs of its own method.
type Methods map[string]Resolver

var _ Resolver = Methods(nil)

// Resolve resolves d with the driver of its method.
func (m Methods) Resolve(ctx context.Context, d DID) (*Document, error) {
	method := d.Method()
	if method == "" {
		return nil, fmt.Errorf("%w: zero did has no document", ErrInvalid)
	}
	driver, ok := m[method]
	if !ok {
		return nil, fmt.Errorf("%w: documents of did:%s are not resolved", ErrUnsupportedMethod, method)
	}
	return driver.Resolve(ctx, d)
}

// The drivers of the methods whose documents are pure functions of the DID.
var (
	KeyMethod  Resolver = keyMethod{}  // did:key
	PeerMethod Resolver = peerMethod{} // did:peer:2
)

// Local resolves did:key and did:peer:2, the methods that need no network.
// A resolver for more methods starts from a copy of it and adds drivers.
var Local = Methods{MethodKey: KeyMethod, MethodPeer: PeerMethod}

// Cache is a Resolver that remembers what another resolved: documents for a
// time, so that a DID read again and again (each message of a conversation
// names its sender) is fetched once, and the absence of one ([ErrNotFound])
// for the same time, so that a stranger's made-up DIDs cannot make it ask
// again and again. Other errors (the network down, a context cancelled) are
// not remembered. It holds at most Size DIDs and starts afresh when full.
type Cache struct {
	Resolver Resolver
	TTL      time.Duration
	Size     int
	Now      func() time.Time // time.Now when nil; tests set it

	mu      sync.Mutex
	entries map[DID]cached
}

var _ Resolver = (*Cache)(nil)

type cached struct {
	doc     *Document
	err     error
	expires time.Time
}

// NewCache returns a Cache in front of r that remembers up to size DIDs for
// ttl.
func NewCache(r Resolver, size int, ttl time.Duration) *Cache {
	return &Cache{Resolver: r, TTL: ttl, Size: size}
}

// Resolve returns what c remembers of d, or resolves it.
func (c *Cache) Resolve(ctx context.Context, d DID) (*Document, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[d]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.doc, e.err
	}
	doc, err := c.Resolver.Resolve(ctx, d)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= c.Size {
		c.entries = make(map[DID]cached)
	}
	c.entries[d] = cached{doc: doc, err: err, expires: now.Add(c.TTL)}
	return doc, err
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
