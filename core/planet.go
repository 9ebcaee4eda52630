package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/library"
	"planet/core/publish"
	"planet/core/relationship"
	"planet/core/session"
	"planet/core/trust"
	"planet/vault"
)

// State is where a person's vault stands in this browser.
type State string

const (
	StateNone     State = "none"     // no vault yet
	StateLocked   State = "locked"   // a vault, keys not in memory
	StateUnlocked State = "unlocked" // open
)

// Options tune a [Planet]. The zero value is what the product uses.
type Options struct {
	Vault vault.Options
	// Rand is the source of identity keys and record ids; nil is crypto/rand.
	Rand io.Reader
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Resolver resolves the DIDs of others: nil is did.Local (did:key and
	// did:peer:2, no network); the tab adds did:webvh, fetched over the
	// web (core/did/webvh).
	Resolver did.Resolver
	// AfterFunc schedules the idle lock; nil is time.AfterFunc.
	AfterFunc func(d time.Duration, f func()) Timer
}

// A Timer is a scheduled call that can be cancelled, like *time.Timer.
type Timer interface{ Stop() bool }

// A Planet is one person's PLANET on one device: their vault, and once it
// is unlocked, their identity. It guards every operation with the vault's
// state and locks itself after the idle time the person chose.
type Planet struct {
	store vault.Store
	opt   Options

	mu       sync.Mutex
	v        *vault.Vault       // nil while there is no vault
	id       *identity.Identity // nil while locked
	settings Settings
	idle     Timer
	lastUse  time.Time
	onLock   func()
	mediator did.DID // the DIDComm mediator the person receives through; see SetMediator

	session *session.Session // the session of p.v and p.id, made once for all calls; see Session

	// The features, each over the session p gives.
	contacts *contacts.Service
	library  *library.Service
	chat     *chat.Service
	trust    *trust.Service
	// relationships are those on the First Person Network (see
	// relationships.go).
	relationships *relationship.Service
	// publish is the person's DID on the web (core/publish).
	publish  *publish.Service
	resolver did.Resolver
}

// Open prepares the Planet kept in store, whether or not it holds a vault.
func Open(ctx context.Context, store vault.Store, opt Options) (*Planet, error) {
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.AfterFunc == nil {
		opt.AfterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	if opt.Vault.Now == nil {
		opt.Vault.Now = opt.Now
	}
	p := &Planet{store: store, opt: opt, settings: DefaultSettings}
	p.contacts = contacts.New(p)
	p.library = library.New(p)
	p.chat = chat.New(p, p.contacts)
	p.trust = trust.New(p, p.contacts, p.displayName)
	others := opt.Resolver
	if others == nil {
		others = did.Local
	}
	p.publish = publish.New(p, p.Mediator)
	p.resolver = ownFirst{p.publish, others}
	p.relationships = relationship.New(p, p.contacts, p.networkSelf, p.chat.IsBlocked, p.resolver)
	p.relationships.Owns = p.publish.Owns
	v, err := vault.Open(ctx, store, opt.Vault)
	switch {
	case errors.Is(err, vault.ErrNoVault):
	case err != nil:
		return nil, err
	default:
		p.v = v
	}
	return p, nil
}

// State reports whether there is a vault and whether it is unlocked.
func (p *Planet) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stateLocked()
}

func (p *Planet) stateLocked() State {
	switch {
	case p.v == nil:
		return StateNone
	case p.id == nil:
		return StateLocked
	}
	return StateUnlocked
}

// Create makes the vault, sealed with passphrase, and a new identity in it.
// Weak passphrases are refused with a *vault.ErrWeakPassphrase.
func (p *Planet) Create(ctx context.Context, passphrase string) (*identity.Identity, error) {
	if err := vault.RequireStrong(passphrase); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v != nil {
		return nil, vault.ErrExists
	}
	id, err := identity.New(p.opt.Rand)
	if err != nil {
		return nil, err
	}
	v, err := vault.Create(ctx, p.store, passphrase, p.opt.Vault)
	if err != nil {
		return nil, err
	}
	if err := p.writeIdentity(ctx, v, id); err != nil {
		return nil, err
	}
	p.v, p.id, p.settings = v, id, DefaultSettings
	p.armIdleLocked()
	return id, nil
}

func (p *Planet) writeIdentity(ctx context.Context, v *vault.Vault, id *identity.Identity) error {
	rec, err := vault.MarshalCBOR(identityRecord{Seed: id.Seed(), Created: millis(p.opt.Now())})
	if err != nil {
		return err
	}
	return v.Put(ctx, colIdentity, "self", rec)
}

// Unlock opens the vault with passphrase and loads the identity.
func (p *Planet) Unlock(ctx context.Context, passphrase string) (*identity.Identity, error) {
	p.mu.Lock()
	v := p.v
	p.mu.Unlock()
	if v == nil {
		return nil, vault.ErrNoVault
	}
	if err := v.Unlock(ctx, passphrase); err != nil { // slow: not under p.mu
		return nil, err
	}
	id, settings, err := load(ctx, v)
	if err != nil {
		v.Lock()
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id != nil {
		id.Wipe()
		return p.id, nil
	}
	library.Sweep(ctx, v)
	p.id, p.settings = id, settings
	p.armIdleLocked()
	return id, nil
}

func load(ctx context.Context, v *vault.Vault) (*identity.Identity, Settings, error) {
	settings := DefaultSettings
	b, err := v.Get(ctx, colIdentity, "self")
	if err != nil {
		return nil, settings, fmt.Errorf("reading identity: %w", err)
	}
	var rec identityRecord
	if err := vault.UnmarshalCBOR(b, &rec); err != nil {
		return nil, settings, fmt.Errorf("reading identity: %w", errors.Join(vault.ErrCorrupt, err))
	}
	defer clear(rec.Seed)
	id, err := identity.FromSeed(rec.Seed)
	if err != nil {
		return nil, settings, fmt.Errorf("reading identity: %w", errors.Join(vault.ErrCorrupt, err))
	}
	b, err = v.Get(ctx, colSettings, "settings")
	switch {
	case errors.Is(err, vault.ErrNotFound):
	case err != nil:
		return nil, settings, err
	default:
		if err := vault.UnmarshalCBOR(b, &settings); err != nil {
			return nil, settings, fmt.Errorf("reading settings: %w", errors.Join(vault.ErrCorrupt, err))
		}
	}
	return id, settings, nil
}

// Lock wipes keys and identity from memory and tells the lock listener.
func (p *Planet) Lock() {
	p.mu.Lock()
	fn := p.lockLocked()
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// lockLocked locks and returns the listener to call once p.mu is released.
func (p *Planet) lockLocked() func() {
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	if p.v == nil || p.id == nil {
		return nil
	}
	p.v.Lock()
	p.id.Wipe()
	p.id, p.session = nil, nil
	return p.onLock
}

// OnLock sets the function called whenever the vault locks, by Lock or by
// the idle timer. It is called with no lock held, on Lock's caller or the
// timer's goroutine, and must not block.
func (p *Planet) OnLock(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onLock = fn
}

// Touch records activity, postponing the idle lock.
func (p *Planet) Touch() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastUse = p.opt.Now()
}

// armIdleLocked (re)starts the idle timer from the current settings.
func (p *Planet) armIdleLocked() {
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	p.lastUse = p.opt.Now()
	if p.settings.AutoLockMinutes == 0 {
		return
	}
	p.idle = p.opt.AfterFunc(p.idleAfter(), p.idleCheck)
}

func (p *Planet) idleAfter() time.Duration {
	return time.Duration(p.settings.AutoLockMinutes) * time.Minute
}

// idleCheck runs when the timer fires: lock if idle long enough, or wait
// for the rest of the idle time since the last activity.
func (p *Planet) idleCheck() {
	p.mu.Lock()
	if p.id == nil || p.settings.AutoLockMinutes == 0 {
		p.mu.Unlock()
		return
	}
	if rest := p.idleAfter() - p.opt.Now().Sub(p.lastUse); rest > 0 {
		p.idle = p.opt.AfterFunc(rest, p.idleCheck)
		p.mu.Unlock()
		return
	}
	fn := p.lockLocked()
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// unlocked returns the vault and identity, or vault.ErrLocked/ErrNoVault.
func (p *Planet) unlocked() (*vault.Vault, *identity.Identity, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.v == nil:
		return nil, nil, vault.ErrNoVault
	case p.id == nil:
		return nil, nil, vault.ErrLocked
	}
	return p.v, p.id, nil
}

// Contacts is the person's address book.
func (p *Planet) Contacts() *contacts.Service { return p.contacts }

// Library is what the person keeps: notes, photos and documents.
func (p *Planet) Library() *library.Service { return p.library }

// Chat is the person's conversations.
func (p *Planet) Chat() *chat.Service { return p.chat }

// Trust is the person's trust network: invitations, introductions, sharing
// and the relationship credentials kept.
func (p *Planet) Trust() *trust.Service { return p.trust }

// displayName is the name the person gives the people they connect with.
func (p *Planet) displayName() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings.Name
}

// Identity returns the person's identity.
func (p *Planet) Identity() (*identity.Identity, error) {
	_, id, err := p.unlocked()
	return id, err
}

// ChangePassphrase re-seals the vault under newPassphrase.
func (p *Planet) ChangePassphrase(ctx context.Context, oldPassphrase, newPassphrase string) error {
	v, _, err := p.unlocked()
	if err != nil {
		return err
	}
	if err := vault.RequireStrong(newPassphrase); err != nil {
		return err
	}
	return v.ChangePassphrase(ctx, oldPassphrase, newPassphrase)
}

// Settings returns the person's settings.
func (p *Planet) Settings() (Settings, error) {
	if _, _, err := p.unlocked(); err != nil {
		return Settings{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings, nil
}

// SetSettings stores s and applies it (a new idle time starts now).
func (p *Planet) SetSettings(ctx context.Context, s Settings) (Settings, error) {
	if err := s.check(); err != nil {
		return Settings{}, err
	}
	v, _, err := p.unlocked()
	if err != nil {
		return Settings{}, err
	}
	b, err := vault.MarshalCBOR(s)
	if err != nil {
		return Settings{}, err
	}
	if err := v.Put(ctx, colSettings, "settings", b); err != nil {
		return Settings{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings = s
	if p.id != nil {
		p.armIdleLocked()
	}
	return s, nil
}

// Counts says how many records of each kind the vault holds.
type Counts = session.Counts

// Counts counts the person's records.
func (p *Planet) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	var err error
	if c.Contacts, err = p.contacts.Count(ctx); err != nil {
		return c, err
	}
	if err := p.trust.Count(ctx, &c); err != nil {
		return c, err
	}
	if c.Messages, err = p.chat.Count(ctx); err != nil {
		return c, err
	}
	return c, p.library.Count(ctx, &c)
}
