//go:build js && wasm

package webrtc

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"planet/wasm/browser"
)

// testAddr returns the multiaddr the native side passed in the variable
// name; without it (the tests run outside TestInChromium) the test skips.
func testAddr(t testing.TB, name string) ma.Multiaddr {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		t.Skipf("%s is not set: these tests run through TestInChromium (go test ./webrtc/)", name)
	}
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return a
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// socket opens a WebSocket to the test server and asks it for mode.
func socket(t *testing.T, mode string) *wsConn {
	t.Helper()
	c, err := dialWebSocket(testContext(t), testAddr(t, "PLANET_TEST_SOCKET"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(mode)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseWebSocketAddr(t *testing.T) {
	for _, tc := range []struct{ addr, url string }{
		{"/ip4/127.0.0.1/tcp/4001/ws", "ws://127.0.0.1:4001/"},
		{"/ip6/::1/tcp/4001/ws", "ws://[::1]:4001/"},
		{"/dns4/relay.example/tcp/443/wss", "wss://relay.example:443/"},
		{"/dns/relay.example/tcp/443/tls/ws", "wss://relay.example:443/"},
		{"/ip4/192.0.2.1/tcp/443/tls/sni/relay.example/ws", "wss://relay.example:443/"},
		{"/dns6/relay.example/tcp/80/ws/p2p/12D3KooWGRUVh6S9Abam2uVsXrMhojrLpcF3pKY3jY3XA9sZHsZE", "ws://relay.example:80/"},
		{"/ip4/127.0.0.1/tcp/4001", ""},
		{"/ip4/127.0.0.1/udp/4001/quic-v1", ""},
		{"/ip4/127.0.0.1/tcp/4001/ws/p2p-circuit", ""},
		{"/ip4/127.0.0.1/tcp/4001/tls/http", ""},
		{"/tcp/4001/ws", ""},
	} {
		got, err := parseWebSocketAddr(ma.StringCast(tc.addr))
		if tc.url == "" {
			if err == nil {
				t.Errorf("%s: parsed as %q, want an error", tc.addr, got.url)
			}
			continue
		}
		if err != nil || got.url != tc.url {
			t.Errorf("%s: got %q, %v; want %q", tc.addr, got.url, err, tc.url)
		}
	}
}

// TestWebSocketEcho sends 3 MiB in writes of every size and reads it back.
func TestWebSocketEcho(t *testing.T) {
	c := socket(t, "echo")
	want := make([]byte, 3<<20)
	rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		rest := want
		for i := 1; len(rest) > 0; i = i*3 + 1 {
			n := min(len(rest), i%(300<<10)+1)
			if _, err := c.Write(rest[:n]); err != nil {
				errc <- err
				return
			}
			rest = rest[n:]
		}
		errc <- nil
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the echo differs from what was sent")
	}
}

func TestWebSocketReadDeadline(t *testing.T) {
	c := socket(t, "echo")
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with nothing sent: %v, want a deadline error", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the deadline took %v to end the Read", waited)
	}
	// A deadline moved while a Read waits applies to that Read.
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.SetReadDeadline(time.Now())
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read after the deadline moved: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "again" {
		t.Fatalf("after the deadline was lifted: %q, %v", buf, err)
	}
}

// TestWebSocketBackPressure writes to a server that reads nothing: Write
// must stop once the browser holds about highWater bytes, not queue all.
func TestWebSocketBackPressure(t *testing.T) {
	c := socket(t, "stall")
	c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	chunk := make([]byte, 256<<10)
	total := 0
	var err error
	for total < 256<<20 && err == nil {
		var n int
		n, err = c.Write(chunk)
		total += n
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("writing to a stalled reader: %v after %d bytes, want a deadline error", err, total)
	}
	if held := browser.Int(c.ws, "bufferedAmount"); held > highWater+sendChunk {
		t.Errorf("the browser holds %d bytes unsent, more than %d", held, highWater+sendChunk)
	}
	t.Logf("%d bytes written before the stall stopped the writer", total)
}

// TestWebSocketOverflow lets 16 MiB arrive without reading: the connection
// must end with errOverflow once maxUnread bytes wait, not keep growing.
func TestWebSocketOverflow(t *testing.T) {
	c := socket(t, "flood")
	select {
	case <-c.gone:
	case <-time.After(20 * time.Second):
		t.Fatal("the flooded connection stayed open")
	}
	c.mu.Lock()
	unread := c.unread
	c.mu.Unlock()
	if unread > maxUnread {
		t.Errorf("%d bytes buffered, more than %d", unread, maxUnread)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, errOverflow) {
		t.Fatalf("Read after the flood: %v, want errOverflow", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, errOverflow) {
		t.Fatalf("Write after the flood: %v, want errOverflow", err)
	}
}

func TestWebSocketPeerClose(t *testing.T) {
	c := socket(t, "bye")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v; want bye, then EOF", got, err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, errPeerClosed) {
		t.Fatalf("Write after the peer closed: %v", err)
	}
}

func TestWebSocketPeerAbort(t *testing.T) {
	c := socket(t, "abort")
	_, err := c.Read(make([]byte, 1))
	if err == nil || err == io.EOF || !strings.Contains(err.Error(), "4321") {
		t.Fatalf("Read after an abnormal close: %v, want the close code", err)
	}
}

func TestWebSocketLocalClose(t *testing.T) {
	c := socket(t, "echo")
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a waiting Read after Close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestWebSocketRefused(t *testing.T) {
	start := time.Now()
	_, err := dialWebSocket(testContext(t), testAddr(t, "PLANET_TEST_REFUSED"))
	if err == nil {
		t.Fatal("dialing a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "could not connect") {
		t.Errorf("error %q does not say the connection failed", err)
	}
	t.Logf("%v (after %v)", err, time.Since(start))
}
