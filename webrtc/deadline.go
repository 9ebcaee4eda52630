//go:build js && wasm

package webrtc

import (
	"sync"
	"time"
)

// deadline is one direction's deadline of a connection or stream, in the
// shape net.Conn asks for: setting it wakes whoever waits, so that a new
// deadline applies to calls already blocked.
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	gen     uint64        // bumped by each set; a stale timer closes nothing
	expired chan struct{} // closed once the deadline has passed
}

func newDeadline() *deadline {
	return &deadline{expired: make(chan struct{})}
}

// set moves the deadline to t; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	select {
	case <-d.expired:
		d.expired = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.expired)
		return
	}
	gen, expired := d.gen, d.expired
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen {
			close(expired)
		}
	})
}

// done returns a channel closed when the current deadline passes.
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

// passed reports whether the current deadline has passed.
func (d *deadline) passed() bool {
	select {
	case <-d.done():
		return true
	default:
		return false
	}
}
