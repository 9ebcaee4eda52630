package mediator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/mediation"
)

// server is a mediator behind a real HTTP server on loopback.
type server struct {
	*Mediator
	url, ws string
	dir     string
	http    *httptest.Server
}

// startServer starts a mediator with its data in dir (a new temporary
// directory if "").
func startServer(t *testing.T, dir string, cfg Config) *server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	ep := Endpoints{HTTP: base + Path, WebSocket: "ws://" + hs.Listener.Addr().String() + WebSocketPath}
	m, err := Open(dir, ep, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = m.Handler()
	hs.Start()
	s := &server{Mediator: m, url: ep.HTTP, ws: ep.WebSocket, dir: dir, http: hs}
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.http != nil {
		s.http.Close()
		s.Mediator.Close()
		s.http = nil
	}
}

// party is someone on the network: a persona key, a DID, the keys to read
// what is encrypted to it.
type party struct {
	t    *testing.T
	id   *identity.Identity
	did  did.DID
	keys *didcomm.Keys
}

func newParty(t *testing.T, services ...did.Service) *party {
	t.Helper()
	id, err := identity.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := id.DID()
	if len(services) > 0 {
		if d, err = id.Peer2DID(services...); err != nil {
			t.Fatal(err)
		}
	}
	return &party{t: t, id: id, did: d, keys: keysFor(t, id, d)}
}

// message is a message of p to the mediator that asks for its reply on the
// same connection.
func (p *party) message(s *server, typ string, body any) *didcomm.Plaintext {
	p.t.Helper()
	msg, err := didcomm.NewPlaintext(typ, body, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	msg.From = p.did
	msg.To = []did.DID{s.agent.did}
	msg.Headers = map[string]json.RawMessage{"return_route": json.RawMessage(`"all"`)}
	return msg
}

// pack authcrypts msg from p to the mediator (or anoncrypts it).
func (p *party) pack(s *server, msg *didcomm.Plaintext, anonymous bool) []byte {
	p.t.Helper()
	packed, err := didcomm.Pack(context.Background(), msg, s.agent.did, didcomm.PackOptions{
		Resolver: did.Local, Keys: p.keys, Anonymous: anonymous, NoForward: true,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return packed.Message
}

// post sends data to the mediator over HTTP and returns the status and body.
func post(t *testing.T, url string, data []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, MediaTypeEncrypted, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST answered without Access-Control-Allow-Origin: *")
	}
	return resp.StatusCode, body
}

// ask sends p's message over HTTP and returns the mediator's reply, read
// as p.
func (p *party) ask(s *server, typ string, body any) *didcomm.Plaintext {
	p.t.Helper()
	code, reply := post(p.t, s.url, p.pack(s, p.message(s, typ, body), false))
	if code != http.StatusOK {
		p.t.Fatalf("%s: HTTP %d: %s", typ, code, reply)
	}
	return p.read(s, reply)
}

// read unpacks a message from the mediator and checks that the mediator
// authenticated it.
func (p *party) read(s *server, data []byte) *didcomm.Plaintext {
	p.t.Helper()
	msg, meta, err := didcomm.Unpack(context.Background(), did.Local, p.keys, data, time.Now())
	if err != nil {
		p.t.Fatalf("reading the mediator's reply: %v", err)
	}
	if meta.EncryptedFrom == "" || msg.From != s.agent.did {
		p.t.Fatalf("the reply is not authcrypted by the mediator: from %v, skid %q", msg.From, meta.EncryptedFrom)
	}
	return msg
}

func body[T any](t *testing.T, msg *didcomm.Plaintext, want string) T {
	t.Helper()
	if msg.Type != want {
		t.Fatalf("got a %s (%s), want a %s", msg.Type, msg.Body, want)
	}
	var v T
	if err := json.Unmarshal(msg.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// recipient is a client of the mediator: a persona that asked for
// mediation, and a relationship DID whose service names the mediator,
// registered with it.
type recipient struct {
	*party        // the client, as the mediator knows it
	rel    *party // the DID others write to
}

func newRecipient(t *testing.T, s *server) *recipient {
	t.Helper()
	client := newParty(t)
	grant := body[mediateGrantBody](t, client.ask(s, mediation.TypeMediateRequest, struct{}{}), mediation.TypeMediateGrant)
	if grant.RoutingDID != s.DID() {
		t.Fatalf("routing_did = %q, want the mediator's DID", grant.RoutingDID)
	}
	// The relationship DID is the same persona's key with a service naming
	// the mediator; the client reads what is encrypted to either.
	relDID, err := client.id.Peer2DID(did.DIDCommService(grant.RoutingDID))
	if err != nil {
		t.Fatal(err)
	}
	rel := &party{t: t, id: client.id, did: relDID, keys: keysFor(t, client.id, client.did, relDID)}
	client.keys = rel.keys
	updated := body[struct{ Updated []keylistUpdated }](t,
		client.ask(s, mediation.TypeKeylistUpdate, map[string]any{"updates": []any{map[string]string{"recipient_did": rel.did.String(), "action": "add"}}}),
		mediation.TypeKeylistResult)
	if len(updated.Updated) != 1 || updated.Updated[0].Result != resultSuccess {
		t.Fatalf("keylist-update-response = %+v", updated)
	}
	return &recipient{party: client, rel: rel}
}

// keysFor returns a keyring with id's key under the key agreement kids of
// each of the DIDs.
func keysFor(t *testing.T, id *identity.Identity, dids ...did.DID) *didcomm.Keys {
	t.Helper()
	var docs []*did.Document
	for _, d := range dids {
		doc, err := did.Local.Resolve(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	k, err := didcomm.IdentityKeys(id, docs...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// send has a stranger write text to r's relationship DID, the way any
// DIDComm sender does: pack for the DID, which routes through the
// mediator its service names, and POST the forward there.
func send(t *testing.T, from *party, to did.DID, text string) (status int, reply string) {
	t.Helper()
	msg, err := didcomm.NewPlaintext("https://didcomm.org/basicmessage/2.0/message", map[string]string{"content": text}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg.From = from.did
	msg.To = []did.DID{to}
	packed, err := didcomm.Pack(context.Background(), msg, to, didcomm.PackOptions{Resolver: did.Local, Keys: from.keys})
	if err != nil {
		t.Fatal(err)
	}
	if len(packed.Routes) == 0 {
		t.Fatal("Pack found no route to the recipient")
	}
	code, b := post(t, packed.Routes[0].URI, packed.Routes[0].Message)
	return code, string(b)
}

// pickup has r fetch what waits, read each message, and acknowledge them.
func (r *recipient) pickup(s *server) []string {
	r.t.Helper()
	reply := r.ask(s, mediation.TypeDeliveryRequest, map[string]any{"limit": 10})
	if reply.Type == mediation.TypeStatus {
		return nil
	}
	body[deliveryBody](r.t, reply, mediation.TypeDelivery)
	var texts, ids []string
	for _, a := range reply.Attachments {
		texts = append(texts, r.open(a))
		ids = append(ids, a.ID)
	}
	st := body[statusBody](r.t, r.ask(s, mediation.TypeReceived, map[string]any{"message_id_list": ids}), mediation.TypeStatus)
	if st.MessageCount != 0 {
		r.t.Fatalf("after messages-received, %d messages wait", st.MessageCount)
	}
	return texts
}

// open reads a delivered basic message.
func (r *recipient) open(a didcomm.Attachment) string {
	r.t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(a.Data.Base64)
	if err != nil {
		r.t.Fatalf("attachment %s: %v", a.ID, err)
	}
	msg, _, err := didcomm.Unpack(context.Background(), did.Local, r.rel.keys, data, time.Now())
	if err != nil {
		r.t.Fatalf("reading a delivered message: %v", err)
	}
	var b struct{ Content string }
	json.Unmarshal(msg.Body, &b)
	return b.Content
}

func TestMediatorOverHTTP(t *testing.T) {
	s := startServer(t, "", Config{})
	bob := newRecipient(t, s)
	alice := newParty(t)

	keys := body[keylistBody](t, bob.ask(s, mediation.TypeKeylistQuery, struct{}{}), mediation.TypeKeylist)
	if len(keys.Keys) != 1 || keys.Keys[0].RecipientDID != bob.rel.did.String() || keys.Pagination.Remaining != 0 {
		t.Fatalf("keylist = %+v", keys)
	}
	if st := body[statusBody](t, bob.ask(s, mediation.TypeStatusRequest, struct{}{}), mediation.TypeStatus); st.MessageCount != 0 {
		t.Fatalf("status before anything arrived: %+v", st)
	}
	for _, text := range []string{"Tea at five?", "Or six."} {
		if code, reply := send(t, alice, bob.rel.did, text); code != http.StatusAccepted {
			t.Fatalf("forward: HTTP %d: %s", code, reply)
		}
	}
	st := body[statusBody](t, bob.ask(s, mediation.TypeStatusRequest, map[string]string{"recipient_did": bob.rel.did.String()}), mediation.TypeStatus)
	if st.MessageCount != 2 || st.RecipientDID != bob.rel.did.String() || st.TotalBytes == 0 || st.OldestReceivedTime == 0 {
		t.Fatalf("status = %+v", st)
	}
	if got := bob.pickup(s); strings.Join(got, "|") != "Tea at five?|Or six." {
		t.Fatalf("picked up %q", got)
	}
	if got := bob.pickup(s); got != nil {
		t.Fatalf("picked up %q after acknowledging everything", got)
	}

	ping := bob.message(s, mediation.TypePing, map[string]bool{"response_requested": true})
	code, reply := post(t, s.url, bob.pack(s, ping, false))
	if code != http.StatusOK {
		t.Fatalf("ping: HTTP %d", code)
	}
	if pong := bob.read(s, reply); pong.Type != mediation.TypePingResponse || pong.Thid != ping.ID {
		t.Fatalf("ping answered with %s in thread %q", pong.Type, pong.Thid)
	}

	// The DID and its document, for anyone who knows the server.
	resp, err := http.Get(s.url)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		DID      string       `json:"did"`
		Document did.Document `json:"didDocument"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.DID != s.DID() || got.Document.ID != s.DID() || len(got.Document.Service) != 2 {
		t.Fatalf("GET %s = %+v", Path, got)
	}
}

func TestMediatorProblems(t *testing.T) {
	s := startServer(t, "", Config{})
	stranger := newParty(t)
	for _, tc := range []struct {
		typ  string
		body any
		code string
	}{
		{mediation.TypeKeylistUpdate, map[string]any{"updates": []any{}}, "e.p.req.not-granted"},
		{mediation.TypeStatusRequest, struct{}{}, "e.p.req.not-granted"},
		{"https://didcomm.org/basicmessage/2.0/message", map[string]string{"content": "hi"}, "e.p.msg.unsupported"},
	} {
		p := body[problemBody](t, stranger.ask(s, tc.typ, tc.body), mediation.TypeProblem)
		if p.Code != tc.code {
			t.Errorf("%s before a grant: problem %q (%s), want %q", tc.typ, p.Code, p.Comment, tc.code)
		}
	}

	bob := newRecipient(t, s)
	carol := newRecipient(t, s)
	for _, tc := range []struct {
		typ  string
		body any
		code string
	}{
		{mediation.TypeLiveChange, map[string]bool{"live_delivery": true}, "e.m.live-mode-not-supported"},
		{mediation.TypeLiveChange, struct{}{}, "e.p.msg.bad-body"},
		{mediation.TypeDeliveryRequest, struct{}{}, "e.p.msg.bad-body"},
		{mediation.TypeDeliveryRequest, map[string]any{"limit": "ten"}, "e.p.msg.bad-body"},
		{mediation.TypeStatusRequest, map[string]string{"recipient_did": carol.rel.did.String()}, "e.p.req.not-yours"},
		{mediation.TypeDeliveryRequest, map[string]any{"limit": 5, "recipient_did": carol.rel.did.String()}, "e.p.req.not-yours"},
		{mediation.TypeKeylistQuery, map[string]any{"paginate": map[string]int{"limit": 0, "offset": 0}}, "e.p.msg.bad-body"},
	} {
		p := body[problemBody](t, bob.ask(s, tc.typ, tc.body), mediation.TypeProblem)
		if p.Code != tc.code {
			t.Errorf("%s %v: problem %q (%s), want %q", tc.typ, tc.body, p.Code, p.Comment, tc.code)
		}
	}

	// Bob cannot take over Carol's DID.
	updated := body[struct{ Updated []keylistUpdated }](t,
		bob.ask(s, mediation.TypeKeylistUpdate, map[string]any{"updates": []any{
			map[string]string{"recipient_did": carol.rel.did.String(), "action": "add"},
			map[string]string{"recipient_did": "not a DID", "action": "add"},
			map[string]string{"recipient_did": bob.rel.did.String(), "action": "add"},
			map[string]string{"recipient_did": bob.rel.did.String(), "action": "rename"},
		}}), mediation.TypeKeylistResult)
	want := []string{resultClientError, resultClientError, resultNoChange, resultClientError}
	for i, u := range updated.Updated {
		if u.Result != want[i] {
			t.Errorf("update %d (%s %s): %s, want %s", i, u.Action, u.RecipientDID, u.Result, want[i])
		}
	}
}

func TestMediatorRefuses(t *testing.T) {
	s := startServer(t, "", Config{MaxMessages: 1})
	bob := newRecipient(t, s)
	alice := newParty(t)

	plain, _ := bob.message(s, mediation.TypeStatusRequest, struct{}{}).Encode()
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"a plaintext", plain, http.StatusBadRequest},
		{"not JSON", []byte("hello"), http.StatusBadRequest},
		{"an anoncrypted status-request", bob.pack(s, bob.message(s, mediation.TypeStatusRequest, struct{}{}), true), http.StatusBadRequest},
	} {
		if code, _ := post(t, s.url, tc.data); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
	resp, err := http.Post(s.url, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("POST as application/json: HTTP %d, want 415", resp.StatusCode)
	}

	// A forward to a DID nobody registered here.
	nobody := newParty(t, did.DIDCommService(s.DID()))
	if code, _ := send(t, alice, nobody.did, "hello?"); code != http.StatusNotFound {
		t.Errorf("forward to an unregistered DID: HTTP %d, want 404", code)
	}
	// Bob's queue holds one message.
	if code, reply := send(t, alice, bob.rel.did, "one"); code != http.StatusAccepted {
		t.Fatalf("first forward: HTTP %d: %s", code, reply)
	}
	if code, _ := send(t, alice, bob.rel.did, "two"); code != http.StatusServiceUnavailable {
		t.Errorf("forward to a full queue: HTTP %d, want 503", code)
	}
	// A forward whose payload is not an encrypted message.
	fwd, err := didcomm.NewForward(bob.rel.did.String(), []byte(`{"hello":"world"}`), s.agent.did, time.Now(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := post(t, s.url, alice.pack(s, fwd, true)); code != http.StatusBadRequest {
		t.Errorf("forward of a plaintext payload: HTTP %d, want 400", code)
	}
}

// One sender cannot fill a client's queue: past its share its forwards are
// refused, and others' still arrive.
func TestMediatorPerSender(t *testing.T) {
	s := startServer(t, "", Config{MaxPerSender: 3})
	bob := newRecipient(t, s)
	flooder, carol := newParty(t), newParty(t)
	for i := range 3 {
		if code, reply := send(t, flooder, bob.rel.did, "buy now"); code != http.StatusAccepted {
			t.Fatalf("flooder's forward %d: HTTP %d: %s", i, code, reply)
		}
	}
	if code, reply := send(t, flooder, bob.rel.did, "buy now"); code != http.StatusServiceUnavailable || !strings.Contains(reply, "sender") {
		t.Fatalf("flooder's forward past its share: HTTP %d: %s", code, reply)
	}
	if code, reply := send(t, carol, bob.rel.did, "hello"); code != http.StatusAccepted {
		t.Fatalf("another sender, after the flood: HTTP %d: %s", code, reply)
	}
	if got := bob.pickup(s); len(got) != 4 || got[3] != "hello" {
		t.Fatalf("picked up %q", got)
	}
	// Picked up, the flooder's share is free again.
	if code, _ := send(t, flooder, bob.rel.did, "again"); code != http.StatusAccepted {
		t.Fatalf("after pickup: HTTP %d", code)
	}
}

// wsClient is a client's WebSocket to the mediator.
type wsClient struct {
	*recipient
	conn *websocket.Conn
}

func (r *recipient) dial(t *testing.T, s *server) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(s.ws, http.Header{"Origin": {"http://elsewhere.test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{recipient: r, conn: conn}
}

func (c *wsClient) send(s *server, typ string, body any) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, c.pack(s, c.message(s, typ, body), false)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) next(s *server) *didcomm.Plaintext {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(s, data)
}

func TestMediatorLiveOverWebSocket(t *testing.T) {
	s := startServer(t, "", Config{})
	bob := newRecipient(t, s)
	alice := newParty(t)

	// Something waits before Bob connects.
	if code, reply := send(t, alice, bob.rel.did, "while you were out"); code != http.StatusAccepted {
		t.Fatalf("forward: HTTP %d: %s", code, reply)
	}
	ws := bob.dial(t, s)
	ws.send(s, mediation.TypeLiveChange, map[string]bool{"live_delivery": true})
	if st := body[statusBody](t, ws.next(s), mediation.TypeStatus); !st.LiveDelivery || st.MessageCount != 1 {
		t.Fatalf("status after live-delivery-change: %+v", st)
	}
	// What waited is fetched as usual.
	ws.send(s, mediation.TypeDeliveryRequest, map[string]int{"limit": 10})
	d := ws.next(s)
	if body[deliveryBody](t, d, mediation.TypeDelivery); len(d.Attachments) != 1 || bob.open(d.Attachments[0]) != "while you were out" {
		t.Fatalf("delivery: %d attachments", len(d.Attachments))
	}
	ws.send(s, mediation.TypeReceived, map[string]any{"message_id_list": []string{d.Attachments[0].ID}})
	body[statusBody](t, ws.next(s), mediation.TypeStatus)

	// What arrives now comes at once.
	if code, reply := send(t, alice, bob.rel.did, "live!"); code != http.StatusAccepted {
		t.Fatalf("forward: HTTP %d: %s", code, reply)
	}
	live := ws.next(s)
	if body[deliveryBody](t, live, mediation.TypeDelivery); len(live.Attachments) != 1 || bob.open(live.Attachments[0]) != "live!" {
		t.Fatalf("live delivery: %+v", live.Attachments)
	}
	// Until acknowledged it is still queued, so a dropped socket loses nothing.
	if st := body[statusBody](t, bob.ask(s, mediation.TypeStatusRequest, struct{}{}), mediation.TypeStatus); st.MessageCount != 1 {
		t.Fatalf("a live-delivered message not yet acknowledged: %d wait, want 1", st.MessageCount)
	}

	// A socket that speaks for someone else is closed.
	carol := newRecipient(t, s)
	ws.conn.WriteMessage(websocket.TextMessage, carol.pack(s, carol.message(s, mediation.TypeStatusRequest, struct{}{}), false))
	ws.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.conn.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("a second client on one socket: %v, want close 1008", err)
	}
}

// A client that stops reading its WebSocket must not stall forwards to it,
// nor make the server hold more than the socket's small queue.
func TestMediatorStalledWebSocket(t *testing.T) {
	s := startServer(t, "", Config{MaxBytesPerSender: 16 << 20})
	bob := newRecipient(t, s)
	alice := newParty(t)
	ws := bob.dial(t, s)
	ws.send(s, mediation.TypeLiveChange, map[string]bool{"live_delivery": true})
	ws.next(s)
	// Bob never reads again. Forwards keep being accepted at once.
	const n = 3 * wsQueue
	for i := range n {
		done := make(chan int, 1)
		go func() { code, _ := send(t, alice, bob.rel.did, strings.Repeat("x", 32<<10)); done <- code }()
		select {
		case code := <-done:
			if code != http.StatusAccepted {
				t.Fatalf("forward %d: HTTP %d", i, code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("forward %d waited on a client that does not read", i)
		}
	}
	// Everything is still queued for Bob's next pickup.
	if st := body[statusBody](t, bob.ask(s, mediation.TypeStatusRequest, struct{}{}), mediation.TypeStatus); st.MessageCount != n {
		t.Fatalf("%d wait, want %d", st.MessageCount, n)
	}
}

func TestMediatorSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	// The same address again, so that the DID (which names it) is the same.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := func() *server {
		hs := httptest.NewUnstartedServer(nil)
		hs.Listener.Close()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("the address %s was taken meanwhile: %v", addr, err)
		}
		hs.Listener = l
		ep := Endpoints{HTTP: "http://" + addr + Path, WebSocket: "ws://" + addr + WebSocketPath}
		m, err := Open(dir, ep, Config{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		hs.Config.Handler = m.Handler()
		hs.Start()
		s := &server{Mediator: m, url: ep.HTTP, ws: ep.WebSocket, dir: dir, http: hs}
		t.Cleanup(s.stop)
		return s
	}
	s := start()
	first := s.DID()
	bob := newRecipient(t, s)
	alice := newParty(t)
	if code, reply := send(t, alice, bob.rel.did, "before the restart"); code != http.StatusAccepted {
		t.Fatalf("forward: HTTP %d: %s", code, reply)
	}
	s.stop()

	s = start()
	if s.DID() != first {
		t.Fatalf("the mediator's DID changed across a restart: %s, then %s", first, s.DID())
	}
	if got := bob.pickup(s); len(got) != 1 || got[0] != "before the restart" {
		t.Fatalf("after a restart, picked up %q", got)
	}
	// And the keylist is still there: forwards are still routed.
	if code, reply := send(t, alice, bob.rel.did, "after"); code != http.StatusAccepted {
		t.Fatalf("forward after restart: HTTP %d: %s", code, reply)
	}
}

func TestCORSPreflight(t *testing.T) {
	s := startServer(t, "", Config{})
	req, _ := http.NewRequest(http.MethodOptions, s.url, nil)
	req.Header.Set("Origin", "http://elsewhere.test")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
}
