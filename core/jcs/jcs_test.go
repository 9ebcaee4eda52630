package jcs

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"planet/core/internal/vectors"
)

// jcsPair is one input/output pair of testdata/jcs: input/NAME.json holds
// any JSON text, output/NAME.json its canonical form, byte for byte (no
// trailing newline).
type jcsPair struct {
	name          string
	input, output []byte
}

func readJCSPairs(tb testing.TB) []jcsPair {
	tb.Helper()
	dir := filepath.Join("testdata", "jcs")
	inputs, err := filepath.Glob(filepath.Join(dir, "input", "*.json"))
	if err != nil || len(inputs) == 0 {
		tb.Fatalf("no JCS vectors in %s: %v", dir, err)
	}
	var pairs []jcsPair
	for _, in := range inputs {
		name := filepath.Base(in)
		input, err := os.ReadFile(in)
		if err != nil {
			tb.Fatal(err)
		}
		output, err := os.ReadFile(filepath.Join(dir, "output", name))
		if err != nil {
			tb.Fatal(err)
		}
		pairs = append(pairs, jcsPair{name: name, input: input, output: output})
	}
	return pairs
}

// readJCSInvalid reads testdata/jcs/invalid.txt (its format is described at
// its top).
func readJCSInvalid(tb testing.TB) []vectors.Case {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "jcs", "invalid.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []vectors.Case
	var reason []string
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "":
			reason = nil
		case strings.HasPrefix(line, "#"):
			reason = append(reason, strings.TrimSpace(line[1:]))
		default:
			in := line
			if h, ok := strings.CutPrefix(line, "hex:"); ok {
				b, err := hex.DecodeString(h)
				if err != nil {
					tb.Fatalf("invalid.txt:%d: %v", i+1, err)
				}
				in = string(b)
			}
			cases = append(cases, vectors.Case{Line: i + 1, Reason: strings.Join(reason, " "), In: in})
			reason = nil
		}
	}
	if len(cases) == 0 {
		tb.Fatal("invalid.txt: no cases")
	}
	return cases
}

func TestCanonicalizeVectors(t *testing.T) {
	for _, p := range readJCSPairs(t) {
		got, err := Canonicalize(p.input)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		if !bytes.Equal(got, p.output) {
			t.Errorf("%s:\n got %s\nwant %s", p.name, got, p.output)
		}
		// The canonical form is its own canonical form.
		again, err := Canonicalize(p.output)
		if err != nil || !bytes.Equal(again, p.output) {
			t.Errorf("%s: output does not canonicalize to itself: %s, %v", p.name, again, err)
		}
	}
}

func TestCanonicalizeNumbers(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "jcs", "numbers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bits, want, ok := strings.Cut(line, " ")
		b, err := hex.DecodeString(bits)
		if !ok || err != nil || len(b) != 8 {
			t.Fatalf("numbers.txt:%d: bad line %q", i+1, line)
		}
		n++
		f := math.Float64frombits(binary.BigEndian.Uint64(b))
		got, err := Marshal(f)
		if want == "invalid" {
			if err == nil {
				t.Errorf("numbers.txt:%d: %s: got %s, want an error", i+1, bits, got)
			}
			continue
		}
		if err != nil || string(got) != want {
			t.Errorf("numbers.txt:%d: %s: got %s, %v; want %s", i+1, bits, got, err, want)
		}
		if got := appendNumber(nil, f); string(got) != want {
			t.Errorf("numbers.txt:%d: appendNumber(%s) = %s, want %s", i+1, bits, got, want)
		}
		// The text denotes the same double, so canonicalizing it
		// gives it back.
		if got, err := Canonicalize([]byte(want)); err != nil || string(got) != want {
			t.Errorf("numbers.txt:%d: Canonicalize(%s) = %s, %v", i+1, want, got, err)
		}
	}
	if n == 0 {
		t.Fatal("numbers.txt: no cases")
	}
}

// TestCanonicalNumberRoundTrip checks, over random doubles, what must hold
// whatever the layout: the text parses back to the same double, uses the
// shortest digits that do so, and has the layout ECMA-262 gives its exponent.
func TestCanonicalNumberRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		got := string(appendNumber(nil, f))
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != f {
			t.Fatalf("%x: %s parses back as %v, %v", math.Float64bits(f), got, back, err)
		}
		mantissa, exp, _ := strings.Cut(strconv.FormatFloat(math.Abs(f), 'e', -1, 64), "e")
		significand, _, _ := strings.Cut(strings.TrimPrefix(got, "-"), "e")
		digits := strings.Trim(strings.Replace(significand, ".", "", 1), "0")
		if want := strings.Replace(mantissa, ".", "", 1); digits != want {
			t.Fatalf("%x: %s has digits %s, want %s", math.Float64bits(f), got, digits, want)
		}
		x, _ := strconv.Atoi(exp)
		n := x + 1 // ECMA-262's n: the value is 0.digits × 10^n
		if hasE, wantE := strings.Contains(got, "e"), !(-6 < n && n <= 21); hasE != wantE {
			t.Fatalf("%x: %s: exponent form is %v for n = %d", math.Float64bits(f), got, hasE, n)
		}
	}
}

func TestCanonicalizeInvalid(t *testing.T) {
	for _, c := range readJCSInvalid(t) {
		if got, err := Canonicalize([]byte(c.In)); err == nil {
			t.Errorf("invalid.txt:%d (%s): Canonicalize(%q) = %s, want an error", c.Line, c.Reason, c.In, got)
		}
	}
}

func TestCanonicalizeDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	if _, err := Canonicalize(nest(maxDepth)); err != nil {
		t.Errorf("nesting %d deep: %v", maxDepth, err)
	}
	if _, err := Canonicalize(nest(maxDepth + 1)); err == nil {
		t.Errorf("nesting %d deep: no error", maxDepth+1)
	}
	deepObject := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	if _, err := Canonicalize([]byte(deepObject)); err == nil {
		t.Errorf("objects nested %d deep: no error", maxDepth+1)
	}
}

func TestCanonicalJSON(t *testing.T) {
	type inner struct {
		Z string `json:"z"`
		A []int  `json:"a"`
	}
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": "<&>", "c": inner{Z: "x", A: []int{3, 1}}}, `{"a":"<&>","b":1,"c":{"a":[3,1],"z":"x"}}`},
		{struct {
			B float64 `json:"b"`
			A float64 `json:"a"`
		}{B: 1e21, A: 0.1}, `{"a":0.1,"b":1e+21}`},
		{[]any{}, `[]`},
		{"\u2028/é", "\"\u2028/é\""},
		{int64(1) << 53, `9007199254740992`},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[string]any{"a": math.Inf(-1)}, func() {}} {
		if got, err := Marshal(bad); err == nil {
			t.Errorf("Marshal(%v) = %s, want an error", bad, got)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	// In order by UTF-16 code units; byte order would put U+1F600 last.
	ordered := []string{"", "\r", "1", "a", "aa", "ab", "\u0080", "\u00f6", "\u20ac", "\U0001F600", "\U0001F601", "\U0010FFFF", "\ue000", "\ufb33", "\uffff"}
	for i, a := range ordered {
		for j, b := range ordered {
			got := CompareUTF16(a, b)
			if (got < 0) != (i < j) || (got == 0) != (i == j) {
				t.Errorf("CompareUTF16(%q, %q) = %d, want the sign of %d", a, b, got, i-j)
			}
		}
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, p := range readJCSPairs(f) {
		f.Add(p.input)
		f.Add(p.output)
	}
	for _, c := range readJCSInvalid(f) {
		f.Add([]byte(c.In))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Canonicalize(%q) = %q: not valid JSON", in, out)
		}
		if !json.Valid(in) {
			t.Fatalf("Canonicalize accepted %q, which encoding/json refuses", in)
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("canonical form %q canonicalizes to %q, %v", out, again, err)
		}
		// The canonical form means what the input meant. encoding/json
		// decodes numbers to the same doubles and strings to the same
		// text (input with duplicate names, lone surrogates or invalid
		// UTF-8, where it would differ, was refused above).
		var vin, vout any
		if err := json.Unmarshal(in, &vin); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", in, err)
		}
		if err := json.Unmarshal(out, &vout); err != nil {
			t.Fatalf("encoding/json refuses canonical %q: %v", out, err)
		}
		if !reflect.DeepEqual(vin, vout) {
			t.Fatalf("canonical form changed the value:\n in %q: %#v\nout %q: %#v", in, vin, out, vout)
		}
	})
}
