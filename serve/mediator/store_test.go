package mediator

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

const (
	alice    = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	bob      = "did:key:z6MkvwKpegCkTUxGcbJvdU1f5HwpbRhtkQJdKript97TRHeC"
	alicePW1 = "did:peer:2.Vz6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testStore(t *testing.T, cfg Config) (*store, string) {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), storeFile)
	st, err := openStore(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })
	return st, path
}

func TestStoreRoutes(t *testing.T) {
	st, _ := testStore(t, Config{})
	for _, step := range []struct {
		client, recipient, want string
		err                     error
	}{
		{alice, alicePW1, resultSuccess, nil},
		{alice, alicePW1, resultNoChange, nil},
		{bob, alicePW1, "", errTaken},
	} {
		got, err := st.addKey(step.client, step.recipient)
		if !errors.Is(err, step.err) || (err == nil && got != step.want) {
			t.Fatalf("addKey(%s, %s) = %q, %v; want %q, %v", step.client, step.recipient, got, err, step.want, step.err)
		}
	}
	if c, err := st.route(alicePW1); err != nil || c != alice {
		t.Fatalf("route = %q, %v; want alice", c, err)
	}
	if got, err := st.removeKey(bob, alicePW1); err != nil || got != resultNoChange {
		t.Fatalf("bob removing alice's DID = %q, %v; want no_change", got, err)
	}
	if got, err := st.removeKey(alice, alicePW1); err != nil || got != resultSuccess {
		t.Fatalf("removeKey = %q, %v", got, err)
	}
	if _, err := st.route(alicePW1); !errors.Is(err, errNoRoute) {
		t.Fatalf("route after remove: %v, want errNoRoute", err)
	}
}

func TestStoreKeylistPages(t *testing.T) {
	st, _ := testStore(t, Config{MaxKeys: 5})
	dids := []string{"did:example:1", "did:example:2", "did:example:3", "did:example:4", "did:example:5"}
	for _, d := range dids {
		if _, err := st.addKey(alice, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.addKey(alice, "did:example:6"); err == nil {
		t.Fatal("a sixth DID was registered past MaxKeys 5")
	}
	got, total, err := st.keys(alice, 1, 2)
	if err != nil || total != 5 || len(got) != 2 || got[0] != dids[1] || got[1] != dids[2] {
		t.Fatalf("keys(1, 2) = %v, %d, %v", got, total, err)
	}
}

func TestStoreQueue(t *testing.T) {
	st, path := testStore(t, Config{MaxMessages: 3})
	var ids []string
	for i, msg := range []string{`{"a":1}`, `{"b":2}`, `{"c":3}`} {
		id, err := st.enqueue(alice, alicePW1, "", []byte(msg), t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := st.enqueue(alice, alicePW1, "", []byte(`{}`), t0); !errors.Is(err, errQueueFull) {
		t.Fatalf("a fourth message past MaxMessages 3: %v, want errQueueFull", err)
	}
	// Another client's queue is its own.
	if _, err := st.enqueue(bob, bob, "", []byte(`{}`), t0); err != nil {
		t.Fatalf("bob's queue: %v", err)
	}

	// Reopened, everything is still there.
	st.close()
	cfg, _ := Config{MaxMessages: 3}.withDefaults()
	st, err := openStore(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })

	got, err := st.waiting(alice, "", 10, maxDeliveryBytes)
	if err != nil || len(got) != 3 {
		t.Fatalf("waiting = %d messages, %v", len(got), err)
	}
	if got[0].ID != ids[0] || !bytes.Equal(got[2].Message, []byte(`{"c":3}`)) || got[1].Recipient != alicePW1 || !got[1].Received.Equal(t0.Add(time.Minute)) {
		t.Fatalf("waiting = %+v", got)
	}
	if only, _ := st.waiting(alice, "did:example:other", 10, maxDeliveryBytes); len(only) != 0 {
		t.Fatalf("waiting for another recipient = %d messages", len(only))
	}
	// The byte budget cuts a batch, but never to nothing.
	if cut, _ := st.waiting(alice, "", 10, 1); len(cut) != 1 {
		t.Fatalf("waiting with a 1-byte budget = %d messages, want 1", len(cut))
	}

	s, err := st.status(alice, "")
	if err != nil || s.Count != 3 || s.Bytes != 21 || !s.Oldest.Equal(t0) || !s.Newest.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("status = %+v, %v", s, err)
	}
	if err := st.remove(alice, []string{ids[0], ids[0], "not-an-id", messageID(999)}); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.status(alice, ""); s.Count != 2 {
		t.Fatalf("after remove, %d messages wait", s.Count)
	}
	// There is room again.
	if _, err := st.enqueue(alice, alicePW1, "", []byte(`{}`), t0); err != nil {
		t.Fatalf("after remove: %v", err)
	}
	u, _ := st.totals()
	if u.messages != 4 {
		t.Fatalf("totals = %+v, want 4 messages", u)
	}
}

func TestStoreBytesQuota(t *testing.T) {
	st, _ := testStore(t, Config{MaxBytes: 3 * messageOverhead, MaxTotalBytes: 5 * messageOverhead})
	// Tiny messages count their overhead: three fill the 3×overhead quota.
	for range 3 {
		if _, err := st.enqueue(alice, alice, "", nil, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.enqueue(alice, alice, "", nil, t0); !errors.Is(err, errQueueFull) {
		t.Fatalf("past MaxBytes: %v", err)
	}
	for range 2 {
		if _, err := st.enqueue(bob, bob, "", nil, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.enqueue(bob, bob, "", nil, t0); !errors.Is(err, errQueueFull) {
		t.Fatalf("past MaxTotalBytes: %v", err)
	}
}

func TestStoreExpire(t *testing.T) {
	st, _ := testStore(t, Config{})
	for i := range 4 {
		if _, err := st.enqueue(alice, alice, "", []byte("x"), t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.expire(t0.Add(2 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("expire = %d, %v; want 2", n, err)
	}
	if s, _ := st.status(alice, ""); s.Count != 2 || !s.Oldest.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after expire: %+v", s)
	}
	if u, _ := st.totals(); u.messages != 2 {
		t.Fatalf("totals after expire: %+v", u)
	}
}

func TestStoreInUse(t *testing.T) {
	_, path := testStore(t, Config{})
	cfg, _ := Config{}.withDefaults()
	if _, err := openStore(path, cfg); err == nil {
		t.Fatal("a second store opened the same file")
	}
}

func TestStorePerSender(t *testing.T) {
	st, _ := testStore(t, Config{MaxPerSender: 2, MaxBytesPerSender: 10 * messageOverhead})
	for range 2 {
		if _, err := st.enqueue(alice, alicePW1, bob, []byte("x"), t0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := st.enqueue(alice, alicePW1, bob, []byte("x"), t0)
	if !errors.Is(err, errSenderFull) || !errors.Is(err, errQueueFull) {
		t.Fatalf("a third message from one sender past MaxPerSender 2: %v", err)
	}
	// Others still get through: another sender, and the anonymous ones.
	for _, sender := range []string{"did:example:carol", ""} {
		if _, err := st.enqueue(alice, alicePW1, sender, []byte("x"), t0); err != nil {
			t.Fatalf("sender %q: %v", sender, err)
		}
	}
	// The sender's count goes down as its messages are picked up.
	waiting, _ := st.waiting(alice, "", 10, maxDeliveryBytes)
	if len(waiting) != 4 || waiting[0].Sender != bob || waiting[3].Sender != "" {
		t.Fatalf("waiting: %+v", waiting)
	}
	if err := st.remove(alice, []string{waiting[0].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.enqueue(alice, alicePW1, bob, []byte("x"), t0); err != nil {
		t.Fatalf("after one of bob's was picked up: %v", err)
	}
	// And as they expire.
	if n, err := st.expire(t0.Add(time.Second)); err != nil || n != 4 {
		t.Fatalf("expire = %d, %v", n, err)
	}
	for range 2 {
		if _, err := st.enqueue(alice, alicePW1, bob, []byte("x"), t0.Add(time.Hour)); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
	}
}
