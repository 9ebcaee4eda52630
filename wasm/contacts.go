//go:build js && wasm

package main

import (
	"context"

	"planet/core"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/keys"

	"github.com/hack-pad/safejs"
)

// contactJS is the page's view of a contact: the fields of planet.d.ts, times as
// RFC 3339.
func contactJS(c *contacts.Contact) map[string]any {
	m := map[string]any{"id": c.ID, "name": c.Name, "did": c.DID.String(), "notes": c.Notes,
		"created": c.Created, "updated": c.Updated}
	if c.Origin != "" {
		m["origin"] = c.Origin
	}
	if c.IsConnected() {
		m["connected"] = c.Connected
	}
	if !c.IntroducedBy.IsZero() {
		m["introducedBy"] = c.IntroducedBy.String()
	}
	if c.SharingGraph {
		m["sharingGraph"] = true
	}
	if id := contactPeerID(c.DID); id != "" {
		m["peerId"] = id
	}
	if len(c.Relays) > 0 {
		m["relays"] = c.Relays
	}
	return m
}

// contactPeerID is the libp2p peer ID of a did:key, so that the page can tell
// whether the tab is connected to the contact; "" for other DIDs.
func contactPeerID(d did.DID) string {
	pub, err := d.Ed25519PublicKey()
	if err != nil {
		return ""
	}
	return keys.PeerIDFromEd25519(pub).String()
}

func contactsAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func([]safejs.Value) (any, error) {
		cs, err := p.Contacts().List(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(cs))
		for i := range cs {
			out[i] = contactJS(&cs[i])
		}
		return toJS(out)
	}))
	o.Set("add", async(func(args []safejs.Value) (any, error) {
		var in contacts.Input
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		c, err := p.Contacts().Add(ctx, in)
		if err != nil {
			return nil, err
		}
		return toJS(contactJS(c))
	}))
	o.Set("update", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		var in contacts.Input
		if err := fromJS(arg(args, 1), &in); err != nil {
			return nil, err
		}
		c, err := p.Contacts().Update(ctx, id, in)
		if err != nil {
			return nil, err
		}
		return toJS(contactJS(c))
	}))
	o.Set("delete", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.Contacts().Delete(ctx, id)
	}))
	return o
}
