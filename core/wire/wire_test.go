package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type wireTestMsg struct {
	A string `cbor:"1,keyasint"`
	B int    `cbor:"2,keyasint,omitempty"`
}

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	for _, m := range []wireTestMsg{{A: "one"}, {A: "two", B: 300}} {
		if err := WriteFrame(&buf, 64, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []wireTestMsg{{A: "one"}, {A: "two", B: 300}} {
		var got wireTestMsg
		if err := ReadFrame(&buf, 64, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	var end wireTestMsg
	if err := ReadFrame(&buf, 64, &end); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestFrameRefusals(t *testing.T) {
	if err := WriteFrame(io.Discard, 4, wireTestMsg{A: "too long for four"}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize write: %v", err)
	}
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"too large":         {[]byte{0x80, 0x01}, ErrFrameTooLarge},
		"empty":             {[]byte{0x00}, ErrMalformedFrame},
		"non-minimal":       {[]byte{0x81, 0x00}, ErrMalformedFrame},
		"endless varint":    {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrMalformedFrame},
		"cut in length":     {[]byte{0x81}, io.ErrUnexpectedEOF},
		"cut in body":       {[]byte{0x05, 0xa1}, io.ErrUnexpectedEOF},
		"not cbor":          {[]byte{0x01, 0xff}, ErrMalformedFrame},
		"not deterministic": {[]byte{0x04, 0xa1, 0x18, 0x01, 0x61}, ErrMalformedFrame},
		"trailing":          {[]byte{0x02, 0xa0, 0x00}, ErrMalformedFrame},
	} {
		var m wireTestMsg
		if err := ReadFrame(bytes.NewReader(tc.in), 64, &m); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteFrame(&buf, 64, wireTestMsg{A: "seed", B: 7})
	f.Add(buf.Bytes())
	f.Add([]byte{0x81, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m wireTestMsg
		if err := ReadFrame(bytes.NewReader(data), 64, &m); err != nil {
			return
		}
		var again bytes.Buffer
		if err := WriteFrame(&again, 64, m); err != nil {
			t.Fatalf("a frame that was read does not write: %v", err)
		}
		if !bytes.HasPrefix(data, again.Bytes()) {
			t.Fatalf("frame %x re-encodes as %x", data, again.Bytes())
		}
	})
}
