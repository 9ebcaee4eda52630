//go:build js && wasm

package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"planet/wasm/browser"
)

// Receive and send bounds of one WebSocket connection.
//
// Go hands control back to JavaScript only once every goroutine is idle,
// so the reader of a healthy connection drains what arrived before the
// next message is delivered; maxUnread only trips when the reader is stuck, and
// then the connection ends with an error instead of growing the heap, which
// under wasm never shrinks.
const (
	maxUnread = 4 << 20   // bytes received and not yet read
	sendChunk = 128 << 10 // largest message sent: Noise frames are smaller
	highWater = 1 << 20   // a Write waits while the browser holds this much unsent
)

// errOverflow ends a connection whose reader fell too far behind; it is
// also what browser.BytesFromJS returns past the room left.
var errOverflow = browser.ErrTooLarge

// errPeerClosed is what writes return once the other side closed cleanly.
var errPeerClosed = errors.New("closed by the other side")

var jsWebSocket = browser.Global("WebSocket")

// WebSocket is a libp2p transport over the browser's WebSocket API. It
// dials /ws, /wss and /tls/ws multiaddrs (/ip4, /ip6, /dns, /dns4 or /dns6,
// then /tcp) and secures each connection with the upgrader given to
// [NewWebSocket] (Noise, then yamux). It cannot listen: a page has no way
// to accept connections.
//
// The browser resolves DNS names itself and checks /wss certificates
// against its own trust store; a page served over https may only open
// /wss (or loopback /ws) connections.
type WebSocket struct {
	upgrader transport.Upgrader
	rcmgr    network.ResourceManager
}

var (
	_ transport.Transport    = (*WebSocket)(nil)
	_ transport.SkipResolver = (*WebSocket)(nil)
)

// NewWebSocket returns the WebSocket transport, upgrading connections with
// u and accounting them to rcmgr (nil for none).
func NewWebSocket(u transport.Upgrader, rcmgr network.ResourceManager) (*WebSocket, error) {
	if !browser.Present(jsWebSocket) {
		return nil, errors.New("websocket: this browser has no WebSocket")
	}
	if rcmgr == nil {
		rcmgr = &network.NullResourceManager{}
	}
	return &WebSocket{upgrader: u, rcmgr: rcmgr}, nil
}

// Dial opens a WebSocket to raddr and upgrades it to a secured,
// multiplexed connection with peer p.
func (t *WebSocket) Dial(ctx context.Context, raddr ma.Multiaddr, p peer.ID) (transport.CapableConn, error) {
	scope, err := t.rcmgr.OpenConnection(network.DirOutbound, true, raddr)
	if err != nil {
		return nil, err
	}
	c, err := dialWebSocket(ctx, raddr)
	if err != nil {
		scope.Done()
		return nil, err
	}
	cc, err := t.upgrader.Upgrade(ctx, t, c, network.DirOutbound, p, scope)
	if err != nil { // the upgrader has closed c and released scope
		return nil, err
	}
	return namedConn{cc, "websocket"}, nil
}

// CanDial reports whether addr is a WebSocket multiaddr this transport can dial.
func (t *WebSocket) CanDial(addr ma.Multiaddr) bool {
	_, err := parseWebSocketAddr(addr)
	return err == nil
}

// SkipResolve tells the swarm not to resolve DNS names: the browser does.
func (t *WebSocket) SkipResolve(context.Context, ma.Multiaddr) bool { return true }

// Listen fails: a browser cannot accept connections.
func (t *WebSocket) Listen(ma.Multiaddr) (transport.Listener, error) {
	return nil, errors.New("websocket: a browser cannot listen")
}

// Protocols returns the multiaddr protocols the transport handles.
func (t *WebSocket) Protocols() []int { return []int{ma.P_WS, ma.P_WSS} }

// Proxy reports false: the transport reaches peers directly.
func (t *WebSocket) Proxy() bool { return false }

// namedConn reports the transport's name in the connection's state, as
// go-libp2p's own transports do.
type namedConn struct {
	transport.CapableConn
	name string
}

func (c namedConn) ConnState() network.ConnectionState {
	s := c.CapableConn.ConnState()
	s.Transport = c.name
	return s
}

// wsAddr is a WebSocket multiaddr taken apart.
type wsAddr struct {
	url    string // ws://host:port/ or wss://host:port/
	secure bool
	ip6    bool
}

// parseWebSocketAddr checks that a is /ip4|ip6|dns|dns4|dns6/…/tcp/N
// followed by /ws, /wss, /tls/ws or /tls/sni/NAME/ws, optionally ending in
// /p2p/ID, and returns the URL the browser should open.
func parseWebSocketAddr(a ma.Multiaddr) (wsAddr, error) {
	var w wsAddr
	bad := func(why string) (wsAddr, error) {
		return wsAddr{}, fmt.Errorf("websocket: %s is not a WebSocket address: %s", a, why)
	}
	if len(a) > 0 && a[len(a)-1].Code() == ma.P_P2P {
		a = a[:len(a)-1]
	}
	if len(a) < 3 {
		return bad("too short")
	}
	var host string
	switch c := a[0]; c.Code() {
	case ma.P_IP4, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		host = c.Value()
	case ma.P_IP6:
		host, w.ip6 = "["+c.Value()+"]", true
	default:
		return bad("no IP address or DNS name first")
	}
	if a[1].Code() != ma.P_TCP {
		return bad("no TCP port")
	}
	port := a[1].Value()
	rest := a[2:]
	switch {
	case len(rest) == 1 && rest[0].Code() == ma.P_WS:
	case len(rest) == 1 && rest[0].Code() == ma.P_WSS:
		w.secure = true
	case len(rest) == 2 && rest[0].Code() == ma.P_TLS && rest[1].Code() == ma.P_WS:
		w.secure = true
	case len(rest) == 3 && rest[0].Code() == ma.P_TLS && rest[1].Code() == ma.P_SNI && rest[2].Code() == ma.P_WS:
		// The browser cannot set the TLS server name apart from the
		// host it connects to, so it connects to the name.
		w.secure, host, w.ip6 = true, rest[1].Value(), false
	default:
		return bad("no /ws, /wss or /tls/ws after the port")
	}
	scheme := "ws"
	if w.secure {
		scheme = "wss"
	}
	w.url = scheme + "://" + host + ":" + port + "/"
	return w, nil
}

// wsConn is one browser WebSocket seen as a byte stream (a manet.Conn),
// ready for the upgrader. Messages are binary; their boundaries carry no
// meaning.
type wsConn struct {
	ws       safejs.Value
	handlers browser.Handlers // released on Close
	url      string
	laddr    ma.Multiaddr
	raddr    ma.Multiaddr
	opened   chan struct{} // closed by the open event
	gone     chan struct{} // closed by the close event

	mu        sync.Mutex
	recv      [][]byte      // messages received and not yet fully read
	unread    int           // bytes in recv
	rerr      error         // what Read returns once recv is empty
	closeCode int           // of the close event, once it came
	werr      error         // what Write returns, once the socket is closing
	notify    chan struct{} // capacity 1: data arrived or the socket ended

	wmu     sync.Mutex   // one Write at a time
	sendBuf safejs.Value // a Uint8Array of sendChunk bytes, reused

	readDL, writeDL *deadline
	closeOnce       sync.Once
	closed          chan struct{} // closed by Close
}

var _ manet.Conn = (*wsConn)(nil)

// dialWebSocket opens a WebSocket to a and waits until it is open, failed,
// or ctx ends.
func dialWebSocket(ctx context.Context, a ma.Multiaddr) (*wsConn, error) {
	w, err := parseWebSocketAddr(a)
	if err != nil {
		return nil, err
	}
	local := "/ip4/0.0.0.0/tcp/0/ws"
	if w.ip6 {
		local = "/ip6/::/tcp/0/ws"
	}
	if w.secure {
		local += "s"
	}
	c := &wsConn{
		url:     w.url,
		laddr:   ma.StringCast(local),
		raddr:   a,
		opened:  make(chan struct{}),
		gone:    make(chan struct{}),
		notify:  make(chan struct{}, 1),
		readDL:  newDeadline(),
		writeDL: newDeadline(),
		closed:  make(chan struct{}),
	}
	if c.sendBuf, err = browser.Uint8Array.New(sendChunk); err != nil {
		return nil, err
	}
	if c.ws, err = jsWebSocket.New(w.url); err != nil {
		return nil, fmt.Errorf("websocket %s: %w", w.url, err)
	}
	if err := c.handle(); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket %s: %w", w.url, err)
	}
	select {
	case <-c.opened:
		return c, nil
	case <-c.gone:
		c.mu.Lock()
		code := c.closeCode
		c.mu.Unlock()
		c.Close()
		return nil, fmt.Errorf("websocket %s: could not connect (close code %d)", w.url, code)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("websocket %s: %w", w.url, ctx.Err())
	}
}

// handle installs the event handlers. Each one runs inside the JavaScript
// event loop and only copies, records and signals.
func (c *wsConn) handle() error {
	if err := c.ws.Set("binaryType", "arraybuffer"); err != nil {
		return err
	}
	on := func(event string, f func(safejs.Value)) error {
		return c.handlers.On(c.ws, f, "on"+event)
	}
	if err := on("open", func(safejs.Value) { close(c.opened) }); err != nil {
		return err
	}
	if err := on("message", c.onMessage); err != nil {
		return err
	}
	// An error event carries no detail and is always followed by a close
	// event, which says what happened.
	return on("close", c.onClose)
}

func (c *wsConn) onMessage(ev safejs.Value) {
	c.mu.Lock()
	room := maxUnread - c.unread
	failed := c.rerr != nil
	c.mu.Unlock()
	if failed {
		return
	}
	data, err := ev.Get("data")
	var b []byte
	if err == nil {
		if data.Type() == safejs.TypeString {
			err = errors.New("a text message arrived on a binary connection")
		} else {
			b, err = browser.BytesFromJS(data, room)
		}
	}
	c.mu.Lock()
	if err != nil {
		c.rerr = fmt.Errorf("websocket %s: %w", c.url, err)
		c.werr = c.rerr
		c.recv, c.unread = nil, 0
	} else if len(b) > 0 {
		c.recv = append(c.recv, b)
		c.unread += len(b)
	}
	c.mu.Unlock()
	if err != nil {
		// Codes 4000–4999 are the application's own; close() accepts them.
		c.ws.Call("close", 4000, "receive failed")
	}
	c.signal()
}

func (c *wsConn) onClose(ev safejs.Value) {
	code, reason := browser.Int(ev, "code"), browser.String(ev, "reason")
	c.mu.Lock()
	c.closeCode = code
	if c.rerr == nil {
		if code == 1000 {
			c.rerr, c.werr = io.EOF, fmt.Errorf("websocket %s: %w", c.url, errPeerClosed)
		} else {
			c.rerr = fmt.Errorf("websocket %s: closed with code %d %q", c.url, code, reason)
			c.werr = c.rerr
		}
	}
	c.mu.Unlock()
	close(c.gone)
	c.signal()
}

// signal wakes a waiting reader without ever blocking.
func (c *wsConn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Read reads bytes received, waiting for some if none are buffered.
func (c *wsConn) Read(p []byte) (int, error) {
	for {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
		}
		if c.readDL.passed() {
			return 0, os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		if c.unread > 0 {
			n := 0
			for n < len(p) && len(c.recv) > 0 {
				k := copy(p[n:], c.recv[0])
				n += k
				if k == len(c.recv[0]) {
					c.recv[0] = nil
					c.recv = c.recv[1:]
				} else {
					c.recv[0] = c.recv[0][k:]
				}
			}
			c.unread -= n
			c.mu.Unlock()
			return n, nil
		}
		err := c.rerr
		c.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-c.notify:
		case <-c.readDL.done():
		case <-c.closed:
		}
	}
}

// Write sends p, in messages of at most sendChunk bytes. It waits while
// the browser holds more than highWater bytes unsent (WebSocket has no
// event for a draining buffer, so it polls), so that a fast writer cannot
// fill the browser's memory.
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n := 0
	for len(p) > 0 {
		if err := c.waitWritable(); err != nil {
			return n, err
		}
		chunk := p[:min(len(p), sendChunk)]
		if _, err := safejs.CopyBytesToJS(c.sendBuf, chunk); err != nil {
			return n, err
		}
		view := c.sendBuf
		if len(chunk) < sendChunk {
			var err error
			if view, err = c.sendBuf.Call("subarray", 0, len(chunk)); err != nil {
				return n, err
			}
		}
		// send copies the bytes before returning, so sendBuf is free again.
		if _, err := c.ws.Call("send", view); err != nil {
			return n, fmt.Errorf("websocket %s: %w", c.url, err)
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// waitWritable returns nil once the socket can take more, or the error that
// ends the Write.
func (c *wsConn) waitWritable() error {
	pause := time.Millisecond
	for {
		select {
		case <-c.closed:
			return net.ErrClosed
		default:
		}
		if c.writeDL.passed() {
			return os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		err := c.werr
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if browser.Int(c.ws, "bufferedAmount") < highWater {
			return nil
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-c.writeDL.done():
		case <-c.closed:
		case <-c.gone:
		}
		t.Stop()
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Close closes the socket. Bytes already handed to the browser are still
// sent; reads and writes waiting return net.ErrClosed.
func (c *wsConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		// With the handlers unset the browser calls none of them again.
		c.handlers.Release()
		if !c.ws.IsUndefined() {
			c.ws.Call("close", 1000)
		}
		c.mu.Lock()
		c.recv, c.unread = nil, 0
		c.mu.Unlock()
	})
	return nil
}

func (c *wsConn) LocalAddr() net.Addr                { return urlAddr("") }
func (c *wsConn) RemoteAddr() net.Addr               { return urlAddr(c.url) }
func (c *wsConn) LocalMultiaddr() ma.Multiaddr       { return c.laddr }
func (c *wsConn) RemoteMultiaddr() ma.Multiaddr      { return c.raddr }
func (c *wsConn) SetReadDeadline(t time.Time) error  { c.readDL.set(t); return nil }
func (c *wsConn) SetWriteDeadline(t time.Time) error { c.writeDL.set(t); return nil }

func (c *wsConn) SetDeadline(t time.Time) error {
	c.readDL.set(t)
	c.writeDL.set(t)
	return nil
}

// urlAddr is a browser connection's address as a net.Addr: the URL it
// opened. The local side has none the page may know.
type urlAddr string

func (a urlAddr) Network() string { return "websocket" }
func (a urlAddr) String() string  { return string(a) }
