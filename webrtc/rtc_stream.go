//go:build js && wasm

package webrtc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/libp2p/go-libp2p/core/network"

	"planet/wasm/browser"
)

// Bounds of one data channel stream.
const (
	// maxStreamUnread is what a stream holds received and not yet read.
	// WebRTC data channels have no flow control a reader can exert, so a
	// peer that sends more than this to a reader who is not reading gets
	// its stream reset: the data is refused as a whole, never dropped
	// from the middle.
	maxStreamUnread = 4 << 20
	// maxChannelMessage is the largest message a browser hands over; a
	// frame is far smaller, but frames may share a message.
	maxChannelMessage = 256 << 10
	// channelHighWater: a Write waits while the browser holds this much
	// unsent on the channel (bufferedAmount), until it drains to
	// channelLowWater.
	channelHighWater = 1 << 20
	channelLowWater  = 256 << 10
	// finAckTimeout bounds the wait for the other side to acknowledge our
	// FIN before the channel is closed anyway.
	finAckTimeout = 10 * time.Second
)

var (
	errStopSending = errors.New("the other side stopped reading")
	errConnGone    = errors.New("the WebRTC connection ended")
)

// rtcStream is one RTCDataChannel as a libp2p stream, framed per the
// libp2p WebRTC spec: data in frames of at most 16 KiB, FIN to close the
// writing side (answered with FIN_ACK), STOP_SENDING to close the reading
// side, RESET to abandon both.
//
// The browser delivers messages through event handlers, which run while
// Go waits for JavaScript; they decode frames, queue data and signal, and
// never wait. Once both directions are done (our FIN acknowledged, theirs
// received or our reading stopped), the channel is closed.
type rtcStream struct {
	ch       safejs.Value // RTCDataChannel
	handlers browser.Handlers
	gone     func(*rtcStream) // tells the connection the stream ended

	readable chan struct{} // 1-buffered: data, end or error arrived
	writable chan struct{} // 1-buffered: opened, drained, or ended

	mu          sync.Mutex
	open        bool
	closed      bool // the channel is closed (either side) or being closed
	frames      frameReader
	unread      [][]byte
	unreadBytes int
	rerr        error // what Read returns once unread is empty
	werr        error // what Write returns
	remoteFIN   bool  // the other side will send no more
	readStopped bool  // we read no more (CloseRead or Reset)
	finSent     bool
	finAckOwed  bool          // a FIN arrived before the open event; FIN_ACK goes when it comes
	writeDone   bool          // our FIN was acknowledged (or timed out), or the stream was reset
	finAcked    chan struct{} // closed on FIN_ACK
	frame       []byte        // the frame being sent
	jsFrame     safejs.Value  // its copy for the browser (a Uint8Array of maxFrame bytes)
	jsFull      safejs.Value  // jsFrame's view for a frame of maxFrame bytes, once made

	readDL, writeDL *deadline
}

var _ network.MuxedStream = (*rtcStream)(nil)

// newRTCStream wraps ch, a channel just created here or just announced
// by the other side, and starts listening to its events at once, so that
// messages which arrive before anyone reads are kept.
func newRTCStream(ch safejs.Value, gone func(*rtcStream)) (*rtcStream, error) {
	s := &rtcStream{
		ch:       ch,
		gone:     gone,
		readable: make(chan struct{}, 1),
		writable: make(chan struct{}, 1),
		finAcked: make(chan struct{}),
		readDL:   newDeadline(),
		writeDL:  newDeadline(),
	}
	if err := ch.Set("binaryType", "arraybuffer"); err != nil {
		return nil, err
	}
	if err := ch.Set("bufferedAmountLowThreshold", channelLowWater); err != nil {
		return nil, err
	}
	// Nothing is sent before the channel's open event, not even on a
	// channel the other side opened, which the browser announces with
	// readyState already "open" and then fires open on. Writing earlier,
	// inside the datachannel event, makes Chromium 156 drop the writer's
	// next message now and then (seen in plain JavaScript between two
	// browsers on loopback). It still drops one, more rarely, after the
	// open event (docs/browser-node.md, Limits), so callers bound their
	// waits: the host's NewStream by its context.
	handlers := map[string]func(safejs.Value){
		"onopen":              func(safejs.Value) { s.opened() },
		"onmessage":           s.received,
		"onbufferedamountlow": func(safejs.Value) { notify(s.writable) },
		"onclose":             func(safejs.Value) { s.channelClosed(nil) },
		"onerror": func(ev safejs.Value) {
			err, _ := ev.Get("error")
			s.channelClosed(browser.ErrorFrom(err))
		},
	}
	for name, h := range handlers {
		if err := s.handlers.On(ch, h, name); err != nil {
			s.release()
			return nil, err
		}
	}
	return s, nil
}

// notify signals c without waiting.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *rtcStream) opened() {
	s.mu.Lock()
	s.open = true
	if s.finAckOwed {
		s.finAckOwed = false
		s.sendLocked(flagFINAck, nil)
	}
	s.mu.Unlock()
	notify(s.writable)
}

// received handles one message: it runs in the browser's event loop.
func (s *rtcStream) received(ev safejs.Value) {
	data, err := ev.Get("data")
	var msg []byte
	if err == nil {
		msg, err = browser.BytesFromJS(data, maxChannelMessage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var frames []frame
	if err == nil {
		frames, err = s.frames.push(msg)
	}
	if err != nil {
		s.resetLocked(fmt.Errorf("webrtc: %w", err), true)
		return
	}
	for _, f := range frames {
		if f.hasData && len(f.data) > 0 && !s.remoteFIN && !s.readStopped {
			s.unread = append(s.unread, f.data)
			s.unreadBytes += len(f.data)
			if s.unreadBytes > maxStreamUnread {
				s.resetLocked(fmt.Errorf("webrtc: more than %d bytes unread: %w", maxStreamUnread, errOverflow), true)
				return
			}
			notify(s.readable)
		}
		switch f.flag {
		case flagFIN:
			s.remoteFIN = true
			if s.rerr == nil {
				s.rerr = io.EOF
			}
			if s.open {
				s.sendLocked(flagFINAck, nil)
			} else {
				s.finAckOwed = true // sent once the channel opens
			}
			notify(s.readable)
		case flagStopSending:
			if s.werr == nil || s.werr == errWriteClosed {
				s.werr = errStopSending
			}
			notify(s.writable)
		case flagReset:
			s.resetLocked(network.ErrReset, false)
			return
		case flagFINAck:
			select {
			case <-s.finAcked:
			default:
				close(s.finAcked)
			}
		}
	}
	s.finishLocked()
}

// channelClosed handles the end of the channel, by either side or the
// connection. Data that was queued stays readable; a stream the other
// side had not finished ends in an error, not a clean EOF.
func (s *rtcStream) channelClosed(why error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if why == nil {
		why = errConnGone
	}
	lost := &network.StreamError{Remote: true, TransportError: why}
	if !s.remoteFIN && !s.readStopped && (s.rerr == nil || s.rerr == io.EOF) {
		s.rerr = lost
	}
	if s.werr == nil {
		s.werr = lost
	}
	s.writeDone = true
	s.mu.Unlock()
	notify(s.readable)
	notify(s.writable)
	go s.ended() // not from inside an event handler
}

// ended releases the event handlers and tells the connection.
func (s *rtcStream) ended() {
	s.release()
	s.gone(s)
}

// sendLocked sends one frame if the channel is open. The frame is built
// in buffers the stream keeps (send copies what it is given).
func (s *rtcStream) sendLocked(flag int, data []byte) error {
	if !s.open || s.closed {
		return errConnGone
	}
	s.frame = appendFrame(s.frame[:0], flag, data)
	var err error
	if !browser.Present(s.jsFrame) {
		s.jsFrame, err = browser.Uint8Array.New(maxFrame)
	}
	// A full frame's view is kept: a bulk write sends thousands of them.
	view := s.jsFull
	if err == nil && (len(s.frame) != maxFrame || !browser.Present(view)) {
		view, err = s.jsFrame.Call("subarray", 0, len(s.frame))
		if err == nil && len(s.frame) == maxFrame {
			s.jsFull = view
		}
	}
	if err == nil {
		_, err = safejs.CopyBytesToJS(view, s.frame)
	}
	if err == nil {
		_, err = s.ch.Call("send", view)
	}
	if err != nil {
		return fmt.Errorf("webrtc: sending on the data channel: %w", err)
	}
	return nil
}

// resetLocked abandons the stream: the other side is told (if tell) and
// the channel closes.
func (s *rtcStream) resetLocked(why error, tell bool) {
	if tell {
		s.sendLocked(flagReset, nil)
	}
	err := why
	if why == network.ErrReset {
		err = &network.StreamError{Remote: !tell, TransportError: why}
	}
	if s.rerr == nil || s.rerr == io.EOF || s.rerr == errReadClosed {
		s.rerr = err
	}
	if s.werr == nil || s.werr == errWriteClosed || s.werr == errStopSending {
		s.werr = err
	}
	s.unread, s.unreadBytes = nil, 0
	s.readStopped, s.writeDone = true, true
	notify(s.readable)
	notify(s.writable)
	s.finishLocked()
}

// finishLocked closes the channel once both directions are done.
func (s *rtcStream) finishLocked() {
	if s.closed || !s.writeDone || !(s.remoteFIN || s.readStopped) {
		return
	}
	s.closed = true
	s.ch.Call("close")
	go s.ended() // not from inside an event handler
}

// release frees the event handlers; the channel keeps no reference to Go.
func (s *rtcStream) release() { s.handlers.Release() }

// Read reads what the other side sent, waiting for it if need be.
func (s *rtcStream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if len(s.unread) > 0 {
			n := copy(p, s.unread[0])
			if n == len(s.unread[0]) {
				s.unread[0] = nil
				s.unread = s.unread[1:]
			} else {
				s.unread[0] = s.unread[0][n:]
			}
			s.unreadBytes -= n
			s.mu.Unlock()
			return n, nil
		}
		err := s.rerr
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if s.readDL.passed() {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case <-s.readable:
		case <-s.readDL.done():
		}
	}
}

// Write sends p in frames of at most 16 KiB, waiting while the browser
// holds more than channelHighWater unsent, and returns once all of p is
// handed to the browser.
func (s *rtcStream) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		s.mu.Lock()
		err, open := s.werr, s.open
		s.mu.Unlock()
		if err != nil {
			return written, err
		}
		if s.writeDL.passed() {
			return written, os.ErrDeadlineExceeded
		}
		if !open || browser.Int(s.ch, "bufferedAmount") > channelHighWater {
			select {
			case <-s.writable:
			case <-s.writeDL.done():
			}
			continue
		}
		chunk := p[:min(len(p), maxPayload)]
		s.mu.Lock()
		if s.werr == nil {
			if err := s.sendLocked(-1, chunk); err != nil {
				s.resetLocked(err, false)
			}
		}
		err = s.werr
		s.mu.Unlock()
		if err != nil {
			return written, err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// CloseWrite sends FIN once the channel is open, and closes the channel
// when the other side acknowledged it (or after finAckTimeout) and has
// finished too. It does not wait.
func (s *rtcStream) CloseWrite() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finSent || s.writeDone {
		return nil
	}
	s.finSent = true
	if s.werr == nil || s.werr == errStopSending {
		s.werr = errWriteClosed
	}
	notify(s.writable)
	go s.finish()
	return nil
}

// finish sends the FIN (waiting for the channel to open if need be) and
// waits for its FIN_ACK.
func (s *rtcStream) finish() {
	timeout := time.NewTimer(finAckTimeout)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		if s.writeDone {
			s.mu.Unlock()
			return
		}
		if s.open {
			s.sendLocked(flagFIN, nil)
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		select {
		case <-s.writable:
		case <-timeout.C:
			s.mu.Lock()
			s.writeDone = true
			s.finishLocked()
			s.mu.Unlock()
			return
		}
	}
	select {
	case <-s.finAcked:
	case <-timeout.C:
	}
	s.mu.Lock()
	s.writeDone = true
	s.finishLocked()
	s.mu.Unlock()
}

// CloseRead tells the other side to stop sending and drops what is
// unread; a waiting Read returns.
func (s *rtcStream) CloseRead() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readStopped {
		return nil
	}
	s.readStopped = true
	if !s.remoteFIN {
		s.sendLocked(flagStopSending, nil)
	}
	if s.rerr == nil || s.rerr == io.EOF {
		s.rerr = errReadClosed
	}
	s.unread, s.unreadBytes = nil, 0
	notify(s.readable)
	s.finishLocked()
	return nil
}

// Close closes both directions; what was written is still delivered.
func (s *rtcStream) Close() error {
	s.CloseWrite()
	return s.CloseRead()
}

// Reset abandons the stream in both directions.
func (s *rtcStream) Reset() error { return s.ResetWithError(0) }

// ResetWithError abandons the stream; the WebRTC framing carries no
// error code, so code stays local.
func (s *rtcStream) ResetWithError(code network.StreamErrorCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.resetLocked(&network.StreamError{ErrorCode: code, TransportError: network.ErrReset}, true)
	return nil
}

func (s *rtcStream) SetReadDeadline(t time.Time) error  { s.readDL.set(t); return nil }
func (s *rtcStream) SetWriteDeadline(t time.Time) error { s.writeDL.set(t); return nil }

func (s *rtcStream) SetDeadline(t time.Time) error {
	s.readDL.set(t)
	s.writeDL.set(t)
	return nil
}
