package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
)

// TestLargestChatMessagesFit checks chat's limits against the messages':
// the longest chat text, in the characters that JSON escapes into two bytes
// each, signs within didcomm.MaxSize, reads back as chat, and seals for the
// mailbox.
func TestLargestChatMessagesFit(t *testing.T) {
	alice, _ := identity.FromSeed(make([]byte, 32))
	bob, _ := identity.FromSeed(append(make([]byte, 31), 1))
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, text := range []string{strings.Repeat(`"`, MaxTextLength), strings.Repeat(`\`, MaxTextLength)} {
		body, _ := json.Marshal(map[string]any{"seq": maxChatSeq, "text": text})
		m := didcomm.Message{ID: "msg-1", Type: MessageType, From: alice.DID(), To: []did.DID{bob.DID()}, Created: now, Body: body}
		signed, err := didcomm.Sign(alice, m)
		if err != nil {
			t.Fatalf("the longest chat text does not sign: %v", err)
		}
		read, err := didcomm.Verify(signed, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readChat(read); err != nil {
			t.Fatalf("the longest chat text is refused: %v", err)
		}
		if _, err := didcomm.SealSigned(bob.DID(), signed); err != nil {
			t.Fatalf("the longest chat message does not seal: %v", err)
		}
	}
}
