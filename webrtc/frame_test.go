//go:build !js

package webrtc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestFrameRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xa5}, maxPayload)
	cases := []struct {
		flag int
		data []byte
	}{
		{-1, []byte("hello")},
		{-1, []byte{}},
		{-1, big},
		{flagFIN, nil},
		{flagStopSending, nil},
		{flagReset, nil},
		{flagFINAck, nil},
	}
	for _, c := range cases {
		wire := appendFrame(nil, c.flag, c.data)
		if len(wire) > maxFrame {
			t.Fatalf("a frame of %d data bytes is %d bytes long, more than %d", len(c.data), len(wire), maxFrame)
		}
		var r frameReader
		got, err := r.push(wire)
		if err != nil || len(got) != 1 {
			t.Fatalf("flag %d, %d bytes: got %d frames, %v", c.flag, len(c.data), len(got), err)
		}
		f := got[0]
		if f.flag != c.flag || f.hasData != (c.data != nil) || !bytes.Equal(f.data, c.data) {
			t.Fatalf("flag %d, %d bytes: read back flag %d, %d bytes (data %v)", c.flag, len(c.data), f.flag, len(f.data), f.hasData)
		}
	}
}

// The spec sends one frame per message; split and merged ones are read
// all the same.
func TestFrameReassembly(t *testing.T) {
	var wire []byte
	for i := range 5 {
		wire = appendFrame(wire, -1, bytes.Repeat([]byte{byte(i)}, 1000*i+1))
	}
	wire = appendFrame(wire, flagFIN, nil)
	for _, step := range []int{1, 7, 1000, len(wire)} {
		var r frameReader
		var frames []frame
		for i := 0; i < len(wire); i += step {
			got, err := r.push(wire[i:min(i+step, len(wire))])
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			frames = append(frames, got...)
		}
		if len(frames) != 6 || frames[5].flag != flagFIN || len(frames[4].data) != 4001 || r.buf != nil {
			t.Fatalf("step %d: %d frames, rest %d bytes", step, len(frames), len(r.buf))
		}
	}
}

func TestFrameRefused(t *testing.T) {
	over := protowire.AppendVarint(nil, maxFrame)
	bad := map[string][]byte{
		"too long":       over,
		"unknown flag":   {2, 0x08, 9},
		"truncated flag": {1, 0x08},
		"bad length":     {3, 0x12, 5, 1},
		"bad prefix":     bytes.Repeat([]byte{0xff}, 11),
	}
	for name, wire := range bad {
		var r frameReader
		if _, err := r.push(wire); !errors.Is(err, errBadFrame) {
			t.Errorf("%s: got %v, want errBadFrame", name, err)
		}
	}
	// Unknown fields are skipped.
	msg := protowire.AppendTag(nil, 9, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("later"))
	msg = protowire.AppendTag(msg, 2, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("data"))
	var r frameReader
	got, err := r.push(append(protowire.AppendVarint(nil, uint64(len(msg))), msg...))
	if err != nil || len(got) != 1 || string(got[0].data) != "data" {
		t.Fatalf("unknown field: %v %v", got, err)
	}
}

func TestSignalRoundTrip(t *testing.T) {
	var wire []byte
	in := []signal{{signalOffer, "v=0\r\n"}, {signalAnswer, "v=0 answer"}, {signalCandidate, `{"candidate":"x"}`}}
	for _, s := range in {
		wire = appendSignal(wire, s)
	}
	r := bufio.NewReader(bytes.NewReader(wire))
	for _, want := range in {
		got, err := readSignal(r)
		if err != nil || got != want {
			t.Fatalf("got %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := readSignal(r); err != io.EOF {
		t.Fatalf("after the last message: %v", err)
	}
	huge := protowire.AppendVarint(nil, maxSignal+1)
	if _, err := readSignal(bufio.NewReader(bytes.NewReader(huge))); err == nil {
		t.Fatal("an oversize signaling message was accepted")
	}
	if _, err := readSignal(bufio.NewReader(bytes.NewReader([]byte{2, 0x08, 7}))); err == nil {
		t.Fatal("an unknown signaling type was accepted")
	}
}

func FuzzFrameReader(f *testing.F) {
	f.Add(appendFrame(nil, -1, []byte("hello")))
	f.Add(appendFrame(appendFrame(nil, flagFIN, nil), flagFINAck, nil))
	f.Add([]byte{0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var r frameReader
		frames, err := r.push(wire)
		if err != nil {
			return
		}
		for _, fr := range frames {
			if len(fr.data) > maxFrame {
				t.Fatalf("a frame with %d bytes of data", len(fr.data))
			}
			// What was read encodes to a frame that reads back the same.
			var again frameReader
			var data []byte
			if fr.hasData {
				data = fr.data
			}
			back, err := again.push(appendFrame(nil, fr.flag, data))
			if err != nil || len(back) != 1 || back[0].flag != fr.flag || !bytes.Equal(back[0].data, fr.data) {
				t.Fatalf("re-encoding %+v: %v %v", fr, back, err)
			}
		}
	})
}

func FuzzSignal(f *testing.F) {
	f.Add(appendSignal(nil, signal{signalCandidate, `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host"}`}))
	f.Fuzz(func(t *testing.T, wire []byte) {
		s, err := readSignal(bufio.NewReader(bytes.NewReader(wire)))
		if err != nil {
			return
		}
		back, err := readSignal(bufio.NewReader(bytes.NewReader(appendSignal(nil, s))))
		if err != nil || back != s {
			t.Fatalf("re-encoding %+v: %+v %v", s, back, err)
		}
	})
}
