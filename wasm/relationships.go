//go:build js && wasm

package main

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/relationship"
	"planet/core/vc"
)

// The relationships' part of the API (planet.relationships in
// web/planet.d.ts): "Connect" by DID with a note, requests to accept or
// decline, and the relationship credentials asked for and issued. Every
// step that sends goes through the person's mediator (tabDIDComm.send),
// which must be connected; a step whose message could not be delivered
// keeps its new state and says so (Sent false, with why), so nothing the
// person did is lost.

// relationshipJS is the page's view of a relationship.
func relationshipJS(r *relationship.Relationship) map[string]any {
	out := map[string]any{"id": r.ID, "role": string(r.Role), "state": string(r.State), "peer": r.Peer.String(),
		"name": r.PeerName, "reason": r.Reason, "created": r.Created, "updated": r.Updated}
	if !r.PeerDID.IsZero() {
		out["peerDid"] = r.PeerDID.String()
	}
	if !r.DID.IsZero() {
		out["did"] = r.DID.String()
	}
	return out
}

// vrcJS is the page's view of a VRC exchange; an issued credential is
// verified afresh, so the page shows whether it holds now.
func vrcJS(v *relationship.VRC, now time.Time) map[string]any {
	out := map[string]any{"id": v.ID, "relationship": v.Relationship, "direction": string(v.Direction), "state": string(v.State),
		"reason": v.Reason, "created": v.Created, "updated": v.Updated}
	if c := v.Credential; c != nil {
		cred := map[string]any{"id": c.ID, "issuer": c.Issuer.String(), "subject": c.Subject.ID.String(), "validFrom": c.ValidFrom,
			"issuerScope": c.IssuerScope, "verified": true}
		if err := vc.Verify(c, now); err != nil {
			cred["verified"], cred["problem"] = false, sentence(err.Error(), "")
		}
		if b, err := c.MarshalJSON(); err == nil {
			if d, err := vc.DigestMultibase(b); err == nil {
				cred["digestMultibase"] = d
			}
		}
		out["credential"] = cred
	}
	return out
}

// sentJS adds to a step's result whether its message reached the other
// side's mediator.
func sentJS(out map[string]any, err error) (any, error) {
	out["sent"] = err == nil
	if err != nil {
		_, msg := classify(err)
		out["notSent"] = msg
	}
	announce("planet-contacts", safejs.Null())
	return toJS(out)
}

func relationshipsAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	// step runs a step that sends, within a minute.
	step := func(f func(ctx context.Context) (map[string]any, core.Outgoing, error)) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		out, send, err := f(ctx)
		if err != nil {
			return nil, err
		}
		via, err := net.didcomm.send(ctx, send)
		out["via"] = via
		return sentJS(out, err)
	}
	o.Set("list", async(func([]safejs.Value) (any, error) {
		rs, err := p.Relationships().List(ctx)
		if err != nil {
			return nil, err
		}
		vs, err := p.Relationships().VRCs(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		rels := make([]map[string]any, len(rs))
		for i := range rs {
			rels[i] = relationshipJS(&rs[i])
		}
		vrcs := make([]map[string]any, len(vs))
		for i := range vs {
			vrcs[i] = vrcJS(&vs[i], now)
		}
		return toJS(map[string]any{"relationships": rels, "credentials": vrcs})
	}))
	o.Set("connect", async(func(args []safejs.Value) (any, error) {
		to, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		note := ""
		if a := arg(args, 1); a.Type() == safejs.TypeString {
			if note, err = a.String(); err != nil {
				return nil, err
			}
		}
		return step(func(ctx context.Context) (map[string]any, core.Outgoing, error) {
			r, out, err := p.RequestRelationship(ctx, to, note)
			if err != nil {
				return nil, out, err
			}
			return relationshipJS(r), out, nil
		})
	}))
	byID := func(name string, f func(ctx context.Context, id, reason string) (map[string]any, core.Outgoing, error)) {
		o.Set(name, async(func(args []safejs.Value) (any, error) {
			id, err := str(args, 0)
			if err != nil {
				return nil, err
			}
			reason := ""
			if a := arg(args, 1); a.Type() == safejs.TypeString {
				if reason, err = a.String(); err != nil {
					return nil, err
				}
			}
			return step(func(ctx context.Context) (map[string]any, core.Outgoing, error) { return f(ctx, id, reason) })
		}))
	}
	byID("accept", func(ctx context.Context, id, _ string) (map[string]any, core.Outgoing, error) {
		r, out, err := p.AcceptRelationship(ctx, id)
		if err != nil {
			return nil, out, err
		}
		return relationshipJS(r), out, nil
	})
	byID("decline", func(ctx context.Context, id, reason string) (map[string]any, core.Outgoing, error) {
		r, out, err := p.DeclineRelationship(ctx, id, reason)
		if err != nil {
			return nil, out, err
		}
		return relationshipJS(r), out, nil
	})
	byID("requestCredential", func(ctx context.Context, id, reason string) (map[string]any, core.Outgoing, error) {
		v, out, err := p.RequestVRC(ctx, id, reason)
		if err != nil {
			return nil, out, err
		}
		return vrcJS(v, time.Now()), out, nil
	})
	byID("issueCredential", func(ctx context.Context, id, _ string) (map[string]any, core.Outgoing, error) {
		v, out, err := p.IssueVRC(ctx, id)
		if err != nil {
			return nil, out, err
		}
		return vrcJS(v, time.Now()), out, nil
	})
	byID("declineCredential", func(ctx context.Context, id, reason string) (map[string]any, core.Outgoing, error) {
		v, out, err := p.DeclineVRC(ctx, id, reason)
		if err != nil {
			return nil, out, err
		}
		return vrcJS(v, time.Now()), out, nil
	})
	return o
}
