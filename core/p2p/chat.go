package p2p

import (
	"context"
	"fmt"
	"sync"
	"time"

	"planet/core/chat"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A chatLine is the chat stream the node keeps open to one person, so
// that a conversation does not open a stream (in the browser a data
// channel, and a protocol negotiation on it) for every message. Its mutex
// sends one message at a time, in the order callers came. The stream
// closes after Options.ChatIdle without a message; the side that answers
// gives up on one after ten minutes (Node.serveChat), far longer.
type chatLine struct {
	mu   sync.Mutex
	s    network.Stream // nil when none is open
	idle *time.Timer    // closes s after chatIdle without a message
}

// line is the chat line to pid, made on first use.
func (n *Node) line(pid peer.ID) *chatLine {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, ok := n.chats[pid]
	if !ok {
		l = &chatLine{}
		n.chats[pid] = l
	}
	return l
}

// sendChat hands signed, a chat message to pid, over the chat stream kept
// to pid, and returns once pid acknowledged it, with the way the stream
// went (chat.ViaDirect or chat.ViaRelayed, see streamVia). A stream that fails, or
// gives no answer within Options.ChatTimeout, is reset and the message is
// tried once more on a new stream: the receiver keeps a message once,
// however often it comes. (Chromium now and then drops a message on a
// data channel it has just opened, leaving its stream waiting for good;
// a new stream gets through.) The host must have a connection to pid.
func (n *Node) sendChat(ctx context.Context, pid peer.ID, signed []byte) (via string, err error) {
	l := n.line(pid)
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 2 {
		if err = ctx.Err(); err != nil {
			return "", err
		}
		if via, err = n.chatOnce(ctx, l, pid, signed); err == nil {
			return via, nil
		}
		l.drop(true)
	}
	return "", err
}

// chatOnce is one attempt of sendChat, on l's stream or a new one, and
// returns the way the stream went. l.mu is held.
func (n *Node) chatOnce(ctx context.Context, l *chatLine, pid peer.ID, signed []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, n.opt.ChatTimeout)
	defer cancel()
	if l.s != nil && !n.fitForChat(l.s) {
		l.drop(false)
	}
	if l.s == nil {
		s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "planet"), pid, chat.Protocol)
		if err != nil {
			return "", fmt.Errorf("opening a chat stream: %w", err)
		}
		l.s = s
	}
	if err := chat.Send(ctx, l.s, signed); err != nil {
		return "", err
	}
	l.keepFor(n.opt.ChatIdle)
	// A stream stays on the connection it was opened on: the
	// acknowledgement came back the way the message went.
	return streamVia(l.s.Conn()), nil
}

// streamVia is the way a stream on c travels: chat.ViaRelayed when c goes
// through a relay, chat.ViaDirect otherwise. c goes through a relay when
// the relay limits it (a circuit relay v2 connection with limits, as
// PLANET's relay gives), or when its remote address is a circuit
// (…/p2p-circuit/…) that is not the signalling address of a WebRTC
// connection (…/p2p-circuit/webrtc: the relay carried only the
// signalling, and the connection runs between the two devices).
func streamVia(c network.Conn) string {
	if Relayed(c) {
		return chat.ViaRelayed
	}
	return chat.ViaDirect
}

// Relayed reports whether c goes through a relay: see streamVia.
func Relayed(c network.Conn) bool {
	if c.Stat().Limited {
		return true
	}
	if c.ConnState().Transport == "webrtc" {
		return false
	}
	circuit, webrtc := false, false
	for _, p := range c.RemoteMultiaddr() {
		switch p.Code() {
		case ma.P_CIRCUIT:
			circuit = true
		case ma.P_WEBRTC:
			webrtc = true
		}
	}
	return circuit && !webrtc
}

// fitForChat reports whether s may carry the next message: its connection
// is open, and it is not a relayed connection while a direct one has come
// up since (the relay limits what a relayed one carries, and for how long).
func (n *Node) fitForChat(s network.Stream) bool {
	c := s.Conn()
	if c.IsClosed() {
		return false
	}
	if !c.Stat().Limited {
		return true
	}
	for _, other := range n.host.Network().ConnsToPeer(c.RemotePeer()) {
		if !other.Stat().Limited && !other.IsClosed() {
			return false
		}
	}
	return true
}

// keepFor (re)arms the idle timer: the stream closes d after the last
// message unless another comes. l.mu is held.
func (l *chatLine) keepFor(d time.Duration) {
	if l.idle != nil {
		l.idle.Stop()
	}
	s := l.s
	l.idle = time.AfterFunc(d, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.s == s {
			l.drop(false)
		}
	})
}

// drop lets go of l's stream: reset, when it failed (the other side may
// not have answered), else closed. l.mu is held.
func (l *chatLine) drop(failed bool) {
	if l.idle != nil {
		l.idle.Stop()
		l.idle = nil
	}
	if l.s == nil {
		return
	}
	if failed {
		l.s.Reset()
	} else {
		l.s.Close()
	}
	l.s = nil
}

// closeChats closes every chat stream the node keeps.
func (n *Node) closeChats() {
	n.mu.Lock()
	lines := make([]*chatLine, 0, len(n.chats))
	for _, l := range n.chats {
		lines = append(lines, l)
	}
	n.mu.Unlock()
	for _, l := range lines {
		l.mu.Lock()
		l.drop(false)
		l.mu.Unlock()
	}
}
