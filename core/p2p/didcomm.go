package p2p

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/wire"
)

// DIDComm between two PLANET tabs over libp2p (docs/protocols/didcomm-stream.md):
// a packed DIDComm message (the same bytes a mediator would carry) goes
// straight to the recipient's tab on a stream when the two are connected,
// browser to browser over WebRTC when they can, through the relay
// otherwise; the tab reads it as it reads what its mediator delivers.

// DIDCommProtocol is the protocol ID of a DIDComm stream.
const DIDCommProtocol = "/planet/didcomm/1.0.0"

// maxDIDCommFrame bounds a frame: the largest packed message and its CBOR
// wrapping.
const maxDIDCommFrame = didcomm.MaxPackedSize + 16

// didcommFrame is the one frame the sender writes: {1: packed message}.
type didcommFrame struct {
	Message []byte `cbor:"1,keyasint"`
}

// didcommAck is the one frame the receiver answers: {} when it took the
// message, {1: why} when it refused it.
type didcommAck struct {
	Refused string `cbor:"1,keyasint,omitempty"`
}

// ErrRefused wraps the reason a recipient's tab gave for refusing a
// DIDComm message: sending it again, or through the mediator, would be
// refused as well.
var ErrRefused = errors.New("p2p: the recipient refused the message")

// ErrNotConnected is returned by [Node.SendDIDComm] when the recipient's
// tab cannot be reached over libp2p: send through their mediator instead.
var ErrNotConnected = errors.New("p2p: not connected to the recipient")

// PeerOf returns the libp2p peer at which the person of d is reached, if d
// names one: a did:key, or a did:peer:2 with one Ed25519 authentication key
// ([identity.PersonKey]: a PLANET person's shared DID carries their key, so
// their tab's peer ID follows from it).
func PeerOf(d did.DID) (peer.ID, error) {
	pub, err := identity.PersonKey(d)
	if err != nil {
		return "", err
	}
	return PeerID(did.FromEd25519(pub))
}

// SendDIDComm hands packed, a packed DIDComm message, to the tab of pid on
// a DIDComm stream and returns which way it went (chat.ViaDirect or
// chat.ViaRelayed, as [Relayed] says) once the tab took it. It uses a connection the host has,
// or makes one through each of relays (the relays the recipient is known to
// hold a reservation at: the person's own, when the recipient's mediator is
// the person's server's). It returns an error wrapping [ErrNotConnected]
// when there is no way to the tab, and one wrapping [ErrRefused] when the
// tab refused the message.
func (n *Node) SendDIDComm(ctx context.Context, pid peer.ID, relays []string, packed []byte) (string, error) {
	if n.host.Network().Connectedness(pid) != network.Connected && !n.hasLimitedConn(pid) {
		if len(relays) == 0 {
			return "", ErrNotConnected
		}
		if err := n.Reach(ctx, pid, relays); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNotConnected, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, n.opt.ChatTimeout)
	defer cancel()
	s, err := n.openStream(ctx, pid, DIDCommProtocol)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	via := streamVia(s.Conn())
	if err := wire.WriteFrame(s, maxDIDCommFrame, didcommFrame{Message: packed}); err != nil {
		s.Reset()
		return "", err
	}
	var ack didcommAck
	if err := wire.ReadFrame(s, 4<<10, &ack); err != nil {
		s.Reset()
		return "", fmt.Errorf("%w: no answer: %w", ErrNotConnected, err)
	}
	s.Close()
	if ack.Refused != "" {
		return via, fmt.Errorf("%w: %s", ErrRefused, ack.Refused)
	}
	return via, nil
}

// serveDIDComm reads one DIDComm message from s, hands it to
// Options.DIDComm with the way it came, and answers whether it was taken.
func (n *Node) serveDIDComm(s network.Stream) {
	if n.opt.DIDComm == nil {
		s.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.SetDeadline(time.Now().Add(time.Minute))
	var f didcommFrame
	if err := wire.ReadFrame(s, maxDIDCommFrame, &f); err != nil || len(f.Message) == 0 {
		s.Reset()
		return
	}
	via := streamVia(s.Conn())
	var ack didcommAck
	if err := n.opt.DIDComm(ctx, f.Message, via); err != nil {
		n.opt.Log.Warn("refused a DIDComm message", "peer", s.Conn().RemotePeer(), "err", err)
		ack.Refused = err.Error()
		if len(ack.Refused) > 1000 {
			ack.Refused = ack.Refused[:1000]
		}
	}
	if err := wire.WriteFrame(s, 4<<10, ack); err != nil {
		s.Reset()
		return
	}
	s.Close()
}
