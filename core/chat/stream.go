package chat

import (
	"context"
	"errors"
	"fmt"
	"io"

	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/keys"
	"planet/core/wire"
)

// Largest frames of the chat protocol: a frame holds one signed message;
// an ack holds one id.
const (
	chatMaxFrame = didcomm.MaxSize + 16
	chatMaxAck   = didcomm.MaxIDLength + 16
)

// Frame is what a sender writes on a chat stream: one signed chat
// message, as [Service.NewMessage] made it.
//
// It travels as deterministic CBOR with the integer keys in its field
// tags. Rules for change: a key is never reused or given another meaning;
// new fields are optional, and readers ignore keys they do not know.
type Frame struct {
	Signed []byte `cbor:"1,keyasint"`
}

// Ack is what a receiver answers to each [Frame] it kept (or had
// kept before): the id of the message. Rules for change as for Frame.
type Ack struct {
	ID string `cbor:"1,keyasint"`
}

// Send writes signed, a chat message from [Service.NewMessage] (or a
// receipt), on s, a stream of protocol [Protocol], and waits for the
// receiver's acknowledgement; then the caller marks it delivered with
// [Service.MarkDelivered] or [Service.Acknowledged]. Several messages may be sent on one stream, one
// after the other; the caller closes it when done. Cancelling ctx resets the
// stream. An error means the message may not have been kept: send it again,
// on another stream or through the mailbox; the receiver keeps it once.
func Send(ctx context.Context, s wire.Stream, signed []byte) error {
	sm, err := didcomm.ParseSigned(signed)
	if err != nil {
		return fmt.Errorf("send chat: %w: %w", input.ErrInvalid, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send chat: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if err := wire.WriteFrame(s, chatMaxFrame, Frame{Signed: signed}); err != nil {
		return fmt.Errorf("send chat: %w", ctxErr(ctx, err))
	}
	var ack Ack
	if err := wire.ReadFrame(s, chatMaxAck, &ack); err != nil {
		if err == io.EOF {
			err = errors.New("the receiver closed the stream without acknowledging the message")
		}
		return fmt.Errorf("send chat: no acknowledgement: %w", ctxErr(ctx, err))
	}
	if ack.ID != sm.Message.ID {
		s.Reset()
		return fmt.Errorf("send chat: the receiver acknowledged message %q, not %q", ack.ID, sm.Message.ID)
	}
	return nil
}

// ctxErr returns ctx's error if it is done, since the failure of a stream
// reset because of it says less, and err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Serve answers one chat stream s, opened by the peer remote (the
// stream's authenticated remote peer ID, as libp2p reports it) on a
// connection via says ([ViaDirect] or [ViaRelayed]): it keeps each
// message that arrives (as [Service.Receive] does, with that way) and
// acknowledges it, until the peer closes its side, then closes the stream
// and returns nil. A message that is malformed, oversize, forged, not
// signed by remote's key, or refused for any other reason resets the stream
// and ends with an error saying why; nothing of it is kept. Cancelling ctx
// resets the stream.
func (svc *Service) Serve(ctx context.Context, s wire.Stream, remote keys.PeerID, via string) error {
	if remote.IsZero() {
		s.Reset()
		return fmt.Errorf("serve chat: %w: no remote peer", input.ErrInvalid)
	}
	if !OnStream(via) {
		s.Reset()
		return fmt.Errorf("serve chat: %w: %q is not a way a stream travels", input.ErrInvalid, via)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	for {
		var f Frame
		err := wire.ReadFrame(s, chatMaxFrame, &f)
		if err == io.EOF {
			return s.Close()
		}
		if err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, ctxErr(ctx, err))
		}
		sess, err := svc.open.Session()
		var m *didcomm.Message
		if err == nil {
			m, err = verify(sess, f.Signed, remote)
		}
		if err == nil {
			_, _, err = svc.take(ctx, sess, m, f.Signed, via)
		}
		if err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, err)
		}
		if err := wire.WriteFrame(s, chatMaxAck, Ack{ID: m.ID}); err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, ctxErr(ctx, err))
		}
	}
}
