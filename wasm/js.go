//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"planet/wasm/browser"
)

// The API's side of the bridge (package browser): values through JSON,
// arguments, and errors carrying the API's codes.

var (
	global  = safejs.Global()
	jsArray = browser.Array
)

// toJS converts a Go value to JavaScript through JSON: records are plain
// data, and JSON is the one conversion whose rules everyone knows.
func toJS(v any) (safejs.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return safejs.Value{}, err
	}
	return browser.JSON.Call("parse", string(b))
}

// fromJS decodes a JavaScript value (an argument) into v through JSON.
func fromJS(arg safejs.Value, v any) error {
	if arg.IsUndefined() || arg.IsNull() {
		return fmt.Errorf("missing argument: %w", errInvalidArg)
	}
	s, err := browser.JSON.Call("stringify", arg)
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

// async is [browser.Async] with the API's errors: a rejection carries the
// error's code (see classify).
func async(f func(args []safejs.Value) (any, error)) safejs.Value {
	return browser.Async(func(args []safejs.Value) (any, error) {
		v, err := f(args)
		if err != nil {
			return nil, coded(err)
		}
		return v, nil
	})
}

// fn is [browser.Func] with the API's errors: a synchronous function whose
// error is returned as an Error with its code, which web/api.js throws.
func fn(f func(args []safejs.Value) (any, error)) safejs.Value {
	return browser.Func(func(args []safejs.Value) (any, error) {
		v, err := f(args)
		if err != nil {
			return nil, coded(err)
		}
		return v, nil
	})
}

// jsErr makes a JavaScript Error with the error's code.
func jsErr(err error) safejs.Value { return browser.ErrorToJS(coded(err)) }

// newObject returns {}.
func newObject() safejs.Value { return browser.NewObject() }
