// Package p2p runs PLANET's protocols on a go-libp2p host: it answers the
// trust network's streams for a [core.Planet] and delivers what the vault
// wants delivered, directly when the other person is reachable (a direct
// connection or one through their relay), otherwise sealed into their
// mailbox. The same code runs natively and in the browser, over whichever
// transports the host was built with.
package p2p

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/keys"
	"planet/core/mailbox"
	"planet/core/trust"
)

// PrivateKey is the libp2p key of id: the same Ed25519 key as its DID, so
// that the peer ID and the did:key name the same person.
func PrivateKey(id *identity.Identity) (crypto.PrivKey, error) {
	return crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(id.Seed()))
}

// PeerID is the libp2p peer ID at which the person of d is reached.
func PeerID(d did.DID) (peer.ID, error) {
	p, err := identity.DIDPeer(d)
	if err != nil {
		return "", err
	}
	return peer.IDFromBytes(p.Bytes())
}

// Options configure a [Node].
type Options struct {
	// Relays are the multiaddrs (ending in /p2p/<relay>) of the relays at
	// which this node is reached; they go into what it sends, for answers.
	Relays []string
	// DialTimeout bounds each attempt to reach a peer; zero means 10 s.
	DialTimeout time.Duration
	// Log receives what goes wrong in the background; nil discards it.
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before [Node.Run] tries a
	// relay again after it failed; zero means 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Direct, if set, makes a direct connection to a peer over the
	// relayed one [Node.Reach] has just found or made (in the browser:
	// WebRTC). Streams then prefer the direct connection; when Direct
	// fails, the relayed one serves, and Direct is not tried again with
	// that peer for a minute.
	Direct func(ctx context.Context, p peer.ID) error
	// ChatTimeout bounds one try at handing a chat message over (opening
	// the stream if need be, writing, reading the acknowledgement); zero
	// means 5 s. ChatIdle is how long a chat stream kept to a person stays
	// open after its last message; zero means 30 s.
	ChatTimeout, ChatIdle time.Duration
	// DIDComm, if set, takes each packed DIDComm message that arrives on a
	// DIDComm stream ([DIDCommProtocol]), with the way it came
	// (chat.ViaDirect or chat.ViaRelayed); its error, if any, is the refusal the
	// sender is told. Without it, DIDComm streams are refused.
	DIDComm func(ctx context.Context, packed []byte, via string) error
}

// mailboxTimeout bounds one exchange with a relay's mailbox: a pickup of a
// full mailbox (1,000 letters by default) takes seconds.
const mailboxTimeout = 2 * time.Minute

// directRetry is how long Reach leaves a peer alone after Direct failed.
const directRetry = time.Minute

// Node is a Planet on a libp2p host.
type Node struct {
	host   host.Host
	planet *core.Planet
	opt    Options

	mu           sync.Mutex
	closed       bool
	relays       map[string]*RelayStatus // by address, while Run runs
	directFailed map[peer.ID]time.Time   // when Direct last failed, by peer
	chats        map[peer.ID]*chatLine   // chat streams kept open, by peer
	handing      map[string]bool         // ids of the messages Chat is handing over
	// outboxRunning says kickOutbox's goroutine runs, outboxAgain that it
	// is to run SendOutbox once more.
	outboxRunning, outboxAgain bool
	wake                       chan struct{} // Wake's signal to Run, while it runs

	outboxMu sync.Mutex // one SendOutbox at a time
}

// New attaches p to h: h answers the trust-network protocols for p from
// now on. h's identity must be p's.
func New(h host.Host, p *core.Planet, opt Options) (*Node, error) {
	id, err := p.Identity()
	if err != nil {
		return nil, err
	}
	want, err := PeerID(id.DID())
	if err != nil {
		return nil, err
	}
	if h.ID() != want {
		return nil, fmt.Errorf("p2p: the host is %s, not %s", h.ID(), want)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 10 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(time.Minute, opt.MinBackoff)
	}
	if opt.ChatTimeout <= 0 {
		opt.ChatTimeout = 5 * time.Second
	}
	if opt.ChatIdle <= 0 {
		opt.ChatIdle = 30 * time.Second
	}
	n := &Node{host: h, planet: p, opt: opt, relays: map[string]*RelayStatus{},
		directFailed: map[peer.ID]time.Time{}, chats: map[peer.ID]*chatLine{}, handing: map[string]bool{}}
	p.Trust().SetRelays(opt.Relays)
	for _, proto := range trust.Protocols {
		h.SetStreamHandler(protocol.ID(proto), n.serveTrust(proto))
	}
	h.SetStreamHandler(chat.Protocol, n.serveChat)
	h.SetStreamHandler(DIDCommProtocol, n.serveDIDComm)
	return n, nil
}

// Host is the node's libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Relays are the relay addresses the node gives for answers.
func (n *Node) Relays() []string { return n.opt.Relays }

// Close stops answering and closes the chat streams it keeps; it does not
// close the host.
func (n *Node) Close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	for _, proto := range trust.Protocols {
		n.host.RemoveStreamHandler(protocol.ID(proto))
	}
	n.host.RemoveStreamHandler(chat.Protocol)
	n.host.RemoveStreamHandler(DIDCommProtocol)
	n.closeChats()
}

func (n *Node) serveChat(s network.Stream) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	remote, err := keys.ParsePeerID(s.Conn().RemotePeer().String())
	if err != nil {
		s.Reset()
		return
	}
	if err := n.planet.Chat().Serve(ctx, s, remote, streamVia(s.Conn())); err != nil {
		n.opt.Log.Warn("refused a chat stream", "peer", remote, "err", err)
	}
}

// Chat sends text to the contact with DID to: over the chat stream kept
// to them when they are reachable (the message is then delivered, and its
// Via says whether the stream went directly or through the relay),
// otherwise sealed into their mailbox (it stays sent, via the mailbox,
// until their receipt comes back). The message is kept in the vault while
// it is on its way.
//
// When neither they nor their mailbox take it, the message waits in the
// outbox, queued, and Chat returns it with an error wrapping ErrQueued
// and saying why; the node sends it when it can ([Node.SendOutbox]).
func (n *Node) Chat(ctx context.Context, to did.DID, text string) (*chat.Message, error) {
	if _, err := PeerID(to); err != nil {
		return nil, err
	}
	c, err := n.planet.Chat().Write(ctx, to, text)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.handing[c.Message.ID] = true // SendOutbox leaves it to Chat
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.handing, c.Message.ID)
		n.mu.Unlock()
	}()
	kept := make(chan error, 1)
	go func() { kept <- c.Keep(ctx) }()
	via, err := n.handOver(ctx, to, c.Message.ID, c.Signed)
	if kerr := <-kept; kerr != nil {
		return nil, fmt.Errorf("keeping the message: %w", kerr)
	}
	msg := *c.Message
	switch {
	case err != nil:
		if qerr := n.planet.Chat().Queue(context.WithoutCancel(ctx), msg.ID); qerr != nil {
			return nil, fmt.Errorf("%w; keeping the message for later: %w", err, qerr)
		}
		msg.State = chat.Queued
		return &msg, fmt.Errorf("%w: %w", ErrQueued, err)
	case chat.OnStream(via):
		n.planet.Chat().Acknowledged(msg.ID, via)
		msg.State = chat.Delivered
	default: // in their mailbox
		// The letter is in the mailbox whatever this says: a failure to
		// write so only leaves the message without its way.
		if err := n.planet.Chat().MarkSent(context.WithoutCancel(ctx), msg.ID); err != nil {
			n.opt.Log.Warn("recording a message as left in the mailbox", "err", err)
		}
	}
	msg.Via = via
	return &msg, nil
}

// ErrQueued is returned, with the message, by [Node.Chat] when the message
// could be handed neither to its reader nor to their mailbox and waits in
// the outbox.
var ErrQueued = errors.New("p2p: the message waits to be sent")

// SendOutbox hands over what waits in the person's outbox and can go now,
// reader by reader, each reader's messages in the order they were written,
// and returns how many went:
//   - a queued message goes to its reader (then delivered) or into their
//     mailbox (then sent);
//   - a sent message, not yet acknowledged, is offered again to a reader
//     connected now, whose acknowledgement makes it delivered: it may
//     wait in their mailbox, or have been acknowledged in a page closed
//     before it wrote so. One not connected waits for their receipt.
//
// A reader who cannot be reached, or does not acknowledge, keeps the rest
// of their messages for the next try.
func (n *Node) SendOutbox(ctx context.Context) (int, error) {
	n.outboxMu.Lock()
	defer n.outboxMu.Unlock()
	waiting, err := n.planet.Chat().Outbox(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	stuck := map[did.DID]bool{}  // readers whose queued messages wait
	silent := map[did.DID]bool{} // readers who did not acknowledge an offer
	for _, m := range waiting {
		n.mu.Lock()
		handing := n.handing[m.ID]
		n.mu.Unlock()
		switch {
		case handing:
			continue
		case m.State == chat.Sent:
			if silent[m.To] {
				continue
			}
			switch acked, err := n.offerAgain(ctx, m); {
			case err != nil:
				silent[m.To] = true
				n.opt.Log.Info("a sent message was not acknowledged", "to", did.Short(m.To), "err", err)
			case acked:
				sent++
			}
			continue
		case stuck[m.To]:
			continue
		}
		via, err := n.handOver(ctx, m.To, m.ID, m.Signed)
		switch {
		case err != nil:
			stuck[m.To] = true
			n.opt.Log.Info("a queued message waits on", "to", did.Short(m.To), "err", err)
			continue
		case chat.OnStream(via):
			n.planet.Chat().Acknowledged(m.ID, via)
		default:
			if err := n.planet.Chat().MarkSent(ctx, m.ID); err != nil {
				return sent, err
			}
		}
		sent++
	}
	n.opt.Log.Debug("outbox tried", "waiting", len(waiting), "went", sent)
	return sent, nil
}

// offerAgain sends m, a sent message, to its reader on the chat stream if
// the host is connected to them, and reports whether they acknowledged it;
// the error says why a reader connected did not.
func (n *Node) offerAgain(ctx context.Context, m chat.Message) (acked bool, err error) {
	pid, err := PeerID(m.To)
	if err != nil || !n.hasLimitedConn(pid) {
		return false, nil
	}
	if err := n.Reach(ctx, pid, nil); err != nil {
		return false, err
	}
	via, err := n.sendChat(ctx, pid, m.Signed)
	if err != nil {
		return false, err
	}
	n.planet.Chat().Acknowledged(m.ID, via)
	return true, nil
}

// kickOutbox runs SendOutbox in the background, once more after the
// current run if one is running.
func (n *Node) kickOutbox(ctx context.Context) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.outboxRunning {
		n.outboxAgain = true
		return
	}
	n.outboxRunning = true
	go func() {
		for {
			if _, err := n.SendOutbox(ctx); err != nil && ctx.Err() == nil {
				n.opt.Log.Warn("sending the outbox", "err", err)
			}
			n.mu.Lock()
			if !n.outboxAgain || ctx.Err() != nil {
				n.outboxRunning = false
				n.mu.Unlock()
				return
			}
			n.outboxAgain = false
			n.mu.Unlock()
			// A try connects to people, which asks for another try: leave
			// a pause, so that a reader who comes and goes is not chased.
			if !sleep(ctx, outboxPause) {
				n.mu.Lock()
				n.outboxRunning = false
				n.mu.Unlock()
				return
			}
		}
	}()
}

// outboxPause separates two runs of SendOutbox that kickOutbox starts.
const outboxPause = 5 * time.Second

// handOver gives signed, a message of the chat protocol (a chat message or
// a receipt) with the given id, to the person with DID to: on the chat
// stream kept to them when they can be reached, and then via is the way
// the stream went (chat.ViaDirect or chat.ViaRelayed) and the message is
// delivered; otherwise sealed into their mailbox, and via is
// chat.ViaMailbox.
func (n *Node) handOver(ctx context.Context, to did.DID, id string, signed []byte) (via string, err error) {
	pid, err := PeerID(to)
	if err != nil {
		return "", err
	}
	// The contact's relays are needed only to reach them from scratch or
	// to leave a letter, and reading them means reading every contact.
	var relays []string
	looked := false
	lookup := func() error {
		if looked {
			return nil
		}
		looked = true
		c, err := n.planet.Contacts().ByDID(ctx, to)
		if c != nil {
			relays = c.Relays
		}
		return err
	}
	if n.host.Network().Connectedness(pid) == network.NotConnected {
		if err := lookup(); err != nil {
			return "", err
		}
	}
	err = n.Reach(ctx, pid, relays)
	if err == nil {
		via, err = n.sendChat(ctx, pid, signed)
	}
	if err == nil {
		return via, nil
	}
	n.opt.Log.Info("no chat stream; leaving the message in the mailbox", "to", did.Short(to), "err", err)
	if err := lookup(); err != nil {
		return "", err
	}
	env, err := didcomm.SealSigned(to, signed)
	if err != nil {
		return "", err
	}
	if err := n.Post(ctx, to, relays, id, env); err != nil {
		return "", err
	}
	return chat.ViaMailbox, nil
}

// sendReceipts tells the writers of chat messages picked up from the
// mailbox that they arrived (kept: message ids by writer), with receipts
// handed over as chat messages are. A receipt that cannot be given is
// only logged: the message is kept all the same, and its writer sees it
// as sent.
func (n *Node) sendReceipts(ctx context.Context, kept map[did.DID][]string) {
	for to, ids := range kept {
		for len(ids) > 0 {
			batch := ids[:min(len(ids), chat.MaxReceiptIDs)]
			ids = ids[len(batch):]
			id, signed, err := n.planet.Chat().NewReceipt(to, batch)
			if err == nil {
				_, err = n.handOver(ctx, to, id, signed)
			}
			if err != nil {
				n.opt.Log.Warn("could not send a receipt", "to", did.Short(to), "err", err)
			}
		}
	}
}

func (n *Node) serveTrust(proto string) network.StreamHandler {
	return func(s network.Stream) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		remote, err := keys.ParsePeerID(s.Conn().RemotePeer().String())
		if err != nil {
			s.Reset()
			return
		}
		send, err := n.planet.Trust().ServeTrust(ctx, s, proto, remote)
		if err != nil {
			n.opt.Log.Warn("refused a stream", "protocol", proto, "peer", remote, "err", err)
		}
		for _, out := range send {
			go n.deliverLogged(out)
		}
		// Someone who was a stranger a moment ago (their own offer to
		// connect directly was refused) may be a contact now, having
		// accepted an invitation: this side offers instead.
		if err == nil && n.opt.Direct != nil {
			if pid := s.Conn().RemotePeer(); n.AnswersSignaling(pid) {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					n.direct(ctx, pid)
				}()
			}
		}
	}
}

func (n *Node) deliverLogged(out trust.Outgoing) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Deliver(ctx, out); err != nil {
		n.opt.Log.Warn("could not deliver", "protocol", out.Protocol, "to", did.Short(out.To), "err", err)
	}
}

// ErrUnreachable is returned by [Node.Deliver] when the other person could
// be reached neither directly nor through any of their relays.
var ErrUnreachable = errors.New("p2p: the other person cannot be reached now")

// Deliver sends out over a stream to out.To and applies the answer; what
// the answer produces in turn (the news of a connection for an introducer)
// is delivered too. A refusal in the answer is returned as a
// [*trust.RemoteError]; a person who cannot be reached, as ErrUnreachable.
func (n *Node) Deliver(ctx context.Context, out trust.Outgoing) error {
	pid, err := PeerID(out.To)
	if err != nil {
		return err
	}
	if err := n.Reach(ctx, pid, out.Relays); err != nil {
		return err
	}
	s, err := n.openStream(ctx, pid, protocol.ID(out.Protocol))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	h, err := n.planet.Trust().Exchange(ctx, s, out)
	if err != nil {
		return err
	}
	var errs []error
	for _, next := range h.Send {
		if err := n.Deliver(ctx, next); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// openTimeout bounds one try at opening a stream and agreeing on its
// protocol.
const openTimeout = 5 * time.Second

// openStream opens a stream of proto to pid, on a relayed connection if
// need be, as the host's NewStream does, but gives each try openTimeout
// and makes a second one when the first runs out of time: in the browser,
// Chromium now and then drops the first messages of a data channel the
// other side has just opened, which leaves the protocol negotiation on it
// waiting for good (docs/browser-node.md, Limits); another stream gets
// through.
func (n *Node) openStream(ctx context.Context, pid peer.ID, proto protocol.ID) (network.Stream, error) {
	var err error
	for range 2 {
		try, cancel := context.WithTimeout(ctx, openTimeout)
		var s network.Stream
		s, err = n.host.NewStream(network.WithAllowLimitedConn(try, "planet"), pid, proto)
		timedOut := try.Err() != nil
		cancel()
		if err == nil {
			return s, nil
		}
		if !timedOut || ctx.Err() != nil {
			break
		}
		n.opt.Log.Info("no answer opening a stream; trying another", "peer", pid, "protocol", proto)
	}
	return nil, err
}

// Reach makes sure the host has a connection to pid: one it already has,
// one to an address it knows, or one through each of relays in turn. A
// connection through a relay is then made direct if [Options.Direct] can.
func (n *Node) Reach(ctx context.Context, pid peer.ID, relays []string) error {
	if n.host.Network().Connectedness(pid) == network.Connected {
		return nil
	}
	if n.hasLimitedConn(pid) {
		n.direct(ctx, pid)
		return nil
	}
	var errs []error
	if len(n.host.Peerstore().Addrs(pid)) > 0 {
		if err := n.dial(ctx, peer.AddrInfo{ID: pid}); err == nil {
			n.direct(ctx, pid)
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	for _, r := range relays {
		circuit, err := circuitAddr(r, pid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := n.dial(ctx, peer.AddrInfo{ID: pid, Addrs: []ma.Multiaddr{circuit}}); err == nil {
			n.direct(ctx, pid)
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, errors.Join(errs...))
}

// AnswersSignaling reports whether the node answers a request from p to
// connect directly (WebRTC signalling, in the browser), which would give
// p the addresses of the person's device: only when p is one of the
// person's connected contacts or someone they are connecting with
// ([core.Planet.Knows]). A stranger is refused, and reaches the person
// through the relay only, which reveals no address. A locked vault answers
// no one.
func (n *Node) AnswersSignaling(p peer.ID) bool {
	pid, err := keys.ParsePeerID(p.String())
	if err != nil {
		return false
	}
	d, err := identity.PeerDID(pid)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := n.planet.Knows(ctx, d)
	return err == nil && ok
}

// ErrNoDirect is what [Node.Direct] returns when the node was given no
// way to connect directly.
var ErrNoDirect = errors.New("p2p: this node cannot make direct connections")

// Direct makes a direct connection to pid over the relayed one the host
// has, with [Options.Direct], within the dial timeout.
func (n *Node) Direct(ctx context.Context, pid peer.ID) error {
	if n.opt.Direct == nil {
		return ErrNoDirect
	}
	ctx, cancel := context.WithTimeout(ctx, n.opt.DialTimeout)
	defer cancel()
	return n.opt.Direct(ctx, pid)
}

// direct tries Options.Direct on a peer the host reaches only through a
// relay, unless it failed with that peer lately.
func (n *Node) direct(ctx context.Context, pid peer.ID) {
	if n.opt.Direct == nil || n.host.Network().Connectedness(pid) == network.Connected {
		return
	}
	n.mu.Lock()
	failed, ok := n.directFailed[pid]
	n.mu.Unlock()
	if ok && time.Since(failed) < directRetry {
		return
	}
	err := n.Direct(ctx, pid)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.directFailed[pid] = time.Now()
		n.opt.Log.Info("no direct connection; going through the relay", "peer", pid, "err", err)
		return
	}
	delete(n.directFailed, pid)
}

func (n *Node) hasLimitedConn(pid peer.ID) bool {
	return len(n.host.Network().ConnsToPeer(pid)) > 0
}

func (n *Node) dial(ctx context.Context, ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(ctx, n.opt.DialTimeout)
	defer cancel()
	return n.host.Connect(network.WithAllowLimitedConn(ctx, "planet"), ai)
}

// circuitAddr is the address of pid through the relay at relay
// ("…/p2p/<relay>/p2p-circuit/p2p/<pid>"); it also teaches the peerstore
// nothing, so that a stale relay is tried afresh each time.
func circuitAddr(relay string, pid peer.ID) (ma.Multiaddr, error) {
	r, err := ma.NewMultiaddr(relay)
	if err != nil {
		return nil, fmt.Errorf("relay %q: %w", relay, err)
	}
	if _, err := r.ValueForProtocol(ma.P_P2P); err != nil {
		return nil, fmt.Errorf("relay %q names no peer", relay)
	}
	return ma.NewMultiaddr(fmt.Sprintf("%s/p2p-circuit/p2p/%s", r, pid))
}

// Send delivers out directly if it can, and otherwise leaves it sealed in
// the other person's mailbox at one of out.Relays, to be handled when they
// come back. posted says which happened.
func (n *Node) Send(ctx context.Context, out trust.Outgoing) (posted bool, err error) {
	err = n.Deliver(ctx, out)
	if !errors.Is(err, ErrUnreachable) {
		return false, err
	}
	id, env, serr := n.planet.Trust().SealOutgoing(out)
	if serr != nil {
		return false, serr
	}
	// The acceptance of an invitation carries the invitation's token: the
	// inviter does not know the invitee yet, but registered it.
	token := trust.MailboxToken(out, time.Now())
	if perr := n.post(ctx, out.To, out.Relays, id, env, token); perr != nil {
		return false, fmt.Errorf("%w; the mailbox: %w", err, perr)
	}
	return true, nil
}

// Post leaves a sealed envelope for to in the mailbox of the first of
// relays that takes it.
func (n *Node) Post(ctx context.Context, to did.DID, relays []string, id string, envelope []byte) error {
	return n.post(ctx, to, relays, id, envelope, nil)
}

// post is Post with the deposit token to present; nil means the token of
// the person's relationship with to.
func (n *Node) post(ctx context.Context, to did.DID, relays []string, id string, envelope, token []byte) error {
	if len(relays) == 0 {
		return fmt.Errorf("p2p: %s has no relay to leave a letter at", did.Short(to))
	}
	// The token of the person's relationship with to: their mailbox
	// counts the letter against that relationship, not with strangers',
	// if to registered it (they do for their contacts).
	if token == nil {
		var err error
		if token, err = n.planet.MailboxToken(to); err != nil {
			token = nil // to's DID makes no token: a stranger's letter
		}
	}
	var errs []error
	for _, r := range relays {
		err := n.withMailbox(ctx, r, func(s network.Stream, _ keys.PeerID) error {
			return mailbox.DepositWithToken(ctx, s, to, id, envelope, token)
		})
		if err == nil {
			return nil
		}
		if errors.Is(err, mailbox.ErrFull) {
			return err
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Pickup collects the letters waiting in the person's mailboxes (at the
// node's relays), opens and applies each, and answers what needs an answer:
// a trust-network frame its reply, chat messages a receipt to their
// writer. It returns how many letters it took. A letter that cannot be opened is
// taken all the same: it will never open.
func (n *Node) Pickup(ctx context.Context) (int, error) {
	id, err := n.planet.Identity()
	if err != nil {
		return 0, err
	}
	// The tokens of the people the person knows, registered with each
	// pickup so that their letters are not counted with strangers'.
	tokens, err := n.planet.MailboxTokens(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	kept := map[did.DID][]string{} // chat messages picked up, by writer
	for _, r := range n.opt.Relays {
		var replies []trust.Outgoing
		err := n.withMailbox(ctx, r, func(s network.Stream, relay keys.PeerID) error {
			register := tokens
			if s.Protocol() != mailbox.ProtocolTokens {
				register = nil // a server of the first version knows no tokens
			}
			got, err := mailbox.PickupWithTokens(ctx, s, id, relay, register, func(l mailbox.Letter) error {
				o, err := n.planet.OpenLetter(ctx, l.Envelope)
				if err != nil {
					n.opt.Log.Warn("a letter from the mailbox", "from", did.Short(o.From), "err", err)
				}
				if o.Chat != nil {
					kept[o.From] = append(kept[o.From], o.Chat.ID)
				}
				replies = append(replies, n.answers(ctx, o)...)
				return nil
			})
			total += got
			return err
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, out := range replies {
			if _, err := n.Send(ctx, out); err != nil {
				errs = append(errs, err)
			}
		}
	}
	n.sendReceipts(ctx, kept)
	return total, errors.Join(errs...)
}

// answers are the frames to send after a letter was handled: the reply to
// its sender, and frames for others.
func (n *Node) answers(ctx context.Context, o core.Opened) []trust.Outgoing {
	out := o.Send
	if o.Reply != nil {
		relays := o.ReplyRelays
		if c, err := n.planet.Contacts().ByDID(ctx, o.From); err == nil && c != nil && len(c.Relays) > 0 {
			relays = c.Relays
		}
		out = append([]trust.Outgoing{{To: o.From, Relays: relays, Protocol: o.Protocol, Frame: o.Reply}}, out...)
	}
	return out
}

// withMailbox opens a mailbox stream to the relay at addr and runs fn on
// it, within mailboxTimeout: a relay that stops answering, or a connection
// gone silent, fails the exchange rather than holding up what waits on it
// (the reservation loop picks up inline; the outbox waits its turn).
func (n *Node) withMailbox(ctx context.Context, addr string, fn func(network.Stream, keys.PeerID) error) error {
	ctx, cancel := context.WithTimeout(ctx, mailboxTimeout)
	defer cancel()
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return fmt.Errorf("relay %q: %w", addr, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return fmt.Errorf("relay %q: %w", addr, err)
	}
	relay, err := keys.ParsePeerID(ai.ID.String())
	if err != nil {
		return fmt.Errorf("relay %q: %w", addr, err)
	}
	if err := n.dial(ctx, *ai); err != nil {
		return fmt.Errorf("%w: relay %s: %v", ErrUnreachable, ai.ID, err)
	}
	s, err := n.host.NewStream(ctx, ai.ID, protocol.ConvertFromStrings(mailbox.Protocols)...)
	if err != nil {
		return fmt.Errorf("relay %s: %w", ai.ID, err)
	}
	defer s.Close()
	return fn(s, relay)
}
