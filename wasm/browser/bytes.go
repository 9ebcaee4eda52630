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

// BytesFromJS copies v, a Uint8Array, an ArrayBuffer or another typed
// array, into a new Go slice. It refuses more than limit bytes (an error
// wrapping [ErrTooLarge]) before copying any; a negative limit is none.
func BytesFromJS(v safejs.Value, limit int) ([]byte, error) {
	isArr, err := v.InstanceOf(Uint8Array)
	if err != nil {
		return nil, err
	}
	if !isArr {
		// A view, not a copy: the bytes are copied once, below.
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
