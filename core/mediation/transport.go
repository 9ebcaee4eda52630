package mediation

import (
	"context"
	"errors"
)

// Transport is a persistent connection to the mediator that carries one
// packed DIDComm message per frame, both ways: a WebSocket (natively
// [DialWebSocket]; in the browser, wasm/browser's WebSocket).
//
// Send and Receive may run at the same time as each other, but each by
// one goroutine at a time: a [Client] keeps to that. A Send or Receive cut
// short by its context may leave the connection unusable; the caller then
// closes it. Close ends a Receive in progress.
type Transport interface {
	// Send writes msg as one frame.
	Send(ctx context.Context, msg []byte) error
	// Receive returns the next frame. It fails once the connection
	// ended, and returns an error wrapping [ErrClosed] when it was closed
	// from this side.
	Receive(ctx context.Context) ([]byte, error)
	// Close ends the connection.
	Close() error
}

// ErrClosed is returned by a Transport's Receive and Send, and by the
// methods of a [Client], once the connection was closed on this side.
var ErrClosed = errors.New("mediation: connection closed")
