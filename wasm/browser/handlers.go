//go:build js && wasm

package browser

import (
	"errors"
	"sync"

	"github.com/hack-pad/safejs"
)

// ErrReleased is returned by [Handlers.On] and [Handlers.Listen] once the
// handlers were released: the object they were for is finished with.
var ErrReleased = errors.New("browser: handlers already released")

// Handlers are the Go callbacks installed on JavaScript objects, as on…
// properties (onmessage) or event listeners, kept together so that they
// are taken off and released together by [Handlers.Release]. Each callback
// receives the event (its first argument) and runs inside the event loop:
// it must not wait (see the package doc).
//
// The zero Handlers is ready to use; it is safe for concurrent use. Page
// code keeps handlers for the life of the page by never releasing them.
type Handlers struct {
	mu       sync.Mutex
	released bool
	funcs    []safejs.Func
	undo     []func() // unset a property, remove a listener
}

// On sets each of target's properties props (such as "onsuccess",
// "onerror") to one function calling f.
func (h *Handlers) On(target safejs.Value, f func(event safejs.Value), props ...string) error {
	return h.install(f, func(fn safejs.Value) error {
		for _, p := range props {
			h.undo = append(h.undo, func() { target.Set(p, safejs.Null()) })
			if err := target.Set(p, fn); err != nil {
				return err
			}
		}
		return nil
	})
}

// Listen adds one function calling f as target's listener of each of
// events (addEventListener).
func (h *Handlers) Listen(target safejs.Value, f func(event safejs.Value), events ...string) error {
	return h.install(f, func(fn safejs.Value) error {
		for _, ev := range events {
			if _, err := target.Call("addEventListener", ev, fn); err != nil {
				return err
			}
			h.undo = append(h.undo, func() { target.Call("removeEventListener", ev, fn) })
		}
		return nil
	})
}

func (h *Handlers) install(f func(safejs.Value), set func(fn safejs.Value) error) error {
	fn, err := callback(f)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		fn.Release()
		return ErrReleased
	}
	h.funcs = append(h.funcs, fn)
	return set(fn.Value())
}

// Release unsets the properties (to null) and removes the listeners, then
// releases the functions: JavaScript can no longer call them. It may be
// called more than once, and from inside one of the callbacks.
func (h *Handlers) Release() {
	h.mu.Lock()
	funcs, undo := h.funcs, h.undo
	h.funcs, h.undo, h.released = nil, nil, true
	h.mu.Unlock()
	for _, u := range undo {
		u()
	}
	for _, f := range funcs {
		f.Release()
	}
}

// callback makes f a JavaScript function that receives the first argument
// only (an event or a promise's value).
func callback(f func(arg safejs.Value)) (safejs.Func, error) {
	return safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		f(arg(args, 0))
		return nil
	})
}
