//go:build !js

package webrtc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ws "github.com/libp2p/go-libp2p/p2p/transport/websocket"
	webtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
	ma "github.com/multiformats/go-multiaddr"
)

// The browser tests read these variables (wasmbrowsertest hands the
// environment of the go test process to the page).
const (
	envRelay        = "PLANET_TEST_RELAY"        // relay over WebSocket, with /p2p
	envWebTransport = "PLANET_TEST_WEBTRANSPORT" // the same host over WebTransport, with /p2p
	envSocket       = "PLANET_TEST_SOCKET"       // plain WebSocket server (see socketServer)
	envRefused      = "PLANET_TEST_REFUSED"      // a WebSocket address nobody listens on
)

// echoProtocol is served by the native host: it copies a stream back to
// its writer until the writer closes its side.
const echoProtocol = "/planet/test/echo/1"

// TestInChromium runs this package's browser tests (the js/wasm test
// files) inside headless Chromium, against a native go-libp2p host on
// loopback that relays (circuit v2), answers ping and identify, and
// listens on WebSocket and WebTransport; and against a plain WebSocket
// server for the byte-stream tests.
func TestInChromium(t *testing.T) {
	runner, chromium := browserTools(t)

	h := startRelay(t)
	env := []string{
		"GOOS=js", "GOARCH=wasm",
		envRelay + "=" + addrWith(t, h, ma.P_WS),
		envWebTransport + "=" + addrWith(t, h, ma.P_WEBTRANSPORT),
		envSocket + "=" + startSocketServer(t),
		envRefused + "=" + refusedAddr(t),
	}
	for _, e := range env[2:] {
		t.Log(e)
	}

	// wasmbrowsertest starts the first headless_shell on PATH; this one
	// adds the flags a root, offline, headless machine needs.
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nexec " + chromium + " --no-sandbox --disable-gpu --no-first-run" +
		" --disable-background-networking --disable-component-update --disable-sync" +
		// WebRTC between two hosts of the page over loopback: media capture
		// granted without asking (so ICE shows 127.0.0.1, not mDNS names).
		" --use-fake-ui-for-media-stream --use-fake-device-for-media-stream --allow-loopback-in-peer-connection" +
		" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "headless_shell"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	args := []string{"test", "-count=1", "-v", "-exec=" + runner}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so that a timeout stops the runner and the
	// browser it started, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestHostThroughRelay")) || !bytes.Contains(out, []byte("--- PASS: TestWebRTCEcho")) {
		t.Fatal("the browser tests did not run")
	}
}

// browserTools finds wasmbrowsertest and Chromium. Missing either fails
// the test under CI and skips it elsewhere.
func browserTools(t *testing.T) (runner, chromium string) {
	t.Helper()
	missing := func(what string) {
		msg := what + " not found: `make deps` installs Chromium and builds build/bin/wasmbrowsertest"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	runner = filepath.Join(root, "build", "bin", "wasmbrowsertest")
	if _, err := os.Stat(runner); err != nil {
		if runner, err = exec.LookPath("wasmbrowsertest"); err != nil {
			missing("wasmbrowsertest")
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if chromium, err = exec.LookPath(name); err == nil {
			return runner, chromium
		}
	}
	missing("Chromium")
	return "", ""
}

// startRelay starts a native go-libp2p host on 127.0.0.1 listening on
// WebSocket and WebTransport, running the circuit v2 relay service, ping,
// identify and the echo protocol.
func startRelay(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/udp/0/quic-v1/webtransport"),
		libp2p.Transport(ws.New),
		libp2p.Transport(webtransport.New),
		libp2p.DisableRelay(), // the relay client; the service is added below
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	res := relayv2.DefaultResources()
	res.MaxReservationsPerIP = 64 // every browser host comes from 127.0.0.1
	r, err := relayv2.New(h, relayv2.WithResources(res))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	h.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		if _, err := io.Copy(s, s); err != nil {
			s.Reset()
		}
	})
	return h
}

// addrWith returns h's listen address that contains protocol code, with
// /p2p/ID appended.
func addrWith(t *testing.T, h host.Host, code int) string {
	t.Helper()
	for _, a := range h.Addrs() {
		if _, err := a.ValueForProtocol(code); err == nil {
			p2p, err := ma.NewComponent("p2p", h.ID().String())
			if err != nil {
				t.Fatal(err)
			}
			return a.Encapsulate(p2p.Multiaddr()).String()
		}
	}
	t.Fatalf("the relay does not listen on %s: %v", ma.ProtocolWithCode(code).Name, h.Addrs())
	return ""
}

// refusedAddr returns a loopback WebSocket address nobody listens on: a
// port the system handed out and that is closed again.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return "/ip4/127.0.0.1/tcp/" + strconv.Itoa(port) + "/ws"
}

// startSocketServer starts a plain WebSocket server on 127.0.0.1 that
// exercises the browser's byte stream. The first message a client sends
// picks what the server does:
//
//	echo   send back every message
//	flood  send 16 MiB at once, in 64 KiB messages, and read nothing
//	stall  read nothing more, ever
//	bye    send "bye", then close normally (code 1000)
//	abort  close with code 4321, reason "going away"
func startSocketServer(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	var conns []*websocket.Conn
	stop := make(chan struct{}) // closed on cleanup: stalled handlers return
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		defer c.Close()
		_, mode, err := c.ReadMessage()
		if err != nil {
			return
		}
		deadline := time.Now().Add(5 * time.Second)
		switch string(mode) {
		case "echo":
			for {
				kind, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(kind, msg); err != nil {
					return
				}
			}
		case "flood":
			chunk := bytes.Repeat([]byte{0xfe}, 64<<10)
			for range 256 {
				if err := c.WriteMessage(websocket.BinaryMessage, chunk); err != nil {
					return
				}
			}
			c.ReadMessage() // until the client goes away
		case "stall":
			<-stop
		case "bye":
			c.WriteMessage(websocket.BinaryMessage, []byte("bye"))
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
			c.ReadMessage() // the client's close reply
		case "abort":
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4321, "going away"), deadline)
			c.ReadMessage()
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		close(stop)
		mu.Lock()
		for _, c := range conns {
			c.NetConn().Close() // ends the stalled handlers too
		}
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
		}
	})
	return "/ip4/127.0.0.1/tcp/" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/ws"
}
