package jcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxDecodeDepth bounds the nesting that [Decode] accepts. The documents it
// reads (DID services, message bodies) nest a few levels; a bound keeps
// hostile input from recursing without end.
const maxDecodeDepth = 16

// Decode decodes one JSON value: objects as map[string]any, arrays
// as []any, numbers as json.Number (so they keep their exact text), strings,
// bools and nil. Unlike encoding/json it refuses what would make the meaning
// unclear: invalid UTF-8 (which encoding/json would silently replace),
// duplicate object keys (where encoding/json keeps the last), anything after
// the value, and nesting deeper than maxDecodeDepth.
func Decode(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err == io.EOF {
		return nil, errors.New("unexpected end of data")
	}
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth == maxDecodeDepth {
		return nil, fmt.Errorf("nested more than %d deep", maxDecodeDepth)
	}
	switch delim {
	case '{':
		m := make(map[string]any)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := tok.(string) // the decoder allows only strings here
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("key %q appears twice", key)
			}
			if m[key], err = decodeValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token() // '}'
		return m, err
	default: // '['; the decoder never starts a value with '}' or ']'
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
}

// DecodeObject decodes data strictly (see Decode) as one JSON
// object.
func DecodeObject(data []byte) (map[string]any, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("is not a JSON object")
	}
	return obj, nil
}

// Encode writes v without whitespace and without escaping <, > and &,
// which need no escaping outside HTML.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
