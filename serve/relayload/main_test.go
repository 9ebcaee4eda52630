package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

var servingLine = regexp.MustCompile(`^PLANET serving on (http://127\.0\.0\.1:[1-9][0-9]*/)\n$`)

// startServe builds serve and runs it on loopback with free ports and extra args, and returns
// its process id and the relay addresses it publishes. It is stopped when the test ends.
func startServe(t *testing.T, args ...string) (pid int, addrs []string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads the relay's memory from /proc")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "serve")
	if out, err := exec.Command(gotool, "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "www")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.html": "<!doctype html><title>PLANET</title>",
		"sw.js":      `const BUILD = "__PLANET_BUILD__";`,
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-relay-port", "0",
		"-root", root, "-data", filepath.Join(dir, "data")}, args...)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve printed nothing; stderr:\n%s", stderr.String())
	}
	m := servingLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve's first line %q; stderr:\n%s", line, stderr.String())
	}

	resp, err := http.Get(m[1] + ".well-known/planet/relay.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Addrs []string `json:"addrs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("relay.json: %s, %v", resp.Status, err)
	}
	return cmd.Process.Pid, info.Addrs
}

// TestRelayLoad runs a small load, over WebSocket and over QUIC, against a real serve
// started with room for the clients' reservations, and expects every reservation, relayed
// connection and echo to succeed and the relay's memory to be read.
func TestRelayLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs serve")
	}
	const clients, messages = 20, 5
	pid, addrs := startServe(t, "-relay-max-reservations", "64", "-relay-reservations-per-ip", "64")

	for _, transport := range []string{"/ws/", "/quic-v1/"} {
		t.Run(strings.Trim(transport, "/"), func(t *testing.T) {
			var addr ma.Multiaddr
			for _, a := range addrs {
				if strings.Contains(a, transport) && !strings.Contains(a, "/webtransport/") {
					addr = ma.StringCast(a)
				}
			}
			if addr == nil {
				t.Fatalf("no %s address among %v", transport, addrs)
			}
			rep, err := runLoad(context.Background(), config{
				relay: addr, pid: pid, clients: clients, messages: messages, parallel: 8,
				settle: 100 * time.Millisecond, timeout: time.Minute,
				progress: t.Logf,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Errors != 0 || rep.Connected != clients || rep.Reservations != clients ||
				rep.PairsOK != clients/2 || rep.MessagesOK != clients*messages {
				var text bytes.Buffer
				rep.writeText(&text)
				t.Fatalf("report:\n%s", text.String())
			}
			if rep.RSS.Before <= 0 || rep.RSS.Plain <= 0 || rep.RSS.Relay <= 0 || rep.ClientsRSS <= 0 {
				t.Errorf("memory readings %+v, clients %d", rep.RSS, rep.ClientsRSS)
			}
			if rep.MessagesPerSecond <= 0 || rep.Seconds.Relay < rep.Seconds.Messages {
				t.Errorf("times %+v, %.0f messages/s", rep.Seconds, rep.MessagesPerSecond)
			}
		})
	}
}

// TestDefaultLimits is why a bench run passes flags: with serve's defaults, only 8
// reservations may come from one address, and the rest are refused and counted.
func TestDefaultLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs serve")
	}
	pid, addrs := startServe(t)
	var addr ma.Multiaddr
	for _, a := range addrs {
		if strings.Contains(a, "/ws/") {
			addr = ma.StringCast(a)
		}
	}
	rep, err := runLoad(context.Background(), config{
		relay: addr, pid: pid, clients: 10, messages: 1, parallel: 4, timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Which two are refused depends on timing: one pair or two lose a member.
	if rep.Reservations != 8 || rep.Errors != 2 || len(rep.FirstErrors) != 2 || rep.PairsOK < 3 {
		var text bytes.Buffer
		rep.writeText(&text)
		t.Fatalf("report:\n%s", text.String())
	}
}

func TestFlags(t *testing.T) {
	const relay = "/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWP5CMACuKB5MdUiuSQPm7odnpq3DrTSuP8WLPWRitDoQ9"
	for _, args := range [][]string{
		{},
		{"-relay", "nonsense"},
		{"-relay", relay, "-clients", "7"},
		{"-relay", relay, "-messages", "0"},
		{"-relay", relay, "extra"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, new(bytes.Buffer), &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-relay", strings.Replace(relay, "/tcp/1/ws", "/udp/1/webrtc-direct", 1)}, new(bytes.Buffer), &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "QUIC or WebSocket") {
		t.Errorf("webrtc-direct: exit %d, stderr %s", code, stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
