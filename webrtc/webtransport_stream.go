//go:build js && wasm

package webrtc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/network"

	"planet/wasm/browser"
)

// maxChunk bounds one piece of a WebTransport stream as the browser hands
// it over; QUIC flow control keeps real ones far smaller.
const maxChunk = 4 << 20

var (
	errReadClosed  = errors.New("stream closed for reading")
	errWriteClosed = errors.New("stream closed for writing")
)

// wtStream is one WebTransport bidirectional stream as a libp2p stream
// (and, for the Noise handshake, a net.Conn).
//
// Reads pull one chunk at a time from the browser's ReadableStream, so
// nothing arrives that nobody asked for beyond QUIC's own flow-control
// window; a read outlived by its deadline stays pending and serves the
// next Read. Each Write waits until the browser's WritableStream has taken
// the bytes, which is where QUIC's flow control pushes back.
type wtStream struct {
	reader safejs.Value // ReadableStreamDefaultReader
	writer safejs.Value // WritableStreamDefaultWriter
	url    string

	rmu     sync.Mutex             // one Read at a time; guards buf and pending
	buf     []byte                 // received and not yet read
	pending <-chan browser.Settled // an outstanding reader.read()
	wmu     sync.Mutex             // one Write at a time

	mu        sync.Mutex
	rerr      error         // what Read returns once buf is empty
	werr      error         // what Write returns
	readStop  chan struct{} // closed by CloseRead or Reset
	writeStop chan struct{} // closed by Reset
	wclosed   bool

	readDL, writeDL *deadline
}

var (
	_ network.MuxedStream = (*wtStream)(nil)
	_ net.Conn            = (*wtStream)(nil)
)

// newWTStream wraps a WebTransportBidirectionalStream.
func newWTStream(bidi safejs.Value, url string) (*wtStream, error) {
	readable, err := bidi.Get("readable")
	if err != nil {
		return nil, err
	}
	writable, err := bidi.Get("writable")
	if err != nil {
		return nil, err
	}
	s := &wtStream{
		url:       url,
		readStop:  make(chan struct{}),
		writeStop: make(chan struct{}),
		readDL:    newDeadline(),
		writeDL:   newDeadline(),
	}
	if s.reader, err = readable.Call("getReader"); err != nil {
		return nil, err
	}
	if s.writer, err = writable.Call("getWriter"); err != nil {
		return nil, err
	}
	return s, nil
}

// Read reads what the peer sent, waiting for it if need be.
func (s *wtStream) Read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if len(s.buf) > 0 {
		n := copy(p, s.buf)
		s.buf = s.buf[n:]
		return n, nil
	}
	for {
		s.mu.Lock()
		err := s.rerr
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if s.readDL.passed() {
			return 0, os.ErrDeadlineExceeded
		}
		if s.pending == nil {
			p, err := s.reader.Call("read")
			if err == nil {
				s.pending, err = browser.Settle(p)
			}
			if err != nil {
				s.failRead(err)
				continue
			}
		}
		select {
		case r := <-s.pending:
			s.pending = nil
			if r.Err != nil {
				s.failRead(&network.StreamError{Remote: true, TransportError: r.Err})
				continue
			}
			if browser.Bool(r.Value, "done") {
				s.failRead(io.EOF)
				continue
			}
			v, err := r.Value.Get("value")
			var b []byte
			if err == nil {
				b, err = browser.BytesFromJS(v, maxChunk)
			}
			if err != nil {
				s.failRead(fmt.Errorf("webtransport %s: %w", s.url, err))
				continue
			}
			n := copy(p, b)
			s.buf = b[n:]
			if n > 0 || len(p) == 0 {
				return n, nil
			}
		case <-s.readDL.done():
		case <-s.readStop:
		}
	}
}

// failRead records why reading ended; the first reason stays.
func (s *wtStream) failRead(err error) {
	s.mu.Lock()
	if s.rerr == nil {
		s.rerr = err
	}
	s.mu.Unlock()
}

// Write sends p and returns once the browser has taken it.
func (s *wtStream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	err := s.werr
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if s.writeDL.passed() {
		return 0, os.ErrDeadlineExceeded
	}
	if len(p) == 0 {
		return 0, nil
	}
	arr, err := browser.BytesToJS(p)
	if err != nil {
		return 0, err
	}
	w, err := s.writer.Call("write", arr)
	if err != nil {
		return 0, err
	}
	done, err := browser.Settle(w)
	if err != nil {
		return 0, err
	}
	select {
	case r := <-done:
		if r.Err != nil {
			err := &network.StreamError{Remote: true, TransportError: r.Err}
			s.mu.Lock()
			if s.werr == nil {
				s.werr = err
			}
			s.mu.Unlock()
			return 0, err
		}
		return len(p), nil
	case <-s.writeDL.done():
		return 0, os.ErrDeadlineExceeded // the bytes may still go out
	case <-s.writeStop:
		s.mu.Lock()
		defer s.mu.Unlock()
		return 0, s.werr
	}
}

// CloseWrite sends the end of the stream once the bytes written so far
// have gone out. It does not wait for that.
func (s *wtStream) CloseWrite() error {
	s.mu.Lock()
	if s.wclosed {
		s.mu.Unlock()
		return nil
	}
	s.wclosed = true
	if s.werr == nil {
		s.werr = errWriteClosed
	}
	s.mu.Unlock()
	browser.Ignore(s.writer.Call("close"))
	return nil
}

// CloseRead tells the peer to stop sending; a waiting Read returns.
func (s *wtStream) CloseRead() error {
	s.stopReading(errReadClosed)
	return nil
}

func (s *wtStream) stopReading(why error) {
	s.mu.Lock()
	if s.rerr == nil || s.rerr == io.EOF {
		s.rerr = why
	}
	select {
	case <-s.readStop:
		s.mu.Unlock()
		return
	default:
		close(s.readStop)
	}
	s.mu.Unlock()
	browser.Ignore(s.reader.Call("cancel"))
}

// Close closes both directions: what was written is still sent.
func (s *wtStream) Close() error {
	s.CloseWrite()
	s.stopReading(errReadClosed)
	return nil
}

// Reset abandons the stream in both directions.
func (s *wtStream) Reset() error { return s.ResetWithError(0) }

// ResetWithError abandons the stream in both directions. Browsers give
// WebTransport stream errors a single byte, so the code stays local.
func (s *wtStream) ResetWithError(code network.StreamErrorCode) error {
	reset := &network.StreamError{ErrorCode: code}
	s.mu.Lock()
	if s.werr == nil || s.werr == errWriteClosed {
		s.werr = reset
	}
	s.wclosed = true
	select {
	case <-s.writeStop:
	default:
		close(s.writeStop)
	}
	s.mu.Unlock()
	browser.Ignore(s.writer.Call("abort"))
	s.stopReading(reset)
	return nil
}

func (s *wtStream) SetReadDeadline(t time.Time) error  { s.readDL.set(t); return nil }
func (s *wtStream) SetWriteDeadline(t time.Time) error { s.writeDL.set(t); return nil }

func (s *wtStream) SetDeadline(t time.Time) error {
	s.readDL.set(t)
	s.writeDL.set(t)
	return nil
}

func (s *wtStream) LocalAddr() net.Addr  { return urlAddr("") }
func (s *wtStream) RemoteAddr() net.Addr { return urlAddr(s.url) }
