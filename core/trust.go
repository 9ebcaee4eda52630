package core

import (
	"context"
	"fmt"

	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/trust"
)

// Letters from the mailbox are either chat's or the trust network's: the
// dispatch stays here, where both are known.

// Opened is what [Planet.OpenLetter] made of a letter from the mailbox.
type Opened struct {
	From     did.DID
	Protocol string        // the protocol of a trust-network frame; "" for a chat message or receipt
	Chat     *chat.Message // the chat message kept (now or before), or nil
	// Delivered are the person's messages that a receipt marked delivered.
	Delivered     []string
	trust.Handled // what handling a trust-network frame produced
}

// OpenLetter opens an envelope picked up from the person's mailbox and
// applies what is inside: a chat message is kept, a receipt marks the
// person's messages it names delivered, a trust-network frame is
// handled as if it had come over a stream from its signer. A refusal that
// an answer brings is returned, with what was opened, as a
// [*trust.RemoteError].
func (p *Planet) OpenLetter(ctx context.Context, envelope []byte) (Opened, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return Opened{}, err
	}
	m, signed, err := didcomm.UnsealSigned(me, envelope, p.opt.Now())
	if err != nil {
		return Opened{}, err
	}
	o := Opened{From: m.From}
	if chat.Takes(m.Type) {
		if m.From == me.DID() {
			return o, fmt.Errorf("%w: a chat message from yourself", ErrInvalid)
		}
		o.Chat, o.Delivered, err = p.chat.Take(ctx, m, signed, chat.ViaMailbox)
		return o, err
	}
	o.Protocol, o.Handled, err = p.trust.HandleMessage(ctx, m)
	return o, err
}
