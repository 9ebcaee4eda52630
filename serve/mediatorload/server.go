package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"planet/serve/mediator"
)

// The server processes: the mediator, and the floor it is measured against.
const (
	serveMediator = "mediator"
	serveFloor    = "floor"
)

// Paths of the server processes beside the mediator's own.
const (
	// statsPath answers with the process's serverStats.
	statsPath = "/stats"
	// floorWSPath and floorPostPath are the floor's WebSocket and POST.
	floorWSPath   = "/ws"
	floorPostPath = "/post"
)

// servingPrefix starts the first line a server process prints, before its URL.
const servingPrefix = "mediatorload serving on "

// The floor's limits are the mediator's (serve/mediator/http.go), so that the two differ in
// what they do with a message, not in how they hold a connection.
const (
	floorQueue        = 16
	floorMaxMessage   = 256 << 10
	floorWriteTimeout = 30 * time.Second
	floorPingEvery    = 30 * time.Second
	floorIdleTimeout  = 2 * floorPingEvery
)

// serverStats is what a server process says of itself at statsPath.
type serverStats struct {
	RSS        int64   `json:"rss"`        // VmRSS, bytes; 0 where /proc is missing
	RSSFile    int64   `json:"rssFile"`    // the part of RSS mapped from files (the mediator's store)
	Heap       int64   `json:"heap"`       // Go heap in use by live and not yet swept objects (HeapAlloc), bytes
	HeapHeld   int64   `json:"heapHeld"`   // memory the Go heap holds from the system, free parts included
	Stacks     int64   `json:"stacks"`     // goroutine stacks (StackInuse)
	CPUSeconds float64 `json:"cpuSeconds"` // user + system time so far; 0 where /proc is missing
	Goroutines int     `json:"goroutines"`
}

// serve runs a server process of the given mode on a free loopback port until stdin closes
// (its load has finished, or died) or ctx is done.
func serve(ctx context.Context, mode, data string, stdin io.Reader, stdout, stderr io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	host := ln.Addr().String()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var h http.Handler
	switch mode {
	case serveMediator:
		// As serve opens it (serve/main.go), with serve's default limits.
		ep := mediator.Endpoints{HTTP: "http://" + host + mediator.Path, WebSocket: "ws://" + host + mediator.WebSocketPath}
		m, err := mediator.Open(data, ep, mediator.Config{}, log)
		if err != nil {
			return err
		}
		defer m.Close()
		h = m.Handler()
	case serveFloor:
		h = newFloor()
	default:
		return fmt.Errorf("no server %q", mode)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+statsPath, serveStats)
	mux.Handle("/", h)
	// serve's timeouts (serve/main.go newServer).
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "%shttp://%s/\n", servingPrefix, host)

	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(closed)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-closed:
	}
	// The load closed its connections before closing stdin; anything left is cut.
	srv.Close()
	return nil
}

// serveStats answers statsPath: the process's memory and CPU time, the heap after a collection
// when the query asks gc=1, so that garbage not yet collected does not count.
func serveStats(w http.ResponseWriter, r *http.Request) {
	var s serverStats
	s.RSS, _ = readRSS("self") // before the collection: it is what the system sees
	s.RSSFile, _ = readStatus("self", "RssFile")
	s.CPUSeconds, _ = readCPU("self")
	if r.URL.Query().Get("gc") == "1" {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.Heap = int64(ms.HeapAlloc)
	s.HeapHeld = int64(ms.HeapSys - ms.HeapReleased)
	s.Stacks = int64(ms.StackInuse)
	s.Goroutines = runtime.NumGoroutine()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s)
}

// floor is the baseline server: the same HTTP server and WebSocket library as the mediator's,
// holding each client's WebSocket the same way (one writer, a queue of floorQueue, pings,
// deadlines), and delivering each POST's body to the client it names as it came, with no
// DIDComm (no decryption, no encryption) and no store. A client says hello with its number
// once; a delivery is a binary message, the message's id (8 bytes, big-endian) then the body;
// the client acknowledges with the text "ack <id>", answered "status <id>".
type floor struct {
	up websocket.Upgrader

	mu      sync.Mutex
	clients map[int]func(floorFrame) bool // client number → push to its WebSocket

	seq atomic.Uint64
}

func newFloor() *floor {
	return &floor{
		up: websocket.Upgrader{
			ReadBufferSize:  4 << 10,
			WriteBufferSize: 4 << 10,
			CheckOrigin:     func(*http.Request) bool { return true },
		},
		clients: map[int]func(floorFrame) bool{},
	}
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == floorWSPath && r.Method == http.MethodGet:
		ws, err := f.up.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader has answered
		}
		f.serveWebSocket(ws)
	case r.URL.Path == floorPostPath && r.Method == http.MethodPost:
		f.servePost(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *floor) servePost(w http.ResponseWriter, r *http.Request) {
	to, err := parseNumber(r.URL.Query().Get("to"))
	if err != nil {
		http.Error(w, "to: "+err.Error(), http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, floorMaxMessage))
	if err != nil {
		http.Error(w, "the message is larger than the floor reads", http.StatusRequestEntityTooLarge)
		return
	}
	f.mu.Lock()
	push := f.clients[int(to)]
	f.mu.Unlock()
	if push == nil {
		http.Error(w, "no such client", http.StatusNotFound)
		return
	}
	if !push(floorFrame{websocket.BinaryMessage, floorDelivery(f.seq.Add(1), data)}) {
		http.Error(w, "the client's queue is full", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// floorFrame is a WebSocket message the floor writes: its kind (binary or text) and bytes.
type floorFrame struct {
	kind int
	data []byte
}

func (f *floor) serveWebSocket(ws *websocket.Conn) {
	out := make(chan floorFrame, floorQueue)
	done := make(chan struct{})
	push := func(b floorFrame) bool {
		select {
		case <-done:
			return false
		default:
		}
		select {
		case out <- b:
			return true
		default:
			return false
		}
	}
	client := -1
	defer func() {
		if client >= 0 {
			f.mu.Lock()
			delete(f.clients, client)
			f.mu.Unlock()
		}
		close(done)
		ws.Close()
	}()
	go floorWriter(ws, out, done)

	ws.SetReadLimit(floorMaxMessage)
	ws.SetReadDeadline(time.Now().Add(floorIdleTimeout))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(floorIdleTimeout)) })
	refuse := func(reason string) {
		msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, reason)
		ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(time.Now().Add(floorIdleTimeout))
		var reply []byte
		cmd, err := parseFloorCommand(kind, data)
		switch {
		case err != nil:
			refuse(err.Error())
			return
		case cmd.verb == "hello" && client < 0:
			n := int(cmd.n)
			f.mu.Lock()
			_, taken := f.clients[n]
			if !taken {
				f.clients[n] = push
			}
			f.mu.Unlock()
			if taken {
				refuse("hello: that client is connected already")
				return
			}
			client, reply = n, []byte(floorOK)
		case cmd.verb == "ack" && client >= 0:
			reply = []byte(floorStatus(cmd.n))
		default:
			refuse(cmd.verb + " out of turn")
			return
		}
		select {
		case out <- floorFrame{websocket.TextMessage, reply}:
		case <-time.After(floorWriteTimeout):
			return
		}
	}
}

// floorWriter writes what is queued on out to ws, and pings.
func floorWriter(ws *websocket.Conn, out <-chan floorFrame, done <-chan struct{}) {
	ping := time.NewTicker(floorPingEvery)
	defer ping.Stop()
	for {
		select {
		case <-done:
			return
		case fr := <-out:
			ws.SetWriteDeadline(time.Now().Add(floorWriteTimeout))
			if err := ws.WriteMessage(fr.kind, fr.data); err != nil {
				ws.Close()
				return
			}
		case <-ping.C:
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(floorWriteTimeout)); err != nil {
				ws.Close()
				return
			}
		}
	}
}

// readRSS returns the resident set size (VmRSS) of process pid ("self" for this one).
func readRSS(pid string) (int64, error) { return readStatus(pid, "VmRSS") }

// readStatus returns a size in bytes from /proc/<pid>/status: VmRSS, the resident set, or
// RssFile, its part mapped from files.
func readStatus(pid, field string) (int64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
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
	return 0, fmt.Errorf("/proc/%s/status: no %s line in kB", pid, field)
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// architecture Go supports.
const clockTicks = 100

// readCPU returns the user and system CPU time of process pid ("self" for this one) so far,
// in seconds, from /proc/<pid>/stat.
func readCPU(pid string) (float64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: the fields that follow come after the
	// last ')'. utime and stime are fields 14 and 15 of the line, so 12 and 13 after the name.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, errors.New("/proc/" + pid + "/stat: no command name")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("/proc/" + pid + "/stat: too few fields")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// The floor's messages on its WebSocket. From the client, text: "hello <client number>", once,
// first; "ack <message id>". From the floor: text "ok" (to hello) and "status <message id>"
// (to ack); binary, a delivery: the message's id, 8 bytes big-endian, then its bytes.
const floorOK = "ok"

// errFloor is what a refused floor message wraps.
var errFloor = errors.New("not a floor message")

// floorCommand is a client's message to the floor: its verb, "hello" or "ack", and number.
type floorCommand struct {
	verb string
	n    uint64
}

// parseFloorCommand reads a client's message: text, a verb and a number in canonical decimal.
func parseFloorCommand(kind int, data []byte) (floorCommand, error) {
	if kind != websocket.TextMessage {
		return floorCommand{}, fmt.Errorf("%w: the floor reads text messages", errFloor)
	}
	verb, arg, ok := strings.Cut(string(data), " ")
	if !ok || (verb != "hello" && verb != "ack") {
		return floorCommand{}, fmt.Errorf("%w: neither hello nor ack", errFloor)
	}
	n, err := parseNumber(arg)
	if err != nil {
		return floorCommand{}, fmt.Errorf("%w: %s: %w", errFloor, verb, err)
	}
	return floorCommand{verb: verb, n: n}, nil
}

// maxNumber bounds client numbers and message ids, so that both fit an int everywhere.
const maxNumber = 1<<31 - 1

// parseNumber reads a number in canonical decimal (digits, no sign, no leading zero), at most
// maxNumber.
func parseNumber(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != s || n > maxNumber {
		return 0, fmt.Errorf("%q is not a number from 0 to %d in decimal", s, maxNumber)
	}
	return n, nil
}

// floorStatus is the floor's answer to "ack <id>".
func floorStatus(id uint64) string { return "status " + strconv.FormatUint(id, 10) }

// parseFloorStatus reads the floor's answer to an acknowledgement, and returns its id.
func parseFloorStatus(data []byte) (uint64, error) {
	arg, ok := strings.CutPrefix(string(data), "status ")
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a status", errFloor, data)
	}
	n, err := parseNumber(arg)
	if err != nil {
		return 0, fmt.Errorf("%w: status: %w", errFloor, err)
	}
	return n, nil
}

// floorDelivery is the floor's delivery of message id.
func floorDelivery(id uint64, msg []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(msg)), id), msg...)
}

// parseFloorDelivery reads a delivery: its id and the message.
func parseFloorDelivery(data []byte) (uint64, []byte, error) {
	if len(data) < 8 {
		return 0, nil, fmt.Errorf("%w: a delivery of %d bytes, shorter than its id", errFloor, len(data))
	}
	id := binary.BigEndian.Uint64(data)
	if id > maxNumber {
		return 0, nil, fmt.Errorf("%w: a delivery with id %d, above %d", errFloor, id, maxNumber)
	}
	return id, data[8:], nil
}
