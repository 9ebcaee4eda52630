// Package wire is how PLANET's own stream protocols move messages: a
// [Stream] (a libp2p stream, native or in the browser) carrying frames, each
// an unsigned varint byte length and then that many bytes of deterministic
// CBOR (package planet/core/cbor). Each protocol sets the largest frame it
// accepts; a larger length is refused before anything is read or allocated,
// and a frame that is not the one deterministic encoding of a message is
// refused too (docs/protocols/).
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"planet/core/cbor"
)

// Stream is one bidirectional libp2p stream as the protocols see it. A
// go-libp2p network.Stream is one; so is the browser's.
type Stream interface {
	io.Reader
	io.Writer
	// CloseWrite tells the other side that nothing more will be written.
	CloseWrite() error
	// Close closes both directions gracefully.
	Close() error
	// Reset aborts the stream in both directions; the other side sees an error.
	Reset() error
}

var (
	// ErrFrameTooLarge is returned for a frame longer than the protocol allows.
	ErrFrameTooLarge = errors.New("wire: frame larger than the protocol allows")
	// ErrMalformedFrame wraps every other refusal of a frame's bytes: a bad
	// length, CBOR that is not deterministic, or a message that fails its checks.
	ErrMalformedFrame = errors.New("wire: malformed frame")
)

// maxVarintLen bounds the length prefix: frames are far below 2^35 bytes.
const maxVarintLen = 5

// WriteFrame encodes msg as deterministic CBOR and writes it to w as one
// frame. It refuses a message that encodes to more than max bytes, so a
// sender learns of an oversize message before the receiver resets.
func WriteFrame(w io.Writer, max int, msg any) error {
	body, err := cbor.Marshal(msg)
	if err != nil {
		return fmt.Errorf("wire: encode %T: %w", msg, err)
	}
	if len(body) > max {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, len(body), max)
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+len(body))
	buf = binary.AppendUvarint(buf, uint64(len(body)))
	buf = append(buf, body...)
	_, err = w.Write(buf)
	return err
}

// ReadFrame reads one frame of at most max bytes from r and decodes it
// strictly into msg. At the end of the stream before any byte of a frame it
// returns io.EOF; a stream that ends inside a frame is io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, max int, msg any) error {
	body, err := ReadFrameBytes(r, max)
	if err != nil {
		return err
	}
	if err := cbor.Unmarshal(body, msg); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedFrame, err)
	}
	return nil
}

// ReadFrameBytes reads one frame of at most max bytes from r and returns its
// body undecoded.
func ReadFrameBytes(r io.Reader, max int) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, n, max)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrMalformedFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// readUvarint reads a minimally encoded unsigned varint one byte at a time,
// so that it never consumes any byte of the body that follows.
func readUvarint(r io.Reader) (uint64, error) {
	if br, ok := r.(io.ByteReader); ok {
		return readUvarintFrom(br.ReadByte)
	}
	var one [1]byte
	return readUvarintFrom(func() (byte, error) {
		_, err := io.ReadFull(r, one[:])
		return one[0], err
	})
}

func readUvarintFrom(next func() (byte, error)) (uint64, error) {
	var x uint64
	for i := 0; i < maxVarintLen; i++ {
		b, err := next()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if b < 0x80 {
			if i > 0 && b == 0 {
				return 0, fmt.Errorf("%w: length not minimally encoded", ErrMalformedFrame)
			}
			return x | uint64(b)<<(7*i), nil
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, fmt.Errorf("%w: length prefix too long", ErrMalformedFrame)
}
