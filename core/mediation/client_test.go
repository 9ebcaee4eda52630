package mediation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
)

// pipeEnd is one end of an in-memory Transport pair: frames written at one
// end are read at the other.
type pipeEnd struct {
	in, out   chan []byte
	closed    chan struct{}
	closeOnce *sync.Once
}

var _ Transport = (*pipeEnd)(nil)

func pipe() (*pipeEnd, *pipeEnd) {
	a, b := make(chan []byte, 16), make(chan []byte, 16)
	closed, once := make(chan struct{}), new(sync.Once)
	return &pipeEnd{in: a, out: b, closed: closed, closeOnce: once}, &pipeEnd{in: b, out: a, closed: closed, closeOnce: once}
}

func (p *pipeEnd) Send(ctx context.Context, msg []byte) error {
	select {
	case p.out <- append([]byte(nil), msg...):
		return nil
	case <-p.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipeEnd) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeEnd) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

// party is a DIDComm party with a did:key and the keys to read what is
// encrypted to it.
type party struct {
	did  did.DID
	keys *didcomm.Keys
}

func newParty(t *testing.T) party {
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
	return party{did: id.DID(), keys: keys}
}

// fakeMediator is the far end of a pipe, speaking as a mediator party:
// it reads the client's requests and answers as each test says.
type fakeMediator struct {
	t      *testing.T
	me     party
	client did.DID
	end    *pipeEnd
}

// next reads the client's next request.
func (m *fakeMediator) next() *didcomm.Plaintext {
	m.t.Helper()
	select {
	case data := <-m.end.in:
		p, meta, err := didcomm.Unpack(context.Background(), did.Local, m.me.keys, data, time.Now())
		if err != nil {
			m.t.Fatalf("the mediator cannot read the request: %v", err)
		}
		if meta.EncryptedFrom == "" || p.From != m.client {
			m.t.Fatalf("a request not authcrypted by the client")
		}
		if string(p.Headers["return_route"]) != `"all"` {
			m.t.Fatalf("a request without return_route all: %s", p.Headers["return_route"])
		}
		return p
	case <-time.After(5 * time.Second):
		m.t.Fatal("no request came")
		return nil
	}
}

// send packs msg from from (the mediator itself by default) to the
// client and writes it.
func (m *fakeMediator) send(from party, typ, thid, pthid string, body any) {
	m.t.Helper()
	p, err := didcomm.NewPlaintext(typ, body, time.Now())
	if err != nil {
		m.t.Fatal(err)
	}
	p.From, p.To, p.Thid, p.Pthid = from.did, []did.DID{m.client}, thid, pthid
	packed, err := didcomm.Pack(context.Background(), p, m.client, didcomm.PackOptions{Resolver: did.Local, Keys: from.keys, NoForward: true})
	if err != nil {
		m.t.Fatal(err)
	}
	m.end.out <- packed.Message
}

func start(t *testing.T) (*Client, *fakeMediator) {
	t.Helper()
	client, med := newParty(t), newParty(t)
	a, b := pipe()
	c, err := NewClient(a, Config{DID: client.did, Mediator: med.did, Keys: client.keys, Resolver: did.Local, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &fakeMediator{t: t, me: med, client: client.did, end: b}
}

func TestRepliesMatchTheirRequests(t *testing.T) {
	c, m := start(t)
	type result struct {
		st  Status
		err error
	}
	statusDone, pingDone := make(chan result, 1), make(chan error, 1)
	go func() { st, err := c.Status(context.Background()); statusDone <- result{st, err} }()
	first := m.next()
	go func() { pingDone <- c.Ping(context.Background()) }()
	second := m.next()
	if first.Type == second.Type || first.ID == second.ID {
		t.Fatalf("two requests %s %s, %s %s", first.Type, first.ID, second.Type, second.ID)
	}
	statusReq, pingReq := first, second
	if first.Type == TypePing {
		statusReq, pingReq = second, first
	}

	// A reply in a thread nobody waits on is dropped; a problem report
	// names its request's thread as its parent; replies come in any order.
	m.send(m.me, TypeStatus, "someone-elses-thread", "", map[string]int{"message_count": 99})
	m.send(m.me, TypeProblem, "", pingReq.ID, map[string]any{"code": "e.m.ping.too-soon", "comment": "wait {1} s", "args": []string{"3"}})
	m.send(m.me, TypeStatus, statusReq.ID, "", map[string]any{"message_count": 4, "total_bytes": 100, "live_delivery": false})

	var p *ProblemError
	if err := <-pingDone; !errors.As(err, &p) || p.Code != "e.m.ping.too-soon" || p.Comment != "wait 3 s" || p.Request != TypePing {
		t.Fatalf("ping: %v, want the problem report", err)
	}
	if r := <-statusDone; r.err != nil || r.st.MessageCount != 4 || r.st.TotalBytes != 100 {
		t.Fatalf("status: %+v, %v", r.st, r.err)
	}
}

func TestReplyOfTheWrongType(t *testing.T) {
	c, m := start(t)
	done := make(chan error, 1)
	go func() { _, err := c.Connect(context.Background()); done <- err }()
	req := m.next()
	m.send(m.me, TypeStatus, req.ID, "", map[string]int{"message_count": 0})
	if err := <-done; !errors.Is(err, ErrInvalidReply) {
		t.Fatalf("a status in answer to mediate-request: %v, want ErrInvalidReply", err)
	}

	go func() { _, err := c.Connect(context.Background()); done <- err }()
	req = m.next()
	m.send(m.me, TypeMediateDeny, req.ID, "", struct{}{})
	if err := <-done; !errors.Is(err, ErrDenied) {
		t.Fatalf("mediate-deny: %v, want ErrDenied", err)
	}
}

// Only the mediator speaks on the connection: a message from anyone else
// ends it, and what waits fails with ErrInvalidReply.
func TestMessageFromSomeoneElse(t *testing.T) {
	c, m := start(t)
	done := make(chan error, 1)
	go func() { done <- c.Ping(context.Background()) }()
	req := m.next()
	m.send(newParty(t), TypePingResponse, req.ID, "", struct{}{})
	if err := <-done; !errors.Is(err, ErrInvalidReply) {
		t.Fatalf("a reply from another party: %v, want ErrInvalidReply", err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("the connection still answers after a stranger spoke on it")
	}
}

func TestRequestTimesOut(t *testing.T) {
	client, med := newParty(t), newParty(t)
	a, _ := pipe()
	c, err := NewClient(a, Config{DID: client.did, Mediator: med.did, Keys: client.keys, Resolver: did.Local, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no answer: %v, want DeadlineExceeded", err)
	}
}

func TestReconnectBacksOff(t *testing.T) {
	var waits []time.Duration
	attempts := 0
	stop := errors.New("stop")
	err := Reconnect(context.Background(), Backoff{Min: time.Millisecond, Max: 8 * time.Millisecond},
		func(context.Context) error {
			attempts++
			if attempts == 7 {
				return Permanent(stop)
			}
			return errors.New("refused")
		},
		func(_ error, wait time.Duration) { waits = append(waits, wait) })
	if err != stop || attempts != 7 {
		t.Fatalf("Reconnect returned %v after %d attempts", err, attempts)
	}
	caps := []time.Duration{1, 2, 4, 8, 8, 8}
	for i, w := range waits {
		c := caps[i] * time.Millisecond
		if w < c/2 || w > c {
			t.Errorf("wait %d: %v, want within [%v, %v]", i, w, c/2, c)
		}
	}
}
