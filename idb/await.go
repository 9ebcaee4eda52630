//go:build js && wasm

package idb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// ErrAborted is returned when a transaction was aborted, by the browser
// (quota, a closed connection) or by a canceled context.
var ErrAborted = errors.New("idb: transaction aborted")

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

// awaitTx waits for a transaction to commit.
func awaitTx(ctx context.Context, tx safejs.Value) error {
	done := make(chan error, 1)
	complete, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		done <- nil
		return nil
	})
	if err != nil {
		return err
	}
	defer complete.Release()
	failed, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		select {
		case done <- requestError(tx):
		default:
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer failed.Release()
	for ev, fn := range map[string]safejs.Func{"oncomplete": complete, "onerror": failed, "onabort": failed} {
		if err := tx.Set(ev, fn.Value()); err != nil {
			abort(tx)
			return err
		}
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
	if tx.IsUndefined() || tx.IsNull() { // the zero Value is undefined
		return
	}
	tx.Call("abort") // fails harmlessly if already finished
}

// requestError turns the .error of a request or transaction into Go.
func requestError(target safejs.Value) error {
	e, err := target.Get("error")
	if err != nil || e.IsNull() || e.IsUndefined() {
		return ErrAborted
	}
	name, _ := e.Get("name")
	msg, _ := e.Get("message")
	n, _ := name.String()
	m, _ := msg.String()
	if n == "QuotaExceededError" {
		return fmt.Errorf("idb: the browser's storage quota is exhausted: %s", m)
	}
	return fmt.Errorf("idb: %s: %s", n, m)
}
