package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Errors a vault returns; callers test for them with errors.Is.
var (
	// ErrNoVault: Open found no vault in the store.
	ErrNoVault = errors.New("there is no vault here yet")
	// ErrExists: Create found a vault already in the store.
	ErrExists = errors.New("a vault already exists here")
	// ErrLocked: the vault must be unlocked first.
	ErrLocked = errors.New("the vault is locked")
	// ErrWrongPassphrase: the passphrase does not open this vault.
	ErrWrongPassphrase = errors.New("wrong passphrase")
)

// Options tune a vault. The zero value is what the product uses.
type Options struct {
	// KDF is used when creating a vault or changing its passphrase.
	// Zero means DefaultKDF.
	KDF KDFParams
	// Rand is the source of keys, salts and nonces; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Chunks seals file chunks; nil means Go's own AES-GCM. The browser
	// supplies WebCrypto, which is much faster there.
	Chunks ChunkCrypto
}

func (o *Options) fill() {
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Chunks == nil {
		o.Chunks = GoChunkCrypto
	}
}

// A Vault is an encrypted, passphrase-protected set of records and files
// on a [Store]. It is safe for concurrent use. A locked vault holds no keys.
type Vault struct {
	store Store
	opt   Options

	mu      sync.RWMutex // guards everything below; writers serialize on it
	header  *header
	secrets *secrets                        // nil while locked
	indexes map[Collection]*collectionIndex // decrypted indexes, dropped on lock

	// What Changes counts: gen goes up at every update, lock and unlock;
	// changed holds, per collection, gen at its last update, and lockGen
	// gen at the last lock or unlock.
	gen     uint64
	changed map[Collection]uint64
	lockGen uint64
}

// Create makes a new vault in store, sealed with passphrase, and returns it
// unlocked. It fails with ErrExists if the store already holds a vault, and
// clears leftovers of an interrupted create or import first. Callers check
// the passphrase's strength before; Create refuses only an empty one.
func Create(ctx context.Context, store Store, passphrase string, opt Options) (*Vault, error) {
	v, commit, err := Prepare(ctx, store, passphrase, opt)
	if err != nil {
		return nil, err
	}
	if err := commit(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Prepare is Create in two steps, for filling a vault before it exists (an
// import): the returned vault is unlocked and takes writes at once, but the
// store holds a vault only once commit has written the header. Until then
// an interruption leaves nothing but leftovers, which the next Create or
// Prepare clears.
func Prepare(ctx context.Context, store Store, passphrase string, opt Options) (v *Vault, commit func(context.Context) error, err error) {
	opt.fill()
	if passphrase == "" {
		return nil, nil, errors.New("vault: empty passphrase")
	}
	if err := opt.KDF.check(); err != nil {
		return nil, nil, err
	}
	if _, err := store.Get(ctx, headerKey); err == nil {
		return nil, nil, ErrExists
	} else if !errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	dataKey := make([]byte, 32)
	if _, err := io.ReadFull(opt.Rand, dataKey); err != nil {
		return nil, nil, fmt.Errorf("vault: reading randomness: %w", err)
	}
	k, wrapped, err := wrap(dataKey, passphrase, opt.KDF, opt.Rand)
	if err != nil {
		return nil, nil, err
	}
	h := &header{Version: formatVersion, KDF: k, WrappedKey: wrapped, Created: opt.Now().Unix()}
	enc, err := MarshalCBOR(h)
	if err != nil {
		return nil, nil, err
	}
	var clearAll Batch
	clearAll.DeletePrefix("") // leftovers of an interrupted create or import
	if err := store.Apply(ctx, &clearAll); err != nil {
		return nil, nil, fmt.Errorf("vault: clearing leftovers: %w", err)
	}
	s, err := deriveSecrets(dataKey)
	if err != nil {
		return nil, nil, err
	}
	v = &Vault{store: store, opt: opt, header: h, secrets: s, indexes: map[Collection]*collectionIndex{}}
	commit = func(ctx context.Context) error {
		var b Batch
		b.Put(headerKey, enc)
		if err := store.Apply(ctx, &b); err != nil {
			return fmt.Errorf("vault: writing header: %w", err)
		}
		return nil
	}
	return v, commit, nil
}

// Exists reports whether store holds a vault.
func Exists(ctx context.Context, store Store) (bool, error) {
	_, err := store.Get(ctx, headerKey)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Open returns the vault in store, locked. It fails with ErrNoVault if
// there is none.
func Open(ctx context.Context, store Store, opt Options) (*Vault, error) {
	opt.fill()
	b, err := store.Get(ctx, headerKey)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoVault
	}
	if err != nil {
		return nil, fmt.Errorf("vault: reading header: %w", err)
	}
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	return &Vault{store: store, opt: opt, header: h}, nil
}

// Unlock derives the key from passphrase and opens the vault. It returns
// ErrWrongPassphrase if the passphrase does not fit. Unlocking an unlocked
// vault checks the passphrase again.
func (v *Vault) Unlock(ctx context.Context, passphrase string) error {
	v.mu.RLock()
	h := v.header
	v.mu.RUnlock()
	dk, err := h.unwrap(passphrase) // slow (Argon2id): outside the lock
	if err != nil {
		return err
	}
	s, err := deriveSecrets(dk)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secrets != nil {
		s.wipe()
		return nil
	}
	v.secrets = s
	v.indexes = map[Collection]*collectionIndex{}
	v.gen++
	v.lockGen = v.gen
	return nil
}

// Lock wipes the keys and decrypted indexes from memory. Records already
// handed out stay with their callers.
func (v *Vault) Lock() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secrets != nil {
		v.secrets.wipe()
		v.secrets = nil
	}
	v.indexes = nil
	v.gen++
	v.lockGen = v.gen
}

// Locked reports whether the vault is locked.
func (v *Vault) Locked() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.secrets == nil
}

// KDF returns the key derivation parameters the vault is sealed with.
func (v *Vault) KDF() KDFParams {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.header.KDF.params()
}

// Created returns when the vault was made.
func (v *Vault) Created() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return time.Unix(v.header.Created, 0)
}

// ChangePassphrase re-seals the data key under newPassphrase, with the
// vault's configured KDF parameters (which may be stronger than the old
// ones). Only the header changes. The vault must be unlocked, and
// oldPassphrase must open it.
func (v *Vault) ChangePassphrase(ctx context.Context, oldPassphrase, newPassphrase string) error {
	if newPassphrase == "" {
		return errors.New("vault: empty passphrase")
	}
	v.mu.RLock()
	h, locked := v.header, v.secrets == nil
	v.mu.RUnlock()
	if locked {
		return ErrLocked
	}
	dk, err := h.unwrap(oldPassphrase)
	if err != nil {
		return err
	}
	defer clear(dk)
	k, wrapped, err := wrap(dk, newPassphrase, v.opt.KDF, v.opt.Rand)
	if err != nil {
		return err
	}
	nh := &header{Version: formatVersion, KDF: k, WrappedKey: wrapped, Created: h.Created}
	enc, err := MarshalCBOR(nh)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.header != h {
		return errors.New("vault: the passphrase was changed meanwhile")
	}
	var b Batch
	b.Put(headerKey, enc)
	if err := v.store.Apply(ctx, &b); err != nil {
		return fmt.Errorf("vault: writing header: %w", err)
	}
	v.header = nh
	return nil
}
