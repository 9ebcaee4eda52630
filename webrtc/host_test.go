//go:build js && wasm

package webrtc

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

// Protocols the native host speaks (see relay_driver_test.go).
const (
	echoProtocol = "/planet/test/echo/1"
	hopProtocol  = "/libp2p/circuit/relay/0.2.0/hop"
)

func newTestHost(t testing.TB) host.Host {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHost(testContext(t), priv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// peerAt returns the peer and address in the multiaddr of variable name.
func peerAt(t testing.TB, name string) (peer.AddrInfo, ma.Multiaddr) {
	t.Helper()
	a := testAddr(t, name)
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		t.Fatal(err)
	}
	return *ai, a
}

// connectIdentified connects h to ai and waits until identify finished.
func connectIdentified(ctx context.Context, t *testing.T, h host.Host, ai peer.AddrInfo) {
	t.Helper()
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := h.Connect(ctx, ai); err != nil {
		t.Fatalf("connecting to %v: %v", ai, err)
	}
	for {
		select {
		case e := <-sub.Out():
			if e.(event.EvtPeerIdentificationCompleted).Peer == ai.ID {
				return
			}
		case <-ctx.Done():
			t.Fatal("identify did not finish")
		}
	}
}

// echo sends n random bytes on a new stream for proto to p, closes its
// side, and checks that the same bytes come back.
func echo(ctx context.Context, t *testing.T, h host.Host, p peer.ID, proto protocol.ID, n int) {
	t.Helper()
	s, err := h.NewStream(network.WithAllowLimitedConn(ctx, "test"), p, proto)
	if err != nil {
		t.Fatalf("opening %s: %v", proto, err)
	}
	defer s.Close()
	want := make([]byte, n)
	rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Write(want)
		if err == nil {
			err = s.CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echo of %d bytes came back as %d different bytes", n, len(got))
	}
}

// TestHostRelay connects to the native relay over WebSocket, pings it,
// checks what identify learned, and reserves a slot.
func TestHostRelay(t *testing.T) {
	ctx := testContext(t)
	relay, _ := peerAt(t, "PLANET_TEST_RELAY")
	h := newTestHost(t)
	connectIdentified(ctx, t, h, relay)

	conns := h.Network().ConnsToPeer(relay.ID)
	if len(conns) != 1 {
		t.Fatalf("%d connections to the relay, want 1", len(conns))
	}
	st := conns[0].ConnState()
	if st.Transport != "websocket" || st.Security != "/noise" || st.StreamMultiplexer != "/yamux/1.0.0" {
		t.Errorf("connection state %+v, want websocket, /noise, /yamux/1.0.0", st)
	}

	res := <-ping.Ping(ctx, h, relay.ID)
	if res.Error != nil {
		t.Fatalf("ping: %v", res.Error)
	}
	t.Logf("ping over WebSocket: %v", res.RTT)

	protos, err := h.Peerstore().GetProtocols(relay.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []protocol.ID{hopProtocol, ping.ID, "/ipfs/id/1.0.0", echoProtocol} {
		if !slices.Contains(protos, want) {
			t.Errorf("identify: the relay's protocols %v lack %s", protos, want)
		}
	}
	if agent, err := h.Peerstore().Get(relay.ID, "AgentVersion"); err != nil || agent == "" {
		t.Errorf("identify: no agent version (%v, %v)", agent, err)
	}

	rsvp, err := client.Reserve(ctx, h, relay)
	if err != nil {
		t.Fatalf("reserving a slot: %v", err)
	}
	if !rsvp.Expiration.After(time.Now()) {
		t.Errorf("the reservation expires at %v, in the past", rsvp.Expiration)
	}
}

// TestHostEcho moves 1 MiB each way over one WebSocket connection.
func TestHostEcho(t *testing.T) {
	ctx := testContext(t)
	relay, _ := peerAt(t, "PLANET_TEST_RELAY")
	h := newTestHost(t)
	if err := h.Connect(ctx, relay); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	echo(ctx, t, h, relay.ID, echoProtocol, 1<<20)
	t.Logf("1 MiB echoed over WebSocket in %v", time.Since(start))
}

// TestHostThroughRelay puts two hosts in this page, each on its own
// WebSocket to the relay; the second reserves a slot, the first reaches it
// through /p2p-circuit, and they exchange data over streams both ways.
func TestHostThroughRelay(t *testing.T) {
	ctx := testContext(t)
	relay, relayAddr := peerAt(t, "PLANET_TEST_RELAY")
	alice, bob := newTestHost(t), newTestHost(t)
	for _, h := range []host.Host{alice, bob} {
		h.SetStreamHandler(echoProtocol, func(s network.Stream) {
			defer s.Close()
			if _, err := io.Copy(s, s); err != nil {
				s.Reset()
			}
		})
	}
	if err := bob.Connect(ctx, relay); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, bob, relay); err != nil {
		t.Fatalf("bob reserving a slot: %v", err)
	}

	start := time.Now()
	circuit := relayAddr.Encapsulate(ma.StringCast("/p2p-circuit"))
	if err := alice.Connect(ctx, peer.AddrInfo{ID: bob.ID(), Addrs: []ma.Multiaddr{circuit}}); err != nil {
		t.Fatalf("alice reaching bob through the relay: %v", err)
	}
	t.Logf("connected through the relay in %v", time.Since(start))

	conns := alice.Network().ConnsToPeer(bob.ID())
	if len(conns) != 1 {
		t.Fatalf("alice has %d connections to bob, want 1", len(conns))
	}
	if !conns[0].Stat().Limited {
		t.Error("the relayed connection is not marked limited")
	}
	if _, err := conns[0].RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT); err != nil {
		t.Errorf("alice's connection to bob is at %s, not through a circuit", conns[0].RemoteMultiaddr())
	}

	// The relay's default limit is 128 KiB each way per circuit.
	echo(ctx, t, alice, bob.ID(), echoProtocol, 16<<10)
	echo(ctx, t, bob, alice.ID(), echoProtocol, 16<<10)
}
