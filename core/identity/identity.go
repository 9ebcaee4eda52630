package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"

	"planet/core/did"
	"planet/core/keys"
)

// SigningKey is an Ed25519 private key, kept opaque because it is the one
// secret that every identifier of the person rests on.
//
// It never shows its bytes: under every fmt verb (%v, %+v, %#v, %x, %s, %q…) it
// prints "SigningKey(secret)", so it cannot slip into a log or an error
// message. It is not comparable with == (the compiler refuses), since
// comparing secrets that way would be neither constant-time nor meaningful;
// compare the public keys instead. The zero SigningKey holds no key, and
// using it panics.
type SigningKey struct {
	// The key lives only in these closures. fmt prints a function as an
	// address and reaches nothing behind it, even where it cannot call
	// Format (a SigningKey in another type's unexported field) or meets a
	// verb it does not expect (where it prints what pointers point to).
	// Copies of a SigningKey share the closures, so wiping one wipes all.
	// Function fields also make SigningKey not comparable.
	key  func() ed25519.PrivateKey // nil result once wiped
	wipe func()
}

// newSigningKey keeps priv, without copying it, in a SigningKey.
func newSigningKey(priv ed25519.PrivateKey) SigningKey {
	return SigningKey{
		key:  func() ed25519.PrivateKey { return priv },
		wipe: func() { clear(priv); priv = nil },
	}
}

// Public returns the public half of the key. It panics if the key is zero or
// wiped.
func (k SigningKey) Public() ed25519.PublicKey {
	return k.private().Public().(ed25519.PublicKey)
}

// Sign returns the Ed25519 signature of msg. It panics if the key is zero or
// wiped.
func (k SigningKey) Sign(msg []byte) []byte {
	return ed25519.Sign(k.private(), msg)
}

// private returns the key, or panics if there is none: signing with a wiped
// key is a bug in the caller's locking, not a condition to handle.
func (k SigningKey) private() ed25519.PrivateKey {
	var priv ed25519.PrivateKey
	if k.key != nil {
		priv = k.key()
	}
	if priv == nil {
		panic("identity: use of a SigningKey that is zero or was wiped")
	}
	return priv
}

// String returns "SigningKey(secret)".
func (k SigningKey) String() string { return "SigningKey(secret)" }

// GoString returns "SigningKey(secret)", for %#v.
func (k SigningKey) GoString() string { return k.String() }

// Format writes "SigningKey(secret)" whatever the verb, so that %x and %d
// print no bytes either.
func (k SigningKey) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// Identity is a person's Ed25519 key pair and the identifiers derived from it:
// a did:key [DID] and a libp2p [PeerID]. The same key, converted, is the
// X25519 key that others encrypt to.
//
// The methods of an Identity may be called from several goroutines at once,
// except [Identity.Wipe], which must not run concurrently with any other.
// Like [SigningKey], an Identity prints only its DID, never its key.
type Identity struct {
	key  SigningKey
	pub  ed25519.PublicKey
	did  did.DID
	peer keys.PeerID
}

// New creates an Identity with a new key whose seed is read from
// random; a nil random means crypto/rand.
func New(random io.Reader) (*Identity, error) {
	if random == nil {
		random = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(random, seed); err != nil {
		return nil, fmt.Errorf("new identity: reading randomness: %w", err)
	}
	return FromSeed(seed)
}

// FromSeed recreates the Identity whose [Identity.Seed] is seed, as
// when the vault is unlocked or an export is imported. It does not keep seed;
// the caller may zero it afterwards.
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("identity seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	k := ed25519.NewKeyFromSeed(seed)
	pub := k.Public().(ed25519.PublicKey)
	// Keys derived from a seed are never of small order, so neither
	// constructor below can panic.
	return &Identity{
		key:  newSigningKey(k),
		pub:  pub,
		did:  did.FromEd25519(pub),
		peer: keys.PeerIDFromEd25519(pub),
	}, nil
}

// DID returns the identity's did:key DID.
func (id *Identity) DID() did.DID { return id.did }

// PeerID returns the identity's libp2p peer ID.
func (id *Identity) PeerID() keys.PeerID { return id.peer }

// PublicKey returns the identity's Ed25519 public key. The caller may modify
// the returned slice.
func (id *Identity) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), id.pub...)
}

// SigningKey returns the identity's key, for code that needs to sign but
// should not see anything else of the identity. It shares the identity's key:
// after [Identity.Wipe] it panics when used.
func (id *Identity) SigningKey() *SigningKey { return &id.key }

// Sign returns the Ed25519 signature of msg. It panics after [Identity.Wipe].
func (id *Identity) Sign(msg []byte) []byte { return id.key.Sign(msg) }

// Seed returns the 32-byte seed from which the key derives, which
// [FromSeed] turns back into the identity. It exists only to seal the
// key into the vault and into an export the person asked for: the result is
// the whole secret, so zero it as soon as it is sealed. It panics after
// [Identity.Wipe].
func (id *Identity) Seed() []byte { return id.key.private().Seed() }

// X25519Private returns the X25519 private key that matches the key agreement
// key in the identity's DID document, for decrypting what others sealed to
// it. The result is secret; zero it when done. It panics after
// [Identity.Wipe].
func (id *Identity) X25519Private() []byte {
	return keys.X25519PrivateFromEd25519(id.key.private())
}

// Wipe zeroes the identity's private key, as the vault does when it locks.
// Afterwards the public methods (DID, PeerID, PublicKey) still work and the
// secret ones panic. Wiping is best effort: copies that callers took with
// Seed or X25519Private are theirs to zero. Wipe may be called more than once.
func (id *Identity) Wipe() {
	if id.key.wipe != nil {
		id.key.wipe()
	}
}

// String returns "Identity(" followed by the DID and ")".
func (id Identity) String() string { return "Identity(" + id.did.String() + ")" }

// GoString returns the same as String, for %#v.
func (id Identity) GoString() string { return id.String() }

// Format writes the same as String whatever the verb. Without it, fmt would
// print the fields of an Identity, key bytes included, for %v and %x. The
// receiver is a value so that both Identity and *Identity are covered.
func (id Identity) Format(f fmt.State, verb rune) { io.WriteString(f, id.String()) }

// Peer2DID returns a did:peer:2 for the identity: its Ed25519 key for
// authentication, its X25519 key for key agreement (see [Peer2Keys], also for
// what such a DID does and does not hide), and the services given, such as
// one from [DIDCommService].
func (id *Identity) Peer2DID(services ...did.Service) (did.DID, error) {
	return did.NewPeer2(did.Peer2Keys(id.pub), services...)
}

// Owns reports whether d is one of the identity's own DIDs made from its
// key: its did:key, or a did:peer:2 whose authentication key is its key
// (the DID it shares, with services naming its mediator). Pairwise
// relationship DIDs, whose keys are derived apart, are not among them.
func (id *Identity) Owns(d did.DID) bool {
	if d == id.did {
		return true
	}
	if d.Method() != did.MethodPeer {
		return false
	}
	doc, err := did.Resolve(d)
	if err != nil {
		return false
	}
	for _, ref := range doc.Authentication {
		if k, err := doc.Ed25519Key(ref, doc.Authentication); err == nil && k.Equal(id.pub) {
			return true
		}
	}
	return false
}
