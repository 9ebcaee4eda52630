package core

import (
	"context"

	"planet/core/did"
	"planet/core/identity"
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

// MailboxTokens returns the deposit tokens of the letters the person
// expects: those of their open invitations (mailbox.InvitationToken; at
// most half of mailbox.MaxTokens), and those of the people they know, their
// connected contacts and those they are connecting with (a pending
// connection, whose answer may come through the mailbox). At most
// mailbox.MaxTokens in all; a DID that names no key a token can be made
// for is left out.
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
	// Tokens for the person's open invitations first: an invitee who
	// accepts while the person is away is no contact yet.
	tokens, err := p.trust.MailboxTokens(ctx)
	if err != nil {
		return nil, err
	}
	if len(tokens) > mailbox.MaxTokens/2 {
		tokens = tokens[:mailbox.MaxTokens/2]
	}
	if tokens == nil {
		tokens = [][]byte{}
	}
	seen := map[did.DID]bool{}
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

// Knows reports whether d is someone the person knows well enough to
// reveal their network addresses to: a connected contact, or someone they
// are connecting with (a pending connection: an invitation they accepted,
// or an introduction). A contact known by the DID they share (a did:peer:2
// carrying their key, from a relationship on the First Person Network) is
// known by their did:key too: it is the same key, and the same tab.
// core/p2p asks it before answering WebRTC signalling, which sends the
// tab's addresses to the other side.
func (p *Planet) Knows(ctx context.Context, d did.DID) (bool, error) {
	if _, _, err := p.unlocked(); err != nil {
		return false, err
	}
	c, err := p.contacts.ByDID(ctx, d)
	if err != nil {
		return false, err
	}
	if c != nil && c.IsConnected() {
		return true, nil
	}
	if key, err := d.Ed25519PublicKey(); err == nil {
		all, err := p.contacts.List(ctx)
		if err != nil {
			return false, err
		}
		for _, c := range all {
			if c.IsConnected() && c.DID.Method() == did.MethodPeer {
				if k, err := identity.PersonKey(c.DID); err == nil && k.Equal(key) {
					return true, nil
				}
			}
		}
	}
	pending, err := p.trust.PendingConnections(ctx)
	if err != nil {
		return false, err
	}
	for _, pc := range pending {
		if pc.With == d {
			return true, nil
		}
	}
	return false, nil
}
