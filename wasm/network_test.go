//go:build js && wasm

package main

import (
	"slices"
	"testing"
)

func TestPickRelayAddrs(t *testing.T) {
	const (
		relay = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
		other = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5nt6SCXySNp5jNbZbXu"
		ws    = "/ip4/127.0.0.1/tcp/8081/ws/p2p/" + relay
		wt    = "/ip4/127.0.0.1/udp/8081/quic-v1/webtransport/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g/p2p/" + relay
		quic  = "/ip4/127.0.0.1/udp/8081/quic-v1/p2p/" + relay
		rtc   = "/ip4/127.0.0.1/udp/8081/webrtc-direct/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g/p2p/" + relay
		wss   = "/dns4/relay.example/tcp/443/wss/p2p/" + other
		farWS = "/ip4/192.0.2.7/tcp/8081/ws/p2p/" + other
		noID  = "/ip4/127.0.0.1/tcp/8081/ws"
	)
	for _, tc := range []struct {
		name         string
		addrs        []string
		webTransport bool
		securePage   bool
		want         []string
	}{
		{"WebSocket before WebTransport", []string{quic, rtc, wt, ws}, true, false, []string{ws}},
		{"WebTransport when it is all there is", []string{quic, wt}, true, false, []string{wt}},
		{"no WebTransport in this browser", []string{quic, wt}, false, false, nil},
		{"one address per relay, in order", []string{ws, wss}, true, false, []string{ws, wss}},
		{"secure WebSocket before plain", []string{farWS, wss}, false, false, []string{wss}},
		{"an https page cannot open ws: to another host", []string{farWS}, false, true, nil},
		{"an https page may open ws: to loopback", []string{ws}, false, true, []string{ws}},
		{"an address without a peer ID", []string{noID}, true, false, nil},
		{"a circuit address is no relay", []string{ws + "/p2p-circuit"}, true, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pickRelayAddrs(tc.addrs, tc.webTransport, tc.securePage)
			if !slices.Equal(got, tc.want) {
				t.Errorf("pickRelayAddrs(%q) = %q, want %q", tc.addrs, got, tc.want)
			}
		})
	}
}
