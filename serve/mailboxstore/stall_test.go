package mailboxstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"planet/core/identity"
	"planet/core/mailbox"
	"planet/core/wire"
	"planet/serve/quota"
)

// stalledStream is a client that asks for its letters, answers the
// challenge, and then never reads: every write of a Letters frame blocks
// until the test ends, as a reader that has stopped reading makes a real
// stream's writes block once its window is full.
type stalledStream struct {
	in      *io.PipeReader
	inW     *io.PipeWriter
	mu      sync.Mutex
	out     bytes.Buffer // what the server wrote before it stalled
	stalled chan struct{}
	once    sync.Once
	release chan struct{}
	reset   chan struct{} // closed by Reset
	resetMu sync.Once
}

func newStalledStream() *stalledStream {
	r, w := io.Pipe()
	return &stalledStream{in: r, inW: w, stalled: make(chan struct{}), release: make(chan struct{}), reset: make(chan struct{})}
}

func (s *stalledStream) Read(p []byte) (int, error) { return s.in.Read(p) }

func (s *stalledStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	big := s.out.Len() > 0 && len(p) > 1<<10 // after the challenge: letters
	if !big {
		defer s.mu.Unlock()
		return s.out.Write(p)
	}
	s.mu.Unlock()
	s.once.Do(func() { close(s.stalled) })
	select {
	case <-s.release:
	case <-s.reset:
	}
	return 0, errors.New("stream reset")
}

func (s *stalledStream) CloseWrite() error { return nil }
func (s *stalledStream) Close() error      { s.inW.Close(); return nil }
func (s *stalledStream) Reset() error {
	s.resetMu.Do(func() { close(s.reset) })
	s.inW.CloseWithError(errors.New("reset"))
	return nil
}

// challenge waits for the server's Challenge and returns its nonce.
func (s *stalledStream) challenge(t *testing.T) []byte {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		b := append([]byte(nil), s.out.Bytes()...)
		s.mu.Unlock()
		var r wireReply
		if len(b) > 0 && wire.ReadFrame(bytes.NewReader(b), 1<<20, &r) == nil {
			if r.Challenge == nil {
				t.Fatalf("first answer to a pickup: %+v", r)
			}
			return r.Challenge.Nonce
		}
	}
	t.Fatal("no challenge")
	return nil
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A pickup whose reader has stopped reading holds only a small, fixed
// amount of the server's memory, however many large letters wait: here 65
// letters of the largest size (4 MiB together), picked up by eight
// stalled streams of the same recipient at once.
func TestMailboxStalledPickupMemory(t *testing.T) {
	bob, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	relay, _ := identity.New(nil)
	// Limits that do not stand in the way: strangers may leave it all.
	box, err := Open(filepath.Join(t.TempDir(), "mailbox.db"), Config{Quota: quota.Policy{Strangers: quota.Limit{Bytes: 1 << 40}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	big := bytes.Repeat([]byte{'x'}, mailbox.MaxEnvelope)
	for i := range 65 {
		if err := depositForTest(box.store, bob, i, big); err != nil {
			t.Fatal(err)
		}
	}
	srv := &mailbox.Server{Store: box.store, Relay: relay.PeerID()}

	const pickups = 8
	before := heapInUse()
	streams := make([]*stalledStream, pickups)
	done := make([]chan struct{}, pickups)
	for i := range streams {
		s := newStalledStream()
		streams[i], done[i] = s, make(chan struct{})
		go func() {
			defer close(done[i])
			srv.Serve(context.Background(), s, bob.PeerID())
		}()
		go wire.WriteFrame(s.inW, 1<<20, &wireRequest{Pickup: &struct{}{}})
	}
	for _, s := range streams {
		nonce := s.challenge(t)
		sig := bob.Sign(append(append([]byte("PLANET mailbox pickup v1\x00"), relay.PeerID().Bytes()...), nonce...))
		go wire.WriteFrame(s.inW, 1<<20, &wireRequest{Proof: &wireProof{DID: bob.DID().String(), Signature: sig}})
	}
	// One pickup per recipient runs at a time: each new one ends the one
	// under way, so all but one end, and that one stalls on its letters.
	running := func() (n int) {
		for _, d := range done {
			select {
			case <-d:
			default:
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for running() > 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := running(); n != 1 {
		t.Fatalf("%d pickups of the same letters run at once, want 1", n)
	}
	stalled := 0
	for i, s := range streams {
		select {
		case <-done[i]:
			continue
		default:
		}
		select {
		case <-s.stalled:
			stalled++
		case <-time.After(10 * time.Second):
			t.Fatal("the pickup still running did not reach its letters")
		}
	}
	held := int64(heapInUse()) - int64(before)
	for i, s := range streams {
		close(s.release)
		s.Reset()
		<-done[i]
	}
	t.Logf("%d stalled pickups hold %d KiB of the server's heap", stalled, held/1024)
	if limit := int64(1 << 20); held > limit {
		t.Errorf("%d stalled pickups hold %d KiB, want at most %d KiB for one connection's pickups", stalled, held/1024, limit/1024)
	}
}

func depositForTest(st *mailboxStore, to *identity.Identity, i int, envelope []byte) error {
	return st.Deposit(mailbox.Incoming{To: to.DID(), ID: mailboxLetterID(i), Envelope: envelope})
}
