//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"planet/idb"
	"planet/vault"
)

// WebCrypto and Go's AES-GCM must be interchangeable byte for byte: a file
// sealed in the browser opens natively (an export, another client) and
// the other way round.
func TestWebCryptoMatchesGo(t *testing.T) {
	web := webCryptoChunks()
	if web == nil {
		t.Fatal("no WebCrypto in this browser")
	}
	key := make([]byte, 32)
	rand.NewChaCha8([32]byte{1}).Read(key)
	w, err := web(key)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := vault.GoChunkCrypto(key)
	for _, size := range []int{0, 1, 4096, vault.ChunkSize} {
		pt := make([]byte, size)
		rand.NewChaCha8([32]byte{byte(size)}).Read(pt)
		nonce := []byte{0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1}
		ad := []byte("planet-vault/1 chunk\x00id")
		a, err := w.Seal(nonce, pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := g.Seal(nonce, pt, ad)
		if !bytes.Equal(a, b) {
			t.Fatalf("%d bytes: WebCrypto and Go seal differently", size)
		}
		back, err := g.Open(nonce, a, ad)
		if err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("%d bytes: Go cannot open WebCrypto's chunk: %v", size, err)
		}
		a[len(a)-1] ^= 1
		if _, err := w.Open(nonce, a, ad); err == nil {
			t.Fatalf("%d bytes: WebCrypto opened a tampered chunk", size)
		}
	}
}

// A file written through WebCrypto into IndexedDB reads back through Go's
// AES-GCM: the vault's own path in the browser, end to end.
func TestVaultFileInIndexedDB(t *testing.T) {
	ctx := context.Background()
	store, err := idb.Open(ctx, "planet-test-"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(); idb.Delete(ctx, "planet-test-"+t.Name()) })
	kdf := vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}
	v, err := vault.Create(ctx, store, "correct horse battery staple", vault.Options{KDF: kdf, Chunks: webCryptoChunks()})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 5*vault.ChunkSize+123)
	rand.NewChaCha8([32]byte{9}).Read(data)
	ref, err := v.WriteBlob(ctx, bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	native, err := vault.Open(ctx, store, vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := native.Unlock(ctx, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	r, err := native.OpenBlob(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want %d identical", len(got), err, len(data))
	}
}
