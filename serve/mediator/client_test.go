package mediator_test

import (
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/mediation"
	"planet/serve/mediator"
)

// The PLANET client (core/mediation) against the real mediator, over real
// HTTP and WebSocket on loopback.

// testServer is a mediator behind an HTTP server on a loopback address it
// keeps across restarts, so that its DID (which names the address) stays.
type testServer struct {
	t    *testing.T
	dir  string
	addr string
	m    *mediator.Mediator
	hs   *httptest.Server
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, dir: t.TempDir(), addr: ln.Addr().String()}
	s.startOn(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) startOn(ln net.Listener) {
	s.t.Helper()
	ep := mediator.Endpoints{HTTP: "http://" + s.addr + mediator.Path, WebSocket: "ws://" + s.addr + mediator.WebSocketPath}
	m, err := mediator.Open(s.dir, ep, mediator.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		s.t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(m.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	s.m, s.hs = m, hs
}

// restart starts the server again on the same address and data.
func (s *testServer) restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Skipf("the address %s was taken meanwhile: %v", s.addr, err)
	}
	s.startOn(ln)
}

func (s *testServer) stop() {
	if s.hs != nil {
		s.hs.CloseClientConnections()
		s.hs.Close()
		s.m.Close()
		s.hs = nil
	}
}

func (s *testServer) did() did.DID {
	d, err := did.Parse(s.m.DID())
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

func (s *testServer) wsURL() string { return "ws://" + s.addr + mediator.WebSocketPath }

// relationshipKey is a relationship's key agreement key as didcomm wants
// one: the key stays inside the Relationship, which does the ECDH.
type relationshipKey struct{ r *identity.Relationship }

func (k relationshipKey) PublicKey() *ecdh.PublicKey {
	pub, err := ecdh.X25519().NewPublicKey(k.r.X25519Public())
	if err != nil {
		panic(err)
	}
	return pub
}

func (k relationshipKey) ECDH(remote *ecdh.PublicKey) ([]byte, error) {
	return k.r.ECDH(remote.Bytes())
}

// planet is a person's PLANET as a client of the mediator: the persona
// (the client DID, a did:key) and one pairwise relationship DID whose
// service names the mediator, which strangers write to.
type planet struct {
	t        *testing.T
	mediator did.DID // the same across the server's restarts
	ws       string
	id       *identity.Identity
	rel      *identity.Relationship
	keys     *didcomm.Keys
}

func newPlanet(t *testing.T, s *testServer) *planet {
	t.Helper()
	id, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.Local.Resolve(context.Background(), id.DID())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := didcomm.IdentityKeys(id, doc)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := id.Relationship(7, s.did())
	if err != nil {
		t.Fatal(err)
	}
	keys.Add(rel.KeyAgreementKeyID(), relationshipKey{rel})
	return &planet{t: t, mediator: s.did(), ws: s.wsURL(), id: id, rel: rel, keys: keys}
}

// dial opens a connection to the mediator and a client over it.
func (p *planet) dial(ctx context.Context) (*mediation.Client, error) {
	ws, err := mediation.DialWebSocket(ctx, p.ws)
	if err != nil {
		return nil, err
	}
	c, err := mediation.NewClient(ws, mediation.Config{
		DID: p.id.DID(), Mediator: p.mediator, Keys: p.keys, Resolver: did.Local, Timeout: 5 * time.Second,
	})
	if err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

// connect dials, asks for mediation and registers the relationship DID.
func (p *planet) connect(s *testServer) *mediation.Client {
	p.t.Helper()
	ctx := context.Background()
	c, err := p.dial(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { c.Close() })
	routing, err := c.Connect(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	if routing != s.did() || c.RoutingDID() != routing {
		p.t.Fatalf("routing DID %s, want the mediator's %s", routing, s.did())
	}
	if err := c.Register(ctx, p.rel.DID()); err != nil {
		p.t.Fatal(err)
	}
	return c
}

// read opens a delivered message and returns its text.
func (p *planet) read(packed []byte) (string, error) {
	msg, _, err := didcomm.Unpack(context.Background(), did.Local, p.keys, packed, time.Now())
	if err != nil {
		return "", err
	}
	if !msg.AddressedTo(p.rel.DID()) {
		return "", errors.New("not addressed to the relationship DID")
	}
	var b struct{ Content string }
	if err := json.Unmarshal(msg.Body, &b); err != nil {
		return "", err
	}
	return b.Content, nil
}

// strangerSend has someone the person never met write text to the
// relationship DID, as any DIDComm sender does: pack for the DID (which
// routes through the mediator its service names) and Send.
func strangerSend(t *testing.T, to did.DID, text string) {
	t.Helper()
	id, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.Local.Resolve(context.Background(), id.DID())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := didcomm.IdentityKeys(id, doc)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := didcomm.NewPlaintext("https://didcomm.org/basicmessage/2.0/message", map[string]string{"content": text}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg.From, msg.To = id.DID(), []did.DID{to}
	packed, err := didcomm.Pack(context.Background(), msg, to, didcomm.PackOptions{Resolver: did.Local, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := mediation.Send(context.Background(), packed, nil); err != nil {
		t.Fatalf("sending %q: %v", text, err)
	}
}

// inbox collects what a Run hands over.
type inbox struct {
	p      *planet
	got    chan string
	refuse func(text string) bool // nil: take everything
	seen   map[string]bool        // what was taken, used by Run's goroutine only
}

func newInbox(p *planet) *inbox {
	return &inbox{p: p, got: make(chan string, 100), seen: map[string]bool{}}
}

func (in *inbox) handle(packed []byte) error {
	text, err := in.p.read(packed)
	if err != nil {
		in.p.t.Errorf("a delivered message does not open: %v", err)
		return err
	}
	if in.refuse != nil && in.refuse(text) {
		return errors.New("not now")
	}
	// A message acknowledged just as the connection dropped comes again:
	// a handler drops repeats (by the message's id; here its text).
	if in.seen[text] {
		return nil
	}
	in.seen[text] = true
	in.got <- text
	return nil
}

func (in *inbox) expect(want ...string) {
	in.p.t.Helper()
	for _, w := range want {
		select {
		case got := <-in.got:
			if got != w {
				in.p.t.Fatalf("handed %q, want %q", short(got), short(w))
			}
		case <-time.After(10 * time.Second):
			in.p.t.Fatalf("waited in vain for %q", short(w))
		}
	}
}

// run runs c.Run until the test ends; stop ends it sooner and returns
// what it returned.
func run(t *testing.T, c *mediation.Client, h mediation.Handler) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	done := make(chan struct{})
	go func() { err = c.Run(ctx, h); close(done) }()
	stop = func() error { cancel(); <-done; return err }
	t.Cleanup(func() { stop() })
	return stop
}

// short shortens a text for a test's message.
func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s… (%d bytes)", s[:20], len(s))
	}
	return s
}

func waitStatus(t *testing.T, c *mediation.Client, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := c.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.MessageCount == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages wait, want %d", st.MessageCount, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientReceivesWaitingThenLive(t *testing.T) {
	s := newTestServer(t)
	bob := newPlanet(t, s)
	c := bob.connect(s)

	keys, err := c.Keylist(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != bob.rel.DID() {
		t.Fatalf("keylist %v, want the relationship DID", keys)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Before Run: these wait at the mediator.
	for _, text := range []string{"first", "second", "third"} {
		strangerSend(t, bob.rel.DID(), text)
	}
	in := newInbox(bob)
	run(t, c, in.handle)
	in.expect("first", "second", "third")
	// Now one arrives while Bob is connected, and comes at once.
	strangerSend(t, bob.rel.DID(), "live!")
	in.expect("live!")
	waitStatus(t, c, 0)

	// Unregistered, the DID no longer receives.
	if err := c.Unregister(context.Background(), bob.rel.DID()); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.Keylist(context.Background()); err != nil || len(keys) != 0 {
		t.Fatalf("keylist after Unregister: %v, %v", keys, err)
	}
}

func TestClientHandlerErrorKeepsMessage(t *testing.T) {
	s := newTestServer(t)
	bob := newPlanet(t, s)
	c := bob.connect(s)
	for _, text := range []string{"not now", "fine"} {
		strangerSend(t, bob.rel.DID(), text)
	}
	in := newInbox(bob)
	in.refuse = func(text string) bool { return text == "not now" }
	stop := run(t, c, in.handle)
	in.expect("fine")
	strangerSend(t, bob.rel.DID(), "live")
	in.expect("live")
	waitStatus(t, c, 1) // "not now" is still queued
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run ended with %v, want context.Canceled", err)
	}

	// The next Run delivers it again.
	c2 := bob.connect(s)
	again := newInbox(bob)
	run(t, c2, again.handle)
	again.expect("not now")
	waitStatus(t, c2, 0)
}

func TestClientLargeDelivery(t *testing.T) {
	s := newTestServer(t)
	bob := newPlanet(t, s)
	c := bob.connect(s)
	// Messages near the mediator's size limit: a delivery carries several,
	// and must still be small enough for the client to read.
	var want []string
	for i := range 7 {
		text := strings.Repeat(string(rune('a'+i)), 120<<10)
		want = append(want, text)
		strangerSend(t, bob.rel.DID(), text)
	}
	in := newInbox(bob)
	run(t, c, in.handle)
	in.expect(want...)
}

func TestClientReconnectsAfterRestart(t *testing.T) {
	s := newTestServer(t)
	bob := newPlanet(t, s)
	c := bob.connect(s)
	c.Close()

	in := newInbox(bob)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	connections := 0
	var result error
	done := make(chan struct{})
	go func() {
		defer close(done)
		result = mediation.Reconnect(ctx, mediation.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
			func(ctx context.Context) error {
				c, err := bob.dial(ctx)
				if err != nil {
					return err
				}
				defer c.Close()
				if _, err := c.Connect(ctx); err != nil {
					return err
				}
				if err := c.Register(ctx, bob.rel.DID()); err != nil {
					return err
				}
				mu.Lock()
				connections++
				mu.Unlock()
				return c.Run(ctx, in.handle)
			}, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })

	strangerSend(t, bob.rel.DID(), "before the restart")
	in.expect("before the restart")

	s.stop()
	time.Sleep(100 * time.Millisecond) // Bob's attempts fail meanwhile
	s.restart()
	strangerSend(t, bob.rel.DID(), "while you were away")
	in.expect("while you were away")
	strangerSend(t, bob.rel.DID(), "and after")
	in.expect("and after")

	mu.Lock()
	n := connections
	mu.Unlock()
	if n < 2 {
		t.Fatalf("%d connections, want a reconnection", n)
	}
	cancel()
	<-done
	if !errors.Is(result, context.Canceled) {
		t.Fatalf("Reconnect ended with %v", result)
	}
}

func TestClientProblemReport(t *testing.T) {
	s := newTestServer(t)
	bob := newPlanet(t, s)
	c, err := bob.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// No mediate-request yet: the mediator refuses with a problem report.
	err = c.Register(context.Background(), bob.rel.DID())
	var p *mediation.ProblemError
	if !errors.As(err, &p) || p.Code != "e.p.req.not-granted" || p.Comment == "" {
		t.Fatalf("Register before Connect: %v, want problem e.p.req.not-granted", err)
	}
	// Someone else's DID cannot be taken.
	bob.connect(s)
	carol := newPlanet(t, s)
	cc := carol.connect(s)
	err = cc.Register(context.Background(), bob.rel.DID())
	if !errors.Is(err, mediation.ErrKeylist) || !strings.Contains(err.Error(), bob.rel.DID().String()) {
		t.Fatalf("registering Bob's DID as Carol: %v, want ErrKeylist naming it", err)
	}
}
