//go:build js && wasm

package webrtc

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// The few JavaScript operations the transports share, over safejs so that
// a JavaScript exception becomes a Go error rather than a panic.

var (
	jsUint8Array = jsGlobal("Uint8Array")
	jsObject     = jsGlobal("Object")
	jsArray      = jsGlobal("Array")
)

// jsGlobal returns a global constructor or object, or the undefined value
// when the browser lacks it (the transports check before use).
func jsGlobal(name string) safejs.Value {
	v, err := safejs.Global().Get(name)
	if err != nil {
		return safejs.Undefined()
	}
	return v
}

// present reports whether v is neither undefined nor null.
func present(v safejs.Value) bool { return !v.IsUndefined() && !v.IsNull() }

// callback wraps a Go function as a JavaScript function that receives the
// first argument only (an event or a promise's value). The function runs
// inside the JavaScript event loop: it must copy, record and signal, never
// wait.
func callback(f func(arg safejs.Value)) (safejs.Func, error) {
	return safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		a := safejs.Undefined()
		if len(args) > 0 {
			a = args[0]
		}
		f(a)
		return nil
	})
}

// settled is the outcome of a promise.
type settled struct {
	v   safejs.Value
	err error
}

// settle returns a channel that receives the outcome of the promise p
// once it settles. The callbacks release themselves then, so a caller that
// stops waiting leaves nothing behind, and a rejection nobody awaits is
// still handled (the browser reports unhandled ones).
func settle(p safejs.Value) (<-chan settled, error) {
	done := make(chan settled, 1) // buffered: the callbacks never block
	var onOK, onErr safejs.Func
	release := func() { onOK.Release(); onErr.Release() }
	var err error
	onOK, err = callback(func(v safejs.Value) { done <- settled{v: v}; release() })
	if err != nil {
		return nil, err
	}
	onErr, err = callback(func(v safejs.Value) { done <- settled{err: jsError(v)}; release() })
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

// await waits for the promise p to settle or ctx to end.
func await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	done, err := settle(p)
	if err != nil {
		return safejs.Value{}, err
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return safejs.Value{}, ctx.Err()
	}
}

// ignore lets the promise p settle unobserved, without the browser
// reporting an unhandled rejection.
func ignore(p safejs.Value, err error) {
	if err == nil && present(p) {
		settle(p)
	}
}

// jsError turns a JavaScript error value (an Error, a DOMException, or
// anything thrown) into a Go error carrying its name and message.
func jsError(v safejs.Value) error {
	if !present(v) {
		return errors.New("javascript: failed without a reason")
	}
	name, msg := jsString(v, "name"), jsString(v, "message")
	switch {
	case name != "" && msg != "":
		return fmt.Errorf("javascript: %s: %s", name, msg)
	case msg != "":
		return fmt.Errorf("javascript: %s", msg)
	case name != "":
		return fmt.Errorf("javascript: %s", name)
	}
	if s, err := v.Call("toString"); err == nil {
		if str, err := s.String(); err == nil {
			return fmt.Errorf("javascript: %s", str)
		}
	}
	return errors.New("javascript: failed")
}

// jsString returns v[prop] when it is a string, and "" otherwise.
func jsString(v safejs.Value, prop string) string {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeString {
		return ""
	}
	s, _ := p.String()
	return s
}

// jsInt returns v[prop] as an int, and 0 when it is not a number.
func jsInt(v safejs.Value, prop string) int {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeNumber {
		return 0
	}
	n, _ := p.Int()
	return n
}

// jsBool returns v[prop] as a boolean, false when it is not one.
func jsBool(v safejs.Value, prop string) bool {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeBoolean {
		return false
	}
	b, _ := p.Bool()
	return b
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) (safejs.Value, error) {
	arr, err := jsUint8Array.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(arr, b); err != nil {
		return safejs.Value{}, err
	}
	return arr, nil
}

// bytesFromJS copies a Uint8Array, an ArrayBuffer or another typed array
// into a new Go slice, refusing anything longer than limit bytes.
func bytesFromJS(v safejs.Value, limit int) ([]byte, error) {
	isArr, err := v.InstanceOf(jsUint8Array)
	if err != nil {
		return nil, err
	}
	if !isArr {
		if v, err = jsUint8Array.New(v); err != nil {
			return nil, err
		}
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%d bytes arrived at once, more than the %d allowed: %w", n, limit, errOverflow)
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}
