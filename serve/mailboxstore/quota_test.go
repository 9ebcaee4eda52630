package mailboxstore

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"go.etcd.io/bbolt"

	"planet/core/identity"
	"planet/core/mailbox"
	"planet/core/wire"
	"planet/serve/quota"
)

// The messages of /planet/mailbox/1.1.0 that carry deposit tokens, as
// docs/protocols/mailbox.md gives them (the fields are optional, so they
// may travel on 1.0.0 streams too, where a server that does not know them
// skips them).
type wireTokenDeposit struct {
	To       string `cbor:"1,keyasint"`
	ID       string `cbor:"2,keyasint"`
	Envelope []byte `cbor:"3,keyasint"`
	Token    []byte `cbor:"4,keyasint,omitempty"`
}

type wireTokenProof struct {
	DID       string   `cbor:"1,keyasint"`
	Signature []byte   `cbor:"2,keyasint"`
	Tokens    [][]byte `cbor:"3,keyasint"`
}

type wireTokenRequest struct {
	Deposit *wireTokenDeposit `cbor:"1,keyasint,omitempty"`
	Pickup  *struct{}         `cbor:"2,keyasint,omitempty"`
	Proof   *wireTokenProof   `cbor:"3,keyasint,omitempty"`
	Ack     *wireAck          `cbor:"4,keyasint,omitempty"`
}

// wireTokenHash is what a recipient registers for a deposit token.
func wireTokenHash(token []byte) []byte {
	h := sha256.Sum256(append([]byte("PLANET mailbox token hash v1\x00"), token...))
	return h[:]
}

func newWireToken(t *testing.T) []byte {
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		t.Fatal(err)
	}
	return token
}

// register has p pick up its letters (acknowledging all) and register the
// hashes of tokens with its mailbox.
func (srv *mailboxServer) register(p *mailboxPeer, tokens ...[]byte) {
	srv.t.Helper()
	s := srv.stream(p)
	defer s.Close()
	wire.WriteFrame(s, 1024, &wireTokenRequest{Pickup: &struct{}{}})
	var r wireReply
	if err := wire.ReadFrame(s, 1024, &r); err != nil || r.Challenge == nil {
		srv.t.Fatalf("challenge: %+v, %v", r, err)
	}
	proof := &wireTokenProof{DID: p.id.DID().String(), Signature: p.id.Sign(wirePickupInput(srv.host.ID(), r.Challenge.Nonce)), Tokens: [][]byte{}}
	for _, tok := range tokens {
		proof.Tokens = append(proof.Tokens, wireTokenHash(tok))
	}
	if err := wire.WriteFrame(s, 64<<10, &wireTokenRequest{Proof: proof}); err != nil {
		srv.t.Fatal(err)
	}
	for {
		var r wireReply
		if err := wire.ReadFrame(s, 1<<20, &r); err != nil {
			srv.t.Fatal(err)
		}
		if r.Letters == nil {
			srv.t.Fatalf("registering: %+v", r)
		}
		ack := &wireAck{}
		for _, it := range r.Letters.Items {
			ack.IDs = append(ack.IDs, it.ID)
		}
		wire.WriteFrame(s, 8<<10, &wireTokenRequest{Ack: ack})
		if !r.Letters.More {
			break
		}
	}
	var done wireReply
	if err := wire.ReadFrame(s, 1024, &done); err != nil || done.Done == nil {
		srv.t.Fatalf("end of the pickup: %+v, %v", done, err)
	}
}

// depositWith deposits a letter carrying token (nil for none) on s and
// returns the server's refusal, if any.
func depositWith(t *testing.T, s network.Stream, to *mailboxPeer, id string, envelope, token []byte) error {
	t.Helper()
	if err := wire.WriteFrame(s, 1<<20, &wireTokenRequest{Deposit: &wireTokenDeposit{To: to.id.DID().String(), ID: id, Envelope: envelope, Token: token}}); err != nil {
		t.Fatal(err)
	}
	var r wireReply
	if err := wire.ReadFrame(s, 1<<20, &r); err != nil {
		t.Fatal(err)
	}
	if r.Error != nil {
		return r.Error
	}
	if r.Deposited == nil {
		t.Fatalf("answer to a deposit: %+v", r)
	}
	return nil
}

// A stranger who sends a thousand tiny letters fills only the share of
// the recipient's mailbox that strangers get, and only their own part of
// it: another stranger can still leave a letter, and a contact's letter
// (one that carries the token of their relationship) is never refused
// because strangers filled the box.
func TestMailboxStrangersCannotFillAMailbox(t *testing.T) {
	srv := newMailboxServer(t, Config{})
	bob, contact, stranger, other := newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t), newMailboxPeer(t)
	token := newWireToken(t)
	srv.register(bob, token)

	s := srv.stream(stranger)
	accepted := 0
	for i := range 1000 {
		err := depositWith(t, s, bob, mailboxLetterID(i), []byte{'x'}, nil)
		if err != nil {
			if !errors.Is(err, mailbox.ErrFull) {
				t.Fatalf("a stranger's letter %d: %v", i, err)
			}
			s.Reset()
			s = srv.stream(stranger)
			continue
		}
		accepted++
	}
	s.Close()
	if accepted >= 1000 {
		t.Errorf("a stranger left %d one-byte letters for Bob: nothing stopped them", accepted)
	}
	t.Logf("one stranger left %d of 1000 letters", accepted)

	// Another stranger still gets a letter through.
	s = srv.stream(other)
	if err := depositWith(t, s, bob, "another-stranger-0001", []byte("hello"), nil); err != nil {
		t.Errorf("another stranger's letter after the first filled their share: %v", err)
	}
	s.Close()

	// A contact's letter goes in, also with a token presented for the
	// wrong recipient refused its privilege.
	s = srv.stream(contact)
	if err := depositWith(t, s, bob, "from-a-contact-0001", []byte("sealed for bob"), token); err != nil {
		t.Fatalf("a contact's letter after a stranger's flood: %v", err)
	}
	s.Close()
	if w := srv.waiting(bob); !bytes.Contains([]byte(stringsJoin(w)), []byte("from-a-contact-0001")) {
		t.Errorf("the contact's letter is not waiting: %v", w)
	}
	checkMailboxStore(t, srv.box.store)
}

// Throwaway keys cannot crowd out everyone: strangers' letters together
// take at most their share of the whole server, so contacts' letters
// still go in when 64 keys have left all the letters they could.
func TestMailboxThrowawayKeysCannotFillTheServer(t *testing.T) {
	srv := newMailboxServer(t, Config{MaxTotalBytes: 1 << 20})
	bob, contact := newMailboxPeer(t), newMailboxPeer(t)
	token := newWireToken(t)
	srv.register(bob, token)
	envelope := bytes.Repeat([]byte{'x'}, 4<<10)
	refused := 0
	for k := range 64 {
		sender, victim := newMailboxPeer(t), newMailboxPeer(t)
		s := srv.stream(sender)
		for i := range 64 {
			if err := depositWith(t, s, victim, mailboxLetterID(k*1000+i), envelope, nil); err != nil {
				if !errors.Is(err, mailbox.ErrFull) {
					t.Fatal(err)
				}
				refused++
				break
			}
		}
		s.Reset()
	}
	if refused == 0 {
		t.Fatal("64 throwaway keys left every letter they tried: the cap is not reached")
	}
	s := srv.stream(contact)
	defer s.Close()
	for i := range 8 {
		if err := depositWith(t, s, bob, mailboxLetterID(900000+i), envelope, token); err != nil {
			t.Fatalf("a contact's letter %d once throwaway keys filled what they could: %v", i, err)
		}
	}
	checkMailboxStore(t, srv.box.store)
}

func stringsJoin(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	return b.String()
}

// A file written by the first layout (testdata/mailbox-v1.db, made by the
// server before deposit tokens: three letters for one recipient, one for
// another) opens: its letters are all there, counted as strangers' letters
// from an unnamed sender, its counters agree with them, and it takes
// deposits and gives letters up as any other.
func TestMailboxMigratesV1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "mailbox-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mailbox.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	bob, _ := identity.FromSeed(bytes.Repeat([]byte{7}, 32))
	carol, _ := identity.FromSeed(bytes.Repeat([]byte{9}, 32))
	for range 2 { // the second open finds version 2
		box, err := Open(path, Config{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		checkMailboxStore(t, box.store)
		for who, want := range map[*identity.Identity]int{bob: 3, carol: 1} {
			letters, more, err := box.store.Waiting(who.DID(), 0, 100, 1<<20)
			if err != nil || more || len(letters) != want {
				t.Fatalf("%s has %d letters waiting (%v, %v), want %d", who.DID(), len(letters), more, err, want)
			}
		}
		err = box.store.db.View(func(tx *bbolt.Tx) error {
			if v := tx.Bucket(mailboxBucketMeta).Get(mailboxKeyVersion); !bytes.Equal(v, []byte{2}) {
				t.Errorf("layout version %x after opening", v)
			}
			u, _ := ledgerOf(tx).Usage(quota.KeyStrangers)
			if u.Items != 4 {
				t.Errorf("strangers' letters counted: %+v, want 4", u)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		box.Close()
	}
	box, err := Open(path, Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	if err := box.store.Deposit(mailbox.Incoming{To: bob.DID(), ID: mailboxLetterID(99), Envelope: []byte("new"), Sender: "12D3KooWsomeone"}); err != nil {
		t.Fatal(err)
	}
	letters, _, err := box.store.Waiting(bob.DID(), 0, 100, 1<<20)
	if err != nil || len(letters) != 4 {
		t.Fatalf("after a deposit: %d letters, %v", len(letters), err)
	}
	seqs := make([]uint64, len(letters))
	for i, l := range letters {
		seqs[i] = l.Seq
	}
	if err := box.store.Remove(bob.DID(), seqs); err != nil {
		t.Fatal(err)
	}
	checkMailboxStore(t, box.store)
	err = box.store.db.View(func(tx *bbolt.Tx) error {
		u, _ := ledgerOf(tx).Usage(quota.KeyStrangers)
		if u.Items != 1 {
			t.Errorf("strangers' letters after Bob's pickup: %+v, want Carol's 1", u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
