package mediator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
)

// The mediator's key is a 32-byte Ed25519 seed in <data>/mediator.key
// (mode 0600), made on first start; its X25519 key for DIDComm encryption
// is derived from it as for every PLANET identity. Its DID is a did:peer:2
// of both keys and two DIDCommMessaging services, the HTTP and the
// WebSocket endpoint, so it resolves from the DID alone, anywhere, with no
// lookup: a did:peer:2 is its own document. It changes when the endpoints do
// (another host or port), and the server logs it at start.

const (
	keyFile   = "mediator.key"
	storeFile = "mediator.db"
	seedSize  = 32
)

func storePath(dir string) string { return filepath.Join(dir, storeFile) }

// agent is the mediator as a DIDComm party: its identity, DID and document,
// the keys it decrypts with, and how it resolves its clients' DIDs.
type agent struct {
	id       *identity.Identity
	did      did.DID
	doc      *did.Document
	keys     *didcomm.Keys
	resolver did.Resolver
}

func openAgent(dir string, ep Endpoints) (*agent, error) {
	seed, err := loadSeed(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	id, err := identity.FromSeed(seed)
	clear(seed)
	if err != nil {
		return nil, fmt.Errorf("mediator key: %w", err)
	}
	if ep.HTTP == "" || ep.WebSocket == "" {
		return nil, errors.New("mediator: both endpoints are needed")
	}
	d, err := id.Peer2DID(did.DIDCommService(ep.HTTP), did.DIDCommService(ep.WebSocket))
	if err != nil {
		return nil, fmt.Errorf("mediator DID: %w", err)
	}
	doc, err := did.Resolve(d)
	if err != nil {
		return nil, fmt.Errorf("mediator DID: %w", err)
	}
	keys, err := didcomm.IdentityKeys(id, doc)
	if err != nil {
		return nil, fmt.Errorf("mediator keys: %w", err)
	}
	// Clients' DIDs resolve without the network: did:key and did:peer:2
	// carry their documents. (A DID whose document lives on the web would
	// let anyone make the mediator fetch URLs of their choosing.)
	return &agent{id: id, did: d, doc: doc, keys: keys, resolver: did.Local}, nil
}

// unpack decrypts a message sent to the mediator and returns it with the
// DID of its sender, "" when the sender is anonymous. The mediator reads
// encrypted messages only: a plaintext or signed message could have been
// read, or replayed, by anyone on the way.
func (a *agent) unpack(data []byte, now time.Time) (*didcomm.Plaintext, *didcomm.Metadata, string, error) {
	p, meta, err := didcomm.Unpack(context.Background(), a.resolver, a.keys, data, now)
	if err != nil {
		return nil, nil, "", err
	}
	if !meta.Encrypted {
		return nil, nil, "", errors.New("the mediator reads only encrypted messages")
	}
	sender := ""
	if meta.EncryptedFrom != "" {
		// Authcrypt: Unpack checked that skid is a key agreement key of from.
		sender = p.From.String()
	}
	return p, meta, sender, nil
}

// pack encrypts a message from the mediator to a client (authcrypt, to be
// sent back on the client's own connection, so without forwards).
func (a *agent) pack(p *didcomm.Plaintext, to string, now time.Time) ([]byte, error) {
	d, err := did.Parse(to)
	if err != nil {
		return nil, err
	}
	packed, err := didcomm.Pack(context.Background(), p, d, didcomm.PackOptions{
		Resolver: a.resolver, Keys: a.keys, NoForward: true, Now: now,
	})
	if err != nil {
		return nil, err
	}
	return packed.Message, nil
}

// loadSeed reads the key file, or makes it if there is none.
func loadSeed(path string) ([]byte, error) {
	seed, err := os.ReadFile(path)
	if err == nil {
		if len(seed) != seedSize {
			return nil, fmt.Errorf("mediator key %s holds %d bytes, not %d: restore it from a backup, or remove it to make a new mediator DID (clients must then register again)", path, len(seed), seedSize)
		}
		return seed, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the mediator key: %w", err)
	}
	seed = make([]byte, seedSize)
	rand.Read(seed)
	// O_EXCL: two servers starting on one data directory must not make two keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("making the mediator key: %w", err)
	}
	if _, err := f.Write(seed); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("writing the mediator key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing the mediator key: %w", err)
	}
	return seed, nil
}

// recipientDID reads a recipient_did or a forward's next: a DID, or a DID
// URL naming one of its keys, which the mediator routes by its DID.
func recipientDID(s string) (string, error) {
	base, _, _ := strings.Cut(s, "#")
	d, err := did.Parse(base)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
