//go:build js && wasm

package browser

import (
	"context"

	"github.com/hack-pad/safejs"
)

// Settled is the outcome of a promise: its value, or the reason it was
// rejected as an error (see [ErrorFrom]).
type Settled struct {
	Value safejs.Value
	Err   error
}

// Settle returns a channel that receives the outcome of the promise p once
// it settles. Its callbacks release themselves then, so a caller that stops
// waiting leaves nothing behind, and a rejection nobody waits for still
// counts as handled (the browser reports unhandled ones).
func Settle(p safejs.Value) (<-chan Settled, error) {
	done := make(chan Settled, 1) // buffered: the callbacks never block
	var onOK, onErr safejs.Func
	release := func() { onOK.Release(); onErr.Release() }
	var err error
	onOK, err = callback(func(v safejs.Value) { done <- Settled{Value: v}; release() })
	if err != nil {
		return nil, err
	}
	onErr, err = callback(func(v safejs.Value) { done <- Settled{Err: ErrorFrom(v)}; release() })
	if err != nil {
		onOK.Release()
		return nil, err
	}
	if _, err := p.Call("then", onOK.Value(), onErr.Value()); err != nil {
		release()
		return nil, err
	}
	return done, nil
}

// Await waits until the promise p settles, and returns its value or the
// reason it was rejected; or until ctx ends, and returns ctx's error (the
// promise then settles unobserved). Never call it inside a callback.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	done, err := Settle(p)
	if err != nil {
		return safejs.Value{}, err
	}
	select {
	case r := <-done:
		return r.Value, r.Err
	case <-ctx.Done():
		return safejs.Value{}, ctx.Err()
	}
}

// Ignore lets the promise p, as returned with err by a call, settle
// unobserved, without the browser reporting an unhandled rejection.
func Ignore(p safejs.Value, err error) {
	if err == nil && Present(p) {
		Settle(p)
	}
}

// Func returns f as a JavaScript function, kept for the life of the page.
// f receives the call's arguments and runs inside the event loop, so it
// must not wait (see the package doc). Go cannot throw into JavaScript: an
// error f returns becomes the call's result, an Error made by [ErrorToJS],
// which the caller checks for (the page's api.js throws it).
func Func(f func(args []safejs.Value) (any, error)) safejs.Value {
	jf, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v, err := f(args)
		if err != nil {
			return ErrorToJS(err)
		}
		return v
	})
	if err != nil {
		panic("browser: " + err.Error()) // no function can be made at all
	}
	return jf.Value()
}

// Async returns f as a JavaScript function, kept for the life of the page,
// that returns a Promise: f runs on a goroutine of its own, so that it may
// wait (on [Await], IndexedDB, the network), and the promise resolves with
// its value or rejects with [ErrorToJS] of its error. The value is
// converted as [safejs.ValueOf] does.
func Async(f func(args []safejs.Value) (any, error)) safejs.Value {
	return Func(func(args []safejs.Value) (any, error) {
		executor, err := safejs.FuncOf(func(_ safejs.Value, pargs []safejs.Value) any {
			resolve, reject := pargs[0], pargs[1]
			go func() {
				v, err := f(args)
				if err != nil {
					reject.Invoke(ErrorToJS(err))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		})
		if err != nil {
			return nil, err
		}
		defer executor.Release() // the executor runs inside the constructor
		return Promise.New(executor.Value())
	})
}
