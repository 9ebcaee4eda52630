//go:build js && wasm

package idb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
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
	success, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		v, err := req.Get("result")
		done <- outcome{v, err}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer success.Release()
	failure, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		done <- outcome{err: requestError(req)}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer failure.Release()
	if err := req.Set("onsuccess", success.Value()); err != nil {
		return safejs.Value{}, err
	}
	if err := req.Set("onerror", failure.Value()); err != nil {
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
	settled, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		var err error
		if len(args) == 0 || eventType(args[0]) != "complete" {
			err = requestError(tx)
		}
		select {
		case done <- err:
		default: // an error, then the abort it causes
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer settled.Release()
	for _, ev := range []string{"oncomplete", "onerror", "onabort"} {
		if err := tx.Set(ev, settled.Value()); err != nil {
			abort(tx)
			return err
		}
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

func eventType(ev safejs.Value) string {
	t, err := ev.Get("type")
	if err != nil {
		return ""
	}
	s, _ := t.String()
	return s
}

func abort(tx safejs.Value) {
	if tx.IsUndefined() || tx.IsNull() { // the zero Value is undefined
		return
	}
	tx.Call("abort") // fails harmlessly if already finished
}

// requestError turns the .error of a request or transaction into Go.
func requestError(target safejs.Value) error {
	e, err := target.Get("error")
	if err != nil || e.IsNull() || e.IsUndefined() {
		return errAborted
	}
	name, _ := e.Get("name")
	msg, _ := e.Get("message")
	n, _ := name.String()
	m, _ := msg.String()
	if n == "QuotaExceededError" {
		return fmt.Errorf("the storage quota is exhausted (%s): %w", m, ErrStorage)
	}
	return fmt.Errorf("%s: %s: %w", n, m, ErrStorage)
}
