// Serve is PLANET's own small web server. It serves the page, the wasm core and the service
// worker from memory, answers DID resolution requests at /1.0/identifiers/{did} (did:key and
// did:peer:2, in the style of the DIF Universal Resolver), and runs a libp2p relay node beside
// them (circuit relay v2 over WebSocket, WebTransport and WebRTC-direct), whose addresses it
// publishes at /.well-known/planet/relay.json, and on that node the mailbox, which keeps sealed
// letters in <data>/mailbox.db for people who are offline (docs/protocols/mailbox.md). Beside
// them runs a DIDComm v2 mediator at /didcomm (HTTP POST) and /didcomm/ws (WebSocket), which
// holds encrypted DIDComm messages from anyone on the First Person Network for its clients, with
// its key and store in <data> (docs/mediator.md).
//
// Usage:
//
//	serve [-addr 127.0.0.1:8080] [-root build/www] [-data build/data]
//	      [-relay=true] [-relay-port 8081] [-relays multiaddr,...] [-relay-... limits]
//	      [-mailbox-... limits] [-public-url URL] [-mediator-... limits]
//	serve -precompress [-root build/www]
//
// When serving, it prints exactly one line to standard output,
//
//	PLANET serving on http://127.0.0.1:8080/
//
// with the address it actually bound (so -addr 127.0.0.1:0 works for scripts and tests),
// and logs the relay node's peer ID and addresses, then one line per request, to standard
// error. The relay listens on the host of -addr; docs/relay.md describes it and its flags.
// SIGINT or SIGTERM shut it down gracefully: requests in flight finish, the relay node
// closes, then it exits 0.
//
// With -precompress it writes f.br and f.gz beside every compressible file under -root and
// exits; the build runs it once so that serving later needs no slow compression.
//
// This package parses the flags and wires the parts together; each part is a package: the
// static site (serve/site), the relay node (serve/relay), the mailbox (serve/mailboxstore),
// the mediator (serve/mediator) and the resolver (serve/resolver).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"planet/serve/mailboxstore"
	"planet/serve/mediator"
	"planet/serve/pagesite"
	"planet/serve/relay"
	"planet/serve/resolver"
	"planet/serve/site"
	"planet/serve/webvhhost"
)

// shutdownTimeout bounds how long a graceful shutdown waits for requests in flight; a client
// still downloading the wasm over a slow link after that is cut off.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default handling so that a second Ctrl-C ends
		// a shutdown that hangs.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// config is what the command line asks for.
type config struct {
	addr        string
	root        string
	data        string
	precompress bool
	publicURL   string
	relay       relay.Config
	mailbox     mailboxstore.Config
	mediator    mediator.Config
	pages       webvhhost.Config
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{relay: relay.DefaultConfig()}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.root, "root", "build/www", "`directory` of the files to serve (the page, planet.wasm, wasm_exec.js)")
	fs.StringVar(&c.data, "data", "build/data", "`directory` for the server's own data (created with mode 0700)")
	fs.BoolVar(&c.precompress, "precompress", false, "write f.br and f.gz beside every compressible file under -root, then exit")
	fs.StringVar(&c.publicURL, "public-url", "", "the `URL` at which others reach this server, as the mediator's DID publishes it (default: http:// and the address it listens on)")
	c.relay.AddFlags(fs)
	c.mailbox.AddFlags(fs)
	c.mediator.AddFlags(fs)
	c.pages.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := c.relay.Check(); err != nil {
		return c, err
	}
	return c, nil
}

// run is the whole command; it returns when ctx is cancelled (by a signal) and the server has
// shut down, or on the first error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	if c.precompress {
		return site.Precompress(c.root, log)
	}

	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	static, err := site.Load(c.root, log)
	if err != nil {
		return err
	}

	var node *relay.Node // nil with -relay=false
	if c.relay.Enabled {
		host, _, err := net.SplitHostPort(c.addr)
		if err != nil {
			return fmt.Errorf("-addr %q: %w", c.addr, err)
		}
		c.relay.Host = host
		// The mailbox keeps sealed letters for people who are offline, on the relay's host,
		// from its first connection on.
		mbox, err := mailboxstore.Open(filepath.Join(c.data, "mailbox.db"), c.mailbox, log)
		if err != nil {
			return err
		}
		if node, err = relay.Start(ctx, c.relay, c.data, log, mbox.Attach); err != nil {
			mbox.Close()
			return err
		}
		// Closed after the web server below, on every path: the mailbox's handlers may be
		// serving requests that use it. The mailbox goes first, waiting for its streams.
		defer func() {
			mbox.Close()
			if err := node.Close(); err != nil {
				log.Warn("closing the relay node", "err", err)
			}
		}()
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := c.publicURL
	if base == "" {
		base = siteURL(ln.Addr())
	}
	endpoints, err := mediatorEndpoints(base)
	if err != nil {
		ln.Close()
		return err
	}
	med, err := mediator.Open(c.data, endpoints, c.mediator, log)
	if err != nil {
		ln.Close()
		return err
	}
	// Closed after the web server, whose handlers use it.
	defer med.Close()
	// People's did:webvh logs and files (docs/pages-hosting.md), and their
	// public pages rendered from them (docs/pages.md).
	c.pages.PublicURL, c.pages.Log = base, log
	host, err := webvhhost.Open(filepath.Join(c.data, "pages"), c.pages)
	if err != nil {
		ln.Close()
		return err
	}
	parts := serverParts{
		site:     static,
		resolve:  resolver.NewWithWebVH(host.Resolver(webvhhost.ResolverOptions{})),
		mediate:  med.Handler(),
		host:     host,
		pageSite: pagesite.New(host, pagesite.Options{Files: host, RelMe: pagesite.NewRelMe(pagesite.RelMeOptions{})}),
	}
	h := relay.InfoHandler(node, c.relay.Relays, routes(parts))
	srv := newServer(site.LogRequests(h, log), log)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "PLANET serving on %s\n", siteURL(ln.Addr()))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer returns an http.Server with timeouts, so that a slow or idle client cannot hold a
// connection (and its goroutine) forever.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The largest body is a page's file (1 MiB by default).
		ReadTimeout: 30 * time.Second,
		// Generous: planet.wasm is megabytes, and a phone on a poor link is a real client.
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// siteURL is the URL to open for a listener's address. An unspecified host (":8080",
// "0.0.0.0:8080") is shown as 127.0.0.1, the default -addr's host, because the browser keeps a
// vault per origin: sending the user to localhost one day and 127.0.0.1 the next would show
// them an empty vault.
func siteURL(a net.Addr) string {
	host, port := a.String(), ""
	if t, ok := a.(*net.TCPAddr); ok {
		host, port = t.IP.String(), strconv.Itoa(t.Port)
		if t.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + "/"
}

// serverParts are the handlers routes chooses between.
type serverParts struct {
	site     http.Handler // the page and everything else
	resolve  http.Handler // the DID resolver
	mediate  http.Handler // the DIDComm mediator
	host     *webvhhost.Host
	pageSite http.Handler // the public pages, rendered
}

// routes is the server's handler: the resolver under resolver.Prefix, the
// DIDComm mediator at its paths, people's pages under /<name>/ (rendered
// pages and files for reading, the host for publishing), where the host's
// DIDs are at /pages.json, and the static site for every other path.
func routes(parts serverParts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		_, isName := webvhhost.NamePath(p)
		switch {
		case strings.HasPrefix(p, resolver.Prefix):
			parts.resolve.ServeHTTP(w, r)
		case p == mediator.Path || p == mediator.WebSocketPath:
			parts.mediate.ServeHTTP(w, r)
		case parts.host != nil && p == pagesInfoPath:
			servePagesInfo(w, r, parts.host)
		case parts.host != nil && strings.HasPrefix(p, pagesite.AssetsPrefix):
			parts.pageSite.ServeHTTP(w, r)
		case parts.host != nil && isName && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			parts.pageSite.ServeHTTP(w, r)
		case parts.host != nil && (isName || r.Method == http.MethodPut || r.Method == http.MethodDelete):
			// Writes go to the host whatever the name, so that a reserved or
			// malformed one is told why it cannot be had.
			parts.host.ServeHTTP(w, r)
		default:
			parts.site.ServeHTTP(w, r)
		}
	})
}

// pagesInfoPath is where a tab learns under which host and port this
// server's DIDs are: the host of its public URL (planet.localhost on
// loopback: did:webvh names no IP address).
const pagesInfoPath = "/pages.json"

func servePagesInfo(w http.ResponseWriter, r *http.Request, host *webvhhost.Host) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, port := host.Location()
	// A tab on another server asks it before moving a DID here.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(map[string]any{"host": name, "port": port, "didPrefix": host.DIDPrefix()})
}

// mediatorEndpoints are the mediator's URLs under the server's base URL.
func mediatorEndpoints(base string) (mediator.Endpoints, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return mediator.Endpoints{}, fmt.Errorf("-public-url %q: want an http:// or https:// URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	return mediator.Endpoints{HTTP: u.String() + mediator.Path, WebSocket: ws.String() + mediator.WebSocketPath}, nil
}
