package mediation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planet/core/didcomm"
)

// replyFiles returns the replies of testdata/replies: one of each message
// the mediator answers with, in the form the mediator writes it.
func replyFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, _ := filepath.Glob("testdata/replies/*.json")
	if len(files) == 0 {
		tb.Fatal("no replies in testdata/replies")
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = data
	}
	return out
}

func parse(t *testing.T, data []byte) *didcomm.Plaintext {
	t.Helper()
	p, err := didcomm.ParsePlaintext(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeReplies(t *testing.T) {
	r := replyFiles(t)
	if d, err := decodeGrant(parse(t, r["mediate-grant"])); err != nil || d.String() != "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp" {
		t.Errorf("mediate-grant: %v, %v", d, err)
	}
	if u, err := decodeKeylistUpdateResponse(parse(t, r["keylist-update-response"])); err != nil || len(u) != 2 || u[1].Result != "client_error" {
		t.Errorf("keylist-update-response: %+v, %v", u, err)
	}
	if keys, remaining, err := decodeKeylist(parse(t, r["keylist"])); err != nil || len(keys) != 1 || remaining != 0 {
		t.Errorf("keylist: %v, %d, %v", keys, remaining, err)
	}
	if st, err := decodeStatus(parse(t, r["status"])); err != nil || st != (Status{MessageCount: 2, TotalBytes: 4096, LiveDelivery: true}) {
		t.Errorf("status: %+v, %v", st, err)
	}
	for _, name := range []string{"delivery", "live-delivery"} {
		msgs, err := decodeDelivery(parse(t, r[name]))
		if err != nil || len(msgs) == 0 {
			t.Errorf("%s: %v", name, err)
		}
		for _, m := range msgs {
			if err := didcomm.CheckEncrypted(m.Message); err != nil {
				t.Errorf("%s: message %s: %v", name, m.ID, err)
			}
		}
	}
}

func TestDecodeProblem(t *testing.T) {
	const did = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
	p, err := decodeProblem(parse(t, replyFiles(t)["problem-report"]), TypeKeylistUpdate)
	if err != nil {
		t.Fatal(err)
	}
	want := &ProblemError{Request: TypeKeylistUpdate, Code: "e.p.req.not-granted",
		Comment: did + " has not been granted mediation: send a mediate-request first"}
	if *p != *want {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if msg := p.Error(); !strings.Contains(msg, "e.p.req.not-granted") || !strings.Contains(msg, "coordinate-mediation/2.0/keylist-update") || !strings.Contains(msg, "send a mediate-request first") {
		t.Errorf("the error says %q", msg)
	}

	for _, tc := range []struct{ name, body, why string }{
		{"no code", `{"comment":"oops"}`, "without code"},
		{"code a number", `{"code":7}`, "body"},
		{"bad sorter", `{"code":"x.p.msg"}`, "sorter"},
		{"no scope", `{"code":"e"}`, "scope"},
		{"empty part", `{"code":"e..msg"}`, "empty"},
		{"upper case", `{"code":"e.P.msg"}`, "character"},
		{"args not strings", `{"code":"e.p.msg","args":[1]}`, "body"},
		{"body not an object", `[]`, "body"},
	} {
		msg := &didcomm.Plaintext{ID: "x", Type: TypeProblem, Body: []byte(tc.body)}
		_, err := decodeProblem(msg, TypePing)
		if !errors.Is(err, ErrInvalidReply) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want ErrInvalidReply saying %q", tc.name, err, tc.why)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, typ, body string
		atts            []didcomm.Attachment
		decode          func(*didcomm.Plaintext) error
	}{
		{"grant without routing_did", TypeMediateGrant, `{}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeGrant(p); return err }},
		{"grant with a routing_did not a DID", TypeMediateGrant, `{"routing_did":"mediator"}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeGrant(p); return err }},
		{"keylist-update-response without updated", TypeKeylistResult, `{}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeKeylistUpdateResponse(p); return err }},
		{"an update without result", TypeKeylistResult, `{"updated":[{"recipient_did":"did:example:a","action":"add"}]}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeKeylistUpdateResponse(p); return err }},
		{"keylist without keys", TypeKeylist, `{"pagination":{"remaining":0}}`, nil, func(p *didcomm.Plaintext) error { _, _, err := decodeKeylist(p); return err }},
		{"keylist with a negative remaining", TypeKeylist, `{"keys":[],"pagination":{"remaining":-1}}`, nil, func(p *didcomm.Plaintext) error { _, _, err := decodeKeylist(p); return err }},
		{"status without message_count", TypeStatus, `{"total_bytes":0}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeStatus(p); return err }},
		{"status with a negative count", TypeStatus, `{"message_count":-1}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeStatus(p); return err }},
		{"status with a string count", TypeStatus, `{"message_count":"2"}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeStatus(p); return err }},
		{"delivery without attachments", TypeDelivery, `{}`, nil, func(p *didcomm.Plaintext) error { _, err := decodeDelivery(p); return err }},
		{"delivery of an attachment without id", TypeDelivery, `{}`, []didcomm.Attachment{{Data: didcomm.AttachmentData{Base64: "e30"}}}, func(p *didcomm.Plaintext) error { _, err := decodeDelivery(p); return err }},
		{"delivery of a plaintext", TypeDelivery, `{}`, []didcomm.Attachment{{ID: "1", Data: didcomm.AttachmentData{Base64: "e30"}}}, func(p *didcomm.Plaintext) error { _, err := decodeDelivery(p); return err }},
		{"delivery of links only", TypeDelivery, `{}`, []didcomm.Attachment{{ID: "1", Data: didcomm.AttachmentData{Links: []string{"https://x.test/"}, Hash: "x"}}}, func(p *didcomm.Plaintext) error { _, err := decodeDelivery(p); return err }},
	} {
		p := &didcomm.Plaintext{ID: "x", Type: tc.typ, Body: []byte(tc.body), Attachments: tc.atts}
		if err := tc.decode(p); !errors.Is(err, ErrInvalidReply) {
			t.Errorf("%s: %v, want ErrInvalidReply", tc.name, err)
		}
	}
}

// FuzzDecodeReplies: whatever the mediator sends, the decoders refuse it
// with ErrInvalidReply or return what keeps their promises, and never
// panic.
func FuzzDecodeReplies(f *testing.F) {
	for _, data := range replyFiles(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := didcomm.ParsePlaintext(data)
		if err != nil {
			return
		}
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, ErrInvalidReply) {
				t.Fatalf("%s: an error not wrapping ErrInvalidReply: %v", what, err)
			}
		}
		d, err := decodeGrant(p)
		check("grant", err)
		if err == nil && d.IsZero() {
			t.Fatal("a grant without a routing DID")
		}
		_, err = decodeKeylistUpdateResponse(p)
		check("keylist-update-response", err)
		keys, remaining, err := decodeKeylist(p)
		check("keylist", err)
		if err == nil {
			for _, k := range keys {
				if k.IsZero() {
					t.Fatal("a zero DID in a keylist")
				}
			}
			if remaining < 0 {
				t.Fatal("a negative remaining")
			}
		}
		st, err := decodeStatus(p)
		check("status", err)
		if err == nil && (st.MessageCount < 0 || st.TotalBytes < 0) {
			t.Fatalf("status %+v", st)
		}
		msgs, err := decodeDelivery(p)
		check("delivery", err)
		for _, m := range msgs {
			if m.ID == "" || didcomm.CheckEncrypted(m.Message) != nil {
				t.Fatalf("a delivered message %q that is not an encrypted message", m.ID)
			}
		}
		prob, err := decodeProblem(p, TypePing)
		check("problem-report", err)
		if err == nil && checkCode(prob.Code) != nil {
			t.Fatalf("a problem code %q of the wrong form", prob.Code)
		}
	})
}
