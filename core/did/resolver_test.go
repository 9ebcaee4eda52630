package did

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// countingResolver resolves like Local and counts what it was asked,
// answering ErrNotFound for the DIDs in missing and a network error for
// those in failing.
type countingResolver struct {
	asked            map[DID]int
	missing, failing map[DID]bool
}

func (r *countingResolver) Resolve(ctx context.Context, d DID) (*Document, error) {
	r.asked[d]++
	switch {
	case r.missing[d]:
		return nil, fmt.Errorf("%s: %w", d, ErrNotFound)
	case r.failing[d]:
		return nil, errors.New("network unreachable")
	}
	return Local.Resolve(ctx, d)
}

func TestMethodsRoutesByMethod(t *testing.T) {
	ctx := context.Background()
	key := mustParse(t, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	peer := mustParse(t, "did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR")
	for _, d := range []DID{key, peer} {
		doc, err := Local.Resolve(ctx, d)
		if err != nil || doc.ID != d.String() {
			t.Errorf("Local.Resolve(%s) = %v, %v", d, doc, err)
		}
	}
	onlyKey := Methods{MethodKey: KeyMethod}
	if _, err := onlyKey.Resolve(ctx, peer); !errors.Is(err, ErrUnsupportedMethod) {
		t.Errorf("a resolver without did:peer resolved %s: %v", peer, err)
	}
	if _, err := Local.Resolve(ctx, DID{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero DID: %v, want ErrInvalid", err)
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	key := mustParse(t, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	gone := mustParse(t, "did:key:z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc")
	down := mustParse(t, "did:key:z6MkfrQREF9ZYsL9gxaCEJmV1EtBDmHpWDAWQmBRcZHQzMz9")
	r := &countingResolver{asked: map[DID]int{}, missing: map[DID]bool{gone: true}, failing: map[DID]bool{down: true}}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache(r, 2, time.Minute)
	c.Now = func() time.Time { return now }

	for range 3 {
		if _, err := c.Resolve(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Resolve(ctx, gone); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing DID: %v, want ErrNotFound", err)
		}
		if _, err := c.Resolve(ctx, down); err == nil {
			t.Fatal("failing resolver: no error")
		}
	}
	if r.asked[key] != 1 || r.asked[gone] != 1 {
		t.Errorf("asked %d and %d times for a document and an absence, want once each", r.asked[key], r.asked[gone])
	}
	if r.asked[down] != 3 {
		t.Errorf("asked %d times for a DID whose resolution failed, want 3 (failures are not remembered)", r.asked[down])
	}

	now = now.Add(time.Minute)
	if _, err := c.Resolve(ctx, key); err != nil || r.asked[key] != 2 {
		t.Errorf("after the TTL: %v, asked %d times, want 2", err, r.asked[key])
	}
}

func mustParse(t *testing.T, s string) DID {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
