//go:build js && wasm

package webrtc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	blankhost "github.com/libp2p/go-libp2p/p2p/host/blank"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/net/upgrader"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	ma "github.com/multiformats/go-multiaddr"
	mstream "github.com/multiformats/go-multistream"

	"planet/wasm/browser"
)

// UserAgent is what the host tells peers about itself in identify, unless
// [WithUserAgent] says otherwise.
const UserAgent = "planet"

// Option adjusts the host [NewHost] builds.
type Option func(*config)

type config struct {
	userAgent  string
	limits     rcmgr.ConcreteLimitConfig
	iceServers []string
}

// WithUserAgent sets the agent string the host announces through identify.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

// WithLimits replaces [TabLimits] as the resource manager's limits.
func WithLimits(l rcmgr.ConcreteLimitConfig) Option {
	return func(c *config) { c.limits = l }
}

// WithICEServers gives browser-to-browser WebRTC STUN or TURN servers
// (their URLs) for finding a way between two browsers on different
// networks.
func WithICEServers(urls ...string) Option {
	return func(c *config) { c.iceServers = urls }
}

// TabLimits are the resource limits of a host living in a browser tab:
// go-libp2p's base limits (those of a machine with little memory), with
// the whole host held to 64 connections, 512 streams and 64 MiB of buffers.
// A tab talks to a relay and a few dozen people at most, and the heap of a
// wasm program never shrinks, so a peer that asks for more is refused.
func TabLimits() rcmgr.ConcreteLimitConfig {
	l := rcmgr.DefaultLimits
	l.SystemBaseLimit = rcmgr.BaseLimit{
		ConnsInbound:    32,
		ConnsOutbound:   64,
		Conns:           64,
		StreamsInbound:  256,
		StreamsOutbound: 512,
		Streams:         512,
		Memory:          64 << 20,
		FD:              64,
	}
	return l.Scale(0, 0)
}

// NewHost builds the libp2p host of a browser tab, with identity priv:
//
//   - a swarm whose connections are secured with Noise and multiplexed
//     with yamux (go-libp2p's own upgrader);
//   - the [WebSocket] and (where the browser has it) [WebTransport]
//     transports, which dial only, and the circuit relay v2 client, so
//     that the host can reserve a slot on a relay (client.Reserve) and
//     dial or accept /p2p-circuit connections through it;
//   - browser-to-browser [WebRTC] over those relayed connections
//     ([ConnectWebRTC] makes one; the other side's come by themselves);
//   - identify and ping;
//   - a resource manager with [TabLimits].
//
// It is go-libp2p's blank host, not its basic host: a tab has no use for
// NAT port mapping, AutoNAT or hole punching, which would cost about
// 0.5 MB of brotli-compressed download. ctx bounds the construction only;
// Close stops the host.
func NewHost(ctx context.Context, priv crypto.PrivKey, opts ...Option) (host.Host, error) {
	cfg := config{userAgent: UserAgent, limits: TabLimits()}
	for _, o := range opts {
		o(&cfg)
	}
	if priv == nil {
		return nil, errors.New("host: no private key")
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	h := &tabHost{}
	ok := false
	defer func() {
		if !ok {
			h.Close()
		}
	}()
	if h.ps, err = pstoremem.NewPeerstore(); err != nil {
		return nil, fmt.Errorf("host: peerstore: %w", err)
	}
	if err := h.ps.AddPrivKey(id, priv); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	if err := h.ps.AddPubKey(id, priv.GetPublic()); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	if h.rm, err = rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(cfg.limits)); err != nil {
		return nil, fmt.Errorf("host: resource manager: %w", err)
	}
	bus := eventbus.NewBus()
	if h.sw, err = swarm.NewSwarm(id, h.ps, bus, swarm.WithResourceManager(h.rm)); err != nil {
		return nil, fmt.Errorf("host: swarm: %w", err)
	}
	muxers := []upgrader.StreamMuxer{{ID: yamux.ID, Muxer: yamux.DefaultTransport}}
	secure, err := noise.New(noise.ID, priv, muxers)
	if err != nil {
		return nil, fmt.Errorf("host: noise: %w", err)
	}
	up, err := upgrader.New([]sec.SecureTransport{secure}, muxers, nil, h.rm, nil)
	if err != nil {
		return nil, fmt.Errorf("host: upgrader: %w", err)
	}
	ws, err := NewWebSocket(up, h.rm)
	if err != nil {
		return nil, err
	}
	if err := h.sw.AddTransport(ws); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	if browser.Present(jsWebTransport) {
		wt, err := NewWebTransport(priv, h.rm)
		if err != nil {
			return nil, err
		}
		if err := h.sw.AddTransport(wt); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
	}
	bh := blankhost.NewBlankHost(h.sw, blankhost.WithEventBus(bus))
	if bh == nil {
		return nil, errors.New("host: the blank host refused to start")
	}
	h.BlankHost = bh
	if h.ids, err = identify.NewIDService(h, identify.UserAgent(cfg.userAgent)); err != nil {
		return nil, fmt.Errorf("host: identify: %w", err)
	}
	h.ids.Start()
	ping.NewPingService(h)
	if err := client.AddTransport(h, up); err != nil {
		return nil, fmt.Errorf("host: circuit relay client: %w", err)
	}
	if browser.Present(jsRTCPeerConnection) {
		if h.rtc, err = NewWebRTC(h, h.rm, cfg.iceServers); err != nil {
			return nil, err
		}
		if err := h.sw.AddTransport(h.rtc); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		if err := h.sw.Listen(ma.StringCast("/webrtc")); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ok = true
	return h, nil
}

// tabHost is the blank host with the services it runs, so that Close
// stops them all.
type tabHost struct {
	*blankhost.BlankHost
	ps  peerstore.Peerstore
	rm  network.ResourceManager
	sw  *swarm.Swarm
	ids identify.IDService
	rtc *WebRTC // nil where the browser has no WebRTC
}

// ConnectWebRTC makes a direct WebRTC connection from h, a host built by
// [NewHost], to p, over the connection h already has with p through a
// relay (see [WebRTC.Connect]).
func ConnectWebRTC(ctx context.Context, h host.Host, p peer.ID) error {
	th, ok := h.(*tabHost)
	if !ok || th.rtc == nil {
		return errors.New("webrtc: this host cannot make WebRTC connections")
	}
	return th.rtc.Connect(ctx, p)
}

// AdmitWebRTC makes h, a host built by [NewHost], answer WebRTC
// signalling only from the peers admit accepts (see [WebRTC.SetAdmit]).
func AdmitWebRTC(h host.Host, admit func(peer.ID) bool) error {
	th, ok := h.(*tabHost)
	if !ok {
		return errors.New("webrtc: not a tab's host")
	}
	if th.rtc != nil {
		th.rtc.SetAdmit(admit)
	}
	return nil
}

// NewStream opens a stream to p and negotiates one of protos on it, all
// within ctx. The blank host's own NewStream gives the negotiation no
// deadline, so a stream whose other side never answers would hold its
// caller for good; here ctx's deadline bounds it, and ctx ending resets it.
func (h *tabHost) NewStream(ctx context.Context, p peer.ID, protos ...protocol.ID) (network.Stream, error) {
	s, err := h.Network().NewStream(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("failed to open stream: %w", err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		s.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	selected, err := mstream.SelectOneOf(protos, s)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("failed to negotiate protocol: %w", err)
	}
	s.SetDeadline(time.Time{})
	s.SetProtocol(selected)
	h.Peerstore().AddProtocols(p, selected)
	return s, nil
}

// Close stops identify, closes every connection and transport, then the
// resource manager and the peerstore.
func (h *tabHost) Close() error {
	var errs []error
	if h.ids != nil {
		errs = append(errs, h.ids.Close())
	}
	if h.sw != nil {
		errs = append(errs, h.sw.Close()) // closes the transports too
	}
	if h.rm != nil {
		errs = append(errs, h.rm.Close())
	}
	if h.ps != nil {
		errs = append(errs, h.ps.Close())
	}
	return errors.Join(errs...)
}
