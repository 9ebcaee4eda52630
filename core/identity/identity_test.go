package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"planet/core/did"
	"planet/core/internal/vectors"

	"github.com/mr-tron/base58"
)

func TestIdentityFromSeedVectors(t *testing.T) {
	for _, v := range vectors.Identities(t) {
		id, err := FromSeed(v.SeedBytes(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := id.DID().String(); got != v.DID {
			t.Errorf("seed %s: DID = %s, want %s", v.Seed, got, v.DID)
		}
		if got := id.PeerID().String(); got != v.PeerID {
			t.Errorf("seed %s: PeerID = %s, want %s", v.Seed, got, v.PeerID)
		}
		if got := base58.Encode(id.PublicKey()); got != v.PublicKeyBase58 {
			t.Errorf("seed %s: PublicKey = %s, want %s", v.Seed, got, v.PublicKeyBase58)
		}
		if got := base58.Encode(id.X25519Private()); got != v.X25519PrivateKeyBase58 {
			t.Errorf("seed %s: X25519Private = %s, want %s", v.Seed, got, v.X25519PrivateKeyBase58)
		}
		if got := id.Seed(); !bytes.Equal(got, v.SeedBytes(t)) {
			t.Errorf("seed %s: Seed() = %x", v.Seed, got)
		}
	}
}

func TestNewIdentity(t *testing.T) {
	// A reader of fixed bytes makes the identity that has them as its seed.
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	id, err := New(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := FromSeed(seed)
	if id.DID() != want.DID() {
		t.Errorf("New from fixed bytes: DID %s, want %s", id.DID(), want.DID())
	}

	a, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.DID() == b.DID() {
		t.Error("two identities from crypto/rand have the same DID")
	}
}

func TestNewIdentityReadError(t *testing.T) {
	broken := errors.New("no entropy")
	if _, err := New(iotest.ErrReader(broken)); !errors.Is(err, broken) {
		t.Errorf("New with a failing reader: error %v, want it to wrap %v", err, broken)
	}
	if _, err := New(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Error("New with 31 bytes of randomness succeeded")
	}
}

func TestIdentityFromSeedLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := FromSeed(make([]byte, n)); err == nil {
			t.Errorf("FromSeed(%d bytes) succeeded", n)
		}
	}
}

func TestIdentitySign(t *testing.T) {
	id, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("met at the co-op AGM")
	sig := id.Sign(msg)
	if !ed25519.Verify(id.PublicKey(), msg, sig) {
		t.Error("signature does not verify under PublicKey")
	}
	pub, err := id.DID().Ed25519PublicKey()
	if err != nil || !ed25519.Verify(pub, msg, sig) {
		t.Errorf("signature does not verify under the DID's key (%v)", err)
	}
	if got := id.SigningKey().Sign(msg); !bytes.Equal(got, sig) {
		t.Error("SigningKey().Sign differs from Identity.Sign")
	}
	if !id.SigningKey().Public().Equal(id.PublicKey()) {
		t.Error("SigningKey().Public differs from PublicKey")
	}
}

// TestIdentityCopies checks that callers cannot change the identity through
// the slices it returns.
func TestIdentityCopies(t *testing.T) {
	id, _ := FromSeed(make([]byte, 32))
	want := id.PublicKey()
	id.PublicKey()[0] ^= 1
	id.Seed()[0] ^= 1
	if !bytes.Equal(id.PublicKey(), want) || !bytes.Equal(id.Seed(), make([]byte, 32)) {
		t.Error("modifying a returned slice changed the identity")
	}
}

func TestIdentityWipe(t *testing.T) {
	id, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	key := id.key.key() // where the key lived
	did, peer, pub := id.DID(), id.PeerID(), id.PublicKey()
	signer := id.SigningKey()
	copied := *id

	id.Wipe()
	id.Wipe() // a second time is harmless

	if !bytes.Equal(key, make([]byte, ed25519.PrivateKeySize)) {
		t.Error("Wipe left key bytes in memory")
	}
	if id.DID() != did || id.PeerID() != peer || !bytes.Equal(id.PublicKey(), pub) {
		t.Error("Wipe changed the public identifiers")
	}
	for name, use := range map[string]func(){
		"Sign":              func() { id.Sign([]byte("x")) },
		"Seed":              func() { id.Seed() },
		"X25519Private":     func() { id.X25519Private() },
		"SigningKey().Sign": func() { signer.Sign([]byte("x")) },
		"copy's Sign":       func() { copied.Sign([]byte("x")) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s after Wipe did not panic", name)
				}
			}()
			use()
		}()
	}
}

// TestSecretsDoNotPrint formats identities and keys with every common verb,
// alone and inside other values, and checks that no form of the secret
// appears.
func TestSecretsDoNotPrint(t *testing.T) {
	seed := bytes.Repeat([]byte{0xab}, 32)
	id, _ := FromSeed(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	secrets := []string{
		hex.EncodeToString(seed), hex.EncodeToString(priv), hex.EncodeToString(id.X25519Private()),
		"171 171", // 0xab 0xab in decimal, as %v of a byte slice would print them (one "171" alone may be part of a function's address)
		base58.Encode(seed),
	}
	type holder struct {
		id  Identity
		key SigningKey
	}
	type publicHolder struct {
		ID  *Identity
		Key *SigningKey
	}
	values := map[string]any{
		"*Identity":     id,
		"Identity":      *id,
		"SigningKey":    *id.SigningKey(),
		"*SigningKey":   id.SigningKey(),
		"unexported":    holder{*id, *id.SigningKey()},
		"exported ptrs": publicHolder{id, id.SigningKey()},
		"slice":         []any{id, *id.SigningKey()},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range secrets {
				if strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
					t.Errorf("%s with %s prints a secret: %s", name, verb, out)
				}
			}
		}
	}
	if got, want := fmt.Sprint(id), "Identity("+id.DID().String()+")"; got != want {
		t.Errorf("Sprint(identity) = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%x", *id.SigningKey()); got != "SigningKey(secret)" {
		t.Errorf("Sprintf(%%x, key) = %q, want SigningKey(secret)", got)
	}
}

func TestIdentityPeer2DID(t *testing.T) {
	id, err := FromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	service := did.DIDCommService("https://relay.example.org/didcomm")
	got, err := id.Peer2DID(service)
	if err != nil {
		t.Fatal(err)
	}
	want, err := did.NewPeer2(did.Peer2Keys(id.pub), service)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Peer2DID = %s, want %s", got, want)
	}
}
