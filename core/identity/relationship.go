package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"planet/core/did"
	"planet/core/keys"
)

// Pairwise relationship DIDs (docs/relationship-keys.md).
//
// The person keeps one identity (their persona) and, for each relationship,
// a did:peer:2 of its own in the shape OpenVTC mints: an Ed25519 signing key
// ("#key-1", authentication and assertionMethod), an X25519 key agreement key
// ("#key-2") and a DIDCommMessaging service whose uri is the person's
// mediator's DID. Two relationship DIDs of one person share nothing a
// stranger can see, so the counterparties cannot link them.
//
// Both keys come from the identity's seed and the relationship's index by
// HKDF-SHA256 with labels that carry the version, so that the vault keeps
// only the index: the keys are made again when the vault is unlocked or an
// export imported. The X25519 key is derived on its own, not converted from
// the Ed25519 one, so that neither key says anything about the other.

// Labels of the relationship key derivation, version 1. Each is followed in
// the HKDF info by the relationship index, 4 bytes big-endian. Changing a
// label changes every relationship DID: a new derivation takes a new version.
const (
	relationshipSigningLabel   = "planet relationship v1 ed25519 signing key"
	relationshipAgreementLabel = "planet relationship v1 x25519 key agreement key"
)

// deriveRelationshipKey returns 32 bytes of HKDF-SHA256 of the identity seed
// (no salt) for label and index.
func deriveRelationshipKey(seed []byte, label string, index uint32) []byte {
	info := binary.BigEndian.AppendUint32([]byte(label), index)
	out, err := hkdf.Key(sha256.New, seed, nil, string(info), 32)
	if err != nil {
		panic("identity: hkdf: " + err.Error()) // 32 bytes of SHA-256 HKDF cannot fail
	}
	return out
}

// agreementKey is an X25519 private key, kept opaque as [SigningKey] is.
type agreementKey struct {
	key  func() *ecdh.PrivateKey // nil once wiped
	wipe func()
}

func newAgreementKey(priv *ecdh.PrivateKey) agreementKey {
	var mu sync.Mutex
	return agreementKey{
		key: func() *ecdh.PrivateKey {
			mu.Lock()
			defer mu.Unlock()
			return priv
		},
		wipe: func() {
			mu.Lock()
			defer mu.Unlock()
			priv = nil // crypto/ecdh keeps its bytes unexported: dropping is all there is
		},
	}
}

// Relationship is the person's side of one relationship: a pairwise
// did:peer:2 and its two secret keys, derived from the identity's seed and
// the relationship's index ([Identity.Relationship]). It signs as the
// relationship DID and does X25519 key agreement as it, as [Identity] does
// for the person's did:key.
//
// Like an Identity it prints only its DID, never a key, under every fmt verb,
// and its methods may be called from several goroutines at once, except
// [Relationship.Wipe].
type Relationship struct {
	index    uint32
	mediator did.DID
	did      did.DID
	sign     SigningKey
	signPub  ed25519.PublicKey
	agree    agreementKey
	agreePub []byte
}

// Relationship returns the person's relationship number index: its did:peer:2
// names mediator (the DID of the person's DIDComm mediator) as the uri of
// its DIDCommMessaging service, written as OpenVTC writes it
// ([did.NewPeer2Unabbreviated]). The same identity, index and mediator always
// give the same DID and keys. It panics after [Identity.Wipe].
func (id *Identity) Relationship(index uint32, mediator did.DID) (*Relationship, error) {
	if mediator.IsZero() {
		return nil, fmt.Errorf("relationship %d: no mediator", index)
	}
	seed := id.key.private().Seed()
	defer clear(seed)

	edSeed := deriveRelationshipKey(seed, relationshipSigningLabel, index)
	signing := ed25519.NewKeyFromSeed(edSeed)
	clear(edSeed)
	signPub := signing.Public().(ed25519.PublicKey)

	xBytes := deriveRelationshipKey(seed, relationshipAgreementLabel, index)
	agreement, err := ecdh.X25519().NewPrivateKey(xBytes)
	clear(xBytes)
	if err != nil {
		return nil, fmt.Errorf("relationship %d: %w", index, err)
	}
	agreePub := agreement.PublicKey().Bytes()
	// A key from a hash is of small order with negligible probability; the
	// check is the one every X25519 key in a did:peer:2 passes.
	if err := keys.CheckX25519Public(agreePub); err != nil {
		return nil, fmt.Errorf("relationship %d: %w", index, err)
	}

	d, err := did.NewPeer2Unabbreviated([]did.Peer2Key{
		{Purpose: did.Peer2Authentication, Multikey: keys.Ed25519Multikey(signPub)},
		{Purpose: did.Peer2KeyAgreement, Multikey: keys.X25519Multikey(agreePub)},
	}, did.DIDCommService(mediator.String()))
	if err != nil {
		return nil, fmt.Errorf("relationship %d: %w", index, err)
	}
	return &Relationship{
		index:    index,
		mediator: mediator,
		did:      d,
		sign:     newSigningKey(signing),
		signPub:  signPub,
		agree:    newAgreementKey(agreement),
		agreePub: agreePub,
	}, nil
}

// Index returns the relationship's index, all that the vault keeps of it.
func (r *Relationship) Index() uint32 { return r.index }

// DID returns the relationship's did:peer:2.
func (r *Relationship) DID() did.DID { return r.did }

// Mediator returns the DID its service names.
func (r *Relationship) Mediator() did.DID { return r.mediator }

// SigningKeyID returns the DID URL of the signing key, the DID and "#key-1".
func (r *Relationship) SigningKeyID() string { return r.did.String() + "#key-1" }

// KeyAgreementKeyID returns the DID URL of the key agreement key, the DID and
// "#key-2".
func (r *Relationship) KeyAgreementKeyID() string { return r.did.String() + "#key-2" }

// PublicKey returns the Ed25519 public key. The caller may modify the result.
func (r *Relationship) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), r.signPub...)
}

// X25519Public returns the X25519 public key. The caller may modify the
// result.
func (r *Relationship) X25519Public() []byte { return append([]byte(nil), r.agreePub...) }

// Sign returns the Ed25519 signature of msg by the relationship's signing
// key. It panics after [Relationship.Wipe].
func (r *Relationship) Sign(msg []byte) []byte { return r.sign.Sign(msg) }

// SigningKey returns the relationship's signing key, for code that must sign
// as the relationship DID and see nothing else.
func (r *Relationship) SigningKey() *SigningKey { return &r.sign }

// ECDH returns the X25519 shared secret of the relationship's key agreement
// key and the public key peer (32 bytes), for DIDComm's ECDH-ES and ECDH-1PU.
// It refuses a peer key of small order, whose shared secret would be zero.
// The result is secret; zero it when done. It panics after
// [Relationship.Wipe].
func (r *Relationship) ECDH(peer []byte) ([]byte, error) {
	priv := r.agree.key()
	if priv == nil {
		panic("identity: use of a Relationship that was wiped")
	}
	pub, err := ecdh.X25519().NewPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("relationship %s: key agreement: %w", did.Short(r.did), err)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("relationship %s: key agreement: %w", did.Short(r.did), err)
	}
	return shared, nil
}

// X25519Private returns the X25519 private key, for a DIDComm implementation
// that needs the bytes rather than [Relationship.ECDH]. The result is secret;
// zero it when done. It panics after [Relationship.Wipe].
func (r *Relationship) X25519Private() []byte {
	priv := r.agree.key()
	if priv == nil {
		panic("identity: use of a Relationship that was wiped")
	}
	return priv.Bytes()
}

// Wipe forgets the relationship's secret keys, as the vault does when it
// locks; the public methods still work afterwards. Copies callers took with
// X25519Private or ECDH are theirs to zero.
func (r *Relationship) Wipe() {
	if r.sign.wipe != nil {
		r.sign.wipe()
	}
	if r.agree.wipe != nil {
		r.agree.wipe()
	}
}

// String returns "Relationship(" followed by the DID and ")".
func (r Relationship) String() string { return "Relationship(" + r.did.String() + ")" }

// GoString returns the same as String, for %#v.
func (r Relationship) GoString() string { return r.String() }

// Format writes the same as String whatever the verb, so that no key is
// printed.
func (r Relationship) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// A KeyAgreer does X25519 key agreement as the key agreement key kid: a
// [*Relationship], or a person's [*Identity].
type KeyAgreer interface {
	KeyAgreementKeyID() string
	X25519Public() []byte
	ECDH(peer []byte) ([]byte, error)
}

// A Signer signs with the Ed25519 key SigningKeyID names.
type Signer interface {
	SigningKeyID() string
	Sign(msg []byte) []byte
}

var (
	_ KeyAgreer = (*Relationship)(nil)
	_ Signer    = (*Relationship)(nil)
	_ KeyAgreer = (*Identity)(nil)
	_ Signer    = (*Identity)(nil)
)

// SigningKeyID returns the DID URL of the identity's key in its did:key
// document ("did:key:z6Mk…#z6Mk…").
func (id *Identity) SigningKeyID() string {
	s := id.did.String()
	return s + "#" + s[len("did:key:"):]
}

// KeyAgreementKeyID returns the DID URL of the X25519 key agreement key in
// the identity's did:key document ("did:key:z6Mk…#z6LS…").
func (id *Identity) KeyAgreementKeyID() string {
	return id.did.String() + "#" + keys.X25519Multikey(id.X25519Public())
}

// X25519Public returns the X25519 public key of the identity's did:key
// document, converted from its Ed25519 key.
func (id *Identity) X25519Public() []byte {
	x, err := keys.X25519PublicFromEd25519(id.pub)
	if err != nil {
		panic("identity: " + err.Error()) // a key from a seed is never of small order
	}
	return x
}

// ECDH returns the X25519 shared secret of the identity's key agreement key
// and peer, as [Relationship.ECDH] does.
func (id *Identity) ECDH(peer []byte) ([]byte, error) {
	secret := id.X25519Private()
	defer clear(secret)
	priv, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return nil, fmt.Errorf("identity: key agreement: %w", err)
	}
	pub, err := ecdh.X25519().NewPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("identity: key agreement: %w", err)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("identity: key agreement: %w", err)
	}
	return shared, nil
}

// Keyring finds the person's secrets by the DID URL (kid) of their public
// half, as DIDComm asks for them: the identity's and those of the
// relationships added. It holds the same keys as they do, so wiping them
// wipes the keyring's. Its methods may be called from several goroutines.
type Keyring struct {
	mu         sync.RWMutex
	signers    map[string]Signer
	agreements map[string]KeyAgreer
}

// NewKeyring returns a keyring holding id's keys and those of rels.
func NewKeyring(id *Identity, rels ...*Relationship) *Keyring {
	k := &Keyring{signers: map[string]Signer{}, agreements: map[string]KeyAgreer{}}
	if id != nil {
		k.signers[id.SigningKeyID()] = id
		k.agreements[id.KeyAgreementKeyID()] = id
	}
	for _, r := range rels {
		k.Add(r)
	}
	return k
}

// Add adds the keys of r.
func (k *Keyring) Add(r *Relationship) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.signers[r.SigningKeyID()] = r
	k.agreements[r.KeyAgreementKeyID()] = r
}

// Signer returns the signer whose key kid names.
func (k *Keyring) Signer(kid string) (Signer, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s, ok := k.signers[kid]
	return s, ok
}

// KeyAgreement returns the key agreement key kid names.
func (k *Keyring) KeyAgreement(kid string) (KeyAgreer, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	a, ok := k.agreements[kid]
	return a, ok
}

// KeyAgreementIDs returns which of kids the keyring holds, in the order
// given: DIDComm's find_secrets, for picking the recipient key of a JWE.
func (k *Keyring) KeyAgreementIDs(kids []string) []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []string
	for _, kid := range kids {
		if _, ok := k.agreements[kid]; ok {
			out = append(out, kid)
		}
	}
	return out
}
