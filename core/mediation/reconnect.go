package mediation

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Backoff is how long [Reconnect] waits between attempts: Min after the
// first failure, doubling after each further one up to Max, each wait
// drawn at random between half of it and all of it, so that the clients
// of a server that restarts do not all come back at the same instant.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff waits from one second up to five minutes.
var DefaultBackoff = Backoff{Min: time.Second, Max: 5 * time.Minute}

// permanent marks an error that retrying will not mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that [Reconnect] must not retry (mediation
// denied, the vault locked): Reconnect returns it, unwrapped.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Reconnect calls connect again and again until it returns nil, returns an
// error marked [Permanent], or ctx ends, waiting between attempts as b
// says. connect opens a connection, connects, registers and runs
// ([Client.Run]), and returns when the connection ends. An attempt that
// lasted longer than b.Max counts as a success that ended: the next wait
// starts from b.Min again. onError, if not nil, hears of each failure and
// the wait before the next attempt (for a log or the page's status).
func Reconnect(ctx context.Context, b Backoff, connect func(context.Context) error, onError func(err error, wait time.Duration)) error {
	if b.Min <= 0 {
		b.Min = DefaultBackoff.Min
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	wait := b.Min
	for {
		start := time.Now()
		err := connect(ctx)
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(start) > b.Max {
			wait = b.Min
		}
		d := jitter(wait)
		if onError != nil {
			onError(err, d)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, b.Max)
	}
}

// jitter returns a duration drawn uniformly from [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}
