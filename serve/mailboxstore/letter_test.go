package mailboxstore

import (
	"bytes"
	"testing"
	"time"

	"planet/core/mailbox"
)

// FuzzDecodeLetter: a letter record of either layout decodes or is refused
// without panicking, and a version 2 record that decodes is encoded back
// to the same bytes.
func FuzzDecodeLetter(f *testing.F) {
	f.Add(encodeLetter(mailbox.Incoming{ID: "letter-0000000001", Sender: "12D3KooWsender", Envelope: []byte("sealed")}, bytes.Repeat([]byte{1}, 32), time.UnixMilli(1700000000000)))
	f.Add(encodeLetter(mailbox.Incoming{ID: "letter-0000000002", Envelope: []byte("x")}, nil, time.UnixMilli(1)))
	f.Add(append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 3}, "abcsealed"...)) // version 1
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeLetter(b)
		if err != nil || b[0] != letterRecordV2 {
			return
		}
		in := mailbox.Incoming{ID: string(rec.id), Sender: string(rec.sender), Envelope: rec.envelope}
		if again := encodeLetter(in, rec.contact, time.UnixMilli(rec.deposited)); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes as %x", b, rec, again)
		}
	})
}
