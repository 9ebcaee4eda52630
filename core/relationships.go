package core

import (
	"context"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/publish"
	"planet/core/relationship"
)

// The person's relationships on the First Person Network (core/relationship,
// docs/protocols/openvtc.md): "Connect" by someone's DID with a note, the
// requests others send, and the relationship credentials (VRCs) the two ask
// of each other. Each call returns what to send (packed authcrypt, with its
// routes) and, when it made one, the relationship DID to register with the
// person's mediator before sending, so that the answer finds its way back.

// An Outgoing is a DIDComm message to send, to whom, and the DID to
// register first.
type Outgoing struct {
	// Register is a relationship DID the mediator must route to the person
	// before Packed is sent; zero when the step made none.
	Register did.DID
	// Person is the DID of the person it goes to (their persona, though
	// the message may be to their relationship DID): their PLANET tab, if
	// they have one connected, takes it on a stream ([p2p.PeerOf]).
	Person did.DID
	Packed *didcomm.Packed
}

// Publish is the person's DID on the web (did:webvh) and its log.
func (p *Planet) Publish() *publish.Service { return p.publish }

// Relationships is the person's relationships on the First Person Network.
func (p *Planet) Relationships() *relationship.Service { return p.relationships }

// ownFirst resolves the person's own did:webvh from the log in their vault
// (it is theirs: no need to ask the server, which may be out of reach) and
// every other DID with others.
type ownFirst struct {
	publish *publish.Service
	others  did.Resolver
}

func (r ownFirst) Resolve(ctx context.Context, d did.DID) (*did.Document, error) {
	if d.Method() == did.MethodWebVH && r.publish.Owns(ctx, d) {
		return r.publish.Document(ctx, d)
	}
	return r.others.Resolve(ctx, d)
}

// networkSelf is who the person is on the network: the DID they share, the
// mediator it names, and their name.
func (p *Planet) networkSelf() (relationship.Me, error) {
	persona, err := p.ShareDID()
	if err != nil {
		return relationship.Me{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return relationship.Me{Persona: persona, Mediator: p.mediator, Name: p.settings.Name}, nil
}

// RequestRelationship asks the person whose DID is to for a relationship,
// with a note, and returns the request to send.
func (p *Planet) RequestRelationship(ctx context.Context, to did.DID, note string) (*relationship.Relationship, Outgoing, error) {
	r, out, err := p.relationships.Request(ctx, to, note)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return r, o, err
}

// AcceptRelationship accepts the pending request id.
func (p *Planet) AcceptRelationship(ctx context.Context, id string) (*relationship.Relationship, Outgoing, error) {
	r, out, err := p.relationships.Accept(ctx, id)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return r, o, err
}

// DeclineRelationship says no to the pending request id.
func (p *Planet) DeclineRelationship(ctx context.Context, id, reason string) (*relationship.Relationship, Outgoing, error) {
	r, out, err := p.relationships.Decline(ctx, id, reason)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return r, o, err
}

// RequestVRC asks the other side of the established relationship id for a
// relationship credential.
func (p *Planet) RequestVRC(ctx context.Context, id, reason string) (*relationship.VRC, Outgoing, error) {
	v, out, err := p.relationships.RequestVRC(ctx, id, reason)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return v, o, err
}

// IssueVRC issues the credential the VRC request id asks of the person.
func (p *Planet) IssueVRC(ctx context.Context, id string) (*relationship.VRC, Outgoing, error) {
	v, out, err := p.relationships.IssueVRC(ctx, id)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return v, o, err
}

// DeclineVRC says no to the VRC request id.
func (p *Planet) DeclineVRC(ctx context.Context, id, reason string) (*relationship.VRC, Outgoing, error) {
	v, out, err := p.relationships.DeclineVRC(ctx, id, reason)
	if err != nil {
		return nil, Outgoing{}, err
	}
	o, err := p.outgoing(ctx, out)
	return v, o, err
}

// outgoing packs a step's message.
func (p *Planet) outgoing(ctx context.Context, out relationship.Outgoing) (Outgoing, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return Outgoing{}, err
	}
	packed, err := p.pack(ctx, p.didcommKeys(me), out.Message)
	if err != nil {
		return Outgoing{}, err
	}
	return Outgoing{Register: out.Register, Person: out.Person, Packed: packed}, nil
}

// pack packs msg authcrypt from its sender to its one recipient.
func (p *Planet) pack(ctx context.Context, keys didcommKeys, msg *didcomm.Plaintext) (*didcomm.Packed, error) {
	return didcomm.Pack(ctx, msg, msg.To[0], didcomm.PackOptions{Resolver: p.resolver, Keys: keys, Now: p.opt.Now()})
}
