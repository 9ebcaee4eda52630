package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/session"
	"planet/vault"
)

// Chat with the First Person Network: DIDComm's basic message
// (https://didcomm.org/basicmessage/2.0, docs/protocols/chat.md), which
// every DIDComm agent speaks. Such a message travels packed by
// core/didcomm, authcrypted by its sender, through the recipient's
// mediator; it has no seq and no receipt. It is kept beside PLANET's own
// chat messages, in the same conversations, with its plaintext (the
// DIDComm message as the sender wrote it) where a PLANET message keeps its
// signed form.

// BasicMessageType is the DIDComm type of a basic message.
const BasicMessageType = "https://didcomm.org/basicmessage/2.0/message"

// ViaDIDComm is how a basic message travels through a DIDComm mediator.
// One that goes on a libp2p stream between two PLANET tabs (packed all the
// same) travels [ViaDirect] or relayed, as PLANET's own chat does.
const ViaDIDComm = "didcomm"

// basicBody is the body of a basic message.
type basicBody struct {
	Content string `json:"content"`
}

// TakesBasic reports whether typ is a basic message of a version chat
// reads: 2.x, whose minor versions only add what a reader may ignore.
func TakesBasic(typ string) bool {
	rest, ok := strings.CutPrefix(typ, "https://didcomm.org/basicmessage/2.")
	if !ok {
		return false
	}
	minor, msg, ok := strings.Cut(rest, "/")
	return ok && msg == "message" && minor != "" && strings.Trim(minor, "0123456789") == ""
}

// readBasic checks that p is a basic message to me and returns its text.
func readBasic(p *didcomm.Plaintext, me did.DID) (string, error) {
	if !TakesBasic(p.Type) {
		return "", fmt.Errorf("it is of type %q, not a basic message", p.Type)
	}
	if p.From.IsZero() {
		return "", errors.New("it names no sender")
	}
	if !p.AddressedTo(me) {
		return "", fmt.Errorf("it is not addressed to %s", me)
	}
	if p.Created.IsZero() {
		return "", errors.New("it has no created_time, which a basic message must have")
	}
	if len(p.Body) > maxChatBody {
		return "", fmt.Errorf("its body is %d bytes, more than a chat message needs (%d)", len(p.Body), maxChatBody)
	}
	obj, err := jcs.DecodeObject(p.Body)
	if err != nil {
		return "", fmt.Errorf("its body %v", err)
	}
	text, ok := obj["content"].(string)
	if !ok {
		return "", errors.New(`its "content" is not a string`)
	}
	if err := checkChatText(text); err != nil {
		return "", err
	}
	return text, nil
}

// TakeBasic keeps p, a basic message to the person's DID me that
// core/didcomm unpacked and authenticated as from p.From (authcrypt or a
// signature: the caller checks), as received by way of via ([ViaDIDComm]
// from a mediator, or the way of the stream it came on). As with PLANET's own chat, a
// message from someone the person does not know waits as a request, and
// one from someone blocked is dropped unread (nil, false, nil). It returns
// the message and whether it is new: the same id from the same sender is
// kept once.
//
// A message that is not a basic message to me, or whose text chat refuses,
// returns an error wrapping [input.ErrInvalid], and nothing is kept.
func (svc *Service) TakeBasic(ctx context.Context, p *didcomm.Plaintext, me did.DID, via string) (*Message, bool, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, false, err
	}
	text, err := readBasic(p, me)
	if err != nil {
		return nil, false, fmt.Errorf("receive basic message: %w: %w", input.ErrInvalid, err)
	}
	plain, err := p.Encode()
	if err != nil {
		return nil, false, fmt.Errorf("receive basic message: %w: %w", input.ErrInvalid, err)
	}
	rec := &messageRecord{
		ID: p.ID, From: p.From.String(), To: me.String(), Text: text,
		Created: session.Millis(p.Created), State: Received, Stored: session.Millis(s.Now()), Via: via,
		Plain: plain,
	}
	return svc.keepReceived(ctx, s, rec, p.From)
}

// WriteBasic writes a basic message with text from the person's DID from
// (the one whose DIDComm service others answer to) to the DID to, and
// keeps it as sent. It returns the message and its plaintext, for the
// caller to pack (core/didcomm.Pack, authcrypt from from) and deliver. A
// basic message has no receipt: it stays sent, and is never in the outbox
// (the caller tells the person at once if it could not be handed on).
// Text is checked as [Service.Write] checks it.
func (svc *Service) WriteBasic(ctx context.Context, from, to did.DID, text string) (*Message, *didcomm.Plaintext, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, nil, err
	}
	text = strings.TrimSpace(text)
	if err := checkChatText(text); err != nil {
		return nil, nil, fmt.Errorf("new basic message: %w: %w", input.ErrInvalid, err)
	}
	if to.IsZero() || to == from || to == s.Identity.DID() {
		return nil, nil, fmt.Errorf("new basic message: %w: a chat needs someone else to write to", input.ErrInvalid)
	}
	now := s.Now()
	p, err := didcomm.NewPlaintext(BasicMessageType, basicBody{Content: text}, now)
	if err != nil {
		return nil, nil, fmt.Errorf("new basic message: %w", err)
	}
	p.From = from
	p.To = []did.DID{to}
	plain, err := p.Encode()
	if err != nil {
		return nil, nil, fmt.Errorf("new basic message: %w", err)
	}
	rec := &messageRecord{
		ID: p.ID, From: from.String(), To: to.String(), Text: text,
		Created: session.Millis(p.Created), State: Sent, Stored: session.Millis(now), Via: ViaDIDComm, Plain: plain,
	}
	c, err := rec.message()
	if err != nil {
		return nil, nil, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if err := session.Put(ctx, s.Vault, colMessages, messageRecordID(rec.ID, from), rec); err != nil {
		return nil, nil, err
	}
	// Writing to someone makes them known: their answers go into this
	// conversation, not into requests.
	switch _, err := s.Vault.Get(ctx, colConversations, conversationRecordID(to)); {
	case errors.Is(err, vault.ErrNotFound):
		if err := session.Put(ctx, s.Vault, colConversations, conversationRecordID(to), &conversationRecord{Peer: to.String()}); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	}
	return &c, p, nil
}

// DeliveredBasic records that the basic message id the person wrote from
// their DID from was taken by its reader's own tab, on a stream whose way was via, rather than
// left with their mediator: it is then delivered, not just sent.
func (svc *Service) DeliveredBasic(ctx context.Context, from did.DID, id string, via string) (*Message, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	recID := messageRecordID(id, from)
	rec, err := session.Get[messageRecord](ctx, s.Vault, colMessages, recID)
	if err != nil {
		return nil, err
	}
	if len(rec.Plain) == 0 || rec.State != Sent {
		return nil, fmt.Errorf("basic message %s: %w: it is %s, not a basic message waiting to be delivered", id, input.ErrInvalid, rec.State)
	}
	rec.State, rec.Via = Delivered, via
	if err := session.Put(ctx, s.Vault, colMessages, recID, rec); err != nil {
		return nil, err
	}
	m, err := rec.message()
	return &m, err
}
