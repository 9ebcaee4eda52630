//go:build js && wasm

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/did"
	"planet/core/graph"
	"planet/core/trust"
)

// The trust network's introductions, sharing and graph: the person
// introduces two of their contacts, answers introductions, shares their
// relationships with a contact, and reads the graph their credentials make.

// deliver sends each frame with the tab's node, directly or into the
// recipient's mailbox, and tries them all before reporting the first
// failure: one unreachable person does not keep the news from the other.
func deliver(ctx context.Context, net *tabNetwork, out []trust.Outgoing) error {
	if len(out) == 0 {
		return nil
	}
	node, err := net.current()
	if err != nil {
		return err
	}
	sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var errs []error
	for _, o := range out {
		if _, err := node.Send(sendCtx, o); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	// The person's own view changed too (an answer, a share): the page
	// refreshes what it shows of the trust network.
	announceChange("planet-contacts", "")
	return nil
}

// namer gives the names the person knows people by: "You" for themself,
// a contact's name, or a shortened DID.
type namer struct {
	me    did.DID
	names map[did.DID]string
}

func newNamer(ctx context.Context, p *core.Planet) (*namer, error) {
	id, err := p.Identity()
	if err != nil {
		return nil, err
	}
	cs, err := p.Contacts().List(ctx)
	if err != nil {
		return nil, err
	}
	n := &namer{me: id.DID(), names: map[did.DID]string{}}
	for _, c := range cs {
		if !c.DID.IsZero() && c.Name != "" {
			n.names[c.DID] = c.Name
		}
	}
	return n, nil
}

// contact is the contact's name, "" for someone who is not a contact.
func (n *namer) contact(d did.DID) string { return n.names[d] }

func (n *namer) name(d did.DID) string {
	if d == n.me {
		return "You"
	}
	if s := n.names[d]; s != "" {
		return s
	}
	return did.Short(d)
}

func receivedIntroJS(r *trust.ReceivedIntroduction, n *namer) map[string]any {
	return map[string]any{"id": r.ID, "introducer": r.Introducer.String(), "introducerName": n.name(r.Introducer),
		"other": r.Other.String(), "otherName": cmp.Or(n.contact(r.Other), r.OtherName, n.name(r.Other)),
		"note": r.Note, "state": string(r.State), "received": r.Received, "expires": r.Expires}
}

func madeIntroJS(m *trust.MadeIntroduction, n *namer) map[string]any {
	return map[string]any{"id": m.ID, "a": m.A.String(), "b": m.B.String(), "aName": n.name(m.A), "bName": n.name(m.B),
		"note": m.Note, "stateA": string(m.StateA), "stateB": string(m.StateB), "created": m.Created}
}

// boolArg reads a boolean argument.
func boolArg(args []safejs.Value, i int) (bool, error) {
	v := arg(args, i)
	if v.Type() != safejs.TypeBoolean {
		return false, fmt.Errorf("argument %d must be true or false: %w", i+1, errInvalidArg)
	}
	return v.Bool()
}

func introductionsAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("introduce", async(func(args []safejs.Value) (any, error) {
		a, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := didArg(args, 1)
		if err != nil {
			return nil, err
		}
		var note string
		if v := arg(args, 2); !v.IsUndefined() && !v.IsNull() {
			if note, err = str(args, 2); err != nil {
				return nil, err
			}
		}
		if _, err := net.current(); err != nil {
			return nil, err
		}
		made, out, err := p.Trust().Introduce(ctx, a, b, strings.TrimSpace(note))
		if err != nil {
			return nil, err
		}
		if err := deliver(ctx, net, out); err != nil {
			return nil, err
		}
		n, err := newNamer(ctx, p)
		if err != nil {
			return nil, err
		}
		return toJS(madeIntroJS(made, n))
	}))
	o.Set("list", async(func([]safejs.Value) (any, error) {
		received, made, err := p.Trust().Introductions(ctx)
		if err != nil {
			return nil, err
		}
		n, err := newNamer(ctx, p)
		if err != nil {
			return nil, err
		}
		r := make([]map[string]any, len(received))
		for i := range received {
			r[i] = receivedIntroJS(&received[i], n)
		}
		m := make([]map[string]any, len(made))
		for i := range made {
			m[i] = madeIntroJS(&made[i], n)
		}
		return toJS(map[string]any{"received": r, "made": m})
	}))
	o.Set("answer", async(func(args []safejs.Value) (any, error) {
		id, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		accept, err := boolArg(args, 1)
		if err != nil {
			return nil, err
		}
		if _, err := net.current(); err != nil {
			return nil, err
		}
		out, err := p.Trust().AnswerIntroduction(ctx, id, accept)
		if err != nil {
			return nil, err
		}
		if err := deliver(ctx, net, out); err != nil {
			return nil, err
		}
		// The other may have accepted first: then the connect request just
		// sent completed the connection, and the record says so.
		received, _, err := p.Trust().Introductions(ctx)
		if err != nil {
			return nil, err
		}
		n, err := newNamer(ctx, p)
		if err != nil {
			return nil, err
		}
		for i := range received {
			if received[i].ID == id {
				return toJS(receivedIntroJS(&received[i], n))
			}
		}
		return nil, errors.New("the introduction answered is gone")
	}))
	return o
}

func sharingAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("set", async(func(args []safejs.Value) (any, error) {
		with, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		on, err := boolArg(args, 1)
		if err != nil {
			return nil, err
		}
		if _, err := net.current(); err != nil {
			return nil, err
		}
		out, err := p.Trust().SetSharing(ctx, with, on)
		if err != nil {
			return nil, err
		}
		return nil, deliver(ctx, net, out)
	}))
	return o
}

// maxPathHops bounds the paths the page asks for: beyond three hops a chain
// of trust says little.
const maxPathHops = 3

func graphAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	load := func() (*graph.Graph, *namer, error) {
		g, err := p.Trust().Graph(ctx)
		if err != nil {
			return nil, nil, err
		}
		n, err := newNamer(ctx, p)
		return g, n, err
	}
	o.Set("get", async(func([]safejs.Value) (any, error) {
		g, n, err := load()
		if err != nil {
			return nil, err
		}
		seen := map[did.DID]bool{}
		nodes := []map[string]any{}
		addNode := func(d did.DID) {
			if seen[d] {
				return
			}
			seen[d] = true
			nodes = append(nodes, map[string]any{"did": d.String(), "name": n.name(d),
				"me": d == n.me, "contact": n.contact(d) != ""})
		}
		addNode(n.me)
		edges := []map[string]any{}
		for _, e := range g.Edges() {
			addNode(e.A)
			addNode(e.B)
			context, introducer := e.AB.Context, e.AB.IntroducedBy
			if context == "" {
				context = e.BA.Context
			}
			if introducer.IsZero() {
				introducer = e.BA.IntroducedBy
			}
			v := map[string]any{"a": e.A.String(), "b": e.B.String(), "context": context, "oneSided": e.OneSided()}
			if !introducer.IsZero() {
				v["introducedBy"] = introducer.String()
			}
			if e.Shared() {
				v["sharedBy"] = e.SharedBy.String()
			}
			edges = append(edges, v)
		}
		return toJS(map[string]any{"me": n.me.String(), "nodes": nodes, "edges": edges})
	}))
	o.Set("paths", async(func(args []safejs.Value) (any, error) {
		to, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		g, n, err := load()
		if err != nil {
			return nil, err
		}
		ps, err := g.Paths(n.me, to, maxPathHops)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(ps))
		for i, path := range ps {
			dids := []string{}
			for _, d := range path.DIDs() {
				dids = append(dids, d.String())
			}
			out[i] = map[string]any{"dids": dids, "explain": path.Explain(n.me, n.contact)}
		}
		return toJS(map[string]any{"paths": out})
	}))
	o.Set("connections", async(func(args []safejs.Value) (any, error) {
		filter := ""
		if len(args) > 0 && args[0].Type() == safejs.TypeString {
			s, err := args[0].String()
			if err != nil {
				return nil, err
			}
			filter = s
		}
		g, n, err := load()
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, step := range g.Connections(n.me, filter) {
			context := step.Edge.ClaimBy(n.me).Context
			if context == "" {
				context = step.Edge.ClaimBy(step.To).Context
			}
			out = append(out, map[string]any{"did": step.To.String(), "name": n.name(step.To), "context": context})
		}
		return toJS(out)
	}))
	o.Set("mutual", async(func(args []safejs.Value) (any, error) {
		with, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		g, n, err := load()
		if err != nil {
			return nil, err
		}
		out := []string{}
		for _, d := range g.Mutual(n.me, with) {
			out = append(out, d.String())
		}
		return toJS(out)
	}))
	return o
}
