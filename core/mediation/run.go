package mediation

import (
	"context"
	"time"

	"planet/core/didcomm"
)

// Handler takes one message the mediator delivered, still encrypted as the
// sender packed it (didcomm.Unpack opens it), and returns nil once it has
// kept it: the message is then acknowledged and the mediator deletes it.
// An error leaves it queued at the mediator, to be delivered again at a
// later pickup; so a handler returns nil for a message it will never be
// able to read (kept aside or dropped on purpose), or it comes back until
// the mediator's retention ends. A message may come twice (after a dropped
// connection): handlers drop repeats by the message's own id.
type Handler func(packed []byte) error

// Run picks up the client's messages until ctx ends or the connection
// fails, and returns why (ctx.Err(), or the connection's error, which
// calls for a new connection: see [Reconnect]). It turns live delivery on,
// then fetches what waited before it in batches (oldest first) until the
// mediator says nothing more waits, then handles live deliveries as they
// come, and every Config.Poll asks again for what waits. Each message goes
// to handle, one at a time, and those handle accepted are acknowledged
// (messages-received).
//
// Connect must have succeeded on this connection or an earlier one: the
// mediator answers a client it has not granted with a problem report.
func (c *Client) Run(ctx context.Context, handle Handler) error {
	reply, err := c.request(ctx, TypeLiveChange, map[string]bool{"live_delivery": true})
	if err != nil {
		return err
	}
	if _, err := status(reply); err != nil {
		return err
	}
	r := &runner{c: c, handle: handle, acked: map[string]bool{}}
	if err := r.drain(ctx); err != nil {
		return err
	}
	poll := time.NewTicker(c.cfg.Poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.connErr()
		case msg := <-c.live:
			if err := r.deliver(ctx, msg); err != nil {
				return err
			}
		case <-c.missed:
			if err := r.drain(ctx); err != nil {
				return err
			}
		case <-poll.C:
			if err := r.drain(ctx); err != nil {
				return err
			}
		}
	}
}

// runner is the state of one Run.
type runner struct {
	c      *Client
	handle Handler
	// acked holds the ids acknowledged lately (at most rememberAcked,
	// forgotten in insertion order), so that a message that came both live
	// and in a delivery is not handled twice.
	acked map[string]bool
	order []string
}

// drain fetches what waits until the mediator says nothing does. Messages
// the handler refuses stay first in the queue; the next requests ask for
// that many more so as to get past them, and the drain stops when a
// delivery brings nothing new (they are tried again at the next drain).
func (r *runner) drain(ctx context.Context) error {
	refused := map[string]bool{}
	for {
		limit := min(r.c.cfg.Batch+len(refused), MaxDeliveryLimit)
		reply, err := r.c.request(ctx, TypeDeliveryRequest, map[string]int{"limit": limit})
		if err != nil {
			return err
		}
		if reply.Type == TypeStatus {
			_, err := decodeStatus(reply) // nothing waits
			return err
		}
		if err := expect(reply, TypeDelivery); err != nil {
			return err
		}
		msgs, err := decodeDelivery(reply)
		if err != nil {
			return err
		}
		fresh := 0
		var ids []string
		for _, m := range msgs {
			if refused[m.ID] {
				continue
			}
			fresh++
			if r.accept(m) {
				ids = append(ids, m.ID)
			} else {
				refused[m.ID] = true
			}
		}
		if fresh == 0 {
			return nil
		}
		if len(ids) == 0 {
			continue
		}
		st, err := r.ack(ctx, ids)
		if err != nil {
			return err
		}
		if st.MessageCount <= len(refused) {
			return nil
		}
	}
}

// deliver handles a live delivery.
func (r *runner) deliver(ctx context.Context, msg *didcomm.Plaintext) error {
	msgs, err := decodeDelivery(msg)
	if err != nil {
		return err
	}
	var ids []string
	for _, m := range msgs {
		if r.accept(m) {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = r.ack(ctx, ids)
	return err
}

// accept hands m to the handler, unless it was acknowledged already, and
// reports whether to acknowledge it.
func (r *runner) accept(m delivered) bool {
	if r.acked[m.ID] {
		return true // acknowledging it again is harmless
	}
	return r.handle(m.Message) == nil
}

// ack acknowledges ids and returns the status the mediator answers.
func (r *runner) ack(ctx context.Context, ids []string) (Status, error) {
	var st Status
	for start := 0; start < len(ids); start += MaxAcks {
		chunk := ids[start:min(start+MaxAcks, len(ids))]
		reply, err := r.c.request(ctx, TypeReceived, map[string]any{"message_id_list": chunk})
		if err != nil {
			return Status{}, err
		}
		if st, err = status(reply); err != nil {
			return Status{}, err
		}
	}
	for _, id := range ids {
		if r.acked[id] {
			continue
		}
		r.acked[id] = true
		r.order = append(r.order, id)
		if len(r.order) > rememberAcked {
			delete(r.acked, r.order[0])
			r.order = r.order[1:]
		}
	}
	return st, nil
}
