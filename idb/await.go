//go:build js && wasm

package idb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"planet/wasm/browser"
)

// ErrStorage wraps every refusal by IndexedDB itself: quota exhausted,
// storage disabled (private mode), a connection closed by the browser.
var ErrStorage = errors.New("the browser's storage refused")

// errAborted is a transaction aborted without a reason given.
var errAborted = fmt.Errorf("transaction aborted: %w", ErrStorage)

type outcome struct {
	v   safejs.Value
	err error
}

// await waits for an IDBRequest to succeed or fail. If ctx ends first the
// transaction tx (when given) is aborted.
func await(ctx context.Context, req, tx safejs.Value) (safejs.Value, error) {
	done := make(chan outcome, 1) // buffered: callbacks never block
	var h browser.Handlers
	defer h.Release()
	if err := h.On(req, func(safejs.Value) {
		v, err := req.Get("result")
		done <- outcome{v, err}
	}, "onsuccess"); err != nil {
		return safejs.Value{}, err
	}
	if err := h.On(req, func(safejs.Value) {
		done <- outcome{err: requestError(req)}
	}, "onerror"); err != nil {
		return safejs.Value{}, err
	}
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
		abort(tx)
		return safejs.Value{}, ctx.Err()
	}
}

// awaitTx asks the transaction tx to commit, with nothing more to come,
// and waits until it has.
func awaitTx(ctx context.Context, tx safejs.Value) error {
	done := make(chan error, 1)
	// One callback for the three events: a write is a transaction, and
	// this is its only crossing back into Go.
	var h browser.Handlers
	defer h.Release()
	if err := h.On(tx, func(ev safejs.Value) {
		var err error
		if browser.String(ev, "type") != "complete" {
			err = requestError(tx)
		}
		select {
		case done <- err:
		default: // an error, then the abort it causes
		}
	}, "oncomplete", "onerror", "onabort"); err != nil {
		abort(tx)
		return err
	}
	// Committing now rather than when Go next yields to the event loop
	// spares the browser a turn; a browser without commit() commits then.
	if commit, err := tx.Get("commit"); err == nil && commit.Type() == safejs.TypeFunction {
		tx.Call("commit")
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		abort(tx)
		<-done // the abort event arrives; the transaction is settled either way
		return ctx.Err()
	}
}

func abort(tx safejs.Value) {
	if !browser.Present(tx) { // the zero Value is undefined
		return
	}
	tx.Call("abort") // fails harmlessly if already finished
}

// requestError turns the .error of a request or transaction into Go.
func requestError(target safejs.Value) error {
	e, err := target.Get("error")
	if err != nil || !browser.Present(e) {
		return errAborted
	}
	n, m := browser.String(e, "name"), browser.String(e, "message")
	if n == "QuotaExceededError" {
		return fmt.Errorf("the storage quota is exhausted (%s): %w", m, ErrStorage)
	}
	return fmt.Errorf("%s: %s: %w", n, m, ErrStorage)
}
