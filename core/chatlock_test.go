package core_test

import (
	"testing"
	"time"

	"planet/core"
	"planet/core/chat"
	"planet/core/identity"
	"planet/vault/mem"
)

// An acknowledgement not yet written when the vault locks is dropped: the
// message stays sent, in the outbox, to be offered again; chat remembers
// the rest of what it knew of the vault across the lock.
func TestChatLockDropsUnwrittenAcknowledgements(t *testing.T) {
	p := must(core.Open(ctx, mem.New(), testOpts))
	must(p.Create(ctx, pass))
	bob := must(identity.New(nil)).DID()
	m, _, err := p.Chat().NewMessage(ctx, bob, "before the lock")
	if err != nil {
		t.Fatal(err)
	}
	p.Chat().Acknowledged(m.ID, chat.ViaDirect)
	p.Lock()
	p.Chat().WriteAcknowledged() // locked: nothing to do
	time.Sleep(time.Second)      // the writer runs, and finds the vault locked
	must(p.Unlock(ctx, pass))
	conv := must(p.Chat().Conversation(ctx, bob))
	if len(conv) != 1 || conv[0].State != chat.Sent {
		t.Fatalf("after the lock: %+v", conv)
	}
	if out := must(p.Chat().Outbox(ctx)); len(out) != 1 || out[0].ID != m.ID {
		t.Fatalf("the outbox after the lock: %+v", out)
	}
	next, _, err := p.Chat().NewMessage(ctx, bob, "after the lock")
	if err != nil || next.Seq != 2 {
		t.Errorf("after the lock the next message is %+v, %v; want seq 2", next, err)
	}
}
