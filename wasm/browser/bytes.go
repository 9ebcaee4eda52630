//go:build js && wasm

package browser

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// ErrTooLarge is returned by [BytesFromJS] for more bytes than its limit.
var ErrTooLarge = errors.New("receive buffer full")

// BytesToJS copies b into a new Uint8Array.
func BytesToJS(b []byte) (safejs.Value, error) {
	arr, err := Uint8Array.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(arr, b); err != nil {
		return safejs.Value{}, err
	}
	return arr, nil
}

// BytesFromJS copies v, a Uint8Array or an ArrayBuffer, into a new Go
// slice. (Anything else is read as new Uint8Array(v) reads it: another
// typed array value by value.) It refuses more than limit bytes, with an
// error wrapping [ErrTooLarge], before copying any; a negative limit is
// none.
func BytesFromJS(v safejs.Value, limit int) ([]byte, error) {
	if !isUint8Array(v) {
		// A view of an ArrayBuffer, not a copy: the bytes are copied once,
		// below.
		var err error
		if v, err = Uint8Array.New(v); err != nil {
			return nil, err
		}
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	if limit >= 0 && n > limit {
		return nil, fmt.Errorf("%d bytes arrived at once, more than the %d allowed: %w", n, limit, ErrTooLarge)
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}

// uint8Array is the Uint8Array constructor for syscall/js, when it is one.
var uint8Array, haveUint8Array = safejs.Unsafe(Uint8Array), Uint8Array.Type() == safejs.TypeFunction

// isUint8Array reports whether v is a Uint8Array in one call into
// JavaScript: safejs's InstanceOf first checks that the constructor is
// one (three calls more, which quadruple the cost of reading a record),
// and Uint8Array is one. instanceof never throws for such a constructor,
// whatever v is.
func isUint8Array(v safejs.Value) bool {
	return haveUint8Array && safejs.Unsafe(v).InstanceOf(uint8Array)
}
