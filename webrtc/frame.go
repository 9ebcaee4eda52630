package webrtc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// The wire formats of browser-to-browser WebRTC (the libp2p WebRTC spec),
// kept free of browser APIs so that they are tested and fuzzed natively.
//
// Every message on a data channel is a frame: a varint length, then a
// protobuf Message{optional Flag flag = 1; optional bytes message = 2}. A
// frame is at most maxFrame bytes, its length included. The signaling
// stream carries the same kind of length-prefixed protobuf, a
// Signal{optional Type type = 1; optional string data = 2}.

// Flags a data channel frame may carry.
const (
	flagFIN         = 0 // the sender will send no more
	flagStopSending = 1 // the sender will read no more
	flagReset       = 2 // the sender abandons the stream
	flagFINAck      = 3 // the sender received the other side's FIN
)

const (
	// maxFrame is the largest frame on a data channel, length prefix
	// included: what every libp2p implementation accepts.
	maxFrame = 16 << 10
	// maxPayload is the most data one frame carries: maxFrame less the
	// length prefix (2 bytes), the message field's tag (1) and length (2).
	maxPayload = maxFrame - 5
	// maxSignal bounds one signaling message: an SDP offer or answer is a
	// few KiB, an ICE candidate a few hundred bytes.
	maxSignal = 64 << 10
)

// Signaling message types.
const (
	signalOffer     = 0 // data is an SDP offer
	signalAnswer    = 1 // data is an SDP answer
	signalCandidate = 2 // data is RTCIceCandidate.toJSON() as JSON
)

var errBadFrame = errors.New("malformed frame")

// frame is one data channel message, decoded.
type frame struct {
	flag    int // -1 when absent
	hasData bool
	data    []byte
}

// appendFrame appends the frame carrying data (at most maxPayload bytes)
// and, when flag is not -1, the flag.
func appendFrame(dst []byte, flag int, data []byte) []byte {
	// The Message's length comes first, so it is counted before the
	// fields are written straight into dst, without a buffer between.
	n := 0
	if flag >= 0 {
		n += protowire.SizeTag(1) + protowire.SizeVarint(uint64(flag))
	}
	if data != nil {
		n += protowire.SizeTag(2) + protowire.SizeBytes(len(data))
	}
	dst = protowire.AppendVarint(dst, uint64(n))
	if flag >= 0 {
		dst = protowire.AppendTag(dst, 1, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(flag))
	}
	if data != nil {
		dst = protowire.AppendTag(dst, 2, protowire.BytesType)
		dst = protowire.AppendBytes(dst, data)
	}
	return dst
}

// frameReader reassembles frames from data channel messages. The libp2p
// spec sends each frame in a message of its own, but a length prefix says
// where a frame ends, so frames split across messages are accepted too.
type frameReader struct {
	buf []byte
}

// push adds one received message and returns the frames it completed;
// their data shares memory with msg, which the caller gives up. A frame
// that claims more than maxFrame bytes, or does not parse, is an error:
// the stream is then reset.
func (r *frameReader) push(msg []byte) ([]frame, error) {
	buf := msg
	if len(r.buf) > 0 {
		buf = append(r.buf, msg...)
	}
	var out []frame
	for len(buf) > 0 {
		n, k := protowire.ConsumeVarint(buf)
		if k < 0 {
			if len(buf) >= binaryVarintMax {
				return nil, fmt.Errorf("%w: bad length prefix", errBadFrame)
			}
			break // the prefix is not complete yet
		}
		if n+uint64(k) > maxFrame {
			return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", errBadFrame, n+uint64(k), maxFrame)
		}
		if uint64(len(buf)-k) < n {
			break
		}
		f, err := parseFrame(buf[k : k+int(n) : k+int(n)])
		if err != nil {
			return nil, err
		}
		out = append(out, f)
		buf = buf[k+int(n):]
	}
	r.buf = nil
	if len(buf) > 0 { // the start of a frame: kept until the rest comes
		r.buf = append([]byte(nil), buf...)
	}
	return out, nil
}

// binaryVarintMax is the longest varint there is.
const binaryVarintMax = 10

// parseFrame decodes one Message. Unknown fields are skipped, as protobuf
// requires; data shares memory with msg.
func parseFrame(msg []byte) (frame, error) {
	f := frame{flag: -1}
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return frame{}, fmt.Errorf("%w: %v", errBadFrame, protowire.ParseError(n))
		}
		msg = msg[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(msg)
			if n < 0 {
				return frame{}, fmt.Errorf("%w: flag: %v", errBadFrame, protowire.ParseError(n))
			}
			if v > flagFINAck {
				return frame{}, fmt.Errorf("%w: unknown flag %d", errBadFrame, v)
			}
			f.flag = int(v)
			msg = msg[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return frame{}, fmt.Errorf("%w: message: %v", errBadFrame, protowire.ParseError(n))
			}
			f.hasData, f.data = true, v
			msg = msg[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return frame{}, fmt.Errorf("%w: field %d: %v", errBadFrame, num, protowire.ParseError(n))
			}
			msg = msg[n:]
		}
	}
	return f, nil
}

// signal is one message of the signaling stream.
type signal struct {
	typ  int
	data string
}

// appendSignal appends s, length-prefixed.
func appendSignal(dst []byte, s signal) []byte {
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.VarintType)
	msg = protowire.AppendVarint(msg, uint64(s.typ))
	msg = protowire.AppendTag(msg, 2, protowire.BytesType)
	msg = protowire.AppendString(msg, s.data)
	dst = protowire.AppendVarint(dst, uint64(len(msg)))
	return append(dst, msg...)
}

// parseSignal decodes one signaling message (without its length prefix).
// A message without a type is an offer, protobuf's default.
func parseSignal(msg []byte) (signal, error) {
	var s signal
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return signal{}, fmt.Errorf("signaling: %v", protowire.ParseError(n))
		}
		msg = msg[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(msg)
			if n < 0 {
				return signal{}, fmt.Errorf("signaling: type: %v", protowire.ParseError(n))
			}
			if v > signalCandidate {
				return signal{}, fmt.Errorf("signaling: unknown message type %d", v)
			}
			s.typ = int(v)
			msg = msg[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return signal{}, fmt.Errorf("signaling: data: %v", protowire.ParseError(n))
			}
			s.data = string(v)
			msg = msg[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return signal{}, fmt.Errorf("signaling: field %d: %v", num, protowire.ParseError(n))
			}
			msg = msg[n:]
		}
	}
	return s, nil
}

// readSignal reads one length-prefixed signaling message from r.
func readSignal(r *bufio.Reader) (signal, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return signal{}, err
	}
	if n > maxSignal {
		return signal{}, fmt.Errorf("signaling: a message of %d bytes, more than the %d allowed", n, maxSignal)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return signal{}, fmt.Errorf("signaling: %w", err)
	}
	return parseSignal(msg)
}
