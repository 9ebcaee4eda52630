package core

import (
	"context"

	"planet/core/did"
	"planet/core/mailbox"
)

// Deposit tokens (docs/protocols/mailbox.md, "Deposit tokens"): the
// person's letters carry the token of their relationship with the
// recipient, and the person registers with their mailbox the tokens of
// the people they know, so that those people's letters are not counted
// with strangers'.

// MailboxToken returns the deposit token for the person's letters to to.
func (p *Planet) MailboxToken(to did.DID) ([]byte, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	return mailbox.Token(me, me.DID(), to)
}

// MailboxTokens returns the deposit tokens of the people whose letters the
// person expects: their connected contacts, and those they are connecting
// with (a pending connection, whose answer may come through the mailbox).
// At most mailbox.MaxTokens, contacts first; a contact whose DID names no
// key a token can be made for is left out.
func (p *Planet) MailboxTokens(ctx context.Context) ([][]byte, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	var from []did.DID
	cs, err := p.contacts.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.IsConnected() && !c.DID.IsZero() {
			from = append(from, c.DID)
		}
	}
	pending, err := p.trust.PendingConnections(ctx)
	if err != nil {
		return nil, err
	}
	for _, pc := range pending {
		from = append(from, pc.With)
	}
	seen := map[did.DID]bool{}
	tokens := [][]byte{}
	for _, d := range from {
		if seen[d] || d.Method() != did.MethodKey || len(tokens) == mailbox.MaxTokens {
			continue
		}
		seen[d] = true
		if t, err := mailbox.Token(me, d, me.DID()); err == nil {
			tokens = append(tokens, t)
		}
	}
	return tokens, nil
}
