// Package storetest is the conformance suite every [vault.Store] runs:
// the in-memory store natively, the IndexedDB store inside a browser.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"planet/vault"
)

// Run runs the suite. newStore must return a new, empty store each call;
// the test cleans it up through t.Cleanup if it needs to.
func Run(t *testing.T, newStore func(t *testing.T) vault.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s vault.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"BatchOrder", testBatchOrder},
		{"ScanOrderAndPrefix", testScan},
		{"ScanStops", testScanStops},
		{"Copies", testCopies},
		{"BinaryAndLargeValues", testValues},
		{"ManyKeys", testManyKeys},
		{"BadBatchChangesNothing", testBadBatch},
		{"Concurrent", testConcurrent},
		{"CanceledContext", testCanceled},
		{"KeysIfListed", testKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

func apply(t *testing.T, s vault.Store, ops ...func(*vault.Batch)) {
	t.Helper()
	var b vault.Batch
	for _, op := range ops {
		op(&b)
	}
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func put(k, v string) func(*vault.Batch) {
	return func(b *vault.Batch) { b.Put(k, []byte(v)) }
}
func del(k string) func(*vault.Batch)       { return func(b *vault.Batch) { b.Delete(k) } }
func delPrefix(p string) func(*vault.Batch) { return func(b *vault.Batch) { b.DeletePrefix(p) } }

func wantValue(t *testing.T, s vault.Store, key, want string) {
	t.Helper()
	got, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantMissing(t *testing.T, s vault.Store, key string) {
	t.Helper()
	_, err := s.Get(ctx, key)
	if !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get(%q) error = %v, want ErrNotFound", key, err)
	}
}

func keys(t *testing.T, s vault.Store, prefix string) []string {
	t.Helper()
	var ks []string
	err := s.Scan(ctx, prefix, func(k string, _ []byte) error {
		ks = append(ks, k)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return ks
}

func testGetMissing(t *testing.T, s vault.Store) {
	wantMissing(t, s, "nothing")
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("new store has keys %q", ks)
	}
}

func testPutGet(t *testing.T, s vault.Store) {
	apply(t, s, put("a", "1"), put("b/c", "2"), put("empty", ""))
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b/c", "2")
	wantValue(t, s, "empty", "")
}

func testOverwrite(t *testing.T, s vault.Store) {
	apply(t, s, put("k", "old"))
	apply(t, s, put("k", "new"))
	wantValue(t, s, "k", "new")
}

func testDelete(t *testing.T, s vault.Store) {
	apply(t, s, put("k", "v"), put("keep", "v"))
	apply(t, s, del("k"), del("never-existed"))
	wantMissing(t, s, "k")
	wantValue(t, s, "keep", "v")
}

func testDeletePrefix(t *testing.T, s vault.Store) {
	apply(t, s, put("b/1/0", "x"), put("b/1/1", "y"), put("b/10/0", "z"), put("b/2/0", "w"), put("c", "v"))
	apply(t, s, delPrefix("b/1/"))
	if got, want := fmt.Sprint(keys(t, s, "")), "[b/10/0 b/2/0 c]"; got != want {
		t.Fatalf("after DeletePrefix(b/1/): keys %s, want %s", got, want)
	}
	apply(t, s, delPrefix(""))
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("after DeletePrefix(\"\"): keys %q", ks)
	}
}

func testBatchOrder(t *testing.T, s vault.Store) {
	apply(t, s, put("x", "1"), del("x"), put("y", "1"), put("y", "2"), delPrefix("z"), put("z/1", "3"))
	wantMissing(t, s, "x")
	wantValue(t, s, "y", "2")
	wantValue(t, s, "z/1", "3")
}

func testScan(t *testing.T, s vault.Store) {
	apply(t, s, put("r/b/2", "b2"), put("r/a/1", "a1"), put("r/b/1", "b1"), put("r/", "root"), put("rz", "no"), put("q", "no"))
	var got []string
	err := s.Scan(ctx, "r/", func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, want := fmt.Sprint(got), "[r/=root r/a/1=a1 r/b/1=b1 r/b/2=b2]"; g != want {
		t.Fatalf("Scan(r/) = %s, want %s", g, want)
	}
	if ks := keys(t, s, "r/c"); len(ks) != 0 {
		t.Fatalf("Scan(r/c) = %q, want none", ks)
	}
}

func testScanStops(t *testing.T, s vault.Store) {
	apply(t, s, put("a", ""), put("b", ""), put("c", ""))
	stop := errors.New("stop")
	n := 0
	err := s.Scan(ctx, "", func(string, []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("Scan returned %v after %d calls, want stop after 2", err, n)
	}
}

func testCopies(t *testing.T, s vault.Store) {
	v := []byte("original")
	var b vault.Batch
	b.Put("k", v)
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X'
	got, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got[1] = 'Y'
	wantValue(t, s, "k", "original")
	_ = s.Scan(ctx, "k", func(_ string, v []byte) error { v[0] = 'Z'; return nil })
	wantValue(t, s, "k", "original")
}

func testValues(t *testing.T, s vault.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	var b vault.Batch
	b.Put("all", all)
	b.Put("large", large)
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string][]byte{"all": all, "large": large} {
		got, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Get(%q) returned %d bytes that differ from the %d stored", k, len(got), len(want))
		}
	}
}

func testManyKeys(t *testing.T, s vault.Store) {
	var b vault.Batch
	for i := 0; i < 1000; i++ {
		b.Put(fmt.Sprintf("m/%04d", i), []byte(fmt.Sprint(i)))
	}
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	i := 0
	err := s.Scan(ctx, "m/", func(k string, v []byte) error {
		if want := fmt.Sprintf("m/%04d", i); k != want || string(v) != fmt.Sprint(i) {
			return fmt.Errorf("entry %d is %s=%s, want %s=%d", i, k, v, want, i)
		}
		i++
		return nil
	})
	if err != nil || i != 1000 {
		t.Fatalf("Scan: %v after %d entries", err, i)
	}
}

func testBadBatch(t *testing.T, s vault.Store) {
	apply(t, s, put("k", "before"))
	b := vault.Batch{Ops: []vault.Op{{Kind: vault.OpPut, Key: "k", Value: []byte("after")}, {Kind: 99, Key: "x"}}}
	if err := s.Apply(ctx, &b); err == nil {
		t.Fatal("Apply accepted an unknown operation")
	}
	wantValue(t, s, "k", "before")
	wantMissing(t, s, "x")
}

func testConcurrent(t *testing.T, s vault.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				var b vault.Batch
				k := fmt.Sprintf("w%d/%02d", w, i)
				b.Put(k, []byte(k))
				if err := s.Apply(ctx, &b); err != nil {
					errs <- err
					return
				}
				if v, err := s.Get(ctx, k); err != nil || string(v) != k {
					errs <- fmt.Errorf("Get(%q) = %q, %v", k, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(keys(t, s, "w")); n != 100 {
		t.Fatalf("%d keys after concurrent writes, want 100", n)
	}
}

func testCanceled(t *testing.T, s vault.Store) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	var b vault.Batch
	b.Put("k", []byte("v"))
	if err := s.Apply(c, &b); err == nil {
		t.Fatal("Apply with a canceled context succeeded")
	}
	wantMissing(t, s, "k")
	if _, err := s.Get(c, "k"); err == nil || errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get with a canceled context: %v, want the context's error", err)
	}
}

// testKeys checks the optional [vault.KeyLister] against Scan.
func testKeys(t *testing.T, s vault.Store) {
	kl, ok := s.(vault.KeyLister)
	if !ok {
		t.Skip("the store does not list keys on its own")
	}
	apply(t, s, put("b/2/0", "x"), put("b/1/1", "y"), put("b/1/0", "z"), put("c", "v"))
	for _, prefix := range []string{"", "b/", "b/1/", "d"} {
		got, err := kl.Keys(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if want := keys(t, s, prefix); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Keys(%q) = %q, Scan sees %q", prefix, got, want)
		}
	}
}
