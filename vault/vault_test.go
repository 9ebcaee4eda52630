package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"planet/vault"
	"planet/vault/mem"
)

var ctx = context.Background()

// testKDF keeps Argon2id cheap in tests; the format stores it, so the code
// paths are the product's.
var testKDF = vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}

const pass = "violet tugboat umbrella quince"

func seeded(seed byte) io.Reader { return rand.NewChaCha8([32]byte{seed}) }

func newVault(t *testing.T) (*vault.Vault, *mem.Store) {
	t.Helper()
	s := mem.New()
	v, err := vault.Create(ctx, s, pass, vault.Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v, s
}

func reopen(t *testing.T, s vault.Store, passphrase string) (*vault.Vault, error) {
	t.Helper()
	v, err := vault.Open(ctx, s, vault.Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v, v.Unlock(ctx, passphrase)
}

func TestCreateOpenUnlock(t *testing.T) {
	v, s := newVault(t)
	if err := v.Put(ctx, "notes", "n1", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Create(ctx, s, pass, vault.Options{KDF: testKDF}); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if _, err := vault.Open(ctx, mem.New(), vault.Options{}); !errors.Is(err, vault.ErrNoVault) {
		t.Fatalf("Open of empty store: %v, want ErrNoVault", err)
	}
	v2, err := reopen(t, s, pass)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v2.Get(ctx, "notes", "n1")
	if err != nil || string(got) != "hello" {
		t.Fatalf("Get after reopen = %q, %v", got, err)
	}
	if got := v2.KDF(); got != testKDF {
		t.Fatalf("KDF() = %+v, want %+v", got, testKDF)
	}
}

func TestWrongPassphrase(t *testing.T) {
	_, s := newVault(t)
	v, err := reopen(t, s, "violet tugboat umbrella quincE")
	if !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("Unlock with wrong passphrase: %v", err)
	}
	if !v.Locked() {
		t.Fatal("vault unlocked by a wrong passphrase")
	}
	if _, err := v.Get(ctx, "notes", "x"); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("Get on locked vault: %v, want ErrLocked", err)
	}
}

func TestLockWipes(t *testing.T) {
	v, _ := newVault(t)
	v.Lock()
	if !v.Locked() {
		t.Fatal("not locked")
	}
	if err := v.Put(ctx, "notes", "n", nil); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("Put while locked: %v", err)
	}
	if _, err := v.WriteBlob(ctx, strings.NewReader("x"), nil); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("WriteBlob while locked: %v", err)
	}
	if err := v.Unlock(ctx, pass); err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "notes", "n", []byte("ok")); err != nil {
		t.Fatal(err)
	}
}

func TestChangePassphrase(t *testing.T) {
	v, s := newVault(t)
	if err := v.Put(ctx, "contacts", "c1", []byte("ada")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	const newPass = "quiet lantern over the moor"
	if err := v.ChangePassphrase(ctx, "wrong one entirely", newPass); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("ChangePassphrase with wrong old: %v", err)
	}
	if err := v.ChangePassphrase(ctx, pass, newPass); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, s)
	for k, val := range before {
		if k != "vault" && !bytes.Equal(val, after[k]) {
			t.Errorf("ChangePassphrase rewrote %q; only the header may change", k)
		}
	}
	if bytes.Equal(before["vault"], after["vault"]) {
		t.Error("header unchanged")
	}
	if _, err := reopen(t, s, pass); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("old passphrase after change: %v", err)
	}
	v2, err := reopen(t, s, newPass)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v2.Get(ctx, "contacts", "c1"); err != nil || string(got) != "ada" {
		t.Fatalf("Get after change = %q, %v", got, err)
	}
}

func TestRecords(t *testing.T) {
	v, s := newVault(t)
	err := v.Update(ctx, func(tx *vault.Tx) error {
		for i := range 100 {
			tx.Put("contacts", fmt.Sprintf("c%03d", i), []byte(fmt.Sprint(i)))
		}
		tx.Put("notes", "n1", []byte("note"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "contacts", "c050"); err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "contacts", "c001", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	v2, err := reopen(t, s, pass)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := v2.List(ctx, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 99 {
		t.Fatalf("List returned %d records, want 99", len(recs))
	}
	if recs[1].ID != "c001" || string(recs[1].Data) != "changed" || recs[49].ID != "c049" || recs[50].ID != "c051" {
		t.Fatalf("List returned unexpected records: %v %v %v", recs[1], recs[49], recs[50])
	}
	if n, _ := v2.Count(ctx, "notes"); n != 1 {
		t.Fatalf("Count(notes) = %d", n)
	}
	if _, err := v2.Get(ctx, "contacts", "c050"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get deleted: %v", err)
	}
	for _, k := range keysOf(s) {
		if strings.Contains(k, "contacts") || strings.Contains(k, "c001") {
			t.Fatalf("store key %q leaks a name", k)
		}
	}
}

func TestUpdateValidatesAndRollsBack(t *testing.T) {
	v, s := newVault(t)
	before := snapshot(t, s)
	for _, bad := range []func(tx *vault.Tx){
		func(tx *vault.Tx) { tx.Put("Bad Name", "x", nil) },
		func(tx *vault.Tx) { tx.Put("notes", "has space", nil) },
		func(tx *vault.Tx) { tx.Put("notes", "", nil) },
	} {
		if err := v.Update(ctx, func(tx *vault.Tx) error { tx.Put("notes", "ok", nil); bad(tx); return nil }); err == nil {
			t.Fatal("Update accepted a bad name")
		}
	}
	if err := v.Update(ctx, func(tx *vault.Tx) error { tx.Put("notes", "ok", nil); return errors.New("changed my mind") }); err == nil {
		t.Fatal("Update ignored fn's error")
	}
	if after := snapshot(t, s); len(after) != len(before) {
		t.Fatalf("failed updates wrote %d keys", len(after)-len(before))
	}
}

// tamper runs fn on a vault's store with two records, then checks that the
// vault reports corruption for the record named, never wrong data.
func TestTamper(t *testing.T) {
	setup := func(t *testing.T) (*mem.Store, map[string]string) {
		v, s := newVault(t)
		before := snapshot(t, s)
		if err := v.Put(ctx, "notes", "a", []byte("alpha")); err != nil {
			t.Fatal(err)
		}
		keyA := newKeys(before, snapshot(t, s), "r/")
		before = snapshot(t, s)
		if err := v.Put(ctx, "notes", "b", []byte("bravo")); err != nil {
			t.Fatal(err)
		}
		keyB := newKeys(before, snapshot(t, s), "r/")
		return s, map[string]string{"a": keyA, "b": keyB}
	}
	putRaw := func(s *mem.Store, k string, v []byte) {
		var b vault.Batch
		b.Put(k, v)
		if err := s.Apply(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *mem.Store, keys map[string]string)
	}{
		{"swap records", func(t *testing.T, s *mem.Store, k map[string]string) {
			a, _ := s.Get(ctx, k["a"])
			b, _ := s.Get(ctx, k["b"])
			putRaw(s, k["a"], b)
			putRaw(s, k["b"], a)
		}},
		{"flip a bit", func(t *testing.T, s *mem.Store, k map[string]string) {
			a, _ := s.Get(ctx, k["a"])
			a[len(a)-1] ^= 1
			putRaw(s, k["a"], a)
		}},
		{"truncate", func(t *testing.T, s *mem.Store, k map[string]string) {
			a, _ := s.Get(ctx, k["a"])
			putRaw(s, k["a"], a[:20])
		}},
		{"replay older value", func(t *testing.T, s *mem.Store, k map[string]string) {
			old, _ := s.Get(ctx, k["a"])
			v, err := reopen(t, s, pass)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Put(ctx, "notes", "a", []byte("alpha 2")); err != nil {
				t.Fatal(err)
			}
			putRaw(s, k["a"], old)
		}},
		{"remove record", func(t *testing.T, s *mem.Store, k map[string]string) {
			var b vault.Batch
			b.Delete(k["a"])
			s.Apply(ctx, &b)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, keys := setup(t)
			tt.fn(t, s, keys)
			v, err := reopen(t, s, pass)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := v.Get(ctx, "notes", "a"); !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("Get = %q, %v; want ErrCorrupt", got, err)
			}
			if _, err := v.List(ctx, "notes"); !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("List: %v; want ErrCorrupt", err)
			}
		})
	}
}

func TestHeaderTamper(t *testing.T) {
	_, s := newVault(t)
	h, _ := s.Get(ctx, "vault")
	// Lowering the stored memory cost must not yield a weaker vault that
	// still opens: the parameters are bound into the key wrap.
	i := bytes.Index(h, []byte{0x03, 0x19, 0x20, 0x00}) // key 3: memory 8192 KiB
	if i < 0 {
		t.Fatalf("memory parameter not found in header %x", h)
	}
	altered := bytes.Clone(h)
	altered[i+2] = 0x40 // 16384 KiB
	var b vault.Batch
	b.Put("vault", altered)
	s.Apply(ctx, &b)
	if _, err := reopen(t, s, pass); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("Unlock with altered KDF parameters: %v", err)
	}
	b = vault.Batch{}
	b.Put("vault", []byte{0xa1, 0x01, 0x02, 0x01, 0x03}) // map with trailing byte
	s.Apply(ctx, &b)
	if _, err := vault.Open(ctx, s, vault.Options{}); err == nil {
		t.Fatal("Open accepted a malformed header")
	}
}

func snapshot(t *testing.T, s vault.Store) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	if err := s.Scan(ctx, "", func(k string, v []byte) error { m[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func keysOf(s *mem.Store) []string {
	var ks []string
	s.Scan(ctx, "", func(k string, _ []byte) error { ks = append(ks, k); return nil })
	return ks
}

// newKeys returns the one key with prefix that is in after but not before.
func newKeys(before, after map[string][]byte, prefix string) string {
	for k := range after {
		if _, ok := before[k]; !ok && strings.HasPrefix(k, prefix) {
			return k
		}
	}
	return ""
}

// One write re-seals its record and one index shard: writes stay cheap
// however large the collection.
func TestWriteTouchesOneShard(t *testing.T) {
	v, s := newVault(t)
	err := v.Update(ctx, func(tx *vault.Tx) error {
		for i := range 500 {
			tx.Put("messages", fmt.Sprintf("m%04d", i), []byte("hello"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	shards := 0
	for k := range snapshot(t, s) {
		if strings.HasPrefix(k, "i/") {
			shards++
		}
	}
	if shards < 20 || shards > 32 {
		t.Fatalf("500 records spread over %d index shards, want most of 32", shards)
	}
	before := snapshot(t, s)
	if err := v.Put(ctx, "messages", "m0042", []byte("edited")); err != nil {
		t.Fatal(err)
	}
	var changed []string
	for k, val := range snapshot(t, s) {
		if !bytes.Equal(before[k], val) {
			changed = append(changed, k[:2])
		}
	}
	sort.Strings(changed)
	if fmt.Sprint(changed) != "[i/ r/]" {
		t.Fatalf("one write changed %v, want one index shard and one record", changed)
	}
}

// TestChanges: a collection's Changes stamp stays while nothing touches
// it, and moves at every write to it, failed or not, and at every lock
// and unlock; writes to other collections leave it.
func TestChanges(t *testing.T) {
	store := &refusingStore{Store: mem.New()}
	v, err := vault.Create(ctx, store, pass, vault.Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	c0 := v.Changes("contacts")
	if v.Changes("contacts") != c0 {
		t.Fatal("Changes moved with nothing written")
	}
	if err := v.Put(ctx, "notes", "n1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if v.Changes("contacts") != c0 {
		t.Fatal("a write to notes moved the stamp of contacts")
	}
	seen := map[uint64]bool{c0: true}
	step := func(what string, do func()) {
		t.Helper()
		do()
		c := v.Changes("contacts")
		if seen[c] {
			t.Fatalf("after %s: Changes = %d, a stamp seen before", what, c)
		}
		seen[c] = true
	}
	step("a put", func() {
		if err := v.Put(ctx, "contacts", "c1", []byte("ada")); err != nil {
			t.Fatal(err)
		}
	})
	step("a delete", func() {
		if err := v.Delete(ctx, "contacts", "c1"); err != nil {
			t.Fatal(err)
		}
	})
	step("a lock", v.Lock)
	step("an unlock", func() {
		if err := v.Unlock(ctx, pass); err != nil {
			t.Fatal(err)
		}
	})
	store.refuse = true
	step("a failed write", func() {
		if err := v.Put(ctx, "contacts", "c2", []byte("babbage")); err == nil {
			t.Fatal("the write did not fail")
		}
	})
}

// refusingStore is a store in memory that refuses writes when told to.
type refusingStore struct {
	*mem.Store
	refuse bool
}

func (s *refusingStore) Apply(ctx context.Context, b *vault.Batch) error {
	if s.refuse {
		return errors.New("disk full")
	}
	return s.Store.Apply(ctx, b)
}
