package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/jcs"
	"planet/serve/mediator"
)

// The DIDComm message types the load speaks (docs/mediator.md cites their specifications).
const (
	typeBasicMessage   = "https://didcomm.org/basicmessage/2.0/message"
	typeMediateRequest = "https://didcomm.org/coordinate-mediation/2.0/mediate-request"
	typeMediateGrant   = "https://didcomm.org/coordinate-mediation/2.0/mediate-grant"
	typeKeylistUpdate  = "https://didcomm.org/coordinate-mediation/2.0/keylist-update"
	typeKeylistResult  = "https://didcomm.org/coordinate-mediation/2.0/keylist-update-response"
	typeStatus         = "https://didcomm.org/messagepickup/3.0/status"
	typeDelivery       = "https://didcomm.org/messagepickup/3.0/delivery"
	typeReceived       = "https://didcomm.org/messagepickup/3.0/messages-received"
	typeLiveChange     = "https://didcomm.org/messagepickup/3.0/live-delivery-change"
	typeProblem        = "https://didcomm.org/report-problem/2.0/problem-report"
)

// strangers is how many senders' identities the messages come from: people who know a client's
// DID, not the mediator's clients.
const strangers = 8

// agent is a DIDComm party of the load: an identity, its DID, and the keys it reads with.
type agent struct {
	did  did.DID
	keys *didcomm.Keys
}

// mediatorClient is a client of the mediator: its persona, as the mediator knows it, and the
// relationship DID others write to, whose service names the mediator, registered with it.
type mediatorClient struct {
	agent
	rel did.DID
}

// mediatorLoad is the mediator's side of the load: its DID, its clients, and every message,
// packed before anything is timed (as other machines would have packed them).
type mediatorLoad struct {
	base    string // http://127.0.0.1:<port>
	did     did.DID
	n       int
	clients []mediatorClient
	// forwards[j] is what a sender POSTs for message j: a basic message authcrypted to client
	// j % n's relationship DID, in a forward anoncrypted to the mediator.
	forwards [][]byte
	// packed[j] is the message forwards[j] carries, as the forward carries it (JCS), which is
	// what the mediator must deliver; expect finds j by its SHA-256.
	packed [][]byte
	expect map[[sha256.Size]byte]int
	// lastCount is the message_count of each client's latest status.
	lastCount []atomic.Int64
}

// newMediatorLoad learns the mediator's DID from the server at base (GET /didcomm, as anyone
// who knows the server would), makes the clients and packs every message.
func newMediatorLoad(ctx context.Context, base string, cfg config) (*mediatorLoad, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+mediator.Path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking the mediator's DID: %w", err)
	}
	var info struct {
		DID string `json:"did"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s, %v", mediator.Path, resp.Status, err)
	}
	medDID, err := did.Parse(info.DID)
	if err != nil {
		return nil, fmt.Errorf("the mediator's DID: %w", err)
	}
	m := &mediatorLoad{base: base, did: medDID, n: cfg.clients}

	m.clients = make([]mediatorClient, cfg.clients)
	var mu sync.Mutex
	var setupErr error
	fail := func(err error) {
		mu.Lock()
		setupErr = errors.Join(setupErr, err)
		mu.Unlock()
	}
	parallel := runtime.NumCPU()
	forEach(ctx, cfg.clients, parallel, func(i int) {
		c, err := newClient(medDID)
		if err != nil {
			fail(fmt.Errorf("client %d: %w", i, err))
			return
		}
		m.clients[i] = c
	})
	senders := make([]agent, strangers)
	for s := range senders {
		id, err := identity.New(rand.Reader)
		if err != nil {
			return nil, err
		}
		if senders[s], err = newAgent(id, id.DID()); err != nil {
			return nil, err
		}
	}
	if setupErr != nil {
		return nil, setupErr
	}

	total := cfg.clients * cfg.messages
	m.forwards = make([][]byte, total)
	m.packed = make([][]byte, total)
	forEach(ctx, total, parallel, func(j int) {
		fwd, inner, err := m.pack(ctx, senders[j%strangers], j, cfg.size)
		if err != nil {
			fail(fmt.Errorf("message %d: %w", j, err))
			return
		}
		m.forwards[j], m.packed[j] = fwd, inner
	})
	if setupErr != nil {
		return nil, setupErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.expect = make(map[[sha256.Size]byte]int, total)
	for j, p := range m.packed {
		m.expect[sha256.Sum256(p)] = j
	}
	m.lastCount = make([]atomic.Int64, cfg.clients)
	return m, nil
}

// newAgent is id speaking as d.
func newAgent(id *identity.Identity, dids ...did.DID) (agent, error) {
	var docs []*did.Document
	for _, d := range dids {
		doc, err := did.Local.Resolve(context.Background(), d)
		if err != nil {
			return agent{}, err
		}
		docs = append(docs, doc)
	}
	keys, err := didcomm.IdentityKeys(id, docs...)
	if err != nil {
		return agent{}, err
	}
	return agent{did: dids[0], keys: keys}, nil
}

// newClient makes a client of the mediator: a persona (its did:key) and a relationship DID
// (did:peer:2) of the same key whose service names the mediator; it reads what is encrypted to
// either.
func newClient(mediatorDID did.DID) (mediatorClient, error) {
	id, err := identity.New(rand.Reader)
	if err != nil {
		return mediatorClient{}, err
	}
	rel, err := id.Peer2DID(did.DIDCommService(mediatorDID.String()))
	if err != nil {
		return mediatorClient{}, err
	}
	a, err := newAgent(id, id.DID(), rel)
	if err != nil {
		return mediatorClient{}, err
	}
	return mediatorClient{agent: a, rel: rel}, nil
}

// pack makes message j the way any DIDComm sender does: a basic message of size bytes of
// text to client j % n's relationship DID, packed for it, which routes through the mediator
// its service names. It returns the forward to POST and the message inside it.
func (m *mediatorLoad) pack(ctx context.Context, from agent, j, size int) (forward, inner []byte, err error) {
	to := m.clients[j%m.n].rel
	text := fmt.Sprintf("message %d ", j)
	text = (text + strings.Repeat("x", max(size-len(text), 0)))[:size]
	msg, err := didcomm.NewPlaintext(typeBasicMessage, map[string]string{"content": text}, time.Now())
	if err != nil {
		return nil, nil, err
	}
	msg.From = from.did
	msg.To = []did.DID{to}
	packed, err := didcomm.Pack(ctx, msg, to, didcomm.PackOptions{Resolver: did.Local, Keys: from.keys})
	if err != nil {
		return nil, nil, err
	}
	// The mediator's DID names its HTTP and its WebSocket endpoint: a sender POSTs to the first.
	i := slices.IndexFunc(packed.Routes, func(r didcomm.Route) bool { return r.URI == m.base+mediator.Path })
	if i < 0 {
		var uris []string
		for _, r := range packed.Routes {
			uris = append(uris, r.URI)
		}
		return nil, nil, fmt.Errorf("packing for the client's DID: routes to %q, none to %s", uris, m.base+mediator.Path)
	}
	// The forward carries the message as its JSON attachment, canonical (NewForward).
	v, err := jcs.DecodeObject(packed.Message)
	if err != nil {
		return nil, nil, err
	}
	if inner, err = jcs.Encode(v); err != nil {
		return nil, nil, err
	}
	return packed.Routes[i].Message, inner, nil
}

// sizes returns the median sizes of the forwards and of the messages they carry.
func (m *mediatorLoad) sizes() (forward, packed int) {
	median := func(xs [][]byte) int {
		ns := make([]int, len(xs))
		for i, x := range xs {
			ns[i] = len(x)
		}
		slices.Sort(ns)
		return ns[len(ns)/2]
	}
	return median(m.forwards), median(m.packed)
}

func (m *mediatorLoad) wsURL() string {
	return "ws" + strings.TrimPrefix(m.base, "http") + mediator.WebSocketPath
}

func (m *mediatorLoad) post(j int) (string, string, []byte) {
	return m.base + mediator.Path, mediator.MediaTypeEncrypted, m.forwards[j]
}

// message is a message of client i to the mediator, asking for its replies on the same
// connection, packed.
func (m *mediatorLoad) message(i int, typ string, body any) (*didcomm.Plaintext, []byte, error) {
	c := m.clients[i]
	msg, err := didcomm.NewPlaintext(typ, body, time.Now())
	if err != nil {
		return nil, nil, err
	}
	msg.From = c.did
	msg.To = []did.DID{m.did}
	msg.Headers = map[string]json.RawMessage{"return_route": json.RawMessage(`"all"`)}
	packed, err := didcomm.Pack(context.Background(), msg, m.did, didcomm.PackOptions{Resolver: did.Local, Keys: c.keys, NoForward: true})
	if err != nil {
		return nil, nil, err
	}
	return msg, packed.Message, nil
}

// open reads a message from the mediator to client i, which must be authcrypted by the
// mediator; a problem report is an error.
func (m *mediatorLoad) open(i int, data []byte) (*didcomm.Plaintext, error) {
	p, meta, err := didcomm.Unpack(context.Background(), did.Local, m.clients[i].keys, data, time.Now())
	if err != nil {
		return nil, fmt.Errorf("reading the mediator's message: %w", err)
	}
	if meta.EncryptedFrom == "" || p.From != m.did {
		return nil, fmt.Errorf("a %s not authcrypted by the mediator (from %s, skid %q)", p.Type, p.From, meta.EncryptedFrom)
	}
	if p.Type == typeProblem {
		var b struct{ Code, Comment string }
		json.Unmarshal(p.Body, &b)
		return nil, fmt.Errorf("problem report %s: %s", b.Code, b.Comment)
	}
	return p, nil
}

// setup asks for mediation, registers the client's relationship DID and turns live delivery
// on, one message at a time over the WebSocket, checking each answer.
func (m *mediatorLoad) setup(ctx context.Context, i int, ws *websocket.Conn) error {
	deadline, _ := ctx.Deadline()
	steps := []struct {
		typ   string
		body  any
		reply string
		check func(body json.RawMessage) error
	}{
		{typeMediateRequest, struct{}{}, typeMediateGrant, func(b json.RawMessage) error {
			var g struct {
				RoutingDID string `json:"routing_did"`
			}
			if json.Unmarshal(b, &g) != nil || g.RoutingDID != m.did.String() {
				return fmt.Errorf("mediate-grant %s: want routing_did %s", b, m.did)
			}
			return nil
		}},
		{typeKeylistUpdate, map[string]any{"updates": []any{map[string]string{"recipient_did": m.clients[i].rel.String(), "action": "add"}}}, typeKeylistResult, func(b json.RawMessage) error {
			var u struct {
				Updated []struct{ Result string } `json:"updated"`
			}
			if json.Unmarshal(b, &u) != nil || len(u.Updated) != 1 || u.Updated[0].Result != "success" {
				return fmt.Errorf("keylist-update-response %s", b)
			}
			return nil
		}},
		{typeLiveChange, map[string]bool{"live_delivery": true}, typeStatus, func(b json.RawMessage) error {
			var s struct {
				Live  bool `json:"live_delivery"`
				Count *int `json:"message_count"`
			}
			if json.Unmarshal(b, &s) != nil || !s.Live || s.Count == nil || *s.Count != 0 {
				return fmt.Errorf("status after live-delivery-change %s", b)
			}
			return nil
		}},
	}
	for _, s := range steps {
		msg, data, err := m.message(i, s.typ, s.body)
		if err != nil {
			return err
		}
		ws.SetWriteDeadline(deadline)
		if err := ws.WriteMessage(websocket.TextMessage, data); err != nil {
			return err
		}
		ws.SetReadDeadline(deadline)
		_, reply, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for the answer to %s: %w", s.typ, err)
		}
		p, err := m.open(i, reply)
		if err != nil {
			return fmt.Errorf("answering %s: %w", s.typ, err)
		}
		if p.Type != s.reply || p.Thid != msg.ID {
			return fmt.Errorf("%s answered with %s in thread %q", s.typ, p.Type, p.Thid)
		}
		if err := s.check(p.Body); err != nil {
			return err
		}
	}
	// From now on the reader waits as long as the run does.
	ws.SetReadDeadline(time.Time{})
	return nil
}

// receive reads a live delivery, which must carry exactly one message, the one a sender
// forwarded for this client, byte for byte; and answers it with messages-received. A status is
// the answer to an acknowledgement.
func (m *mediatorLoad) receive(i int, kind int, data []byte) (event, error) {
	p, err := m.open(i, data)
	if err != nil {
		return event{}, err
	}
	switch p.Type {
	case typeDelivery:
		if len(p.Attachments) != 1 {
			return event{}, fmt.Errorf("a live delivery of %d attachments", len(p.Attachments))
		}
		a := p.Attachments[0]
		msg, err := base64.RawURLEncoding.DecodeString(a.Data.Base64)
		if err != nil {
			return event{}, fmt.Errorf("delivery attachment %s: %w", a.ID, err)
		}
		j, ok := m.expect[sha256.Sum256(msg)]
		if !ok {
			return event{}, fmt.Errorf("delivery attachment %s: not a message any sender forwarded, or altered on the way", a.ID)
		}
		_, ack, err := m.message(i, typeReceived, map[string]any{"message_id_list": []string{a.ID}})
		if err != nil {
			return event{}, err
		}
		return event{delivered: j, ack: ack}, nil
	case typeStatus:
		var s struct {
			Count *int64 `json:"message_count"`
		}
		if json.Unmarshal(p.Body, &s) != nil || s.Count == nil {
			return event{}, fmt.Errorf("a status without message_count: %s", p.Body)
		}
		m.lastCount[i].Store(*s.Count)
		return event{delivered: -1}, nil
	}
	return event{}, fmt.Errorf("an unexpected %s", p.Type)
}

// check: once every message was acknowledged, nothing waits for the client.
func (m *mediatorLoad) check(i int) error {
	if n := m.lastCount[i].Load(); n != 0 {
		return fmt.Errorf("%d messages still wait after the last acknowledgement", n)
	}
	return nil
}

// floorLoad is the floor's side of the load: the same clients, by number, and the same
// forwards, which the floor delivers as they are.
type floorLoad struct {
	base     string
	n        int
	forwards [][]byte
	expect   map[[sha256.Size]byte]int
}

func newFloorLoad(base string, n int, forwards [][]byte) *floorLoad {
	f := &floorLoad{base: base, n: n, forwards: forwards, expect: make(map[[sha256.Size]byte]int, len(forwards))}
	for j, p := range forwards {
		f.expect[sha256.Sum256(p)] = j
	}
	return f
}

func (f *floorLoad) wsURL() string {
	return "ws" + strings.TrimPrefix(f.base, "http") + floorWSPath
}

func (f *floorLoad) post(j int) (string, string, []byte) {
	return f.base + floorPostPath + "?to=" + strconv.Itoa(j%f.n), "application/octet-stream", f.forwards[j]
}

func (f *floorLoad) setup(ctx context.Context, i int, ws *websocket.Conn) error {
	deadline, _ := ctx.Deadline()
	ws.SetWriteDeadline(deadline)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello "+strconv.Itoa(i))); err != nil {
		return err
	}
	ws.SetReadDeadline(deadline)
	kind, reply, err := ws.ReadMessage()
	if err != nil {
		return fmt.Errorf("waiting for the answer to hello: %w", err)
	}
	if kind != websocket.TextMessage || string(reply) != floorOK {
		return fmt.Errorf("hello answered with %q", reply)
	}
	ws.SetReadDeadline(time.Time{})
	return nil
}

// receive reads a delivery, which must carry the bytes a sender posted for this client, or the
// answer to an acknowledgement.
func (f *floorLoad) receive(i int, kind int, data []byte) (event, error) {
	if kind == websocket.TextMessage {
		if _, err := parseFloorStatus(data); err != nil {
			return event{}, err
		}
		return event{delivered: -1}, nil
	}
	id, msg, err := parseFloorDelivery(data)
	if err != nil {
		return event{}, err
	}
	j, ok := f.expect[sha256.Sum256(msg)]
	if !ok {
		return event{}, fmt.Errorf("delivery %d: not a message any sender posted, or altered on the way", id)
	}
	return event{delivered: j, ack: []byte("ack " + strconv.FormatUint(id, 10))}, nil
}

func (f *floorLoad) check(int) error { return nil }
