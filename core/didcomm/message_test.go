package didcomm

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/identity/identitytest"
	"planet/core/internal/input"
	planetjws "planet/core/internal/jws"
	"planet/core/invite"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// messageTime is when the test messages are made and read.
var messageTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testMessage returns a chat message from alice to bob with a fixed id.
func testMessage(alice, bob *identity.Identity) Message {
	return Message{
		ID:      "msg-1",
		Type:    ChatMessageType,
		From:    alice.DID(),
		To:      []did.DID{bob.DID()},
		Created: messageTime,
		Body:    json.RawMessage(`{"text":"Tea at <5>? & bring \"the\" minutes","seq":1}`),
	}
}

func TestMessageRoundTrip(t *testing.T) {
	alice, bob := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob")
	m := testMessage(alice, bob)
	signed, err := Sign(alice, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(signed, messageTime)
	if err != nil {
		t.Fatal(err)
	}
	// The body comes back in its one form: keys sorted, nothing escaped
	// that JSON does not need escaped.
	m.Body = json.RawMessage(`{"seq":1,"text":"Tea at <5>? & bring \"the\" minutes"}`)
	if !reflect.DeepEqual(got, &m) {
		t.Fatalf("Verify =\n %+v\nwant\n %+v", got, &m)
	}

	parts := strings.Split(string(signed), ".")
	hdr, _ := b64.DecodeString(parts[0])
	kid := alice.DID().String() + "#" + strings.TrimPrefix(alice.DID().String(), "did:key:")
	if want := `{"alg":"EdDSA","kid":"` + kid + `","typ":"application/didcomm-signed+json"}`; string(hdr) != want {
		t.Errorf("header %s\nwant   %s", hdr, want)
	}
	payload, _ := b64.DecodeString(parts[1])
	want := `{"id":"msg-1","typ":"application/didcomm-plain+json","type":"planet:chat/1.0/message",` +
		`"from":"` + alice.DID().String() + `","to":["` + bob.DID().String() + `"],"created_time":1780315200,` +
		`"body":{"seq":1,"text":"Tea at <5>? & bring \"the\" minutes"}}`
	if string(payload) != want {
		t.Errorf("payload %s\nwant    %s", payload, want)
	}

	// Ed25519 is deterministic: the same message signs to the same bytes.
	if again, err := Sign(alice, *got); err != nil || string(again) != string(signed) {
		t.Errorf("signing the verified message again gives other bytes (%v)", err)
	}
}

func TestMessageFromPeerDID(t *testing.T) {
	alice, bob := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob")
	peer, err := alice.Peer2DID(did.DIDCommService("https://relay.example/didcomm"))
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(alice, bob)
	m.From = peer
	signed, err := Sign(alice, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(signed, messageTime)
	if err != nil || got.From != peer {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	hdr, _ := b64.DecodeString(strings.Split(string(signed), ".")[0])
	if !strings.Contains(string(hdr), `"kid":"`+peer.String()+`#key-1"`) {
		t.Errorf("header %s does not name %s#key-1", hdr, peer)
	}
	// Someone else's did:peer is not alice's to sign as.
	other, _ := bob.Peer2DID()
	m.From = other
	if _, err := Sign(alice, m); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("signing as another's did:peer: %v", err)
	}
}

func TestNewMessage(t *testing.T) {
	alice, bob := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob")
	now := messageTime.Add(1500 * time.Millisecond)
	m, err := NewMessage(alice.DID(), []did.DID{bob.DID()}, ChatMessageType, map[string]any{"text": "hi", "seq": 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := b64.DecodeString(m.ID); err != nil || len(id) != messageIDSize {
		t.Errorf("id %q", m.ID)
	}
	if !m.Created.Equal(messageTime.Add(time.Second)) {
		t.Errorf("created %v, want whole seconds", m.Created)
	}
	n, _ := NewMessage(alice.DID(), []did.DID{bob.DID()}, ChatMessageType, map[string]any{}, now)
	if n.ID == m.ID {
		t.Error("two messages with one id")
	}
	for name, body := range map[string]any{"a list": []int{1}, "a string": "hi", "null": nil} {
		if _, err := NewMessage(alice.DID(), []did.DID{bob.DID()}, ChatMessageType, body, now); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("body %s: %v", name, err)
		}
	}
}

func TestSignMessageRefuses(t *testing.T) {
	alice, bob := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob")
	tests := []struct {
		name   string
		change func(*Message)
	}{
		{"from someone else", func(m *Message) { m.From = bob.DID() }},
		{"no id", func(m *Message) { m.ID = "" }},
		{"id with a space", func(m *Message) { m.ID = "a b" }},
		{"long id", func(m *Message) { m.ID = strings.Repeat("a", MaxIDLength+1) }},
		{"type not a URI", func(m *Message) { m.Type = "chat message" }},
		{"type without scheme", func(m *Message) { m.Type = ":chat" }},
		{"no recipient", func(m *Message) { m.To = nil }},
		{"recipient twice", func(m *Message) { m.To = []did.DID{bob.DID(), bob.DID()} }},
		{"too many recipients", func(m *Message) { m.To = make([]did.DID, MaxRecipients+1) }},
		{"no time", func(m *Message) { m.Created = time.Time{} }},
		{"fractional time", func(m *Message) { m.Created = m.Created.Add(time.Millisecond) }},
		{"expires before made", func(m *Message) { m.Expires = m.Created }},
		{"body a list", func(m *Message) { m.Body = json.RawMessage(`[1]`) }},
		{"body twice a key", func(m *Message) { m.Body = json.RawMessage(`{"a":1,"a":2}`) }},
		{"body not JSON", func(m *Message) { m.Body = json.RawMessage(`{`) }},
		{"too large", func(m *Message) { m.Body = json.RawMessage(`{"text":"` + strings.Repeat("x", MaxSize) + `"}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage(alice, bob)
			tt.change(&m)
			if _, err := Sign(alice, m); !errors.Is(err, input.ErrInvalid) {
				t.Fatalf("Sign = %v, want input.ErrInvalid", err)
			}
		})
	}
}

// rawPayload is the plaintext of testMessage with the members given
// replaced (or, with value "", removed), as JSON text.
func rawPayload(alice, bob *identity.Identity, replace map[string]string) []byte {
	members := []struct{ name, value string }{
		{"id", `"msg-1"`},
		{"typ", `"application/didcomm-plain+json"`},
		{"type", `"planet:chat/1.0/message"`},
		{"from", `"` + alice.DID().String() + `"`},
		{"to", `["` + bob.DID().String() + `"]`},
		{"created_time", `1780315200`},
		{"body", `{"seq":1,"text":"hi"}`},
	}
	var b strings.Builder
	b.WriteString("{")
	for _, m := range members {
		v, ok := replace[m.name]
		if !ok {
			v = m.value
		}
		if v == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",")
		}
		b.WriteString(`"` + m.name + `":` + v)
	}
	for name, v := range replace {
		if strings.HasPrefix(name, "+") {
			b.WriteString(`,"` + name[1:] + `":` + v)
		}
	}
	b.WriteString("}")
	return []byte(b.String())
}

func messageHeader(kid string) []byte {
	h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": kid, "typ": SignedMediaType})
	return h
}

func TestVerifyMessageRefuses(t *testing.T) {
	alice, bob, mallory := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob"), identitytest.Seeded(t, "mallory")
	aliceKid := alice.DID().String() + "#" + strings.TrimPrefix(alice.DID().String(), "did:key:")
	aliceDoc, _ := alice.DID().Document()
	agreementKid := aliceDoc.KeyAgreement[0]
	malloryKid := mallory.DID().String() + "#" + strings.TrimPrefix(mallory.DID().String(), "did:key:")
	good := rawPayload(alice, bob, nil)
	signed := func(replace map[string]string) []byte {
		return []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), messageHeader(aliceKid), rawPayload(alice, bob, replace)))
	}
	valid := signed(nil)
	if _, err := Verify(valid, messageTime); err != nil {
		t.Fatalf("the message the cases start from is refused: %v", err)
	}
	flip := func(b []byte, i int) []byte {
		c := []byte(string(b))
		c[i] ^= 1
		return c
	}
	parts := strings.Split(string(valid), ".")
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"too large", []byte(strings.Repeat("a", MaxSize+1)), ErrMalformed},
		{"plaintext, unsigned", good, ErrMalformed},
		{"two parts", []byte(parts[0] + "." + parts[1]), ErrMalformed},
		{"padded base64", []byte(parts[0] + "=." + parts[1] + "." + parts[2]), ErrMalformed},
		{"alg none", []byte(identitytest.SignCompact(nil, []byte(`{"alg":"none","kid":"`+aliceKid+`","typ":"`+SignedMediaType+`"}`), good)), ErrMalformed},
		{"alg HS256", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), []byte(`{"alg":"HS256","kid":"`+aliceKid+`","typ":"`+SignedMediaType+`"}`), good)), ErrMalformed},
		{"other typ", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), []byte(`{"alg":"EdDSA","kid":"`+aliceKid+`","typ":"JWT"}`), good)), ErrMalformed},
		{"header member more", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), []byte(`{"alg":"EdDSA","b64":false,"kid":"`+aliceKid+`","typ":"`+SignedMediaType+`"}`), good)), ErrMalformed},
		{"header member twice", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), []byte(`{"alg":"EdDSA","kid":"`+malloryKid+`","kid":"`+aliceKid+`","typ":"`+SignedMediaType+`"}`), good)), ErrMalformed},
		{"no kid", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), []byte(`{"alg":"EdDSA","kid":"","typ":"`+SignedMediaType+`"}`), good)), ErrMalformed},
		{"short signature", []byte(parts[0] + "." + parts[1] + "." + parts[2][:20]), ErrMalformed},
		{"no id", signed(map[string]string{"id": ""}), ErrMalformed},
		{"no typ", signed(map[string]string{"typ": ""}), ErrMalformed},
		{"other typ in content", signed(map[string]string{"typ": `"application/json"`}), ErrMalformed},
		{"no from", signed(map[string]string{"from": ""}), ErrMalformed},
		{"from not a DID", signed(map[string]string{"from": `"alice"`}), ErrMalformed},
		{"from of an unresolved method", signed(map[string]string{"from": `"did:peer:0z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"`}), ErrForged},
		{"to a string", signed(map[string]string{"to": `"` + bob.DID().String() + `"`}), ErrMalformed},
		{"to empty", signed(map[string]string{"to": `[]`}), ErrMalformed},
		{"to a number", signed(map[string]string{"to": `[1]`}), ErrMalformed},
		{"time fractional", signed(map[string]string{"created_time": `1780315200.5`}), ErrMalformed},
		{"time in exponent form", signed(map[string]string{"created_time": `1.7803152e9`}), ErrMalformed},
		{"time a string", signed(map[string]string{"created_time": `"1780315200"`}), ErrMalformed},
		{"time negative", signed(map[string]string{"created_time": `-1`}), ErrMalformed},
		{"expires before made", signed(map[string]string{"+expires_time": `1780315100`}), ErrMalformed},
		{"body a string", signed(map[string]string{"body": `"hi"`}), ErrMalformed},
		{"no body", signed(map[string]string{"body": ""}), ErrMalformed},
		{"member twice", signed(map[string]string{"+from": `"` + mallory.DID().String() + `"`}), ErrMalformed},
		{"body member twice", signed(map[string]string{"body": `{"seq":1,"text":"hi","text":"bye"}`}), ErrMalformed},
		{"nested too deep", signed(map[string]string{"body": `{"a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`}), ErrMalformed},
		{"invalid UTF-8", signed(map[string]string{"body": "{\"text\":\"\xff\"}"}), ErrMalformed},
		{"kid of another DID", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(mallory.Seed()), messageHeader(malloryKid), good)), ErrForged},
		{"kid of from, signed by another", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(mallory.Seed()), messageHeader(aliceKid), good)), ErrForged},
		{"kid of from's key agreement key", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), messageHeader(agreementKid), good)), ErrForged},
		{"kid not in from's document", []byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), messageHeader(alice.DID().String()+"#key-9"), good)), ErrForged},
		{"signature flipped", []byte(parts[0] + "." + parts[1] + "." + b64.EncodeToString(flip(mustB64(t, parts[2]), 5))), ErrForged},
		{"content altered", []byte(parts[0] + "." + b64.EncodeToString(rawPayload(alice, bob, map[string]string{"body": `{"seq":1,"text":"ho"}`})) + "." + parts[2]), ErrForged},
		{"expired", signed(map[string]string{"+expires_time": `1780315260`}), nil},
		{"made in the future", signed(map[string]string{"created_time": `1780315501`}), ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := messageTime
			want := tt.want
			if want == nil { // read an hour later, past expires_time
				now, want = messageTime.Add(time.Hour), ErrExpired
			}
			m, err := Verify(tt.data, now)
			if !errors.Is(err, want) {
				t.Fatalf("Verify = %+v, %v; want %v", m, err, want)
			}
		})
	}

	// Members the reader does not know are ignored, as DIDComm asks.
	if _, err := Verify(signed(map[string]string{"+thid": `"thread-1"`}), messageTime); err != nil {
		t.Errorf("a message with a thid is refused: %v", err)
	}
	// A message made within the allowed clock skew is accepted.
	if _, err := Verify(signed(map[string]string{"created_time": `1780315500`}), messageTime); err != nil {
		t.Errorf("a message five minutes ahead is refused: %v", err)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTypeMatches(t *testing.T) {
	tests := []struct {
		t    string
		want bool
	}{
		{"planet:chat/1.0/message", true},
		{"planet:chat/1.7/message", true},
		{"planet:chat/1.10/message", true},
		{"planet:chat/2.0/message", false},
		{"planet:chat/1.0/ack", false},
		{"planet:chats/1.0/message", false},
		{"planet:chat/1/message", false},
		{"planet:chat/1.x/message", false},
		{"planet:chat/1.0/message/", false},
		{"https://didcomm.org/basicmessage/2.0/message", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := TypeMatches(tt.t, ChatMessageType); got != tt.want {
			t.Errorf("TypeMatches(%q, %q) = %v", tt.t, ChatMessageType, got)
		}
	}
}

// FuzzVerifyMessage feeds Verify with mutations of good and bad
// signed messages. Whatever the input it must not panic, every refusal must
// say why with one of the message errors, and what it accepts must sign
// again, with the key that signed it, to the very same bytes: one message,
// one form.
func FuzzVerifyMessage(f *testing.F) {
	alice, bob := identitytest.Seeded(f, "alice"), identitytest.Seeded(f, "bob")
	signers := map[did.DID]*identity.Identity{alice.DID(): alice, bob.DID(): bob}
	m := testMessage(alice, bob)
	for _, change := range []func(*Message){
		func(*Message) {},
		func(m *Message) { m.Expires = m.Created.Add(time.Hour) },
		func(m *Message) { m.From, m.To = bob.DID(), []did.DID{alice.DID(), bob.DID()} },
		func(m *Message) { m.Body = json.RawMessage(`{"nested":{"list":[1,2.5,"x",null,true]}}`) },
	} {
		c := m
		change(&c)
		from := signers[c.From]
		signed, err := Sign(from, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
	}
	aliceKid := alice.DID().String() + "#" + strings.TrimPrefix(alice.DID().String(), "did:key:")
	f.Add([]byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(alice.Seed()), messageHeader(aliceKid), rawPayload(alice, bob, map[string]string{"+thid": `"t"`}))))
	f.Add([]byte(identitytest.SignCompact(ed25519.NewKeyFromSeed(bob.Seed()), messageHeader(aliceKid), rawPayload(alice, bob, nil))))
	f.Add(rawPayload(alice, bob, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Verify(data, messageTime)
		if err != nil {
			for _, want := range []error{ErrMalformed, ErrForged, ErrExpired, ErrNotYetValid} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error of no known kind: %v", err)
		}
		from, ok := signers[m.From]
		if !ok {
			t.Fatalf("accepted a message from %s, whom no test identity is", m.From)
		}
		again, err := Sign(from, *m)
		if err != nil {
			t.Fatalf("accepted message does not sign again: %v", err)
		}
		// Members the reader ignores are lost in signing again; all else
		// must match.
		if string(again) != string(data) && !strings.Contains(string(mustB64(t, strings.Split(string(data), ".")[1])), "thid") {
			t.Fatalf("accepted\n %s\nsigns again as\n %s", data, again)
		}
	})
}

// FuzzSignMessage signs messages of every shape: what Sign accepts
// must verify, unchanged but for its body's one form, and what it refuses
// must be refused as invalid.
func FuzzSignMessage(f *testing.F) {
	alice, bob := identitytest.Seeded(f, "alice"), identitytest.Seeded(f, "bob")
	f.Add("msg-1", ChatMessageType, `{"seq":1,"text":"hi"}`, int64(0), 1)
	f.Add("a_b-C.9", "planet:connect/1.0/request", `{"nested":{"list":[1,2.5,"x",null,true]}}`, int64(3600), 2)
	f.Add("", "no type", `[]`, int64(-5), 0)
	f.Add("x", "https://didcomm.org/basicmessage/2.0/message", `{"text":"\u00e9\u2028<&>"}`, int64(1), 1)
	f.Fuzz(func(t *testing.T, id, typ, body string, expiresIn int64, recipients int) {
		m := Message{ID: id, Type: typ, From: alice.DID(), Created: messageTime, Body: json.RawMessage(body)}
		if expiresIn != 0 {
			m.Expires = messageTime.Add(time.Duration(expiresIn) * time.Second)
		}
		for range min(max(recipients, 0), 3) {
			m.To = append(m.To, bob.DID())
		}
		signed, err := Sign(alice, m)
		if err != nil {
			if !errors.Is(err, input.ErrInvalid) {
				t.Fatalf("refused without saying the message is invalid: %v", err)
			}
			return
		}
		got, err := Verify(signed, messageTime)
		if err != nil {
			t.Fatalf("signed\n %+v\nas\n %s\nwhich does not verify: %v", m, signed, err)
		}
		if got.ID != m.ID || got.Type != m.Type || got.From != m.From || !got.Created.Equal(m.Created) ||
			!got.Expires.Equal(m.Expires) || len(got.To) != len(m.To) {
			t.Fatalf("signed %+v, read back %+v", m, got)
		}
		var want, have any
		if json.Unmarshal(m.Body, &want) != nil || json.Unmarshal(got.Body, &have) != nil || !reflect.DeepEqual(want, have) {
			t.Fatalf("body %s read back as %s", m.Body, got.Body)
		}
	})
}

// PLANET writes and checks its JWSs itself; jwx, the JOSE library the
// envelopes use, must agree with it both ways.
func TestJWSAgreesWithJWX(t *testing.T) {
	alice, bob := identitytest.Seeded(t, "alice"), identitytest.Seeded(t, "bob")
	pub := ed25519.NewKeyFromSeed(alice.Seed()).Public().(ed25519.PublicKey)
	signed, err := Sign(alice, testMessage(alice, bob))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := invite.New(alice, invite.Options{Note: "jwx"}, messageTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string][]byte{"message": signed, "invitation": []byte(token)} {
		payload, err := jws.Verify(tok, jws.WithCompact(), jws.WithKey(jwa.EdDSA(), pub))
		if err != nil {
			t.Errorf("jwx does not verify PLANET's %s: %v", name, err)
		}
		if !planetjws.Verify(tok, pub, payload) {
			t.Errorf("PLANET does not verify its own %s", name)
		}
	}

	// A message jwx signs with the header PLANET writes reads as PLANET's.
	m := testMessage(alice, bob)
	payload, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, alice.DID().String()+"#"+strings.TrimPrefix(alice.DID().String(), "did:key:"))
	hdr.Set(jws.TypeKey, SignedMediaType)
	byJWX, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), ed25519.NewKeyFromSeed(alice.Seed()), jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	if string(byJWX) != string(signed) {
		t.Errorf("jwx signs\n %s\nPLANET\n %s", byJWX, signed)
	}
	if _, err := Verify(byJWX, messageTime); err != nil {
		t.Errorf("PLANET does not verify jwx's message: %v", err)
	}
	// Each part matters to both.
	for i := range bytes.Count(signed, []byte(".")) + 1 {
		parts := bytes.Split(bytes.Clone(signed), []byte("."))
		parts[i][len(parts[i])/2] ^= 1
		bad := bytes.Join(parts, []byte("."))
		if _, err := jws.Verify(bad, jws.WithCompact(), jws.WithKey(jwa.EdDSA(), pub)); err == nil {
			t.Errorf("jwx verifies the message with part %d changed", i)
		}
		if planetjws.Verify(bad, pub, payload) {
			t.Errorf("PLANET verifies the message with part %d changed", i)
		}
	}
}
