// Relayload puts a running serve's relay node under load: many native go-libp2p clients in
// this one process connect to it, each reserves a relay slot (circuit relay v2), and they pair
// up to dial each other through the relay and echo messages across the relayed connections,
// all of them connected at once. It reports errors, throughput and the relay process's
// resident memory (VmRSS) per connection, against plain connections as the baseline. `make
// bench` runs it (web/test/bench/bench.js).
//
// Usage:
//
//	relayload -relay /ip4/127.0.0.1/udp/<port>/quic-v1/p2p/<peer> -pid <serve's pid>
//	          [-clients 500] [-messages 20] [-parallel 16] [-settle 2s] [-timeout 5m] [-json]
//
// -relay is one of the addresses serve publishes at /.well-known/planet/relay.json, over QUIC
// (.../quic-v1/p2p/...) or WebSocket (.../tcp/<port>/ws/p2p/...). serve's defaults admit 128
// reservations, 8 from one IP address; since every client here comes from the same address,
// serve must be started with room for them all, for 500 clients for example
//
//	serve -addr 127.0.0.1:0 -relay-port 0 -data <dir> \
//	      -relay-max-reservations 1000 -relay-reservations-per-ip 1000
//
// (-relay-max-circuits, the circuits per peer, needs no change: each client has one).
//
// It exits 1 if anything failed (a connection, reservation, relayed dial, stream or echo),
// after printing the report, and 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, asJSON, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "relayload:", err)
		}
		return 2
	}
	cfg.progress = func(format string, a ...any) {
		fmt.Fprintf(stderr, "relayload: "+format+"\n", a...)
	}
	rep, err := runLoad(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "relayload:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "relayload:", err)
			return 1
		}
	} else {
		rep.writeText(stdout)
	}
	if rep.Errors > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, bool, error) {
	c := config{}
	var relay string
	var asJSON bool
	fs := flag.NewFlagSet("relayload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&relay, "relay", "", "`multiaddr` of the relay node, QUIC or WebSocket, ending in /p2p/<peer ID> (from relay.json)")
	fs.IntVar(&c.pid, "pid", 0, "process `id` of the relay (serve), whose VmRSS is measured; 0 measures nothing")
	fs.IntVar(&c.clients, "clients", 500, "native clients, connected at once (an even number: they pair up)")
	fs.IntVar(&c.messages, "messages", 20, "messages echoed each way across each pair's relayed connection")
	fs.IntVar(&c.parallel, "parallel", 16, "connections, reservations and relayed dials under way at once")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "pause before each memory reading, for the relay to finish its work")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if relay == "" {
		return c, false, errors.New("-relay is required")
	}
	a, err := ma.NewMultiaddr(relay)
	if err != nil {
		return c, false, fmt.Errorf("-relay %q: %w", relay, err)
	}
	c.relay = a
	switch {
	case c.clients < 2 || c.clients%2 != 0:
		return c, false, fmt.Errorf("-clients %d: must be an even number, at least 2", c.clients)
	case c.messages < 1:
		return c, false, fmt.Errorf("-messages %d: must be at least 1", c.messages)
	case c.parallel < 1:
		return c, false, fmt.Errorf("-parallel %d: must be at least 1", c.parallel)
	case c.pid < 0:
		return c, false, fmt.Errorf("-pid %d: not a process id", c.pid)
	case c.timeout <= 0:
		return c, false, fmt.Errorf("-timeout %s: must be positive", c.timeout)
	}
	return c, asJSON, nil
}
