//go:build js && wasm

package webrtc

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

func TestParseWebTransportAddr(t *testing.T) {
	const hash = "uEiDjzIyGNx8nws-clSYOf1XhL6h8kRYWATCmhHMFkBHmVA"
	for _, tc := range []struct{ addr, url string }{
		{"/ip4/127.0.0.1/udp/4001/quic-v1/webtransport/certhash/" + hash, "https://127.0.0.1:4001/.well-known/libp2p-webtransport?type=noise"},
		{"/ip6/::1/udp/4001/quic-v1/webtransport/certhash/" + hash + "/certhash/" + hash, "https://[::1]:4001/.well-known/libp2p-webtransport?type=noise"},
		{"/dns4/relay.example/udp/443/quic-v1/webtransport/certhash/" + hash + "/p2p/12D3KooWGRUVh6S9Abam2uVsXrMhojrLpcF3pKY3jY3XA9sZHsZE", "https://relay.example:443/.well-known/libp2p-webtransport?type=noise"},
		{"/ip4/192.0.2.1/udp/443/quic-v1/sni/relay.example/webtransport/certhash/" + hash, "https://relay.example:443/.well-known/libp2p-webtransport?type=noise"},
		{"/ip4/127.0.0.1/udp/4001/quic-v1/webtransport", ""},                  // no certhash
		{"/ip4/127.0.0.1/udp/4001/quic-v1/certhash/" + hash, ""},              // no webtransport
		{"/ip4/127.0.0.1/tcp/4001/quic-v1/webtransport/certhash/" + hash, ""}, // tcp
		{"/ip4/127.0.0.1/udp/4001/quic-v1/webtransport/certhash/" + hash + "/p2p-circuit", ""},
	} {
		got, err := parseWebTransportAddr(ma.StringCast(tc.addr))
		if tc.url == "" {
			if err == nil {
				t.Errorf("%s: parsed as %q, want an error", tc.addr, got.url)
			}
			continue
		}
		if err != nil || got.url != tc.url {
			t.Errorf("%s: got %q, %v; want %q", tc.addr, got.url, err, tc.url)
		}
	}
}

// TestWebTransportRelay reaches the native host over WebTransport only:
// ping, identify, and 1 MiB echoed on a stream of its own.
func TestWebTransportRelay(t *testing.T) {
	ctx := testContext(t)
	relay, _ := peerAt(t, "PLANET_TEST_WEBTRANSPORT")
	h := newTestHost(t)
	start := time.Now()
	connectIdentified(ctx, t, h, relay)
	t.Logf("WebTransport session and Noise handshake in %v", time.Since(start))

	conns := h.Network().ConnsToPeer(relay.ID)
	if len(conns) != 1 || conns[0].ConnState().Transport != "webtransport" {
		t.Fatalf("connections to the relay: %v, want one over webtransport", conns)
	}
	res := <-ping.Ping(ctx, h, relay.ID)
	if res.Error != nil {
		t.Fatalf("ping: %v", res.Error)
	}
	t.Logf("ping over WebTransport: %v", res.RTT)
	protos, err := h.Peerstore().GetProtocols(relay.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(protos, protocol.ID(hopProtocol)) {
		t.Errorf("identify: the relay's protocols %v lack %s", protos, hopProtocol)
	}
	start = time.Now()
	echo(ctx, t, h, relay.ID, echoProtocol, 1<<20)
	t.Logf("1 MiB echoed over WebTransport in %v", time.Since(start))

	// Several streams at once, each its own WebTransport stream.
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			s, err := h.NewStream(ctx, relay.ID, echoProtocol)
			if err == nil {
				s.Close()
			}
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatalf("concurrent stream: %v", err)
		}
	}
}

// TestWebTransportWrongCertHash dials with a certhash that is not the
// server's: the browser must refuse the session.
func TestWebTransportWrongCertHash(t *testing.T) {
	ctx := testContext(t)
	relay, addr := peerAt(t, "PLANET_TEST_WEBTRANSPORT")
	// The SHA-256 of nothing: surely not the server's certificate.
	nothing, err := ma.NewComponent("certhash", "uEiDjsMRCmPwcFJr79MiZb7kkJ65B5GSbk0yklZkbeFK4VQ")
	if err != nil {
		t.Fatal(err)
	}
	var wrong ma.Multiaddr
	for _, c := range addr {
		if c.Code() == ma.P_CERTHASH {
			c = *nothing
		}
		wrong = append(wrong, c)
	}
	h := newTestHost(t)
	err = h.Connect(ctx, peer.AddrInfo{ID: relay.ID, Addrs: []ma.Multiaddr{wrong}})
	if err == nil {
		t.Fatal("connected to a server whose certificate matches no certhash")
	}
	if !strings.Contains(err.Error(), "webtransport") {
		t.Errorf("error %v does not name the transport", err)
	}
}

// TestWebTransportThroughRelay: alice reaches the relay over WebTransport,
// bob over WebSocket, and they talk through a circuit.
func TestWebTransportThroughRelay(t *testing.T) {
	ctx := testContext(t)
	relayWT, _ := peerAt(t, "PLANET_TEST_WEBTRANSPORT")
	relayWS, wsAddr := peerAt(t, "PLANET_TEST_RELAY")
	alice, bob := newTestHost(t), newTestHost(t)
	bob.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				s.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	})
	if err := bob.Connect(ctx, relayWS); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, bob, relayWS); err != nil {
		t.Fatal(err)
	}
	if err := alice.Connect(ctx, relayWT); err != nil {
		t.Fatal(err)
	}
	circuit := wsAddr.Encapsulate(ma.StringCast("/p2p-circuit"))
	alice.Peerstore().AddAddr(bob.ID(), circuit, time.Minute)
	// Alice must use her WebTransport session to the relay, not open a
	// WebSocket: the circuit client reuses the existing connection.
	echo(ctx, t, alice, bob.ID(), echoProtocol, 16<<10)
	for _, c := range alice.Network().ConnsToPeer(relayWT.ID) {
		if c.ConnState().Transport != "webtransport" {
			t.Errorf("alice also reached the relay over %s", c.ConnState().Transport)
		}
	}
}
