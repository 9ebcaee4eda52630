package didcomm

import (
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/identity/identitytest"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/keys"
)

// party is a person or mediator of the pack tests: an identity, its
// did:peer:2 and the Keyring it reads with.
type party struct {
	id   *identity.Identity
	did  did.DID
	keys *Keys
}

func newParty(tb testing.TB, label string, services ...did.Service) party {
	tb.Helper()
	id := identitytest.Seeded(tb, label)
	d, err := id.Peer2DID(services...)
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := did.Resolve(d)
	if err != nil {
		tb.Fatal(err)
	}
	kdoc, _ := id.DID().Document()
	k, err := IdentityKeys(id, doc, kdoc)
	if err != nil {
		tb.Fatal(err)
	}
	return party{id: id, did: d, keys: k}
}

// world is alice and bob, bob reached through his mediator, whose own
// service is an HTTPS URL.
type world struct {
	alice, bob, mediator party
	r                    did.Resolver
}

func newWorld(t *testing.T) world {
	t.Helper()
	mediator := newParty(t, "mediator", did.DIDCommService("https://mediator.example/didcomm"))
	return world{
		alice:    newParty(t, "alice"),
		bob:      newParty(t, "bob", did.DIDCommService(mediator.did.String())),
		mediator: mediator,
		r:        did.Local,
	}
}

func (w world) message(t *testing.T) *Plaintext {
	t.Helper()
	p, err := NewPlaintext("https://didcomm.org/basicmessage/2.0/message", map[string]string{"content": "Tea at five?"}, messageTime)
	if err != nil {
		t.Fatal(err)
	}
	p.From = w.alice.did
	p.To = []did.DID{w.bob.did}
	p.Expires = messageTime.Add(time.Hour)
	return p
}

func TestPackUnpack(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	bobKid := w.bob.did.String() + "#key-2"
	aliceKid := w.alice.did.String() + "#key-2"
	tests := []struct {
		name string
		opts PackOptions
		anon bool // anoncrypt: from is not authenticated by encryption
		want Metadata
	}{
		{"authcrypt", PackOptions{}, false, Metadata{Encrypted: true, Authenticated: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512}},
		{"anoncrypt A256CBC-HS512", PackOptions{Anonymous: true}, true, Metadata{Encrypted: true, AnonymousSender: true, EncAnoncrypt: A256CBCHS512}},
		{"anoncrypt A256GCM", PackOptions{Anonymous: true, Enc: A256GCM}, true, Metadata{Encrypted: true, AnonymousSender: true, EncAnoncrypt: A256GCM}},
		{"anoncrypt XC20P", PackOptions{Anonymous: true, Enc: XC20P}, true, Metadata{Encrypted: true, AnonymousSender: true, EncAnoncrypt: XC20P}},
		{"anoncrypt signed", PackOptions{Anonymous: true, Sign: w.alice.id.SigningKey()}, true,
			Metadata{Encrypted: true, Authenticated: true, NonRepudiation: true, AnonymousSender: true, EncAnoncrypt: A256CBCHS512, SignedBy: w.alice.did.String() + "#key-1", SignAlg: AlgEdDSA}},
		{"authcrypt signed", PackOptions{Sign: w.alice.id.SigningKey()}, false,
			Metadata{Encrypted: true, Authenticated: true, NonRepudiation: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512, SignedBy: w.alice.did.String() + "#key-1", SignAlg: AlgEdDSA}},
		{"protect sender", PackOptions{ProtectSender: true, Enc: XC20P}, false,
			Metadata{Encrypted: true, Authenticated: true, AnonymousSender: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512, EncAnoncrypt: XC20P}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := w.message(t)
			tt.opts.Resolver = w.r
			tt.opts.Keys = w.alice.keys
			tt.opts.Now = messageTime
			packed, err := Pack(ctx, p, w.bob.did, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(packed.ToKids) != 1 || packed.ToKids[0] != bobKid {
				t.Errorf("to kids %v", packed.ToKids)
			}
			got, meta, err := Unpack(ctx, w.r, w.bob.keys, packed.Message, messageTime)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("Unpack =\n %+v\nwant\n %+v", got, p)
			}
			want := tt.want
			want.EncryptedTo = []string{bobKid}
			want.MyKids = []string{bobKid}
			want.SignedMessage = meta.SignedMessage
			if !reflect.DeepEqual(*meta, want) {
				t.Errorf("metadata\n %+v\nwant\n %+v", *meta, want)
			}
			if tt.opts.Sign != nil && len(meta.SignedMessage) == 0 {
				t.Error("no signed message kept")
			}

			// The route: bob's service names his mediator's DID, so the
			// message goes to the mediator's URL in a forward to bob,
			// anoncrypted to the mediator.
			if len(packed.Routes) != 1 {
				t.Fatalf("routes %+v", packed.Routes)
			}
			rt := packed.Routes[0]
			if rt.URI != "https://mediator.example/didcomm" || !reflect.DeepEqual(rt.RoutingKeys, []string{w.mediator.did.String()}) {
				t.Errorf("route %+v", rt)
			}
			fwd, fmeta, err := Unpack(ctx, w.r, w.mediator.keys, rt.Message, messageTime)
			if err != nil {
				t.Fatal(err)
			}
			if fwd.Type != ForwardType || fmeta.Forward == nil || fmeta.Forward.Next != w.bob.did.String() || !fmeta.AnonymousSender || !fwd.From.IsZero() {
				t.Fatalf("forward %+v, %+v", fwd, fmeta)
			}
			if !fwd.Expires.Equal(p.Expires) {
				t.Errorf("the forward expires %v, the message %v", fwd.Expires, p.Expires)
			}
			again, _, err := Unpack(ctx, w.r, w.bob.keys, fmeta.Forward.Payload, messageTime)
			if err != nil || !reflect.DeepEqual(again, p) {
				t.Errorf("the forwarded message: %+v, %v", again, err)
			}
			// The mediator cannot read what it forwards, and bob cannot
			// read the forward.
			if _, _, err := Unpack(ctx, w.r, w.mediator.keys, fmeta.Forward.Payload, messageTime); !errors.Is(err, ErrNotForMe) {
				t.Errorf("the mediator opening the payload: %v", err)
			}
			if _, _, err := Unpack(ctx, w.r, w.bob.keys, rt.Message, messageTime); !errors.Is(err, ErrNotForMe) {
				t.Errorf("bob opening the forward: %v", err)
			}
		})
	}
}

// TestPackSeveralKeys: a recipient with two key agreement keys gets one
// ciphertext that either key opens.
func TestPackSeveralKeys(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	k1, _ := ecdh.X25519().GenerateKey(nil)
	k2, _ := ecdh.X25519().GenerateKey(nil)
	edKeys := did.Peer2Keys(identitytest.Seeded(t, "carol").PublicKey())
	carol, err := did.NewPeer2([]did.Peer2Key{
		edKeys[0],
		{Purpose: did.Peer2KeyAgreement, Multikey: keys.X25519Multikey(k1.PublicKey().Bytes())},
		{Purpose: did.Peer2KeyAgreement, Multikey: keys.X25519Multikey(k2.PublicKey().Bytes())},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := w.message(t)
	p.To = append(p.To, carol)
	packed, err := Pack(ctx, p, carol, PackOptions{Resolver: w.r, Keys: w.alice.keys})
	if err != nil {
		t.Fatal(err)
	}
	kid1, kid2 := carol.String()+"#key-2", carol.String()+"#key-3"
	if !reflect.DeepEqual(packed.ToKids, []string{kid1, kid2}) || packed.Routes != nil {
		t.Fatalf("packed %+v", packed)
	}
	for _, kid := range []string{kid1, kid2} {
		only := new(Keys)
		only.Add(kid, map[string]*ecdh.PrivateKey{kid1: k1, kid2: k2}[kid])
		got, meta, err := Unpack(ctx, w.r, only, packed.Message, messageTime)
		if err != nil || !reflect.DeepEqual(got, p) || !reflect.DeepEqual(meta.MyKids, []string{kid}) {
			t.Errorf("%s: %+v, %+v, %v", kid, got, meta, err)
		}
	}
	// Bob, among the recipients of the plaintext, cannot open carol's copy.
	if _, _, err := Unpack(ctx, w.r, w.bob.keys, packed.Message, messageTime); !errors.Is(err, ErrNotForMe) {
		t.Errorf("bob opening carol's copy: %v", err)
	}
}

// TestAnoncryptReadByJWX: jwx, an independent JOSE implementation, opens
// PLANET's anoncrypt for one key (the General JSON JWE with the epk in the
// protected header).
func TestAnoncryptReadByJWX(t *testing.T) {
	w := newWorld(t)
	secret := w.bob.id.X25519Private()
	priv, _ := ecdh.X25519().NewPrivateKey(secret)
	for _, enc := range []ContentEncryption{A256CBCHS512, A256GCM} {
		p := w.message(t)
		packed, err := Pack(context.Background(), p, w.bob.did, PackOptions{Resolver: w.r, Anonymous: true, Enc: enc, NoForward: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := jwe.Decrypt(packed.Message, jwe.WithKey(jwa.ECDH_ES_A256KW(), priv))
		if err != nil {
			t.Fatalf("%s: jwx: %v", enc, err)
		}
		want, _ := p.Encode()
		if string(got) != string(want) {
			t.Errorf("%s: jwx read %s", enc, got)
		}
	}
}

// rewrite returns the encrypted message msg with its protected header
// changed by change, and the rest as it was.
func rewrite(t *testing.T, msg []byte, change func(hdr map[string]any)) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(msg, &obj); err != nil {
		t.Fatal(err)
	}
	var hdr map[string]any
	if err := json.Unmarshal(mustB64(t, obj["protected"].(string)), &hdr); err != nil {
		t.Fatal(err)
	}
	change(hdr)
	h, _ := json.Marshal(hdr)
	obj["protected"] = jws.Base64.EncodeToString(h)
	out, _ := json.Marshal(obj)
	return out
}

func changeMember(t *testing.T, msg []byte, change func(obj map[string]any)) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(msg, &obj); err != nil {
		t.Fatal(err)
	}
	change(obj)
	out, _ := json.Marshal(obj)
	return out
}

func TestUnpackRefuses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	carol := newParty(t, "carol")
	pack := func(p *Plaintext, opts PackOptions) []byte {
		t.Helper()
		opts.Resolver, opts.Keys, opts.NoForward = w.r, w.alice.keys, true
		packed, err := Pack(ctx, p, w.bob.did, opts)
		if err != nil {
			t.Fatal(err)
		}
		return packed.Message
	}
	authcrypted := pack(w.message(t), PackOptions{})
	anoncrypted := pack(w.message(t), PackOptions{Anonymous: true})
	signed, _, err := PackSigned(ctx, w.r, w.message(t), w.alice.id.SigningKey())
	if err != nil {
		t.Fatal(err)
	}

	// alice authcrypts a message that says it is from carol.
	p := w.message(t)
	p.From = carol.did
	plain, _ := p.Encode()
	aliceDoc, _ := did.Resolve(w.alice.did)
	bobDoc, _ := did.Resolve(w.bob.did)
	ak, _ := w.alice.keys.AgreementKey(aliceDoc.Absolute(aliceDoc.KeyAgreement[0]))
	bk, _ := agreementKeys(bobDoc, "")
	misattributed, err := encryptJWE(plain, A256CBCHS512, bk, &senderKey{kid: aliceDoc.Absolute(aliceDoc.KeyAgreement[0]), key: ak})
	if err != nil {
		t.Fatal(err)
	}
	// carol signs a message from alice.
	signedByCarol := signJWS(carol.id.SigningKey(), carol.did.String()+"#key-1", must(w.message(t).Encode()))
	// A message addressed to carol alone, encrypted to bob.
	p = w.message(t)
	p.To = []did.DID{carol.did}
	plain, _ = p.Encode()
	misaddressed, _ := encryptJWE(plain, A256GCM, bk, nil)
	// Nestings DIDComm does not allow.
	signedTwice := signJWS(w.alice.id.SigningKey(), w.alice.did.String()+"#key-1", signed)
	anonInAuth, _ := encryptJWE(anoncrypted, A256CBCHS512, bk, &senderKey{kid: aliceDoc.Absolute(aliceDoc.KeyAgreement[0]), key: ak})
	// A signed message without recipients, anoncrypted.
	p = w.message(t)
	p.To = nil
	plain, _ = p.Encode()
	unaddressed, _ := encryptJWE(signJWS(w.alice.id.SigningKey(), w.alice.did.String()+"#key-1", plain), A256GCM, bk, nil)

	flip := func(member string) []byte {
		return changeMember(t, authcrypted, func(obj map[string]any) {
			b := mustB64(t, obj[member].(string))
			b[len(b)/2] ^= 1
			obj[member] = jws.Base64.EncodeToString(b)
		})
	}
	tests := []struct {
		name string
		data []byte
		now  time.Time
		want error
		says string
	}{
		{"not JSON", []byte("aaaa"), messageTime, ErrInvalidMessage, "not valid JSON"},
		{"ciphertext altered", flip("ciphertext"), messageTime, ErrForged, "altered"},
		{"tag altered", flip("tag"), messageTime, ErrForged, ""},
		{"iv altered", flip("iv"), messageTime, ErrForged, ""},
		{"not for me", pack(w.message(t), PackOptions{}), messageTime, nil, ""},
		{"expired", authcrypted, messageTime.Add(time.Hour), ErrExpired, "expired"},
		{"from the future", authcrypted, messageTime.Add(-ClockSkew - time.Second), ErrNotYetValid, "dated"},
		{"sender is not from", misattributed, messageTime, ErrForged, "says it is from"},
		{"signer is not from", signedByCarol, messageTime, ErrForged, "signed by"},
		{"signature altered", changeMember(t, signed, func(obj map[string]any) {
			sigs := obj["signatures"].([]any)
			s := sigs[0].(map[string]any)
			b := mustB64(t, s["signature"].(string))
			b[0] ^= 1
			s["signature"] = jws.Base64.EncodeToString(b)
		}), messageTime, ErrForged, "does not verify"},
		{"misaddressed", misaddressed, messageTime, ErrForged, "not among its recipients"},
		{"signed twice", signedTwice, messageTime, ErrInvalidMessage, "inside another signed"},
		{"anoncrypt in authcrypt", anonInAuth, messageTime, ErrInvalidMessage, "nests"},
		{"signed without to", unaddressed, messageTime, ErrInvalidMessage, "names no recipient"},
		{"apv of other kids", rewrite(t, authcrypted, func(h map[string]any) { h["apv"] = jws.Base64.EncodeToString([]byte("x")) }), messageTime, ErrInvalidMessage, "apv"},
		{"zip", rewrite(t, authcrypted, func(h map[string]any) { h["zip"] = "DEF" }), messageTime, ErrInvalidMessage, `"zip"`},
		{"skid not apu", rewrite(t, authcrypted, func(h map[string]any) { h["skid"] = carol.did.String() + "#key-2" }), messageTime, ErrInvalidMessage, "apu"},
		{"skid in anoncrypt", rewrite(t, anoncrypted, func(h map[string]any) { h["skid"] = carol.did.String() + "#key-2" }), messageTime, ErrInvalidMessage, "skid"},
		{"authcrypt with GCM", rewrite(t, authcrypted, func(h map[string]any) { h["enc"] = "A256GCM" }), messageTime, ErrInvalidMessage, "allows only"},
		{"ECDH-ES direct", rewrite(t, anoncrypted, func(h map[string]any) { h["alg"] = "ECDH-ES" }), messageTime, ErrUnsupported, "ECDH-ES"},
		{"epk on Ed25519", rewrite(t, anoncrypted, func(h map[string]any) { h["epk"].(map[string]any)["crv"] = "Ed25519" }), messageTime, ErrInvalidMessage, "epk"},
		{"epk secp256k1", rewrite(t, anoncrypted, func(h map[string]any) {
			h["epk"] = map[string]any{"kty": "EC", "crv": "secp256k1", "x": "aToW5EaTq5mlAf8C5ECYDSkqsJycrW-e1SQ6_GJcAOk", "y": "JAGX94caA21WKreXwYUaOCYTBMrqaX4KWIlsQZTHWCk"}
		}), messageTime, ErrUnsupported, "secp256k1"},
		{"small-order epk", rewrite(t, anoncrypted, func(h map[string]any) {
			h["epk"].(map[string]any)["x"] = jws.Base64.EncodeToString(make([]byte, 32))
		}), messageTime, ErrInvalidMessage, "epk"},
		{"unprotected header", changeMember(t, anoncrypted, func(obj map[string]any) { obj["unprotected"] = map[string]any{} }), messageTime, ErrInvalidMessage, "unprotected"},
		{"aad", changeMember(t, anoncrypted, func(obj map[string]any) { obj["aad"] = "eA" }), messageTime, ErrInvalidMessage, "aad"},
		{"too large", []byte(`{"x":"` + strings.Repeat("a", MaxPackedSize) + `"}`), messageTime, ErrInvalidMessage, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := w.bob.keys
			want := tt.want
			if want == nil { // "not for me": carol reads bob's message
				keys, want = carol.keys, ErrNotForMe
			}
			_, _, err := Unpack(ctx, w.r, keys, tt.data, tt.now)
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Unpack = %v, want %v saying %q", err, want, tt.says)
			}
		})
	}
}

func TestPackRefuses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	carol := newParty(t, "carol")
	tests := []struct {
		name   string
		change func(*Plaintext, *PackOptions)
		to     did.DID
		want   error
	}{
		{"not addressed to them", func(p *Plaintext, o *PackOptions) {}, carol.did, input.ErrInvalid},
		{"authcrypt without keys", func(p *Plaintext, o *PackOptions) { o.Keys = nil }, w.bob.did, input.ErrInvalid},
		{"authcrypt as another", func(p *Plaintext, o *PackOptions) { p.From = carol.did }, w.bob.did, ErrUnsupported},
		{"signed by a key not from's", func(p *Plaintext, o *PackOptions) { o.Sign = carol.id.SigningKey() }, w.bob.did, input.ErrInvalid},
		{"signed without to", func(p *Plaintext, o *PackOptions) { o.Sign = w.alice.id.SigningKey(); p.To = nil }, w.bob.did, input.ErrInvalid},
		{"unknown enc", func(p *Plaintext, o *PackOptions) { o.Enc = "A128GCM" }, w.bob.did, input.ErrInvalid},
		{"unknown service", func(p *Plaintext, o *PackOptions) { o.ServiceID = "#nope" }, w.bob.did, input.ErrInvalid},
		{"no resolver", func(p *Plaintext, o *PackOptions) { o.Resolver = nil }, w.bob.did, input.ErrInvalid},
		{"bad body", func(p *Plaintext, o *PackOptions) { p.Body = json.RawMessage(`[1]`) }, w.bob.did, input.ErrInvalid},
		{"unresolvable recipient", func(p *Plaintext, o *PackOptions) {
			d, _ := did.ParseAnyMethod("did:example:nobody")
			p.To = []did.DID{d}
		}, must(did.ParseAnyMethod("did:example:nobody")), did.ErrUnsupportedMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := w.message(t)
			opts := PackOptions{Resolver: w.r, Keys: w.alice.keys}
			tt.change(p, &opts)
			if _, err := Pack(ctx, p, tt.to, opts); !errors.Is(err, tt.want) {
				t.Errorf("Pack = %v, want %v", err, tt.want)
			}
		})
	}
}
