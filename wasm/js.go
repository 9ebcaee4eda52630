//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// The small set of JavaScript operations the bridge needs, over safejs so
// that a JavaScript exception becomes a Go error instead of a panic.

var global = safejs.Global()

func jsGlobal(name string) safejs.Value {
	v, err := global.Get(name)
	if err != nil {
		panic(fmt.Sprintf("global %s: %v", name, err)) // the page is broken beyond repair
	}
	return v
}

var (
	jsObject     = jsGlobal("Object")
	jsPromise    = jsGlobal("Promise")
	jsUint8Array = jsGlobal("Uint8Array")
	jsBlob       = jsGlobal("Blob")
	jsJSON       = jsGlobal("JSON")
	jsError      = jsGlobal("Error")
	jsArray      = jsGlobal("Array")
)

// toJS converts a Go value to JavaScript through JSON: records are plain
// data, and JSON is the one conversion whose rules everyone knows.
func toJS(v any) (safejs.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return safejs.Value{}, err
	}
	return jsJSON.Call("parse", string(b))
}

// fromJS decodes a JavaScript value (an argument) into v through JSON.
func fromJS(arg safejs.Value, v any) error {
	if arg.IsUndefined() || arg.IsNull() {
		return fmt.Errorf("missing argument: %w", errInvalidArg)
	}
	s, err := jsJSON.Call("stringify", arg)
	if err != nil {
		return err
	}
	str, err := s.String()
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(str), v); err != nil {
		return fmt.Errorf("%v: %w", err, errInvalidArg)
	}
	return nil
}

var errInvalidArg = errors.New("invalid argument")

func str(args []safejs.Value, i int) (string, error) {
	if i >= len(args) {
		return "", fmt.Errorf("argument %d is missing: %w", i+1, errInvalidArg)
	}
	if args[i].Type() != safejs.TypeString {
		return "", fmt.Errorf("argument %d must be a string: %w", i+1, errInvalidArg)
	}
	return args[i].String()
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i >= len(args) {
		return safejs.Undefined()
	}
	return args[i]
}

func bytesToJS(b []byte) (safejs.Value, error) {
	arr, err := jsUint8Array.New(len(b))
	if err != nil {
		return arr, err
	}
	_, err = safejs.CopyBytesToJS(arr, b)
	return arr, err
}

func bytesFromJS(v safejs.Value) ([]byte, error) {
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = safejs.CopyBytesToGo(b, v)
	return b, err
}

// await waits for a JavaScript promise. It must run on a goroutine of its
// own, never inside a JavaScript callback (the event loop would stall).
func await(p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	done := make(chan result, 1)
	onOK, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{v: arg(args, 0)}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer onOK.Release()
	onErr, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{err: jsErrorToGo(arg(args, 0))}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer onErr.Release()
	if _, err := p.Call("then", onOK.Value(), onErr.Value()); err != nil {
		return safejs.Value{}, err
	}
	r := <-done
	return r.v, r.err
}

func jsErrorToGo(v safejs.Value) error {
	if m, err := v.Get("message"); err == nil && m.Type() == safejs.TypeString {
		s, _ := m.String()
		return errors.New(s)
	}
	return errors.New("a JavaScript call failed")
}

// newObject returns {}.
func newObject() safejs.Value {
	o, err := jsObject.New()
	if err != nil {
		panic(err)
	}
	return o
}

// fn is a JavaScript function kept for the life of the page.
func fn(f func(args []safejs.Value) (any, error)) safejs.Value {
	jf, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v, err := f(args)
		if err != nil {
			return throw(err)
		}
		return v
	})
	if err != nil {
		panic(err)
	}
	return jf.Value()
}

// async is a JavaScript function returning a Promise, whose work runs on a
// goroutine so that it may wait for IndexedDB and other promises.
func async(f func(args []safejs.Value) (any, error)) safejs.Value {
	return fn(func(args []safejs.Value) (any, error) {
		var executor safejs.Func
		executor, err := safejs.FuncOf(func(_ safejs.Value, pargs []safejs.Value) any {
			resolve, reject := pargs[0], pargs[1]
			go func() {
				v, err := f(args)
				if err != nil {
					reject.Invoke(jsErr(err))
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
		return jsPromise.New(executor.Value())
	})
}

// throw makes a synchronous function's error visible to JavaScript: the
// returned Error object is thrown by the caller-side wrapper.
func throw(err error) any { return jsErr(err) }
