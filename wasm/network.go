//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/invite"
	"planet/core/mailbox"
	"planet/core/p2p"
	"planet/wasm/browser"
	"planet/webrtc"
)

// The tab's libp2p node. It runs while the vault is unlocked: unlocking
// (create, unlock, import) starts it, locking stops it, since the node
// signs with the identity's key and writes what arrives into the vault.
// It reaches people through the relays the page's own server publishes at
// relayInfoPath; a server without a relay leaves the vault working and the
// network saying why nobody can reach this tab.

// relayInfoPath is where serve publishes its relay's addresses.
const relayInfoPath = "/.well-known/planet/relay.json"

// Where the node stands, as network.status() reports it.
const (
	netOff      = "off"      // the vault is locked
	netStarting = "starting" // reading the relay's addresses, building the host
	netOnline   = "online"   // the node runs (see each relay for whether it is reached)
	netNoRelay  = "no-relay" // the server offers no relay this browser can use
	netFailed   = "failed"   // the node could not start; error says why
)

// errNetworkDown is returned by calls that need the node while it is not
// running.
var errNetworkDown = errors.New("the network is not running")

// errPeerUnreachable is network.ping's failure to reach the peer.
var errPeerUnreachable = errors.New("that peer cannot be reached")

// tabNetwork owns the node of the unlocked vault.
type tabNetwork struct {
	p       *core.Planet
	didcomm *tabDIDComm // the connection to the server's mediator, run beside the node

	mu     sync.Mutex
	cancel context.CancelFunc // nil while stopped
	state  string
	err    string
	node   *p2p.Node
}

func newTabNetwork(p *core.Planet) *tabNetwork {
	n := &tabNetwork{p: p, state: netOff}
	n.didcomm = newTabDIDComm(p, func() *p2p.Node {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.node
	})
	n.watchPageHide()
	n.watchWakeUps()
	return n
}

// watchWakeUps wakes the node (p2p.Node.Wake) when the page may have slept
// and come back: shown again after being in the background, where the
// browser slows its timers; resumed after the browser froze it; or the
// device back online. The node then retries its relay and its queued
// messages at once rather than when a slowed timer says.
func (n *tabNetwork) watchWakeUps() {
	doc := browser.Global("document")
	if !browser.Present(doc) {
		return
	}
	wake := func(safejs.Value) {
		if browser.String(doc, "visibilityState") == "hidden" {
			// The page may be closed from the background unannounced.
			go n.p.Chat().WriteAcknowledged()
			return
		}
		go n.wake() // never wait inside a JavaScript callback
	}
	pageListeners.Listen(doc, wake, "visibilitychange", "resume")
	pageListeners.Listen(global, wake, "online")
}

// pageListeners are the node's listeners on the page, kept for its life.
var pageListeners browser.Handlers

func (n *tabNetwork) wake() {
	n.mu.Lock()
	node := n.node
	n.mu.Unlock()
	if node != nil {
		node.Wake()
	}
}

// start starts the node in the background, if it is not running already.
// It returns at once: it is called from the API's goroutines, and its work
// (a fetch, dials) waits on JavaScript.
func (n *tabNetwork) start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.state, n.err, n.node = cancel, netStarting, "", nil
	go n.run(ctx)
	go n.didcomm.run(ctx)
}

// stop stops the node and closes its host. It does not wait.
func (n *tabNetwork) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	n.cancel, n.state, n.err, n.node = nil, netOff, "", nil
}

// set records how the start went, unless ctx was cancelled meanwhile (the
// vault locked, and perhaps unlocked again with a newer start).
func (n *tabNetwork) set(ctx context.Context, state, err string, node *p2p.Node) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	n.state, n.err, n.node = state, err, node
	return true
}

func (n *tabNetwork) run(ctx context.Context) {
	fail := func(err error) { n.set(ctx, netFailed, sentence(err.Error(), ""), nil) }
	id, err := n.p.Identity()
	if err != nil {
		fail(err)
		return
	}
	priv, err := p2p.PrivateKey(id)
	if err != nil {
		fail(err)
		return
	}
	relays, why, err := relayAddrs(ctx)
	if err != nil {
		fail(fmt.Errorf("could not read the server's relay: %w", err))
		return
	}
	h, err := webrtc.NewHost(ctx, priv)
	if err != nil {
		fail(err)
		return
	}
	// Signalling sends the tab's addresses: only to people the person
	// knows (the core decides), or to whom the tab itself offered; no one
	// until the node is there to ask.
	var answering atomic.Pointer[p2p.Node]
	if err := webrtc.AdmitWebRTC(h, func(p peer.ID) bool {
		node := answering.Load()
		return node != nil && node.AnswersSignaling(p)
	}); err != nil {
		h.Close()
		fail(err)
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	direct := func(ctx context.Context, p peer.ID) error { return webrtc.ConnectWebRTC(ctx, h, p) }
	node, err := p2p.New(&announcingHost{Host: h}, n.p, p2p.Options{Relays: relays, Log: log, Direct: direct, DIDComm: n.didcomm.receive})
	if err != nil {
		h.Close()
		fail(err)
		return
	}
	answering.Store(node)
	state := netOnline
	if len(relays) == 0 {
		state = netNoRelay
	}
	if !n.set(ctx, state, why, node) {
		node.Close()
		h.Close()
		return
	}
	go func() {
		// Run returns when ctx ends, or at once with no relay to keep; the
		// node answers and sends all the same until the vault locks.
		if err := node.Run(ctx); err != nil && ctx.Err() == nil {
			n.set(ctx, netFailed, sentence(err.Error(), ""), nil)
		}
		<-ctx.Done()
		node.Close()
		h.Close()
	}()
}

// settled waits, up to a bound, while the node is starting, so that a call
// made right after unlocking finds it running (and an invitation made then
// carries the node's relays).
func (n *tabNetwork) settled(ctx context.Context) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		starting := n.state == netStarting
		n.mu.Unlock()
		if !starting || !sleepCtx(ctx, 100*time.Millisecond) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// current returns the running node, or an error saying why there is none.
func (n *tabNetwork) current() (*p2p.Node, error) {
	if _, err := n.p.Identity(); err != nil {
		return nil, err // locked: say so, rather than that the node is down
	}
	n.settled(context.Background())
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.node != nil {
		return n.node, nil
	}
	switch n.state {
	case netStarting:
		return nil, fmt.Errorf("%w: it is still starting; try again in a moment", errNetworkDown)
	case netFailed:
		return nil, fmt.Errorf("%w: %s", errNetworkDown, strings.TrimSuffix(n.err, "."))
	}
	return nil, errNetworkDown
}

// watchPageHide writes what chat acknowledged and has not written yet
// when the page goes away, and stops the node when it goes for good (not
// into the back-forward cache), so that relays see the tab leave at once.
func (n *tabNetwork) watchPageHide() {
	pageListeners.Listen(global, func(ev safejs.Value) {
		go n.p.Chat().WriteAcknowledged() // never wait inside a JavaScript callback
		if browser.Bool(ev, "persisted") {
			return
		}
		go n.stop() // never wait inside a JavaScript callback
	}, "pagehide")
}

// relayInfo is the server's /.well-known/planet/relay.json (docs/relay.md).
type relayInfo struct {
	Peer   string   `json:"peer"`
	Addrs  []string `json:"addrs"`
	Relays []string `json:"relays"`
}

// relayAddrs fetches the page's own server's relay addresses and picks, for
// each relay, the one address this browser dials best. With no usable
// relay it returns none and the reason.
func relayAddrs(ctx context.Context) ([]string, string, error) {
	info, found, err := fetchRelayInfo(ctx)
	if err != nil {
		return nil, "", err
	}
	if !found {
		return nil, "This server offers no relay: your vault works, but nobody can reach you through it.", nil
	}
	wt := browser.Present(browser.Global("WebTransport"))
	page := pageProtocol()
	picked := pickRelayAddrs(append(append([]string(nil), info.Addrs...), info.Relays...), wt, page == "https:")
	if len(picked) == 0 {
		return nil, "None of the server's relay addresses can be used by this browser.", nil
	}
	return picked, "", nil
}

// pickRelayAddrs keeps one address per relay peer, the best this browser
// can dial, at most invite.MaxRelays of them (they travel in
// invitations). WebSocket comes first: its address stays the same, while a
// WebTransport address changes with its certificates every few days and
// would go stale in the invitations and contacts that keep it. A page
// served over https may not open plain ws: to another host.
func pickRelayAddrs(addrs []string, webTransport, securePage bool) []string {
	type choice struct {
		addr string
		rank int
	}
	best := map[string]choice{}
	var order []string
	for _, s := range addrs {
		rank := relayAddrRank(s, webTransport, securePage)
		if rank == 0 {
			continue
		}
		m, _ := ma.NewMultiaddr(s)
		pid, err := m.ValueForProtocol(ma.P_P2P)
		if err != nil {
			continue
		}
		c, seen := best[pid]
		if !seen {
			order = append(order, pid)
		}
		if !seen || rank > c.rank {
			best[pid] = choice{s, rank}
		}
	}
	var out []string
	for _, pid := range order {
		if len(out) == invite.MaxRelays {
			break
		}
		out = append(out, best[pid].addr)
	}
	return out
}

// relayAddrRank says how well the browser dials s: 0 not at all, higher better.
func relayAddrRank(s string, webTransport, securePage bool) int {
	if len(s) > invite.MaxRelayLength {
		return 0
	}
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return 0
	}
	has := func(code int) bool { _, err := m.ValueForProtocol(code); return err == nil }
	if has(ma.P_CIRCUIT) || !has(ma.P_P2P) {
		return 0
	}
	switch {
	case has(ma.P_WSS) || (has(ma.P_TLS) && has(ma.P_WS)):
		return 4
	case has(ma.P_WS):
		if securePage && !loopback(m) {
			return 0
		}
		return 3
	case has(ma.P_WEBTRANSPORT) && has(ma.P_CERTHASH):
		if !webTransport {
			return 0
		}
		return 2
	}
	return 0
}

func loopback(m ma.Multiaddr) bool {
	if v, err := m.ValueForProtocol(ma.P_IP4); err == nil {
		return strings.HasPrefix(v, "127.")
	}
	if v, err := m.ValueForProtocol(ma.P_IP6); err == nil {
		return v == "::1"
	}
	for _, code := range []int{ma.P_DNS, ma.P_DNS4, ma.P_DNS6} {
		if v, err := m.ValueForProtocol(code); err == nil {
			return v == "localhost"
		}
	}
	return false
}

// fetchRelayInfo reads relay.json from the page's own origin; found is
// false when the server answers 404 (it runs no relay).
func fetchRelayInfo(ctx context.Context) (info relayInfo, found bool, err error) {
	found, err = fetchOwnJSON(ctx, relayInfoPath, &info)
	return info, found, err
}

// fetchOwnJSON reads the JSON at path on the page's own server into v,
// fresh (no cache) and without cookies; found is false when the server
// answers 404 (it does not offer that part).
func fetchOwnJSON(ctx context.Context, path string, v any) (found bool, err error) {
	fetch := browser.Global("fetch")
	if !browser.Present(fetch) {
		return false, errors.New("this browser has no fetch")
	}
	opts := newObject()
	opts.Set("cache", "no-cache")
	opts.Set("credentials", "omit")
	p, err := fetch.Invoke(path, opts)
	if err != nil {
		return false, err
	}
	resp, err := browser.Await(ctx, p)
	if err != nil {
		return false, err
	}
	switch code := browser.Int(resp, "status"); code {
	case 200:
	case 404:
		return false, nil
	default:
		return false, fmt.Errorf("%s answered %d", path, code)
	}
	tp, err := resp.Call("text")
	if err != nil {
		return false, err
	}
	text, err := browser.Await(ctx, tp)
	if err != nil {
		return false, err
	}
	s, err := text.String()
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// pageProtocol is location.protocol ("http:", "https:").
func pageProtocol() string {
	return browser.String(browser.Global("location"), "protocol")
}

// pageOrigin is location.origin.
func pageOrigin() string {
	return browser.String(browser.Global("location"), "origin")
}

// announcingHost tells the page when something arrived that it may want to
// show: after a chat stream (event planet-chat) or a trust-network stream
// (planet-contacts) was handled, and after each mailbox exchange (both:
// a pickup may have brought either).
type announcingHost struct {
	host.Host
}

func (h *announcingHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, func(s network.Stream) {
		from := s.Conn().RemotePeer()
		if pid == chat.Protocol {
			// A chat stream stays open for the whole conversation: each
			// acknowledgement written on it is a message just kept.
			handler(&chatStream{Stream: s, from: from})
			announceChange("planet-chat", from)
			return
		}
		handler(s)
		announceChange("planet-contacts", from)
	})
}

// chatStream is a chat stream being answered, which tells the page of the
// messages the vault kept as it acknowledges them.
type chatStream struct {
	network.Stream
	from peer.ID
}

func (s *chatStream) Write(b []byte) (int, error) {
	n, err := s.Stream.Write(b)
	if err == nil {
		chatNews.announce(s.from)
	}
	return n, err
}

// chatNewsEvery is the most often the page hears of chat messages kept. The
// page reads the conversation (and the network's status) again at each
// news: at every message of a busy conversation that work would slow the
// conversation itself, and no one reads faster than this.
const chatNewsEvery = 100 * time.Millisecond

// chatNews gathers the news of chat messages kept into one planet-chat
// event per chatNewsEvery, naming the last sender.
var chatNews coalescedNews

type coalescedNews struct {
	mu      sync.Mutex
	pending bool
	from    peer.ID
}

func (c *coalescedNews) announce(from peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.from = from
	if c.pending {
		return
	}
	c.pending = true
	time.AfterFunc(chatNewsEvery, func() {
		c.mu.Lock()
		from := c.from
		c.pending = false
		c.mu.Unlock()
		announceChange("planet-chat", from)
	})
}

func (h *announcingHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil || !mailbox.IsProtocol(string(s.Protocol())) {
		return s, err
	}
	return &mailboxStream{Stream: s}, nil
}

type mailboxStream struct {
	network.Stream
	once sync.Once
}

func (s *mailboxStream) Close() error {
	err := s.Stream.Close()
	s.once.Do(func() {
		announceChange("planet-chat", "")
		announceChange("planet-contacts", "")
	})
	return err
}

// announceChange dispatches name on window with detail {from}: the DID of
// the person the news came from, when known.
func announceChange(name string, from peer.ID) {
	detail := map[string]string{}
	if from != "" {
		if pub, err := from.ExtractPublicKey(); err == nil {
			if raw, err := pub.Raw(); err == nil {
				detail["from"] = did.FromEd25519(raw).String()
			}
		}
	}
	v, err := toJS(detail)
	if err != nil {
		return
	}
	announce(name, v)
}

// statusJS is network.status().
func (n *tabNetwork) statusJS() (any, error) {
	n.mu.Lock()
	state, why, node := n.state, n.err, n.node
	n.mu.Unlock()
	type relayJS struct {
		Addr      string     `json:"addr"`
		Connected bool       `json:"connected"`
		Expires   *time.Time `json:"expires,omitempty"`
		Retry     *time.Time `json:"retry,omitempty"`
		Error     string     `json:"error,omitempty"`
	}
	type connJS struct {
		Peer    string `json:"peer"`
		Addr    string `json:"addr"`
		Relayed bool   `json:"relayed"`
		Kind    string `json:"kind"`
	}
	out := struct {
		State       string    `json:"state"`
		Error       string    `json:"error,omitempty"`
		PeerID      string    `json:"peerId"`
		DID         string    `json:"did"`
		Addresses   []string  `json:"addresses"`
		Relays      []relayJS `json:"relays"`
		Connections []connJS  `json:"connections"`
		// Mediator is the tab's connection to its server's DIDComm
		// mediator, and ShareDID the DID that reaches the person through it.
		Mediator map[string]any `json:"mediator"`
		ShareDID string         `json:"shareDid,omitempty"`
	}{State: state, Error: why, Addresses: []string{}, Relays: []relayJS{}, Connections: []connJS{}, Mediator: n.didcomm.statusJS()}
	if id, err := n.p.Identity(); err == nil {
		out.PeerID, out.DID = id.PeerID().String(), id.DID().String()
	}
	if share, err := n.p.ShareDID(); err == nil {
		out.ShareDID = share.String()
	}
	if node == nil {
		return toJS(out)
	}
	known := map[string]p2p.RelayStatus{}
	for _, s := range node.Status() {
		known[s.Addr] = s
	}
	for _, addr := range node.Relays() {
		r := relayJS{Addr: addr}
		if s, ok := known[addr]; ok {
			r.Connected, r.Error = s.Connected, s.Err
			if !s.Expires.IsZero() {
				r.Expires = &s.Expires
			}
			if !s.Retry.IsZero() {
				r.Retry = &s.Retry
			}
		}
		out.Relays = append(out.Relays, r)
		if r.Connected {
			// Where others reach this tab: WebRTC set up through the relay,
			// or the relay itself.
			for _, via := range []string{"/p2p-circuit/webrtc/p2p/", "/p2p-circuit/p2p/"} {
				out.Addresses = append(out.Addresses, addr+via+out.PeerID)
			}
		}
	}
	for _, c := range node.Host().Network().Conns() {
		kind := connKind(c)
		out.Connections = append(out.Connections, connJS{
			Peer: c.RemotePeer().String(), Addr: c.RemoteMultiaddr().String(),
			Relayed: kind == connRelayed, Kind: kind,
		})
	}
	return toJS(out)
}

// How a connection runs, as the API names it.
const (
	connWebRTC  = "webrtc"  // browser to browser, directly
	connRelayed = "relayed" // through a relay (/p2p-circuit): limited in time and bytes
	connDirect  = "direct"  // straight to the other side (a relay or a server)
)

func connKind(c network.Conn) string {
	if c.ConnState().Transport == "webrtc" {
		return connWebRTC
	}
	if p2p.Relayed(c) { // as chat messages record it
		return connRelayed
	}
	return connDirect
}

// pingJS is network.ping(addr): it reaches the peer at addr (a
// …/p2p-circuit/webrtc/p2p/<peer> address goes through the relay, then
// WebRTC) and pings it once.
func (n *tabNetwork) pingJS(ctx context.Context, addr string) (any, error) {
	node, err := n.current()
	if err != nil {
		return nil, err
	}
	target, err := ma.NewMultiaddr(addr)
	if err != nil {
		return nil, fmt.Errorf("%q is not a multiaddr: %w", addr, errInvalidArg)
	}
	ai, err := peer.AddrInfoFromP2pAddr(target)
	if err != nil {
		return nil, fmt.Errorf("%q names no peer (/p2p/…): %w", addr, errInvalidArg)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h := node.Host()
	viaWebRTC := false
	for i, a := range ai.Addrs {
		if rest, last := ma.SplitLast(a); last != nil && last.Code() == ma.P_WEBRTC {
			ai.Addrs[i], viaWebRTC = rest, true
		}
	}
	if err := h.Connect(network.WithAllowLimitedConn(ctx, "ping"), *ai); err != nil {
		return nil, fmt.Errorf("%w: %v", errPeerUnreachable, err)
	}
	if viaWebRTC {
		if err := node.Direct(ctx, ai.ID); err != nil {
			return nil, fmt.Errorf("%w: %v", errPeerUnreachable, err)
		}
	}
	// A second try on a new stream, as core/p2p does when opening one:
	// Chromium sometimes leaves a new data channel's negotiation hanging.
	var res ping.Result
	for range 2 {
		try, cancel := context.WithTimeout(ctx, 5*time.Second)
		res = <-ping.Ping(try, h, ai.ID)
		cancel()
		if res.Error == nil || ctx.Err() != nil {
			break
		}
	}
	if res.Error != nil {
		return nil, fmt.Errorf("%w: %v", errPeerUnreachable, res.Error)
	}
	// Streams take a connection that is not limited first, as ping did.
	kind := ""
	for _, c := range h.Network().ConnsToPeer(ai.ID) {
		if kind == "" || !c.Stat().Limited {
			kind = connKind(c)
		}
	}
	return toJS(map[string]any{"ms": float64(res.RTT.Microseconds()) / 1000, "kind": kind})
}
