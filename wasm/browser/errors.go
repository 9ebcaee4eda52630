//go:build js && wasm

package browser

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// JSError is a JavaScript error seen from Go: a promise's rejection
// reason, or the error of an event or a request. (An exception thrown by a
// call is already a Go error, made by safejs.)
type JSError struct {
	Name    string // such as "TypeError", "QuotaExceededError"; may be ""
	Message string // may be ""
}

func (e *JSError) Error() string {
	switch {
	case e.Name != "" && e.Message != "":
		return "javascript: " + e.Name + ": " + e.Message
	case e.Message != "":
		return "javascript: " + e.Message
	case e.Name != "":
		return "javascript: " + e.Name
	}
	return "javascript: failed"
}

// ErrorFrom turns a JavaScript error value (an Error, a DOMException, or
// anything thrown) into a Go error, a [*JSError] unless v is missing.
func ErrorFrom(v safejs.Value) error {
	if !Present(v) {
		return errors.New("javascript: failed without a reason")
	}
	e := &JSError{}
	if t := v.Type(); t == safejs.TypeObject || t == safejs.TypeFunction {
		e.Name, e.Message = String(v, "name"), String(v, "message")
	}
	if e.Name == "" && e.Message == "" {
		// Something thrown that is not an Error (a string, a number):
		// its text, as String(v) gives it.
		if s, err := jsString.Invoke(v); err == nil {
			e.Message, _ = s.String()
		}
	}
	return e
}

// Error is a Go error as the page sees it: [ErrorToJS] makes it an Error
// with this name, message and code. Code is the stable name of the error's
// class, which the page acts on; Message is written for people.
type Error struct {
	Name    string // the Error's name; "Error" when empty
	Code    string
	Message string
	Err     error // the cause, for Go
}

func (e *Error) Error() string {
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorToJS returns err as a JavaScript Error. When err is or wraps an
// [*Error], the Error carries its name, message and code; otherwise only
// err's message.
func ErrorToJS(err error) safejs.Value {
	msg, name, code := err.Error(), "", ""
	var e *Error
	if errors.As(err, &e) {
		msg, name, code = e.Error(), e.Name, e.Code
	}
	v, jerr := jsError.New(msg)
	if jerr != nil {
		panic(fmt.Sprintf("browser: new Error: %v", jerr)) // the page is broken beyond repair
	}
	if code != "" {
		v.Set("code", code)
	}
	if name != "" {
		v.Set("name", name)
	}
	return v
}
