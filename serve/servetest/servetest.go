//go:build !js

// Package servetest runs the server's relay node and its mailbox in a test, on loopback with
// free ports, as serve runs them: the real relay (package relay, circuit relay v2 with its
// limits) and the real mailbox (package mailboxstore, its bbolt file in the test's temporary
// directory). A [Server] can be stopped and started again on the same ports and data, as
// when the server restarts, and the relay and its mailbox can be started one at a time.
//
// It also holds what tests over libp2p share: hosts that, like a browser's, listen nowhere
// ([Peer]), the relay's addresses ([AddrInfo], [HasProtocol]), a context per step
// ([Context]), waiting for a condition ([Eventually], [Within]), and logs shown only when a
// test fails ([Log]). The relay's and the mailbox's own tests use it, and so do core/p2p's,
// which run PLANET nodes over it.
package servetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"

	"planet/serve/mailboxstore"
	"planet/serve/relay"
)

// Timeout bounds each wait of [Eventually] and each step under [Context]: long enough for a
// loaded machine running the race detector, short enough that a hang fails the test.
const Timeout = 30 * time.Second

// Server is a relay node with the mailbox attached, as one serve process runs them, keeping
// its key and mailbox.db in one data directory. A test can stop it and start it again on
// the same port and data.
type Server struct {
	t    testing.TB
	dir  string
	port int // the relay's port once it has one; 0 before the first start
	addr string

	node *relay.Node           // nil while stopped
	box  *mailboxstore.Mailbox // nil while stopped or while the relay runs alone
}

// Start starts a server with a new data directory, on free ports of 127.0.0.1. It is
// stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir()}
	s.Start()
	return s
}

// Start starts the stopped server again, relay and mailbox, on the port and data it had. It
// fails the test if the relay comes back on another address.
//
// As serve does, the mailbox is attached to the relay's host before the
// relay listens, so that no client finds the relay without its mailbox.
func (s *Server) Start() {
	s.t.Helper()
	box := s.openMailbox()
	s.startRelay(box.Attach)
	s.box = box
}

// StartRelay starts the stopped server's relay node alone, without the mailbox (see
// [Server.StartMailbox]), on the port and data it had.
func (s *Server) StartRelay() {
	s.t.Helper()
	s.startRelay()
}

func (s *Server) startRelay(attach ...func(host.Host) error) {
	s.t.Helper()
	if s.node != nil {
		s.t.Fatal("servetest: starting a server that runs")
	}
	s.node = Relay(s.t, s.dir, func(c *relay.Config) { c.Port = s.port }, attach...)
	addr := AddrInfo(s.t, s.node, ma.P_WS)
	addrs, err := peer.AddrInfoToP2pAddrs(&addr)
	if err != nil {
		s.t.Fatal(err)
	}
	got := addrs[0].String()
	if s.addr != "" && got != s.addr {
		s.t.Fatalf("servetest: the relay came back as %s, not %s", got, s.addr)
	}
	if s.port == 0 {
		if s.port, err = strconv.Atoi(ma.Split(addrs[0])[1].Value()); err != nil {
			s.t.Fatal(err)
		}
	}
	s.addr = got
}

// StartMailbox opens the mailbox on the server's data and attaches it to the running relay
// node, as serve does at start (where it is attached before the node listens).
func (s *Server) StartMailbox() {
	s.t.Helper()
	if s.node == nil || s.box != nil {
		s.t.Fatal("servetest: the mailbox needs a relay without one")
	}
	box := s.openMailbox()
	if err := box.Attach(s.node.Host()); err != nil {
		s.t.Fatal(err)
	}
	s.box = box
}

func (s *Server) openMailbox() *mailboxstore.Mailbox {
	s.t.Helper()
	box, err := mailboxstore.Open(filepath.Join(s.dir, "mailbox.db"), mailboxstore.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { box.Close() })
	return box
}

// Stop stops the server as serve does on SIGTERM: the mailbox first, then the relay node,
// cutting every connection. Its data stays for the next start.
func (s *Server) Stop() {
	if s.box != nil {
		s.box.Close()
		s.box = nil
	}
	if s.node != nil {
		s.node.Close()
		s.node = nil
	}
}

// Addr is the relay's WebSocket address, ending in /p2p/<peer ID>, as people give it in
// invitations and nodes dial it. It stays the same across restarts.
func (s *Server) Addr() string { return s.addr }

// Node is the running relay node, nil while stopped.
func (s *Server) Node() *relay.Node { return s.node }

// Relay starts a relay node alone on 127.0.0.1 with free ports, the defaults changed by
// change (if not nil) and each of attach set up on its host, keeping its key in dir (a new
// temporary directory if ""). It is closed when the test ends.
func Relay(t testing.TB, dir string, change func(*relay.Config), attach ...func(host.Host) error) *relay.Node {
	t.Helper()
	cfg := relay.DefaultConfig()
	cfg.Host, cfg.Port = "127.0.0.1", 0
	if change != nil {
		change(&cfg)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	n, err := relay.Start(context.Background(), cfg, dir, slog.New(slog.DiscardHandler), attach...)
	if err != nil {
		t.Fatalf("starting the relay: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// AddrInfo is the node's address over the transport named by code (ma.P_WS,
// ma.P_WEBTRANSPORT, ma.P_WEBRTC_DIRECT), to dial.
func AddrInfo(t testing.TB, n *relay.Node, code int) peer.AddrInfo {
	t.Helper()
	for _, a := range n.Addrs() {
		if HasProtocol(a, code) {
			ai, err := peer.AddrInfoFromP2pAddr(a)
			if err != nil {
				t.Fatal(err)
			}
			return *ai
		}
	}
	t.Fatalf("no %s address among %v", ma.ProtocolWithCode(code).Name, n.Addrs())
	return peer.AddrInfo{}
}

// HasProtocol reports whether a has a component of the protocol named by code.
func HasProtocol(a ma.Multiaddr, code int) bool {
	return slices.ContainsFunc(a, func(c ma.Component) bool { return c.Code() == code })
}

// Peer is a go-libp2p host that, like a browser, listens on no socket: it dials with the
// options given (WebSocket by default; libp2p.DefaultTransports for all; libp2p.Identity for
// a person's key), and accepts connections only through a relay at which it holds a
// reservation (the circuit client listens on /p2p-circuit by itself). It is closed when the
// test ends.
func Peer(t testing.TB, opts ...libp2p.Option) host.Host {
	t.Helper()
	if len(opts) == 0 {
		opts = []libp2p.Option{libp2p.Transport(websocket.New)}
	}
	opts = append([]libp2p.Option{
		libp2p.NoListenAddrs,
		libp2p.EnableRelay(), // which NoListenAddrs turns off
		libp2p.Security(noise.ID, noise.New),
		libp2p.DisableMetrics(),
	}, opts...)
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Context bounds one step of a test over libp2p by [Timeout]; it ends with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Eventually waits up to [Timeout] for ok to hold, and fails the test, saying what it
// waited for, if it does not.
func Eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	if !Within(Timeout, ok) {
		t.Fatalf("timed out: %s", what)
	}
}

// Within waits up to d for ok to hold, and reports whether it did.
func Within(d time.Duration, ok func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

// Log is a debug log for the part of a test named name (a person's node, a server), shown
// only if the test fails.
func Log(t testing.TB, name string) *slog.Logger {
	var buf Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s logged:\n%s", name, buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Buffer is a bytes.Buffer that a server's or a node's goroutines may write to while the
// test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Do answers one request with h, the way a server would; header is name,
// value pairs.
func Do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// NoCompression is a client that asks for what the test says and does not
// decode for it.
var NoCompression = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// Get fetches url over real HTTP with the headers given (name, value
// pairs), without asking for or decoding any compression the test did not
// ask for, and returns the response and its body.
func Get(t testing.TB, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := NoCompression.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// Decode undoes a Content-Encoding ("" for none, "br" or "gzip") of a
// response's body.
func Decode(t testing.TB, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return out
}
