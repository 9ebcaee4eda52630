package p2p

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

// RelayStatus is how the node stands with one of its relays.
type RelayStatus struct {
	Addr      string
	Connected bool      // a reservation is held and the connection is up
	Expires   time.Time // when the reservation runs out, if Connected
	Retry     time.Time // when the next attempt is due, if not Connected
	Err       string    // why the last attempt failed; "" after a success
}

// Status reports the node's relays, in the order of its options, while
// [Node.Run] runs.
func (n *Node) Status() []RelayStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]RelayStatus, 0, len(n.relays))
	for _, s := range n.relays {
		out = append(out, *s)
	}
	order := map[string]int{}
	for i, r := range n.opt.Relays {
		order[r] = i
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i].Addr] < order[out[j].Addr] })
	return out
}

func (n *Node) setStatus(s RelayStatus) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.relays[s.Addr] = &s
}

// outboxRetry is how often Run tries the outbox again besides when a
// relay or another person comes within reach.
const outboxRetry = 2 * time.Minute

// Run keeps the node reachable until ctx ends: it holds a reservation on
// each of its relays and renews it halfway to its expiry, picks up the
// mailbox whenever a reservation is (re)gained, and when a relay cannot be
// reached or drops the connection, tries again after a back-off that
// doubles up to Options.MaxBackoff, with jitter. Renewals are timed well
// inside a reservation's life, so a browser that slows the timers of a
// background tab delays them without losing the reservation. The outbox
// is tried ([Node.SendOutbox]) whenever a relay is reserved on or another
// person connects, and every outboxRetry.
func (n *Node) Run(ctx context.Context) error {
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	defer sub.Close()
	// Fan the host's connectedness events out to the relay loops.
	dropped := map[peer.ID]chan struct{}{}
	type relay struct {
		addr string
		info peer.AddrInfo
	}
	var relays []relay
	for _, r := range n.opt.Relays {
		m, err := ma.NewMultiaddr(r)
		if err != nil {
			return fmt.Errorf("relay %q: %w", r, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return fmt.Errorf("relay %q: %w", r, err)
		}
		relays = append(relays, relay{r, *ai})
		dropped[ai.ID] = make(chan struct{}, 1)
	}
	wake := make(chan struct{}, 1)
	n.mu.Lock()
	n.wake = wake
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.wake = nil
		n.mu.Unlock()
	}()
	wakes := make([]chan struct{}, len(relays))
	for i := range wakes {
		wakes[i] = make(chan struct{}, 1)
	}
	go func() {
		// Queued messages are also tried now and then: a full mailbox
		// empties with no event here to say so.
		retry := time.NewTicker(outboxRetry)
		defer retry.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				ev := e.(event.EvtPeerConnectednessChanged)
				ch, isRelay := dropped[ev.Peer]
				switch {
				case isRelay && ev.Connectedness != network.Connected:
					select {
					case ch <- struct{}{}:
					default:
					}
				case !isRelay && (ev.Connectedness == network.Connected || ev.Connectedness == network.Limited):
					// Someone came within reach, if only through a relay:
					// what waits for them may go.
					n.kickOutbox(ctx)
				}
			case <-retry.C:
				n.kickOutbox(ctx)
			case <-wake:
				for _, w := range wakes {
					select {
					case w <- struct{}{}:
					default:
					}
				}
				n.kickOutbox(ctx)
			}
		}
	}()
	done := make(chan struct{})
	for i, r := range relays {
		go func() {
			defer func() { done <- struct{}{} }()
			n.keep(ctx, r.addr, r.info, dropped[r.info.ID], wakes[i])
		}()
	}
	for range relays {
		<-done
	}
	return ctx.Err()
}

// keep holds a reservation on one relay until ctx ends. A wake-up (Wake)
// ends a back-off at once, and makes a reservation whose connection has
// gone again at once.
func (n *Node) keep(ctx context.Context, addr string, ai peer.AddrInfo, dropped, wake <-chan struct{}) {
	backoff := n.opt.MinBackoff
	for ctx.Err() == nil {
		rsvp, err := n.reserve(ctx, ai)
		if err != nil {
			wait := backoff/2 + rand.N(backoff/2+1)
			n.setStatus(RelayStatus{Addr: addr, Retry: time.Now().Add(wait), Err: err.Error()})
			n.opt.Log.Info("relay unreachable", "relay", addr, "retry", wait, "err", err)
			backoff = min(2*backoff, n.opt.MaxBackoff)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-wake:
				t.Stop()
			}
			continue
		}
		backoff = n.opt.MinBackoff
		n.setStatus(RelayStatus{Addr: addr, Connected: true, Expires: rsvp.Expiration})
		select { // a drop noticed before this reservation does not count
		case <-dropped:
		default:
		}
		picked := n.pickup(ctx, addr)
		n.kickOutbox(ctx)
		n.hold(ctx, addr, ai, rsvp.Expiration, picked, dropped, wake)
	}
}

// pickup picks up the mailbox and reports whether that worked.
func (n *Node) pickup(ctx context.Context, addr string) bool {
	if _, err := n.Pickup(ctx); err != nil {
		n.opt.Log.Info("mailbox pickup", "relay", addr, "err", err)
		return false
	}
	return true
}

// hold waits while a reservation on the relay ai holds: until halfway to
// its expiry (then it is renewed), until the connection drops, or until
// ctx ends. A wake-up checks the connection, which a frozen tab may have
// lost without hearing of it. Unless picked, the pickup that followed the
// reservation failed: it is tried again meanwhile, on the back-off and on
// a wake-up, until it works, rather than at the next renewal.
func (n *Node) hold(ctx context.Context, addr string, ai peer.AddrInfo, expires time.Time, picked bool, dropped, wake <-chan struct{}) {
	renew := time.NewTimer(max(time.Until(expires)/2, n.opt.MinBackoff))
	defer renew.Stop()
	backoff := n.opt.MinBackoff
	again := time.NewTimer(backoff)
	defer again.Stop()
	if picked {
		again.Stop()
	}
	retry := func() {
		if picked = n.pickup(ctx, addr); !picked {
			backoff = min(2*backoff, n.opt.MaxBackoff)
			again.Reset(backoff)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			return
		case <-again.C:
			retry()
			continue
		case <-wake:
			if n.host.Network().Connectedness(ai.ID) == network.Connected && time.Until(expires) > 0 {
				if !picked {
					again.Stop()
					retry()
				}
				continue
			}
		case <-dropped:
		}
		n.setStatus(RelayStatus{Addr: addr, Retry: time.Now(), Err: "the connection to the relay dropped"})
		return
	}
}

// Wake tells the node that it may have been asleep: the page came back
// into view, was resumed after the browser froze it, or the device came
// back online. Browsers slow the timers of background tabs (to once a
// minute after a while) and stop those of frozen ones; rather than wait
// for them, the node retries its relays now, makes again a reservation
// whose connection has gone, and tries its queued messages. It does
// nothing while [Node.Run] is not running.
func (n *Node) Wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.wake == nil {
		return
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *Node) reserve(ctx context.Context, ai peer.AddrInfo) (*client.Reservation, error) {
	ctx, cancel := context.WithTimeout(ctx, n.opt.DialTimeout)
	defer cancel()
	// The node paces its tries at a relay itself (keep's back-off, cut
	// short by Wake); the swarm's own back-off after a failed dial would
	// refuse a try made at once.
	if err := n.host.Connect(network.WithForceDirectDial(ctx, "planet relay"), ai); err != nil {
		return nil, err
	}
	return client.Reserve(ctx, n.host, ai)
}

// sleep waits for d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
