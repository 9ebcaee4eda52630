package quota

import (
	"errors"
	"strings"
	"testing"
)

type memLedger map[string]Usage

func (m memLedger) Usage(k string) (Usage, error) { return m[k], nil }
func (m memLedger) SetUsage(k string, u Usage) error {
	if u == (Usage{}) {
		delete(m, k)
	} else {
		m[k] = u
	}
	return nil
}

func TestChargeAndRefund(t *testing.T) {
	p := Policy{
		Strangers:         Limit{Bytes: 1000},
		RecipientStranger: Limit{Items: 2},
		Contact:           Limit{Items: 1},
		Sender:            Limit{Bytes: 10000},
	}
	l := memLedger{}
	stranger := Item{Recipient: "did:key:bob", Sender: "12D3eve", Cost: 300}
	for range 2 {
		if err := p.Charge(l, stranger); err != nil {
			t.Fatal(err)
		}
	}
	err := p.Charge(l, stranger)
	var full *FullError
	if !errors.Is(err, ErrFull) || !errors.As(err, &full) || full.Counter.Key != "rss/did:key:bob 12D3eve" || full.Usage.Items != 2 {
		t.Fatalf("a third letter from one stranger: %v", err)
	}
	before := len(l)
	// Another stranger fills the strangers' share (1000 bytes), refused
	// with nothing charged.
	other := Item{Recipient: "did:key:bob", Sender: "12D3mallory", Cost: 500}
	if err := p.Charge(l, other); !errors.As(err, &full) || full.Counter.Key != KeyStrangers {
		t.Fatalf("over the strangers' share: %v", err)
	}
	if len(l) != before || l[KeyStrangers].Bytes != 600 || l["s/12D3mallory"] != (Usage{}) {
		t.Fatalf("a refused item changed the ledger: %v", l)
	}
	// A contact's item is charged elsewhere, whatever strangers did.
	contact := Item{Recipient: "did:key:bob", Sender: "12D3alice", Contact: []byte{1, 2}, Cost: 5000}
	if err := p.Charge(l, contact); err != nil {
		t.Fatalf("a contact's letter: %v", err)
	}
	if err := p.Charge(l, contact); !errors.As(err, &full) || full.Counter.Key != "rc/did:key:bob 0102" {
		t.Fatalf("a contact's second letter over their quota: %v", err)
	}
	for _, it := range []Item{stranger, stranger, contact} {
		if err := p.Refund(l, it); err != nil {
			t.Fatal(err)
		}
	}
	if len(l) != 0 {
		t.Fatalf("after every refund the ledger holds %v", l)
	}
	// Refunds never go below zero.
	if err := p.Refund(l, contact); err != nil || len(l) != 0 {
		t.Fatalf("refund of nothing: %v, %v", err, l)
	}
	if err := p.Force(memLedger{KeyStrangers: {Items: 9, Bytes: 1000}}, stranger); err != nil {
		t.Fatal(err)
	}
}

// The counters of one stranger for one recipient never mix two pairs up.
func TestCountersDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, it := range []Item{{Recipient: "a", Sender: "b/c"}, {Recipient: "a/b", Sender: "c"}, {Recipient: "a", Sender: "bc"}, {Recipient: "ab", Sender: "c"}} {
		for _, c := range (Policy{}).Counters(it) {
			if !strings.HasPrefix(c.Key, "rss/") {
				continue
			}
			who := it.Recipient + "|" + it.Sender
			if prev, ok := seen[c.Key]; ok && prev != who {
				t.Errorf("counter %q shared by %s and %s", c.Key, prev, who)
			}
			seen[c.Key] = who
		}
	}
}
