//go:build js && wasm

package browser

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// ErrWebSocketClosed is returned by a [WebSocket]'s Send and Receive once
// it was closed on this side.
var ErrWebSocketClosed = errors.New("browser: WebSocket closed")

// webSocketQueue is how many received messages wait for Receive; past it
// the socket is closed, as a reader that far behind has stopped reading.
const webSocketQueue = 256

// WebSocket is the page's WebSocket, one message per frame both ways,
// with binary frames read as bytes and text frames as their UTF-8 bytes.
// Its event handlers only copy what arrives into a queue: they run in the
// event loop and must not wait.
type WebSocket struct {
	ws       safejs.Value
	handlers Handlers
	maxFrame int

	in     chan []byte
	mu     sync.Mutex
	err    error         // why it ended, once it did
	closed chan struct{} // closed when it ended, either side
	once   sync.Once
}

// DialWebSocket opens a WebSocket to url and waits until it is open, the
// browser refuses it, or ctx ends. Frames larger than maxFrame bytes end
// the connection.
func DialWebSocket(ctx context.Context, url string, maxFrame int) (*WebSocket, error) {
	ctor := Global("WebSocket")
	if !Present(ctor) {
		return nil, errors.New("this browser has no WebSocket")
	}
	ws, err := ctor.New(url)
	if err != nil {
		return nil, fmt.Errorf("WebSocket %s: %w", url, err)
	}
	if err := ws.Set("binaryType", "arraybuffer"); err != nil {
		return nil, err
	}
	w := &WebSocket{ws: ws, maxFrame: maxFrame, in: make(chan []byte, webSocketQueue), closed: make(chan struct{})}
	opened := make(chan struct{})
	var openOnce sync.Once
	err = w.handlers.On(ws, func(safejs.Value) { openOnce.Do(func() { close(opened) }) }, "onopen")
	if err == nil {
		err = w.handlers.On(ws, w.onMessage, "onmessage")
	}
	if err == nil {
		err = w.handlers.On(ws, func(ev safejs.Value) {
			code := Int(ev, "code")
			reason := String(ev, "reason")
			w.end(fmt.Errorf("WebSocket closed (%d %s)", code, reason))
		}, "onclose")
	}
	if err == nil {
		err = w.handlers.On(ws, func(safejs.Value) { w.end(errors.New("WebSocket failed")) }, "onerror")
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	select {
	case <-opened:
		return w, nil
	case <-w.closed:
		w.Close()
		return nil, fmt.Errorf("WebSocket %s: %w", url, w.reason())
	case <-ctx.Done():
		w.Close()
		return nil, ctx.Err()
	}
}

func (w *WebSocket) onMessage(ev safejs.Value) {
	data, err := ev.Get("data")
	if err != nil {
		return
	}
	var b []byte
	if data.Type() == safejs.TypeString {
		s, _ := data.String()
		if len(s) > w.maxFrame {
			w.end(fmt.Errorf("a WebSocket frame of %d bytes, more than %d", len(s), w.maxFrame))
			w.ws.Call("close", 1009, "frame too large")
			return
		}
		b = []byte(s)
	} else {
		var err error
		if b, err = BytesFromJS(data, w.maxFrame); err != nil {
			w.end(fmt.Errorf("reading a WebSocket frame: %w", err))
			w.ws.Call("close", 1009, "frame too large")
			return
		}
	}
	select {
	case w.in <- b:
	default:
		w.end(errors.New("WebSocket: the reader stopped reading"))
		w.ws.Call("close", 1008, "reader behind")
	}
}

// end records why the connection ended, once.
func (w *WebSocket) end(err error) {
	w.once.Do(func() {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.closed)
	})
}

func (w *WebSocket) reason() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Send sends msg as one text frame (DIDComm's JSON messages are text).
func (w *WebSocket) Send(ctx context.Context, msg []byte) error {
	select {
	case <-w.closed:
		return w.reason()
	default:
	}
	if _, err := w.ws.Call("send", string(msg)); err != nil {
		return fmt.Errorf("WebSocket send: %w", err)
	}
	return nil
}

// Receive returns the next message, in the order they arrived. Messages
// that arrived before the connection ended are still returned.
func (w *WebSocket) Receive(ctx context.Context) ([]byte, error) {
	select {
	case b := <-w.in:
		return b, nil
	default:
	}
	select {
	case b := <-w.in:
		return b, nil
	case <-w.closed:
		select {
		case b := <-w.in:
			return b, nil
		default:
		}
		return nil, w.reason()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes the connection and releases its handlers.
func (w *WebSocket) Close() error {
	w.end(ErrWebSocketClosed)
	w.ws.Call("close")
	w.handlers.Release()
	return nil
}

// PostError is a POST that the server answered with a status other than
// 2xx.
type PostError struct {
	Status int
	Body   string // the start of the answer, to say why
}

func (e *PostError) Error() string {
	return fmt.Sprintf("the server answered %d: %s", e.Status, e.Body)
}

// Post sends body to url with fetch, as contentType, without cookies, and
// returns the answer's body when the status is 2xx. Other statuses return a
// *PostError.
func Post(ctx context.Context, url, contentType string, body []byte, limit int) ([]byte, error) {
	status, b, err := Fetch(ctx, Request{Method: "POST", URL: url, Headers: map[string]string{"Content-Type": contentType}, Body: body}, limit)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return nil, &PostError{Status: status, Body: string(b[:min(len(b), 200)])}
	}
	return b, nil
}
