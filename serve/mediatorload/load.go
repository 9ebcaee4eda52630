package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// maxSize bounds -size: a basic message, not a file.
const maxSize = 64 << 10

// opTimeout bounds each connection, setup, POST and the wait for the last deliveries.
const opTimeout = 30 * time.Second

// keptErrors is how many error texts a phase keeps; the count covers them all.
const keptErrors = 5

// config is what the command line asks for.
type config struct {
	clients  int // each with a WebSocket in live mode
	messages int // forwarded to each client
	senders  int // POSTs under way at once, under load
	alone    int // messages sent one at a time first
	size     int // bytes of text in each basic message
	parallel int // clients setting up at once
	settle   time.Duration
	timeout  time.Duration
	// bin is this program, whose -serve modes are the servers.
	bin string
	// progress, if set, is told what is happening, one line at a time.
	progress func(format string, a ...any)
}

// report is the outcome of a run, printed as text or JSON. Sizes are in bytes.
type report struct {
	Clients           int `json:"clients"`
	MessagesPerClient int `json:"messagesPerClient"`
	Senders           int `json:"senders"`
	ContentBytes      int `json:"contentBytes"` // the text of each basic message
	// ForwardBytes is the median size of what a sender posts: the basic message authcrypted
	// to its recipient, in a forward anoncrypted to the mediator. The floor posts the same bytes.
	ForwardBytes int `json:"forwardBytes"`
	// PackedBytes is the median size of the message inside the forward, which the mediator
	// delivers (base64, in a delivery authcrypted to the client).
	PackedBytes int `json:"packedBytes"`

	Mediator *phase `json:"mediator"`
	Floor    *phase `json:"floor"`

	// ClientsRSS is this process's VmRSS with every client of the mediator connected, for scale.
	ClientsRSS int64 `json:"clientsRSS"`
	Errors     int   `json:"errors"` // both phases
}

// phase is one server under the load.
type phase struct {
	Server    string `json:"server"`    // "mediator" or "floor"
	Connected int    `json:"connected"` // clients connected and set up for live delivery
	Sent      int    `json:"sent"`      // messages posted and accepted (202)
	Delivered int    `json:"delivered"` // delivered live to the right client, intact, once
	Answered  int    `json:"answered"`  // acknowledgements the server answered

	Errors      int      `json:"errors"`
	FirstErrors []string `json:"firstErrors"`

	// Alone is how many messages went first, one at a time, each once the one before was
	// delivered; the rest went Senders at a time, the load.
	Alone int `json:"alone"`

	Seconds struct {
		Connect float64 `json:"connect"` // every client connecting and setting up
		// Messages is the load's, from its first POST to its last delivery.
		Messages float64 `json:"messages"`
	} `json:"seconds"`
	MessagesPerSecond float64 `json:"messagesPerSecond"` // the load's, delivered / Seconds.Messages
	// LatencyMs is the time from the start of a message's POST to its delivery read and
	// checked by its client, under the load: the median, the 99th percentile (nearest rank)
	// and the longest. AloneLatencyMs is the same of the messages sent alone.
	LatencyMs struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latencyMs"`
	AloneLatencyMs struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"aloneLatencyMs"`

	// Memory is the server's, read after a collection: before any client came, with every
	// client connected and set up, and after the messages (still connected).
	Memory struct {
		Before        serverStats `json:"before"`
		Connected     serverStats `json:"connected"`
		AfterMessages serverStats `json:"afterMessages"`
	} `json:"memory"`
	// PerClient is the growth of the server's Go heap and RSS from Before to Connected,
	// divided by the clients connected.
	PerClient struct {
		Heap int64 `json:"heap"`
		RSS  int64 `json:"rss"`
	} `json:"perClient"`
	// CPUSeconds is the CPU time the server and this process (every client) spent from the
	// load's first POST until its last acknowledgement was answered; ServerCPUPerMessageMs the
	// server's, per message of the load.
	CPUSeconds struct {
		Server  float64 `json:"server"`
		Clients float64 `json:"clients"`
	} `json:"cpuSeconds"`
	ServerCPUPerMessageMs float64 `json:"serverCPUPerMessageMs"`
}

// tally counts errors and keeps the first few texts. It is safe for concurrent use.
type tally struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (t *tally) add(what string, err error) { t.addN(1, what, err) }

// addN counts n errors of one kind, keeping its text once.
func (t *tally) addN(n int, what string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += n
	if len(t.first) < keptErrors {
		t.first = append(t.first, what+": "+err.Error())
	}
}

// protocol is what differs between the mediator's clients and the floor's.
type protocol interface {
	// wsURL is where the clients connect.
	wsURL() string
	// setup readies client i's new WebSocket for live delivery.
	setup(ctx context.Context, i int, ws *websocket.Conn) error
	// post is the request that sends message j to its client, j % the clients.
	post(j int) (url, contentType string, body []byte)
	// receive reads a WebSocket message client i received.
	receive(i int, kind int, data []byte) (event, error)
	// check says whether client i is as it should be once every message was acknowledged.
	check(i int) error
}

// event is what a client received: a delivery of message delivered (≥ 0) with the
// acknowledgement to send back, or (delivered < 0) the answer to an acknowledgement.
type event struct {
	delivered int
	ack       []byte // a text message
}

// runLoad runs the load against the mediator and then against the floor, each a server
// process of its own. Failures of a server or of the traffic through it are counted in the
// report; the error is for what prevents a run at all.
func runLoad(ctx context.Context, cfg config) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	say := cfg.progress
	if say == nil {
		say = func(string, ...any) {}
	}
	rep := &report{Clients: cfg.clients, MessagesPerClient: cfg.messages, Senders: cfg.senders, ContentBytes: cfg.size}

	data, err := os.MkdirTemp("", "mediatorload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(data)
	med, err := startServer(ctx, cfg.bin, serveMediator, filepath.Join(data, "mediator"))
	if err != nil {
		return nil, err
	}
	defer med.stop()
	ml, err := newMediatorLoad(ctx, med.url, cfg)
	if err != nil {
		return nil, err
	}
	rep.ForwardBytes, rep.PackedBytes = ml.sizes()
	say("%d clients and %d messages of %d bytes packed (forwards of %d bytes)", cfg.clients, cfg.clients*cfg.messages, cfg.size, rep.ForwardBytes)
	rep.Mediator = runPhase(ctx, cfg, serveMediator, med, ml, say, func() {
		rep.ClientsRSS, _ = readRSS("self")
	})
	if err := med.stop(); err != nil {
		rep.Mediator.Errors++
		rep.Mediator.FirstErrors = append(rep.Mediator.FirstErrors, err.Error())
	}

	fl, err := startServer(ctx, cfg.bin, serveFloor, "")
	if err != nil {
		return nil, err
	}
	defer fl.stop()
	rep.Floor = runPhase(ctx, cfg, serveFloor, fl, newFloorLoad(fl.url, cfg.clients, ml.forwards), say, nil)
	if err := fl.stop(); err != nil {
		rep.Floor.Errors++
		rep.Floor.FirstErrors = append(rep.Floor.FirstErrors, err.Error())
	}
	rep.Errors = rep.Mediator.Errors + rep.Floor.Errors
	return rep, nil
}

// runPhase connects every client to srv, forwards every message, waits for each to be
// delivered and acknowledged, and measures. connected, if not nil, is called while every
// client is connected.
func runPhase(ctx context.Context, cfg config, name string, srv *server, p protocol, say func(string, ...any), connected func()) *phase {
	ph := &phase{Server: name, FirstErrors: []string{}}
	errs := new(tally)
	defer func() {
		errs.mu.Lock()
		ph.Errors, ph.FirstErrors = errs.n, append(ph.FirstErrors, errs.first...)
		errs.mu.Unlock()
	}()
	stats := func(gc bool) serverStats {
		s, err := srv.stats(ctx, gc)
		if err != nil {
			errs.add("reading the server's memory", err)
		}
		return s
	}
	settle := func() {
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
		}
	}
	n := cfg.clients

	settle()
	ph.Memory.Before = stats(true)

	// Every client connects and sets up, and stays.
	start := time.Now()
	conns := make([]*websocket.Conn, n)
	dialer := &websocket.Dialer{HandshakeTimeout: opTimeout}
	forEach(ctx, n, cfg.parallel, func(i int) {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		ws, resp, err := dialer.DialContext(octx, p.wsURL(), nil)
		if err != nil {
			errs.add(fmt.Sprintf("client %d: connecting", i), err)
			return
		}
		resp.Body.Close()
		if err := p.setup(octx, i, ws); err != nil {
			errs.add(fmt.Sprintf("client %d: setting up", i), err)
			ws.Close()
			return
		}
		conns[i] = ws
	})
	ph.Seconds.Connect = time.Since(start).Seconds()
	for _, c := range conns {
		if c != nil {
			ph.Connected++
		}
	}
	say("%s: %d/%d clients connected and live in %.1f s", name, ph.Connected, n, ph.Seconds.Connect)
	settle()
	ph.Memory.Connected = stats(true)
	if ph.Connected > 0 {
		ph.PerClient.Heap = (ph.Memory.Connected.Heap - ph.Memory.Before.Heap) / int64(ph.Connected)
		ph.PerClient.RSS = (ph.Memory.Connected.RSS - ph.Memory.Before.RSS) / int64(ph.Connected)
	}
	if connected != nil {
		connected()
	}

	// Messages: the readers are ready before the first POST. The first cfg.alone go one at a
	// time, each once the one before was delivered: the latency of a message with the server
	// otherwise idle. The rest go cfg.senders at a time: the load.
	total := n * cfg.messages
	alone := min(cfg.alone, total)
	expected := int64(ph.Connected * cfg.messages)
	sentAt := make([]atomic.Int64, total) // since t0, +1: 0 is "not sent"
	gotAt := make([]atomic.Int64, total)  // since t0, +1: 0 is "not delivered"
	aloneGot := make(chan int, alone)
	var delivered, answered atomic.Int64
	allDone := make(chan struct{})
	var doneOnce sync.Once
	progress := func() {
		if delivered.Load() == expected && answered.Load() == expected {
			doneOnce.Do(func() { close(allDone) })
		}
	}
	progress() // nobody connected: nothing to wait for
	var closing atomic.Bool
	var readers sync.WaitGroup
	t0 := time.Now()
	for i, ws := range conns {
		if ws == nil {
			continue
		}
		readers.Go(func() {
			for {
				kind, data, err := ws.ReadMessage()
				if err != nil {
					if !closing.Load() {
						errs.add(fmt.Sprintf("client %d: reading", i), err)
					}
					return
				}
				ev, err := p.receive(i, kind, data)
				if err != nil {
					errs.add(fmt.Sprintf("client %d", i), err)
					continue
				}
				if ev.delivered < 0 {
					answered.Add(1)
					progress()
					continue
				}
				j := ev.delivered
				if j%n != i {
					errs.add(fmt.Sprintf("client %d", i), fmt.Errorf("received message %d, which was for client %d", j, j%n))
					continue
				}
				if !gotAt[j].CompareAndSwap(0, int64(time.Since(t0))+1) {
					errs.add(fmt.Sprintf("client %d", i), fmt.Errorf("received message %d twice", j))
					continue
				}
				ws.SetWriteDeadline(time.Now().Add(opTimeout))
				if err := ws.WriteMessage(websocket.TextMessage, ev.ack); err != nil {
					errs.add(fmt.Sprintf("client %d: acknowledging", i), err)
					return
				}
				delivered.Add(1)
				if j < alone {
					aloneGot <- j
				}
				progress()
			}
		})
	}

	client := &http.Client{Timeout: opTimeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.senders,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	var sent atomic.Int64
	send := func(j int) bool {
		if conns[j%n] == nil {
			return false // its client's failure is counted
		}
		url, ct, body := p.post(j)
		sentAt[j].Store(int64(time.Since(t0)) + 1)
		if err := postOne(ctx, client, url, ct, body); err != nil {
			errs.add(fmt.Sprintf("message %d", j), err)
			return false
		}
		sent.Add(1)
		return true
	}
	first := alone // the first message of the load
alone:
	for j := range alone {
		if !send(j) {
			continue
		}
		select {
		case <-aloneGot:
		case <-time.After(opTimeout):
			// Counted below as not delivered; the rest go with the load, not to wait as long
			// for each.
			first = j + 1
			break alone
		case <-ctx.Done():
			break alone
		}
	}

	// Messages go out in order: message j to client j % n, so that each client has about one
	// message on its way at a time, far from its WebSocket's queue.
	cpuServer := stats(false).CPUSeconds
	cpuClients, _ := readCPU("self")
	tLoad := time.Since(t0)
	var next atomic.Int64
	next.Store(int64(first))
	var senders sync.WaitGroup
	for range cfg.senders {
		senders.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= total || ctx.Err() != nil {
					return
				}
				send(j)
			}
		})
	}
	senders.Wait()
	ph.Sent = int(sent.Load())
	select {
	case <-allDone:
	case <-time.After(opTimeout):
	case <-ctx.Done():
	}
	if s := stats(false).CPUSeconds; s > 0 {
		ph.CPUSeconds.Server = s - cpuServer
	}
	if c, err := readCPU("self"); err == nil {
		ph.CPUSeconds.Clients = c - cpuClients
	}

	ph.Delivered, ph.Answered = int(delivered.Load()), int(answered.Load())
	if missing := int(expected) - ph.Delivered; missing > 0 {
		errs.addN(missing, name, fmt.Errorf("%d messages were not delivered live", missing))
	}
	if missing := ph.Delivered - ph.Answered; missing > 0 {
		errs.addN(missing, name, fmt.Errorf("%d acknowledgements were not answered", missing))
	}
	var aloneMs, loadMs []float64
	var last int64
	for j := range total {
		got, sent := gotAt[j].Load(), sentAt[j].Load()
		if got == 0 || sent == 0 {
			continue
		}
		if j < alone {
			aloneMs = append(aloneMs, float64(got-sent)/1e6)
			continue
		}
		loadMs = append(loadMs, float64(got-sent)/1e6)
		last = max(last, got-1)
	}
	ph.Alone = len(aloneMs)
	ph.AloneLatencyMs.P50, ph.AloneLatencyMs.P99, _ = percentiles(aloneMs)
	ph.LatencyMs.P50, ph.LatencyMs.P99, ph.LatencyMs.Max = percentiles(loadMs)
	if d := time.Duration(last) - tLoad; len(loadMs) > 0 && d > 0 {
		ph.Seconds.Messages = d.Seconds()
		ph.MessagesPerSecond = float64(len(loadMs)) / ph.Seconds.Messages
		ph.ServerCPUPerMessageMs = ph.CPUSeconds.Server * 1e3 / float64(len(loadMs))
	}
	for i, ws := range conns {
		if ws != nil {
			if err := p.check(i); err != nil {
				errs.add(fmt.Sprintf("client %d", i), err)
			}
		}
	}
	say("%s: %d of %d messages delivered live; under load %.0f/s, latency median %.1f ms, p99 %.1f ms; alone %.1f ms",
		name, ph.Delivered, expected, ph.MessagesPerSecond, ph.LatencyMs.P50, ph.LatencyMs.P99, ph.AloneLatencyMs.P50)

	// Still connected while the memory is read; then every client goes.
	settle()
	ph.Memory.AfterMessages = stats(true)
	closing.Store(true)
	forEach(context.Background(), n, cfg.parallel, func(i int) {
		if conns[i] != nil {
			conns[i].Close()
		}
	})
	readers.Wait()
	if err := ctx.Err(); err != nil {
		errs.add(name, fmt.Errorf("stopped before the end: %w", err))
	}
	return ph
}

// postOne POSTs body and expects 202 Accepted.
func postOne(ctx context.Context, client *http.Client, url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// percentiles returns the median, the 99th percentile (nearest rank) and the largest of xs,
// which it sorts; zeros for none.
func percentiles(xs []float64) (p50, p99, largest float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	slices.Sort(xs)
	rank := func(p int) float64 {
		k := (p*len(xs) + 99) / 100 // ⌈p/100 · n⌉
		return xs[max(k, 1)-1]
	}
	return rank(50), rank(99), xs[len(xs)-1]
}

// server is a server process of this program.
type server struct {
	url    string // http://127.0.0.1:<port>, no slash at the end
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan struct{} // closed once it exited
	err    error         // how it exited, once done
	once   sync.Once
}

// startServer runs bin -serve mode (with -data, when given) and waits for its URL.
func startServer(ctx context.Context, bin, mode, data string) (*server, error) {
	args := []string{"-serve", mode}
	if data != "" {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		args = append(args, "-data", data)
	}
	cmd := exec.Command(bin, args...)
	s := &server{cmd: cmd, stderr: new(lockedBuffer), done: make(chan struct{})}
	cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s server: %w", mode, err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
		s.err = cmd.Wait()
		close(s.done)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(opTimeout):
	case <-ctx.Done():
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), servingPrefix)
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		s.kill()
		return nil, fmt.Errorf("the %s server's first line %q; its errors:\n%s", mode, line, s.stderr.String())
	}
	s.url = strings.TrimSuffix(url, "/")
	return s, nil
}

// stats asks the server for its serverStats, after a collection if gc.
func (s *server) stats(ctx context.Context, gc bool) (serverStats, error) {
	var st serverStats
	u := s.url + statsPath
	if gc {
		u += "?gc=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: HTTP %s", statsPath, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("%s: %w", statsPath, err)
	}
	return st, nil
}

// stop closes the server's standard input, which stops it, and waits for it to exit; it
// reports an error if the server had to be killed, failed, or complained on its standard
// error.
func (s *server) stop() error {
	var err error
	s.once.Do(func() {
		s.stdin.Close()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.kill()
			err = errors.New("the server did not stop when asked, and was killed")
			return
		}
		switch {
		case s.err != nil:
			err = fmt.Errorf("the server exited: %w\n%s", s.err, s.stderr.String())
		case s.stderr.String() != "":
			err = fmt.Errorf("the server complained: %s", strings.TrimSpace(s.stderr.String()))
		}
	})
	return err
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
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

// writeText prints the report for people.
func (r *report) writeText(w io.Writer) {
	kib := func(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	fmt.Fprintf(w, "%d clients, %d messages each (%d bytes of text; forwards of %d bytes), %d senders\n",
		r.Clients, r.MessagesPerClient, r.ContentBytes, r.ForwardBytes, r.Senders)
	for _, ph := range []*phase{r.Mediator, r.Floor} {
		if ph == nil {
			continue
		}
		fmt.Fprintf(w, "%s: %d connected in %.1f s; %d sent, %d delivered live, %d acknowledged; under load %.1f s: %.0f/s\n",
			ph.Server, ph.Connected, ph.Seconds.Connect, ph.Sent, ph.Delivered, ph.Answered, ph.Seconds.Messages, ph.MessagesPerSecond)
		fmt.Fprintf(w, "  latency POST → delivery: median %.1f ms, p99 %.1f ms, max %.1f ms; %d messages alone: median %.1f ms, p99 %.1f ms\n",
			ph.LatencyMs.P50, ph.LatencyMs.P99, ph.LatencyMs.Max, ph.Alone, ph.AloneLatencyMs.P50, ph.AloneLatencyMs.P99)
		fmt.Fprintf(w, "  memory: heap %s before, %s connected, %s after the messages; RSS %s, %s, %s\n",
			mib(ph.Memory.Before.Heap), mib(ph.Memory.Connected.Heap), mib(ph.Memory.AfterMessages.Heap),
			mib(ph.Memory.Before.RSS), mib(ph.Memory.Connected.RSS), mib(ph.Memory.AfterMessages.RSS))
		fmt.Fprintf(w, "  per client: heap %s, RSS %s; CPU under load: server %.1f s (%.2f ms a message), clients %.1f s\n",
			kib(ph.PerClient.Heap), kib(ph.PerClient.RSS), ph.CPUSeconds.Server, ph.ServerCPUPerMessageMs, ph.CPUSeconds.Clients)
		fmt.Fprintf(w, "  errors: %d\n", ph.Errors)
		for _, e := range ph.FirstErrors {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
}
