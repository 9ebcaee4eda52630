//go:build js && wasm

package browser_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"planet/wasm/browser"
)

// eval runs JavaScript source through the Function constructor and returns
// its value: the tests make promises and errors the way pages do.
func eval(t testing.TB, body string, args ...any) safejs.Value {
	t.Helper()
	f, err := browser.Global("Function").New(body)
	if err != nil {
		t.Fatalf("new Function(%q): %v", body, err)
	}
	v, err := f.Invoke(args...)
	if err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return v
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAwaitResolves(t *testing.T) {
	p := eval(t, `return new Promise(r => setTimeout(() => r("done"), 10))`)
	v, err := browser.Await(testContext(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.String(); s != "done" {
		t.Errorf("Await = %q, want %q", s, "done")
	}
}

func TestAwaitRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       browser.JSError
	}{
		{"Error", `return Promise.reject(new TypeError("no such thing"))`, browser.JSError{Name: "TypeError", Message: "no such thing"}},
		{"DOMException", `return Promise.reject(new DOMException("quota", "QuotaExceededError"))`, browser.JSError{Name: "QuotaExceededError", Message: "quota"}},
		{"string", `return Promise.reject("just words")`, browser.JSError{Message: "just words"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := browser.Await(testContext(t), eval(t, tc.body))
			var je *browser.JSError
			if !errors.As(err, &je) {
				t.Fatalf("Await = %v (%T), want a *JSError", err, err)
			}
			if *je != tc.want {
				t.Errorf("Await = %+v, want %+v", *je, tc.want)
			}
		})
	}
}

func TestAwaitCancelled(t *testing.T) {
	never := eval(t, `return new Promise(() => {})`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := browser.Await(ctx, never); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Await returned %v after the cancel", d)
	}
	// A promise that settles after its waiter left is handled, not reported.
	late := eval(t, `return new Promise((_, reject) => setTimeout(() => reject(new Error("late")), 10))`)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := browser.Await(ctx, late); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v, want context.Canceled", err)
	}
	time.Sleep(30 * time.Millisecond) // the rejection arrives to released-safe callbacks
}

func TestBytesRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 16 << 10, 1 << 20} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		arr, err := browser.BytesToJS(b)
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := arr.Length(); l != n {
			t.Fatalf("Uint8Array of %d bytes has length %d", n, l)
		}
		got, err := browser.BytesFromJS(arr, -1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%d bytes came back different", n)
		}
		// Through JavaScript as an ArrayBuffer, as data channels deliver.
		buf, err := arr.Get("buffer")
		if err != nil {
			t.Fatal(err)
		}
		if got, err = browser.BytesFromJS(buf, n); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes from an ArrayBuffer: %v", n, err)
		}
	}
}

func TestBytesFromJSLimit(t *testing.T) {
	arr := eval(t, `return new Uint8Array([1, 2, 3, 4])`)
	if _, err := browser.BytesFromJS(arr, 3); !errors.Is(err, browser.ErrTooLarge) {
		t.Errorf("BytesFromJS(4 bytes, limit 3) = %v, want ErrTooLarge", err)
	}
	if b, err := browser.BytesFromJS(arr, 4); err != nil || !bytes.Equal(b, []byte{1, 2, 3, 4}) {
		t.Errorf("BytesFromJS(4 bytes, limit 4) = %v, %v", b, err)
	}
	part := eval(t, `return new Uint8Array([9, 1, 2, 9]).subarray(1, 3)`)
	if b, err := browser.BytesFromJS(part, -1); err != nil || !bytes.Equal(b, []byte{1, 2}) {
		t.Errorf("BytesFromJS(a subarray) = %v, %v; want [1 2]", b, err)
	}
}

var errSentinel = errors.New("the thing is missing")

// TestGoErrorToJS calls Go through Async and Func from JavaScript, the way
// the page does, and checks the Error it sees.
func TestGoErrorToJS(t *testing.T) {
	coded := browser.Async(func(args []safejs.Value) (any, error) {
		return nil, &browser.Error{Name: "PlanetError", Code: "not_found", Message: "That item no longer exists.", Err: errSentinel}
	})
	plain := browser.Async(func(args []safejs.Value) (any, error) { return nil, errSentinel })
	ok := browser.Async(func(args []safejs.Value) (any, error) {
		s, _ := args[0].String()
		time.Sleep(5 * time.Millisecond) // may wait: it runs on a goroutine
		return s + "!", nil
	})
	sync := browser.Func(func(args []safejs.Value) (any, error) {
		return nil, &browser.Error{Code: "invalid", Message: "No."}
	})
	// The promise's outcome as plain data, checked in Go.
	check := `return f(...args).then(v => ({ok: true, v}),
		e => ({ok: false, isError: e instanceof Error, name: e.name, message: e.message, code: e.code}))`
	run := func(f safejs.Value, args ...any) safejs.Value {
		t.Helper()
		v, err := browser.Await(testContext(t), eval(t, `const [f, ...args] = arguments; `+check, append([]any{f}, args...)...))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	r := run(coded)
	if browser.Bool(r, "ok") || !browser.Bool(r, "isError") {
		t.Fatalf("the promise did not reject with an Error")
	}
	if got := [3]string{browser.String(r, "name"), browser.String(r, "message"), browser.String(r, "code")}; got != [3]string{"PlanetError", "That item no longer exists.", "not_found"} {
		t.Errorf("rejected with %q, want PlanetError, its message and code not_found", got)
	}

	r = run(plain)
	if got := [3]string{browser.String(r, "name"), browser.String(r, "message"), browser.String(r, "code")}; got != [3]string{"Error", errSentinel.Error(), ""} {
		t.Errorf("rejected with %q, want a plain Error with the message and no code", got)
	}

	r = run(ok, "yes")
	if !browser.Bool(r, "ok") || browser.String(r, "v") != "yes!" {
		t.Errorf("Async did not resolve with its value")
	}

	e := eval(t, `return arguments[0]()`, sync)
	if isErr, _ := e.InstanceOf(browser.Global("Error")); !isErr || browser.String(e, "code") != "invalid" {
		t.Errorf("Func's error came back as %v, want an Error with code invalid", e)
	}
}

func TestHandlers(t *testing.T) {
	target := eval(t, `return new EventTarget()`)
	obj := browser.NewObject()
	got := make(chan string, 10)
	var h browser.Handlers
	if err := h.Listen(target, func(ev safejs.Value) { got <- browser.String(ev, "type") }, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := h.On(obj, func(ev safejs.Value) { got <- "on:" + browser.String(ev, "type") }, "onx", "ony"); err != nil {
		t.Fatal(err)
	}
	dispatch := func() {
		eval(t, `const [t, o] = arguments;
			t.dispatchEvent(new Event("a")); t.dispatchEvent(new Event("b"));
			if (o.onx) o.onx({type: "x"}); if (o.ony) o.ony({type: "y"})`, target, obj)
	}
	dispatch()
	for _, want := range []string{"a", "b", "on:x", "on:y"} {
		if s := <-got; s != want {
			t.Errorf("handler saw %q, want %q", s, want)
		}
	}
	h.Release()
	dispatch() // would crash Go if a released function were still installed
	select {
	case s := <-got:
		t.Errorf("a released handler saw %q", s)
	default:
	}
	if v, _ := obj.Get("onx"); !v.IsNull() {
		t.Errorf("onx is %v after Release, want null", v)
	}
	if err := h.On(obj, func(safejs.Value) {}, "onz"); !errors.Is(err, browser.ErrReleased) {
		t.Errorf("On after Release = %v, want ErrReleased", err)
	}
	h.Release() // again: nothing happens
}

func TestGlobals(t *testing.T) {
	for name, v := range map[string]safejs.Value{"Object": browser.Object, "Array": browser.Array,
		"Uint8Array": browser.Uint8Array, "Promise": browser.Promise, "JSON": browser.JSON} {
		if !browser.Present(v) {
			t.Errorf("%s is missing", name)
		}
	}
	if browser.Present(browser.Global("NoSuchGlobalAnywhere")) {
		t.Error("a missing global is present")
	}
}

// BenchmarkBytesFromJS is the per-value cost of reading bytes, as the
// IndexedDB store does for each record (a 200-byte record).
func BenchmarkBytesFromJS(b *testing.B) {
	arr, err := browser.BytesToJS(make([]byte, 200))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := browser.BytesFromJS(arr, -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBytesFromUint8Array is the same copy without the type check.
func BenchmarkBytesFromUint8Array(b *testing.B) {
	arr, err := browser.BytesToJS(make([]byte, 200))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		n, _ := arr.Length()
		buf := make([]byte, n)
		safejs.CopyBytesToGo(buf, arr)
	}
}
