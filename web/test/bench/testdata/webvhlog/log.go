// Command webvhlog writes the did:webvh log the bench resolves (bench group
// "pages"): a DID whose log has 100 entries, each rotating the update key
// under pre-rotation and publishing a new DID document, as did.jsonl on
// standard output. The log is deterministic (fixed seeds and times, and
// Ed25519 signatures are deterministic), so the Go benchmark beside it
// (BenchmarkResolve100, run inside Chromium) makes the very same log in the
// page, and says so by its SHA-256.
//
// It lives under testdata so that it is not one of the product's packages
// (go list ./... leaves it out); the bench names it by its path.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"planet/core/did/webvh"
	"planet/core/keys"
)

// Entries is the length of the log.
const Entries = 100

// Host is where the log says it is published.
const Host = "planet.example"

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// signer is an Ed25519 key from a fixed seed.
type signer struct{ priv ed25519.PrivateKey }

func (s signer) PublicKey() ed25519.PublicKey    { return s.priv.Public().(ed25519.PublicKey) }
func (s signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }
func (s signer) multikey() string                { return webvh.Multikey(s.PublicKey()) }

// seed derives the 32-byte seed of key i of a kind ("update", "auth", "agree").
func seed(kind string, i int) []byte {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(i))
	s := sha256.Sum256(append([]byte("planet bench webvh "+kind), n[:]...))
	return s[:]
}

func updateKey(i int) signer { return signer{ed25519.NewKeyFromSeed(seed("update", i))} }

// document is version i's DID document: an Ed25519 key for authentication
// and assertions, an X25519 key for key agreement (both new in each
// version, as a person rotating keys would have), and the services a
// PLANET person publishes: their page and a DIDComm endpoint.
func document(id string, i int) map[string]any {
	auth := webvh.Multikey(ed25519.NewKeyFromSeed(seed("auth", i)).Public().(ed25519.PublicKey))
	agree := keys.X25519Multikey(seed("agree", i)) // 32 bytes standing for an X25519 public key
	k1, k2 := fmt.Sprintf("%s#key-%d", id, i), fmt.Sprintf("%s#agree-%d", id, i)
	return map[string]any{
		"@context": []any{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		"id":       id,
		"verificationMethod": []any{
			map[string]any{"id": k1, "type": "Multikey", "controller": id, "publicKeyMultibase": auth},
			map[string]any{"id": k2, "type": "Multikey", "controller": id, "publicKeyMultibase": agree},
		},
		"authentication":  []any{k1},
		"assertionMethod": []any{k1},
		"keyAgreement":    []any{k2},
		"service": []any{
			map[string]any{"id": id + "#page", "type": "LinkedDomains", "serviceEndpoint": "https://" + Host + "/alice/"},
			map[string]any{"id": id + "#didcomm", "type": "DIDCommMessaging", "serviceEndpoint": map[string]any{
				"uri": "https://" + Host + "/didcomm", "accept": []any{"didcomm/v2"},
			}},
		},
	}
}

// Make returns the log: entry 1 creates the DID with update key 0 and
// commits to key 1; entry n (n ≥ 2) is signed by key n-1, makes it the
// update key and commits to key n.
func Make() (webvh.Log, error) {
	k0 := updateKey(0)
	log, err := webvh.Create(webvh.CreateOptions{
		Host: Host, Path: []string{"alice"}, Time: t0,
		Document:      func(id string) map[string]any { return document(id, 1) },
		NextKeyHashes: []string{webvh.NextKeyHash(updateKey(1).multikey())},
	}, k0)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	id := log[0].State["id"].(string)
	for n := 2; n <= Entries; n++ {
		k := updateKey(n - 1)
		t := t0.Add(time.Duration(n-1) * time.Minute)
		log, err = log.Update(webvh.UpdateOptions{
			Time: t, Document: document(id, n),
			UpdateKeys:    []string{k.multikey()},
			NextKeyHashes: []string{webvh.NextKeyHash(updateKey(n).multikey())},
		}, k, t)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
	}
	return log, nil
}

func main() {
	log, err := Make()
	if err == nil {
		var data []byte
		if data, err = log.MarshalJSONL(); err == nil {
			_, err = os.Stdout.Write(data)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webvhlog:", err)
		os.Exit(1)
	}
}
