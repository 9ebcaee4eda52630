package didcomm

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"planet/core/did"
	"planet/core/didcomm/didcommtest"
	"planet/core/internal/jws"
	"planet/core/keys"
)

// Interop with didcomm-node 0.4.1 (didcomm-rust, the DIF reference
// implementation, in WebAssembly), through web/test/interop/didcomm.mjs:
// PLANET packs and didcomm-node unpacks, and the other way round, and both
// must agree on the message and on what its packing proves.

// nodeInterop returns a function that runs a request through
// web/test/interop/didcomm.mjs (didcommtest.Exec, which skips the test
// when didcomm-node is not installed unless PLANET_REQUIRE_INTEROP=1) and
// reads one result per operation.
func nodeInterop(t *testing.T) func(req map[string]any) []nodeResult {
	t.Helper()
	return func(req map[string]any) []nodeResult {
		t.Helper()
		out := didcommtest.Exec(t, req)
		var results []nodeResult
		if err := json.Unmarshal(out, &results); err != nil {
			t.Fatalf("didcomm.mjs wrote %s: %v", out, err)
		}
		if len(results) != len(req["ops"].([]map[string]any)) {
			t.Fatalf("didcomm.mjs answered %d operations of %d", len(results), len(req["ops"].([]map[string]any)))
		}
		return results
	}
}

// nodeResult is the script's answer to one operation.
type nodeResult struct {
	OK *struct {
		Message  json.RawMessage `json:"message"`
		Packed   string          `json:"packed"`
		Next     string          `json:"next"`
		Forward  string          `json:"forwarded"`
		Metadata nodeMetadata    `json:"metadata"`
	} `json:"ok"`
	Error string `json:"error"`
}

// nodeMetadata is what didcomm-node says of a message it unpacked or
// packed.
type nodeMetadata struct {
	Encrypted        bool     `json:"encrypted"`
	Authenticated    bool     `json:"authenticated"`
	NonRepudiation   bool     `json:"non_repudiation"`
	AnonymousSender  bool     `json:"anonymous_sender"`
	EncryptedFromKid string   `json:"encrypted_from_kid"`
	EncryptedToKids  []string `json:"encrypted_to_kids"`
	SignFrom         string   `json:"sign_from"`
	SignByKid        string   `json:"sign_by_kid"`
	FromKid          string   `json:"from_kid"`
	ToKids           []string `json:"to_kids"`
	EncAlgAnon       string   `json:"enc_alg_anon"`
	EncAlgAuth       string   `json:"enc_alg_auth"`
	MessagingService *struct {
		ID              string `json:"id"`
		ServiceEndpoint string `json:"service_endpoint"`
	} `json:"messaging_service"`
}

// nodeEncAnon is didcomm-node's name of each anoncrypt content encryption.
var nodeEncAnon = map[ContentEncryption]string{
	A256CBCHS512: "A256cbcHs512EcdhEsA256kw",
	A256GCM:      "A256gcmEcdhEsA256kw",
	XC20P:        "Xc20pEcdhEsA256kw",
}

// nodeDocument writes doc in the shape didcomm-node reads: every key a
// JsonWebKey2020 (it does not know Multikey), every id absolute, services'
// routing keys under both the names its versions have used.
func nodeDocument(t *testing.T, doc *did.Document) map[string]any {
	t.Helper()
	abs := func(refs []string) []string {
		out := []string{}
		for _, r := range refs {
			out = append(out, doc.Absolute(r))
		}
		return out
	}
	var vms []map[string]any
	for _, vm := range doc.VerificationMethod {
		pk, err := methodKey(vm)
		if err != nil {
			t.Fatal(err)
		}
		var jwk did.JWK
		if pk.ed != nil {
			jwk = did.JWK{Kty: "OKP", Crv: curveEd25519, X: jws.Base64.EncodeToString(pk.ed)}
		} else {
			jwk = jwkOf(pk.ecdh)
		}
		vms = append(vms, map[string]any{"id": doc.Absolute(vm.ID), "type": "JsonWebKey2020", "controller": doc.ID, "publicKeyJwk": jwk})
	}
	services := []map[string]any{}
	for _, s := range doc.Service {
		eps, err := serviceEndpoints(s)
		if err != nil || len(eps) != 1 {
			t.Fatalf("service %+v: %v", s, err)
		}
		rk := eps[0].routingKeys
		if rk == nil {
			rk = []string{}
		}
		services = append(services, map[string]any{
			"id":              doc.Absolute(s.ID),
			"type":            s.Type,
			"serviceEndpoint": map[string]any{"uri": eps[0].uri, "accept": eps[0].accept, "routingKeys": rk, "routing_keys": rk},
		})
	}
	return map[string]any{
		"id": doc.ID, "verificationMethod": vms, "service": services,
		"authentication": abs(doc.Authentication), "keyAgreement": abs(doc.KeyAgreement),
	}
}

// nodeSecrets returns a party's secrets as didcomm-node takes them: its
// X25519 key under its key agreement kids, its Ed25519 key under its
// authentication kids.
func nodeSecrets(t *testing.T, p party) []map[string]any {
	t.Helper()
	doc, err := did.Resolve(p.did)
	if err != nil {
		t.Fatal(err)
	}
	xd := p.id.X25519Private()
	xpriv, _ := ecdh.X25519().NewPrivateKey(xd)
	xjwk := map[string]any{"kty": "OKP", "crv": CurveX25519, "x": jws.Base64.EncodeToString(xpriv.PublicKey().Bytes()), "d": jws.Base64.EncodeToString(xd)}
	seed := p.id.Seed()
	ejwk := map[string]any{"kty": "OKP", "crv": curveEd25519, "x": jws.Base64.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)), "d": jws.Base64.EncodeToString(seed)}
	var out []map[string]any
	for _, ref := range doc.KeyAgreement {
		out = append(out, map[string]any{"id": doc.Absolute(ref), "type": "JsonWebKey2020", "privateKeyJwk": xjwk})
	}
	for _, ref := range doc.Authentication {
		out = append(out, map[string]any{"id": doc.Absolute(ref), "type": "JsonWebKey2020", "privateKeyJwk": ejwk})
	}
	return out
}

// interopWorld is the world of the pack tests and carol, who has two key
// agreement keys (two devices), with what didcomm-node needs to know of it.
type interopWorld struct {
	world
	carol     did.DID
	carolKeys *Keys
	docs      map[string]any
	secrets   []map[string]any
}

func newInteropWorld(t *testing.T) interopWorld {
	t.Helper()
	w := interopWorld{world: newWorld(t)}
	k1, _ := ecdh.X25519().GenerateKey(nil)
	k2, _ := ecdh.X25519().GenerateKey(nil)
	cid := newParty(t, "carol").id
	carol, err := did.NewPeer2([]did.Peer2Key{
		did.Peer2Keys(cid.PublicKey())[0],
		{Purpose: did.Peer2KeyAgreement, Multikey: keys.X25519Multikey(k1.PublicKey().Bytes())},
		{Purpose: did.Peer2KeyAgreement, Multikey: keys.X25519Multikey(k2.PublicKey().Bytes())},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.carol = carol
	w.carolKeys = new(Keys)
	w.carolKeys.Add(carol.String()+"#key-2", k1)
	w.carolKeys.Add(carol.String()+"#key-3", k2)
	w.docs = make(map[string]any)
	for _, d := range []did.DID{w.alice.did, w.bob.did, w.mediator.did, carol} {
		doc, err := did.Resolve(d)
		if err != nil {
			t.Fatal(err)
		}
		w.docs[d.String()] = nodeDocument(t, doc)
	}
	for _, p := range []party{w.alice, w.bob, w.mediator} {
		w.secrets = append(w.secrets, nodeSecrets(t, p)...)
	}
	for kid, k := range map[string]*ecdh.PrivateKey{carol.String() + "#key-2": k1, carol.String() + "#key-3": k2} {
		w.secrets = append(w.secrets, map[string]any{"id": kid, "type": "JsonWebKey2020", "privateKeyJwk": map[string]any{
			"kty": "OKP", "crv": CurveX25519, "x": jws.Base64.EncodeToString(k.PublicKey().Bytes()), "d": jws.Base64.EncodeToString(k.Bytes())}})
	}
	return w
}

// nodePlaintext reads a message as didcomm-node's as_value gives it.
func nodePlaintext(t *testing.T, raw json.RawMessage) *Plaintext {
	t.Helper()
	p, err := ParsePlaintext(raw)
	if err != nil {
		t.Fatalf("didcomm-node's message %s: %v", raw, err)
	}
	return p
}

// TestInteropPlanetToNode: what PLANET packs, didcomm-node unpacks to the
// same message and says the same of it.
func TestInteropPlanetToNode(t *testing.T) {
	run := nodeInterop(t)
	w := newInteropWorld(t)
	ctx := context.Background()
	aliceKid, bobKid := w.alice.did.String()+"#key-2", w.bob.did.String()+"#key-2"
	type packCase struct {
		name string
		to   did.DID
		opts PackOptions
		want nodeMetadata
	}
	cases := []packCase{
		{"authcrypt", w.bob.did, PackOptions{}, nodeMetadata{Encrypted: true, Authenticated: true, EncryptedFromKid: aliceKid, EncryptedToKids: []string{bobKid}, EncAlgAuth: "A256cbcHs512Ecdh1puA256kw"}},
		{"authcrypt signed", w.bob.did, PackOptions{Sign: w.alice.id.SigningKey()}, nodeMetadata{Encrypted: true, Authenticated: true, NonRepudiation: true, EncryptedFromKid: aliceKid, EncryptedToKids: []string{bobKid}, SignFrom: w.alice.did.String() + "#key-1", EncAlgAuth: "A256cbcHs512Ecdh1puA256kw"}},
		{"protect sender", w.bob.did, PackOptions{ProtectSender: true}, nodeMetadata{Encrypted: true, Authenticated: true, AnonymousSender: true, EncryptedFromKid: aliceKid, EncryptedToKids: []string{bobKid}, EncAlgAuth: "A256cbcHs512Ecdh1puA256kw", EncAlgAnon: nodeEncAnon[A256CBCHS512]}},
		{"authcrypt to two keys", w.carol, PackOptions{}, nodeMetadata{Encrypted: true, Authenticated: true, EncryptedFromKid: aliceKid, EncryptedToKids: []string{w.carol.String() + "#key-2", w.carol.String() + "#key-3"}, EncAlgAuth: "A256cbcHs512Ecdh1puA256kw"}},
	}
	for _, enc := range []ContentEncryption{A256CBCHS512, A256GCM, XC20P} {
		cases = append(cases,
			packCase{"anoncrypt " + string(enc), w.bob.did, PackOptions{Anonymous: true, Enc: enc}, nodeMetadata{Encrypted: true, AnonymousSender: true, EncryptedToKids: []string{bobKid}, EncAlgAnon: nodeEncAnon[enc]}},
			packCase{"anoncrypt signed " + string(enc), w.bob.did, PackOptions{Anonymous: true, Enc: enc, Sign: w.alice.id.SigningKey()}, nodeMetadata{Encrypted: true, Authenticated: true, NonRepudiation: true, AnonymousSender: true, EncryptedToKids: []string{bobKid}, SignFrom: w.alice.did.String() + "#key-1", EncAlgAnon: nodeEncAnon[enc]}},
		)
	}

	var ops []map[string]any
	var want []*Plaintext
	var forwards []*Packed
	for _, c := range cases {
		p := w.message(t)
		p.To = []did.DID{c.to}
		c.opts.Resolver, c.opts.Keys, c.opts.Now = w.r, w.alice.keys, messageTime
		packed, err := Pack(ctx, p, c.to, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ops = append(ops, map[string]any{"op": "unpack", "message": string(packed.Message)})
		want = append(want, p)
		if c.to == w.bob.did {
			forwards = append(forwards, packed)
		}
	}
	// The message PLANET signs alone.
	p := w.message(t)
	signed, _, err := PackSigned(ctx, w.r, p, w.alice.id.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	ops = append(ops, map[string]any{"op": "unpack", "message": string(signed)})
	want = append(want, p)
	cases = append(cases, packCase{name: "signed", want: nodeMetadata{Authenticated: true, NonRepudiation: true, SignFrom: w.alice.did.String() + "#key-1"}})
	// The forward PLANET wraps for bob's mediator.
	ops = append(ops, map[string]any{"op": "parse_forward", "message": string(forwards[0].Routes[0].Message)})

	results := run(map[string]any{"dids": w.docs, "secrets": w.secrets, "ops": ops})
	for i, c := range cases {
		res := results[i]
		if res.OK == nil {
			t.Errorf("%s: didcomm-node: %s", c.name, res.Error)
			continue
		}
		if got := nodePlaintext(t, res.OK.Message); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("%s: didcomm-node read\n %+v\nwant\n %+v", c.name, got, want[i])
		}
		m := res.OK.Metadata
		slices.Sort(m.EncryptedToKids)
		if !reflect.DeepEqual(m, c.want) {
			t.Errorf("%s: didcomm-node says\n %+v\nwant\n %+v", c.name, m, c.want)
		}
	}
	fwd := results[len(results)-1]
	if fwd.OK == nil {
		t.Fatalf("forward: didcomm-node: %s", fwd.Error)
	}
	if fwd.OK.Next != w.bob.did.String() {
		t.Errorf("forward: didcomm-node reads next %q", fwd.OK.Next)
	}
	var a, b any
	json.Unmarshal([]byte(fwd.OK.Forward), &a)
	json.Unmarshal(forwards[0].Message, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("forward: didcomm-node finds another payload than the message")
	}
}

// TestInteropNodeToPlanet: what didcomm-node packs, PLANET unpacks to the
// same message, and says the same of it as didcomm-node does when packing.
func TestInteropNodeToPlanet(t *testing.T) {
	run := nodeInterop(t)
	w := newInteropWorld(t)
	ctx := context.Background()
	p := w.message(t)
	plain, _ := p.Encode()
	var msg map[string]any
	json.Unmarshal(plain, &msg)
	alice, bob := w.alice.did.String(), w.bob.did.String()
	aliceKid, bobKid := alice+"#key-2", bob+"#key-2"
	type nodeCase struct {
		name string
		op   map[string]any
		want Metadata
	}
	noForward := map[string]any{"forward": false}
	cases := []nodeCase{
		{"authcrypt", map[string]any{"op": "pack_encrypted", "to": bob, "from": alice, "options": noForward},
			Metadata{Encrypted: true, Authenticated: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512}},
		{"authcrypt signed", map[string]any{"op": "pack_encrypted", "to": bob, "from": alice, "sign_by": alice, "options": noForward},
			Metadata{Encrypted: true, Authenticated: true, NonRepudiation: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512, SignedBy: alice + "#key-1", SignAlg: AlgEdDSA}},
		{"protect sender", map[string]any{"op": "pack_encrypted", "to": bob, "from": alice, "options": map[string]any{"forward": false, "protect_sender": true}},
			Metadata{Encrypted: true, Authenticated: true, AnonymousSender: true, EncryptedFrom: aliceKid, EncAuthcrypt: A256CBCHS512, EncAnoncrypt: XC20P}},
		{"signed", map[string]any{"op": "pack_signed", "sign_by": alice},
			Metadata{Authenticated: true, NonRepudiation: true, SignedBy: alice + "#key-1", SignAlg: AlgEdDSA}},
	}
	for enc, name := range nodeEncAnon {
		cases = append(cases,
			nodeCase{"anoncrypt " + string(enc), map[string]any{"op": "pack_encrypted", "to": bob, "options": map[string]any{"forward": false, "enc_alg_anon": name}},
				Metadata{Encrypted: true, AnonymousSender: true, EncAnoncrypt: enc}},
			nodeCase{"anoncrypt signed " + string(enc), map[string]any{"op": "pack_encrypted", "to": bob, "sign_by": alice, "options": map[string]any{"forward": false, "enc_alg_anon": name}},
				Metadata{Encrypted: true, Authenticated: true, NonRepudiation: true, AnonymousSender: true, EncAnoncrypt: enc, SignedBy: alice + "#key-1", SignAlg: AlgEdDSA}},
		)
	}
	var ops []map[string]any
	for _, c := range cases {
		c.op["message"] = msg
		ops = append(ops, c.op)
	}
	// didcomm-node routes it: bob's service names his mediator's DID.
	ops = append(ops, map[string]any{"op": "pack_encrypted", "to": bob, "from": alice, "message": msg})
	// Several keys: carol's two devices.
	carolMsg := maps(msg, "to", []string{w.carol.String()})
	ops = append(ops, map[string]any{"op": "pack_encrypted", "to": w.carol.String(), "from": alice, "message": carolMsg, "options": noForward})

	results := run(map[string]any{"dids": w.docs, "secrets": w.secrets, "ops": ops})
	for i, c := range cases {
		res := results[i]
		if res.OK == nil {
			t.Errorf("%s: didcomm-node: %s", c.name, res.Error)
			continue
		}
		got, meta, err := Unpack(ctx, w.r, w.bob.keys, []byte(res.OK.Packed), messageTime)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("%s: PLANET read\n %+v\nwant\n %+v", c.name, got, p)
		}
		want := c.want
		if want.Encrypted {
			want.EncryptedTo, want.MyKids = []string{bobKid}, []string{bobKid}
		}
		want.SignedMessage = meta.SignedMessage
		if !reflect.DeepEqual(*meta, want) {
			t.Errorf("%s: metadata\n %+v\nwant\n %+v", c.name, *meta, want)
		}
		nm := res.OK.Metadata
		if nm.SignByKid != meta.SignedBy || nm.FromKid != meta.EncryptedFrom || meta.Encrypted && !slices.Equal(nm.ToKids, meta.EncryptedTo) {
			t.Errorf("%s: didcomm-node packed with %+v, PLANET read %+v", c.name, nm, meta)
		}
	}

	routed := results[len(cases)]
	if routed.OK == nil {
		t.Fatalf("routed: didcomm-node: %s", routed.Error)
	}
	if ms := routed.OK.Metadata.MessagingService; ms == nil || ms.ServiceEndpoint != "https://mediator.example/didcomm" {
		t.Errorf("routed: didcomm-node delivers to %+v", ms)
	}
	fwd, fmeta, err := Unpack(ctx, w.r, w.mediator.keys, []byte(routed.OK.Packed), messageTime)
	if err != nil || fmeta.Forward == nil || fmeta.Forward.Next != bob || fwd.Type != ForwardType {
		t.Fatalf("routed: the mediator reads %+v, %+v, %v", fwd, fmeta, err)
	}
	if got, _, err := Unpack(ctx, w.r, w.bob.keys, fmeta.Forward.Payload, messageTime); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("routed: bob reads %+v, %v", got, err)
	}

	several := results[len(cases)+1]
	if several.OK == nil {
		t.Fatalf("several keys: didcomm-node: %s", several.Error)
	}
	for _, kid := range []string{w.carol.String() + "#key-2", w.carol.String() + "#key-3"} {
		key, _ := w.carolKeys.AgreementKey(kid)
		only := new(Keys)
		only.Add(kid, key)
		got, meta, err := Unpack(ctx, w.r, only, []byte(several.OK.Packed), messageTime)
		if err != nil || got.ID != p.ID || !slices.Equal(meta.MyKids, []string{kid}) || len(meta.EncryptedTo) != 2 {
			t.Errorf("several keys, %s: %+v, %v", kid, meta, err)
		}
	}
}

// maps returns a copy of m with key set to v.
func maps(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}
