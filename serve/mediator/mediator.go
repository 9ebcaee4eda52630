// Package mediator is the server's DIDComm v2 mediator (docs/mediator.md): it holds encrypted
// DIDComm messages for the people who use it until they pick them up, so that anyone on the
// First Person Network can write to a PLANET user whose tab is closed.
//
// It is a DIDComm party of its own, with its own DID and keys (kept in <data>/mediator.key), and
// speaks coordinate-mediation 2.0 (a client asks for mediation and registers the DIDs it receives
// at), routing 2.0 (anyone forwards an encrypted message for a registered DID), messagepickup 3.0
// (the client fetches and acknowledges what waits, or has it delivered live over a WebSocket)
// and trust-ping 2.0. Messages wait in a bbolt file (<data>/mediator.db) within quotas, survive
// restarts and are deleted once acknowledged or after the retention period. It never sees a
// message's content: what it stores is still encrypted to the recipient.
//
// [Open] opens it; [Mediator.Handler] serves HTTP POST and WebSocket.
package mediator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/mediation"
)

// Defaults of Config.
const (
	defaultMaxMessages    = 1000
	defaultMaxBytes       = 16 << 20
	defaultMaxTotalBytes  = 1 << 30
	defaultMaxMessage     = 256 << 10
	defaultMaxClients     = 100_000
	defaultMaxPerSender   = 100
	defaultMaxSenderBytes = 2 << 20
	defaultMaxKeys        = 10_000
	defaultRetention      = 30 * 24 * time.Hour
)

// Config holds the mediator's limits. A zero field takes its default.
type Config struct {
	// MaxMessages and MaxBytes bound one client's queue; each message
	// counts its bytes and messageOverhead.
	MaxMessages int
	MaxBytes    int64
	// MaxTotalBytes bounds all queues together.
	MaxTotalBytes int64
	// MaxMessage is the largest message the mediator reads, in bytes.
	MaxMessage int
	// MaxPerSender and MaxBytesPerSender bound what one sender may have
	// waiting in one client's queue, so that one stranger cannot fill it:
	// the sender is the DID an authcrypted message names as its sender
	// (skid), and every anonymous message counts as one sender together.
	MaxPerSender      int
	MaxBytesPerSender int64
	// MaxClients bounds how many clients may be granted mediation, and
	// MaxKeys how many DIDs one client may register.
	MaxClients int
	MaxKeys    int
	// Retention is how long a message waits before it is dropped unread.
	Retention time.Duration

	// now is the clock; nil means time.Now. Tests move it.
	now func() time.Time
}

// AddFlags adds the mediator's flags to fs.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxMessages, "mediator-max-messages", defaultMaxMessages, "most `messages` waiting for one client of the DIDComm mediator")
	fs.Int64Var(&c.MaxBytes, "mediator-max-bytes", defaultMaxBytes, "most `bytes` of messages waiting for one client (each counts 256 bytes more)")
	fs.Int64Var(&c.MaxTotalBytes, "mediator-max-total-bytes", defaultMaxTotalBytes, "most `bytes` of messages waiting in the whole mediator")
	fs.IntVar(&c.MaxPerSender, "mediator-max-per-sender", defaultMaxPerSender, "most `messages` of one sender waiting for one client (anonymous messages count as one sender)")
	fs.Int64Var(&c.MaxBytesPerSender, "mediator-max-bytes-per-sender", defaultMaxSenderBytes, "most `bytes` of one sender's messages waiting for one client")
	fs.IntVar(&c.MaxMessage, "mediator-max-message", defaultMaxMessage, "largest DIDComm message the mediator reads, in `bytes`")
	fs.DurationVar(&c.Retention, "mediator-retention", defaultRetention, "how long a message waits before it is dropped unread (`duration`)")
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxPerSender < 0 || c.MaxBytesPerSender < 0 || c.MaxMessages < 0 || c.MaxBytes < 0 || c.MaxTotalBytes < 0 || c.MaxMessage < 0 || c.MaxClients < 0 || c.MaxKeys < 0 || c.Retention < 0 {
		return c, errors.New("mediator: limits must not be negative")
	}
	set := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	set(&c.MaxMessages, defaultMaxMessages)
	set(&c.MaxPerSender, defaultMaxPerSender)
	if c.MaxBytesPerSender == 0 {
		c.MaxBytesPerSender = defaultMaxSenderBytes
	}
	set(&c.MaxMessage, defaultMaxMessage)
	set(&c.MaxClients, defaultMaxClients)
	set(&c.MaxKeys, defaultMaxKeys)
	if c.MaxBytes == 0 {
		c.MaxBytes = defaultMaxBytes
	}
	if c.MaxTotalBytes == 0 {
		c.MaxTotalBytes = defaultMaxTotalBytes
	}
	if c.Retention == 0 {
		c.Retention = defaultRetention
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Mediator is the server's DIDComm mediator.
type Mediator struct {
	cfg   Config
	store *store
	agent *agent
	log   *slog.Logger

	mu   sync.Mutex
	live map[string]map[*conn]struct{} // client DID → its connections in live mode
	// sockets are the open WebSockets, closed by Close: a hijacked
	// connection outlives the HTTP server, and a client left on one would
	// talk to a closed store instead of reconnecting.
	sockets map[*websocket.Conn]struct{}
	closed  bool

	stopSweep chan struct{}
	swept     chan struct{}
}

// conn is one connection a client talks over: an HTTP request, or a
// WebSocket for as long as it stays open.
type conn struct {
	// persistent: a WebSocket, which can take live deliveries.
	persistent bool
	// push hands the connection a message to write without waiting; it
	// reports false if the connection cannot take it now (its queue is
	// full, or it closed). nil for HTTP.
	push func([]byte) bool

	// Set by the mediator as messages arrive on the connection.
	client      string // the authenticated client, once one has spoken
	returnRoute bool   // "return_route":"all" was asked on this WebSocket
	liveMode    bool
}

// Open opens the mediator with its keys and store in the data directory dir
// (created by the caller), reachable at the given endpoints (the URLs of
// its HTTP POST and WebSocket handlers, as clients elsewhere reach them),
// which its DID's service names.
func Open(dir string, endpoints Endpoints, cfg Config, log *slog.Logger) (*Mediator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a, err := openAgent(dir, endpoints)
	if err != nil {
		return nil, err
	}
	st, err := openStore(storePath(dir), cfg)
	if err != nil {
		return nil, err
	}
	expired, err := st.expire(cfg.now().Add(-cfg.Retention))
	if err != nil {
		st.close()
		return nil, fmt.Errorf("mediator: expiring old messages: %w", err)
	}
	u, err := st.totals()
	if err != nil {
		st.close()
		return nil, err
	}
	log.Info("DIDComm mediator open", "did", a.did.String(), "messages", u.messages, "bytes", u.bytes, "expired", expired)
	m := &Mediator{
		cfg: cfg, store: st, agent: a, log: log,
		live:      map[string]map[*conn]struct{}{},
		stopSweep: make(chan struct{}),
		swept:     make(chan struct{}),
	}
	go m.sweep()
	return m, nil
}

// DID returns the mediator's DID, which clients put in their DIDs'
// DIDCommMessaging services.
func (m *Mediator) DID() string { return m.agent.did.String() }

// Close stops the mediator and closes its store. Handlers still running
// fail their requests.
func (m *Mediator) Close() error {
	close(m.stopSweep)
	<-m.swept
	m.mu.Lock()
	m.closed = true
	for ws := range m.sockets {
		ws.Close()
	}
	m.mu.Unlock()
	return m.store.close()
}

// track keeps ws among the sockets Close closes; it reports false, having
// closed ws, once the mediator is closed.
func (m *Mediator) track(ws *websocket.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		ws.Close()
		return false
	}
	if m.sockets == nil {
		m.sockets = map[*websocket.Conn]struct{}{}
	}
	m.sockets[ws] = struct{}{}
	return true
}

func (m *Mediator) untrack(ws *websocket.Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sockets, ws)
}

func (m *Mediator) sweep() {
	defer close(m.swept)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-m.stopSweep:
			return
		case <-t.C:
			if n, err := m.store.expire(m.cfg.now().Add(-m.cfg.Retention)); err != nil {
				m.log.Warn("mediator: expiring messages", "err", err)
			} else if n > 0 {
				m.log.Info("mediator: dropped messages past retention", "messages", n)
			}
		}
	}
}

// errRefused wraps what the mediator refuses from a sender it cannot
// answer (an anonymous forward, a message it cannot decrypt): the transport
// says so in its own terms (an HTTP status) and nothing else happens.
var errRefused = errors.New("mediator refused the message")

// receive handles one message that arrived on c, and returns the packed
// replies to send back on the same connection, if the client asked for
// replies there.
func (m *Mediator) receive(ctx context.Context, c *conn, data []byte) ([][]byte, error) {
	msg, meta, sender, err := m.agent.unpack(data, m.cfg.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errRefused, err)
	}
	if meta.Forward != nil {
		// A forward may be anonymous: whoever sends it need not be known here.
		return nil, m.forward(meta.Forward)
	}
	if sender == "" {
		return nil, fmt.Errorf("%w: a %s must be authcrypted by its sender, so that the mediator knows whom it answers", errRefused, msg.Type)
	}
	if c.client != "" && c.client != sender {
		return nil, fmt.Errorf("%w: this connection speaks for %s, not %s", errRefused, c.client, sender)
	}
	c.client = sender
	asked := returnRouteAll(msg)
	if asked {
		c.returnRoute = true
	}
	reply, err := m.answer(ctx, c, sender, msg)
	var p *problem
	if errors.As(err, &p) {
		reply, err = m.problemReport(msg, p)
	}
	if err != nil || reply == nil {
		return nil, err
	}
	if !c.returnRoute && !asked {
		// The client gave no way back: the mediator sends nothing to
		// endpoints of its own choosing.
		m.log.Debug("mediator: reply dropped, no return route", "type", reply.Type, "client", sender)
		return nil, nil
	}
	packed, err := m.agent.pack(reply, sender, m.cfg.now())
	if err != nil {
		return nil, err
	}
	return [][]byte{packed}, nil
}

// answer handles an authenticated client's message and returns the reply.
func (m *Mediator) answer(ctx context.Context, c *conn, client string, msg *didcomm.Plaintext) (*didcomm.Plaintext, error) {
	if msg.Type == mediation.TypePing {
		var b pingBody
		if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
			return nil, err
		}
		if !b.ResponseRequested {
			return nil, nil
		}
		return m.reply(msg, mediation.TypePingResponse, struct{}{})
	}
	if msg.Type == mediation.TypeMediateRequest {
		if err := m.store.grant(client, m.cfg.now()); err != nil {
			if errors.Is(err, errQueueFull) {
				return m.reply(msg, mediation.TypeMediateDeny, struct{}{})
			}
			return nil, err
		}
		return m.reply(msg, mediation.TypeMediateGrant, mediateGrantBody{RoutingDID: m.DID()})
	}
	switch msg.Type {
	case mediation.TypeKeylistUpdate, mediation.TypeKeylistQuery, mediation.TypeStatusRequest, mediation.TypeDeliveryRequest, mediation.TypeReceived, mediation.TypeLiveChange:
	default:
		return nil, problemf("e.p.msg.unsupported", "the mediator does not handle %s", msg.Type)
	}
	ok, err := m.store.granted(client)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, problemf("e.p.req.not-granted", "%s has not been granted mediation: send a mediate-request first", client)
	}
	switch msg.Type {
	case mediation.TypeKeylistUpdate:
		return m.keylistUpdate(client, msg)
	case mediation.TypeKeylistQuery:
		return m.keylistQuery(client, msg)
	case mediation.TypeStatusRequest:
		var b statusRequestBody
		if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
			return nil, err
		}
		return m.status(c, client, b.RecipientDID, msg)
	case mediation.TypeDeliveryRequest:
		return m.deliveryRequest(c, client, msg)
	case mediation.TypeReceived:
		var b receivedBody
		if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
			return nil, err
		}
		if len(b.MessageIDList) > mediation.MaxAcks {
			return nil, problemf("e.p.msg.too-many", "a messages-received may list at most %d ids", mediation.MaxAcks)
		}
		if err := m.store.remove(client, b.MessageIDList); err != nil {
			return nil, err
		}
		return m.status(c, client, "", msg)
	default: // mediation.TypeLiveChange
		var b liveChangeBody
		if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
			return nil, err
		}
		if b.LiveDelivery == nil {
			return nil, problemf("e.p.msg.bad-body", "live-delivery-change needs live_delivery, true or false")
		}
		if *b.LiveDelivery && !c.persistent {
			return nil, problemf("e.m.live-mode-not-supported", "Connection does not support Live Delivery")
		}
		m.setLive(c, client, *b.LiveDelivery)
		return m.status(c, client, "", msg)
	}
}

func (m *Mediator) keylistUpdate(client string, msg *didcomm.Plaintext) (*didcomm.Plaintext, error) {
	var b keylistUpdateBody
	if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
		return nil, err
	}
	if len(b.Updates) == 0 || len(b.Updates) > mediation.MaxKeylistUpdates {
		return nil, problemf("e.p.msg.bad-body", "a keylist-update carries 1 to %d updates", mediation.MaxKeylistUpdates)
	}
	updated := make([]keylistUpdated, 0, len(b.Updates))
	for _, u := range b.Updates {
		r := keylistUpdated{RecipientDID: u.RecipientDID, Action: u.Action}
		recipient, err := recipientDID(u.RecipientDID)
		switch {
		case err != nil:
			r.Result = resultClientError
		case u.Action == "add":
			r.Result, err = m.store.addKey(client, recipient)
		case u.Action == "remove":
			r.Result, err = m.store.removeKey(client, recipient)
		default:
			r.Result = resultClientError
		}
		if err != nil && r.Result != resultClientError {
			if errors.Is(err, errTaken) {
				r.Result = resultClientError
			} else {
				m.log.Warn("mediator: keylist update", "client", client, "err", err)
				r.Result = resultServerError
			}
		}
		updated = append(updated, r)
	}
	return m.reply(msg, mediation.TypeKeylistResult, map[string]any{"updated": updated})
}

func (m *Mediator) keylistQuery(client string, msg *didcomm.Plaintext) (*didcomm.Plaintext, error) {
	var b keylistQueryBody
	if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
		return nil, err
	}
	offset, limit := 0, mediation.MaxKeylistPage
	if b.Paginate != nil {
		if b.Paginate.Offset < 0 || b.Paginate.Limit < 1 {
			return nil, problemf("e.p.msg.bad-body", "paginate needs a limit of at least 1 and an offset of at least 0")
		}
		offset, limit = b.Paginate.Offset, min(b.Paginate.Limit, mediation.MaxKeylistPage)
	}
	dids, total, err := m.store.keys(client, offset, limit)
	if err != nil {
		return nil, err
	}
	body := keylistBody{Keys: make([]keylistKey, len(dids))}
	for i, d := range dids {
		body.Keys[i] = keylistKey{RecipientDID: d}
	}
	body.Pagination = pagination{Count: len(dids), Offset: offset, Remaining: max(total-offset-len(dids), 0)}
	return m.reply(msg, mediation.TypeKeylist, body)
}

func (m *Mediator) status(c *conn, client, recipient string, msg *didcomm.Plaintext) (*didcomm.Plaintext, error) {
	if recipient != "" {
		r, err := m.ownRecipient(client, recipient)
		if err != nil {
			return nil, err
		}
		recipient = r
	}
	s, err := m.store.status(client, recipient)
	if err != nil {
		return nil, err
	}
	return m.reply(msg, mediation.TypeStatus, statusOf(s, recipient, c.liveMode, m.cfg.now()))
}

func (m *Mediator) deliveryRequest(c *conn, client string, msg *didcomm.Plaintext) (*didcomm.Plaintext, error) {
	var b deliveryRequestBody
	if err := decodeBody(msg.Type, msg.Body, &b); err != nil {
		return nil, err
	}
	if b.Limit == nil || *b.Limit < 1 {
		return nil, problemf("e.p.msg.bad-body", "delivery-request needs a limit of at least 1")
	}
	recipient := ""
	if b.RecipientDID != "" {
		r, err := m.ownRecipient(client, b.RecipientDID)
		if err != nil {
			return nil, err
		}
		recipient = r
	}
	waiting, err := m.store.waiting(client, recipient, min(*b.Limit, mediation.MaxDeliveryLimit), maxDeliveryBytes)
	if err != nil {
		return nil, err
	}
	if len(waiting) == 0 {
		return m.status(c, client, b.RecipientDID, msg)
	}
	reply, err := m.reply(msg, mediation.TypeDelivery, deliveryBody{RecipientDID: b.RecipientDID})
	if err != nil {
		return nil, err
	}
	reply.Attachments = deliveryAttachments(waiting)
	return reply, nil
}

func deliveryAttachments(waiting []queued) []didcomm.Attachment {
	atts := make([]didcomm.Attachment, len(waiting))
	for i, q := range waiting {
		atts[i] = didcomm.Attachment{ID: q.ID, Data: didcomm.AttachmentData{Base64: base64.RawURLEncoding.EncodeToString(q.Message)}}
	}
	return atts
}

// returnRouteAll reports whether msg asks for replies on the connection it
// came over (the return_route extension, "all").
func returnRouteAll(msg *didcomm.Plaintext) bool {
	var v string
	return json.Unmarshal(msg.Headers["return_route"], &v) == nil && v == "all"
}

// ownRecipient checks that recipient is one of client's DIDs, so that a
// client cannot learn about another's queue.
func (m *Mediator) ownRecipient(client, recipient string) (string, error) {
	r, err := recipientDID(recipient)
	if err != nil {
		return "", problemf("e.p.msg.bad-body", "recipient_did: %v", err)
	}
	owner, err := m.store.route(r)
	if err != nil || owner != client {
		return "", problemf("e.p.req.not-yours", "%s is not in your keylist", recipient)
	}
	return r, nil
}

// forward queues the message a forward carries for its next recipient,
// and delivers it at once to the recipient's connections in live mode.
func (m *Mediator) forward(f *didcomm.Forward) error {
	recipient, err := recipientDID(f.Next)
	if err != nil {
		return fmt.Errorf("%w: forward: next: %w", errRefused, err)
	}
	inner := []byte(f.Payload)
	if err := didcomm.CheckEncrypted(inner); err != nil {
		return fmt.Errorf("%w: forward: %w", errRefused, err)
	}
	client, err := m.store.route(recipient)
	if err != nil {
		return fmt.Errorf("%w: forward to %s: %w", errRefused, f.Next, err)
	}
	id, err := m.store.enqueue(client, recipient, senderOf(inner), inner, m.cfg.now())
	if err != nil {
		if errors.Is(err, errQueueFull) {
			return fmt.Errorf("%w: forward to %s: %w", errRefused, f.Next, err)
		}
		return err
	}
	m.deliverLive(client, queued{ID: id, Recipient: recipient, Message: inner})
	return nil
}

// senderOf returns the DID an encrypted message names as its sender (the
// DID part of its authcrypt skid), or "" for an anonymous one. The mediator
// cannot check it (only the recipient can), so a sender could name another
// DID: the per-sender limit makes one flood count against one name, and a
// flood under many names against the queue's own limit, no more.
func senderOf(jwe []byte) string {
	var env struct {
		Protected string `json:"protected"`
	}
	if json.Unmarshal(jwe, &env) != nil {
		return ""
	}
	hdr, err := base64.RawURLEncoding.DecodeString(env.Protected)
	if err != nil {
		return ""
	}
	var h struct {
		SKID string `json:"skid"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.SKID == "" {
		return ""
	}
	d, err := recipientDID(h.SKID)
	if err != nil {
		return ""
	}
	return d
}

// setLive turns live mode on or off for c.
func (m *Mediator) setLive(c *conn, client string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.liveMode = on
	set := m.live[client]
	if on {
		if set == nil {
			set = map[*conn]struct{}{}
			m.live[client] = set
		}
		set[c] = struct{}{}
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(m.live, client)
	}
}

// forget drops c from live mode when it closes.
func (m *Mediator) forget(c *conn) {
	if c.client != "" {
		m.setLive(c, c.client, false)
	}
}

// deliverLive hands a message that just arrived to client's connections in
// live mode, as a delivery of one attachment. The message stays queued until
// the client acknowledges it, so a connection that drops loses nothing; a
// connection too slow to take it now picks it up later.
func (m *Mediator) deliverLive(client string, q queued) {
	m.mu.Lock()
	conns := make([]*conn, 0, len(m.live[client]))
	for c := range m.live[client] {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	msg, err := m.newMessage(mediation.TypeDelivery, deliveryBody{})
	if err != nil {
		m.log.Warn("mediator: live delivery", "err", err)
		return
	}
	msg.Attachments = deliveryAttachments([]queued{q})
	packed, err := m.agent.pack(msg, client, m.cfg.now())
	if err != nil {
		m.log.Warn("mediator: live delivery", "client", client, "err", err)
		return
	}
	for _, c := range conns {
		c.push(packed)
	}
}

// reply builds the answer to msg: from the mediator, to msg's sender, in
// msg's thread.
func (m *Mediator) reply(to *didcomm.Plaintext, typ string, body any) (*didcomm.Plaintext, error) {
	r, err := m.newMessage(typ, body)
	if err != nil {
		return nil, err
	}
	r.To = []did.DID{to.From}
	r.Thid = to.ThreadID()
	return r, nil
}

func (m *Mediator) newMessage(typ string, body any) (*didcomm.Plaintext, error) {
	p, err := didcomm.NewPlaintext(typ, body, m.cfg.now())
	if err != nil {
		return nil, err
	}
	p.From = m.agent.did
	return p, nil
}

// problemReport is the report of p to the sender of msg, in msg's thread as
// report-problem 2.0 asks (pthid: the thread where the problem arose).
func (m *Mediator) problemReport(msg *didcomm.Plaintext, p *problem) (*didcomm.Plaintext, error) {
	r, err := m.newMessage(mediation.TypeProblem, problemBody{Code: p.code, Comment: p.comment})
	if err != nil {
		return nil, err
	}
	r.To = []did.DID{msg.From}
	r.Pthid = msg.ThreadID()
	return r, nil
}
