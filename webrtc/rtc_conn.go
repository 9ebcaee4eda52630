//go:build js && wasm

package webrtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	ma "github.com/multiformats/go-multiaddr"

	"planet/wasm/browser"
)

const (
	// maxPendingStreams bounds the streams the other side opened and
	// nobody accepted yet; beyond it, new channels are closed at once.
	maxPendingStreams = 64
	// disconnectGrace is how long a connection may stay "disconnected"
	// (ICE lost the other side, which may come back) before it counts as
	// ended, so that messages go another way instead of waiting.
	disconnectGrace = 5 * time.Second
)

var jsRTCPeerConnection = browser.Global("RTCPeerConnection")

// rtcConn is one RTCPeerConnection as a libp2p connection: each stream is
// a data channel of its own. The connection is authenticated by the way it
// was made (its SDP travelled over a Noise-secured libp2p connection with
// the same peer, and DTLS keys it to that exchange), so there is no
// handshake on top.
type rtcConn struct {
	t         *WebRTC
	pc        safejs.Value
	handlers  browser.Handlers            // on pc and its SCTP transport; released by Close
	scope     network.ConnManagementScope // released by Close
	local     peer.ID
	remote    peer.ID
	remoteKey crypto.PubKey
	laddr     ma.Multiaddr
	raddr     ma.Multiaddr

	incoming  chan *rtcStream // opened by the other side, not yet accepted
	connected chan struct{}   // closed once ICE and DTLS are up
	adopted   chan struct{}   // closed when the swarm first accepts a stream
	ctx       context.Context // ends with Close or when the connection fails
	cancel    context.CancelFunc

	mu        sync.Mutex
	streams   map[*rtcStream]struct{}
	state     string // the last connectionState
	lostTimer *time.Timer
	why       error // why the connection ended, if it did
	closeOnce sync.Once
	adoptOnce sync.Once
}

var _ transport.CapableConn = (*rtcConn)(nil)

// newRTCConn creates the RTCPeerConnection and listens to it: channels
// the other side opens are queued as streams from the first moment, and
// a failed or closed connection ends the conn.
func newRTCConn(t *WebRTC, local, remote peer.ID, remoteKey crypto.PubKey, raddr ma.Multiaddr) (*rtcConn, error) {
	config, err := browser.Object.New()
	if err != nil {
		return nil, err
	}
	servers, err := browser.Array.New()
	if err != nil {
		return nil, err
	}
	for _, url := range t.iceServers {
		s, err := browser.Object.New()
		if err != nil {
			return nil, err
		}
		if err := s.Set("urls", url); err != nil {
			return nil, err
		}
		if _, err := servers.Call("push", s); err != nil {
			return nil, err
		}
	}
	if err := config.Set("iceServers", servers); err != nil {
		return nil, err
	}
	pc, err := jsRTCPeerConnection.New(config)
	if err != nil {
		return nil, fmt.Errorf("webrtc: new RTCPeerConnection: %w", err)
	}
	c := &rtcConn{
		t:         t,
		pc:        pc,
		local:     local,
		remote:    remote,
		remoteKey: remoteKey,
		laddr:     ma.StringCast("/webrtc"),
		raddr:     raddr,
		incoming:  make(chan *rtcStream, maxPendingStreams),
		connected: make(chan struct{}),
		adopted:   make(chan struct{}),
		streams:   map[*rtcStream]struct{}{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	handlers := map[string]func(safejs.Value){
		"ondatachannel":           c.channelOpened,
		"onconnectionstatechange": func(safejs.Value) { c.stateChanged() },
	}
	for name, h := range handlers {
		if err := c.handlers.On(pc, h, name); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// watchSCTP ends the connection when its SCTP association closes: the
// other side closed its RTCPeerConnection, which ICE would only notice
// seconds later.
func (c *rtcConn) watchSCTP() {
	sctp, err := c.pc.Get("sctp")
	if err != nil || !browser.Present(sctp) {
		return
	}
	// Once Close released the handlers, On installs nothing.
	c.handlers.On(sctp, func(safejs.Value) {
		if browser.String(sctp, "state") == "closed" {
			go c.end(errors.New("webrtc: the other side closed the connection"))
		}
	}, "onstatechange")
}

// channelOpened handles a data channel the other side opened. The
// dialer's "init" channel only served to start ICE: it is left for the
// dialer to close (closing it here before the dialer saw it open can
// leave a dialer waiting for it, as js-libp2p's does).
func (c *rtcConn) channelOpened(ev safejs.Value) {
	ch, err := ev.Get("channel")
	if err != nil {
		return
	}
	if browser.String(ch, "label") == "init" {
		return
	}
	if c.IsClosed() {
		ch.Call("close")
		return
	}
	s, err := newRTCStream(ch, c.streamEnded)
	if err != nil {
		ch.Call("close")
		return
	}
	c.mu.Lock()
	c.streams[s] = struct{}{}
	c.mu.Unlock()
	select {
	case c.incoming <- s:
	default: // too many streams waiting to be accepted
		s.mu.Lock()
		s.resetLocked(errors.New("webrtc: too many streams waiting"), true)
		s.mu.Unlock()
	}
}

// stateChanged follows connectionState: "connected" lets the handshake
// finish; "failed" and "closed" end the connection; "disconnected" ends
// it unless it recovers within disconnectGrace.
func (c *rtcConn) stateChanged() {
	state := browser.String(c.pc, "connectionState")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = state
	if c.lostTimer != nil {
		c.lostTimer.Stop()
		c.lostTimer = nil
	}
	switch state {
	case "connected":
		select {
		case <-c.connected:
		default:
			close(c.connected)
			go c.watchSCTP()
		}
	case "disconnected":
		c.lostTimer = time.AfterFunc(disconnectGrace, func() {
			c.mu.Lock()
			lost := c.state == "disconnected"
			c.mu.Unlock()
			if lost {
				c.end(errors.New("webrtc: the other side is unreachable"))
			}
		})
	case "failed", "closed":
		go c.end(fmt.Errorf("webrtc: the connection %s", state))
	}
}

// end closes the connection because of why.
func (c *rtcConn) end(why error) {
	c.mu.Lock()
	if c.why == nil {
		c.why = why
	}
	c.mu.Unlock()
	c.Close()
}

func (c *rtcConn) streamEnded(s *rtcStream) {
	c.mu.Lock()
	delete(c.streams, s)
	c.mu.Unlock()
}

// OpenStream opens a data channel. It returns at once; writes wait for
// the channel to open.
func (c *rtcConn) OpenStream(ctx context.Context) (network.MuxedStream, error) {
	if c.IsClosed() {
		return nil, c.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The spec wants an empty label; the protocol is negotiated on the
	// stream with multistream-select, as on any other.
	ch, err := c.pc.Call("createDataChannel", "")
	if err != nil {
		return nil, fmt.Errorf("webrtc: opening a data channel: %w", err)
	}
	s, err := newRTCStream(ch, c.streamEnded)
	if err != nil {
		ch.Call("close")
		return nil, err
	}
	c.mu.Lock()
	c.streams[s] = struct{}{}
	c.mu.Unlock()
	return s, nil
}

// AcceptStream waits for the other side to open a stream.
func (c *rtcConn) AcceptStream() (network.MuxedStream, error) {
	c.adoptOnce.Do(func() { close(c.adopted) })
	select {
	case s := <-c.incoming:
		return s, nil
	case <-c.ctx.Done():
		return nil, c.closedErr()
	}
}

func (c *rtcConn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.why != nil {
		return fmt.Errorf("%w: %w", net.ErrClosed, c.why)
	}
	return net.ErrClosed
}

// Close ends the peer connection and every stream on it.
func (c *rtcConn) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.mu.Lock()
		streams := make([]*rtcStream, 0, len(c.streams))
		for s := range c.streams {
			streams = append(streams, s)
		}
		if c.lostTimer != nil {
			c.lostTimer.Stop()
		}
		c.mu.Unlock()
		for _, s := range streams {
			s.channelClosed(errConnGone)
		}
		c.handlers.Release()
		c.pc.Call("close")
		if c.scope != nil {
			c.scope.Done()
		}
	})
	return nil
}

// CloseWithError closes the connection; WebRTC carries no libp2p code.
func (c *rtcConn) CloseWithError(network.ConnErrorCode) error { return c.Close() }

// IsClosed reports whether the connection was closed or has failed.
func (c *rtcConn) IsClosed() bool { return c.ctx.Err() != nil }

// As exposes nothing: the connection lives in JavaScript.
func (c *rtcConn) As(any) bool { return false }

func (c *rtcConn) LocalPeer() peer.ID             { return c.local }
func (c *rtcConn) RemotePeer() peer.ID            { return c.remote }
func (c *rtcConn) RemotePublicKey() crypto.PubKey { return c.remoteKey }
func (c *rtcConn) LocalMultiaddr() ma.Multiaddr   { return c.laddr }
func (c *rtcConn) RemoteMultiaddr() ma.Multiaddr  { return c.raddr }
func (c *rtcConn) Scope() network.ConnScope       { return c.scope }
func (c *rtcConn) Transport() transport.Transport { return c.t }

// ConnState names the transport; DTLS secures it and data channels are
// its streams.
func (c *rtcConn) ConnState() network.ConnectionState {
	return network.ConnectionState{Transport: "webrtc"}
}
