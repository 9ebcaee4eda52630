//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/mediation"
	"planet/core/p2p"
	"planet/vault"
	"planet/wasm/browser"
)

// The tab on the First Person Network: while the vault is unlocked, it
// keeps a WebSocket to its server's DIDComm mediator (docs/mediator.md),
// registered for the DID the person shares, and hands every message that
// arrives to the core (core.Planet.ReceiveDIDComm); it sends DIDComm
// messages along their recipients' routes with fetch. The WebSocket is the
// standard DIDComm transport, the one every other client uses.

// mediatorPath is where the server says which mediator it runs.
const mediatorPath = "/didcomm"

// tabDIDComm is the tab's connection to its mediator.
type tabDIDComm struct {
	p *core.Planet
	// node is the tab's libp2p node of the moment, or nil: the way to
	// other PLANET tabs.
	node func() *p2p.Node
	log  *slog.Logger

	mu     sync.Mutex
	state  string // "off", "connecting", "online", "no mediator", "failed"
	err    string
	client *mediation.Client // while online
}

func newTabDIDComm(p *core.Planet, node func() *p2p.Node) *tabDIDComm {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &tabDIDComm{p: p, node: node, log: log, state: netOff}
}

func (t *tabDIDComm) set(state, err string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state, t.err = state, err
}

// run keeps the tab connected to its mediator until ctx ends (the vault
// locks), reconnecting with backoff.
func (t *tabDIDComm) run(ctx context.Context) {
	defer t.set(netOff, "")
	t.set(netStarting, "")
	med, wsURL, found, err := fetchMediator(ctx)
	switch {
	case err != nil:
		t.set(netFailed, sentence("could not read the server's mediator: "+err.Error(), ""))
		return
	case !found:
		t.set("no mediator", "")
		return
	}
	t.p.SetMediator(med)
	mediation.Reconnect(ctx, mediation.Backoff{Min: time.Second, Max: time.Minute}, func(ctx context.Context) error {
		return t.session(ctx, med, wsURL)
	}, func(err error, wait time.Duration) {
		t.set(netFailed, sentence(err.Error(), ""))
	})
}

// session is one connection to the mediator, until it fails or ctx ends.
func (t *tabDIDComm) session(ctx context.Context, med did.DID, wsURL string) error {
	id, err := t.p.Identity()
	if err != nil {
		return mediation.Permanent(err)
	}
	share, err := t.p.ShareDID()
	if err != nil {
		return mediation.Permanent(err)
	}
	keys, err := t.p.DIDCommKeys()
	if err != nil {
		return mediation.Permanent(err)
	}
	ws, err := browser.DialWebSocket(ctx, wsURL, didcomm.MaxPackedSize)
	if err != nil {
		return err
	}
	c, err := mediation.NewClient(ws, mediation.Config{DID: id.DID(), Mediator: med, Keys: keys, Resolver: did.Local})
	if err != nil {
		ws.Close()
		return mediation.Permanent(err)
	}
	defer c.Close()
	if _, err := c.Connect(ctx); err != nil {
		return err
	}
	// The shared DID and every relationship DID: what is sent to any of
	// them waits here.
	rels, err := t.p.Relationships().DIDs(ctx)
	if err != nil {
		return mediation.Permanent(err)
	}
	mine := append([]did.DID{share}, rels...)
	if pg, err := t.p.Publish().Get(ctx); err == nil {
		mine = append(mine, pg.DID) // their did:webvh names this mediator too
	}
	if err := c.Register(ctx, mine...); err != nil {
		return err
	}
	t.mu.Lock()
	t.state, t.err, t.client = netOnline, "", c
	t.mu.Unlock()
	// A did:webvh made between the list above and now was not registered
	// by register (no client yet): it is now.
	if pg, err := t.p.Publish().Get(ctx); err == nil && !slices.Contains(mine, pg.DID) {
		if err := c.Register(ctx, pg.DID); err != nil {
			return err
		}
	}
	defer func() {
		t.mu.Lock()
		t.client = nil
		t.mu.Unlock()
	}()
	return c.Run(ctx, func(packed []byte) error {
		err := t.receive(ctx, packed, chat.ViaDIDComm)
		if errors.Is(err, vault.ErrLocked) {
			return err // keep it at the mediator for the next unlock
		}
		// Unreadable, unsupported or refused: acknowledged, so that it
		// does not come back; nothing was kept.
		return nil
	})
}

// receive hands packed, a DIDComm message that came by way of via (the
// mediator, or a libp2p stream from another PLANET tab), to the core,
// sends the replies it makes, and tells the page what changed.
func (t *tabDIDComm) receive(ctx context.Context, packed []byte, via string) error {
	r, err := t.p.ReceiveDIDComm(ctx, packed, via)
	if err != nil {
		if !errors.Is(err, vault.ErrLocked) {
			t.log.Warn("DIDComm message refused", "from", r.From.String(), "type", r.Type, "via", via, "err", err)
		}
		return err
	}
	for _, reply := range r.Replies {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := t.send(ctx, reply); err != nil {
				t.log.Warn("DIDComm reply not delivered", "to", r.From.String(), "err", err)
			}
		}()
	}
	detail, _ := toJS(map[string]string{"from": r.From.String()})
	if r.Relationship != nil {
		announce("planet-contacts", detail)
	} else {
		announce("planet-chat", detail)
	}
	return nil
}

// errNoMediator is returned for a step that must go through the person's
// mediator while the tab is not connected to it.
var errNoMediator = errors.New("not connected to your server's mediator yet: try again in a moment")

// register asks the mediator to route what is sent to d to the person,
// now: a DID made while the tab is connected (their did:webvh). While not
// connected it is a no-op: every DID of the person is registered at each
// connection.
func (t *tabDIDComm) register(ctx context.Context, d did.DID) error {
	t.mu.Lock()
	c := t.client
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Register(ctx, d)
}

// send delivers out and returns the way it went. When the person it is
// for has a PLANET tab connected to this one's node, or reachable through
// this tab's relays because their mediator is this server's (they are on
// the same server), it goes on a libp2p stream (p2p.SendDIDComm): direct
// over WebRTC when the two tabs have it, else relayed. Otherwise, or when
// the stream fails, it goes through the recipient's mediator, after the
// relationship DID the step made (if any) is registered with the person's
// own, so that the answer finds its way back.
func (t *tabDIDComm) send(ctx context.Context, out core.Outgoing) (string, error) {
	if !out.Register.IsZero() {
		t.mu.Lock()
		c := t.client
		t.mu.Unlock()
		if c == nil {
			return "", errNoMediator
		}
		if err := c.Register(ctx, out.Register); err != nil {
			return "", err
		}
	}
	if node := t.node(); node != nil && !out.Person.IsZero() {
		if pid, err := p2p.PeerOf(out.Person); err == nil {
			var relays []string
			if t.sameServer(out.Person) {
				relays = node.Relays()
			}
			via, err := node.SendDIDComm(ctx, pid, relays, out.Packed.Message)
			switch {
			case err == nil:
				return via, nil
			case errors.Is(err, p2p.ErrRefused):
				return "", err
			}
		}
	}
	return chat.ViaDIDComm, mediation.Send(ctx, out.Packed, postDIDComm)
}

// sameServer reports whether d's DIDComm service names this tab's
// mediator: the person of d is then on this server, at its relay too.
func (t *tabDIDComm) sameServer(d did.DID) bool {
	doc, err := did.Resolve(d)
	if err != nil {
		return false
	}
	med := t.p.Mediator()
	for _, svc := range doc.Service {
		if ep, ok := svc.ServiceEndpoint.(map[string]any); ok && !med.IsZero() && ep["uri"] == med.String() {
			return true
		}
	}
	return false
}

// fetchMediator asks the page's own server which mediator it runs: its
// DID, and the WebSocket endpoint its document names. found is false when
// the server runs none (404).
func fetchMediator(ctx context.Context) (med did.DID, wsURL string, found bool, err error) {
	var info struct {
		DID string `json:"did"`
	}
	if found, err = fetchOwnJSON(ctx, mediatorPath, &info); !found || err != nil {
		return did.DID{}, "", found, err
	}
	if med, err = did.Parse(info.DID); err != nil {
		return did.DID{}, "", false, fmt.Errorf("%s: %w", mediatorPath, err)
	}
	// The endpoint comes from the DID itself, which the person's
	// correspondents resolve too, not from what else the answer says.
	doc, err := did.Resolve(med)
	if err != nil {
		return did.DID{}, "", false, fmt.Errorf("the mediator's DID: %w", err)
	}
	for _, svc := range doc.Service {
		if ep, ok := svc.ServiceEndpoint.(map[string]any); ok {
			if uri, _ := ep["uri"].(string); strings.HasPrefix(uri, "ws://") || strings.HasPrefix(uri, "wss://") {
				return med, uri, true, nil
			}
		}
	}
	return did.DID{}, "", false, errors.New("the mediator's DID names no WebSocket endpoint")
}

// postDIDComm is the Poster of mediation.Send in the browser: fetch.
func postDIDComm(ctx context.Context, uri string, msg []byte) error {
	_, err := browser.Post(ctx, uri, didcomm.EncryptedMediaType, msg, 64<<10)
	var pe *browser.PostError
	if errors.As(err, &pe) {
		return &mediation.HTTPError{URI: uri, Status: pe.Status, Message: pe.Body}
	}
	return err
}

// statusJS is what network.status() says of the mediator.
func (t *tabDIDComm) statusJS() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]any{"state": t.state}
	if t.err != "" {
		out["error"] = t.err
	}
	return out
}
