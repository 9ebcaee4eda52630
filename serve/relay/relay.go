// Package relay is the server's libp2p relay node: a native go-libp2p host that runs beside
// the web server, so that pages served from here can reach each other (circuit relay v2) and
// the mailbox. Browsers cannot listen for connections, so every browser-to-browser contact
// starts at a relay: a browser reserves a slot, another one dials it through the relay, and
// the two then usually upgrade to a direct WebRTC connection. The relay sees only
// Noise-encrypted streams.
//
// [Start] starts the node from a [Config] (the -relay... flags); [InfoHandler] publishes its
// addresses at [InfoPath]. docs/relay.md describes the node for operators: what it listens
// on, its flags and limits, and the JSON it publishes.
package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	libp2pwebrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	libp2pwebtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"planet/serve/response"
)

// KeyFile is the name, inside the -data directory, of the file that holds the relay
// node's private key: a libp2p PrivateKey protobuf (crypto.MarshalPrivateKey), Ed25519, mode
// 0600. It is created on first start and never rewritten, so the node's peer ID, which every
// published address and every invitation naming this relay ends with, survives restarts.
const KeyFile = "relay.key"

// InfoPath is where a page finds the relay of the server that served it, on the page's
// own origin, so that no configuration is needed.
const InfoPath = "/.well-known/planet/relay.json"

// userAgent is what identify tells peers about this node.
const userAgent = "planet-serve"

// Config is what the command line asks of the relay node. Its zero value is not useful:
// start from DefaultConfig.
type Config struct {
	// Enabled is false with -relay=false: no node is started.
	Enabled bool
	// Host is the address to listen on, taken from the host part of -addr: an IP address, a
	// name to resolve, or "" for every interface.
	Host string
	// Port is the TCP port of the WebSocket listener and the UDP port shared by QUIC,
	// WebTransport and WebRTC-direct. With 0 the TCP and UDP ports are picked separately.
	Port int
	// Relays are other relays' addresses, published as they are in InfoPath.
	Relays AddrList

	// MaxReservations bounds the relay slots held at once, by everyone.
	MaxReservations int
	// MaxCircuits bounds the relayed connections open at once to or from one peer.
	MaxCircuits int
	// ReservationsPerIP bounds the relay slots held at once from one IP address.
	ReservationsPerIP int
	// ReservationTTL is how long a reservation lasts unless the peer refreshes it.
	ReservationTTL time.Duration
	// LimitData is how many bytes a relayed connection may carry in each direction.
	LimitData int64
	// LimitDuration is how long a relayed connection may stay open.
	LimitDuration time.Duration
}

// DefaultConfig returns the defaults of the relay flags; docs/relay.md explains them.
func DefaultConfig() Config {
	return Config{
		Enabled: true,
		Port:    8081,
		// Each reservation is a browser tab that can be reached; 128 is a community, not the
		// internet, and each slot holds one connection open.
		MaxReservations: 128,
		// A person may chat with a few contacts at once while a WebRTC upgrade is being
		// signalled with another.
		MaxCircuits: 16,
		// Households and offices share one address behind NAT.
		ReservationsPerIP: 8,
		ReservationTTL:    time.Hour,
		// Signalling a WebRTC connection takes a few KiB; a chat that stays on the relay
		// (when no direct connection is possible) sends sealed messages of about 1 KiB.
		// 1 MiB and 10 minutes carry either comfortably; bulk data must go direct, and a
		// client simply opens a new relayed connection when one is cut.
		LimitData:     1 << 20,
		LimitDuration: 10 * time.Minute,
	}
}

// AddFlags registers the relay's flags on fs, writing into c.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.Enabled, "relay", c.Enabled, "run the libp2p relay node beside the web server")
	fs.IntVar(&c.Port, "relay-port", c.Port, "`port` of the relay node: TCP for WebSocket, UDP for QUIC, WebTransport and WebRTC-direct (0 picks free ones)")
	fs.Var(&c.Relays, "relays", "comma-separated `multiaddrs` of other relays to publish beside this one, each ending in /p2p/<peer ID>")
	fs.IntVar(&c.MaxReservations, "relay-max-reservations", c.MaxReservations, "relay slots held at once by all peers")
	fs.IntVar(&c.MaxCircuits, "relay-max-circuits", c.MaxCircuits, "relayed connections open at once to or from one peer")
	fs.IntVar(&c.ReservationsPerIP, "relay-reservations-per-ip", c.ReservationsPerIP, "relay slots held at once from one IP address")
	fs.DurationVar(&c.ReservationTTL, "relay-reservation-ttl", c.ReservationTTL, "how long a relay slot lasts unless refreshed (at least 1m)")
	fs.Int64Var(&c.LimitData, "relay-limit-data", c.LimitData, "`bytes` a relayed connection may carry in each direction before it is cut")
	fs.DurationVar(&c.LimitDuration, "relay-limit-duration", c.LimitDuration, "how long a relayed connection may stay open (at least 1s)")
}

// Check reports the first setting that cannot work.
func (c *Config) Check() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("-relay-port %d: not a port number", c.Port)
	case c.MaxReservations < 1:
		return fmt.Errorf("-relay-max-reservations %d: must be at least 1", c.MaxReservations)
	case c.MaxCircuits < 1:
		return fmt.Errorf("-relay-max-circuits %d: must be at least 1", c.MaxCircuits)
	case c.ReservationsPerIP < 1:
		return fmt.Errorf("-relay-reservations-per-ip %d: must be at least 1", c.ReservationsPerIP)
	case c.ReservationTTL < time.Minute:
		// Clients refresh a reservation some time before it ends; a shorter one would have
		// them doing little else.
		return fmt.Errorf("-relay-reservation-ttl %s: must be at least 1m", c.ReservationTTL)
	case c.LimitData < 1:
		return fmt.Errorf("-relay-limit-data %d: must be at least 1", c.LimitData)
	case c.LimitDuration < time.Second:
		// The limit reaches clients in whole seconds.
		return fmt.Errorf("-relay-limit-duration %s: must be at least 1s", c.LimitDuration)
	}
	return nil
}

// resources turns the flags into the circuit relay's limits.
func (c *Config) resources() circuit.Resources {
	rc := circuit.DefaultResources()
	rc.Limit = &circuit.RelayLimit{Duration: c.LimitDuration, Data: c.LimitData}
	rc.ReservationTTL = c.ReservationTTL
	rc.MaxReservations = c.MaxReservations
	rc.MaxCircuits = c.MaxCircuits
	rc.MaxReservationsPerIP = c.ReservationsPerIP
	// IPv6 peers are also counted by the network (ASN) they come from, since one IPv6 user
	// can use many addresses. A community's members often share one provider, so the bound
	// is generous: no single network takes more than half the slots.
	rc.MaxReservationsPerASN = max(c.ReservationsPerIP, c.MaxReservations/2)
	// At most one reservation per peer is not configurable: a second request from the same
	// peer refreshes its reservation instead of taking another slot.
	return rc
}

// AddrList is a flag.Value holding multiaddrs given comma-separated; the flag may also
// be repeated. Each must name a peer (end in /p2p/<peer ID>): a browser needs the peer ID to
// authenticate the relay it dials.
type AddrList []ma.Multiaddr

// String gives the list as -relays takes it.
func (l *AddrList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, a := range *l {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// Set adds the comma-separated multiaddrs in v, skipping empty entries.
func (l *AddrList) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return fmt.Errorf("%q is not a multiaddr: %w", s, err)
		}
		transport, id := peer.SplitAddr(a)
		if id == "" {
			return fmt.Errorf("%q does not end in /p2p/<peer ID>", s)
		}
		if len(transport) == 0 {
			return fmt.Errorf("%q has no address before /p2p/", s)
		}
		*l = append(*l, a)
	}
	return nil
}

// Node is the running relay: a go-libp2p host listening on WebSocket, QUIC,
// WebTransport and WebRTC-direct, with the circuit relay v2 service, identify and ping.
// Other parts of the server attach their protocols to it with Host().SetStreamHandler.
type Node struct {
	host  host.Host
	relay *circuit.Relay

	closeOnce sync.Once
	closeErr  error
}

// Host returns the node's libp2p host.
func (n *Node) Host() host.Host { return n.host }

// ID returns the node's peer ID, which is stable across restarts with the same -data
// directory.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Addrs returns the addresses at which the node can be dialled, each ending in
// /p2p/<peer ID>, sorted. The WebTransport and WebRTC-direct ones carry /certhash/...
// components; those of WebTransport change as its certificates rotate, so ask again rather
// than keep the list.
func (n *Node) Addrs() []ma.Multiaddr {
	self, err := ma.NewComponent("p2p", n.host.ID().String())
	if err != nil {
		panic("relay: own peer ID is not a multiaddr: " + err.Error()) // cannot happen
	}
	var out []ma.Multiaddr
	for _, a := range n.host.Addrs() {
		out = append(out, a.Encapsulate(self)) // a fresh slice: a may share the host's
	}
	slices.SortFunc(out, func(a, b ma.Multiaddr) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Close stops the relay service and the host, cutting every connection. It is safe to call
// more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.closeErr = errors.Join(n.relay.Close(), n.host.Close())
	})
	return n.closeErr
}

// Start starts the relay node described by cfg, with the key kept in dataDir (created
// there on first start). Each of attach sets up a service on the node's host (the mailbox)
// before it listens, so that the very first peer to connect finds it: a tab reconnecting as
// the server restarts picks up its letters at once, not at its next reservation. It returns
// once the node listens on every transport; ctx bounds only the start (resolving cfg.Host),
// and the node runs until Close.
func Start(ctx context.Context, cfg Config, dataDir string, log *slog.Logger, attach ...func(host.Host) error) (*Node, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	key, err := loadOrCreateKey(filepath.Join(dataDir, KeyFile), log)
	if err != nil {
		return nil, err
	}
	ips, err := listenIPs(ctx, cfg.Host)
	if err != nil {
		return nil, err
	}
	rm, err := newResourceManager(cfg)
	if err != nil {
		return nil, fmt.Errorf("relay: resource manager: %w", err)
	}
	// Every reserved peer holds a connection and tags it; the connection manager trims only
	// above this many, so reserved peers are not cut to make room.
	cm, err := connmgr.NewConnManager(cfg.MaxReservations+cfg.MaxReservations/2, 2*cfg.MaxReservations+64,
		connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("relay: connection manager: %w", err)
	}
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs, // listened on below, one address at a time, so that every failure counts
		// Only what browsers speak: WebSocket, WebTransport and WebRTC-direct, plus QUIC,
		// which WebTransport runs on and WebRTC-direct shares its UDP port with.
		libp2p.Transport(websocket.New),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Transport(libp2pwebtransport.New),
		libp2p.Transport(libp2pwebrtc.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		// The node relays for others and never accepts connections through a relay itself.
		libp2p.DisableRelay(),
		libp2p.Ping(true),
		libp2p.UserAgent(userAgent),
		// No process-wide Prometheus registry: nothing here exports it.
		libp2p.DisableMetrics(),
	)
	if err != nil {
		// libp2p.New has closed rm.
		return nil, fmt.Errorf("relay: %w", err)
	}
	// The relay service comes before the listeners, so that identify lists it to the very
	// first peer that connects.
	r, err := circuit.New(h,
		circuit.WithResources(cfg.resources()),
		circuit.WithReservationAddressFilter(reservationAddrFilter(ips)))
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("relay: circuit relay service: %w", err)
	}
	n := &Node{host: h, relay: r}
	for _, a := range attach {
		if err := a(h); err != nil {
			n.Close()
			return nil, err
		}
	}
	if err := listenAll(h, ips, cfg.Port); err != nil {
		n.Close()
		return nil, err
	}
	addrs := make([]string, 0, len(h.Addrs()))
	for _, a := range n.Addrs() {
		addrs = append(addrs, a.String())
	}
	log.Info("relay node started", "peer", h.ID().String(), "addrs", addrs)
	return n, nil
}

// listenAll opens the node's listeners on each IP: WebSocket on TCP port and QUIC on UDP port,
// then WebTransport and WebRTC-direct on the UDP port that QUIC actually got (which port 0
// only tells after the fact), so that all three share one UDP socket.
func listenAll(h host.Host, ips []net.IP, port int) error {
	for _, ip := range ips {
		base, err := manet.FromIP(ip)
		if err != nil {
			return fmt.Errorf("relay: %s: %w", ip, err)
		}
		p := strconv.Itoa(port)
		ws := base.Encapsulate(ma.StringCast("/tcp/" + p + "/ws"))
		if err := h.Network().Listen(ws); err != nil {
			return fmt.Errorf("relay: listening on %s: %w", ws, err)
		}
		quic := base.Encapsulate(ma.StringCast("/udp/" + p + "/quic-v1"))
		if err := h.Network().Listen(quic); err != nil {
			return fmt.Errorf("relay: listening on %s: %w", quic, err)
		}
		udp, err := boundUDPPort(h, base)
		if err != nil {
			return err
		}
		for _, tail := range []string{"/quic-v1/webtransport", "/webrtc-direct"} {
			a := base.Encapsulate(ma.StringCast("/udp/" + udp + tail))
			if err := h.Network().Listen(a); err != nil {
				return fmt.Errorf("relay: listening on %s: %w", a, err)
			}
		}
	}
	return nil
}

// boundUDPPort finds the UDP port of the QUIC listener on the IP of base.
func boundUDPPort(h host.Host, base ma.Multiaddr) (string, error) {
	for _, a := range h.Network().ListenAddresses() {
		if !strings.HasPrefix(a.String(), base.String()+"/udp/") {
			continue
		}
		last := a[len(a)-1]
		if last.Code() != ma.P_QUIC_V1 {
			continue
		}
		if p, err := a.ValueForProtocol(ma.P_UDP); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("relay: no QUIC listener on %s", base)
}

// listenIPs returns the IPs to listen on for the host part of -addr.
func listenIPs(ctx context.Context, hostname string) ([]net.IP, error) {
	if hostname == "" {
		// Like the web server's ":port": every interface. IPv6 too, unless the machine has
		// none, which listen reports as an error; set -addr to 0.0.0.0:port then.
		return []net.IP{net.IPv4zero, net.IPv6unspecified}, nil
	}
	if ip := net.ParseIP(hostname); ip != nil {
		return []net.IP{ip}, nil
	}
	found, err := net.DefaultResolver.LookupIPAddr(ctx, hostname)
	if err != nil {
		return nil, fmt.Errorf("relay: resolving %q: %w", hostname, err)
	}
	var ips []net.IP
	for _, a := range found {
		if !slices.ContainsFunc(ips, a.IP.Equal) {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("relay: %q has no address", hostname)
	}
	return ips, nil
}

// reservationAddrFilter decides which of the node's addresses a reservation hands to the
// peer that made it (which may announce them as the way to reach it). Public addresses
// always. When the operator bound the node to particular addresses (-addr 127.0.0.1:8080, a
// LAN address), those are the only ones it has and they go too; when it listens on every
// interface, private and loopback addresses are held back, since they mean nothing to peers
// elsewhere and tell them about the server's networks.
func reservationAddrFilter(ips []net.IP) circuit.ReservationAddressFilterFunc {
	if slices.ContainsFunc(ips, net.IP.IsUnspecified) {
		return manet.IsPublicAddr
	}
	return func(ma.Multiaddr) bool { return true }
}

// newResourceManager bounds what the node may use, sized for a small server: 512 MiB of
// memory and 4096 file descriptors for libp2p at most, with room for every reservation's
// connection and as many again dialling through the relay.
func newResourceManager(cfg Config) (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	scaled := limits.Scale(512<<20, 4096)

	conns := 2*cfg.MaxReservations + 64
	defaults := scaled.ToPartialLimitConfig()
	system := defaults.System
	system.ConnsInbound = rcmgr.LimitVal(max(conns, int(system.ConnsInbound)))
	system.Conns = rcmgr.LimitVal(max(conns+int(system.ConnsOutbound), int(system.Conns)))
	partial := rcmgr.PartialLimitConfig{System: system}

	// Every relayed connection holds two streams in the relay service's scope while it is
	// open: the hop stream from the peer that dialled and the stop stream to the one it
	// reached. Scaled as above, the service allows 384 streams, so 192 relayed connections
	// at once however many reservations -relay-max-reservations admits; make room for one
	// relayed connection per reservation, as many hop streams in and stop streams out.
	circuits := rcmgr.LimitVal(cfg.MaxReservations)
	svc := defaults.Service[circuit.ServiceName]
	svc.StreamsInbound = max(svc.StreamsInbound, circuits)
	svc.StreamsOutbound = max(svc.StreamsOutbound, circuits)
	svc.Streams = max(svc.Streams, 2*circuits)
	partial.Service = map[string]rcmgr.ResourceLimits{circuit.ServiceName: svc}
	hop, stop := defaults.Protocol[proto.ProtoIDv2Hop], defaults.Protocol[proto.ProtoIDv2Stop]
	hop.StreamsInbound, hop.Streams = max(hop.StreamsInbound, circuits), max(hop.Streams, circuits)
	stop.StreamsOutbound, stop.Streams = max(stop.StreamsOutbound, circuits), max(stop.Streams, circuits)
	partial.Protocol = map[protocol.ID]rcmgr.ResourceLimits{proto.ProtoIDv2Hop: hop, proto.ProtoIDv2Stop: stop}

	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(partial.Build(scaled)))
}

// loadOrCreateKey reads the node's private key from path, or creates it there if the file
// does not exist. An existing file that cannot be read or parsed is an error, never
// replaced: replacing it would change the node's peer ID under everyone who knows it.
func loadOrCreateKey(path string, log *slog.Logger) (crypto.PrivKey, error) {
	key, err := readKey(path, log)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, _, err = crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("relay: generating a key: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("relay: encoding the key: %w", err)
	}
	switch err := createExclusive(path, raw); {
	case errors.Is(err, fs.ErrExist):
		// Another process created it first; use the one that won.
		return readKey(path, log)
	case err != nil:
		return nil, fmt.Errorf("relay: creating %s: %w", path, err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	log.Info("relay key created", "file", path, "peer", id.String())
	return key, nil
}

func readKey(path string, log *slog.Logger) (crypto.PrivKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("relay: reading the key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("relay: key %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("relay key is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("relay: reading the key: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("relay: key %s is damaged (%w); restore it from a backup, or delete it to start with a new peer ID", path, err)
	}
	return key, nil
}

// createExclusive writes data to a new file at path with mode 0600, so that a reader sees
// either no file or all of it, and an existing file is never replaced (fs.ErrExist).
func createExclusive(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A hard link, unlike a rename, fails if path exists.
	return os.Link(tmp.Name(), path)
}

// Info is the JSON document at InfoPath.
type Info struct {
	// Peer is this server's relay node's peer ID; absent when it runs none.
	Peer string `json:"peer,omitempty"`
	// Addrs are the node's multiaddrs, each ending in /p2p/<Peer>; empty when it runs none.
	Addrs []string `json:"addrs"`
	// Relays are other relays' multiaddrs, from -relays.
	Relays []string `json:"relays"`
}

// InfoHandler serves InfoPath from node (nil when the server runs no relay) and
// relays, and passes every other path to next. With neither a node nor relays it answers
// 404, so a page knows at once that this server offers no relay.
func InfoHandler(node *Node, relays []ma.Multiaddr, next http.Handler) http.Handler {
	others := make([]string, len(relays))
	for i, a := range relays {
		others[i] = a.String()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != InfoPath {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		response.SetSecurityHeaders(h)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			response.Error(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if node == nil && len(others) == 0 {
			response.Error(w, http.StatusNotFound, "no relay")
			return
		}
		info := Info{Addrs: []string{}, Relays: others}
		if node != nil {
			info.Peer = node.ID().String()
			for _, a := range node.Addrs() {
				info.Addrs = append(info.Addrs, a.String())
			}
		}
		body, err := json.Marshal(info)
		if err != nil {
			response.Error(w, http.StatusInternalServerError, "internal server error")
			return
		}
		body = append(body, '\n')
		// Addresses change (WebTransport certificates rotate), so the document is always
		// revalidated; the ETag keeps that cheap.
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("Cache-Control", response.CacheRevalidate)
		h.Set("ETag", etag)
		if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && response.ETagMatches(inm, etag, true) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		response.Write(w, r, http.StatusOK, body)
	})
}
