package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	libp2pwebrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	libp2pwebtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
	ma "github.com/multiformats/go-multiaddr"

	"planet/serve/relay"
	"planet/serve/response"
	"planet/serve/servetest"
)

// circuitTo is the address of target through the relay at r.
func circuitTo(t *testing.T, r peer.AddrInfo, target peer.ID) peer.AddrInfo {
	t.Helper()
	addrs, err := peer.AddrInfoToP2pAddrs(&r)
	if err != nil {
		t.Fatal(err)
	}
	return peer.AddrInfo{ID: target, Addrs: []ma.Multiaddr{addrs[0].Encapsulate(ma.StringCast("/p2p-circuit"))}}
}

// pingOnce pings p from h once, over whatever connection they have (relayed ones included).
func pingOnce(ctx context.Context, h host.Host, p peer.ID) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := <-ping.Ping(ctx, h, p)
	if res.Error == nil && res.RTT <= 0 {
		return errors.New("ping: no round trip time")
	}
	return res.Error
}

// TestRelayCircuit is the relay's purpose: two peers that listen nowhere reach each other
// through it over WebSocket, one holding a reservation and the other dialling it via
// /p2p-circuit, and ping each other across the relayed connection.
func TestRelayCircuit(t *testing.T) {
	node := servetest.Relay(t, "", nil)
	r := servetest.AddrInfo(t, node, ma.P_WS)
	a, b := servetest.Peer(t), servetest.Peer(t)
	ctx := servetest.Context(t)

	if err := a.Connect(ctx, r); err != nil {
		t.Fatalf("connecting to the relay over /ws: %v", err)
	}
	conns := a.Network().ConnsToPeer(node.ID())
	if len(conns) != 1 || !servetest.HasProtocol(conns[0].RemoteMultiaddr(), ma.P_WS) {
		t.Fatalf("connections to the relay: %v", conns)
	}

	// identify tells the peer what the relay offers.
	select {
	case <-a.(interface{ IDService() identify.IDService }).IDService().IdentifyWait(conns[0]):
	case <-ctx.Done():
		t.Fatal("identify did not finish")
	}
	protos, err := a.Peerstore().GetProtocols(node.ID())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []protocol.ID{proto.ProtoIDv2Hop, ping.ID, identify.ID} {
		if !slices.Contains(protos, want) {
			t.Errorf("identify: relay protocols %v lack %s", protos, want)
		}
	}
	if slices.Contains(protos, proto.ProtoIDv2Stop) {
		t.Errorf("identify: the relay accepts relayed connections itself: %v", protos)
	}
	if agent, _ := a.Peerstore().Get(node.ID(), "AgentVersion"); agent != relay.UserAgent {
		t.Errorf("identify: agent %q, want %q", agent, relay.UserAgent)
	}

	rsv, err := client.Reserve(ctx, a, r)
	if err != nil {
		t.Fatalf("reserving: %v", err)
	}
	def := relay.DefaultConfig()
	if rsv.LimitData != uint64(def.LimitData) || rsv.LimitDuration != def.LimitDuration {
		t.Errorf("reservation limits %d bytes, %s; want %d, %s", rsv.LimitData, rsv.LimitDuration, def.LimitData, def.LimitDuration)
	}
	if ttl := time.Until(rsv.Expiration); ttl < def.ReservationTTL-time.Minute || ttl > def.ReservationTTL {
		t.Errorf("reservation expires in %s, want about %s", ttl, def.ReservationTTL)
	}
	if rsv.Voucher == nil || rsv.Voucher.Relay != node.ID() || rsv.Voucher.Peer != a.ID() {
		t.Errorf("voucher %+v", rsv.Voucher)
	}
	// The node is bound to 127.0.0.1, so its loopback addresses are the ones to hand out.
	if len(rsv.Addrs) == 0 {
		t.Error("the reservation carries no relay addresses")
	}

	if err := b.Connect(network.WithAllowLimitedConn(ctx, "relayed"), circuitTo(t, r, a.ID())); err != nil {
		t.Fatalf("dialling through the relay: %v", err)
	}
	conns = b.Network().ConnsToPeer(a.ID())
	if len(conns) != 1 || !conns[0].Stat().Limited || !servetest.HasProtocol(conns[0].RemoteMultiaddr(), ma.P_CIRCUIT) {
		t.Fatalf("b's connections to a: %v", conns)
	}
	if err := pingOnce(ctx, b, a.ID()); err != nil {
		t.Errorf("b pings a: %v", err)
	}
	if err := pingOnce(ctx, a, b.ID()); err != nil {
		t.Errorf("a pings b: %v", err)
	}
	// A peer that holds no reservation cannot be reached.
	c := servetest.Peer(t)
	if err := c.Connect(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(network.WithAllowLimitedConn(ctx, "relayed"), circuitTo(t, r, c.ID())); err == nil || !strings.Contains(err.Error(), "NO_RESERVATION") {
		t.Errorf("dialling a peer that holds no reservation: %v", err)
	}
}

// TestRelayTransports connects to each published address over its own transport
// (WebSocket, WebTransport with its certificate hashes, WebRTC-direct) and pings the node.
func TestRelayTransports(t *testing.T) {
	if testing.Short() {
		t.Skip("starts WebRTC")
	}
	node := servetest.Relay(t, "", nil)
	for _, tc := range []struct {
		name      string
		code      int
		transport libp2p.Option
	}{
		{"ws", ma.P_WS, libp2p.Transport(websocket.New)},
		{"webtransport", ma.P_WEBTRANSPORT, libp2p.Transport(libp2pwebtransport.New)},
		{"webrtc-direct", ma.P_WEBRTC_DIRECT, libp2p.Transport(libp2pwebrtc.New)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ai := servetest.AddrInfo(t, node, tc.code)
			h := servetest.Peer(t, tc.transport)
			ctx := servetest.Context(t)
			if err := h.Connect(ctx, ai); err != nil {
				t.Fatalf("connecting to %v: %v", ai.Addrs, err)
			}
			if err := pingOnce(ctx, h, node.ID()); err != nil {
				t.Errorf("ping over %s: %v", tc.name, err)
			}
		})
	}
}

// TestRelayAttachBeforeListening: services attached at the start (the mailbox) are set up
// before the node listens, so that no peer connects to a relay without them; a service that
// fails to attach fails the start.
func TestRelayAttachBeforeListening(t *testing.T) {
	var listening []ma.Multiaddr
	n := servetest.Relay(t, "", nil, func(h host.Host) error {
		listening = h.Network().ListenAddresses()
		return nil
	})
	if len(listening) != 0 {
		t.Errorf("attached while listening on %v", listening)
	}
	if len(n.Host().Network().ListenAddresses()) == 0 {
		t.Error("the node does not listen")
	}
	cfg := relay.DefaultConfig()
	cfg.Host, cfg.Port = "127.0.0.1", 0
	refused := errors.New("refused")
	if _, err := relay.Start(context.Background(), cfg, t.TempDir(), slog.New(slog.DiscardHandler),
		func(host.Host) error { return refused }); !errors.Is(err, refused) {
		t.Errorf("a service that fails to attach: %v", err)
	}
}

// TestRelayKey: the node's key is created once, private to its owner, and brings back the
// same peer ID (and WebRTC-direct certificate) after a restart; a damaged key stops the start
// and is left alone.
func TestRelayKey(t *testing.T) {
	dir := t.TempDir()
	first := servetest.Relay(t, dir, nil)
	id, webrtc := first.ID(), servetest.AddrInfo(t, first, ma.P_WEBRTC_DIRECT)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	path := filepath.Join(dir, relay.KeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", relay.KeyFile, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil || key.Type() != crypto.Ed25519 {
		t.Fatalf("%s holds %v, %v; want an Ed25519 key", relay.KeyFile, key, err)
	}
	if fromFile, _ := peer.IDFromPrivateKey(key); fromFile != id {
		t.Errorf("the node runs as %s, its key file says %s", id, fromFile)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Errorf("data directory holds %v, want only %s", names, relay.KeyFile)
	}

	second := servetest.Relay(t, dir, nil)
	if second.ID() != id {
		t.Errorf("peer ID after a restart %s, want %s", second.ID(), id)
	}
	// The WebRTC-direct certificate comes from the key, so its hash (in the address that
	// invitations carry) survives the restart too.
	hash := func(ai peer.AddrInfo) string { v, _ := ai.Addrs[0].ValueForProtocol(ma.P_CERTHASH); return v }
	if again := servetest.AddrInfo(t, second, ma.P_WEBRTC_DIRECT); hash(again) == "" || hash(again) != hash(webrtc) {
		t.Errorf("webrtc-direct certhash %q after a restart, was %q", hash(again), hash(webrtc))
	}
	second.Close()

	damaged := t.TempDir()
	junk := []byte("not a key")
	if err := os.WriteFile(filepath.Join(damaged, relay.KeyFile), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := relay.DefaultConfig()
	cfg.Host, cfg.Port = "127.0.0.1", 0
	n, err := relay.Start(context.Background(), cfg, damaged, slog.New(slog.DiscardHandler))
	if err == nil {
		n.Close()
		t.Fatal("started with a damaged key")
	}
	if !strings.Contains(err.Error(), "damaged") {
		t.Errorf("error for a damaged key: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(damaged, relay.KeyFile)); !bytes.Equal(got, junk) {
		t.Error("the damaged key was replaced")
	}
}

// reserveStatus reserves a slot for h at r and returns the relay's answer.
func reserveStatus(t *testing.T, h host.Host, r peer.AddrInfo) pbv2.Status {
	t.Helper()
	_, err := client.Reserve(servetest.Context(t), h, r)
	if err == nil {
		return pbv2.Status_OK
	}
	var re client.ReservationError
	if !errors.As(err, &re) {
		t.Fatalf("reserving: %v", err)
	}
	return re.Status
}

// TestRelayReservationLimits: with the total or per-IP number of reservations set low, one
// reservation more is refused, while refreshing a held one still works.
func TestRelayReservationLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*relay.Config)
	}{
		{"total", func(c *relay.Config) { c.MaxReservations = 2 }},
		{"per IP", func(c *relay.Config) { c.ReservationsPerIP = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := servetest.AddrInfo(t, servetest.Relay(t, "", tc.change), ma.P_WS)
			a, b, c := servetest.Peer(t), servetest.Peer(t), servetest.Peer(t)
			for i, h := range []host.Host{a, b} {
				if got := reserveStatus(t, h, r); got != pbv2.Status_OK {
					t.Fatalf("reservation %d: %v", i+1, got)
				}
			}
			if got := reserveStatus(t, c, r); got != pbv2.Status_RESERVATION_REFUSED {
				t.Errorf("third reservation: %v, want %v", got, pbv2.Status_RESERVATION_REFUSED)
			}
			if got := reserveStatus(t, a, r); got != pbv2.Status_OK {
				t.Errorf("refreshing a held reservation: %v", got)
			}
		})
	}
}

// echoProtocol is a test protocol that sends back what it reads.
const echoProtocol = "/planet/test-echo/1.0.0"

// relayedPair gives a (holding a reservation at the relay, answering echoProtocol) and b
// connected to it through the relay, and the relay's address.
func relayedPair(t *testing.T, node *relay.Node) (a, b host.Host, r peer.AddrInfo) {
	t.Helper()
	r = servetest.AddrInfo(t, node, ma.P_WS)
	a, b = servetest.Peer(t), servetest.Peer(t)
	a.SetStreamHandler(echoProtocol, func(s network.Stream) {
		io.Copy(s, s)
		s.Close()
	})
	ctx := servetest.Context(t)
	if _, err := client.Reserve(ctx, a, r); err != nil {
		t.Fatalf("reserving: %v", err)
	}
	if err := b.Connect(network.WithAllowLimitedConn(ctx, "relayed"), circuitTo(t, r, a.ID())); err != nil {
		t.Fatalf("dialling through the relay: %v", err)
	}
	return a, b, r
}

// relayedEcho sends n bytes over a new echoProtocol stream from b to a and returns how many came back.
func relayedEcho(t *testing.T, b host.Host, a peer.ID, n int) (int, error) {
	t.Helper()
	ctx := servetest.Context(t)
	s, err := b.NewStream(network.WithAllowLimitedConn(ctx, "relayed"), a, echoProtocol)
	if err != nil {
		return 0, err
	}
	defer s.Reset()
	s.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		s.Write(make([]byte, n))
		s.CloseWrite()
	}()
	got, err := io.Copy(io.Discard, s)
	return int(got), err
}

// TestRelayDataLimit: a relayed connection is cut once it has carried the data limit, and
// until then it works.
func TestRelayDataLimit(t *testing.T) {
	const limit = 32 << 10
	node := servetest.Relay(t, "", func(c *relay.Config) { c.LimitData = limit })
	a, b, _ := relayedPair(t, node)

	if got, err := relayedEcho(t, b, a.ID(), 4<<10); err != nil || got != 4<<10 {
		t.Fatalf("4 KiB echo under the limit: %d bytes back, %v", got, err)
	}
	if got, err := relayedEcho(t, b, a.ID(), 4*limit); err == nil && got == 4*limit {
		t.Errorf("%d bytes went through a relayed connection limited to %d", got, limit)
	}
	if !servetest.Within(10*time.Second, func() bool { return len(b.Network().ConnsToPeer(a.ID())) == 0 }) {
		t.Error("the relayed connection is still open after its data limit")
	}
}

// TestRelayDurationLimit: a relayed connection is cut once it has been open for the
// duration limit.
func TestRelayDurationLimit(t *testing.T) {
	node := servetest.Relay(t, "", func(c *relay.Config) { c.LimitDuration = time.Second })
	a, b, _ := relayedPair(t, node)
	if err := pingOnce(servetest.Context(t), b, a.ID()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	start := time.Now()
	if !servetest.Within(10*time.Second, func() bool { return len(b.Network().ConnsToPeer(a.ID())) == 0 }) {
		t.Error("the relayed connection is still open after its duration limit")
	}
	t.Logf("cut after %s", time.Since(start).Round(time.Millisecond))
}

// TestRelayCircuitLimit: with one relayed connection allowed per peer, a second one to the
// same peer is refused.
func TestRelayCircuitLimit(t *testing.T) {
	node := servetest.Relay(t, "", func(c *relay.Config) { c.MaxCircuits = 1 })
	a, _, r := relayedPair(t, node)
	c := servetest.Peer(t)
	if err := c.Connect(network.WithAllowLimitedConn(servetest.Context(t), "relayed"), circuitTo(t, r, a.ID())); err == nil || !strings.Contains(err.Error(), "RESOURCE_LIMIT_EXCEEDED") {
		t.Errorf("a second relayed connection to a peer allowed one: %v", err)
	}
}

func TestRelayConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"-relay-port", "70000"}, "-relay-port"},
		{[]string{"-relay-max-reservations", "0"}, "-relay-max-reservations"},
		{[]string{"-relay-max-circuits", "0"}, "-relay-max-circuits"},
		{[]string{"-relay-reservations-per-ip", "-1"}, "-relay-reservations-per-ip"},
		{[]string{"-relay-reservation-ttl", "30s"}, "-relay-reservation-ttl"},
		{[]string{"-relay-limit-data", "0"}, "-relay-limit-data"},
		{[]string{"-relay-limit-duration", "500ms"}, "-relay-limit-duration"},
		{[]string{"-relays", "not-a-multiaddr"}, "not a multiaddr"},
		{[]string{"-relays", "/ip4/192.0.2.1/tcp/443/wss"}, "does not end in /p2p/"},
		{[]string{"-relays", "/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m"}, "no address before /p2p/"},
	} {
		_, err := parseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one about %q", tc.args, err, tc.want)
		}
	}

	c, err := parseFlags([]string{
		"-relays", "/dns4/relay.example/tcp/443/wss/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m, ",
		"-relays", "/ip4/192.0.2.1/udp/4001/quic-v1/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Relays.String(); got != "/dns4/relay.example/tcp/443/wss/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m,/ip4/192.0.2.1/udp/4001/quic-v1/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m" {
		t.Errorf("-relays gave %s", got)
	}
}

// TestRelayInfoHandler checks the well-known document's HTTP behaviour: its headers,
// revalidation, methods, and the answer without a node.
func TestRelayInfoHandler(t *testing.T) {
	node := servetest.Relay(t, "", nil)
	other := ma.StringCast("/dns4/relay.example/tcp/443/wss/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m")
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	serve := func(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	h := relay.InfoHandler(node, []ma.Multiaddr{other}, next)
	w := serve(h, "GET", relay.InfoPath)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET: %d %v", w.Code, w.Header())
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": response.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var info relay.Info
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Peer != node.ID().String() || len(info.Addrs) != len(node.Addrs()) || !slices.Equal(info.Relays, []string{other.String()}) {
		t.Errorf("document %+v", info)
	}

	etag := w.Header().Get("ETag")
	if w := serve(h, "GET", relay.InfoPath, "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", w.Code)
	}
	if w := serve(h, "HEAD", relay.InfoPath); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := serve(h, "POST", relay.InfoPath); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", w.Code)
	}
	if w := serve(h, "GET", "/"); w.Code != http.StatusTeapot {
		t.Errorf("another path was not passed on: %d", w.Code)
	}

	// Without a node: the other relays only, or 404 when there are none.
	w = serve(relay.InfoHandler(nil, []ma.Multiaddr{other}, next), "GET", relay.InfoPath)
	if body := w.Body.String(); w.Code != 200 || body != `{"addrs":[],"relays":["`+other.String()+`"]}`+"\n" {
		t.Errorf("no node, one other relay: %d %s", w.Code, body)
	}
	w = serve(relay.InfoHandler(nil, nil, next), "GET", relay.InfoPath)
	if w.Code != http.StatusNotFound || w.Header().Get("Content-Security-Policy") != response.ContentSecurityPolicy {
		t.Errorf("no node, no relays: %d", w.Code)
	}
}

// TestRelayResourceLimits: the resource manager leaves room for one relayed connection per
// reservation, each holding a hop stream in and a stop stream out, so that
// -relay-max-reservations, not a fixed default, bounds how many can be open at once.
func TestRelayResourceLimits(t *testing.T) {
	for _, n := range []int{relay.DefaultConfig().MaxReservations, 1000} {
		cfg := relay.DefaultConfig()
		cfg.MaxReservations = n
		rm, err := relay.NewResourceManager(cfg)
		if err != nil {
			t.Fatal(err)
		}
		limit := func(s network.ResourceScope) rcmgr.Limit { return s.(rcmgr.ResourceScopeLimiter).Limit() }
		check := func(what string, l rcmgr.Limit, in, out, total int) {
			if l.GetStreamLimit(network.DirInbound) < in || l.GetStreamLimit(network.DirOutbound) < out || l.GetStreamTotalLimit() < total {
				t.Errorf("%d reservations: %s allows %d streams in, %d out, %d in all; want at least %d, %d, %d", n, what,
					l.GetStreamLimit(network.DirInbound), l.GetStreamLimit(network.DirOutbound), l.GetStreamTotalLimit(), in, out, total)
			}
		}
		rm.ViewService(circuit.ServiceName, func(s network.ServiceScope) error {
			check("the relay service", limit(s), n, n, 2*n)
			return nil
		})
		rm.ViewProtocol(proto.ProtoIDv2Hop, func(s network.ProtocolScope) error {
			check("the hop protocol", limit(s), n, 0, n)
			return nil
		})
		rm.ViewProtocol(proto.ProtoIDv2Stop, func(s network.ProtocolScope) error {
			check("the stop protocol", limit(s), 0, n, n)
			return nil
		})
		rm.Close()
	}
}

// parseFlags parses the relay's flags in args as serve does, then checks them.
func parseFlags(args []string) (relay.Config, error) {
	c := relay.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Check()
}
