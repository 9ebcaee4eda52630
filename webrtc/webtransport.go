//go:build js && wasm

package webrtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/security/noise/pb"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multihash"

	"planet/wasm/browser"
)

// webTransportPath is the HTTP endpoint of the libp2p WebTransport spec;
// type=noise asks the server to authenticate with Noise.
const webTransportPath = "/.well-known/libp2p-webtransport?type=noise"

var jsWebTransport = browser.Global("WebTransport")

// WebTransport is a libp2p transport over the browser's WebTransport API,
// following the libp2p WebTransport spec. It dials
// /ip4|ip6|dns*/…/udp/N/quic-v1/webtransport/certhash/… multiaddrs:
//
//   - the browser opens the HTTP/3 session itself, trusting the server's
//     self-signed certificate only if its SHA-256 hash is one of the
//     multiaddr's certhashes (serverCertificateHashes);
//   - on the first bidirectional stream the two peers run a Noise XX
//     handshake, in which the server sends the hashes of all its current
//     certificates; every certhash the browser dialed with must be among
//     them, which binds the TLS session to the peer's libp2p key;
//   - every libp2p stream is then one WebTransport bidirectional stream:
//     QUIC encrypts and multiplexes, no yamux or Noise framing on top.
//
// It cannot listen: a page has no way to accept sessions.
type WebTransport struct {
	noise *noise.Transport
	rcmgr network.ResourceManager
}

var (
	_ transport.Transport    = (*WebTransport)(nil)
	_ transport.SkipResolver = (*WebTransport)(nil)
)

// NewWebTransport returns the WebTransport transport for the host whose
// identity is priv, accounting connections to rcmgr (nil for none).
func NewWebTransport(priv crypto.PrivKey, rcmgr network.ResourceManager) (*WebTransport, error) {
	if !browser.Present(jsWebTransport) {
		return nil, errors.New("webtransport: this browser has no WebTransport")
	}
	n, err := noise.New(noise.ID, priv, nil)
	if err != nil {
		return nil, fmt.Errorf("webtransport: %w", err)
	}
	if rcmgr == nil {
		rcmgr = &network.NullResourceManager{}
	}
	return &WebTransport{noise: n, rcmgr: rcmgr}, nil
}

// CanDial reports whether addr is a WebTransport multiaddr with at least
// one SHA-256 certhash.
func (t *WebTransport) CanDial(addr ma.Multiaddr) bool {
	_, err := parseWebTransportAddr(addr)
	return err == nil
}

// SkipResolve tells the swarm not to resolve DNS names: the browser does.
func (t *WebTransport) SkipResolve(context.Context, ma.Multiaddr) bool { return true }

// Listen fails: a browser cannot accept sessions.
func (t *WebTransport) Listen(ma.Multiaddr) (transport.Listener, error) {
	return nil, errors.New("webtransport: a browser cannot listen")
}

// Protocols returns the multiaddr protocols the transport handles.
func (t *WebTransport) Protocols() []int { return []int{ma.P_WEBTRANSPORT} }

// Proxy reports false: the transport reaches peers directly.
func (t *WebTransport) Proxy() bool { return false }

// wtAddr is a WebTransport multiaddr taken apart.
type wtAddr struct {
	url    string
	hashes []multihash.DecodedMultihash // SHA-256 certhashes only
	ip6    bool
}

// parseWebTransportAddr checks that a is /ip4|ip6|dns|dns4|dns6/…/udp/N/
// quic-v1/webtransport, optionally with /sni/NAME after quic-v1, followed
// by certhashes and optionally /p2p/ID. Hashes other than SHA-256 are
// skipped: browsers accept no other.
func parseWebTransportAddr(a ma.Multiaddr) (wtAddr, error) {
	var w wtAddr
	bad := func(why string) (wtAddr, error) {
		return wtAddr{}, fmt.Errorf("webtransport: %s is not a WebTransport address: %s", a, why)
	}
	if len(a) > 0 && a[len(a)-1].Code() == ma.P_P2P {
		a = a[:len(a)-1]
	}
	if len(a) < 4 {
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
	if a[1].Code() != ma.P_UDP || a[2].Code() != ma.P_QUIC_V1 {
		return bad("no /udp/N/quic-v1")
	}
	port := a[1].Value()
	rest := a[3:]
	if rest[0].Code() == ma.P_SNI {
		host, w.ip6 = rest[0].Value(), false // the browser checks the name it connects to
		rest = rest[1:]
	}
	if len(rest) == 0 || rest[0].Code() != ma.P_WEBTRANSPORT {
		return bad("no /webtransport")
	}
	for _, c := range rest[1:] {
		if c.Code() != ma.P_CERTHASH {
			return bad("unexpected /" + c.Protocol().Name)
		}
		_, mh, err := multibase.Decode(c.Value())
		if err != nil {
			return bad("certhash: " + err.Error())
		}
		h, err := multihash.Decode(mh)
		if err != nil {
			return bad("certhash: " + err.Error())
		}
		if h.Code == multihash.SHA2_256 && len(h.Digest) == 32 {
			w.hashes = append(w.hashes, *h)
		}
	}
	if len(w.hashes) == 0 {
		return bad("no SHA-256 certhash")
	}
	w.url = "https://" + host + ":" + port + webTransportPath
	return w, nil
}

// Dial opens a WebTransport session to raddr and authenticates peer p
// with Noise over its first stream.
func (t *WebTransport) Dial(ctx context.Context, raddr ma.Multiaddr, p peer.ID) (transport.CapableConn, error) {
	w, err := parseWebTransportAddr(raddr)
	if err != nil {
		return nil, err
	}
	scope, err := t.rcmgr.OpenConnection(network.DirOutbound, false, raddr)
	if err != nil {
		return nil, err
	}
	if err := scope.SetPeer(p); err != nil {
		scope.Done()
		return nil, err
	}
	c, err := t.dial(ctx, w, raddr, p, scope)
	if err != nil {
		scope.Done()
		return nil, fmt.Errorf("webtransport %s: %w", w.url, err)
	}
	return c, nil
}

func (t *WebTransport) dial(ctx context.Context, w wtAddr, raddr ma.Multiaddr, p peer.ID, scope network.ConnManagementScope) (*wtConn, error) {
	opts, err := certHashOptions(w.hashes)
	if err != nil {
		return nil, err
	}
	session, err := jsWebTransport.New(w.url, opts)
	if err != nil {
		return nil, err
	}
	local := "/ip4/0.0.0.0/udp/0/quic-v1/webtransport"
	if w.ip6 {
		local = "/ip6/::/udp/0/quic-v1/webtransport"
	}
	c := &wtConn{
		t:       t,
		session: session,
		laddr:   ma.StringCast(local),
		raddr:   raddr,
		url:     w.url,
		gone:    make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			c.closeSession()
		}
	}()
	closed, err := session.Get("closed")
	if err != nil {
		return nil, err
	}
	ended, err := browser.Settle(closed)
	if err != nil {
		return nil, err
	}
	go func() { <-ended; close(c.gone) }()
	ready, err := session.Get("ready")
	if err != nil {
		return nil, err
	}
	if _, err := browser.Await(ctx, ready); err != nil {
		return nil, fmt.Errorf("could not connect: %w", err)
	}
	if c.incoming, err = streamsReader(session); err != nil {
		return nil, err
	}
	if err := c.authenticate(ctx, w.hashes, p); err != nil {
		return nil, err
	}
	c.scope = scope // from here on, Close releases it
	ok = true
	return c, nil
}

// certHashOptions builds the WebTransport constructor's options:
// {serverCertificateHashes: [{algorithm: "sha-256", value: bytes}, …]}.
func certHashOptions(hashes []multihash.DecodedMultihash) (safejs.Value, error) {
	list, err := browser.Array.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for _, h := range hashes {
		entry, err := browser.Object.New()
		if err != nil {
			return safejs.Value{}, err
		}
		value, err := browser.BytesToJS(h.Digest)
		if err != nil {
			return safejs.Value{}, err
		}
		if err := entry.Set("algorithm", "sha-256"); err != nil {
			return safejs.Value{}, err
		}
		if err := entry.Set("value", value); err != nil {
			return safejs.Value{}, err
		}
		if _, err := list.Call("push", entry); err != nil {
			return safejs.Value{}, err
		}
	}
	opts, err := browser.Object.New()
	if err != nil {
		return safejs.Value{}, err
	}
	return opts, opts.Set("serverCertificateHashes", list)
}

// streamsReader returns a reader of the session's incoming bidirectional
// streams.
func streamsReader(session safejs.Value) (safejs.Value, error) {
	incoming, err := session.Get("incomingBidirectionalStreams")
	if err != nil {
		return safejs.Value{}, err
	}
	return incoming.Call("getReader")
}

// authenticate runs the Noise handshake as initiator on the session's
// first stream and checks the server's certificate hashes, then closes the
// stream: it carries nothing else.
func (c *wtConn) authenticate(ctx context.Context, dialed []multihash.DecodedMultihash, p peer.ID) error {
	s, err := c.openStream(ctx)
	if err != nil {
		return fmt.Errorf("opening the handshake stream: %w", err)
	}
	defer s.Close()
	check := &certHashCheck{dialed: dialed}
	n, err := c.t.noise.WithSessionOptions(noise.EarlyData(check, nil))
	if err != nil {
		return err
	}
	sc, err := n.SecureOutbound(ctx, s, p)
	if err != nil {
		return fmt.Errorf("noise handshake: %w", err)
	}
	defer sc.Close()
	if !check.done {
		return errors.New("noise handshake: the server sent no certificate hashes")
	}
	c.local, c.remote, c.remoteKey = sc.LocalPeer(), sc.RemotePeer(), sc.RemotePublicKey()
	return nil
}

// certHashCheck is the initiator's Noise early-data handler: it checks
// that every certhash the browser dialed with is among those the server
// sent inside the handshake, signed with its libp2p key. Without this
// check anyone holding a certificate with a listed hash, but not the
// peer's key, could stand in the middle.
type certHashCheck struct {
	dialed []multihash.DecodedMultihash
	done   bool
}

func (c *certHashCheck) Send(context.Context, net.Conn, peer.ID) *pb.NoiseExtensions { return nil }

func (c *certHashCheck) Received(_ context.Context, _ net.Conn, ext *pb.NoiseExtensions) error {
	var sent []multihash.DecodedMultihash
	for _, b := range ext.GetWebtransportCerthashes() {
		h, err := multihash.Decode(b)
		if err != nil {
			return fmt.Errorf("the server sent a malformed certificate hash: %w", err)
		}
		sent = append(sent, *h)
	}
	for _, d := range c.dialed {
		found := false
		for _, s := range sent {
			if s.Code == d.Code && bytes.Equal(s.Digest, d.Digest) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("the server's certificate hashes do not include %x", d.Digest)
		}
	}
	c.done = true
	return nil
}

// wtConn is one WebTransport session, a libp2p connection whose streams
// are the session's bidirectional streams.
type wtConn struct {
	t         *WebTransport
	session   safejs.Value
	incoming  safejs.Value                // reader of incomingBidirectionalStreams
	scope     network.ConnManagementScope // set once the handshake succeeded
	local     peer.ID
	remote    peer.ID
	remoteKey crypto.PubKey
	laddr     ma.Multiaddr
	raddr     ma.Multiaddr
	url       string

	ctx       context.Context // ends with Close
	cancel    context.CancelFunc
	gone      chan struct{} // closed once the session has ended, either side
	acceptMu  sync.Mutex    // one AcceptStream at a time
	closeOnce sync.Once
}

var _ transport.CapableConn = (*wtConn)(nil)

// OpenStream opens a new bidirectional stream.
func (c *wtConn) OpenStream(ctx context.Context) (network.MuxedStream, error) {
	return c.openStream(ctx)
}

func (c *wtConn) openStream(ctx context.Context) (*wtStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.ctx.Done():
		case <-c.gone:
		case <-ctx.Done():
		}
		cancel()
	}()
	p, err := c.session.Call("createBidirectionalStream")
	if err != nil {
		return nil, err
	}
	v, err := browser.Await(ctx, p)
	if err != nil {
		if c.IsClosed() {
			return nil, net.ErrClosed
		}
		return nil, err
	}
	return newWTStream(v, c.url)
}

// AcceptStream waits for the peer to open a stream.
func (c *wtConn) AcceptStream() (network.MuxedStream, error) {
	c.acceptMu.Lock()
	defer c.acceptMu.Unlock()
	p, err := c.incoming.Call("read")
	if err != nil {
		return nil, err
	}
	r, err := browser.Await(c.ctx, p)
	if err != nil {
		if c.IsClosed() {
			return nil, net.ErrClosed
		}
		return nil, err
	}
	if browser.Bool(r, "done") {
		return nil, fmt.Errorf("webtransport %s: session ended: %w", c.url, net.ErrClosed)
	}
	v, err := r.Get("value")
	if err != nil {
		return nil, err
	}
	return newWTStream(v, c.url)
}

// Close ends the session and releases its resources.
func (c *wtConn) Close() error {
	c.closeSession()
	return nil
}

func (c *wtConn) closeSession() {
	c.closeOnce.Do(func() {
		c.cancel()
		// close throws once the session has ended; nothing is left to do then.
		c.session.Call("close", map[string]any{"closeCode": 0, "reason": ""})
		if c.scope != nil {
			c.scope.Done()
		}
	})
}

// CloseWithError closes the session; WebTransport carries no libp2p code.
func (c *wtConn) CloseWithError(network.ConnErrorCode) error { return c.Close() }

// IsClosed reports whether Close was called or the session ended.
func (c *wtConn) IsClosed() bool {
	select {
	case <-c.ctx.Done():
		return true
	case <-c.gone:
		return true
	default:
		return false
	}
}

// As exposes nothing: the session lives in JavaScript.
func (c *wtConn) As(any) bool { return false }

func (c *wtConn) LocalPeer() peer.ID             { return c.local }
func (c *wtConn) RemotePeer() peer.ID            { return c.remote }
func (c *wtConn) RemotePublicKey() crypto.PubKey { return c.remoteKey }
func (c *wtConn) LocalMultiaddr() ma.Multiaddr   { return c.laddr }
func (c *wtConn) RemoteMultiaddr() ma.Multiaddr  { return c.raddr }
func (c *wtConn) Scope() network.ConnScope       { return c.scope }
func (c *wtConn) Transport() transport.Transport { return c.t }

// ConnState names the transport; Noise authenticated the peer, and
// streams are QUIC's own.
func (c *wtConn) ConnState() network.ConnectionState {
	return network.ConnectionState{Transport: "webtransport", Security: noise.ID}
}
