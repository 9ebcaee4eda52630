// Mediatorload puts the DIDComm mediator (serve/mediator) under load: many clients, each
// holding a WebSocket in live pickup mode, receive messages that senders forward to them over
// HTTP POST, all of them connected at once. It counts and checks every message, and reports
// messages per second from the POST to the live delivery, the latency of each, and the
// server's memory per client (Go heap and resident memory). `make bench` runs it
// (web/test/bench/bench.js).
//
// Usage:
//
//	mediatorload [-clients 500] [-messages 10] [-alone 100] [-senders 4] [-size 1024]
//	             [-parallel 16] [-settle 1s] [-timeout 5m] [-json]
//
// It starts its servers itself, each a process of its own made from this same program:
//
//	mediatorload -serve mediator -data <dir>   the mediator, as serve runs it: mediator.Open
//	                                           with serve's default limits, and its handler
//	mediatorload -serve floor                  the baseline: the same HTTP server and WebSocket
//	                                           library, delivering each POST's bytes as they are
//
// Each prints "mediatorload serving on http://127.0.0.1:<port>/" and serves until its standard
// input closes. Besides its own paths, each answers GET /stats with its resident memory
// (VmRSS), CPU time and Go heap, the heap read after a collection when asked with ?gc=1.
//
// Clients are Go, in this process: the mediator's clients are DIDComm agents (core/didcomm)
// that ask for mediation, register a DID and turn live delivery on, over their WebSocket; the
// floor's say hello. Then every message is forwarded by a sender over HTTP POST, delivered
// live, checked byte for byte against what the sender forwarded, and acknowledged.
//
// It exits 1 if anything failed (a connection, a setup step, a POST, a delivery missing, late,
// doubled, misrouted or altered, an acknowledgement unanswered), after printing the report,
// and 2 on bad usage.
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, mode, asJSON, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "mediatorload:", err)
		}
		return 2
	}
	if mode.serve != "" {
		if err := serve(ctx, mode.serve, mode.data, stdin, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "mediatorload:", err)
			return 1
		}
		return 0
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "mediatorload: finding this program to start its servers:", err)
		return 1
	}
	cfg.bin = bin
	cfg.progress = func(format string, a ...any) {
		fmt.Fprintf(stderr, "mediatorload: "+format+"\n", a...)
	}
	rep, err := runLoad(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "mediatorload:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "mediatorload:", err)
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

// serverMode is what -serve and -data ask for: a server process instead of a load.
type serverMode struct {
	serve string // "mediator", "floor", or "" for the load
	data  string // the mediator's data directory
}

func parseFlags(args []string, stderr io.Writer) (config, serverMode, bool, error) {
	c := config{}
	var mode serverMode
	var asJSON bool
	fs := flag.NewFlagSet("mediatorload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.clients, "clients", 500, "clients, each holding a WebSocket in live mode, all at once")
	fs.IntVar(&c.messages, "messages", 10, "messages forwarded to each client")
	fs.IntVar(&c.senders, "senders", 4, "POSTs under way at once, under load")
	fs.IntVar(&c.alone, "alone", 100, "messages sent first one at a time, each once the one before was delivered")
	fs.IntVar(&c.size, "size", 1024, "`bytes` of text in each basic message")
	fs.IntVar(&c.parallel, "parallel", 16, "clients connecting and setting up at once")
	fs.DurationVar(&c.settle, "settle", time.Second, "pause before each memory reading, for the server to finish its work")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&mode.serve, "serve", "", "run a server instead of the load: `mediator` or floor")
	fs.StringVar(&mode.data, "data", "", "the mediator server's data `directory` (with -serve mediator)")
	if err := fs.Parse(args); err != nil {
		return c, mode, false, err
	}
	if fs.NArg() > 0 {
		return c, mode, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch mode.serve {
	case "":
		if mode.data != "" {
			return c, mode, false, errors.New("-data goes with -serve mediator")
		}
	case serveMediator:
		if mode.data == "" {
			return c, mode, false, errors.New("-serve mediator needs -data")
		}
		return c, mode, false, nil
	case serveFloor:
		if mode.data != "" {
			return c, mode, false, errors.New("-data goes with -serve mediator")
		}
		return c, mode, false, nil
	default:
		return c, mode, false, fmt.Errorf("-serve %q: mediator or floor", mode.serve)
	}
	switch {
	case c.clients < 1:
		return c, mode, false, fmt.Errorf("-clients %d: must be at least 1", c.clients)
	case c.messages < 1:
		return c, mode, false, fmt.Errorf("-messages %d: must be at least 1", c.messages)
	case c.senders < 1:
		return c, mode, false, fmt.Errorf("-senders %d: must be at least 1", c.senders)
	case c.alone < 0:
		return c, mode, false, fmt.Errorf("-alone %d: must not be negative", c.alone)
	case c.size < 1 || c.size > maxSize:
		return c, mode, false, fmt.Errorf("-size %d: must be 1 to %d", c.size, maxSize)
	case c.parallel < 1:
		return c, mode, false, fmt.Errorf("-parallel %d: must be at least 1", c.parallel)
	case c.settle < 0:
		return c, mode, false, fmt.Errorf("-settle %s: must not be negative", c.settle)
	case c.timeout <= 0:
		return c, mode, false, fmt.Errorf("-timeout %s: must be positive", c.timeout)
	}
	return c, mode, asJSON, nil
}
