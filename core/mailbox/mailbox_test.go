//go:build !js

// These tests run the protocol over real go-libp2p hosts, which do not build for js/wasm.

package mailbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"planet/core/cbor"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/keys"
	"planet/core/wire"
	"planet/core/wire/wiretest"
)

// memMailbox is an in-memory Store: the protocol's tests need a
// store, and the server's real one (bbolt) lives in serve, which runs these
// same exchanges against it.
type memMailbox struct {
	mu      sync.Mutex
	seq     uint64
	letters map[did.DID][]StoredLetter
	max     int // letters per recipient; 0 means no limit
	// incoming is every deposit as the server handed it over; tokens,
	// the hashes each recipient registered.
	incoming []Incoming
	tokens   map[did.DID][][]byte
}

var _ TokenStore = (*memMailbox)(nil)

func (m *memMailbox) Register(to did.DID, hashes [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[did.DID][][]byte{}
	}
	m.tokens[to] = hashes
	return nil
}

func (m *memMailbox) Deposit(in Incoming) error {
	m.mu.Lock()
	m.incoming = append(m.incoming, in)
	m.mu.Unlock()
	return m.put(in.To, in.ID, in.Envelope)
}

func newMemMailbox() *memMailbox { return &memMailbox{letters: map[did.DID][]StoredLetter{}} }

func (m *memMailbox) put(to did.DID, id string, envelope []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.letters[to] {
		if l.ID == id {
			return nil
		}
	}
	if m.max > 0 && len(m.letters[to]) >= m.max {
		return &Error{Code: CodeFull, Message: "the recipient's mailbox is full"}
	}
	m.seq++
	m.letters[to] = append(m.letters[to], StoredLetter{
		Seq:    m.seq,
		Letter: Letter{ID: id, Envelope: bytes.Clone(envelope), Deposited: time.UnixMilli(time.Now().UnixMilli()).UTC()},
	})
	return nil
}

func (m *memMailbox) Waiting(to did.DID, after uint64, limit, maxBytes int) ([]StoredLetter, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredLetter
	size := 0
	for _, l := range m.letters[to] {
		if l.Seq <= after {
			continue
		}
		if size += len(l.Envelope); len(out) == limit || len(out) > 0 && size > maxBytes {
			return out, true, nil
		}
		out = append(out, l)
	}
	return out, false, nil
}

func (m *memMailbox) Remove(to did.DID, seqs []uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.letters[to] = slices.DeleteFunc(m.letters[to], func(l StoredLetter) bool { return slices.Contains(seqs, l.Seq) })
	return nil
}

func (m *memMailbox) ids(to did.DID) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, l := range m.letters[to] {
		ids = append(ids, l.ID)
	}
	return ids
}

// newMailboxIdentity returns a new random identity.
func newMailboxIdentity(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newMailboxHost starts a go-libp2p host on loopback TCP whose key is id's, so its
// peer ID is id.PeerID().
func newMailboxHost(t testing.TB, id *identity.Identity) host.Host {
	t.Helper()
	seed := id.Seed()
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	clear(seed)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if h.ID().String() != id.PeerID().String() {
		t.Fatalf("host peer id %s, identity's %s", h.ID(), id.PeerID())
	}
	return h
}

// mailboxNet is a mailbox server on a real host, and a way to open streams
// to it from other real hosts.
type mailboxNet struct {
	t      *testing.T
	store  *memMailbox
	server host.Host
	relay  keys.PeerID
	errs   chan error // what Serve returned, one per stream
}

func newMailboxNet(t *testing.T) *mailboxNet {
	srvID := newMailboxIdentity(t)
	n := &mailboxNet{t: t, store: newMemMailbox(), server: newMailboxHost(t, srvID), relay: srvID.PeerID(), errs: make(chan error, 100)}
	srv := &Server{Store: n.store, Relay: n.relay}
	n.server.SetStreamHandler(protocol.ID(Protocol), func(s network.Stream) {
		remote, err := keys.ParsePeerID(s.Conn().RemotePeer().String())
		if err != nil {
			t.Errorf("remote peer: %v", err)
		}
		n.errs <- srv.Serve(context.Background(), s, remote)
	})
	return n
}

// stream opens a mailbox stream from a new host with id's key.
func (n *mailboxNet) stream(from host.Host) network.Stream {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := from.Connect(ctx, peer.AddrInfo{ID: n.server.ID(), Addrs: n.server.Addrs()}); err != nil {
		n.t.Fatal(err)
	}
	s, err := from.NewStream(ctx, n.server.ID(), protocol.ID(Protocol))
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { s.Reset() })
	return s
}

// served returns what Serve returned for the next stream that ended.
func (n *mailboxNet) served() error {
	n.t.Helper()
	select {
	case err := <-n.errs:
		return err
	case <-time.After(10 * time.Second):
		n.t.Fatal("the server did not end the stream")
		return nil
	}
}

func mailboxLetterID(i int) string { return fmt.Sprintf("letter-%010d", i) }

func collectLetters(got *[]Letter) func(Letter) error {
	return func(l Letter) error {
		*got = append(*got, l)
		return nil
	}
}

func TestMailboxDepositAndPickup(t *testing.T) {
	n := newMailboxNet(t)
	alice, bob := newMailboxIdentity(t), newMailboxIdentity(t)
	aliceHost, bobHost := newMailboxHost(t, alice), newMailboxHost(t, bob)
	ctx := context.Background()

	// One stream carries several deposits; a repeated id is stored once.
	s := n.stream(aliceHost)
	start := time.Now().Add(-time.Second)
	for i := range 3 {
		if err := Deposit(ctx, s, bob.DID(), mailboxLetterID(i), []byte(fmt.Sprintf("sealed %d", i))); err != nil {
			t.Fatalf("deposit %d: %v", i, err)
		}
	}
	if err := Deposit(ctx, s, bob.DID(), mailboxLetterID(1), []byte("again")); err != nil {
		t.Fatalf("deposit of a repeated id: %v", err)
	}
	s.Close()
	if err := n.served(); err != nil {
		t.Fatalf("server: %v", err)
	}
	if got, want := n.store.ids(bob.DID()), []string{mailboxLetterID(0), mailboxLetterID(1), mailboxLetterID(2)}; !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}

	var got []Letter
	s = n.stream(bobHost)
	count, err := Pickup(ctx, s, bob, n.relay, collectLetters(&got))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.served(); err != nil {
		t.Fatalf("server: %v", err)
	}
	if count != 3 || len(got) != 3 {
		t.Fatalf("picked up %d letters, handled %d, want 3", count, len(got))
	}
	for i, l := range got {
		if l.ID != mailboxLetterID(i) || string(l.Envelope) != fmt.Sprintf("sealed %d", i) {
			t.Errorf("letter %d is %s %q", i, l.ID, l.Envelope)
		}
		if l.Deposited.Before(start) || l.Deposited.After(time.Now()) {
			t.Errorf("letter %d deposited at %v", i, l.Deposited)
		}
	}
	if ids := n.store.ids(bob.DID()); len(ids) != 0 {
		t.Fatalf("acknowledged letters still stored: %v", ids)
	}

	// Nothing is left: an empty pickup.
	s = n.stream(bobHost)
	if count, err := Pickup(ctx, s, bob, n.relay, collectLetters(&got)); err != nil || count != 0 {
		t.Fatalf("second pickup: %d, %v", count, err)
	}
	n.served()
}

func TestMailboxPickupInBatches(t *testing.T) {
	n := newMailboxNet(t)
	bob := newMailboxIdentity(t)
	// More letters than one batch holds, and large ones so that size, not
	// count, ends some batches.
	const letters = 2*mailboxBatch + 5
	for i := range letters {
		size := 10
		if i%20 == 0 {
			size = MaxEnvelope
		}
		if err := n.store.put(bob.DID(), mailboxLetterID(i), bytes.Repeat([]byte{byte(i)}, size)); err != nil {
			t.Fatal(err)
		}
	}
	var got []Letter
	count, err := Pickup(context.Background(), n.stream(newMailboxHost(t, bob)), bob, n.relay, collectLetters(&got))
	if err != nil {
		t.Fatal(err)
	}
	n.served()
	if count != letters {
		t.Fatalf("picked up %d, want %d", count, letters)
	}
	for i, l := range got {
		if l.ID != mailboxLetterID(i) {
			t.Fatalf("letter %d is %s: order not kept", i, l.ID)
		}
	}
}

func TestMailboxUnacknowledgedLettersStay(t *testing.T) {
	n := newMailboxNet(t)
	bob := newMailboxIdentity(t)
	bobHost := newMailboxHost(t, bob)
	for i := range 4 {
		n.store.put(bob.DID(), mailboxLetterID(i), []byte("sealed"))
	}
	refused := errors.New("vault locked")
	count, err := Pickup(context.Background(), n.stream(bobHost), bob, n.relay, func(l Letter) error {
		if l.ID == mailboxLetterID(1) || l.ID == mailboxLetterID(3) {
			return refused
		}
		return nil
	})
	n.served()
	if !errors.Is(err, refused) || count != 2 {
		t.Fatalf("pickup: %d, %v; want 2 and an error wrapping the handler's", count, err)
	}
	if got, want := n.store.ids(bob.DID()), []string{mailboxLetterID(1), mailboxLetterID(3)}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

func TestMailboxDropMidPickupLosesNothing(t *testing.T) {
	n := newMailboxNet(t)
	bob := newMailboxIdentity(t)
	bobHost := newMailboxHost(t, bob)
	for i := range 3 {
		n.store.put(bob.DID(), mailboxLetterID(i), []byte("sealed"))
	}
	s := n.stream(bobHost)
	_, err := Pickup(context.Background(), s, bob, n.relay, func(Letter) error {
		s.Reset() // the connection drops while the letters are being read
		return nil
	})
	if err == nil {
		t.Fatal("pickup over a reset stream succeeded")
	}
	if err := n.served(); err == nil {
		t.Fatal("server saw no failure")
	}
	if got := n.store.ids(bob.DID()); len(got) != 3 {
		t.Fatalf("after a dropped pickup %v are stored, want all 3", got)
	}
}

func TestMailboxRefusals(t *testing.T) {
	n := newMailboxNet(t)
	n.store.max = 1
	alice, bob := newMailboxIdentity(t), newMailboxIdentity(t)
	aliceHost := newMailboxHost(t, alice)
	ctx := context.Background()

	s := n.stream(aliceHost)
	if err := Deposit(ctx, s, bob.DID(), mailboxLetterID(0), []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := n.served(); err != nil {
		t.Fatal(err)
	}
	err := Deposit(ctx, n.stream(aliceHost), bob.DID(), mailboxLetterID(1), []byte("sealed"))
	var me *Error
	if !errors.Is(err, ErrFull) || !errors.As(err, &me) || me.Code != CodeFull {
		t.Fatalf("deposit into a full mailbox: %v", err)
	}
	if !strings.Contains(err.Error(), "full") {
		t.Errorf("error %q does not say the mailbox is full", err)
	}
	if served := n.served(); !errors.Is(served, ErrFull) {
		t.Errorf("server returned %v", served)
	}

	// Refused before anything is sent.
	peerDID, err := did.Parse("did:peer:0" + keys.Ed25519Multikey(bob.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		to       did.DID
		id       string
		envelope []byte
		want     error
	}{
		"too large":   {bob.DID(), mailboxLetterID(2), make([]byte, MaxEnvelope+1), ErrTooLarge},
		"did:peer":    {peerDID, mailboxLetterID(2), []byte("x"), ErrUnsupportedDID},
		"short id":    {bob.DID(), "short", []byte("x"), input.ErrInvalid},
		"id with a /": {bob.DID(), "letter/0000000001", []byte("x"), input.ErrInvalid},
		"empty":       {bob.DID(), mailboxLetterID(2), nil, input.ErrInvalid},
	} {
		var nothing bytes.Buffer
		err := Deposit(ctx, &wiretest.Stream{W: &nothing}, tc.to, tc.id, tc.envelope)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if nothing.Len() != 0 {
			t.Errorf("%s: sent %d bytes", name, nothing.Len())
		}
	}
}

// sendMailboxRequest writes a client frame by hand.
func sendMailboxRequest(t *testing.T, s wire.Stream, req *mailboxRequest) {
	t.Helper()
	if err := wire.WriteFrame(s, mailboxMaxRequest, req); err != nil {
		t.Fatal(err)
	}
}

// readMailboxFrame reads a server frame by hand; an Error is returned as is.
func readMailboxFrame(t *testing.T, s wire.Stream) *mailboxReply {
	t.Helper()
	var r mailboxReply
	if err := wire.ReadFrame(s, mailboxMaxLetters, &r); err != nil {
		t.Fatalf("reading the server's frame: %v", err)
	}
	return &r
}

func wantMailboxRefusal(t *testing.T, r *mailboxReply, code string) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code {
		t.Fatalf("got %+v, want an Error with code %q", r, code)
	}
}

func TestMailboxProofRefusals(t *testing.T) {
	n := newMailboxNet(t)
	alice, bob := newMailboxIdentity(t), newMailboxIdentity(t)
	aliceHost, bobHost := newMailboxHost(t, alice), newMailboxHost(t, bob)
	n.store.put(bob.DID(), mailboxLetterID(0), []byte("for bob"))

	// Bob's own proof, recorded, then replayed on a new stream of his.
	s := n.stream(bobHost)
	sendMailboxRequest(t, s, &mailboxRequest{Pickup: &mailboxPickup{}})
	ch := readMailboxFrame(t, s).Challenge
	recorded := &mailboxProof{DID: bob.DID().String(), Signature: bob.Sign(mailboxPickupInput(n.relay, ch.Nonce))}
	sendMailboxRequest(t, s, &mailboxRequest{Proof: recorded})
	if r := readMailboxFrame(t, s); r.Letters == nil || len(r.Letters.Items) != 1 {
		t.Fatalf("honest proof: %+v", r)
	}
	s.Reset() // leave without acknowledging
	n.served()

	s = n.stream(bobHost)
	sendMailboxRequest(t, s, &mailboxRequest{Pickup: &mailboxPickup{}})
	readMailboxFrame(t, s)
	sendMailboxRequest(t, s, &mailboxRequest{Proof: recorded})
	wantMailboxRefusal(t, readMailboxFrame(t, s), CodeUnauthorized)
	if err := n.served(); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("server returned %v", err)
	}

	for name, sign := range map[string]func(nonce []byte) *mailboxProof{
		// Alice claims Bob's DID but can only sign with her own key.
		"wrong key": func(nonce []byte) *mailboxProof {
			return &mailboxProof{DID: bob.DID().String(), Signature: alice.Sign(mailboxPickupInput(n.relay, nonce))}
		},
		// Bob's key signed (the proof leaked), but the connection is Alice's.
		"another peer's did": func(nonce []byte) *mailboxProof {
			return &mailboxProof{DID: bob.DID().String(), Signature: bob.Sign(mailboxPickupInput(n.relay, nonce))}
		},
		// A signature made for another server.
		"another relay": func(nonce []byte) *mailboxProof {
			return &mailboxProof{DID: alice.DID().String(), Signature: alice.Sign(mailboxPickupInput(bob.PeerID(), nonce))}
		},
	} {
		s := n.stream(aliceHost)
		sendMailboxRequest(t, s, &mailboxRequest{Pickup: &mailboxPickup{}})
		sendMailboxRequest(t, s, &mailboxRequest{Proof: sign(readMailboxFrame(t, s).Challenge.Nonce)})
		r := readMailboxFrame(t, s)
		if r.Error == nil || r.Error.Code != CodeUnauthorized {
			t.Errorf("%s: got %+v, want unauthorized", name, r)
		}
		n.served()
	}
	if got := n.store.ids(bob.DID()); len(got) != 1 {
		t.Fatalf("bob's letters after refused pickups: %v", got)
	}

	// The client side: a challenge naming another server is not answered.
	_, err := Pickup(context.Background(), n.stream(bobHost), bob, alice.PeerID(), collectLetters(new([]Letter)))
	if err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("pickup from the wrong relay: %v", err)
	}
	n.served()
}

func TestMailboxMalformedFrames(t *testing.T) {
	n := newMailboxNet(t)
	alice, bob := newMailboxIdentity(t), newMailboxIdentity(t)
	aliceHost, bobHost := newMailboxHost(t, alice), newMailboxHost(t, bob)

	raw := func(b ...byte) []byte { return b }
	frame := func(v any) []byte {
		var buf bytes.Buffer
		if err := wire.WriteFrame(&buf, 1<<20, v); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	oversize := uvarintBytes(mailboxMaxRequest + 1)
	for name, tc := range map[string]struct {
		send []byte
		code string
	}{
		"not cbor":            {raw(0x01, 0xff), CodeMalformed},
		"empty frame":         {raw(0x00), CodeMalformed},
		"not deterministic":   {raw(0x04, 0xa1, 0x18, 0x02, 0xa0), CodeMalformed},
		"unknown kind":        {frame(map[int]any{9: map[int]any{}}), CodeUnexpected},
		"two messages":        {frame(map[int]any{2: map[int]any{}, 4: map[int]any{}}), CodeMalformed},
		"ack first":           {frame(&mailboxRequest{Ack: &mailboxAck{}}), CodeUnexpected},
		"oversize":            {oversize, CodeTooLarge},
		"wrong field type":    {frame(map[int]any{1: map[int]any{1: 7}}), CodeMalformed},
		"bad recipient":       {frame(&mailboxRequest{Deposit: &mailboxDeposit{To: "did:key:nope", ID: mailboxLetterID(0), Envelope: []byte("x")}}), CodeMalformed},
		"did:web recipient":   {frame(&mailboxRequest{Deposit: &mailboxDeposit{To: "did:web:example.com", ID: mailboxLetterID(0), Envelope: []byte("x")}}), CodeUnsupportedDID},
		"envelope over limit": {frame(&mailboxRequest{Deposit: &mailboxDeposit{To: bob.DID().String(), ID: mailboxLetterID(0), Envelope: make([]byte, MaxEnvelope+1)}}), CodeTooLarge},
	} {
		s := n.stream(aliceHost)
		if _, err := s.Write(tc.send); err != nil {
			t.Fatal(err)
		}
		r := readMailboxFrame(t, s)
		if r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s: got %+v, want code %q", name, r, tc.code)
		}
		var end [1]byte
		if _, err := s.Read(end[:]); err != io.EOF {
			t.Errorf("%s: after the error the stream gives %v, want EOF", name, err)
		}
		var me *Error
		if err := n.served(); !errors.As(err, &me) || me.Code != tc.code {
			t.Errorf("%s: server returned %v", name, err)
		}
	}

	// A proof that is not a proof, an ack of a letter not offered.
	s := n.stream(bobHost)
	sendMailboxRequest(t, s, &mailboxRequest{Pickup: &mailboxPickup{}})
	readMailboxFrame(t, s)
	sendMailboxRequest(t, s, &mailboxRequest{Ack: &mailboxAck{}})
	wantMailboxRefusal(t, readMailboxFrame(t, s), CodeUnexpected)
	n.served()

	n.store.put(bob.DID(), mailboxLetterID(0), []byte("sealed"))
	s = n.stream(bobHost)
	sendMailboxRequest(t, s, &mailboxRequest{Pickup: &mailboxPickup{}})
	nonce := readMailboxFrame(t, s).Challenge.Nonce
	sendMailboxRequest(t, s, &mailboxRequest{Proof: &mailboxProof{DID: bob.DID().String(), Signature: bob.Sign(mailboxPickupInput(n.relay, nonce))}})
	readMailboxFrame(t, s)
	sendMailboxRequest(t, s, &mailboxRequest{Ack: &mailboxAck{IDs: []string{mailboxLetterID(7)}}})
	wantMailboxRefusal(t, readMailboxFrame(t, s), CodeMalformed)
	n.served()

	// The server still serves, and lost nothing.
	var got []Letter
	if count, err := Pickup(context.Background(), n.stream(bobHost), bob, n.relay, collectLetters(&got)); err != nil || count != 1 {
		t.Fatalf("pickup after malformed frames: %d, %v", count, err)
	}
	n.served()
}

func uvarintBytes(n int) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// hostileMailbox answers every mailbox stream with the frames that answer
// returns for what the client sent first.
func hostileMailbox(t *testing.T, answer func(s network.Stream)) (host.Host, keys.PeerID) {
	id := newMailboxIdentity(t)
	h := newMailboxHost(t, id)
	h.SetStreamHandler(protocol.ID(Protocol), func(s network.Stream) {
		defer s.Close()
		answer(s)
	})
	return h, id.PeerID()
}

func TestMailboxClientRefusesBadServers(t *testing.T) {
	bob := newMailboxIdentity(t)
	bobHost := newMailboxHost(t, bob)
	ctx := context.Background()
	frame := func(v any) []byte {
		var buf bytes.Buffer
		if err := wire.WriteFrame(&buf, 1<<20, v); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	item := func(id string) mailboxItem { return mailboxItem{ID: id, Envelope: []byte("x"), Deposited: 1} }
	tooMany := &mailboxLetters{}
	for i := range mailboxBatch + 1 {
		tooMany.Items = append(tooMany.Items, item(mailboxLetterID(i)))
	}
	for name, tc := range map[string]struct {
		after []byte // sent after a valid challenge
		want  error
	}{
		"garbage":          {[]byte{0x02, 0xff, 0xff}, wire.ErrMalformedFrame},
		"oversize":         {uvarintBytes(mailboxMaxLetters + 1), wire.ErrFrameTooLarge},
		"too many letters": {frame(&mailboxReply{Letters: tooMany}), wire.ErrMalformedFrame},
		"repeated letter":  {frame(&mailboxReply{Letters: &mailboxLetters{Items: []mailboxItem{item(mailboxLetterID(1)), item(mailboxLetterID(1))}}}), wire.ErrMalformedFrame},
		"bad id":           {frame(&mailboxReply{Letters: &mailboxLetters{Items: []mailboxItem{item("x")}}}), wire.ErrMalformedFrame},
		"unknown kind":     {frame(map[int]any{9: map[int]any{}}), wire.ErrMalformedFrame},
		"done too early":   {frame(&mailboxReply{Done: &mailboxDone{}}), wire.ErrMalformedFrame},
		"cut short":        {nil, io.ErrUnexpectedEOF},
		"refusal":          {frame(&mailboxReply{Error: &Error{Code: "busy", Message: "try later"}}), ErrRefused},
	} {
		h, relay := hostileMailbox(t, func(s network.Stream) {
			var req mailboxRequest
			wire.ReadFrame(s, mailboxMaxControl, &req)
			s.Write(frame(&mailboxReply{Challenge: &mailboxChallenge{Nonce: make([]byte, 32), Relay: localPeerBytes(s)}}))
			wire.ReadFrame(s, mailboxMaxControl, &req)
			s.Write(tc.after)
		})
		bobHost.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
		s, err := bobHost.NewStream(ctx, h.ID(), protocol.ID(Protocol))
		if err != nil {
			t.Fatal(err)
		}
		handled := 0
		_, err = Pickup(ctx, s, bob, relay, func(Letter) error { handled++; return nil })
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if handled != 0 {
			t.Errorf("%s: handled %d letters of a bad frame", name, handled)
		}
		s.Close()
	}

	// A server that never answers: the context ends the wait.
	h, _ := hostileMailbox(t, func(s network.Stream) { time.Sleep(5 * time.Second) })
	bobHost.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
	s, err := bobHost.NewStream(ctx, h.ID(), protocol.ID(Protocol))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := Deposit(short, s, bob.DID(), mailboxLetterID(0), []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deposit to a silent server: %v", err)
	}
}

// localPeerBytes is the peer ID bytes of the host that s belongs to.
func localPeerBytes(s network.Stream) []byte { return []byte(s.Conn().LocalPeer()) }

// TestMailboxGolden pins the encoding of every message and of the signing
// input: changing them breaks every peer already deployed.
func TestMailboxGolden(t *testing.T) {
	did, err := did.Parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	if err != nil {
		t.Fatal(err)
	}
	relay, err := keys.ParsePeerID("12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN")
	if err != nil {
		t.Fatal(err)
	}
	id := "0123456789abcdef"
	nonce := bytes.Repeat([]byte{0xaa}, 32)
	sig := bytes.Repeat([]byte{0x55}, 64)
	for _, tc := range []struct {
		name string
		msg  any
		want string
	}{
		{"Deposit", &mailboxRequest{Deposit: &mailboxDeposit{To: did.String(), ID: id, Envelope: []byte("sealed")}},
			"a101a3017838" + hex.EncodeToString([]byte(did.String())) + "0270" + hex.EncodeToString([]byte(id)) + "0346" + hex.EncodeToString([]byte("sealed"))},
		{"Deposit with a token", &mailboxRequest{Deposit: &mailboxDeposit{To: did.String(), ID: id, Envelope: []byte("sealed"), Token: bytes.Repeat([]byte{0x77}, 32)}},
			"a101a4017838" + hex.EncodeToString([]byte(did.String())) + "0270" + hex.EncodeToString([]byte(id)) + "0346" + hex.EncodeToString([]byte("sealed")) +
				"045820" + strings.Repeat("77", 32)},
		{"Pickup", &mailboxRequest{Pickup: &mailboxPickup{}}, "a102a0"},
		{"Proof registering a token", &mailboxRequest{Proof: &mailboxProof{DID: did.String(), Signature: sig, Tokens: &[][]byte{bytes.Repeat([]byte{0x66}, 32)}}},
			"a103a3017838" + hex.EncodeToString([]byte(did.String())) + "025840" + strings.Repeat("55", 64) + "03815820" + strings.Repeat("66", 32)},
		{"Proof withdrawing every token", &mailboxRequest{Proof: &mailboxProof{DID: did.String(), Signature: sig, Tokens: &[][]byte{}}},
			"a103a3017838" + hex.EncodeToString([]byte(did.String())) + "025840" + strings.Repeat("55", 64) + "0380"},
		{"Proof", &mailboxRequest{Proof: &mailboxProof{DID: did.String(), Signature: sig}},
			"a103a2017838" + hex.EncodeToString([]byte(did.String())) + "025840" + strings.Repeat("55", 64)},
		{"Ack", &mailboxRequest{Ack: &mailboxAck{IDs: []string{id}}}, "a104a101817030313233343536373839616263646566"},
		{"Ack of none", &mailboxRequest{Ack: &mailboxAck{}}, "a104a0"},
		{"Deposited", &mailboxReply{Deposited: &mailboxDeposited{}}, "a101a0"},
		{"Challenge", &mailboxReply{Challenge: &mailboxChallenge{Nonce: nonce, Relay: relay.Bytes()}},
			"a102a2015820" + strings.Repeat("aa", 32) + "025826" + hex.EncodeToString(relay.Bytes())},
		{"Letters", &mailboxReply{Letters: &mailboxLetters{Items: []mailboxItem{{ID: id, Envelope: []byte{1, 2}, Deposited: 1700000000000}}, More: true}},
			"a103a20181a301703031323334353637383961626364656602420102031b0000018bcfe5680002f5"},
		{"Letters, none", &mailboxReply{Letters: &mailboxLetters{}}, "a103a0"},
		{"Done", &mailboxReply{Done: &mailboxDone{}}, "a104a0"},
		{"Error", &mailboxReply{Error: &Error{Code: "full", Message: "full"}}, "a105a2016466756c6c0264" + "66756c6c"},
	} {
		got, err := cbor.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s encodes as\n%x, want\n%s", tc.name, got, tc.want)
		}
	}
	in := mailboxPickupInput(relay, nonce)
	want := "PLANET mailbox pickup v1\x00" + string(relay.Bytes()) + string(nonce)
	if string(in) != want {
		t.Errorf("signing input %x, want %x", in, want)
	}
}

func FuzzMailboxRequestDecoder(f *testing.F) {
	bob, _ := identity.FromSeed(make([]byte, 32))
	for _, req := range []*mailboxRequest{
		{Deposit: &mailboxDeposit{To: bob.DID().String(), ID: mailboxLetterID(1), Envelope: []byte("sealed")}},
		{Pickup: &mailboxPickup{}},
		{Proof: &mailboxProof{DID: bob.DID().String(), Signature: make([]byte, 64)}},
		{Ack: &mailboxAck{IDs: []string{mailboxLetterID(1), mailboxLetterID(2)}}},
		{Deposit: &mailboxDeposit{To: bob.DID().String(), ID: mailboxLetterID(1), Envelope: []byte("sealed"), Token: make([]byte, TokenSize)}},
		{Proof: &mailboxProof{DID: bob.DID().String(), Signature: make([]byte, 64), Tokens: &[][]byte{make([]byte, TokenSize), bytes.Repeat([]byte{1}, TokenSize)}}},
		{Proof: &mailboxProof{DID: bob.DID().String(), Signature: make([]byte, 64), Tokens: &[][]byte{}}},
	} {
		b, _ := cbor.Marshal(req)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, me := decodeMailboxRequest(body)
		if me != nil {
			if err := me.check(); err != nil {
				t.Fatalf("refusal %+v would not be accepted by a client: %v", me, err)
			}
			return
		}
		// What the server accepts, it accepts again as it would write it.
		again, err := cbor.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, me := decodeMailboxRequest(again); me != nil {
			t.Fatalf("accepted %x but not its re-encoding %x: %v", body, again, me)
		}
	})
}

func FuzzMailboxReplyDecoder(f *testing.F) {
	relay := newMailboxIdentity(f).PeerID()
	for _, r := range []*mailboxReply{
		{Deposited: &mailboxDeposited{}},
		{Challenge: &mailboxChallenge{Nonce: make([]byte, 32), Relay: relay.Bytes()}},
		{Letters: &mailboxLetters{Items: []mailboxItem{{ID: mailboxLetterID(1), Envelope: []byte("x"), Deposited: 5}}, More: true}},
		{Done: &mailboxDone{}},
		{Error: &Error{Code: CodeFull, Message: "full"}},
	} {
		b, _ := cbor.Marshal(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeMailboxReply(body)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformedFrame) {
				t.Fatalf("refusal %v does not wrap ErrMalformedFrame", err)
			}
			return
		}
		again, err := cbor.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeMailboxReply(again); err != nil {
			t.Fatalf("accepted %x but not its re-encoding %x: %v", body, again, err)
		}
	})
}

// FuzzMailboxServe feeds the server whatever a client may send, frames and
// all: it must answer or refuse, never crash, and never lose a letter.
func FuzzMailboxServe(f *testing.F) {
	bob, _ := identity.FromSeed(bytes.Repeat([]byte{1}, 32))
	relay := newMailboxIdentity(f).PeerID()
	var seed bytes.Buffer
	wire.WriteFrame(&seed, mailboxMaxRequest, &mailboxRequest{Deposit: &mailboxDeposit{To: bob.DID().String(), ID: mailboxLetterID(5), Envelope: []byte("x")}})
	wire.WriteFrame(&seed, mailboxMaxRequest, &mailboxRequest{Deposit: &mailboxDeposit{To: bob.DID().String(), ID: mailboxLetterID(0), Envelope: []byte("y")}})
	f.Add(seed.Bytes())
	seed.Reset()
	wire.WriteFrame(&seed, mailboxMaxRequest, &mailboxRequest{Pickup: &mailboxPickup{}})
	wire.WriteFrame(&seed, mailboxMaxRequest, &mailboxRequest{Proof: &mailboxProof{DID: bob.DID().String(), Signature: make([]byte, 64)}})
	f.Add(seed.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		store := newMemMailbox()
		store.put(bob.DID(), mailboxLetterID(0), []byte("waiting"))
		srv := &Server{Store: store, Relay: relay}
		var out bytes.Buffer
		srv.Serve(context.Background(), &wiretest.Stream{R: bytes.NewReader(in), W: &out}, bob.PeerID())
		if ids := store.ids(bob.DID()); len(ids) == 0 || ids[0] != mailboxLetterID(0) {
			t.Fatalf("a waiting letter was lost: %v", ids)
		}
		// Everything the server wrote is a frame a client accepts.
		for out.Len() > 0 {
			if _, err := readMailboxReply(&out, mailboxMaxLetters); err != nil {
				var me *Error
				if !errors.As(err, &me) {
					t.Fatalf("server wrote a frame a client refuses: %v", err)
				}
			}
		}
	})
}

// FuzzMailboxPickup feeds a client whatever a server may send after its
// challenge: it must take in only well-formed letters, and never crash.
func FuzzMailboxPickup(f *testing.F) {
	bob, _ := identity.FromSeed(bytes.Repeat([]byte{2}, 32))
	relay := newMailboxIdentity(f).PeerID()
	var challenge bytes.Buffer
	wire.WriteFrame(&challenge, mailboxMaxControl, &mailboxReply{Challenge: &mailboxChallenge{Nonce: make([]byte, 32), Relay: relay.Bytes()}})
	var seed bytes.Buffer
	wire.WriteFrame(&seed, mailboxMaxLetters, &mailboxReply{Letters: &mailboxLetters{Items: []mailboxItem{{ID: mailboxLetterID(1), Envelope: []byte("x"), Deposited: 5}}, More: true}})
	wire.WriteFrame(&seed, mailboxMaxLetters, &mailboxReply{Letters: &mailboxLetters{}})
	wire.WriteFrame(&seed, mailboxMaxLetters, &mailboxReply{Done: &mailboxDone{}})
	f.Add(seed.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &wiretest.Stream{R: io.MultiReader(bytes.NewReader(challenge.Bytes()), bytes.NewReader(in)), W: io.Discard}
		Pickup(context.Background(), s, bob, relay, func(l Letter) error {
			if checkMailboxID(l.ID) != nil || checkMailboxEnvelope(l.Envelope) != nil {
				t.Fatalf("handled a bad letter %q", l.ID)
			}
			return nil
		})
		Deposit(context.Background(), &wiretest.Stream{R: bytes.NewReader(in), W: io.Discard}, bob.DID(), mailboxLetterID(1), []byte("x"))
	})
}

// Deposit tokens: both sides of a relationship compute the same token for
// each direction, and the tokens reach the store: a deposit's as its hash,
// a pickup's as the hashes it registers.
func TestMailboxTokens(t *testing.T) {
	alice, bob, carol := newMailboxIdentity(t), newMailboxIdentity(t), newMailboxIdentity(t)
	mustToken := func(me *identity.Identity, sender, recipient did.DID) []byte {
		t.Helper()
		tok, err := Token(me, sender, recipient)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	aliceToBob := mustToken(alice, alice.DID(), bob.DID())
	if !bytes.Equal(aliceToBob, mustToken(bob, alice.DID(), bob.DID())) {
		t.Fatal("Alice and Bob compute different tokens for Alice's letters to Bob")
	}
	if len(aliceToBob) != TokenSize {
		t.Fatalf("token of %d bytes", len(aliceToBob))
	}
	for name, other := range map[string][]byte{
		"the other direction": mustToken(alice, bob.DID(), alice.DID()),
		"another sender":      mustToken(carol, carol.DID(), bob.DID()),
		"another recipient":   mustToken(alice, alice.DID(), carol.DID()),
	} {
		if bytes.Equal(other, aliceToBob) {
			t.Errorf("the token for %s is Alice's to Bob", name)
		}
	}
	if _, err := Token(carol, alice.DID(), bob.DID()); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("a token computed by a third party: %v", err)
	}
	if _, err := Token(alice, alice.DID(), alice.DID()); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("a token to oneself: %v", err)
	}

	n := newMailboxNet(t)
	aliceHost := newMailboxHost(t, alice)
	s := n.stream(aliceHost)
	if err := DepositWithToken(context.Background(), s, bob.DID(), mailboxLetterID(1), []byte("sealed"), aliceToBob); err != nil {
		t.Fatal(err)
	}
	s.Close()
	n.served()
	if len(n.store.incoming) != 1 || !bytes.Equal(n.store.incoming[0].Token, TokenHash(aliceToBob)) ||
		n.store.incoming[0].Sender != alice.PeerID().String() {
		t.Fatalf("the store got %+v", n.store.incoming)
	}
	if _, err := PickupWithTokens(context.Background(), n.stream(newMailboxHost(t, bob)), bob, n.relay, [][]byte{aliceToBob, aliceToBob}, func(Letter) error { return nil }); err != nil {
		t.Fatal(err)
	}
	n.served()
	if got := n.store.tokens[bob.DID()]; len(got) != 1 || !bytes.Equal(got[0], TokenHash(aliceToBob)) {
		t.Errorf("Bob registered %x", got)
	}
	// A pickup without tokens leaves them; an empty set withdraws them.
	if _, err := Pickup(context.Background(), n.stream(newMailboxHost(t, bob)), bob, n.relay, func(Letter) error { return nil }); err != nil {
		t.Fatal(err)
	}
	n.served()
	if got := n.store.tokens[bob.DID()]; len(got) != 1 {
		t.Errorf("a pickup without tokens changed them to %x", got)
	}
	if _, err := PickupWithTokens(context.Background(), n.stream(newMailboxHost(t, bob)), bob, n.relay, [][]byte{}, func(Letter) error { return nil }); err != nil {
		t.Fatal(err)
	}
	n.served()
	if got, ok := n.store.tokens[bob.DID()]; !ok || len(got) != 0 {
		t.Errorf("withdrawing every token left %x", got)
	}
}
