// Package mailboxstore is the server's mailbox: it keeps sealed envelopes for people who are
// offline until they pick them up, in one bbolt file (<data>/mailbox.db) with quotas per
// recipient and in all, and drops letters that waited past the retention period. The
// protocol is core/mailbox's (docs/protocols/mailbox.md, "Server storage" for the file's
// layout); [Open] opens the store, and [Mailbox.Attach] answers the protocol on the relay
// node's host.
package mailboxstore

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"planet/core/keys"
	"planet/core/mailbox"
	"planet/serve/quota"
)

// Defaults of Config.
const (
	defaultMailboxMaxLetters    = 1000
	defaultMailboxMaxBytes      = 16 << 20
	defaultMailboxMaxTotalBytes = 1 << 30
	defaultMailboxRetention     = 30 * 24 * time.Hour
	defaultMailboxStreamTimeout = 5 * time.Minute
)

// Config holds the mailbox's limits. A zero field takes its default.
//
// The three sizes give the whole quota policy (docs/protocols/mailbox.md,
// "Quotas"); Quota, when set, replaces what they give.
type Config struct {
	// MaxLetters is how many letters the recipient's contacts may leave
	// for one recipient, all together.
	MaxLetters int
	// MaxBytes is how many bytes of letters the recipient's contacts may
	// leave for one recipient; each letter counts its envelope and
	// letterOverhead.
	MaxBytes int64
	// MaxTotalBytes is the same for all recipients together, contacts and
	// strangers: the most disk the mailbox takes, give or take bbolt's own
	// overhead.
	MaxTotalBytes int64
	// Quota is the policy the store charges letters to; zero means the
	// one derived from the three sizes above (see policyFor).
	Quota quota.Policy
	// Retention is how long a letter waits before it is dropped unread.
	Retention time.Duration
	// StreamTimeout is how long one mailbox stream may last, so that a
	// client that stops talking does not hold its stream forever.
	StreamTimeout time.Duration

	// now is the clock; nil means time.Now. Tests move it forward.
	now func() time.Time
}

// AddFlags adds the mailbox's flags to fs, with the defaults as their
// default values.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxLetters, "mailbox-max-letters", defaultMailboxMaxLetters, "most `letters` waiting for one recipient in the mailbox")
	fs.Int64Var(&c.MaxBytes, "mailbox-max-bytes", defaultMailboxMaxBytes, "most `bytes` of letters waiting for one recipient (each letter counts its envelope and 256 bytes)")
	fs.Int64Var(&c.MaxTotalBytes, "mailbox-max-total-bytes", defaultMailboxMaxTotalBytes, "most `bytes` of letters waiting in the whole mailbox")
	fs.DurationVar(&c.Retention, "mailbox-retention", defaultMailboxRetention, "how long a letter waits in the mailbox before it is dropped unread (`duration`)")
	fs.DurationVar(&c.StreamTimeout, "mailbox-stream-timeout", defaultMailboxStreamTimeout, "how long one mailbox stream may last (`duration`)")
}

// withDefaults returns c with every zero field set to its default, or an
// error for a negative limit.
func (c Config) withDefaults() (Config, error) {
	if c.MaxLetters < 0 || c.MaxBytes < 0 || c.MaxTotalBytes < 0 || c.Retention < 0 || c.StreamTimeout < 0 {
		return c, errors.New("mailbox: limits must not be negative")
	}
	if c.MaxLetters == 0 {
		c.MaxLetters = defaultMailboxMaxLetters
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = defaultMailboxMaxBytes
	}
	if c.MaxTotalBytes == 0 {
		c.MaxTotalBytes = defaultMailboxMaxTotalBytes
	}
	if c.Retention == 0 {
		c.Retention = defaultMailboxRetention
	}
	if c.StreamTimeout == 0 {
		c.StreamTimeout = defaultMailboxStreamTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.Quota == (quota.Policy{}) {
		c.Quota = policyFor(c)
	}
	return c, nil
}

// policyFor derives the quota policy from c's three sizes (defaults in
// brackets, for 1,000 letters, 16 MiB and 1 GiB):
//
//   - a recipient's contacts: MaxLetters and MaxBytes together [1,000
//     letters, 16 MiB]; one contact, half of that [500, 8 MiB], so that one
//     person cannot fill what all the others share;
//   - a recipient's strangers: a tenth of the letters and a sixteenth of
//     the bytes together [100, 1 MiB]; one stranger, a tenth of that
//     [10 letters, 100 KiB], and at least one letter of the largest size;
//   - the whole server: strangers' letters a quarter of MaxTotalBytes
//     [256 MiB], contacts' letters the other three quarters [768 MiB], so
//     that strangers, however many keys they make, never take the disk
//     the recipients' contacts need;
//   - one sender key: a sixteenth of MaxTotalBytes in all [64 MiB], and
//     for recipients who do not know it a sixty-fourth of the strangers'
//     share [4 MiB], so that filling the strangers' share takes at least
//     64 keys, and none of them reaches a contact's letters.
func policyFor(c Config) quota.Policy {
	atLeast := func(v, floor uint64) uint64 { return max(v, floor) }
	largest := uint64(mailbox.MaxEnvelope + letterOverhead)
	letters, bytes, total := uint64(c.MaxLetters), uint64(c.MaxBytes), uint64(c.MaxTotalBytes)
	strangers := atLeast(total/4, largest)
	recipientStrangers := quota.Limit{Items: atLeast(letters/10, 1), Bytes: atLeast(bytes/16, largest)}
	return quota.Policy{
		Contacts:           quota.Limit{Bytes: atLeast(total-min(total, strangers), largest)},
		Strangers:          quota.Limit{Bytes: strangers},
		Sender:             quota.Limit{Bytes: atLeast(total/16, largest)},
		StrangerSender:     quota.Limit{Bytes: atLeast(strangers/64, largest)},
		Recipient:          quota.Limit{Items: letters, Bytes: bytes},
		Contact:            quota.Limit{Items: atLeast(letters/2, 1), Bytes: atLeast(bytes/2, largest)},
		RecipientStrangers: recipientStrangers,
		RecipientStranger:  quota.Limit{Items: atLeast(recipientStrangers.Items/10, 1), Bytes: atLeast(recipientStrangers.Bytes/10, largest)},
	}
}

// Mailbox is the server's mailbox: its store, and the streams it is
// answering.
type Mailbox struct {
	store *mailboxStore
	cfg   Config
	log   *slog.Logger

	// ctx ends every stream in flight when the mailbox closes.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	hosts   []host.Host
	streams sync.WaitGroup

	stopSweep chan struct{}
	swept     chan struct{}
}

// Open opens the mailbox whose store is the bbolt file at path
// (created if need be; the server keeps it at <data dir>/mailbox.db), drops
// the letters that have waited past the retention period, and starts
// dropping them periodically. Letters stored before a restart are all
// there. Attach it to a host to answer streams; Close it when done.
func Open(path string, cfg Config, log *slog.Logger) (*Mailbox, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := openMailboxStore(path, cfg)
	if err != nil {
		return nil, err
	}
	expired, err := st.expireAll()
	if err != nil {
		st.close()
		return nil, fmt.Errorf("mailbox: expiring old letters: %w", err)
	}
	total, recipients, err := st.stats()
	if err != nil {
		st.close()
		return nil, fmt.Errorf("mailbox: reading the store: %w", err)
	}
	log.Info("mailbox open", "path", path, "letters", total.Items, "bytes", total.Bytes,
		"recipients", recipients, "expired", expired)
	m := &Mailbox{
		store:     st,
		cfg:       cfg,
		log:       log,
		stopSweep: make(chan struct{}),
		swept:     make(chan struct{}),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	go m.sweep()
	return m, nil
}

// sweep drops expired letters now and then, so that the letters of someone
// who never comes back do not hold the server's quota for ever.
func (m *Mailbox) sweep() {
	defer close(m.swept)
	t := time.NewTicker(max(min(m.cfg.Retention/4, time.Hour), time.Second))
	defer t.Stop()
	for {
		select {
		case <-m.stopSweep:
			return
		case <-t.C:
			n, err := m.store.expireAll()
			if err != nil {
				m.log.Error("mailbox: expiring old letters", "err", err)
			} else if n > 0 {
				m.log.Info("mailbox expired letters", "letters", n)
			}
		}
	}
}

// Attach answers the mailbox protocol on h, naming h's peer ID in pickup
// challenges. It fails only for a host whose key is not one PLANET peer IDs
// can hold (RSA and Ed25519 are).
func (m *Mailbox) Attach(h host.Host) error {
	relay, err := keys.ParsePeerID(h.ID().String())
	if err != nil {
		return fmt.Errorf("mailbox: host peer id: %w", err)
	}
	srv := &mailbox.Server{Store: m.store, Relay: relay}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("mailbox: attach after close")
	}
	m.hosts = append(m.hosts, h)
	for _, p := range mailbox.Protocols {
		h.SetStreamHandler(protocol.ID(p), func(s network.Stream) { m.handle(srv, s) })
	}
	return nil
}

// handle answers one stream.
func (m *Mailbox) handle(srv *mailbox.Server, s network.Stream) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		s.Reset()
		return
	}
	m.streams.Add(1)
	m.mu.Unlock()
	defer m.streams.Done()

	// A peer whose ID does not hold an Ed25519 key may deposit; the zero
	// PeerID it gets here matches no DID, so it can pick nothing up.
	peer := s.Conn().RemotePeer()
	remote, _ := keys.ParsePeerID(peer.String())

	deadline := time.Now().Add(m.cfg.StreamTimeout)
	s.SetDeadline(deadline)
	ctx, cancel := context.WithDeadline(m.ctx, deadline)
	defer cancel()
	if err := srv.Serve(ctx, s, remote); err != nil {
		m.log.Info("mailbox stream", "peer", peer.String(), "err", err)
	}
}

// Close stops answering streams, ends those in flight and closes the store.
// Every letter that was confirmed to its sender, or not yet acknowledged by
// its recipient, is in the store for the next open.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	hosts := m.hosts
	m.mu.Unlock()

	for _, h := range hosts {
		for _, p := range mailbox.Protocols {
			h.RemoveStreamHandler(protocol.ID(p))
		}
	}
	m.cancel()
	m.streams.Wait()
	close(m.stopSweep)
	<-m.swept
	return m.store.close()
}
