package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"
)

// echoProtocol is the test protocol spoken across relayed connections: the side that accepts
// the stream writes back every byte it reads.
const echoProtocol = protocol.ID("/planet/relayload/echo/1.0.0")

// messageSize is the size of each message: about a sealed chat message, which is what a
// conversation that cannot go direct sends through the relay.
const messageSize = 1024

// opTimeout bounds each connection, reservation, relayed dial and message exchange.
const opTimeout = 60 * time.Second

// keptErrors is how many error texts the report keeps; the count covers them all.
const keptErrors = 5

// config is what the command line asks for.
type config struct {
	relay    ma.Multiaddr // the relay's address, ending in /p2p/<peer ID>
	pid      int          // the relay's process, 0 for no memory readings
	clients  int          // even
	messages int          // per pair, each way
	parallel int
	settle   time.Duration
	timeout  time.Duration
	// progress, if set, is told what is happening, one line at a time.
	progress func(format string, a ...any)
}

// report is the outcome of a run, printed as text or JSON. Memory is in bytes, and is 0 when
// no -pid was given.
type report struct {
	Relay           string `json:"relay"`
	Transport       string `json:"transport"`
	Clients         int    `json:"clients"`
	Pairs           int    `json:"pairs"`
	MessagesPerPair int    `json:"messagesPerPair"` // each way
	MessageBytes    int    `json:"messageBytes"`

	Connected    int `json:"connected"`    // clients that connected and identified the relay
	Reservations int `json:"reservations"` // clients that reserved a slot
	PairsOK      int `json:"pairsOK"`      // pairs whose every echo matched, still connected at the end
	MessagesOK   int `json:"messagesOK"`   // messages echoed back intact, both ways together

	Errors      int      `json:"errors"`
	FirstErrors []string `json:"firstErrors"`

	// RSS is the relay's VmRSS before any client connected, with every client holding a
	// plain connection, and with every client also holding a reservation and every pair a
	// relayed connection with its streams open.
	RSS struct {
		Before int64 `json:"before"`
		Plain  int64 `json:"plain"`
		Relay  int64 `json:"relay"`
	} `json:"rss"`
	// BytesPerConn is the growth of the relay's RSS over Before, per client connected:
	// Plain for a plain connection (the baseline), Relay for a connection with a
	// reservation and its share of a relayed connection.
	BytesPerConn struct {
		Plain int64 `json:"plain"`
		Relay int64 `json:"relay"`
	} `json:"bytesPerConn"`
	// ClientsRSS is this process's VmRSS with every client connected, for scale.
	ClientsRSS int64 `json:"clientsRSS"`

	// Seconds is the wall time of each phase: Connect (the baseline), then Reserve, Dial
	// (relayed connections and their streams) and Messages, which make up Relay.
	Seconds struct {
		Connect  float64 `json:"connect"`
		Reserve  float64 `json:"reserve"`
		Dial     float64 `json:"dial"`
		Messages float64 `json:"messages"`
		Relay    float64 `json:"relay"`
	} `json:"seconds"`
	MessagesPerSecond float64 `json:"messagesPerSecond"`
}

// tally counts errors and keeps the first few texts. It is safe for concurrent use.
type tally struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (t *tally) add(what string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if len(t.first) < keptErrors {
		t.first = append(t.first, what+": "+err.Error())
	}
}

// pair is two clients, a and b, with a relayed connection from a to b and a stream each way:
// ab opened by a (b echoes) and ba opened by b (a echoes).
type pair struct {
	a, b   host.Host
	ab, ba network.Stream
	echoes [2]int // intact echoes on ab and on ba
	failed bool
}

// runLoad runs the load described by cfg against the relay. Failures of the relay or of the
// traffic through it are counted in the report; the error is for what prevents a run at all.
func runLoad(ctx context.Context, cfg config) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	say := cfg.progress
	if say == nil {
		say = func(string, ...any) {}
	}
	relayInfo, err := peer.AddrInfoFromP2pAddr(cfg.relay)
	if err != nil {
		return nil, fmt.Errorf("-relay %s: %w", cfg.relay, err)
	}
	transport, transportName, err := clientTransport(cfg.relay)
	if err != nil {
		return nil, err
	}
	rep := &report{
		Relay:           cfg.relay.String(),
		Transport:       transportName,
		Clients:         cfg.clients,
		Pairs:           cfg.clients / 2,
		MessagesPerPair: cfg.messages,
		MessageBytes:    messageSize,
		FirstErrors:     []string{},
	}
	errs := new(tally)
	rss := func() int64 {
		if cfg.pid == 0 {
			return 0
		}
		n, err := readRSS(strconv.Itoa(cfg.pid))
		if err != nil {
			errs.add("reading the relay's memory", err)
		}
		return n
	}
	settle := func() {
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
		}
	}

	// The clients, created before anything is measured.
	hosts := make([]host.Host, cfg.clients)
	var setupMu sync.Mutex
	var setupErr error
	forEach(ctx, cfg.clients, cfg.parallel, func(i int) {
		h, err := newClient(transport)
		if err != nil {
			setupMu.Lock()
			setupErr = errors.Join(setupErr, err)
			setupMu.Unlock()
			return
		}
		hosts[i] = h
	})
	defer closeAll(hosts, cfg.parallel)
	if setupErr != nil {
		return nil, fmt.Errorf("creating clients: %w", setupErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("creating clients: %w", err)
	}
	say("%d clients created; relay over %s", cfg.clients, transportName)

	settle()
	rep.RSS.Before = rss()

	// Baseline: every client connects to the relay (which includes identify) and stays.
	// The relay phase then builds on these same connections instead of starting over with
	// new ones, so that no reading depends on how soon the relay's runtime hands freed
	// memory back to the system: both per-connection figures are growth over the same
	// reading taken before any client came, and their difference is what a reservation and
	// a relayed connection cost beyond the connection itself.
	start := time.Now()
	connected := make([]bool, cfg.clients)
	forEach(ctx, cfg.clients, cfg.parallel, func(i int) {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		if err := hosts[i].Connect(octx, *relayInfo); err != nil {
			errs.add(fmt.Sprintf("client %d: connecting to the relay", i), err)
			return
		}
		connected[i] = true
	})
	rep.Seconds.Connect = time.Since(start).Seconds()
	rep.Connected = count(connected)
	say("%d/%d connected in %.1f s", rep.Connected, cfg.clients, rep.Seconds.Connect)
	settle()
	rep.RSS.Plain = rss()

	// Relay: every connected client reserves a slot.
	start = time.Now()
	reserved := make([]bool, cfg.clients)
	forEach(ctx, cfg.clients, cfg.parallel, func(i int) {
		if !connected[i] {
			return
		}
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		if _, err := client.Reserve(octx, hosts[i], *relayInfo); err != nil {
			errs.add(fmt.Sprintf("client %d: reserving", i), err)
			return
		}
		reserved[i] = true
	})
	rep.Seconds.Reserve = time.Since(start).Seconds()
	rep.Reservations = count(reserved)
	say("%d/%d reserved in %.1f s", rep.Reservations, cfg.clients, rep.Seconds.Reserve)

	// Clients 2p and 2p+1 make pair p: a dials b through the relay, and each opens an echo
	// stream to the other over that one relayed connection.
	dialStart := time.Now()
	pairs := make([]*pair, rep.Pairs)
	forEach(ctx, rep.Pairs, cfg.parallel, func(p int) {
		a, b := 2*p, 2*p+1
		if !reserved[a] || !reserved[b] {
			return // already counted
		}
		pr, err := dialPair(ctx, cfg.relay, hosts[a], hosts[b])
		if err != nil {
			errs.add(fmt.Sprintf("pair %d: %s", p, err.what), err.err)
			return
		}
		pairs[p] = pr
	})
	rep.Seconds.Dial = time.Since(dialStart).Seconds()
	dialled := 0
	for _, pr := range pairs {
		if pr != nil {
			dialled++
		}
	}
	say("%d/%d relayed connections in %.1f s", dialled, rep.Pairs, rep.Seconds.Dial)

	// Every pair at once, both ways at once.
	msgStart := time.Now()
	var wg sync.WaitGroup
	for p, pr := range pairs {
		if pr == nil {
			continue
		}
		for dir, s := range []network.Stream{pr.ab, pr.ba} {
			wg.Go(func() {
				n, err := exchange(s, cfg.messages)
				pr.echoes[dir] = n
				if err != nil {
					errs.add(fmt.Sprintf("pair %d: echo %s", p, [...]string{"a→b", "b→a"}[dir]), err)
				}
			})
		}
	}
	wg.Wait()
	rep.Seconds.Messages = time.Since(msgStart).Seconds()
	rep.Seconds.Relay = time.Since(start).Seconds()
	for _, pr := range pairs {
		if pr != nil {
			rep.MessagesOK += pr.echoes[0] + pr.echoes[1]
		}
	}
	if rep.Seconds.Messages > 0 {
		rep.MessagesPerSecond = float64(rep.MessagesOK) / rep.Seconds.Messages
	}
	say("%d messages echoed in %.1f s", rep.MessagesOK, rep.Seconds.Messages)

	// Everything stays open while the relay's memory is read; then every connection must
	// still be there.
	settle()
	rep.RSS.Relay = rss()
	if n, err := readRSS("self"); err == nil {
		rep.ClientsRSS = n
	}
	for i, h := range hosts {
		if connected[i] && h.Network().Connectedness(relayInfo.ID) != network.Connected {
			errs.add(fmt.Sprintf("client %d", i), errors.New("lost its connection to the relay"))
		}
	}
	for p, pr := range pairs {
		if pr == nil {
			continue
		}
		if pr.a.Network().Connectedness(pr.b.ID()) != network.Limited {
			errs.add(fmt.Sprintf("pair %d", p), errors.New("lost its relayed connection"))
			continue
		}
		if pr.echoes[0] == cfg.messages && pr.echoes[1] == cfg.messages {
			rep.PairsOK++
		}
	}
	for _, pr := range pairs {
		if pr != nil {
			pr.ab.Reset()
			pr.ba.Reset()
		}
	}

	if rep.Connected > 0 && rep.RSS.Plain > 0 {
		rep.BytesPerConn.Plain = (rep.RSS.Plain - rep.RSS.Before) / int64(rep.Connected)
	}
	if rep.Reservations > 0 && rep.RSS.Relay > 0 {
		rep.BytesPerConn.Relay = (rep.RSS.Relay - rep.RSS.Before) / int64(rep.Reservations)
	}
	if err := ctx.Err(); err != nil {
		errs.add("run", fmt.Errorf("stopped before the end: %w", err))
	}
	errs.mu.Lock()
	rep.Errors, rep.FirstErrors = errs.n, append(rep.FirstErrors, errs.first...)
	errs.mu.Unlock()
	return rep, nil
}

// dialError says which step of setting up a pair failed.
type dialError struct {
	what string
	err  error
}

// dialPair connects a to b through the relay at relayAddr and opens an echo stream each way.
func dialPair(ctx context.Context, relayAddr ma.Multiaddr, a, b host.Host) (*pair, *dialError) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	// A relayed connection is limited (in data and time); streams on it must say they accept
	// that.
	ctx = network.WithAllowLimitedConn(ctx, "relay load test")
	circuit := relayAddr.Encapsulate(ma.StringCast("/p2p-circuit"))
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: []ma.Multiaddr{circuit}}); err != nil {
		return nil, &dialError{"dialling through the relay", err}
	}
	ab, err := a.NewStream(ctx, b.ID(), echoProtocol)
	if err != nil {
		return nil, &dialError{"opening a stream a→b", err}
	}
	ba, err := b.NewStream(ctx, a.ID(), echoProtocol)
	if err != nil {
		ab.Reset()
		return nil, &dialError{"opening a stream b→a", err}
	}
	return &pair{a: a, b: b, ab: ab, ba: ba}, nil
}

// exchange writes n random messages on s, one at a time, and reads each back, byte for byte.
// It returns how many came back intact.
func exchange(s network.Stream, n int) (int, error) {
	if err := s.SetDeadline(time.Now().Add(opTimeout)); err != nil {
		return 0, err
	}
	msg, got := make([]byte, messageSize), make([]byte, messageSize)
	for i := range n {
		rand.Read(msg)
		if _, err := s.Write(msg); err != nil {
			return i, fmt.Errorf("message %d: writing: %w", i, err)
		}
		if _, err := io.ReadFull(s, got); err != nil {
			return i, fmt.Errorf("message %d: reading the echo: %w", i, err)
		}
		if !bytes.Equal(got, msg) {
			return i, fmt.Errorf("message %d: the echo differs from what was sent", i)
		}
	}
	return n, nil
}

// echo is the echoProtocol handler: it writes back what it reads until the other side
// closes or resets the stream.
func echo(s network.Stream) {
	if _, err := io.Copy(s, s); err != nil {
		s.Reset()
		return
	}
	s.Close()
}

// clientTransport is the one transport a client needs to dial the relay at a.
func clientTransport(a ma.Multiaddr) (libp2p.Option, string, error) {
	has := func(code int) bool {
		return slices.ContainsFunc(a, func(c ma.Component) bool { return c.Code() == code })
	}
	switch {
	case has(ma.P_WEBTRANSPORT) || has(ma.P_WEBRTC_DIRECT):
		return nil, "", fmt.Errorf("-relay %s: use the relay's QUIC or WebSocket address", a)
	case has(ma.P_QUIC_V1):
		return libp2p.Transport(libp2pquic.NewTransport), "quic-v1", nil
	case has(ma.P_WS):
		return libp2p.Transport(websocket.New), "ws", nil
	}
	return nil, "", fmt.Errorf("-relay %s: neither QUIC nor WebSocket", a)
}

// newClient creates a client the way a browser is one: it listens on no socket and is
// reachable only through a relay at which it holds a reservation. It carries only what the
// test needs, so that this one process can hold hundreds.
func newClient(transport libp2p.Option) (host.Host, error) {
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.InfiniteLimits))
	if err != nil {
		return nil, err
	}
	h, err := libp2p.New(
		libp2p.NoListenAddrs,
		libp2p.EnableRelay(), // which NoListenAddrs turns off
		transport,
		// For the relayed connections, which are upgraded like any stream-based transport.
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(connmgr.NullConnMgr{}),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.Ping(false),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		return nil, err // libp2p.New has closed rm
	}
	h.SetStreamHandler(echoProtocol, echo)
	return h, nil
}

// closeAll closes the hosts that were created, a few at a time.
func closeAll(hosts []host.Host, parallel int) {
	forEach(context.Background(), len(hosts), parallel, func(i int) {
		if hosts[i] != nil {
			hosts[i].Close()
		}
	})
}

// forEach calls f(0), ..., f(n-1), at most parallel at a time, and returns when all calls
// have returned. Once ctx is done it starts no more.
func forEach(ctx context.Context, n, parallel int, f func(i int)) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

func count(xs []bool) int {
	n := 0
	for _, x := range xs {
		if x {
			n++
		}
	}
	return n
}

// readRSS returns the resident set size (VmRSS) of process pid ("self" for this one).
func readRSS(pid string) (int64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%s/status: no VmRSS line in kB", pid)
}

// writeText prints the report for people.
func (r *report) writeText(w io.Writer) {
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	kib := func(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
	fmt.Fprintf(w, "relay %s (%s)\n", r.Relay, r.Transport)
	fmt.Fprintf(w, "clients %d: connected %d in %.1f s, reserved %d in %.1f s\n",
		r.Clients, r.Connected, r.Seconds.Connect, r.Reservations, r.Seconds.Reserve)
	fmt.Fprintf(w, "pairs %d: relayed connections in %.1f s, %d pairs ok, %d of %d messages (%d bytes) echoed in %.1f s, %.0f/s\n",
		r.Pairs, r.Seconds.Dial, r.PairsOK, r.MessagesOK, 2*r.Pairs*r.MessagesPerPair, r.MessageBytes, r.Seconds.Messages, r.MessagesPerSecond)
	if r.RSS.Before > 0 {
		fmt.Fprintf(w, "relay RSS: %s before, %s with plain connections, %s with reservations and relayed connections\n",
			mib(r.RSS.Before), mib(r.RSS.Plain), mib(r.RSS.Relay))
		fmt.Fprintf(w, "relay memory per connection: %s plain, %s with a reservation and relayed connection\n",
			kib(r.BytesPerConn.Plain), kib(r.BytesPerConn.Relay))
	}
	if r.ClientsRSS > 0 {
		fmt.Fprintf(w, "this process (all clients): %s\n", mib(r.ClientsRSS))
	}
	fmt.Fprintf(w, "errors: %d\n", r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
}
