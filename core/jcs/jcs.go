// Package jcs reads and writes JSON for signatures: the JSON Canonicalization
// Scheme (RFC 8785), which gives each JSON value one byte sequence so that a
// signature over the canonical bytes covers the value however it was
// written, and the strict decoder that every signed or hashed JSON document
// in PLANET is read with, which refuses what would make a document's meaning
// unclear (invalid UTF-8, duplicate member names, data after the value).
//
// PLANET uses the canonical form for the eddsa-jcs-2022 proofs of
// credentials and the strict decoder for DID documents, services and message
// bodies.
package jcs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects that [Canonicalize]
// accepts, so that hostile input cannot make it recurse without end.
const maxDepth = 1000

// Canonicalize returns the canonical form (RFC 8785) of the JSON text data,
// which:
//
//   - has no whitespace between tokens;
//   - writes the members of each object sorted by their names, compared as
//     sequences of UTF-16 code units (as JavaScript compares strings), and
//     arrays in their order;
//   - writes strings with the fewest escapes: \" and \\, \b \f \n \r \t for
//     those controls, \u00xx (lowercase hex) for the other controls below
//     U+0020, and every other character, '/' and non-ASCII included, as
//     itself in UTF-8;
//   - writes numbers as JavaScript's Number.prototype.toString does for the
//     IEEE 754 double that the number denotes (so 1.0 is "1", 1e21 is
//     "1e+21", 1e-7 is "1e-7", -0 is "0"), which is also why integers beyond
//     2^53 lose their precision, exactly as they do in JavaScript;
//   - writes null, true and false as themselves.
//
// Input that JCS cannot give one meaning to is refused rather than guessed
// at: data that is not one valid JSON value (whitespace around it aside), is
// not valid UTF-8, holds an escaped lone surrogate (\ud800 without its
// pair), an object with two members of the same name, or a number too large
// for a double (1e400). Numbers too small for a double become 0, as in
// JavaScript. Arrays and objects may nest at most 1000 deep.
func Canonicalize(data []byte) ([]byte, error) {
	v, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Append(make([]byte, 0, len(data)), v), nil
}

// Marshal returns the canonical form (RFC 8785) of v as encoding/json
// marshals it. Marshalling follows encoding/json's rules, so a string that
// is not valid UTF-8 has its bad bytes replaced by U+FFFD, as json.Marshal
// does, and NaN and infinities are refused.
func Marshal(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return Canonicalize(data)
}

// The parsed form of a JSON value is one of: nil (null), bool, float64,
// string, []any, Object.

// Object is a parsed JSON object: its members sorted by name in UTF-16
// code unit order, no two with the same name.
type Object []Member

// Member is one member of an Object.
type Member struct {
	Name  string
	Value any
}

// Get returns the value of the member called name.
func (o Object) Get(name string) (any, bool) {
	for _, m := range o {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// Parse parses data as one JSON value, in the form Canonicalize writes from:
// nil, bool, float64, string, []any or Object. It refuses what Canonicalize
// refuses.
func Parse(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("canonical json: input is not valid UTF-8")
	}
	p := parser{data: data}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.errorf("data after the JSON value")
	}
	return v, nil
}

type parser struct {
	data  []byte
	pos   int
	depth int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("canonical json: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value that starts at p.pos (after any whitespace).
func (p *parser) value() (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 'n':
		return nil, p.literal("null")
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	default:
		return nil, p.errorf("unexpected %q", rune(c))
	}
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal: want %s", word)
	}
	p.pos += len(word)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	start := p.pos
	p.pos++ // '{'
	obj := Object{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return obj, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("want a member name in double quotes")
		}
		name, err := p.string()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("want ':' after a member name")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		obj = append(obj, Member{Name: name, Value: v})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		if c := p.data[p.pos]; c == '}' {
			p.pos++
			break
		} else if c != ',' {
			return nil, p.errorf("want ',' or '}' in an object")
		}
		p.pos++
	}
	slices.SortStableFunc(obj, func(a, b Member) int { return CompareUTF16(a.Name, b.Name) })
	for i := 1; i < len(obj); i++ {
		if obj[i].Name == obj[i-1].Name {
			// Parsers disagree on which of two members wins; a
			// signature over one meaning must not verify for another.
			return nil, fmt.Errorf("canonical json: object at offset %d has the member %q twice", start, obj[i].Name)
		}
	}
	p.depth--
	return obj, nil
}

func (p *parser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	arr := []any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return arr, nil
	}
	for {
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		if c := p.data[p.pos]; c == ']' {
			p.pos++
			break
		} else if c != ',' {
			return nil, p.errorf("want ',' or ']' in an array")
		}
		p.pos++
	}
	p.depth--
	return arr, nil
}

// string parses the string that starts at p.pos and returns it unescaped.
// The input is known to be valid UTF-8.
func (p *parser) string() (string, error) {
	p.pos++ // '"'
	var buf []byte
	start := p.pos
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		switch c := p.data[p.pos]; {
		case c == '"':
			s := string(append(buf, p.data[start:p.pos]...))
			p.pos++
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character U+%04X in a string must be escaped", c)
		case c == '\\':
			buf = append(buf, p.data[start:p.pos]...)
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
			start = p.pos
		default:
			p.pos++
		}
	}
}

// escape parses the escape sequence at p.pos and returns its character.
func (p *parser) escape() (rune, error) {
	if p.pos+1 >= len(p.data) {
		return 0, p.errorf("unterminated escape")
	}
	c := p.data[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
	default:
		p.pos -= 2
		return 0, p.errorf("invalid escape \\%c", c)
	}
	r, err := p.hex4()
	if err != nil {
		return 0, err
	}
	switch {
	case utf16.IsSurrogate(r) && r < 0xdc00:
		if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
			p.pos += 2
			lo, err := p.hex4()
			if err != nil {
				return 0, err
			}
			if 0xdc00 <= lo && lo <= 0xdfff {
				return utf16.DecodeRune(r, lo), nil
			}
			p.pos -= 6
		}
		return 0, p.errorf("high surrogate \\u%04x is not followed by a low surrogate", r)
	case utf16.IsSurrogate(r):
		return 0, p.errorf("low surrogate \\u%04x has no high surrogate before it", r)
	}
	return r, nil
}

func (p *parser) hex4() (rune, error) {
	if len(p.data)-p.pos < 4 {
		return 0, p.errorf("want four hex digits after \\u")
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errorf("want four hex digits after \\u")
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, nil
}

// number parses the number at p.pos, checking the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, which is stricter than
// strconv's.
func (p *parser) number() (any, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number: want digits after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number: want digits in the exponent")
		}
	}
	text := string(p.data[start:p.pos])
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		// The grammar was checked, so this is a number too large
		// for a double.
		return nil, fmt.Errorf("canonical json: offset %d: number %s is out of the range of a double", start, text)
	}
	return f, nil
}

// CompareUTF16 compares two valid UTF-8 strings as sequences of UTF-16 code
// units, the order RFC 8785 sorts member names in. It differs from comparing
// the bytes (which is code point order) only where a character beyond U+FFFF
// meets one from U+E000 to U+FFFF: in UTF-16 the first is a surrogate pair,
// D800 to DBFF, and sorts before the second.
func CompareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if ua, ub := firstUTF16Unit(ra), firstUTF16Unit(rb); ua != ub {
				return int(ua) - int(ub)
			}
			// Both beyond U+FFFF with the same high surrogate: the
			// low surrogates are in the order of the code points.
			return int(ra) - int(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func firstUTF16Unit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

// Append appends the canonical form of the parsed value v to b.
func Append(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return appendNumber(b, v)
	case string:
		return AppendString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = Append(b, e)
		}
		return append(b, ']')
	case Object:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, m.Name)
			b = append(b, ':')
			b = Append(b, m.Value)
		}
		return append(b, '}')
	default:
		panic(fmt.Sprintf("core: Append: unexpected %T", v))
	}
}

// AppendString appends s, which must be valid UTF-8, as a JSON string
// with the escapes of RFC 8785 (those of JavaScript's JSON.stringify).
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendNumber appends f as JavaScript's Number.prototype.toString
// (ECMA-262, Number::toString) writes it, which RFC 8785 adopts. It panics
// on NaN and infinities, which JSON cannot hold and the parser never makes.
//
// ECMA-262 takes the shortest decimal digits s (k of them) and exponent n
// with s × 10^(n−k) = f, choosing the closest such s to f when several
// round-trip; strconv's shortest formatting ('e', precision -1) finds the
// same digits. The layout then depends on n:
//
//	k ≤ n ≤ 21     digits, then n−k zeros           1e20 → 100000000000000000000
//	0 < n ≤ 21     digits with a point after n      4.5
//	−6 < n ≤ 0     "0.", −n zeros, digits           0.000001
//	otherwise      d[.ddd]e±(n−1)                   1e+21, 1e-7, 1.5e-7
func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic("core: appendNumber: not a finite number")
	}
	if f == 0 { // +0 and -0 alike
		return append(b, '0')
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // "d.ddde±xx" or "de±xx"
	var digits []byte
	var exp int
	for i, c := range e {
		if c == 'e' {
			x, err := strconv.Atoi(string(e[i+1:]))
			if err != nil {
				panic("core: appendNumber: bad exponent from strconv")
			}
			exp = x
			break
		}
		if c != '.' {
			digits = append(digits, c)
		}
	}
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		b = append(b, digits...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for range -n {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}
