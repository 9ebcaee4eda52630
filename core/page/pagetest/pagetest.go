// Package pagetest makes real did:webvh DIDs for tests of public pages: a
// log made with webvh.Create by an update key, whose document lists a
// content key under authentication and assertionMethod, as the person's
// PLANET makes it; then key rotation and deactivation as the person would
// do them.
package pagetest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"planet/core/did/webvh"
	"planet/core/keys"
)

// Key is an Ed25519 key held by the test. It is a page.Signer; Update
// gives the same key as a webvh.Signer.
type Key struct{ priv ed25519.PrivateKey }

// NewKey derives a key from seed, so tests are repeatable.
func NewKey(seed string) Key {
	s := sha256.Sum256([]byte(seed))
	return Key{ed25519.NewKeyFromSeed(s[:])}
}

// Sign signs msg (page.Signer).
func (k Key) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// PublicKey returns the public key.
func (k Key) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// Update returns k as a webvh.Signer, to sign log entries.
func (k Key) Update() webvh.Signer { return updateSigner{k} }

type updateSigner struct{ k Key }

func (s updateSigner) PublicKey() ed25519.PublicKey    { return s.k.PublicKey() }
func (s updateSigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg), nil }

// Person is a DID with its log and keys.
type Person struct {
	DID webvh.DID
	Log webvh.Log
	// UpdateKey signs the log; ContentKey is the document's #key-N
	// (KeyID), which signs the page's documents.
	UpdateKey  Key
	ContentKey Key
	KeyID      string // "#key-1"
	// Time is the versionTime of the last entry.
	Time time.Time
}

// Document returns the DID document of id listing key as #<frag> under
// authentication and assertionMethod.
func Document(id, frag string, key Key) map[string]any {
	vm := id + "#" + frag
	return map[string]any{
		"@context": []any{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		"id":       id,
		"verificationMethod": []any{map[string]any{
			"id": vm, "type": "Multikey", "controller": id,
			"publicKeyMultibase": keys.Ed25519Multikey(key.PublicKey()),
		}},
		"authentication":  []any{vm},
		"assertionMethod": []any{vm},
	}
}

// New creates the DID of name on host at created, as the person's PLANET
// does: the log at https://host/name/did.jsonl.
func New(t testing.TB, host, name string, created time.Time) *Person {
	t.Helper()
	p := &Person{UpdateKey: NewKey("update " + name), ContentKey: NewKey("content " + name), KeyID: "#key-1", Time: created}
	log, err := webvh.Create(webvh.CreateOptions{
		Host: host, Path: []string{name}, Time: created,
		Document: func(id string) map[string]any { return Document(id, "key-1", p.ContentKey) },
	}, p.UpdateKey.Update())
	if err != nil {
		t.Fatalf("create did: %v", err)
	}
	p.Log = log
	id, _ := log[0].State["id"].(string)
	if p.DID, err = webvh.ParseDID(id); err != nil {
		t.Fatalf("parse created did: %v", err)
	}
	return p
}

// RotateContentKey replaces the document's content key with a new one,
// #key-<n>, in a new version at at.
func (p *Person) RotateContentKey(t testing.TB, frag string, at time.Time) {
	t.Helper()
	key := NewKey("content " + frag + " " + p.DID.String())
	log, err := p.Log.Update(webvh.UpdateOptions{Time: at, Document: Document(p.DID.String(), frag, key)}, p.UpdateKey.Update(), at)
	if err != nil {
		t.Fatalf("rotate content key: %v", err)
	}
	p.Log, p.ContentKey, p.KeyID, p.Time = log, key, "#"+frag, at
}

// Deactivate deactivates the DID at at.
func (p *Person) Deactivate(t testing.TB, at time.Time) {
	t.Helper()
	log, err := p.Log.Deactivate(at, p.UpdateKey.Update(), at)
	if err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	p.Log, p.Time = log, at
}

// LogBytes returns did.jsonl.
func (p *Person) LogBytes(t testing.TB) []byte {
	t.Helper()
	b, err := p.Log.MarshalJSONL()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Resolve resolves the DID's current version.
func (p *Person) Resolve(t testing.TB, now time.Time) *webvh.Resolution {
	t.Helper()
	res, err := webvh.Resolve(p.DID, p.Log, nil, webvh.Query{}, now)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return res
}
