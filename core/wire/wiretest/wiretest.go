// Package wiretest gives tests a [wire.Stream] over plain readers and
// writers, for feeding a protocol's server or client fixed bytes and reading
// what it answers.
package wiretest

import (
	"io"

	"planet/core/wire"
)

// Stream reads from R (nothing at all when R is nil) and writes to W. Its
// CloseWrite, Close and Reset do nothing.
type Stream struct {
	R io.Reader
	W io.Writer
}

var _ wire.Stream = (*Stream)(nil)

func (s *Stream) Read(p []byte) (int, error) {
	if s.R == nil {
		return 0, io.EOF
	}
	return s.R.Read(p)
}

func (s *Stream) Write(p []byte) (int, error) { return s.W.Write(p) }
func (s *Stream) CloseWrite() error           { return nil }
func (s *Stream) Close() error                { return nil }
func (s *Stream) Reset() error                { return nil }
