package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
)

// built is this program, built once for the tests that run its servers, in dir.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildLoad builds this program, whose -serve modes are the servers of a load.
func buildLoad(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads the servers' memory from /proc")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "mediatorload-test-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "mediatorload")
		if out, err := exec.Command(gotool, "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// TestMediatorLoad runs a small load against a real mediator and the floor, each in a
// process of its own, and expects every message delivered live, checked and acknowledged,
// and every reading taken.
func TestMediatorLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the servers")
	}
	const clients, messages, alone = 12, 3, 5
	rep, err := runLoad(context.Background(), config{
		clients: clients, messages: messages, alone: alone, senders: 3, size: 1024, parallel: 4,
		settle: 50 * time.Millisecond, timeout: 2 * time.Minute,
		bin: buildLoad(t), progress: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.writeText(&text)
	if rep.Errors != 0 || rep.ForwardBytes <= rep.PackedBytes || rep.PackedBytes <= 1024 || rep.ClientsRSS <= 0 {
		t.Fatalf("report:\n%s", text.String())
	}
	for _, ph := range []*phase{rep.Mediator, rep.Floor} {
		if ph.Errors != 0 || ph.Connected != clients || ph.Sent != clients*messages ||
			ph.Delivered != clients*messages || ph.Answered != clients*messages || ph.Alone != alone {
			t.Fatalf("%s: report:\n%s", ph.Server, text.String())
		}
		if ph.MessagesPerSecond <= 0 || ph.LatencyMs.P50 <= 0 || ph.LatencyMs.P99 < ph.LatencyMs.P50 ||
			ph.LatencyMs.Max < ph.LatencyMs.P99 || ph.AloneLatencyMs.P50 <= 0 {
			t.Errorf("%s: times %+v, latency %+v, alone %+v", ph.Server, ph.Seconds, ph.LatencyMs, ph.AloneLatencyMs)
		}
		m := ph.Memory
		if m.Before.RSS <= 0 || m.Connected.RSS <= 0 || m.AfterMessages.RSS <= 0 || m.Before.Heap <= 0 ||
			m.Connected.Heap <= m.Before.Heap || ph.PerClient.Heap <= 0 || m.Connected.Goroutines < 2*clients {
			t.Errorf("%s: memory %+v, per client %+v", ph.Server, m, ph.PerClient)
		}
		if ph.CPUSeconds.Clients < 0 || ph.CPUSeconds.Server < 0 {
			t.Errorf("%s: CPU %+v", ph.Server, ph.CPUSeconds)
		}
	}
	// The mediator stores what it holds in its bbolt file, mapped into memory.
	if rep.Mediator.Memory.Connected.RSSFile <= 0 {
		t.Errorf("the mediator maps no file: %+v", rep.Mediator.Memory.Connected)
	}
}

// startFloor runs the floor in a process of its own.
func startFloor(t *testing.T) *server {
	t.Helper()
	s, err := startServer(context.Background(), buildLoad(t), serveFloor, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// TestFloorRefuses: the floor closes a WebSocket that says anything but its protocol, and
// answers POSTs for no client with 404.
func TestFloorRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the floor")
	}
	s := startFloor(t)
	ws := "ws" + strings.TrimPrefix(s.url, "http") + floorWSPath
	for _, tc := range []struct {
		name string
		send []string
	}{
		{"ack before hello", []string{"ack 1"}},
		{"hello twice", []string{"hello 1", "hello 2"}},
		{"another number", []string{"hello 01"}},
		{"nonsense", []string{"good morning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := websocket.DefaultDialer.Dial(ws, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i, m := range tc.send {
				if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					t.Fatal(err)
				}
				_, reply, err := c.ReadMessage()
				if i < len(tc.send)-1 {
					if err != nil || string(reply) != floorOK {
						t.Fatalf("%q: %q, %v", m, reply, err)
					}
					continue
				}
				if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
					t.Fatalf("%q: %q, %v; want close 1008", m, reply, err)
				}
			}
		})
	}
	if err := postOne(context.Background(), http.DefaultClient, s.url+floorPostPath+"?to=7", "application/octet-stream", []byte("hi")); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("POST to nobody: %v, want 404", err)
	}
}

// TestReceiveChecks: a client counts what it should not receive as an error: a message
// nobody sent, or altered, or a server message of the wrong kind.
func TestReceiveChecks(t *testing.T) {
	forwards := [][]byte{[]byte("first"), []byte("second")}
	f := newFloorLoad("http://127.0.0.1:1", 2, forwards)
	if ev, err := f.receive(1, websocket.BinaryMessage, floorDelivery(9, []byte("second"))); err != nil || ev.delivered != 1 || string(ev.ack) != "ack 9" {
		t.Errorf("a good delivery: %+v, %v", ev, err)
	}
	for _, data := range [][]byte{floorDelivery(9, []byte("secone")), []byte("short")} {
		if _, err := f.receive(1, websocket.BinaryMessage, data); err == nil {
			t.Errorf("delivery %q accepted", data)
		}
	}
	if _, err := f.receive(1, websocket.TextMessage, []byte("ok")); err == nil {
		t.Error("a stray ok accepted")
	}

	// The mediator's client checks the delivery's encryption and its attachment.
	m := &mediatorLoad{n: 1}
	medAgent := newTestAgent(t)
	m.did = medAgent.did
	c, err := newClient(m.did)
	if err != nil {
		t.Fatal(err)
	}
	m.clients = []mediatorClient{c}
	m.packed = [][]byte{[]byte(`{"ciphertext":"x"}`)}
	m.expect = map[[sha256.Size]byte]int{sha256.Sum256(m.packed[0]): 0}
	m.lastCount = make([]atomic.Int64, 1)
	deliver := func(from agent, payload []byte) []byte {
		p, err := didcomm.NewPlaintext(typeDelivery, struct{}{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p.From = from.did
		p.Attachments = []didcomm.Attachment{{ID: "AAAAAAAAAAE", Data: didcomm.AttachmentData{Base64: base64.RawURLEncoding.EncodeToString(payload)}}}
		packed, err := didcomm.Pack(context.Background(), p, c.did, didcomm.PackOptions{Resolver: did.Local, Keys: from.keys, NoForward: true})
		if err != nil {
			t.Fatal(err)
		}
		return packed.Message
	}
	if ev, err := m.receive(0, websocket.TextMessage, deliver(medAgent, m.packed[0])); err != nil || ev.delivered != 0 || len(ev.ack) == 0 {
		t.Errorf("a good delivery: %+v, %v", ev, err)
	}
	if _, err := m.receive(0, websocket.TextMessage, deliver(medAgent, []byte(`{"ciphertext":"y"}`))); err == nil {
		t.Error("an altered delivery accepted")
	}
	stranger := newTestAgent(t)
	if _, err := m.receive(0, websocket.TextMessage, deliver(stranger, m.packed[0])); err == nil {
		t.Error("a delivery not from the mediator accepted")
	}
}

// newTestAgent is a new identity speaking as its did:key.
func newTestAgent(t *testing.T) agent {
	t.Helper()
	id, err := identity.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAgent(id, id.DID())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-messages", "0"},
		{"-senders", "0"},
		{"-alone", "-1"},
		{"-size", "0"},
		{"-size", "100000"},
		{"-serve", "relay"},
		{"-serve", "mediator"},
		{"-serve", "floor", "-data", "/tmp"},
		{"-data", "/tmp"},
		{"extra"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), new(bytes.Buffer), &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

// TestServeStopsWithStdin: a server process prints its URL, serves, and stops once its
// standard input closes.
func TestServeStopsWithStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-serve", "floor"}, r, outW, new(bytes.Buffer))
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, servingPrefix+"http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	w.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop when its standard input closed")
	}
}
