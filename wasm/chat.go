//go:build js && wasm

package main

import (
	"context"
	"errors"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/chat"
	"planet/core/did"
	"planet/core/mailbox"
	"planet/core/p2p"
)

// Chat's part of the API: sending a message through the node, and reading
// a conversation.

// chatJS is the page's view of a chat message: the fields of planet.d.ts,
// times as RFC 3339.
func chatJS(m *chat.Message) map[string]any {
	return map[string]any{"id": m.ID, "from": m.From.String(), "to": m.To.String(), "text": m.Text,
		"state": string(m.State), "created": m.Created.UTC(), "via": m.Via}
}

func chatAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("send", async(func(args []safejs.Value) (any, error) {
		to, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		text, err := str(args, 1)
		if err != nil {
			return nil, err
		}
		if to.Method() != did.MethodKey {
			// Someone on the First Person Network, known by a DID with a
			// DIDComm service: a basic message, to their PLANET tab when it
			// is connected, else through their mediator.
			sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			m, packed, err := p.WriteBasic(sendCtx, to, text)
			if err != nil {
				return nil, err
			}
			via, err := net.didcomm.send(sendCtx, core.Outgoing{Person: to, Packed: packed})
			if err != nil {
				// A basic message has no outbox: kept as written, not sent again.
				out := chatJS(m)
				out["waiting"] = map[string]string{"code": "not_delivered",
					"message": "Their server did not take the message (" + sentence(err.Error(), "") + "); it is kept here but not sent again."}
				return toJS(out)
			}
			if via != chat.ViaDIDComm {
				if d, err := p.Chat().DeliveredBasic(sendCtx, m.From, m.ID, via); err == nil {
					m = d
				}
			}
			return toJS(chatJS(m))
		}
		node, err := net.current()
		if err != nil {
			return nil, err
		}
		sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		m, err := node.Chat(sendCtx, to, text)
		if errors.Is(err, p2p.ErrQueued) && m != nil {
			// Kept, and waiting in the outbox: say why beside the message.
			out := chatJS(m)
			out["waiting"] = waitingJS(err)
			return toJS(out)
		}
		if err != nil {
			return nil, err
		}
		return toJS(chatJS(m))
	}))
	o.Set("conversation", async(func(args []safejs.Value) (any, error) {
		with, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		ms, err := p.Chat().Conversation(ctx, with)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(ms))
		for i := range ms {
			out[i] = chatJS(&ms[i])
		}
		return toJS(out)
	}))
	o.Set("requests", async(func(args []safejs.Value) (any, error) {
		rs, err := p.Chat().Requests(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(rs))
		for i, r := range rs {
			ms := make([]map[string]any, len(r.Messages))
			for j := range r.Messages {
				ms[j] = chatJS(&r.Messages[j])
			}
			out[i] = map[string]any{"from": r.From.String(), "messages": ms, "last": r.Last.UTC()}
		}
		return toJS(out)
	}))
	o.Set("acceptRequest", async(func(args []safejs.Value) (any, error) {
		from, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		name := ""
		if a := arg(args, 1); a.Type() == safejs.TypeString {
			if name, err = a.String(); err != nil {
				return nil, err
			}
		}
		return nil, p.Chat().AcceptRequest(ctx, from, name)
	}))
	o.Set("declineRequest", async(func(args []safejs.Value) (any, error) {
		from, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.Chat().DeclineRequest(ctx, from)
	}))
	o.Set("block", async(func(args []safejs.Value) (any, error) {
		from, err := didArg(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, p.Chat().Block(ctx, from)
	}))
	return o
}

// waitingJS says why a message waits in the outbox: {code, message}, code
// "mailbox_full" when the reader's mailbox took no more, "unreachable"
// when neither the reader nor their relay could be reached.
func waitingJS(err error) map[string]string {
	if errors.Is(err, mailbox.ErrFull) {
		return map[string]string{"code": "mailbox_full", "message": "Their mailbox is full; the message waits here and goes when they make room."}
	}
	return map[string]string{"code": "unreachable", "message": "Neither they nor their relay can be reached now; the message waits here and goes when one of them can be."}
}
