// Package mediation is the client side of DIDComm mediation
// (docs/mediation.md): what a person's PLANET uses to receive DIDComm
// messages through its server's mediator while other parties write to DIDs
// whose service names that mediator.
//
// A [Client] speaks for one client DID (the persona's) over a [Transport],
// a persistent connection to the mediator (a WebSocket). It asks for
// mediation ([Client.Connect], coordinate-mediation/2.0), registers the
// DIDs it receives at ([Client.Register]), and then [Client.Run] picks up
// what waits and what arrives live (messagepickup/3.0), handing each
// message, still encrypted, to the caller, and acknowledging only those
// the caller accepted: a message the caller could not take stays at the
// mediator for the next pickup. Every message to the mediator is
// authcrypted from the client DID and asks for its reply on the same
// connection (return_route "all"); replies are matched to requests by
// their thread.
//
// [Send] delivers a message packed by [didcomm.Pack] along its routes
// (HTTP POST to the recipient's mediator); [Reconnect] runs a connection
// again and again with backoff.
package mediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
)

// Defaults of Config.
const (
	defaultTimeout = 30 * time.Second
	defaultBatch   = 10
	defaultPoll    = 5 * time.Minute
	// liveBuffer is how many live deliveries wait for Run to handle them;
	// past it the reader drops them (they stay queued at the mediator) and
	// Run picks them up with a delivery-request, so that a slow handler
	// never stops replies from reaching their requests.
	liveBuffer = 64
	// rememberAcked is how many acknowledged ids Run remembers, to
	// acknowledge without handling again a message that a live delivery
	// and a delivery-request both carried.
	rememberAcked = 1024
)

// Config is what a Client needs.
type Config struct {
	// DID is the client's DID, the persona's: the one the mediator knows
	// the client by. Every message to the mediator is authcrypted from it.
	DID did.DID
	// Mediator is the mediator's DID (GET /didcomm on the server tells it).
	Mediator did.DID
	// Keys holds the secret key agreement keys of DID, for authcrypt and
	// for reading the mediator's replies.
	Keys didcomm.Keyring
	// Resolver resolves the mediator's and the client's DIDs.
	Resolver did.Resolver
	// Timeout bounds the wait for one reply (30 s when zero).
	Timeout time.Duration
	// Batch is how many messages one delivery-request asks for (10 when
	// zero, at most 100). The mediator sends at most about 512 KiB of
	// messages in one delivery whatever the batch.
	Batch int
	// Poll is how often Run asks for waiting messages besides the live
	// deliveries (5 minutes when zero): a live delivery the mediator
	// could not write, and a message the handler refused earlier, are
	// picked up then.
	Poll time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Client is a client of one mediator over one connection. Its methods may
// be called from several goroutines, except Run, which runs once at a time.
type Client struct {
	t   Transport
	cfg Config

	sendMu sync.Mutex // one Send at a time on the transport

	mu      sync.Mutex
	pending map[string]chan *didcomm.Plaintext // request id → its reply
	routing did.DID

	live   chan *didcomm.Plaintext
	missed chan struct{} // a live delivery was dropped: pick up

	done    chan struct{} // closed when the reader stopped
	readErr error         // why, set before done is closed
}

// NewClient returns a client over t, and starts reading t. Close it when
// done; closing it closes t.
func NewClient(t Transport, cfg Config) (*Client, error) {
	if cfg.DID.IsZero() || cfg.Mediator.IsZero() {
		return nil, errors.New("mediation: the client's and the mediator's DIDs are needed")
	}
	if cfg.Keys == nil || cfg.Resolver == nil {
		return nil, errors.New("mediation: keys and a resolver are needed")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Batch <= 0 {
		cfg.Batch = defaultBatch
	}
	cfg.Batch = min(cfg.Batch, MaxDeliveryLimit)
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPoll
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{
		t: t, cfg: cfg,
		pending: map[string]chan *didcomm.Plaintext{},
		live:    make(chan *didcomm.Plaintext, liveBuffer),
		missed:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go c.read()
	return c, nil
}

// Close closes the connection. Requests waiting and Run return.
func (c *Client) Close() error {
	err := c.t.Close()
	<-c.done
	return err
}

// RoutingDID returns the DID the mediator granted as the route to the
// client's DIDs, once Connect succeeded.
func (c *Client) RoutingDID() did.DID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.routing
}

// read reads the connection until it fails, and hands each message to the
// request it answers or, for a live delivery, to Run.
func (c *Client) read() {
	var err error
	defer func() {
		c.readErr = err
		close(c.done)
	}()
	for {
		var data []byte
		data, err = c.t.Receive(context.Background())
		if err != nil {
			return
		}
		var msg *didcomm.Plaintext
		if msg, err = c.open(data); err != nil {
			// The connection carries only the mediator's messages: one
			// that does not open means it is not the mediator, or is
			// broken. Run returns the error and the caller reconnects.
			c.t.Close()
			return
		}
		c.dispatch(msg)
	}
}

// open unpacks a message from the connection and checks that the
// mediator authcrypted it to the client.
func (c *Client) open(data []byte) (*didcomm.Plaintext, error) {
	msg, meta, err := didcomm.Unpack(context.Background(), c.cfg.Resolver, c.cfg.Keys, data, c.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidReply, err)
	}
	if meta.EncryptedFrom == "" || msg.From != c.cfg.Mediator {
		return nil, fmt.Errorf("%w: a %s not authcrypted by the mediator", ErrInvalidReply, shortType(msg.Type))
	}
	return msg, nil
}

// dispatch hands msg to the request whose reply it is: a reply names the
// request's thread in thid, a problem report in pthid (report-problem/2.0
// puts the problem in a thread of its own whose parent is the one where it
// arose). A delivery in no request's thread is a live delivery, for Run.
// Anything else (a late reply to a request given up on) is dropped.
func (c *Client) dispatch(msg *didcomm.Plaintext) {
	thread := msg.Thid
	if msg.Type == TypeProblem && msg.Pthid != "" {
		thread = msg.Pthid
	}
	c.mu.Lock()
	ch, ok := c.pending[thread]
	if ok {
		delete(c.pending, thread)
	}
	c.mu.Unlock()
	if ok {
		ch <- msg // buffered, one reply per request
		return
	}
	if msg.Type == TypeDelivery && (msg.Thid == "" || msg.Thid == msg.ID) {
		select {
		case c.live <- msg:
		default:
			select {
			case c.missed <- struct{}{}:
			default:
			}
		}
	}
}

// request sends a message of type typ with body to the mediator and
// returns its reply: the message in its thread, or a *ProblemError.
func (c *Client) request(ctx context.Context, typ string, body any) (*didcomm.Plaintext, error) {
	msg, err := didcomm.NewPlaintext(typ, body, c.cfg.Now())
	if err != nil {
		return nil, err
	}
	msg.From = c.cfg.DID
	msg.To = []did.DID{c.cfg.Mediator}
	msg.Headers = map[string]json.RawMessage{"return_route": json.RawMessage(`"all"`)}
	packed, err := didcomm.Pack(ctx, msg, c.cfg.Mediator, didcomm.PackOptions{
		Resolver: c.cfg.Resolver, Keys: c.cfg.Keys, NoForward: true, Now: c.cfg.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("mediation: packing %s: %w", shortType(typ), err)
	}

	reply := make(chan *didcomm.Plaintext, 1)
	c.mu.Lock()
	c.pending[msg.ID] = reply
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, msg.ID)
		c.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if err := c.send(ctx, packed.Message); err != nil {
		return nil, err
	}
	select {
	case r := <-reply:
		if r.Type == TypeProblem {
			p, err := decodeProblem(r, typ)
			if err != nil {
				return nil, err
			}
			return nil, p
		}
		return r, nil
	case <-c.done:
		return nil, c.connErr()
	case <-ctx.Done():
		return nil, fmt.Errorf("mediation: waiting for the answer to %s: %w", shortType(typ), ctx.Err())
	}
}

func (c *Client) send(ctx context.Context, data []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.t.Send(ctx, data); err != nil {
		return fmt.Errorf("mediation: sending: %w", err)
	}
	return nil
}

// connErr is why the connection ended.
func (c *Client) connErr() error {
	<-c.done
	if c.readErr == nil {
		return ErrClosed
	}
	return fmt.Errorf("mediation: connection: %w", c.readErr)
}

// expect checks that reply is of type want.
func expect(reply *didcomm.Plaintext, want string) error {
	if reply.Type != want {
		return fmt.Errorf("%w: got a %s, want a %s", ErrInvalidReply, shortType(reply.Type), shortType(want))
	}
	return nil
}

// Connect asks the mediator for mediation (mediate-request) and returns
// the DID it routes the client's messages through, its routing DID, which
// the client's DIDs name in their DIDCommMessaging service. Asking again
// is harmless: the mediator grants again. A mediator that will not serve
// the client answers mediate-deny: [ErrDenied].
func (c *Client) Connect(ctx context.Context) (did.DID, error) {
	reply, err := c.request(ctx, TypeMediateRequest, struct{}{})
	if err != nil {
		return did.DID{}, err
	}
	switch reply.Type {
	case TypeMediateDeny:
		return did.DID{}, ErrDenied
	case TypeMediateGrant:
	default:
		return did.DID{}, expect(reply, TypeMediateGrant)
	}
	routing, err := decodeGrant(reply)
	if err != nil {
		return did.DID{}, err
	}
	c.mu.Lock()
	c.routing = routing
	c.mu.Unlock()
	return routing, nil
}

// Register asks the mediator to route to the client the messages
// forwarded to dids (keylist-update, action add). A DID already registered
// by this client is fine; one the mediator refuses (another client holds
// it) makes an error wrapping [ErrKeylist] that names it, after the others
// were registered.
func (c *Client) Register(ctx context.Context, dids ...did.DID) error {
	return c.updateKeylist(ctx, "add", dids)
}

// Unregister asks the mediator to stop routing messages for dids to the
// client (keylist-update, action remove). What waits for them stays
// queued until picked up.
func (c *Client) Unregister(ctx context.Context, dids ...did.DID) error {
	return c.updateKeylist(ctx, "remove", dids)
}

func (c *Client) updateKeylist(ctx context.Context, action string, dids []did.DID) error {
	var failed []string
	for start := 0; start < len(dids); start += MaxKeylistUpdates {
		chunk := dids[start:min(start+MaxKeylistUpdates, len(dids))]
		type update struct {
			RecipientDID string `json:"recipient_did"`
			Action       string `json:"action"`
		}
		updates := make([]update, len(chunk))
		want := make(map[string]bool, len(chunk))
		for i, d := range chunk {
			updates[i] = update{RecipientDID: d.String(), Action: action}
			want[d.String()] = true
		}
		reply, err := c.request(ctx, TypeKeylistUpdate, map[string]any{"updates": updates})
		if err != nil {
			return err
		}
		if err := expect(reply, TypeKeylistResult); err != nil {
			return err
		}
		results, err := decodeKeylistUpdateResponse(reply)
		if err != nil {
			return err
		}
		for _, r := range results {
			if !want[r.DID] || r.Action != action {
				return fmt.Errorf("%w: keylist-update-response reports %s %s, which was not asked", ErrInvalidReply, r.Action, r.DID)
			}
			delete(want, r.DID)
			if r.Result != "success" && r.Result != "no_change" {
				failed = append(failed, r.DID+": "+r.Result)
			}
		}
		for d := range want {
			failed = append(failed, d+": no result")
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s %s", ErrKeylist, action, strings.Join(failed, ", "))
	}
	return nil
}

// Keylist returns the DIDs the mediator routes to the client
// (keylist-query, page by page).
func (c *Client) Keylist(ctx context.Context) ([]did.DID, error) {
	var all []did.DID
	for range maxKeylistPages {
		reply, err := c.request(ctx, TypeKeylistQuery, map[string]any{
			"paginate": map[string]int{"limit": MaxKeylistPage, "offset": len(all)},
		})
		if err != nil {
			return nil, err
		}
		if err := expect(reply, TypeKeylist); err != nil {
			return nil, err
		}
		page, remaining, err := decodeKeylist(reply)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if remaining == 0 {
			return all, nil
		}
		if len(page) == 0 {
			return nil, fmt.Errorf("%w: keylist: an empty page, yet %d remain", ErrInvalidReply, remaining)
		}
	}
	return nil, fmt.Errorf("%w: keylist: more than %d pages", ErrInvalidReply, maxKeylistPages)
}

// Ping checks that the mediator answers on the connection (trust-ping/2.0).
func (c *Client) Ping(ctx context.Context) error {
	reply, err := c.request(ctx, TypePing, map[string]bool{"response_requested": true})
	if err != nil {
		return err
	}
	return expect(reply, TypePingResponse)
}

// status reads a reply that must be a status.
func status(reply *didcomm.Plaintext) (Status, error) {
	if err := expect(reply, TypeStatus); err != nil {
		return Status{}, err
	}
	return decodeStatus(reply)
}

// Status asks the mediator how many messages wait for the client, for all
// its DIDs (status-request).
func (c *Client) Status(ctx context.Context) (Status, error) {
	reply, err := c.request(ctx, TypeStatusRequest, struct{}{})
	if err != nil {
		return Status{}, err
	}
	return status(reply)
}
