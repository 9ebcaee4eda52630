//go:build !js

package mediation

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"planet/core/didcomm"
)

// WebSocket is the native [Transport]: a WebSocket (gorilla/websocket) to
// the mediator's WebSocket endpoint. It sends text frames and reads either
// kind, and answers the mediator's pings (the mediator drops a socket that
// stays silent).
type WebSocket struct {
	conn      *websocket.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

var _ Transport = (*WebSocket)(nil)

// DialWebSocket opens a WebSocket to uri, a ws or wss URL (the mediator's
// WebSocket service endpoint).
func DialWebSocket(ctx context.Context, uri string) (*WebSocket, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("mediation: %q is not a ws or wss URL", uri)
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, uri, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("mediation: opening %s: %w (HTTP %d)", uri, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("mediation: opening %s: %w", uri, err)
	}
	// Nothing larger opens: didcomm.Unpack refuses it.
	conn.SetReadLimit(didcomm.MaxPackedSize)
	return &WebSocket{conn: conn, closed: make(chan struct{})}, nil
}

// Send implements [Transport].
func (w *WebSocket) Send(ctx context.Context, msg []byte) error {
	if err := w.check(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { w.conn.NetConn().SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		w.conn.SetWriteDeadline(d)
	} else {
		w.conn.SetWriteDeadline(time.Time{})
	}
	if err := w.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		return w.fail(ctx, err)
	}
	return nil
}

// Receive implements [Transport].
func (w *WebSocket) Receive(ctx context.Context) ([]byte, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { w.conn.NetConn().SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	_, data, err := w.conn.ReadMessage()
	if err != nil {
		return nil, w.fail(ctx, err)
	}
	return data, nil
}

// Close implements [Transport]: it says goodbye (close 1000) and closes.
func (w *WebSocket) Close() error {
	var err error
	w.closeOnce.Do(func() {
		close(w.closed)
		w.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		err = w.conn.Close()
	})
	return err
}

func (w *WebSocket) check() error {
	select {
	case <-w.closed:
		return ErrClosed
	default:
		return nil
	}
}

// fail says why a read or write failed: closed here, cut short by ctx, or
// the connection's own error (a close from the mediator carries its
// reason).
func (w *WebSocket) fail(ctx context.Context, err error) error {
	if w.check() != nil {
		return ErrClosed
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
