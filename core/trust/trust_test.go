package trust_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/invite"
	"planet/core/session/sessiontest"
	"planet/core/trust"
	"planet/core/wire"
)

var ctx = context.Background()

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A person is one vault's trust network, in memory.
type person struct {
	name  string
	o     *sessiontest.Opener
	cs    *contacts.Service
	trust *trust.Service
	did   did.DID
}

// A network is people who reach each other over in-process streams: no
// libp2p, no relay, every exchange served by the other side's ServeTrust.
type network map[did.DID]*person

func (n network) add(t testing.TB, name string, seed byte) *person {
	t.Helper()
	o := sessiontest.Open(t, seed)
	cs := contacts.New(o)
	p := &person{name: name, o: o, cs: cs, trust: trust.New(o, cs, func() string { return name }), did: o.S.Identity.DID()}
	p.trust.SetRelays([]string{"/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooWRelay/p2p-circuit"})
	n[p.did] = p
	return p
}

// stream is one side of an in-process stream: what one side writes the
// other reads, and CloseWrite ends what the other reads.
type stream struct {
	r *io.PipeReader
	w *io.PipeWriter
}

var _ wire.Stream = (*stream)(nil)

func (s *stream) Read(b []byte) (int, error)  { return s.r.Read(b) }
func (s *stream) Write(b []byte) (int, error) { return s.w.Write(b) }
func (s *stream) CloseWrite() error           { return s.w.Close() }
func (s *stream) Close() error                { s.r.Close(); return s.w.Close() }
func (s *stream) Reset() error {
	s.r.CloseWithError(errors.New("stream reset"))
	return s.w.CloseWithError(errors.New("stream reset"))
}

func pipe() (a, b *stream) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return &stream{ar, aw}, &stream{br, bw}
}

// sent is a frame someone wants delivered.
type sent struct {
	from *person
	out  trust.Outgoing
}

// exchange delivers out from from over a new stream, as the node would
// when its recipient is reachable. It returns the error the answer brought
// and the frames for others that either side produced.
func (n network) exchange(t *testing.T, from *person, out trust.Outgoing) ([]sent, error) {
	t.Helper()
	to := n[out.To]
	if to == nil {
		t.Fatalf("%s sends to %s, who is not in the network", from.name, did.Short(out.To))
	}
	mine, theirs := pipe()
	peer := must(identity.DIDPeer(from.did))
	type served struct {
		send []trust.Outgoing
		err  error
	}
	done := make(chan served, 1)
	go func() {
		send, err := to.trust.ServeTrust(ctx, theirs, out.Protocol, peer)
		done <- served{send, err}
	}()
	h, err := from.trust.Exchange(ctx, mine, out)
	s := <-done
	if s.err != nil {
		t.Fatalf("%s serving %s from %s: %v", to.name, out.Protocol, from.name, s.err)
	}
	var more []sent
	for _, o := range s.send {
		more = append(more, sent{to, o})
	}
	for _, o := range h.Send {
		more = append(more, sent{from, o})
	}
	return more, err
}

// deliver delivers outs from from and everything they lead to, and returns
// the first error an answer brought.
func (n network) deliver(t *testing.T, from *person, outs ...trust.Outgoing) error {
	t.Helper()
	var first error
	for _, out := range outs {
		more, err := n.exchange(t, from, out)
		if first == nil {
			first = err
		}
		for _, m := range more {
			if err := n.deliver(t, m.from, m.out); err != nil {
				t.Fatalf("%s delivering %s to %s: %v", m.from.name, m.out.Protocol, did.Short(m.out.To), err)
			}
		}
	}
	return first
}

// connect connects a and b by an invitation from a.
func (n network) connect(t *testing.T, a, b *person) {
	t.Helper()
	inv := must(a.trust.CreateInvitation(ctx, invite.Options{Note: "met at the allotment"}))
	_, out := must2(b.trust.AcceptInvitation(ctx, inv.Token))
	if err := n.deliver(t, b, out); err != nil {
		t.Fatalf("%s accepting %s's invitation: %v", b.name, a.name, err)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
