package core

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"strings"

	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/publish"
	"planet/core/relationship"
)

// The person on the First Person Network (docs/didcomm.md, docs/mediator.md):
// the DID they share, whose DIDComm service names their server's mediator,
// and the DIDComm messages that reach them through it, dispatched here to
// the features that take them.

// SetMediator sets the DIDComm mediator the person receives through: their
// server's, whose DID the server publishes (GET /didcomm). [Planet.ShareDID]
// names it. It is not kept in the vault: the server says which it is each
// time the page starts.
func (p *Planet) SetMediator(m did.DID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mediator = m
}

// Mediator returns the mediator set by [Planet.SetMediator], or the zero
// DID.
func (p *Planet) Mediator() did.DID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mediator
}

// ShareDID returns the DID the person gives others so that anyone on the
// First Person Network can reach them: a did:peer:2 of their key with a
// DIDCommMessaging service whose URI is their mediator's DID. It fails
// while the vault is locked or no mediator is set.
func (p *Planet) ShareDID() (did.DID, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return did.DID{}, err
	}
	p.mu.Lock()
	m := p.mediator
	p.mu.Unlock()
	if m.IsZero() {
		return did.DID{}, errors.New("no mediator is known yet: the server has not said which it runs")
	}
	return me.Peer2DID(did.DIDCommService(m.String()))
}

// didcommKeys is the keyring of DIDComm messages to and from the person's
// own DIDs: the persona's X25519 key under the key agreement kid of any DID
// of theirs (see [identity.Identity.Owns]), whichever mediator that DID
// named when it was shared, and the key agreement keys of their
// relationship DIDs, looked up when asked so that a relationship DID made
// after the keyring was handed out is read too.
//
// A keyring outlives the unlock it was made in (a mediation client keeps
// it): once the vault locks, or unlocks as someone else, it holds no key,
// so that a connection still closing cannot touch the wiped identity.
type didcommKeys struct {
	p       *Planet
	id      *identity.Identity
	rels    *relationship.Service
	publish *publish.Service
}

// didcommKeys returns the keyring of the person me.
func (p *Planet) didcommKeys(me *identity.Identity) didcommKeys {
	return didcommKeys{p, me, p.relationships, p.publish}
}

// current reports whether the keyring's identity is still the open one.
func (k didcommKeys) current() bool {
	_, id, err := k.p.unlocked()
	return err == nil && id == k.id
}

var _ didcomm.Keyring = didcommKeys{}

func (k didcommKeys) AgreementKey(kid string) (didcomm.AgreementKey, bool) {
	if !k.current() {
		return nil, false
	}
	base, _, _ := strings.Cut(kid, "#")
	d, err := did.Parse(base)
	if err != nil {
		return nil, false
	}
	var secret []byte
	if k.id.Owns(d) || k.publish != nil && d.Method() == did.MethodWebVH && k.publish.Owns(context.Background(), d) {
		doc, err := k.document(d)
		if err != nil {
			return nil, false
		}
		pub, err := doc.X25519Key(kid)
		if err != nil || string(pub) != string(k.id.X25519Public()) {
			return nil, false
		}
		secret = k.id.X25519Private()
	} else if r := k.relationship(d); r != nil && kid == r.KeyAgreementKeyID() {
		secret = r.X25519Private()
	} else {
		return nil, false
	}
	defer clear(secret)
	priv, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return nil, false
	}
	return priv, true
}

// document resolves one of the person's own DIDs without a network: a
// did:key or did:peer:2 from itself, their did:webvh from the log in their
// vault.
func (k didcommKeys) document(d did.DID) (*did.Document, error) {
	if d.Method() != did.MethodWebVH {
		return did.Resolve(d)
	}
	return k.publish.Document(context.Background(), d)
}

// relationship returns the keys of the person's relationship DID d, or nil.
func (k didcommKeys) relationship(d did.DID) *identity.Relationship {
	if k.rels == nil || d.Method() != did.MethodPeer {
		return nil
	}
	r, err := k.rels.Key(context.Background(), d)
	if err != nil {
		return nil
	}
	return r
}

// owns reports whether d is one of the person's DIDs: their persona's or a
// relationship DID of theirs.
func (k didcommKeys) owns(d did.DID) bool {
	if d.Method() == did.MethodWebVH {
		return k.publish != nil && k.publish.Owns(context.Background(), d)
	}
	return k.id.Owns(d) || k.relationship(d) != nil
}

// DIDCommKeys returns the keys that read DIDComm messages sent to the
// person's DIDs, for a mediation client's pickup. It fails while locked.
func (p *Planet) DIDCommKeys() (didcomm.Keyring, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	return p.didcommKeys(me), nil
}

// A DIDCommReceipt is what [Planet.ReceiveDIDComm] made of a message.
type DIDCommReceipt struct {
	From did.DID
	Type string
	// Chat is the basic message kept (now or before), or nil: dropped
	// from someone blocked, or waiting as a request.
	Chat *chat.Message
	// New: Chat was not kept before.
	New bool
	// Relationship is what a relationship or VRC message did, or nil.
	Relationship *relationship.Event
	// Replies are to be sent now (the finalize of an accept).
	Replies []Outgoing
	// How the message was packed: authcrypt, signed, which key.
	Meta *didcomm.Metadata
}

// ReceiveDIDComm reads packed, a DIDComm message for one of the person's
// DIDs that came by way of via (chat.ViaDIDComm from their mediator, or
// the way of the libp2p stream it came on), and applies it: a basic message
// goes to chat, a relationship handshake or VRC message to the
// relationships (core/relationship). Messages must be encrypted to the person and their sender
// authenticated (authcrypt, or a signature inside): an anonymous one
// cannot be answered or blocked, and is refused. Other types are refused
// as unsupported, with nothing kept.
func (p *Planet) ReceiveDIDComm(ctx context.Context, packed []byte, via string) (DIDCommReceipt, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return DIDCommReceipt{}, err
	}
	keys := p.didcommKeys(me)
	msg, meta, err := didcomm.Unpack(ctx, p.resolver, keys, packed, p.opt.Now())
	if err != nil {
		return DIDCommReceipt{}, err
	}
	r := DIDCommReceipt{From: msg.From, Type: msg.Type, Meta: meta}
	if !meta.Encrypted || !meta.Authenticated || msg.From.IsZero() {
		return r, fmt.Errorf("%w: a DIDComm message to the person must be encrypted to them and say, provably, who sent it", ErrInvalid)
	}
	if meta.Forward != nil {
		return r, fmt.Errorf("%w: a forward for %s: the person is not a mediator", ErrInvalid, meta.Forward.Next)
	}
	to, err := myDID(keys, meta.MyKids)
	if err != nil {
		return r, err
	}
	switch {
	case chat.TakesBasic(msg.Type):
		r.Chat, r.New, err = p.chat.TakeBasic(ctx, msg, to, via)
		return r, err
	case relationship.Takes(msg.Type):
		ev, err := p.relationships.Receive(ctx, msg, to)
		if err != nil {
			return r, err
		}
		r.Relationship = &ev
		if ev.Reply != nil {
			packed, err := p.pack(ctx, keys, ev.Reply)
			if err != nil {
				return r, err
			}
			r.Replies = append(r.Replies, Outgoing{Person: msg.From, Packed: packed})
		}
		return r, nil
	}
	return r, fmt.Errorf("%w: PLANET does not act on DIDComm messages of type %q yet", didcomm.ErrUnsupported, msg.Type)
}

// myDID returns the person's DID that a message was encrypted to, from the
// kids Unpack used.
func myDID(keys didcommKeys, kids []string) (did.DID, error) {
	for _, kid := range kids {
		base, _, _ := strings.Cut(kid, "#")
		if d, err := did.Parse(base); err == nil && keys.owns(d) {
			return d, nil
		}
	}
	return did.DID{}, fmt.Errorf("%w: the message was not encrypted to a DID of the person's", ErrInvalid)
}

// WriteBasic writes a chat message with text to the DID to as a DIDComm
// basic message from the person's shared DID, keeps it as sent, and packs
// it (authcrypt) for to. The caller delivers it: over a stream to a PLANET
// tab it is connected to, else along the first of the packed message's
// routes (its mediator). It fails while locked or with no mediator set.
func (p *Planet) WriteBasic(ctx context.Context, to did.DID, text string) (*chat.Message, *didcomm.Packed, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return nil, nil, err
	}
	from, err := p.ShareDID()
	if err != nil {
		return nil, nil, err
	}
	// A recipient who cannot be written to (no document, no key agreement
	// key) keeps nothing.
	doc, err := p.resolver.Resolve(ctx, to)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(doc.KeyAgreement) == 0 {
		return nil, nil, fmt.Errorf("%w: %s has no key to encrypt to", ErrInvalid, to)
	}
	c, msg, err := p.chat.WriteBasic(ctx, from, to, text)
	if err != nil {
		return nil, nil, err
	}
	packed, err := didcomm.Pack(ctx, msg, to, didcomm.PackOptions{Resolver: p.resolver, Keys: p.didcommKeys(me), Now: p.opt.Now()})
	if err != nil {
		return nil, nil, err
	}
	return c, packed, nil
}
