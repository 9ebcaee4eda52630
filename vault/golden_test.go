package vault_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"planet/vault"
	"planet/vault/mem"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenFile = "testdata/golden-v1.txt"

// goldenVault builds a vault deterministically: same randomness, same clock.
func goldenVault(t *testing.T) *mem.Store {
	s := mem.New()
	opt := vault.Options{KDF: testKDF, Rand: seeded(42), Now: func() time.Time { return time.Unix(1795000000, 0) }}
	v, err := vault.Create(ctx, s, pass, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "notes", "n1", []byte("first note")); err != nil {
		t.Fatal(err)
	}
	ref, err := v.WriteBlob(ctx, strings.NewReader("a small file"), nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := vault.MarshalCBOR(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "files", "f1", enc); err != nil {
		t.Fatal(err)
	}
	return s
}

func dump(s vault.Store) string {
	var b strings.Builder
	s.Scan(ctx, "", func(k string, v []byte) error {
		fmt.Fprintf(&b, "%s %x\n", k, v)
		return nil
	})
	return b.String()
}

// TestGolden pins the format's bytes: any change to how a vault is written
// shows up here, and must come with a new format version.
func TestGolden(t *testing.T) {
	got := dump(goldenVault(t))
	if *update {
		os.WriteFile(goldenFile, []byte(got), 0o644)
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("vault bytes changed from %s:\ngot:\n%s\nwant:\n%s", goldenFile, got, want)
	}
}

// TestGoldenReads opens the pinned vault: a vault written by this version
// must open in every later one.
func TestGoldenReads(t *testing.T) {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := mem.New()
	var b vault.Batch
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, h, _ := strings.Cut(sc.Text(), " ")
		v, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		b.Put(k, v)
	}
	s.Apply(ctx, &b)
	v, err := reopen(t, s, pass)
	if err != nil {
		t.Fatal(err)
	}
	note, err := v.Get(ctx, "notes", "n1")
	if err != nil || string(note) != "first note" {
		t.Fatalf("note = %q, %v", note, err)
	}
	enc, err := v.Get(ctx, "files", "f1")
	if err != nil {
		t.Fatal(err)
	}
	var ref vault.BlobRef
	if err := vault.UnmarshalCBOR(enc, &ref); err != nil {
		t.Fatal(err)
	}
	r, err := v.OpenBlob(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(data, []byte("a small file")) {
		t.Fatalf("file = %q, %v", data, err)
	}
}
