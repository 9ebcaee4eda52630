package mediator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Paths the mediator answers under, on the server's own origin.
const (
	// Path takes HTTP POSTs of encrypted DIDComm messages, and GETs of the
	// mediator's DID and DID document.
	Path = "/didcomm"
	// WebSocketPath takes WebSocket connections: one DIDComm message per
	// WebSocket message, either way.
	WebSocketPath = "/didcomm/ws"
)

// MediaTypeEncrypted is the media type of an encrypted DIDComm message
// (DIDComm Messaging v2.1, "IANA Media Types"); the mediator reads nothing else.
const MediaTypeEncrypted = "application/didcomm-encrypted+json"

// Endpoints are the URLs at which clients reach the mediator's handlers,
// as its DID's services publish them.
type Endpoints struct {
	HTTP      string // e.g. https://planet.example/didcomm
	WebSocket string // e.g. wss://planet.example/didcomm/ws
}

// WebSocket limits.
const (
	// wsQueue is how many messages may wait to be written to one
	// WebSocket; a live delivery that finds it full is left for the
	// client's next pickup, so a stalled reader holds a bounded amount.
	wsQueue = 16
	// wsWriteTimeout and wsPingEvery keep dead connections from lingering.
	wsWriteTimeout = 30 * time.Second
	wsPingEvery    = 30 * time.Second
	wsIdleTimeout  = 2 * wsPingEvery
)

// Handler returns the mediator's HTTP handler, for Path and WebSocketPath.
// Every response allows any origin (CORS): a DIDComm client in a page
// served elsewhere must be able to post here, and the messages carry their
// own authentication, never cookies.
func (m *Mediator) Handler() http.Handler {
	up := websocket.Upgrader{
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 4 << 10,
		// Any origin may connect, for the same reason as CORS above.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		switch {
		case r.Method == http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == WebSocketPath && r.Method == http.MethodGet:
			ws, err := up.Upgrade(hijacker(w), r, nil)
			if err != nil {
				return // the upgrader has answered
			}
			m.serveWebSocket(r.Context(), ws)
		case r.URL.Path == Path && r.Method == http.MethodPost:
			m.servePost(w, r)
		case r.URL.Path == Path && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			m.serveDID(w)
		case r.URL.Path == Path || r.URL.Path == WebSocketPath:
			h.Set("Allow", "GET, POST, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		default:
			http.NotFound(w, r)
		}
	})
}

// serveDID answers a GET of Path with the mediator's DID and its DID
// document, so that anyone who knows the server's address can find it.
func (m *Mediator) serveDID(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(struct {
		DID      string `json:"did"`
		Document any    `json:"didDocument"`
	}{m.DID(), m.agent.doc})
}

func (m *Mediator) servePost(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mt) != MediaTypeEncrypted {
		http.Error(w, "the mediator reads only "+MediaTypeEncrypted, http.StatusUnsupportedMediaType)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(m.cfg.MaxMessage)))
	if err != nil {
		http.Error(w, "the message is larger than the mediator reads", http.StatusRequestEntityTooLarge)
		return
	}
	replies, err := m.receive(r.Context(), &conn{}, data)
	switch {
	case errors.Is(err, errQueueFull):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, errNoRoute):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, errRefused):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		m.log.Warn("mediator: POST", "err", err)
		http.Error(w, "the mediator failed to handle the message", http.StatusInternalServerError)
	case len(replies) == 0:
		w.WriteHeader(http.StatusAccepted)
	default:
		// An HTTP request carries one reply; the mediator never makes more
		// than one for a request.
		w.Header().Set("Content-Type", MediaTypeEncrypted)
		w.Write(replies[0])
	}
}

// serveWebSocket reads messages from ws until it closes, answering on it;
// one goroutine writes, so live deliveries and replies never interleave.
func (m *Mediator) serveWebSocket(ctx context.Context, ws *websocket.Conn) {
	if !m.track(ws) {
		return
	}
	defer m.untrack(ws)
	out := make(chan []byte, wsQueue)
	done := make(chan struct{})
	c := &conn{persistent: true}
	c.push = func(b []byte) bool {
		select {
		case <-done:
			return false
		default:
		}
		select {
		case out <- b:
			return true
		default:
			return false
		}
	}
	defer func() {
		m.forget(c)
		close(done)
		ws.Close()
	}()
	go m.writeWebSocket(ws, out, done)

	ws.SetReadLimit(int64(m.cfg.MaxMessage))
	ws.SetReadDeadline(time.Now().Add(wsIdleTimeout))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(wsIdleTimeout)) })
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(time.Now().Add(wsIdleTimeout))
		replies, err := m.receive(ctx, c, data)
		if err != nil {
			// A WebSocket has no status per message: a refusal closes it
			// with the reason, as a client that sends what cannot be read
			// is broken or hostile.
			m.log.Debug("mediator: WebSocket message refused", "err", err)
			msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, truncate(err.Error(), 120))
			ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return
		}
		for _, r := range replies {
			select {
			case out <- r:
			case <-time.After(wsWriteTimeout):
				return // the client does not read its replies
			}
		}
	}
}

func (m *Mediator) writeWebSocket(ws *websocket.Conn, out <-chan []byte, done <-chan struct{}) {
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case <-done:
			return
		case b := <-out:
			ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
			if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
				ws.Close()
				return
			}
		case <-ping.C:
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteTimeout)); err != nil {
				ws.Close()
				return
			}
		}
	}
}

// truncate shortens s to at most n bytes, for a WebSocket close reason
// (at most 123 bytes).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// hijacker finds, through the Unwrap methods of the server's middleware
// (the request log's writer), the ResponseWriter that can hand over the
// connection, which the WebSocket upgrade needs.
func hijacker(w http.ResponseWriter) http.ResponseWriter {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
