// Package webrtc is the libp2p node of a PLANET browser tab: a go-libp2p
// host compiled to WebAssembly, whose transports are written over the
// browser's own network APIs (through safejs).
//
// go-libp2p's root package does not build for js/wasm, so [NewHost]
// assembles the host from go-libp2p's subpackages: a swarm, an upgrader
// with Noise and yamux, the blank host, identify, ping, the circuit relay
// v2 client, and a resource manager sized for a tab ([TabLimits]).
//
// # Transports
//
//   - [WebSocket] dials /ws and /wss multiaddrs with the browser's
//     WebSocket; go-libp2p's upgrader secures the byte stream with Noise
//     and multiplexes it with yamux.
//
//   - [WebTransport] dials /quic-v1/webtransport/certhash/… multiaddrs
//     with the browser's WebTransport, authenticates the server with Noise
//     on the first stream (binding its certificate hashes to its libp2p
//     key), and maps each libp2p stream to a WebTransport stream.
//
//   - The circuit relay v2 client reaches other browsers through a relay
//     (/p2p-circuit): a tab reserves a slot with the relay
//     (client.Reserve) and peers dial it at relay/p2p-circuit/p2p/ID.
//
//   - [WebRTC] connects two browsers directly, per the libp2p WebRTC
//     spec: over a relayed connection they exchange an SDP offer, answer
//     and ICE candidates (SignalingProtocol), then each libp2p stream is
//     a data channel, framed in messages of at most 16 KiB with FIN,
//     FIN_ACK, STOP_SENDING and RESET. No handshake runs on top: the SDP
//     travelled over a Noise-secured connection and DTLS binds to it.
//     [ConnectWebRTC] makes one; the other side's arrive by themselves.
//
// A page cannot accept connections from the network: it reaches peers by
// dialling, or through a relay and then WebRTC.
//
// # Rules of the browser
//
// A JavaScript callback must never wait for Go: Go runs only when the
// event loop hands it control, so the event handlers here copy bytes,
// record state and signal through buffered channels, and nothing else.
// Received data is bounded: a reader that falls far behind ends its
// connection with an error rather than growing the heap, which under wasm
// never shrinks. Writes wait while the browser holds a lot unsent.
//
// The package builds only for js/wasm; its native test starts a go-libp2p
// relay on loopback and runs the browser tests inside headless Chromium.
// docs/browser-node.md describes the assembly, the limits and the download
// size it costs.
package webrtc
