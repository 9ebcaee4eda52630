//go:build js && wasm

package webrtc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	ma "github.com/multiformats/go-multiaddr"

	"planet/wasm/browser"
)

// SignalingProtocol carries the SDP offer, answer and ICE candidates of a
// browser-to-browser WebRTC connection over a relayed connection.
const SignalingProtocol = "/webrtc-signaling/0.0.1"

// signalingTimeout bounds the making of one connection, on either side.
const signalingTimeout = 20 * time.Second

// ErrNoRelayedConn is what [WebRTC.Connect] returns when there is no
// connection to the peer to signal over.
var ErrNoRelayedConn = errors.New("webrtc: no connection to the peer to signal over (connect through a relay first)")

var jsRTCIceCandidate = browser.Global("RTCIceCandidate")

// WebRTC is browser-to-browser WebRTC per the libp2p WebRTC spec. Two
// tabs, each holding a reservation on a relay and connected to each other
// through it, exchange an SDP offer and answer and their ICE candidates
// over SignalingProtocol on the relayed connection; the browsers then
// connect directly, and each libp2p stream is a data channel of its own.
// A tab's WebRTC address is <relay>/p2p-circuit/webrtc/p2p/<tab>.
//
// go-libp2p's swarm sends every address with /p2p-circuit to the relay
// transport, so WebRTC connections are not dialled through the swarm:
// [WebRTC.Connect] makes one over an existing relayed connection. Both the
// connections it makes and those the other side makes come into the swarm
// through the transport's listener (/webrtc); the swarm lists them all as
// inbound, whoever started them.
type WebRTC struct {
	h          host.Host
	rcmgr      network.ResourceManager
	iceServers []string

	mu       sync.Mutex
	listener *rtcListener
	// admit decides whose signalling is answered (nil: everyone's); see
	// SetAdmit. offered are the peers this side itself sent an offer to.
	admit   func(peer.ID) bool
	offered map[peer.ID]bool
}

var _ transport.Transport = (*WebRTC)(nil)

// NewWebRTC returns the transport for h and answers SignalingProtocol on
// h. iceServers are STUN or TURN URLs for the browser's ICE; with none,
// only the addresses of the machine itself are tried (enough on one
// network).
func NewWebRTC(h host.Host, rcmgr network.ResourceManager, iceServers []string) (*WebRTC, error) {
	if !browser.Present(jsRTCPeerConnection) {
		return nil, errors.New("webrtc: this browser has no RTCPeerConnection")
	}
	if rcmgr == nil {
		rcmgr = &network.NullResourceManager{}
	}
	t := &WebRTC{h: h, rcmgr: rcmgr, iceServers: iceServers}
	h.SetStreamHandler(SignalingProtocol, t.answer)
	return t, nil
}

// SetAdmit makes the transport answer signalling only from the peers
// admit accepts, and from those it offered a connection to itself (they
// have its addresses already). Answering signalling sends the tab's
// addresses (its ICE candidates) to the other side, so a tab must not
// answer just anyone: PLANET admits the person's contacts and the people
// they are connecting with (core/p2p.Node.AnswersSignaling). A refused
// stream is reset before anything is read or sent. admit must not block
// for long: it runs on the stream's goroutine. nil answers everyone.
func (t *WebRTC) SetAdmit(admit func(peer.ID) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.admit = admit
}

// admits reports whether signalling from p is answered.
func (t *WebRTC) admits(p peer.ID) bool {
	t.mu.Lock()
	admit, offered := t.admit, t.offered[p]
	t.mu.Unlock()
	return admit == nil || offered || admit(p)
}

// CanDial reports false: the swarm cannot dial through a relay and then
// WebRTC (see [WebRTC]); [WebRTC.Connect] does.
func (t *WebRTC) CanDial(ma.Multiaddr) bool { return false }

// Dial fails: see [WebRTC.Connect].
func (t *WebRTC) Dial(context.Context, ma.Multiaddr, peer.ID) (transport.CapableConn, error) {
	return nil, errors.New("webrtc: connections are made with WebRTC.Connect, over a relayed connection")
}

// Listen on /webrtc hands the swarm every WebRTC connection made.
func (t *WebRTC) Listen(laddr ma.Multiaddr) (transport.Listener, error) {
	if !laddr.Equal(ma.StringCast("/webrtc")) {
		return nil, fmt.Errorf("webrtc: can only listen on /webrtc, not %s", laddr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.listener != nil {
		return nil, errors.New("webrtc: already listening")
	}
	t.listener = &rtcListener{t: t, conns: make(chan *rtcConn), done: make(chan struct{})}
	return t.listener, nil
}

// Protocols returns the multiaddr protocols the transport handles.
func (t *WebRTC) Protocols() []int { return []int{ma.P_WEBRTC} }

// Proxy reports false: the connection runs directly between the browsers.
func (t *WebRTC) Proxy() bool { return false }

// Connect makes a WebRTC connection to p over the connection the host
// already has with it (through a relay) and returns once the swarm holds
// it; the host's streams to p then prefer it to the relayed one. It
// returns at once if the host already has a WebRTC connection to p.
func (t *WebRTC) Connect(ctx context.Context, p peer.ID) error {
	for _, c := range t.h.Network().ConnsToPeer(p) {
		if c.ConnState().Transport == "webrtc" && !c.IsClosed() {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, signalingTimeout)
	defer cancel()
	t.mu.Lock()
	if t.offered == nil {
		t.offered = map[peer.ID]bool{}
	}
	t.offered[p] = true
	t.mu.Unlock()
	sctx := network.WithNoDial(network.WithAllowLimitedConn(ctx, "webrtc signaling"), "webrtc signaling")
	s, err := t.h.NewStream(sctx, p, SignalingProtocol)
	if errors.Is(err, network.ErrNoConn) {
		return ErrNoRelayedConn
	}
	if err != nil {
		return fmt.Errorf("webrtc: signaling stream to %s: %w", p, err)
	}
	c, err := t.negotiate(ctx, s, true)
	if err != nil {
		return fmt.Errorf("webrtc: connecting to %s: %w", p, err)
	}
	if err := t.handOver(ctx, c); err != nil {
		return err
	}
	select {
	case <-c.adopted:
		return nil
	case <-c.ctx.Done():
		return c.closedErr()
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
}

// answer handles a signaling stream: the other side wants a WebRTC
// connection. One from a peer not admitted (see SetAdmit) is reset at
// once: the tab's addresses go only to people it knows.
func (t *WebRTC) answer(s network.Stream) {
	if !t.admits(s.Conn().RemotePeer()) {
		s.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), signalingTimeout)
	defer cancel()
	c, err := t.negotiate(ctx, s, false)
	if err != nil {
		return // negotiate reset the stream
	}
	if err := t.handOver(ctx, c); err != nil {
		c.Close()
	}
}

// handOver gives c to the swarm through the listener.
func (t *WebRTC) handOver(ctx context.Context, c *rtcConn) error {
	t.mu.Lock()
	l := t.listener
	t.mu.Unlock()
	if l == nil {
		c.Close()
		return errors.New("webrtc: not listening on /webrtc")
	}
	select {
	case l.conns <- c:
		return nil
	case <-l.done:
		c.Close()
		return transport.ErrListenerClosed
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
}

// negotiate runs the signaling exchange on s, as the side that offers
// (initiator) or the side that answers, and returns the connection once
// ICE and DTLS are up. s is closed in the end; on failure it is reset and
// nothing is left behind.
func (t *WebRTC) negotiate(ctx context.Context, s network.Stream, initiator bool) (c *rtcConn, err error) {
	relayed := s.Conn()
	dir := network.DirInbound
	if initiator {
		dir = network.DirOutbound
	}
	raddr := relayed.RemoteMultiaddr().Encapsulate(ma.StringCast("/webrtc"))
	scope, err := t.rcmgr.OpenConnection(dir, false, raddr)
	if err != nil {
		s.Reset()
		return nil, err
	}
	if err := scope.SetPeer(relayed.RemotePeer()); err != nil {
		scope.Done()
		s.Reset()
		return nil, err
	}
	c, err = newRTCConn(t, relayed.LocalPeer(), relayed.RemotePeer(), relayed.RemotePublicKey(), raddr)
	if err != nil {
		scope.Done()
		s.Reset()
		return nil, err
	}
	c.scope = scope // Close releases it from here on
	made := c       // c, the result, is nil by the time a failure returns
	defer func() {
		if err != nil {
			made.Close()
			s.Reset()
		}
	}()
	stop := context.AfterFunc(ctx, func() { s.Reset() }) // unblocks reads and writes
	defer stop()

	sig := newSignaler(s)
	defer sig.close()
	var handlers browser.Handlers
	defer handlers.Release()
	err = handlers.On(c.pc, func(ev safejs.Value) {
		cand, err := ev.Get("candidate")
		if err != nil || !browser.Present(cand) || browser.String(cand, "candidate") == "" {
			return // the end of the candidates: nothing to send
		}
		if j, err := cand.Call("toJSON"); err == nil {
			if str, err := browser.JSON.Call("stringify", j); err == nil {
				if data, err := str.String(); err == nil {
					sig.send(signal{typ: signalCandidate, data: data})
				}
			}
		}
	}, "onicecandidate")
	if err != nil {
		return nil, err
	}

	var initCh safejs.Value
	if initiator {
		// A channel, so that the offer has something to gather
		// candidates for; we close it once it is open (below).
		if initCh, err = c.pc.Call("createDataChannel", "init"); err != nil {
			return nil, err
		}
		offer, err := callAwait(ctx, c.pc, "createOffer")
		if err != nil {
			return nil, fmt.Errorf("creating the offer: %w", err)
		}
		sig.send(signal{typ: signalOffer, data: browser.String(offer, "sdp")})
		if _, err := callAwait(ctx, c.pc, "setLocalDescription", offer); err != nil {
			return nil, fmt.Errorf("setting the offer: %w", err)
		}
		answer, err := sig.read(ctx, signalAnswer)
		if err != nil {
			return nil, err
		}
		if err := setRemote(ctx, c.pc, "answer", answer.data); err != nil {
			return nil, err
		}
	} else {
		offer, err := sig.read(ctx, signalOffer)
		if err != nil {
			return nil, err
		}
		if err := setRemote(ctx, c.pc, "offer", offer.data); err != nil {
			return nil, err
		}
		answer, err := callAwait(ctx, c.pc, "createAnswer")
		if err != nil {
			return nil, fmt.Errorf("creating the answer: %w", err)
		}
		sig.send(signal{typ: signalAnswer, data: browser.String(answer, "sdp")})
		if _, err := callAwait(ctx, c.pc, "setLocalDescription", answer); err != nil {
			return nil, fmt.Errorf("setting the answer: %w", err)
		}
	}
	if err := sig.candidatesUntilConnected(ctx, c); err != nil {
		return nil, err
	}
	if initiator {
		closeInitChannel(ctx, initCh)
	}
	sig.flush(ctx)
	s.Close()
	return c, nil
}

// closeInitChannel waits for the init channel to open, closes it and
// waits until it is closed, so that its id is free on both sides before
// streams use the connection. It gives up quietly when ctx ends.
func closeInitChannel(ctx context.Context, ch safejs.Value) {
	changed := make(chan struct{}, 1)
	var handlers browser.Handlers
	defer handlers.Release()
	if err := handlers.Listen(ch, func(safejs.Value) { notify(changed) }, "open", "close"); err != nil {
		return
	}
	for {
		switch browser.String(ch, "readyState") {
		case "open":
			ch.Call("close")
		case "closed":
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// callAwait calls v[method](args...) and awaits the promise it returns.
func callAwait(ctx context.Context, v safejs.Value, method string, args ...any) (safejs.Value, error) {
	p, err := v.Call(method, args...)
	if err != nil {
		return safejs.Value{}, err
	}
	return browser.Await(ctx, p)
}

// setRemote sets the other side's session description.
func setRemote(ctx context.Context, pc safejs.Value, kind, sdp string) error {
	desc, err := browser.Object.New()
	if err == nil {
		err = desc.Set("type", kind)
	}
	if err == nil {
		err = desc.Set("sdp", sdp)
	}
	if err == nil {
		_, err = callAwait(ctx, pc, "setRemoteDescription", desc)
	}
	if err != nil {
		return fmt.Errorf("the other side's %s: %w", kind, err)
	}
	return nil
}

// signaler writes signaling messages in order from one goroutine (the
// candidate handler runs in the browser's event loop and must not wait)
// and reads them from another.
type signaler struct {
	in      chan signal
	readErr error      // set before in is closed
	wrote   chan error // the writer's end

	mu     sync.Mutex
	out    chan signal
	closed bool
}

func newSignaler(s network.Stream) *signaler {
	sig := &signaler{out: make(chan signal, 64), wrote: make(chan error, 1), in: make(chan signal, 16)}
	go func() {
		var err error
		for m := range sig.out {
			if err == nil {
				_, err = s.Write(appendSignal(nil, m))
			}
		}
		sig.wrote <- err
	}()
	go func() {
		defer close(sig.in)
		r := bufio.NewReader(s)
		for {
			m, err := readSignal(r)
			if err != nil {
				sig.readErr = err
				return
			}
			sig.in <- m
		}
	}()
	return sig
}

// send queues m, unless the exchange is over. A connection gathers a
// handful of candidates; should a browser produce more than the queue
// holds, the rest are dropped and ICE works with those sent.
func (sig *signaler) send(m signal) {
	sig.mu.Lock()
	defer sig.mu.Unlock()
	if sig.closed {
		return
	}
	select {
	case sig.out <- m:
	default:
	}
}

// close stops taking messages; the writer ends once it wrote those queued.
func (sig *signaler) close() {
	sig.mu.Lock()
	defer sig.mu.Unlock()
	if !sig.closed {
		sig.closed = true
		close(sig.out)
	}
}

// flush waits until the messages queued so far are written.
func (sig *signaler) flush(ctx context.Context) {
	sig.close()
	select {
	case <-sig.wrote:
	case <-ctx.Done():
	}
}

// read returns the next message, which must be of type typ.
func (sig *signaler) read(ctx context.Context, typ int) (signal, error) {
	select {
	case m, ok := <-sig.in:
		if !ok {
			return signal{}, fmt.Errorf("signaling stream ended: %w", sig.readErr)
		}
		if m.typ != typ {
			return signal{}, fmt.Errorf("signaling: message type %d where %d was due", m.typ, typ)
		}
		return m, nil
	case <-ctx.Done():
		return signal{}, ctx.Err()
	}
}

// candidatesUntilConnected adds the other side's ICE candidates until the
// connection is up. The other side may end the stream once it is
// connected; that is no error while waiting.
func (sig *signaler) candidatesUntilConnected(ctx context.Context, c *rtcConn) error {
	in := sig.in
	for {
		select {
		case <-c.connected:
			return nil
		case <-c.ctx.Done():
			return c.closedErr()
		case <-ctx.Done():
			return fmt.Errorf("no connection: %w", ctx.Err())
		case m, ok := <-in:
			if !ok {
				in = nil // the stream ended; wait for the connection alone
				continue
			}
			if m.typ != signalCandidate {
				return fmt.Errorf("signaling: message type %d where a candidate was due", m.typ)
			}
			if err := addCandidate(ctx, c.pc, m.data); err != nil {
				return err
			}
		}
	}
}

// addCandidate adds one candidate, given as RTCIceCandidate.toJSON() in
// JSON. A candidate the browser cannot use is skipped, as a browser does;
// one that is not even JSON ends the exchange.
func addCandidate(ctx context.Context, pc safejs.Value, data string) error {
	init, err := browser.JSON.Call("parse", data)
	if err != nil {
		return fmt.Errorf("signaling: a candidate that is not JSON: %w", err)
	}
	if !browser.Present(init) || init.Type() == safejs.TypeString {
		return nil // the end of the other side's candidates
	}
	cand, err := jsRTCIceCandidate.New(init)
	if err != nil {
		return nil
	}
	callAwait(ctx, pc, "addIceCandidate", cand)
	return nil
}

// rtcListener hands WebRTC connections, made by either side, to the
// swarm.
type rtcListener struct {
	t     *WebRTC
	conns chan *rtcConn
	done  chan struct{}
	once  sync.Once
}

func (l *rtcListener) Accept() (transport.CapableConn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, transport.ErrListenerClosed
	}
}

func (l *rtcListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.t.mu.Lock()
		if l.t.listener == l {
			l.t.listener = nil
		}
		l.t.mu.Unlock()
	})
	return nil
}

func (l *rtcListener) Addr() net.Addr          { return webrtcAddr{} }
func (l *rtcListener) Multiaddr() ma.Multiaddr { return ma.StringCast("/webrtc") }

// webrtcAddr is the listener's net.Addr: it has no socket of its own.
type webrtcAddr struct{}

func (webrtcAddr) Network() string { return "webrtc" }
func (webrtcAddr) String() string  { return "/webrtc" }
