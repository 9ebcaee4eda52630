package mailboxstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
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
	"go.etcd.io/bbolt"

	"planet/core/identity"
	"planet/core/keys"
	"planet/core/mailbox"
	"planet/core/wire"
	"planet/serve/quota"
)

// The messages of /planet/mailbox/1.0.0 as docs/protocols/mailbox.md
// describes them, written out here apart from core's so that these tests
// hold the server to the document.
type wireRequest struct {
	Deposit *wireDeposit `cbor:"1,keyasint,omitempty"`
	Pickup  *struct{}    `cbor:"2,keyasint,omitempty"`
	Proof   *wireProof   `cbor:"3,keyasint,omitempty"`
	Ack     *wireAck     `cbor:"4,keyasint,omitempty"`
}

type wireDeposit struct {
	To       string `cbor:"1,keyasint"`
	ID       string `cbor:"2,keyasint"`
	Envelope []byte `cbor:"3,keyasint"`
}

type wireProof struct {
	DID       string `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

type wireAck struct {
	IDs []string `cbor:"1,keyasint,omitempty"`
}

type wireReply struct {
	Deposited *struct{}      `cbor:"1,keyasint,omitempty"`
	Challenge *wireChallenge `cbor:"2,keyasint,omitempty"`
	Letters   *wireLetters   `cbor:"3,keyasint,omitempty"`
	Done      *struct{}      `cbor:"4,keyasint,omitempty"`
	Error     *mailbox.Error `cbor:"5,keyasint,omitempty"`
}

type wireChallenge struct {
	Nonce []byte `cbor:"1,keyasint"`
	Relay []byte `cbor:"2,keyasint"`
}

type wireLetters struct {
	Items []struct {
		ID        string `cbor:"1,keyasint"`
		Envelope  []byte `cbor:"2,keyasint"`
		Deposited int64  `cbor:"3,keyasint"`
	} `cbor:"1,keyasint,omitempty"`
	More bool `cbor:"2,keyasint,omitempty"`
}

// wirePickupInput is the signing input of a pickup, as the document gives it.
func wirePickupInput(relay peer.ID, nonce []byte) []byte {
	return append(append([]byte("PLANET mailbox pickup v1\x00"), relay...), nonce...)
}

// mailboxPeer is a person for the tests: an identity, and a real host with
// its key.
type mailboxPeer struct {
	id   *identity.Identity
	host host.Host
}

func newMailboxPeer(t testing.TB) *mailboxPeer {
	t.Helper()
	id, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("host %s, identity %s", h.ID(), id.PeerID())
	}
	return &mailboxPeer{id: id, host: h}
}

// mailboxServer is a mailbox attached to a real host, over a bbolt file
// in a test directory.
type mailboxServer struct {
	t     *testing.T
	path  string
	cfg   Config
	host  host.Host
	relay keys.PeerID
	box   *Mailbox
	log   *syncBuffer
	// tokens are the hashes each recipient registered through deposit.
	tokens map[*mailboxPeer][][]byte
}

func newMailboxServer(t *testing.T, cfg Config) *mailboxServer {
	t.Helper()
	srv := &mailboxServer{t: t, path: filepath.Join(t.TempDir(), "mailbox.db"), cfg: cfg, log: &syncBuffer{}}
	p := newMailboxPeer(t)
	srv.host, srv.relay = p.host, p.id.PeerID()
	srv.open()
	return srv
}

// open opens the store and attaches it, as the server does at start.
func (srv *mailboxServer) open() {
	srv.t.Helper()
	box, err := Open(srv.path, srv.cfg, slog.New(slog.NewTextHandler(srv.log, nil)))
	if err != nil {
		srv.t.Fatal(err)
	}
	if err := box.Attach(srv.host); err != nil {
		srv.t.Fatal(err)
	}
	srv.box = box
	srv.t.Cleanup(func() { box.Close() })
}

// restart closes the mailbox and opens it again on the same file.
func (srv *mailboxServer) restart() {
	srv.t.Helper()
	if err := srv.box.Close(); err != nil {
		srv.t.Fatal(err)
	}
	srv.open()
}

func (srv *mailboxServer) stream(from *mailboxPeer) network.Stream {
	srv.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := from.host.Connect(ctx, peer.AddrInfo{ID: srv.host.ID(), Addrs: srv.host.Addrs()}); err != nil {
		srv.t.Fatal(err)
	}
	s, err := from.host.NewStream(ctx, srv.host.ID(), protocol.ID(mailbox.Protocol))
	if err != nil {
		srv.t.Fatal(err)
	}
	s.SetDeadline(time.Now().Add(10 * time.Second))
	srv.t.Cleanup(func() { s.Reset() })
	return s
}

// deposit leaves a letter from a contact of to's: with the token of their
// relationship, which to has registered.
func (srv *mailboxServer) deposit(from *mailboxPeer, to *mailboxPeer, id string, envelope []byte) error {
	srv.t.Helper()
	token, err := mailbox.Token(from.id, from.id.DID(), to.id.DID())
	if err != nil {
		srv.t.Fatal(err)
	}
	if srv.tokens == nil {
		srv.tokens = map[*mailboxPeer][][]byte{}
	}
	h := mailbox.TokenHash(token)
	if !slices.ContainsFunc(srv.tokens[to], func(x []byte) bool { return bytes.Equal(x, h) }) {
		srv.tokens[to] = append(srv.tokens[to], h)
		if err := srv.box.store.Register(to.id.DID(), srv.tokens[to]); err != nil {
			srv.t.Fatal(err)
		}
	}
	s := srv.stream(from)
	defer s.Close()
	return mailbox.DepositWithToken(context.Background(), s, to.id.DID(), id, envelope, token)
}

// pickup collects p's letters; keep says which to leave in the mailbox.
func (srv *mailboxServer) pickup(p *mailboxPeer, keep func(mailbox.Letter) bool) ([]mailbox.Letter, error) {
	var got []mailbox.Letter
	s := srv.stream(p)
	defer s.Close()
	_, err := mailbox.Pickup(context.Background(), s, p.id, srv.relay, func(l mailbox.Letter) error {
		got = append(got, l)
		if keep != nil && keep(l) {
			return errors.New("not now")
		}
		return nil
	})
	return got, err
}

// waiting lists the ids of the letters waiting for p, straight from the store.
func (srv *mailboxServer) waiting(p *mailboxPeer) []string {
	srv.t.Helper()
	letters, _, err := srv.box.store.Waiting(p.id.DID(), 0, 1<<20, 1<<30)
	if err != nil {
		srv.t.Fatal(err)
	}
	var ids []string
	for _, l := range letters {
		ids = append(ids, l.ID)
	}
	return ids
}

// memLedger is a quota.Ledger in memory, to recompute what the file's
// counters should hold.
type memLedger map[string]quota.Usage

func (m memLedger) Usage(k string) (quota.Usage, error) { return m[k], nil }
func (m memLedger) SetUsage(k string, u quota.Usage) error {
	if u == (quota.Usage{}) {
		delete(m, k)
	} else {
		m[k] = u
	}
	return nil
}

// checkMailboxStore verifies that the file's quota counters, index and
// letters agree: the counters are what charging every letter waiting gives.
func checkMailboxStore(t testing.TB, st *mailboxStore) {
	t.Helper()
	err := st.db.View(func(tx *bbolt.Tx) error {
		want := memLedger{}
		err := tx.Bucket(mailboxBucketRecipients).ForEachBucket(func(name []byte) error {
			rb := tx.Bucket(mailboxBucketRecipients).Bucket(name)
			letters, ids := 0, 0
			err := rb.Bucket(mailboxBucketLetters).ForEach(func(k, v []byte) error {
				rec, err := decodeLetter(v)
				if err != nil {
					return err
				}
				if !bytes.Equal(rb.Bucket(mailboxBucketIDs).Get(rec.id), k) {
					return fmt.Errorf("%s: letter %s is not indexed", name, rec.id)
				}
				letters++
				return st.cfg.Quota.Force(want, rec.item(name))
			})
			if err != nil {
				return err
			}
			rb.Bucket(mailboxBucketIDs).ForEach(func(k, v []byte) error { ids++; return nil })
			if ids != letters {
				return fmt.Errorf("%s: %d ids, %d letters", name, ids, letters)
			}
			if letters == 0 {
				return fmt.Errorf("%s: empty recipient bucket kept", name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		got := memLedger{}
		err = tx.Bucket(mailboxBucketQuota).ForEach(func(k, v []byte) error {
			u, err := ledgerOf(tx).Usage(string(k))
			got[string(k)] = u
			return err
		})
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("quota counters %v, the letters add up to %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mailboxLetterID(i int) string { return fmt.Sprintf("letter-%010d", i) }

func mailboxIDs(letters []mailbox.Letter) []string {
	var ids []string
	for _, l := range letters {
		ids = append(ids, l.ID)
	}
	return ids
}

func TestMailboxDepositPickupAck(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob, carol := newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t)
	want := []string{}
	for i := range 5 {
		from := alice
		if i%2 == 1 {
			from = carol
		}
		if err := srv.deposit(from, bob, mailboxLetterID(i), []byte(fmt.Sprintf("sealed %d", i))); err != nil {
			t.Fatal(err)
		}
		want = append(want, mailboxLetterID(i))
	}
	// The same id again is stored once.
	if err := srv.deposit(alice, bob, mailboxLetterID(2), []byte("sealed 2")); err != nil {
		t.Fatal(err)
	}
	if err := srv.deposit(alice, carol, mailboxLetterID(9), []byte("for carol")); err != nil {
		t.Fatal(err)
	}
	checkMailboxStore(t, srv.box.store)

	got, err := srv.pickup(bob, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mailboxIDs(got), want) {
		t.Fatalf("picked up %v, want %v in deposit order", mailboxIDs(got), want)
	}
	for i, l := range got {
		if string(l.Envelope) != fmt.Sprintf("sealed %d", i) {
			t.Errorf("letter %d holds %q", i, l.Envelope)
		}
		if time.Since(l.Deposited) > time.Minute || time.Since(l.Deposited) < 0 {
			t.Errorf("letter %d deposited at %v", i, l.Deposited)
		}
	}
	if w := srv.waiting(bob); len(w) != 0 {
		t.Fatalf("acknowledged letters still waiting: %v", w)
	}
	if got, _ := srv.pickup(bob, nil); len(got) != 0 {
		t.Fatalf("second pickup got %v", mailboxIDs(got))
	}
	// Carol's letter was not Bob's to take.
	if w := srv.waiting(carol); !slices.Equal(w, []string{mailboxLetterID(9)}) {
		t.Fatalf("carol's mailbox: %v", w)
	}
	checkMailboxStore(t, srv.box.store)
}

func TestMailboxUnacknowledgedSurvive(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	// More than one batch, so that kept letters are spread over several.
	const n = 150
	for i := range n {
		if err := srv.deposit(alice, bob, mailboxLetterID(i), []byte("sealed")); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(l mailbox.Letter) bool {
		var i int
		fmt.Sscanf(l.ID, "letter-%d", &i)
		return i%7 == 3
	}
	got, err := srv.pickup(bob, kept)
	if err == nil || !strings.Contains(err.Error(), "kept for the next pickup") {
		t.Fatalf("pickup with letters kept: %v", err)
	}
	if len(got) != n {
		t.Fatalf("handled %d letters, want %d", len(got), n)
	}
	var want []string
	for i := range n {
		if i%7 == 3 {
			want = append(want, mailboxLetterID(i))
		}
	}
	if w := srv.waiting(bob); !slices.Equal(w, want) {
		t.Fatalf("waiting after the pickup: %v, want %v", w, want)
	}
	got, err = srv.pickup(bob, nil)
	if err != nil || !slices.Equal(mailboxIDs(got), want) {
		t.Fatalf("next pickup: %v, %v; want %v", mailboxIDs(got), err, want)
	}
	checkMailboxStore(t, srv.box.store)
}

// The store holds contacts' letters to their quotas: per contact, per
// recipient and on the whole server; a letter refused stores nothing, and
// picking up makes room again.
func TestMailboxQuota(t *testing.T) {
	const cost = letterOverhead + 10
	srv := newMailboxServer(t, Config{Quota: quota.Policy{
		Contacts:  quota.Limit{Bytes: 4 * cost},
		Recipient: quota.Limit{Items: 3},
		Contact:   quota.Limit{Items: 2},
	}})
	alice, bob, carol, dave, erin := newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t)
	letter := []byte("0123456789")
	full := func(err error, what string) {
		t.Helper()
		var me *mailbox.Error
		if !errors.Is(err, mailbox.ErrFull) || !errors.As(err, &me) || me.Code != mailbox.CodeFull || !strings.Contains(err.Error(), what) {
			t.Fatalf("deposit over %q: %v", what, err)
		}
	}
	for i := range 2 {
		if err := srv.deposit(alice, bob, mailboxLetterID(i), letter); err != nil {
			t.Fatal(err)
		}
	}
	full(srv.deposit(alice, bob, mailboxLetterID(2), letter), "what one contact may leave")
	// Depositing an id that is already there is no new letter.
	if err := srv.deposit(alice, bob, mailboxLetterID(1), letter); err != nil {
		t.Fatalf("repeated deposit into a full quota: %v", err)
	}
	if err := srv.deposit(carol, bob, mailboxLetterID(3), letter); err != nil {
		t.Fatal(err)
	}
	full(srv.deposit(dave, bob, mailboxLetterID(4), letter), "the recipient's mailbox")
	// The server's own cap for contacts' letters: Bob's three and one for Erin fill it.
	if err := srv.deposit(alice, erin, mailboxLetterID(5), letter); err != nil {
		t.Fatal(err)
	}
	full(srv.deposit(carol, erin, mailboxLetterID(6), letter), "the mailbox server")
	if w := srv.waiting(bob); !slices.Equal(w, []string{mailboxLetterID(0), mailboxLetterID(1), mailboxLetterID(3)}) {
		t.Fatalf("bob's letters: %v", w)
	}
	if w := srv.waiting(erin); !slices.Equal(w, []string{mailboxLetterID(5)}) {
		t.Fatalf("erin's letters: %v", w)
	}
	checkMailboxStore(t, srv.box.store)

	// Picking up makes room again.
	if _, err := srv.pickup(bob, nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.deposit(alice, bob, mailboxLetterID(2), letter); err != nil {
		t.Fatalf("deposit after a pickup: %v", err)
	}
	if err := srv.deposit(carol, erin, mailboxLetterID(6), letter); err != nil {
		t.Fatalf("deposit after a pickup freed the server: %v", err)
	}
	checkMailboxStore(t, srv.box.store)
}

// The policy the three sizes give keeps its promises: a contact's letter
// of the largest size fits, strangers get a small share of a mailbox and a
// quarter of the server, and one stranger key a sixty-fourth of that.
func TestMailboxDefaultPolicy(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Quota
	largest := uint64(mailbox.MaxEnvelope + letterOverhead)
	if p.Contacts.Bytes+p.Strangers.Bytes != uint64(cfg.MaxTotalBytes) || p.Strangers.Bytes != uint64(cfg.MaxTotalBytes)/4 {
		t.Errorf("server-wide: contacts %d, strangers %d of %d", p.Contacts.Bytes, p.Strangers.Bytes, cfg.MaxTotalBytes)
	}
	if p.Strangers.Bytes/p.StrangerSender.Bytes != 64 {
		t.Errorf("one stranger key may take 1/%d of the strangers' share, want 1/64", p.Strangers.Bytes/p.StrangerSender.Bytes)
	}
	if p.RecipientStrangers.Items != 100 || p.RecipientStranger.Items != 10 || p.Recipient.Items != 1000 || p.Contact.Items != 500 {
		t.Errorf("per recipient: %+v", p)
	}
	for name, l := range map[string]quota.Limit{"contact": p.Contact, "one stranger": p.RecipientStranger, "sender": p.Sender} {
		if l.Bytes < largest {
			t.Errorf("%s: %d bytes, less than one letter of the largest size", name, l.Bytes)
		}
	}
	tiny, err := Config{MaxLetters: 1, MaxBytes: 1, MaxTotalBytes: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if tiny.Quota.RecipientStranger.Items < 1 || tiny.Quota.RecipientStranger.Bytes < largest || tiny.Quota.Strangers.Bytes < largest {
		t.Errorf("tiny sizes give limits that take no letter at all: %+v", tiny.Quota)
	}
}

func TestMailboxSurvivesRestart(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	for i := range 4 {
		if err := srv.deposit(alice, bob, mailboxLetterID(i), []byte(fmt.Sprintf("sealed %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	srv.restart()
	// Bob takes two, and the server restarts in between.
	got, _ := srv.pickup(bob, func(l mailbox.Letter) bool { return l.ID == mailboxLetterID(1) || l.ID == mailboxLetterID(3) })
	if len(got) != 4 {
		t.Fatalf("after a restart, picked up %v", mailboxIDs(got))
	}
	srv.restart()
	if err := srv.deposit(alice, bob, mailboxLetterID(4), []byte("sealed 4")); err != nil {
		t.Fatal(err)
	}
	// The same id as before the restart is still known.
	if err := srv.deposit(alice, bob, mailboxLetterID(3), []byte("sealed 3")); err != nil {
		t.Fatal(err)
	}
	got, err := srv.pickup(bob, nil)
	want := []string{mailboxLetterID(1), mailboxLetterID(3), mailboxLetterID(4)}
	if err != nil || !slices.Equal(mailboxIDs(got), want) {
		t.Fatalf("after another restart: %v, %v; want %v", mailboxIDs(got), err, want)
	}
	if string(got[1].Envelope) != "sealed 3" {
		t.Fatalf("letter 3 holds %q", got[1].Envelope)
	}
	checkMailboxStore(t, srv.box.store)
}

func TestMailboxCloseDuringPickup(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	srv.deposit(alice, bob, mailboxLetterID(0), []byte("sealed"))
	// Bob receives his letter, and the server shuts down before his ack.
	s := srv.stream(bob)
	wire.WriteFrame(s, 1024, &wireRequest{Pickup: &struct{}{}})
	var r wireReply
	if err := wire.ReadFrame(s, 1024, &r); err != nil || r.Challenge == nil {
		t.Fatalf("challenge: %+v, %v", r, err)
	}
	wire.WriteFrame(s, 1024, &wireRequest{Proof: &wireProof{DID: bob.id.DID().String(), Signature: bob.id.Sign(wirePickupInput(srv.host.ID(), r.Challenge.Nonce))}})
	if err := wire.ReadFrame(s, 1<<20, &r); err != nil || r.Letters == nil || len(r.Letters.Items) != 1 {
		t.Fatalf("letters: %+v, %v", r, err)
	}
	closed := make(chan error)
	go func() { closed <- srv.box.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a stream in flight")
	}
	if _, err := s.Read(make([]byte, 1)); err == nil {
		t.Fatal("the stream in flight was not ended")
	}
	srv.open()
	if w := srv.waiting(bob); !slices.Equal(w, []string{mailboxLetterID(0)}) {
		t.Fatalf("after a shutdown mid-pickup, waiting: %v", w)
	}
}

func TestMailboxRetention(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	srv := newMailboxServer(t, Config{Retention: 48 * time.Hour, now: clock})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	srv.deposit(alice, bob, mailboxLetterID(0), []byte("old"))
	advance(24 * time.Hour)
	srv.deposit(alice, bob, mailboxLetterID(1), []byte("newer"))
	advance(24*time.Hour + time.Millisecond)

	// On pickup: the first letter has waited past its time.
	got, err := srv.pickup(bob, func(mailbox.Letter) bool { return true })
	if !slices.Equal(mailboxIDs(got), []string{mailboxLetterID(1)}) {
		t.Fatalf("picked up %v (%v), want only the newer letter", mailboxIDs(got), err)
	}
	if !got[0].Deposited.Equal(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("deposited %v", got[0].Deposited)
	}
	checkMailboxStore(t, srv.box.store)

	// On open: the second one's time runs out while the server is down.
	if err := srv.box.Close(); err != nil {
		t.Fatal(err)
	}
	advance(24 * time.Hour)
	srv.open()
	if !strings.Contains(srv.log.String(), "expired=1") {
		t.Errorf("open did not report the expired letter:\n%s", srv.log)
	}
	total, recipients, err := srv.box.store.stats()
	if err != nil || total != (quota.Usage{}) || recipients != 0 {
		t.Fatalf("after expiry: %+v, %d recipients, %v", total, recipients, err)
	}
}

// exchange sends raw bytes on a new stream and returns the server's answer.
func (srv *mailboxServer) exchange(from *mailboxPeer, raw []byte) wireReply {
	srv.t.Helper()
	s := srv.stream(from)
	if _, err := s.Write(raw); err != nil {
		srv.t.Fatal(err)
	}
	var r wireReply
	if err := wire.ReadFrame(s, 1<<20, &r); err != nil {
		srv.t.Fatalf("no answer to %x: %v", raw[:min(len(raw), 16)], err)
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		srv.t.Errorf("after the answer to %x the stream gives %v, want EOF", raw[:min(len(raw), 16)], err)
	}
	return r
}

func encodeWireFrame(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	if err := wire.WriteFrame(&buf, 1<<20, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMailboxRefusesBadFrames(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	srv.deposit(alice, bob, mailboxLetterID(0), []byte("sealed"))

	for name, tc := range map[string]struct {
		raw  []byte
		code string
	}{
		"not cbor":          {[]byte{0x02, 0xff, 0xfe}, mailbox.CodeMalformed},
		"empty frame":       {[]byte{0x00}, mailbox.CodeMalformed},
		"endless length":    {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, mailbox.CodeMalformed},
		"oversize":          {binary.AppendUvarint(nil, 10<<20), mailbox.CodeTooLarge},
		"unknown kind":      {encodeWireFrame(t, map[int]any{42: map[int]any{}}), mailbox.CodeUnexpected},
		"not a map":         {encodeWireFrame(t, []int{1, 2}), mailbox.CodeMalformed},
		"proof first":       {encodeWireFrame(t, &wireRequest{Proof: &wireProof{DID: bob.id.DID().String(), Signature: make([]byte, 64)}}), mailbox.CodeUnexpected},
		"short id":          {encodeWireFrame(t, &wireRequest{Deposit: &wireDeposit{To: bob.id.DID().String(), ID: "x", Envelope: []byte("x")}}), mailbox.CodeMalformed},
		"big envelope":      {encodeWireFrame(t, &wireRequest{Deposit: &wireDeposit{To: bob.id.DID().String(), ID: mailboxLetterID(1), Envelope: make([]byte, mailbox.MaxEnvelope+1)}}), mailbox.CodeTooLarge},
		"did:web recipient": {encodeWireFrame(t, &wireRequest{Deposit: &wireDeposit{To: "did:web:example.com", ID: mailboxLetterID(1), Envelope: []byte("x")}}), mailbox.CodeUnsupportedDID},
	} {
		r := srv.exchange(alice, tc.raw)
		if r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s: answer %+v, want code %q", name, r, tc.code)
		}
	}
	// A deposit and then garbage on the same stream: the deposit stands.
	raw := append(encodeWireFrame(t, &wireRequest{Deposit: &wireDeposit{To: bob.id.DID().String(), ID: mailboxLetterID(1), Envelope: []byte("x")}}), 0x01, 0xff)
	s := srv.stream(alice)
	s.Write(raw)
	var r wireReply
	if wire.ReadFrame(s, 1024, &r); r.Deposited == nil {
		t.Fatalf("deposit before garbage: %+v", r)
	}
	if wire.ReadFrame(s, 1024, &r); r.Error == nil || r.Error.Code != mailbox.CodeMalformed {
		t.Fatalf("garbage after a deposit: %+v", r)
	}

	// The server keeps serving, and kept everything.
	got, err := srv.pickup(bob, nil)
	if err != nil || !slices.Equal(mailboxIDs(got), []string{mailboxLetterID(0), mailboxLetterID(1)}) {
		t.Fatalf("pickup after bad frames: %v, %v", mailboxIDs(got), err)
	}
	checkMailboxStore(t, srv.box.store)
}

func TestMailboxPickupProof(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	alice, bob := newMailboxPeer(t), newMailboxPeer(t)
	srv.deposit(alice, bob, mailboxLetterID(0), []byte("for bob"))

	// challenge opens a pickup from p and returns the stream and its nonce.
	challenge := func(p *mailboxPeer) (network.Stream, []byte) {
		s := srv.stream(p)
		wire.WriteFrame(s, 1024, &wireRequest{Pickup: &struct{}{}})
		var r wireReply
		if err := wire.ReadFrame(s, 1024, &r); err != nil || r.Challenge == nil {
			t.Fatalf("challenge: %+v, %v", r, err)
		}
		if !bytes.Equal(r.Challenge.Relay, []byte(srv.host.ID())) || len(r.Challenge.Nonce) != 32 {
			t.Fatalf("challenge %+v does not name the server", r.Challenge)
		}
		return s, r.Challenge.Nonce
	}
	prove := func(s network.Stream, p *wireProof) wireReply {
		wire.WriteFrame(s, 1024, &wireRequest{Proof: p})
		var r wireReply
		if err := wire.ReadFrame(s, 1<<20, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Bob's honest proof, recorded; he leaves without acknowledging.
	s, nonce := challenge(bob)
	recorded := &wireProof{DID: bob.id.DID().String(), Signature: bob.id.Sign(wirePickupInput(srv.host.ID(), nonce))}
	if r := prove(s, recorded); r.Letters == nil || len(r.Letters.Items) != 1 {
		t.Fatalf("honest proof: %+v", r)
	}
	s.Reset()

	_, otherNonce := challenge(bob)
	if bytes.Equal(nonce, otherNonce) {
		t.Fatal("two streams got the same nonce")
	}
	for name, proof := range map[string]func(nonce []byte) *wireProof{
		"replayed proof": func([]byte) *wireProof { return recorded },
		"wrong key": func(nonce []byte) *wireProof {
			return &wireProof{DID: bob.id.DID().String(), Signature: alice.id.Sign(wirePickupInput(srv.host.ID(), nonce))}
		},
		"another peer's did": func(nonce []byte) *wireProof {
			return &wireProof{DID: bob.id.DID().String(), Signature: bob.id.Sign(wirePickupInput(srv.host.ID(), nonce))}
		},
		"signed for another server": func(nonce []byte) *wireProof {
			return &wireProof{DID: alice.id.DID().String(), Signature: alice.id.Sign(wirePickupInput(bob.host.ID(), nonce))}
		},
		"not did:key": func(nonce []byte) *wireProof {
			return &wireProof{DID: "did:web:example.com", Signature: alice.id.Sign(wirePickupInput(srv.host.ID(), nonce))}
		},
	} {
		from := alice
		if name == "replayed proof" {
			from = bob // even from the right peer, an old proof is refused
		}
		s, nonce := challenge(from)
		r := prove(s, proof(nonce))
		if r.Error == nil || (r.Error.Code != mailbox.CodeUnauthorized && r.Error.Code != mailbox.CodeUnsupportedDID) {
			t.Errorf("%s: answer %+v, want a refusal", name, r)
		}
	}
	if w := srv.waiting(bob); !slices.Equal(w, []string{mailboxLetterID(0)}) {
		t.Fatalf("bob's letters after refused pickups: %v", w)
	}
	// Alice, proving her own key, gets her own (empty) mailbox.
	if got, err := srv.pickup(alice, nil); err != nil || len(got) != 0 {
		t.Fatalf("alice's pickup: %v, %v", mailboxIDs(got), err)
	}
	// Acknowledging a letter that was not offered is refused.
	s, nonce = challenge(bob)
	prove(s, &wireProof{DID: bob.id.DID().String(), Signature: bob.id.Sign(wirePickupInput(srv.host.ID(), nonce))})
	wire.WriteFrame(s, 1024, &wireRequest{Ack: &wireAck{IDs: []string{mailboxLetterID(5)}}})
	var r wireReply
	if err := wire.ReadFrame(s, 1024, &r); err != nil || r.Error == nil || r.Error.Code != mailbox.CodeMalformed {
		t.Fatalf("ack of a letter not offered: %+v, %v", r, err)
	}
	if got, err := srv.pickup(bob, nil); err != nil || len(got) != 1 {
		t.Fatalf("bob's pickup: %v, %v", mailboxIDs(got), err)
	}
}

func TestMailboxConfig(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.AddFlags(fs)
	if c.MaxLetters != defaultMailboxMaxLetters || c.Retention != defaultMailboxRetention {
		t.Fatalf("defaults: %+v", c)
	}
	err := fs.Parse([]string{"-mailbox-max-letters", "5", "-mailbox-max-bytes", "9000", "-mailbox-max-total-bytes", "90000",
		"-mailbox-retention", "72h", "-mailbox-stream-timeout", "1m"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{MaxLetters: 5, MaxBytes: 9000, MaxTotalBytes: 90000, Retention: 72 * time.Hour, StreamTimeout: time.Minute}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed %+v, want %+v", c, want)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "m.db"), Config{MaxLetters: -1}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	// A second server on the same file fails at once instead of waiting.
	path := filepath.Join(t.TempDir(), "mailbox.db")
	box, err := Open(path, Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	if _, err := Open(path, Config{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("the same file opened twice")
	}
}

// wireStream is a stream whose other side sent in and reads nothing back.
type wireStream struct {
	in  io.Reader
	out bytes.Buffer
}

func (s *wireStream) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *wireStream) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s *wireStream) CloseWrite() error           { return nil }
func (s *wireStream) Close() error                { return nil }
func (s *wireStream) Reset() error                { return nil }

// FuzzMailboxServer feeds the server, over its real store, whatever a
// client may send: it must answer or refuse, and never lose a letter or let
// its counters drift.
func FuzzMailboxServer(f *testing.F) {
	bob, err := identity.FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	relay, _ := identity.FromSeed(bytes.Repeat([]byte{8}, 32))
	box, err := Open(filepath.Join(f.TempDir(), "mailbox.db"), Config{MaxLetters: 50}, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	defer box.Close()
	if err := box.store.Deposit(mailbox.Incoming{To: bob.DID(), ID: mailboxLetterID(0), Envelope: []byte("waiting")}); err != nil {
		f.Fatal(err)
	}
	var seed bytes.Buffer
	wire.WriteFrame(&seed, 1<<20, &wireRequest{Deposit: &wireDeposit{To: bob.DID().String(), ID: mailboxLetterID(1), Envelope: []byte("x")}})
	wire.WriteFrame(&seed, 1<<20, &wireRequest{Deposit: &wireDeposit{To: bob.DID().String(), ID: mailboxLetterID(0), Envelope: []byte("y")}})
	f.Add(seed.Bytes())
	seed.Reset()
	wire.WriteFrame(&seed, 1<<20, &wireRequest{Pickup: &struct{}{}})
	wire.WriteFrame(&seed, 1<<20, &wireRequest{Proof: &wireProof{DID: bob.DID().String(), Signature: make([]byte, 64)}})
	f.Add(seed.Bytes())
	srv := &mailbox.Server{Store: box.store, Relay: relay.PeerID()}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &wireStream{in: bytes.NewReader(in)}
		srv.Serve(context.Background(), s, bob.PeerID())
		letters, _, err := box.store.Waiting(bob.DID(), 0, 1, 1)
		if err != nil || len(letters) != 1 || letters[0].ID != mailboxLetterID(0) || string(letters[0].Envelope) != "waiting" {
			t.Fatalf("the waiting letter is gone: %+v, %v", letters, err)
		}
		checkMailboxStore(t, box.store)
		for s.out.Len() > 0 {
			var r wireReply
			if err := wire.ReadFrame(&s.out, 1<<20, &r); err != nil {
				t.Fatalf("the server wrote a frame that does not decode: %v", err)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a server's goroutines to write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A second server on the same data directory is told why it cannot start,
// and what to do, rather than a bare timeout.
func TestMailboxStoreInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.db")
	log := slog.New(slog.DiscardHandler)
	first, err := Open(path, Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Open(path, Config{}, log)
	if err == nil {
		second.Close()
		t.Fatal("a second mailbox opened the same store")
	}
	if !strings.Contains(err.Error(), "in use by another server") || !strings.Contains(err.Error(), "-data") {
		t.Fatalf("the error does not say why or what to do: %v", err)
	}
}
