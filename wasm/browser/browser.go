//go:build js && wasm

// Package browser is PLANET's one bridge between Go and JavaScript, shared
// by the page's API (package main in wasm/), the IndexedDB store (idb/) and
// the browser's transports (webrtc/). It sits on
// [github.com/hack-pad/safejs], which turns a JavaScript exception thrown
// by a call into a Go error, and adds what those three packages need:
//
//   - the globals they look up ([Global], [Object], [Array], [Uint8Array],
//     [Promise], [JSON]), [NewObject], and small property readers
//     ([Present], [String], [Int], [Bool]);
//   - promises both ways: [Await] and [Settle] wait for a JavaScript
//     Promise from Go; [Async] makes a Go function a JavaScript function
//     that returns a Promise; [Func] makes a synchronous one;
//   - bytes both ways ([BytesToJS], [BytesFromJS]);
//   - errors both ways ([ErrorFrom] and [JSError] for JavaScript's,
//     [ErrorToJS] and [Error] for Go's, with a code the page acts on);
//   - event handlers installed on JavaScript objects and released
//     together ([Handlers]).
//
// # The rule about callbacks
//
// A Go function called from JavaScript (an event handler, a promise's
// callback, a function made by [Func]) runs inside the browser's event
// loop, and the whole page waits until it returns: the event or promise
// that Go code is waiting for cannot arrive meanwhile. So a callback never
// waits. It copies what it needs, records it, signals through a buffered
// channel or a send that cannot block, or starts a goroutine; [Await] is
// never called inside one. [Async] runs its function on a goroutine for
// this reason, and is what the page's API uses for anything that waits.
//
// A function released while JavaScript can still call it crashes the Go
// program; [Handlers] unsets or removes each function before releasing it.
//
// # Speed
//
// Every crossing costs a call into JavaScript, so the globals are looked
// up once, here. Code on a hot path may keep its own reusable Uint8Array
// (or a view of one) and copy into it with [safejs.CopyBytesToJS] rather
// than make a new array per write, as the WebRTC and WebSocket transports
// do.
package browser

import "github.com/hack-pad/safejs"

// The globals the bridge's users look up, looked up once. Each is the
// undefined value in a browser that lacks it.
var (
	Object     = Global("Object")
	Array      = Global("Array")
	Uint8Array = Global("Uint8Array")
	Promise    = Global("Promise")
	JSON       = Global("JSON")

	jsError  = Global("Error")
	jsString = Global("String")
)

// Global returns the global (a property of globalThis) called name, or the
// undefined value when the browser has none: callers check with [Present]
// before using what a browser may lack (WebTransport, RTCPeerConnection).
func Global(name string) safejs.Value {
	v, err := safejs.Global().Get(name)
	if err != nil {
		return safejs.Undefined()
	}
	return v
}

// Present reports whether v is neither undefined nor null.
func Present(v safejs.Value) bool { return !v.IsUndefined() && !v.IsNull() }

// NewObject returns a new empty object, {}.
func NewObject() safejs.Value {
	o, err := Object.New()
	if err != nil {
		panic("browser: new Object: " + err.Error()) // the page is broken beyond repair
	}
	return o
}

// String returns v[prop] when it is a string, and "" otherwise.
func String(v safejs.Value, prop string) string {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeString {
		return ""
	}
	s, _ := p.String()
	return s
}

// Int returns v[prop] as an int, and 0 when it is not a number.
func Int(v safejs.Value, prop string) int {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeNumber {
		return 0
	}
	n, _ := p.Int()
	return n
}

// Bool returns v[prop] when it is a boolean, and false otherwise.
func Bool(v safejs.Value, prop string) bool {
	p, err := v.Get(prop)
	if err != nil || p.Type() != safejs.TypeBoolean {
		return false
	}
	b, _ := p.Bool()
	return b
}

// arg returns args[i], or undefined when there are fewer arguments.
func arg(args []safejs.Value, i int) safejs.Value {
	if i >= len(args) {
		return safejs.Undefined()
	}
	return args[i]
}
