//go:build js && wasm

package browser

import (
	"context"
	"errors"
	"fmt"
)

// A Request is what [Fetch] sends.
type Request struct {
	Method  string // GET when empty
	URL     string
	Headers map[string]string
	Body    []byte // none when nil
}

// Fetch sends r with the page's fetch, without cookies or the HTTP cache,
// refusing redirects (a resolver must not be sent elsewhere silently), and
// returns the status and body of the answer. A body longer than limit is an
// error wrapping [ErrTooLarge]. It reads the body whole: limit bounds what
// the page holds, not what crosses the network.
func Fetch(ctx context.Context, r Request, limit int) (int, []byte, error) {
	fetch := Global("fetch")
	if !Present(fetch) {
		return 0, nil, errors.New("this browser has no fetch")
	}
	opts := NewObject()
	method := r.Method
	if method == "" {
		method = "GET"
	}
	opts.Set("method", method)
	if r.Body != nil {
		jsBody, err := BytesToJS(r.Body)
		if err != nil {
			return 0, nil, err
		}
		opts.Set("body", jsBody)
	}
	if len(r.Headers) > 0 {
		headers := NewObject()
		for k, v := range r.Headers {
			headers.Set(k, v)
		}
		opts.Set("headers", headers)
	}
	opts.Set("credentials", "omit")
	opts.Set("cache", "no-store")
	opts.Set("redirect", "error")
	p, err := fetch.Invoke(r.URL, opts)
	if err != nil {
		return 0, nil, err
	}
	resp, err := Await(ctx, p)
	if err != nil {
		return 0, nil, err
	}
	status := Int(resp, "status")
	bp, err := resp.Call("arrayBuffer")
	if err != nil {
		return 0, nil, err
	}
	buf, err := Await(ctx, bp)
	if err != nil {
		return 0, nil, err
	}
	if n := Int(buf, "byteLength"); n > limit {
		return status, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, limit)
	}
	b, err := BytesFromJS(buf, limit)
	if err != nil {
		return 0, nil, err
	}
	return status, b, nil
}
