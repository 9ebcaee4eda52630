package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"planet/serve/mailboxstore"
	"planet/serve/mediator"
	"planet/serve/relay"
	"planet/serve/resolver"
	"planet/serve/response"
	"planet/serve/servetest"
	"planet/serve/site"
	"planet/serve/webvhhost"
)

// TestHTTPServer runs the site and the resolver behind the request log in a real http.Server on a loopback
// port, talks real HTTP to it, and shuts it down while a download is in flight.
func TestHTTPServer(t *testing.T) {
	d := testSite(t)
	var logs servetest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv := newServer(site.LogRequests(routes(serverParts{site: d.site, resolve: resolver.New(), mediate: http.NotFoundHandler()}), log), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := siteURL(ln.Addr())

	resp, body := servetest.Get(t, base, "Accept-Encoding", "gzip, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("GET /: %s, encoding %q", resp.Status, resp.Header.Get("Content-Encoding"))
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("GET /: Content-Length %d, transfer encoding %v, body %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	if !bytes.Equal(servetest.Decode(t, "br", body), d.files["index.html"]) {
		t.Error("GET /: wrong body")
	}
	if resp.Header.Get("Content-Security-Policy") != response.ContentSecurityPolicy {
		t.Error("GET /: no CSP")
	}
	resp, _ = servetest.Get(t, base, "Accept-Encoding", "gzip, br", "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating /: %s", resp.Status)
	}

	// The large wasm arrives whole with its length announced, not chunked.
	resp, body = servetest.Get(t, base+"planet.wasm", "Accept-Encoding", "gzip")
	if resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /planet.wasm: Content-Length %d, body %d bytes, encoding %q", resp.ContentLength, len(body), resp.Header.Get("Content-Encoding"))
	}
	if !bytes.Equal(servetest.Decode(t, "gzip", body), d.files["planet.wasm"]) {
		t.Error("GET /planet.wasm: wrong body")
	}

	// A raw request line with "..", which a client library would clean up first.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /../site.go HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	conn.Close()
	if !bytes.HasPrefix(raw, []byte("HTTP/1.1 400 ")) || bytes.Contains(raw, []byte("package main")) {
		t.Errorf("GET /../site.go:\n%s", raw)
	}

	// One log line per request, with what an operator needs, the resolver's too.
	if resp, _ := servetest.Get(t, base+"1.0/identifiers/did:web:example.com"); resp.StatusCode != 501 {
		t.Errorf("GET did:web: %s", resp.Status)
	}
	if resp, _ := servetest.Get(t, base+"no-such-file.js"); resp.StatusCode != 404 {
		t.Errorf("GET /no-such-file.js: %s", resp.Status)
	}
	line := regexp.MustCompile(`msg=request method=GET path=/planet.wasm status=200 bytes=\d+ dur=\S+ enc=gzip remote=127\.0\.0\.1:\d+`)
	if !line.MatchString(logs.String()) {
		t.Errorf("no request line for /planet.wasm in the log:\n%s", logs.String())
	}
	line = regexp.MustCompile(`msg=request method=GET path=/1.0/identifiers/did:web:example.com status=501 `)
	if !line.MatchString(logs.String()) {
		t.Errorf("no request line for the resolver in the log:\n%s", logs.String())
	}

	// Shut down while a response is being read: it still arrives whole.
	req, _ := http.NewRequest("GET", base+"planet.wasm", nil)
	resp, err = servetest.NoCompression.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(append(head, rest...), d.files["planet.wasm"]) {
		t.Errorf("download during shutdown: %v, %d bytes", err, len(head)+len(rest))
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if _, err := servetest.NoCompression.Get(base); err == nil {
		t.Error("the server still answers after Shutdown")
	}
}

// smallRoot writes a small site for the tests that start the whole command.
func smallRoot(t *testing.T) string {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{
		"index.html": []byte("<!doctype html><title>PLANET</title>" + strings.Repeat("<p>hello</p>", 200)),
		"sw.js":      []byte(`const BUILD = "__PLANET_BUILD__";`),
	})
	return root
}

var servingLine = regexp.MustCompile(`^PLANET serving on (http://127\.0\.0\.1:[1-9][0-9]*/)\n$`)

// startRun runs the command in-process with args and returns the site's URL from the
// first line it prints, its standard error, and a function that stops it and returns its
// error.
func startRun(t *testing.T, args ...string) (url string, stderr *servetest.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr = new(servetest.Buffer)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, pw, stderr)
		pw.Close()
	}()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })

	line, rerr := bufio.NewReader(pr).ReadString('\n')
	if rerr != nil {
		t.Fatalf("reading the first line: %v (stderr: %s)", rerr, stderr.String())
	}
	m := servingLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	return m[1], stderr, stop
}

// TestRun runs the command in-process, from its arguments to a graceful stop, with the relay
// node beside the web server.
func TestRun(t *testing.T) {
	root, data := smallRoot(t), filepath.Join(t.TempDir(), "data", "server")
	other := "/dns4/relay.example/tcp/443/wss/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m"
	url, stderr, stop := startRun(t, "-addr", "127.0.0.1:0", "-root", root, "-data", data,
		"-relay-port", "0", "-relays", other)

	resp, _ := servetest.Get(t, url)
	if resp.StatusCode != 200 {
		t.Errorf("GET /: %s", resp.Status)
	}
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v", fi, err)
	}

	// The page finds its relay on its own origin.
	resp, body := servetest.Get(t, url+".well-known/planet/relay.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Content-Security-Policy") != response.ContentSecurityPolicy {
		t.Fatalf("GET relay.json: %s %v", resp.Status, resp.Header)
	}
	var info relay.Info
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("relay.json: %v\n%s", err, body)
	}
	raw, err := os.ReadFile(filepath.Join(data, relay.KeyFile))
	if err != nil {
		t.Fatalf("the relay key was not kept: %v", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	if info.Peer != id.String() {
		t.Errorf("relay.json peer %q, key file's %s", info.Peer, id)
	}
	if !slices.Equal(info.Relays, []string{other}) {
		t.Errorf("relay.json relays %q, want %q", info.Relays, other)
	}
	var ws ma.Multiaddr
	found := map[string]bool{}
	for _, s := range info.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			t.Fatalf("relay.json address %q: %v", s, err)
		}
		if _, last := ma.SplitLast(a); last == nil || last.Code() != ma.P_P2P || last.Value() != id.String() {
			t.Errorf("address %s does not end in /p2p/%s", a, id)
		}
		if ip, _ := a.ValueForProtocol(ma.P_IP4); ip != "127.0.0.1" {
			t.Errorf("address %s is not on -addr's host", a)
		}
		certhash := servetest.HasProtocol(a, ma.P_CERTHASH)
		switch {
		case servetest.HasProtocol(a, ma.P_WS):
			found["ws"], ws = true, a
		case servetest.HasProtocol(a, ma.P_WEBTRANSPORT):
			found["webtransport"] = certhash
		case servetest.HasProtocol(a, ma.P_WEBRTC_DIRECT):
			found["webrtc-direct"] = certhash
		}
	}
	for _, want := range []string{"ws", "webtransport", "webrtc-direct"} {
		if !found[want] {
			t.Errorf("relay.json has no %s address (with /certhash/ where needed): %q", want, info.Addrs)
		}
	}
	if !strings.Contains(stderr.String(), "msg=\"relay node started\" peer="+id.String()) {
		t.Errorf("the relay's peer ID is not in the log:\n%s", stderr.String())
	}

	// A peer reaches the published WebSocket address.
	ai, err := peer.AddrInfoFromP2pAddr(ws)
	if err != nil {
		t.Fatal(err)
	}
	h := servetest.Peer(t)
	if err := h.Connect(servetest.Context(t), *ai); err != nil {
		t.Fatalf("connecting to %s: %v", ws, err)
	}

	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(stderr.String(), "msg=request method=GET path=/ status=200") {
		t.Errorf("no request in the log:\n%s", stderr.String())
	}
	// The relay node went down with the web server.
	if !servetest.Within(5*time.Second, func() bool { return len(h.Network().ConnsToPeer(id)) == 0 }) {
		t.Error("still connected to the relay after shutdown")
	}
	tcp, _ := ws.ValueForProtocol(ma.P_TCP)
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+tcp, time.Second); err == nil {
		c.Close()
		t.Error("the relay's WebSocket port still accepts connections after shutdown")
	}
}

// TestRunWithoutRelay: -relay=false starts no node (and makes no key); relay.json then lists
// only the -relays given, or is not found.
func TestRunWithoutRelay(t *testing.T) {
	root, data := smallRoot(t), t.TempDir()
	url, stderr, stop := startRun(t, "-addr", "127.0.0.1:0", "-root", root, "-data", data, "-relay=false")
	if resp, _ := servetest.Get(t, url+".well-known/planet/relay.json"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("relay.json with no relay: %s", resp.Status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, relay.KeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a relay key was made: %v", err)
	}
	if strings.Contains(stderr.String(), "relay node started") {
		t.Errorf("a relay node started:\n%s", stderr.String())
	}

	other := "/ip4/192.0.2.1/udp/4001/quic-v1/webtransport/p2p/12D3KooWGRUVh7R5Ls1XDfUEKhNCEbZczQcqrWaH8TNpUMPGQg9m"
	url, _, _ = startRun(t, "-addr", "127.0.0.1:0", "-root", root, "-data", data, "-relay=false", "-relays", other)
	resp, body := servetest.Get(t, url+".well-known/planet/relay.json")
	if want := `{"addrs":[],"relays":["` + other + `"]}` + "\n"; resp.StatusCode != 200 || string(body) != want {
		t.Errorf("relay.json with only -relays: %s %s, want %s", resp.Status, body, want)
	}
}

func TestFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{addr: "127.0.0.1:8080", root: "build/www", data: "build/data", relay: relay.Config{
		Enabled: true, Port: 8081,
		MaxReservations: 128, MaxCircuits: 16, ReservationsPerIP: 8, ReservationTTL: time.Hour,
		LimitData: 1 << 20, LimitDuration: 10 * time.Minute,
	}, mailbox: mailboxstore.Config{
		MaxLetters: 1000, MaxBytes: 16 << 20, MaxTotalBytes: 1 << 30,
		Retention: 30 * 24 * time.Hour, StreamTimeout: 5 * time.Minute,
	}, mediator: mediator.Config{
		MaxMessages: 1000, MaxBytes: 16 << 20, MaxTotalBytes: 1 << 30, MaxMessage: 256 << 10,
		MaxPerSender: 100, MaxBytesPerSender: 2 << 20,
		Retention: 30 * 24 * time.Hour,
	}, pages: webvhhost.Config{
		MaxNameBytes: 8 << 20, MaxFileBytes: 1 << 20, MaxFiles: 1000, MaxLogBytes: 1 << 20,
	}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("a stray argument was accepted")
	}
	if err := run(context.Background(), []string{"-root", filepath.Join(t.TempDir(), "none"), "-data", t.TempDir(), "-addr", "127.0.0.1:0", "-relay-port", "0"}, io.Discard, io.Discard); err == nil {
		t.Error("a missing root was accepted")
	}
	// A bad -relays entry stops the start with an error that names it.
	var stdout bytes.Buffer
	err = run(context.Background(), []string{"-root", smallRoot(t), "-data", t.TempDir(), "-addr", "127.0.0.1:0", "-relay-port", "0", "-relays", "/ip4/192.0.2.1/tcp/443/wss"}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-relays") || !strings.Contains(err.Error(), "/ip4/192.0.2.1/tcp/443/wss") || stdout.Len() != 0 {
		t.Errorf("bad -relays: %v, stdout %q", err, stdout.String())
	}
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/",
		"[::]:8080":      "http://127.0.0.1:8080/",
		"[::1]:9":        "http://[::1]:9/",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := siteURL(a); got != want {
			t.Errorf("siteURL(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestCommand builds the command and runs it as a script would: read the URL from its first
// line, use it, stop it with SIGTERM, and expect a clean exit.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("stops the command with SIGTERM")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "serve")
	if out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	root, data := smallRoot(t), filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-root", root, "-data", data, "-relay-port", "0")
	var stderr servetest.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	out := bufio.NewReader(stdout)
	lines := make(chan string, 1)
	go func() {
		line, _ := out.ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		t.Fatalf("no line on stdout; stderr:\n%s", stderr.String())
	}
	m := servingLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q; stderr:\n%s", line, stderr.String())
	}

	resp, body := servetest.Get(t, m[1])
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.HasPrefix(body, []byte("<!doctype html>")) {
		t.Errorf("GET /: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	resp, body = servetest.Get(t, m[1]+"sw.js")
	if resp.StatusCode != 200 || bytes.Contains(body, []byte("__PLANET_BUILD__")) {
		t.Errorf("GET /sw.js: %s %s", resp.Status, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out) // ends when the process closes stdout
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
	}
	if len(rest) != 0 {
		t.Errorf("more on stdout than the one line: %q", rest)
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v", fi, err)
	}
	if !strings.Contains(stderr.String(), "shutting down") || !strings.Contains(stderr.String(), "relay node started") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestRoutes checks that the resolver takes only its own paths and the site
// keeps the rest, unknown paths still refused.
func TestRoutes(t *testing.T) {
	h := routes(serverParts{site: testSite(t).site, resolve: resolver.New(), mediate: http.NotFoundHandler()})
	for _, tc := range []struct {
		target string
		status int
		ctype  string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/app.js", 200, "text/javascript; charset=utf-8"},
		{"/1.0/identifiers/" + testDIDKey, 200, mediaResolutionResult},
		{"/1.0/identifiers/", 400, mediaResolutionResult},
		{"/1.0/identifiers", 404, "text/plain; charset=utf-8"},
		{"/1.0/", 404, "text/plain; charset=utf-8"},
		{"/1.0/identifiers-x/" + testDIDKey, 404, "text/plain; charset=utf-8"},
		{"/1.0/identifiers/../index.html", 400, mediaResolutionResult},
	} {
		w := servetest.Do(h, "GET", tc.target)
		if w.Code != tc.status || w.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: %d %q, want %d %q", tc.target, w.Code, w.Header().Get("Content-Type"), tc.status, tc.ctype)
		}
	}
}

// testDIDKey is a DID the resolver resolves by itself.
const testDIDKey = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

// mediaResolutionResult is the type of the resolver's answers.
const mediaResolutionResult = `application/ld+json;profile="https://w3id.org/did-resolution"`

// loadedSite is a site loaded from files written for the test.
type loadedSite struct {
	site  *site.Site
	files map[string][]byte
}

// testSite is a site with a page, a script and a 2 MB wasm that compresses.
func testSite(t *testing.T) loadedSite {
	t.Helper()
	wasm := make([]byte, 2<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range wasm {
		wasm[i] = "abcdefgh"[rng.IntN(8)]
	}
	files := map[string][]byte{
		"index.html":  []byte("<!doctype html><title>PLANET</title>" + strings.Repeat("<p>hello</p>", 200)),
		"app.js":      []byte(strings.Repeat("console.log('hello');\n", 100)),
		"planet.wasm": wasm,
	}
	root := t.TempDir()
	writeFiles(t, root, files)
	s, err := site.Load(root, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return loadedSite{site: s, files: files}
}

// writeFiles writes files (by slash-separated name) under dir.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
