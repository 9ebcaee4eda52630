//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/invite"
	"planet/core/trust"
	"planet/core/vc"
)

// The trust network's part of the API: the node's status, invitations,
// the relationship credentials kept, and the name the person gives
// the people they connect with.

func networkAPI(net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("status", async(func([]safejs.Value) (any, error) { return net.statusJS() }))
	o.Set("ping", async(func(args []safejs.Value) (any, error) {
		addr, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return net.pingJS(context.Background(), addr)
	}))
	return o
}

func invitationsAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("create", async(func(args []safejs.Value) (any, error) {
		var in struct {
			Note  string  `json:"note"`
			Hours float64 `json:"hours"`
			Uses  int     `json:"uses"`
		}
		if a := arg(args, 0); !a.IsUndefined() && !a.IsNull() {
			if err := fromJS(a, &in); err != nil {
				return nil, err
			}
		}
		if in.Hours < 0 {
			return nil, fmt.Errorf("an invitation cannot last a negative number of hours: %w", errInvalidArg)
		}
		net.settled(ctx)
		opts := invite.Options{
			Note:     strings.TrimSpace(in.Note),
			Lifetime: time.Duration(in.Hours * float64(time.Hour)).Round(time.Second),
			Uses:     in.Uses,
			Relays:   p.Trust().Relays(), // the node's, set when it started
		}
		inv, err := p.Trust().CreateInvitation(ctx, opts)
		if err != nil {
			return nil, err
		}
		return toJS(map[string]any{"id": inv.ID, "token": inv.Token,
			"link": invite.Link(pageOrigin()+"/", inv.Token),
			"note": inv.Note, "expires": inv.Expires, "uses": inv.Uses})
	}))
	o.Set("list", async(func([]safejs.Value) (any, error) {
		rs, err := p.Trust().Invitations(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(rs))
		for i, r := range rs {
			accepted := make([]string, len(r.AcceptedBy))
			for j, d := range r.AcceptedBy {
				accepted[j] = d.String()
			}
			out[i] = map[string]any{"id": r.ID, "note": r.Note, "created": r.Created, "expires": r.Expires,
				"usesLeft": r.UsesLeft, "revoked": r.Revoked, "acceptedBy": accepted}
		}
		return toJS(out)
	}))
	o.Set("revoke", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.Trust().RevokeInvitation(ctx, id)
	}))
	o.Set("read", async(func(args []safejs.Value) (any, error) {
		token, err := tokenArg(args, 0)
		if err != nil {
			return nil, err
		}
		inv, err := invite.Parse(token, time.Now())
		if err != nil {
			return nil, err
		}
		return toJS(map[string]any{"inviter": inv.Inviter.String(), "note": inv.Note,
			"expires": inv.Expires, "uses": inv.Uses})
	}))
	o.Set("accept", async(func(args []safejs.Value) (any, error) {
		token, err := tokenArg(args, 0)
		if err != nil {
			return nil, err
		}
		node, err := net.current()
		if err != nil {
			return nil, err
		}
		inv, out, err := p.Trust().AcceptInvitation(ctx, token)
		if err != nil {
			return nil, err
		}
		sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		posted, err := node.Send(sendCtx, out)
		if err != nil {
			return nil, err
		}
		via := chat.ViaDirect
		if posted {
			via = chat.ViaMailbox
			if err := p.Trust().SetPendingWaiting(ctx, inv.ID, trust.WaitingMailbox); err != nil {
				return nil, err
			}
		}
		return toJS(map[string]any{"inviter": inv.Inviter.String(), "note": inv.Note, "delivered": via})
	}))
	o.Set("pending", async(func([]safejs.Value) (any, error) {
		ps, err := p.Trust().PendingConnections(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(ps))
		for i, pc := range ps {
			out[i] = map[string]any{"ref": pc.Ref, "with": pc.With.String(), "note": pc.Note,
				"created": pc.Created, "waiting": string(pc.Waiting)}
		}
		return toJS(out)
	}))
	return o
}

// tokenArg reads an invitation given as its link or as the bare token.
func tokenArg(args []safejs.Value, i int) (string, error) {
	text, err := str(args, i)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(text)
	if strings.Contains(token, "#") {
		return invite.TokenFromLink(token)
	}
	return token, nil
}

func didArg(args []safejs.Value, i int) (did.DID, error) {
	s, err := str(args, i)
	if err != nil {
		return did.DID{}, err
	}
	d, err := did.Parse(strings.TrimSpace(s))
	if err != nil {
		return did.DID{}, fmt.Errorf("%v: %w", err, errInvalidArg)
	}
	return d, nil
}

// credentialsAPI lists the relationship credentials kept, each verified
// afresh, so that the page shows what holds now, not what held when it
// arrived.
func credentialsAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("list", async(func([]safejs.Value) (any, error) {
		kept, err := p.Trust().Credentials(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		out := make([]map[string]any, 0, len(kept))
		for _, k := range kept {
			c := k.Credential
			raw, err := c.MarshalJSON()
			if err != nil {
				return nil, err
			}
			v := map[string]any{"id": c.ID, "type": c.ConcreteType(), "issuer": c.Issuer.String(),
				"subject": c.Subject.ID.String(), "context": c.Subject.Context,
				"validFrom": c.ValidFrom.String(), "received": k.Received,
				"verified": true, "credential": rawJSON(raw)}
			if !c.Subject.IntroducedBy.IsZero() {
				v["introducedBy"] = c.Subject.IntroducedBy.String()
			}
			if !k.SharedBy.IsZero() {
				v["sharedBy"] = k.SharedBy.String()
			}
			if err := vc.Verify(c, now); err != nil {
				v["verified"], v["problem"] = false, sentence(err.Error(), "")
			}
			out = append(out, v)
		}
		return toJS(out)
	}))
	return o
}

// rawJSON keeps a credential's JSON as it is when the answer is encoded.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func profileAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	o.Set("setName", async(func(args []safejs.Value) (any, error) {
		name, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		s, err := p.Settings()
		if err != nil {
			return nil, err
		}
		s.Name = strings.TrimSpace(name)
		s, err = p.SetSettings(ctx, s)
		if err != nil {
			return nil, err
		}
		return toJS(s)
	}))
	return o
}
