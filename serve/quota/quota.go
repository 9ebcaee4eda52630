// Package quota is the accounting of what a server keeps for others: how
// much of its disk the letters (or messages) waiting for one recipient may
// take, how much one sender may leave, and how much of it strangers may
// fill, apart from what the recipient's own contacts leave. It knows
// nothing of storage: a store keeps the counters ([Ledger]) in its own
// transactions and asks [Policy.Charge] before keeping an item and
// [Policy.Refund] after dropping one. The mailbox (serve/mailboxstore)
// uses it; a DIDComm mediator's store can use the same policy, with the
// same meaning, over its own ledger.
//
// docs/protocols/mailbox.md ("Quotas") gives the rules and the defaults,
// and why.
package quota

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// Usage is what a counter holds: items and the bytes they cost.
type Usage struct {
	Items uint64
	Bytes uint64
}

// Limit bounds a counter; a zero field does not bound.
type Limit struct {
	Items uint64
	Bytes uint64
}

// A Ledger holds named counters. A store implements it over its own
// transaction, so that charging and keeping an item are one step. A
// counter that was never set reads as zero; setting one to zero may delete
// it.
type Ledger interface {
	Usage(key string) (Usage, error)
	SetUsage(key string, u Usage) error
}

// An Item is one letter or message a sender leaves for a recipient, as
// the policy sees it.
type Item struct {
	// Recipient names whose mailbox it goes in (a DID).
	Recipient string
	// Sender names who left it: the peer ID of the connection it came on,
	// which the transport authenticated. "" is a sender the server could
	// not name; all such share one sender's quota.
	Sender string
	// Contact is the hash of the deposit token it carried, when the
	// recipient registered that hash (the sender is someone the recipient
	// knows); nil for a stranger's item.
	Contact []byte
	// Cost is what it counts in bytes: its size and what keeping it costs
	// beyond that.
	Cost uint64
}

// Policy is the limits of a server. A zero Limit does not bound.
type Policy struct {
	// Contacts bounds the items of all the recipients' contacts together,
	// on the whole server: the disk that strangers can never take.
	Contacts Limit
	// Strangers bounds strangers' items together, on the whole server.
	Strangers Limit
	// Sender bounds everything one sender leaves, on the whole server.
	Sender Limit
	// StrangerSender bounds what one sender leaves, on the whole server,
	// for recipients who do not know them.
	StrangerSender Limit
	// Recipient bounds the items of one recipient's contacts together.
	Recipient Limit
	// Contact bounds the items of one of a recipient's contacts (one
	// registered token).
	Contact Limit
	// RecipientStrangers bounds strangers' items for one recipient, all
	// strangers together: the share strangers get of a mailbox.
	RecipientStrangers Limit
	// RecipientStranger bounds one stranger's items for one recipient.
	RecipientStranger Limit
}

// The server-wide counters of all contacts' items and of all strangers'
// items: together, everything a server keeps.
const (
	KeyContacts  = "contacts"
	KeyStrangers = "strangers"
)

// A Counter is one of the counters an item is charged to.
type Counter struct {
	Key   string // the counter's name in the ledger
	Limit Limit
	// What names what is full, for the person told: "the recipient's
	// mailbox for strangers", say.
	What string
}

// Counters returns the counters it is charged to, each with its limit.
// The keys are printable and distinct for distinct recipients, senders
// and contacts, which hold no spaces (DIDs and peer IDs do not).
func (p Policy) Counters(it Item) []Counter {
	sender := "s/" + it.Sender
	if it.Contact != nil {
		contact := hex.EncodeToString(it.Contact)
		return []Counter{
			{KeyContacts, p.Contacts, "the mailbox server"},
			{sender, p.Sender, "what one sender may leave on this server"},
			{"r/" + it.Recipient, p.Recipient, "the recipient's mailbox"},
			{"rc/" + it.Recipient + " " + contact, p.Contact, "what one contact may leave for the recipient"},
		}
	}
	return []Counter{
		{KeyStrangers, p.Strangers, "what this server keeps from strangers"},
		{sender, p.Sender, "what one sender may leave on this server"},
		{"ss/" + it.Sender, p.StrangerSender, "what one sender may leave on this server for people who do not know them"},
		{"rs/" + it.Recipient, p.RecipientStrangers, "the recipient's mailbox for strangers"},
		{"rss/" + it.Recipient + " " + it.Sender, p.RecipientStranger, "what one stranger may leave for the recipient"},
	}
}

// ErrFull is what a [*FullError] matches with errors.Is.
var ErrFull = errors.New("quota: full")

// FullError refuses an item that would take a counter over its limit.
type FullError struct {
	Counter Counter
	Usage   Usage // the counter's usage before the item
}

func (e *FullError) Error() string {
	l, u := e.Counter.Limit, e.Usage
	if l.Items != 0 && u.Items+1 > l.Items {
		return fmt.Sprintf("%s is full: %d of %d letters", e.Counter.What, u.Items, l.Items)
	}
	return fmt.Sprintf("%s is full: %d of %d bytes", e.Counter.What, u.Bytes, l.Bytes)
}

// Is matches [ErrFull].
func (e *FullError) Is(target error) bool { return target == ErrFull }

// Charge adds it to each of its counters in l, or, if that would take one
// over its limit, changes nothing and returns a [*FullError] naming the
// first such counter.
func (p Policy) Charge(l Ledger, it Item) error {
	cs := p.Counters(it)
	us := make([]Usage, len(cs))
	for i, c := range cs {
		u, err := l.Usage(c.Key)
		if err != nil {
			return err
		}
		if c.Limit.Items != 0 && u.Items+1 > c.Limit.Items || c.Limit.Bytes != 0 && u.Bytes+it.Cost > c.Limit.Bytes {
			return &FullError{Counter: c, Usage: u}
		}
		us[i] = u
	}
	for i, c := range cs {
		if err := l.SetUsage(c.Key, Usage{us[i].Items + 1, us[i].Bytes + it.Cost}); err != nil {
			return err
		}
	}
	return nil
}

// Force adds it to its counters whatever their limits: for items kept
// before the policy counted them (a store's migration).
func (p Policy) Force(l Ledger, it Item) error {
	for _, c := range p.Counters(it) {
		u, err := l.Usage(c.Key)
		if err != nil {
			return err
		}
		if err := l.SetUsage(c.Key, Usage{u.Items + 1, u.Bytes + it.Cost}); err != nil {
			return err
		}
	}
	return nil
}

// Refund takes it off its counters, never below zero whatever the ledger
// says: for an item dropped (picked up, or expired). It must be the same
// item (recipient, sender, contact, cost) that was charged.
func (p Policy) Refund(l Ledger, it Item) error {
	for _, c := range p.Counters(it) {
		u, err := l.Usage(c.Key)
		if err != nil {
			return err
		}
		u.Items -= min(u.Items, 1)
		u.Bytes -= min(u.Bytes, it.Cost)
		if err := l.SetUsage(c.Key, u); err != nil {
			return err
		}
	}
	return nil
}
