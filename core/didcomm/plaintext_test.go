package didcomm

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/internal/input"
)

func TestPlaintextRoundTrip(t *testing.T) {
	w := newWorld(t)
	p := w.message(t)
	p.Thid, p.Pthid = "thread-1", "parent-1"
	p.Attachments = []Attachment{
		{ID: "a1", Description: "a note", MediaType: "text/plain", LastModTime: messageTime, ByteCount: 5, Data: AttachmentData{Base64: "aGVsbG8"}},
		{Data: AttachmentData{JSON: json.RawMessage(`{ "b": [1, 2], "a": null }`)}},
		{ID: "l", Data: AttachmentData{Links: []string{"https://example.com/x"}, Hash: "zQm…"}},
	}
	p.Headers = map[string]json.RawMessage{"return_route": json.RawMessage(`"all"`), "please_ack": json.RawMessage(`[ "receipt" ]`)}
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + p.ID + `","typ":"application/didcomm-plain+json","type":"https://didcomm.org/basicmessage/2.0/message",` +
		`"from":"` + w.alice.did.String() + `","to":["` + w.bob.did.String() + `"],"thid":"thread-1","pthid":"parent-1",` +
		`"created_time":1780315200,"expires_time":1780318800,"body":{"content":"Tea at five?"},"attachments":[` +
		`{"id":"a1","description":"a note","media_type":"text/plain","lastmod_time":1780315200,"byte_count":5,"data":{"base64":"aGVsbG8"}},` +
		`{"data":{"json":{"a":null,"b":[1,2]}}},{"id":"l","data":{"hash":"zQm…","links":["https://example.com/x"]}}],` +
		`"please_ack":["receipt"],"return_route":"all"}`
	if string(enc) != want {
		t.Errorf("Encode =\n%s\nwant\n%s", enc, want)
	}
	got, err := ParsePlaintext(enc)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := got.Encode()
	if string(again) != string(enc) || got.ThreadID() != "thread-1" {
		t.Errorf("parsed back to %s", again)
	}
	anon, _ := NewPlaintext("https://didcomm.org/trust-ping/2.0/ping", map[string]any{}, messageTime)
	if anon.ThreadID() != anon.ID || !anon.From.IsZero() || anon.To != nil {
		t.Errorf("new plaintext %+v", anon)
	}
	enc, _ = anon.Encode()
	if strings.Contains(string(enc), "from") || strings.Contains(string(enc), `"to"`) {
		t.Errorf("an anonymous message writes %s", enc)
	}
}

func TestPlaintextRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"from not a DID":    `{"id":"1","type":"a:b","from":"alice"}`,
		"to not a list":     `{"id":"1","type":"a:b","to":"did:example:bob"}`,
		"to twice":          `{"id":"1","type":"a:b","to":["did:example:bob","did:example:bob"]}`,
		"DID URL in to":     `{"id":"1","type":"a:b","to":["did:example:bob#key-1"]}`,
		"fractional time":   `{"id":"1","type":"a:b","created_time":1.5}`,
		"expires first":     `{"id":"1","type":"a:b","created_time":10,"expires_time":9}`,
		"type not a URI":    `{"id":"1","type":"lunch"}`,
		"body a list":       `{"id":"1","type":"a:b","body":[]}`,
		"id empty":          `{"id":"","type":"a:b"}`,
		"key twice":         `{"id":"1","id":"2","type":"a:b"}`,
		"attachment id":     `{"id":"1","type":"a:b","attachments":[{"id":"a b","data":{"base64":"eA"}}]}`,
		"attachment base64": `{"id":"1","type":"a:b","attachments":[{"data":{"base64":"not base64!"}}]}`,
		"byte_count":        `{"id":"1","type":"a:b","attachments":[{"data":{"base64":"eA"},"byte_count":-1}]}`,
		"too many to":       `{"id":"1","type":"a:b","to":[` + strings.Repeat(`"did:example:b",`, MaxPlaintextRecipients) + `"did:example:c"]}`,
	} {
		if _, err := ParsePlaintext([]byte(data)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: ParsePlaintext = %v", name, err)
		}
	}
	if _, err := ParsePlaintext([]byte(`{"id":"1","type":"a:b","from_prior":"x"}`)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("from_prior: %v", err)
	}
	p := &Plaintext{ID: "1", Type: "a:b", Headers: map[string]json.RawMessage{"from": json.RawMessage(`"x"`)}}
	if _, err := p.Encode(); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("a header that is a field: %v", err)
	}
}

// TestPackToDIDKey: a did:key has no service, so no route, and its
// X25519 key is the one IdentityKeys holds.
func TestPackToDIDKey(t *testing.T) {
	w := newWorld(t)
	p := w.message(t)
	bob := w.bob.id.DID()
	p.To = []did.DID{bob}
	packed, err := Pack(context.Background(), p, bob, PackOptions{Resolver: w.r, Keys: w.alice.keys})
	if err != nil {
		t.Fatal(err)
	}
	if packed.Routes != nil || len(packed.ToKids) != 1 || !strings.HasPrefix(packed.ToKids[0], bob.String()+"#z6LS") {
		t.Fatalf("packed %+v", packed)
	}
	got, meta, err := Unpack(context.Background(), w.r, w.bob.keys, packed.Message, messageTime.Add(time.Minute))
	if err != nil || !reflect.DeepEqual(got, p) || !meta.Authenticated {
		t.Errorf("Unpack = %+v, %+v, %v", got, meta, err)
	}
}
