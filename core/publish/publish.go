// Package publish keeps the person's public identity on the web: a
// did:webvh DID (docs/didwebvh.md) whose log their own PLANET writes and
// signs and their server only stores (docs/pages-hosting.md).
//
// The DID document says who the person is to anyone who resolves it: the
// identity's Ed25519 key as "#key-1" (authentication and assertionMethod:
// what the person signs, posts and proofs, verifies against it), its X25519
// key as "#key-2" (keyAgreement), and a DIDCommMessaging service naming
// their mediator, so that the DID is as good as the one they share for
// reaching them on the First Person Network. The log is signed by update
// keys of its own ([identity.Identity.UpdateKey]) under pre-rotation: each
// entry commits to the hash of the next key, so a stolen current key
// cannot hand the DID to someone else, and the person rotates by revealing
// the committed one. The DID is portable, so that the person can take it
// to another server.
package publish

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"planet/core/did"
	"planet/core/did/webvh"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/keys"
	"planet/core/session"
	"planet/vault"
)

// collection holds one record, recordID: the person's DID and its log.
// Its keys are frozen (see package session).
const (
	collection vault.Collection = "publish"
	recordID                    = "self"
)

type record struct {
	Log     []byte `cbor:"1,keyasint"` // did.jsonl, every entry
	Key     uint32 `cbor:"2,keyasint"` // index of the update key in force
	Created int64  `cbor:"3,keyasint"`
	Updated int64  `cbor:"4,keyasint"`
}

// ErrNone is returned while the person has no DID on the web yet.
var ErrNone = errors.New("no public DID yet")

// ErrExists is returned by [Service.Create] when the person has one.
var ErrExists = errors.New("a public DID exists already")

// A Location is where a DID's log is published: the server's host (a name,
// not an address: did:webvh refuses IP addresses), its port (0 for 443) and
// the person's name on it.
type Location struct {
	Host string
	Port int
	Name string
}

// A Page is the person's DID on the web and its log.
type Page struct {
	DID     did.DID
	Log     webvh.Log
	Key     uint32 // the update key in force
	Created time.Time
	Updated time.Time
}

// JSONL returns the log as did.jsonl.
func (p *Page) JSONL() ([]byte, error) { return p.Log.MarshalJSONL() }

// Service keeps the person's DID on the web in the open vault.
type Service struct {
	open     session.Opener
	mediator func() did.DID

	mu sync.Mutex // one change of the log at a time
}

// New returns the service over open; mediator says which DIDComm mediator
// the document's service names (zero: none yet, and the document has no
// service).
func New(open session.Opener, mediator func() did.DID) *Service {
	return &Service{open: open, mediator: mediator}
}

// updateSigner signs log entries with an update key.
type updateSigner struct{ k *identity.SigningKey }

func (s updateSigner) PublicKey() ed25519.PublicKey    { return s.k.Public() }
func (s updateSigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg), nil }

// multikey is the Multikey of update key i.
func multikey(id *identity.Identity, i uint32) string {
	return webvh.Multikey(id.UpdateKey(i).Public())
}

// Get returns the person's page, or ErrNone.
func (svc *Service) Get(ctx context.Context) (*Page, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	return get(ctx, s)
}

func get(ctx context.Context, s *session.Session) (*Page, error) {
	rec, err := session.Get[record](ctx, s.Vault, collection, recordID)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, ErrNone
	} else if err != nil {
		return nil, err
	}
	log, err := webvh.ParseLog(rec.Log)
	if err != nil {
		return nil, fmt.Errorf("publish: the kept log: %w", errors.Join(vault.ErrCorrupt, err))
	}
	// The log was verified whole when it was written (every operation of
	// package webvh checks its result, an import checks what it restores)
	// and the vault authenticates what it keeps: reading it is parsing
	// it, not verifying every proof again, which each resolution of a
	// did:webvh would otherwise pay (ownFirst asks Owns).
	id, _ := log[len(log)-1].State["id"].(string)
	wd, err := webvh.ParseDID(id)
	if err != nil {
		return nil, fmt.Errorf("publish: the kept log: %w", errors.Join(vault.ErrCorrupt, err))
	}
	return &Page{DID: wd.DID(), Log: log, Key: rec.Key, Created: session.Time(rec.Created), Updated: session.Time(rec.Updated)}, nil
}

// document returns the DID document of id for the person: their keys and
// their mediator.
func (svc *Service) document(me *identity.Identity) func(id string) map[string]any {
	return func(id string) map[string]any {
		doc := map[string]any{
			"@context": []any{did.ContextDIDv1, did.ContextMultikeyV1},
			"id":       id,
			"verificationMethod": []any{
				map[string]any{"id": id + "#key-1", "type": "Multikey", "controller": id, "publicKeyMultibase": keys.Ed25519Multikey(me.PublicKey())},
				map[string]any{"id": id + "#key-2", "type": "Multikey", "controller": id, "publicKeyMultibase": keys.X25519Multikey(me.X25519Public())},
			},
			"authentication":  []any{id + "#key-1"},
			"assertionMethod": []any{id + "#key-1"},
			"keyAgreement":    []any{id + "#key-2"},
		}
		if m := svc.mediator(); !m.IsZero() {
			doc["service"] = []any{map[string]any{"id": id + "#didcomm", "type": "DIDCommMessaging",
				"serviceEndpoint": map[string]any{"uri": m.String(), "accept": []any{"didcomm/v2"}}}}
		}
		return doc
	}
}

// Create makes the person's DID at loc: the first entry of its log, signed
// by update key 0 and committing to key 1. The caller publishes the log
// ([Page.JSONL]) to loc's server; until it does, nobody can resolve it.
func (svc *Service) Create(ctx context.Context, loc Location) (*Page, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	if loc.Host == "" || loc.Name == "" {
		return nil, fmt.Errorf("%w: a public DID needs a server name and a name on it", input.ErrInvalid)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	switch _, err := get(ctx, s); {
	case err == nil:
		return nil, ErrExists
	case !errors.Is(err, ErrNone):
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	log, err := webvh.Create(webvh.CreateOptions{
		Host: loc.Host, Port: loc.Port, Path: []string{loc.Name}, Time: now,
		Document:      svc.document(s.Identity),
		UpdateKeys:    []string{multikey(s.Identity, 0)},
		NextKeyHashes: []string{webvh.NextKeyHash(multikey(s.Identity, 1))},
		Portable:      true,
	}, updateSigner{s.Identity.UpdateKey(0)})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
	}
	return svc.put(ctx, s, log, 0, now, now)
}

// Rotate replaces the update key: key n+1, committed to by the last entry,
// signs a new entry that makes it the update key and commits to key n+2.
// Key n can sign nothing from then on.
func (svc *Service) Rotate(ctx context.Context) (*Page, error) {
	return svc.change(ctx, func(p *Page, me *identity.Identity, now time.Time) (webvh.Log, uint32, error) {
		next := p.Key + 1
		log, err := p.Log.Update(webvh.UpdateOptions{
			Time:          now,
			UpdateKeys:    []string{multikey(me, next)},
			NextKeyHashes: []string{webvh.NextKeyHash(multikey(me, next+1))},
		}, updateSigner{me.UpdateKey(next)}, now)
		return log, next, err
	})
}

// Refresh writes a new entry when the document no longer says what it
// should (the person's mediator changed), and returns the page, changed or
// not.
func (svc *Service) Refresh(ctx context.Context) (*Page, error) {
	return svc.change(ctx, func(p *Page, me *identity.Identity, now time.Time) (webvh.Log, uint32, error) {
		want := svc.document(me)(p.DID.String())
		if same, err := sameJSON(p.Log[len(p.Log)-1].State, want); err != nil || same {
			return p.Log, p.Key, err
		}
		// Under pre-rotation every entry reveals the next key.
		next := p.Key + 1
		log, err := p.Log.Update(webvh.UpdateOptions{
			Time: now, Document: want,
			UpdateKeys:    []string{multikey(me, next)},
			NextKeyHashes: []string{webvh.NextKeyHash(multikey(me, next+1))},
		}, updateSigner{me.UpdateKey(next)}, now)
		return log, next, err
	})
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b map[string]any) (bool, error) {
	ja, err := jcs.Encode(a)
	if err != nil {
		return false, err
	}
	jb, err := jcs.Encode(b)
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}

// entryTime is the versionTime of p's next entry: now, to the second, or a
// second after the last entry if the clock says otherwise (versionTime
// must grow).
func entryTime(s *session.Session, p *Page) time.Time {
	now := s.Now().UTC().Truncate(time.Second)
	if t, err := time.Parse(time.RFC3339, p.Log[len(p.Log)-1].VersionTime); err == nil && !now.After(t) {
		now = t.Add(time.Second)
	}
	return now
}

// change runs f on the page and keeps the log it returns.
func (svc *Service) change(ctx context.Context, f func(p *Page, me *identity.Identity, now time.Time) (webvh.Log, uint32, error)) (*Page, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	p, err := get(ctx, s)
	if err != nil {
		return nil, err
	}
	now := entryTime(s, p)
	log, key, err := f(p, s.Identity, now)
	if err != nil {
		return nil, err
	}
	if len(log) == len(p.Log) {
		return p, nil
	}
	return svc.put(ctx, s, log, key, p.Created, now)
}

func (svc *Service) put(ctx context.Context, s *session.Session, log webvh.Log, key uint32, created, now time.Time) (*Page, error) {
	data, err := log.MarshalJSONL()
	if err != nil {
		return nil, err
	}
	if err := session.Put(ctx, s.Vault, collection, recordID, record{Log: data, Key: key, Created: session.Millis(created), Updated: session.Millis(now)}); err != nil {
		return nil, err
	}
	return get(ctx, s)
}

// Owns reports whether d is the person's DID on the web.
func (svc *Service) Owns(ctx context.Context, d did.DID) bool {
	p, err := svc.Get(ctx)
	return err == nil && p.DID == d
}

// UpdateKey returns the update key in force, to sign requests to the
// server that hosts the log (docs/pages-hosting.md).
func (svc *Service) UpdateKey(ctx context.Context) (*identity.SigningKey, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	p, err := get(ctx, s)
	if err != nil {
		return nil, err
	}
	return s.Identity.UpdateKey(p.Key), nil
}

// Document returns the current DID document of the person's DID d, read
// from the log in the vault (no network): for reading what is sent to d.
func (svc *Service) Document(ctx context.Context, d did.DID) (*did.Document, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	p, err := get(ctx, s)
	if err != nil {
		return nil, err
	}
	if p.DID != d {
		return nil, fmt.Errorf("%s is not the person's DID on the web", did.Short(d))
	}
	wd, err := webvh.FromDID(d)
	if err != nil {
		return nil, err
	}
	res, err := webvh.Resolve(wd, p.Log, nil, webvh.Query{}, s.Now())
	if err != nil {
		return nil, err
	}
	return res.Doc()
}

// Authorize returns the Authorization value of a request to the server
// that hosts the log, signed by the update key in force
// (docs/pages-hosting.md): method PUT or DELETE of the file path (under
// the DID's name) with body.
func (svc *Service) Authorize(ctx context.Context, method, path string, body []byte) (string, error) {
	s, err := svc.open.Session()
	if err != nil {
		return "", err
	}
	p, err := get(ctx, s)
	if err != nil {
		return "", err
	}
	k := s.Identity.UpdateKey(p.Key)
	created := s.Now().Unix()
	sig := k.Sign(webvh.FileRequestSigningInput(method, p.DID.String(), path, body, created))
	return webvh.FileRequestAuthorization(webvh.Multikey(k.Public()), created, sig), nil
}

// Discard forgets a DID whose first publication the server refused (its
// name was taken, say), so that the person can choose another name. A DID
// with more than one version has been published and is never discarded.
func (svc *Service) Discard(ctx context.Context) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	p, err := get(ctx, s)
	if err != nil {
		return err
	}
	if len(p.Log) > 1 {
		return fmt.Errorf("%w: %s has been updated, so it was published: it is kept", input.ErrInvalid, did.Short(p.DID))
	}
	return session.Delete(ctx, s.Vault, collection, recordID)
}

// Name returns the page's name on its server: the last segment of the
// DID's path.
func (p *Page) Name() string {
	wd, err := webvh.FromDID(p.DID)
	if err != nil {
		return ""
	}
	path := wd.Location().Path
	if len(path) == 0 {
		return ""
	}
	return path[len(path)-1]
}
