package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/jcs"
	"planet/core/keys"
	"planet/core/session"
	"planet/core/wire"
	"planet/vault"
)

// Chat: text messages between two people, end to end signed, delivered
// directly over a stream when both are online and sealed through the
// mailbox when not. docs/protocols/chat.md specifies the protocol.
//
// A chat message is a [Message] of type [ChatMessageType] from the sender to
// exactly one recipient, with the body {"seq": n, "text": "…"}: text is
// what the person wrote, at most [MaxChatTextLength] bytes; seq counts the
// sender's messages in the conversation from 1, so that the receiver can
// keep them in the order they were written whatever order they arrive in.
//
// On a stream of protocol [ChatProtocol], the sender writes [ChatFrame]s,
// each holding one signed chat message; the receiver verifies it, checks
// that it was signed by the key of the stream's remote peer, keeps it, and
// answers with a [ChatAck] naming its id. Anything else (a malformed,
// oversize, forged or misaddressed message) resets the stream and keeps
// nothing. The sender closes its side when it has nothing more to send.
//
// Both directions are kept in the vault, one record per message, whose id
// is the message id with a digest of the sender's DID: a message that
// arrives twice (directly, then from the mailbox) is kept once.

// ChatProtocol is the libp2p protocol id of chat streams.
const ChatProtocol = "/planet/chat/1.0.0"

// ChatMessageType is the DIDComm message type of a chat message. PLANET's
// type URIs are "planet:<protocol>/<major>.<minor>/<message>"
// (docs/envelope.md); a reader accepts any minor version of the major it
// knows and ignores body members it does not know.
const ChatMessageType = "planet:chat/1.0/message"

// MaxChatTextLength is the longest chat text, in bytes of UTF-8.
const MaxChatTextLength = 16 << 10

// Largest frames of the chat protocol: a frame holds one signed message;
// an ack holds one id.
const (
	chatMaxFrame = didcomm.MaxSize + 16
	chatMaxAck   = didcomm.MaxIDLength + 16
)

// ChatFrame is what a sender writes on a chat stream: one signed chat
// message, as [Planet.NewChat] made it.
//
// It travels as deterministic CBOR with the integer keys in its field
// tags. Rules for change: a key is never reused or given another meaning;
// new fields are optional, and readers ignore keys they do not know.
type ChatFrame struct {
	Signed []byte `cbor:"1,keyasint"`
}

// ChatAck is what a receiver answers to each [ChatFrame] it kept (or had
// kept before): the id of the message. Rules for change as for ChatFrame.
type ChatAck struct {
	ID string `cbor:"1,keyasint"`
}

// ChatState is where a chat message stands.
type ChatState string

// The states of chat messages. An outgoing message is sent until the
// recipient acknowledges it, then delivered; one that could be handed
// neither to the recipient nor to their mailbox is queued (see
// [Planet.Queue]) until it can. An incoming one is received.
const (
	ChatQueued    ChatState = "queued"
	ChatSent      ChatState = "sent"
	ChatDelivered ChatState = "delivered"
	ChatReceived  ChatState = "received"
)

// How an incoming chat message reached the vault; see [Planet.ReceiveChat].
const (
	ViaDirect  = "direct"  // on a chat stream from its sender
	ViaMailbox = "mailbox" // in a sealed envelope, from the mailbox
)

// ChatMessage is one chat message in the person's vault, sent or received.
type ChatMessage struct {
	ID      string    // the message id (DIDComm "id")
	From    did.DID   // the sender
	To      did.DID   // the recipient
	Text    string    // what the sender wrote
	Seq     uint64    // the sender's count of their messages in the conversation
	Created time.Time // when the sender made it (their clock), whole seconds
	State   ChatState // sent, delivered or received
	// Stored is when this vault kept it: made, for an outgoing message;
	// arrived, for an incoming one.
	Stored time.Time
	// Delivered is when the recipient acknowledged an outgoing message;
	// zero until then, and for incoming messages.
	Delivered time.Time
	// Via says how an incoming message arrived: ViaDirect or ViaMailbox.
	Via string
	// Signed is the message as its sender signed it. For an outgoing
	// message not yet delivered, it is what to send again.
	Signed []byte
}

// Outgoing reports whether the person sent the message.
func (c *ChatMessage) Outgoing() bool { return c.State != ChatReceived }

// Peer returns the other person in the message's conversation.
func (c *ChatMessage) Peer() did.DID {
	if c.Outgoing() {
		return c.To
	}
	return c.From
}

// colMessages holds chat messages; colConversations holds, per
// conversation, what sending the next message needs.
const (
	colMessages      vault.Collection = "messages"
	colConversations vault.Collection = "conversations"
)

// messageRecord is one chat message in the vault, both the signed message
// and what it says, so that listing needs no parsing.
//
// It is deterministic CBOR with the integer keys in its field tags. Rules
// for change: a key is never reused or given another meaning; new fields
// are optional, with a zero value that means what older records meant
// without them. Times are Unix milliseconds.
type messageRecord struct {
	ID        string    `cbor:"1,keyasint"`
	From      string    `cbor:"2,keyasint"`
	To        string    `cbor:"3,keyasint"`
	Text      string    `cbor:"4,keyasint"`
	Seq       uint64    `cbor:"5,keyasint"`
	Created   int64     `cbor:"6,keyasint"` // created_time, in milliseconds
	State     ChatState `cbor:"7,keyasint"`
	Stored    int64     `cbor:"8,keyasint"`
	Delivered int64     `cbor:"9,keyasint,omitempty"`
	Via       string    `cbor:"10,keyasint,omitempty"`
	Signed    []byte    `cbor:"11,keyasint"`
}

// conversationRecord is what the vault keeps of one conversation besides
// its messages. It is derived from them: an imported vault has none, and
// the first message sent rebuilds it. Rules for change as for
// messageRecord.
type conversationRecord struct {
	Peer    string `cbor:"1,keyasint"`
	LastSeq uint64 `cbor:"2,keyasint"` // the seq of the person's last message in it
}

// messageRecordID names the record of the message id from the sender from:
// a message id is unique only per sender, and no sender can take the place
// of another's message by reusing its id.
func messageRecordID(id string, from did.DID) string {
	sum := sha256.Sum256([]byte(from.String()))
	return id + "." + hex.EncodeToString(sum[:16])
}

// conversationRecordID names the record of the conversation with peer.
func conversationRecordID(peer did.DID) string {
	sum := sha256.Sum256([]byte(peer.String()))
	return hex.EncodeToString(sum[:16])
}

func (r *messageRecord) chatMessage() (ChatMessage, error) {
	c := ChatMessage{
		ID:      r.ID,
		Text:    r.Text,
		Seq:     r.Seq,
		Created: Time(r.Created),
		State:   r.State,
		Stored:  Time(r.Stored),
		Via:     r.Via,
		Signed:  r.Signed,
	}
	if r.Delivered != 0 {
		c.Delivered = Time(r.Delivered)
	}
	var err error
	if c.From, err = did.Parse(r.From); err != nil {
		return ChatMessage{}, err
	}
	if c.To, err = did.Parse(r.To); err != nil {
		return ChatMessage{}, err
	}
	switch r.State {
	case ChatQueued, ChatSent, ChatDelivered, ChatReceived:
	default:
		return ChatMessage{}, fmt.Errorf("unknown state %q", r.State)
	}
	return c, nil
}

// chatBody is the body of a chat message.
type chatBody struct {
	Seq  uint64 `json:"seq"`
	Text string `json:"text"`
}

// maxChatSeq keeps seq exact in JavaScript numbers.
const maxChatSeq = 1<<53 - 1

// maxChatBody bounds the body of a chat message, in its one JSON form: the
// longest text, every byte of which JSON might escape into two (a quote, a
// line break), and room for seq and a few members of later minor versions.
// Members a reader ignores cannot make a message larger than that.
const maxChatBody = 2*MaxChatTextLength + 1024

// readChat checks that m is a chat message and returns its body.
func readChat(m *didcomm.Message) (chatBody, error) {
	if !didcomm.TypeMatches(m.Type, ChatMessageType) {
		return chatBody{}, fmt.Errorf("it is of type %q, not a chat message", m.Type)
	}
	if len(m.To) != 1 {
		return chatBody{}, fmt.Errorf("it has %d recipients, a chat message has one", len(m.To))
	}
	if len(m.Body) > maxChatBody {
		return chatBody{}, fmt.Errorf("its body is %d bytes, more than a chat message needs (%d)", len(m.Body), maxChatBody)
	}
	obj, err := jcs.DecodeObject(m.Body)
	if err != nil {
		return chatBody{}, fmt.Errorf("its body %v", err)
	}
	var b chatBody
	n, ok := obj["seq"].(json.Number)
	if !ok {
		return chatBody{}, errors.New(`its "seq" is not a number`)
	}
	if b.Seq, err = strconv.ParseUint(n.String(), 10, 64); err != nil || b.Seq == 0 || b.Seq > maxChatSeq {
		return chatBody{}, fmt.Errorf(`its "seq" is not a whole number from 1 to %d`, uint64(maxChatSeq))
	}
	if b.Text, ok = obj["text"].(string); !ok {
		return chatBody{}, errors.New(`its "text" is not a string`)
	}
	if err := checkChatText(b.Text); err != nil {
		return chatBody{}, err
	}
	return b, nil
}

// checkChatText checks what a person wrote: valid UTF-8, not blank, at most
// MaxChatTextLength bytes, and no control characters but line breaks and
// tabs, which could otherwise hide or disguise what the message says.
func checkChatText(text string) error {
	if !utf8.ValidString(text) {
		return errors.New("its text is not valid UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("its text is empty")
	}
	if len(text) > MaxChatTextLength {
		return fmt.Errorf("its text is %d bytes long, at most %d are allowed", len(text), MaxChatTextLength)
	}
	for _, r := range text {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r < 0xa0 {
			return fmt.Errorf("its text holds the control character %U", r)
		}
	}
	return nil
}

// NewChat writes a chat message with text to the person whose DID is to,
// keeps it in the vault as sent, and returns it with the signed message:
// send that with [SendChat] on a chat stream, or seal it with [SealSigned]
// for the mailbox when to is offline, then call [Planet.MarkDelivered] once
// acknowledged. It is [Planet.WriteChat] followed by [SignedChat.Keep]; the
// errors are WriteChat's and Keep's.
func (p *Planet) NewChat(ctx context.Context, to did.DID, text string) (*ChatMessage, []byte, error) {
	c, err := p.WriteChat(ctx, to, text)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Keep(ctx); err != nil {
		return nil, nil, err
	}
	return c.Message, c.Signed, nil
}

// A SignedChat is a chat message the person wrote, numbered and signed by
// [Planet.WriteChat] but not yet kept, so that it can be on its way while
// [SignedChat.Keep] keeps it.
type SignedChat struct {
	Message *ChatMessage // the message, as it is kept: sent
	Signed  []byte       // the signed message, to send or to seal

	p   *Planet
	v   *vault.Vault
	to  did.DID
	rec *messageRecord
}

// WriteChat writes a chat message with text to the person whose DID is
// to: it takes the next seq of their conversation and signs the message,
// but keeps nothing yet. Text is trimmed of surrounding white space; empty
// text, text longer than [MaxChatTextLength] bytes, control characters,
// and a to that is the person or cannot be resolved return an error
// wrapping [ErrInvalid]. A message written and never kept leaves a gap in
// the seqs of the conversation, which readers allow.
func (p *Planet) WriteChat(ctx context.Context, to did.DID, text string) (*SignedChat, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if err := checkChatText(text); err != nil {
		return nil, fmt.Errorf("new chat: %w: %w", ErrInvalid, err)
	}
	if to.IsZero() || to == id.DID() {
		return nil, fmt.Errorf("new chat: %w: a chat needs someone else to write to", ErrInvalid)
	}
	if _, err := did.Resolve(to); err != nil {
		return nil, fmt.Errorf("new chat: %w: %w", ErrInvalid, err)
	}
	seq, err := p.nextSeq(ctx, v, id.DID(), to)
	if err != nil {
		return nil, err
	}
	now := p.opt.Now()
	m, err := didcomm.NewMessage(id.DID(), []did.DID{to}, ChatMessageType, chatBody{Seq: seq, Text: text}, now)
	if err != nil {
		return nil, fmt.Errorf("new chat: %w", err)
	}
	signed, err := didcomm.Sign(id, m)
	if err != nil {
		return nil, fmt.Errorf("new chat: %w", err)
	}
	rec := &messageRecord{
		ID: m.ID, From: id.DID().String(), To: to.String(), Text: text, Seq: seq,
		Created: millis(m.Created), State: ChatSent, Stored: millis(now), Signed: signed,
	}
	c, err := rec.chatMessage()
	if err != nil {
		return nil, err
	}
	return &SignedChat{Message: &c, Signed: signed, p: p, v: v, to: to, rec: rec}, nil
}

// nextSeq takes the seq of the person's next message to peer.
func (p *Planet) nextSeq(ctx context.Context, v *vault.Vault, me, peer did.DID) (uint64, error) {
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	mem := p.chat.of(v)
	last, ok := mem.lastSeq[peer]
	if !ok {
		var err error
		if last, err = p.lastSeq(ctx, v, me, peer); err != nil {
			return 0, err
		}
	}
	mem.lastSeq[peer] = last + 1
	return last + 1, nil
}

// Keep keeps the message in the vault as sent, in the outbox until it is
// delivered, with the conversation's record, in one vault update. Keep it
// once; messages written one after the other may be kept in any order.
func (c *SignedChat) Keep(ctx context.Context) error {
	p := c.p
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	mem := p.chat.of(c.v)
	msgBytes, err := vault.MarshalCBOR(c.rec)
	if err != nil {
		return err
	}
	// The conversation's record holds the last seq taken, which may be a
	// later message's, kept before this one.
	convBytes, err := vault.MarshalCBOR(conversationRecord{Peer: c.to.String(), LastSeq: max(mem.lastSeq[c.to], c.rec.Seq)})
	if err != nil {
		return err
	}
	entry, err := vault.MarshalCBOR(outboxRecord{ID: c.rec.ID})
	if err != nil {
		return err
	}
	recID := messageRecordID(c.rec.ID, c.Message.From)
	err = c.v.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colMessages, recID, msgBytes)
		tx.Put(colOutbox, recID, entry)
		tx.Put(colConversations, conversationRecordID(c.to), convBytes)
		return nil
	})
	if err != nil {
		return err
	}
	mem.remember(c.rec)
	return nil
}

// lastSeq returns the seq of the last message me sent to peer: from the
// conversation's record, or, where there is none yet (a vault restored from
// an export), from the messages themselves.
func (p *Planet) lastSeq(ctx context.Context, v *vault.Vault, me, peer did.DID) (uint64, error) {
	b, err := v.Get(ctx, colConversations, conversationRecordID(peer))
	switch {
	case err == nil:
		var r conversationRecord
		if err := vault.UnmarshalCBOR(b, &r); err != nil || r.Peer != peer.String() {
			return 0, fmt.Errorf("conversation with %s: %w", peer, errors.Join(vault.ErrCorrupt, err))
		}
		return r.LastSeq, nil
	case !errors.Is(err, vault.ErrNotFound):
		return 0, err
	}
	recs, err := session.List(ctx, v, colMessages, func(*messageRecord, string) {})
	if err != nil {
		return 0, err
	}
	var last uint64
	for _, r := range recs {
		if r.From == me.String() && r.To == peer.String() {
			last = max(last, r.Seq)
		}
	}
	return last, nil
}

// ReceiveChat verifies signed, a chat message that arrived via ViaDirect or
// ViaMailbox, and keeps it as received. It returns the message and whether
// it is new: a message already kept (the same id from the same sender) is
// not kept again, and the one kept first is returned.
//
// It refuses, with an error wrapping [ErrInvalid] and, where the message
// itself is at fault, the reason from [VerifyMessage]: a message that does
// not verify, is not a chat message, is not addressed to the person alone,
// or is from the person. A refusal keeps nothing.
func (p *Planet) ReceiveChat(ctx context.Context, signed []byte, via string) (*ChatMessage, bool, error) {
	return p.receiveChat(ctx, signed, via, keys.PeerID{})
}

// receiveChat is ReceiveChat; with a non-zero remote, the message must also
// have been signed by the key of that peer.
func (p *Planet) receiveChat(ctx context.Context, signed []byte, via string, remote keys.PeerID) (*ChatMessage, bool, error) {
	m, err := p.verifyChat(signed, remote)
	if err != nil {
		return nil, false, err
	}
	return p.keepChat(ctx, m, signed, via)
}

// verifyChat verifies signed, which came on a chat stream from remote or,
// with a zero remote, from the mailbox: a message that is not from the
// person, signed by its sender's key (and, with a remote, by that peer's).
func (p *Planet) verifyChat(signed []byte, remote keys.PeerID) (*didcomm.Message, error) {
	_, id, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	m, signer, err := didcomm.VerifySigner(signed, p.opt.Now())
	if err != nil {
		return nil, fmt.Errorf("receive chat: %w: %w", ErrInvalid, err)
	}
	if !remote.IsZero() && keys.PeerIDFromEd25519(signer) != remote {
		return nil, fmt.Errorf("receive chat: %w: the message was signed by %s, but sent by peer %s", ErrInvalid, m.From, remote)
	}
	if m.From == id.DID() {
		return nil, fmt.Errorf("receive chat: %w: the message is from yourself", ErrInvalid)
	}
	return m, nil
}

// takeChat applies m, a verified message of the chat protocol that arrived
// via via as signed: a chat message is kept (see ReceiveChat), a receipt
// marks the person's messages it names delivered (their ids).
func (p *Planet) takeChat(ctx context.Context, m *didcomm.Message, signed []byte, via string) (kept *ChatMessage, delivered []string, err error) {
	if didcomm.TypeMatches(m.Type, ChatReceiptType) {
		delivered, err = p.applyReceipt(ctx, m)
		return nil, delivered, err
	}
	kept, _, err = p.keepChat(ctx, m, signed, via)
	return kept, nil, err
}

// keepChat keeps m, a verified chat message that arrived via via as
// signed; see ReceiveChat.
func (p *Planet) keepChat(ctx context.Context, m *didcomm.Message, signed []byte, via string) (*ChatMessage, bool, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, false, err
	}
	if via != ViaDirect && via != ViaMailbox {
		return nil, false, fmt.Errorf("receive chat: %w: unknown way of arrival %q", ErrInvalid, via)
	}
	now := p.opt.Now()
	body, err := readChat(m)
	if err != nil {
		return nil, false, fmt.Errorf("receive chat: %w: %w", ErrInvalid, err)
	}
	if m.To[0] != id.DID() {
		return nil, false, fmt.Errorf("receive chat: %w: the message is addressed to %s, not to you", ErrInvalid, m.To[0])
	}

	recID := messageRecordID(m.ID, m.From)
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	if old, err := session.Get[messageRecord](ctx, v, colMessages, recID); err == nil {
		c, err := old.chatMessage()
		if err != nil {
			return nil, false, fmt.Errorf("chat message %s: %w", recID, errors.Join(vault.ErrCorrupt, err))
		}
		return &c, false, nil
	} else if !errors.Is(err, vault.ErrNotFound) {
		return nil, false, err
	}
	rec := &messageRecord{
		ID: m.ID, From: m.From.String(), To: m.To[0].String(), Text: body.Text, Seq: body.Seq,
		Created: millis(m.Created), State: ChatReceived, Stored: millis(now), Via: via,
		Signed: append([]byte(nil), signed...),
	}
	if err := session.Put(ctx, v, colMessages, recID, rec); err != nil {
		return nil, false, err
	}
	c, err := rec.chatMessage()
	if err != nil {
		return nil, false, err
	}
	return &c, true, nil
}

// MarkDelivered records that the recipient acknowledged the person's
// message id. Marking a delivered message again changes nothing. An id of
// no message the person sent returns an error wrapping [vault.ErrNotFound];
// one the person received, an error wrapping [ErrInvalid].
func (p *Planet) MarkDelivered(ctx context.Context, id string) error {
	v, me, err := p.unlocked()
	if err != nil {
		return err
	}
	if didcomm.CheckID(id) != nil {
		return fmt.Errorf("mark delivered: %w: %q is not a message id", ErrInvalid, id)
	}
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	mem := p.chat.of(v)
	rec, err := p.undelivered(ctx, v, me.DID(), mem, id)
	if err != nil || rec == nil {
		return err
	}
	return p.writeDelivered(ctx, v, me.DID(), mem, []*messageRecord{rec})
}

// Acknowledged records that the recipient acknowledged the person's
// message id (a [ChatAck] came back for it), once [SignedChat.Keep] has
// kept it. The message reads as delivered at once; it is written so in the
// vault a moment later, in the background, once the conversation pauses
// (ackWriteQuiet), with any others acknowledged meanwhile: the writer of a
// message waits for its reader's vault, not for its own a second time,
// and a quick exchange costs one vault update for many messages. Should
// that write not happen (the vault locked or the page closed in between),
// the message stays sent, in the outbox, and core/p2p offers it again to
// its reader when next connected: the reader keeps it once and
// acknowledges it again. [Planet.WriteAcknowledged] writes without
// waiting.
func (p *Planet) Acknowledged(id string) {
	v, _, err := p.unlocked()
	if err != nil || didcomm.CheckID(id) != nil {
		return
	}
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	mem := p.chat.of(v)
	if _, ok := mem.acked[id]; ok {
		return
	}
	mem.acked[id] = millis(p.opt.Now())
	if mem.writing {
		return // the writer takes it with the rest
	}
	if mem.ackFirst.IsZero() {
		mem.ackFirst = time.Now()
	}
	wait := min(ackWriteQuiet, time.Until(mem.ackFirst.Add(ackWriteMax)))
	switch {
	case mem.ackTimer == nil:
		mem.ackTimer = time.AfterFunc(wait, func() { p.writeAcknowledged(v) })
	case mem.ackTimer.Stop():
		mem.ackTimer.Reset(wait)
		// Otherwise the timer has fired, and its writeAcknowledged, waiting
		// for p.chatMu, takes this one with the rest.
	}
}

// WriteAcknowledged starts writing at once, in the background, the
// messages acknowledged and not yet written delivered, rather than when
// the conversation pauses: for a page about to be hidden or closed.
func (p *Planet) WriteAcknowledged() {
	v, _, err := p.unlocked()
	if err != nil {
		return
	}
	p.chatMu.Lock()
	mem := p.chat.of(v)
	waiting := mem.ackTimer != nil && mem.ackTimer.Stop()
	p.chatMu.Unlock()
	if waiting { // otherwise there is nothing to write, or the writer runs
		go p.writeAcknowledged(v)
	}
}

// Acknowledgements are written once no other came for ackWriteQuiet, and
// at the latest ackWriteMax after the first of them. (Variables for the
// tests only.)
var (
	ackWriteQuiet = 200 * time.Millisecond
	ackWriteMax   = 2 * time.Second
)

// writeAcknowledged writes the acknowledged messages of v delivered, until
// none are left to write. Only one runs at a time (chatMemory.writing). It
// holds p.chatMu only between vault operations, so that writing the next
// message does not wait for it.
func (p *Planet) writeAcknowledged(v *vault.Vault) {
	ctx := context.Background()
	me, err := p.Identity()
	p.chatMu.Lock()
	if p.chat.vault != v || p.chat.writing { // locked meanwhile: what was acknowledged stays sent
		p.chatMu.Unlock()
		return
	}
	p.chat.ackTimer, p.chat.ackFirst, p.chat.writing = nil, time.Time{}, true
	p.chatMu.Unlock()
	for {
		p.chatMu.Lock()
		if p.chat.vault != v {
			p.chatMu.Unlock()
			return
		}
		mem := &p.chat
		if err != nil || len(mem.acked) == 0 {
			mem.acked, mem.writing = map[string]int64{}, false
			p.chatMu.Unlock()
			return
		}
		acked := maps.Clone(mem.acked)
		recs := make(map[string]*messageRecord, len(acked))
		for id := range acked {
			recs[id] = mem.unacked[id]
		}
		p.chatMu.Unlock()

		// No one else writes these records meanwhile: MarkDelivered,
		// receipts and the outbox pass over messages in mem.acked.
		var next []*messageRecord
		for id := range acked {
			rec := recs[id]
			if rec == nil {
				if rec, err = session.Get[messageRecord](ctx, v, colMessages, messageRecordID(id, me.DID())); err != nil {
					break
				}
			}
			if rec.State == ChatSent || rec.State == ChatQueued {
				next = append(next, rec)
			}
		}
		if err == nil && len(next) > 0 {
			err = v.Update(ctx, func(tx *vault.Tx) error {
				for _, rec := range next {
					if err := putDelivered(tx, me.DID(), rec, acked[rec.ID]); err != nil {
						return err
					}
				}
				return nil
			})
		}

		p.chatMu.Lock()
		if p.chat.vault == v {
			for id := range acked {
				delete(p.chat.acked, id)
			}
			for _, n := range next {
				delete(p.chat.unacked, n.ID)
			}
		}
		p.chatMu.Unlock()
	}
}

// undelivered returns the record of the person's message id if it is still
// sent, nil if it is delivered already (or acknowledged and about to be
// written so), or an error wrapping [vault.ErrNotFound] (no message the
// person sent) or [ErrInvalid] (one the person received). p.chatMu is
// held.
func (p *Planet) undelivered(ctx context.Context, v *vault.Vault, me did.DID, mem *chatMemory, id string) (*messageRecord, error) {
	if _, ok := mem.acked[id]; ok {
		return nil, nil
	}
	rec := mem.unacked[id]
	if rec == nil {
		var err error
		if rec, err = session.Get[messageRecord](ctx, v, colMessages, messageRecordID(id, me)); err != nil {
			return nil, fmt.Errorf("mark delivered: message %s: %w", id, err)
		}
	}
	switch rec.State {
	case ChatDelivered:
		return nil, nil
	case ChatSent, ChatQueued:
		return rec, nil
	}
	return nil, fmt.Errorf("mark delivered: %w: message %s was not sent by you", ErrInvalid, id)
}

// writeDelivered marks recs, records of the person's messages still sent,
// delivered now, in one vault update. p.chatMu is held.
func (p *Planet) writeDelivered(ctx context.Context, v *vault.Vault, me did.DID, mem *chatMemory, recs []*messageRecord) error {
	now := millis(p.opt.Now())
	err := v.Update(ctx, func(tx *vault.Tx) error {
		for _, rec := range recs {
			if err := putDelivered(tx, me, rec, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		delete(mem.unacked, rec.ID)
	}
	return nil
}

// putDelivered writes rec, a record of the person's message still sent or
// queued, as delivered at when (Unix milliseconds), out of the outbox.
func putDelivered(tx *vault.Tx, me did.DID, rec *messageRecord, when int64) error {
	n := *rec
	n.State, n.Delivered = ChatDelivered, when
	b, err := vault.MarshalCBOR(&n)
	if err != nil {
		return err
	}
	recID := messageRecordID(n.ID, me)
	tx.Put(colMessages, recID, b)
	tx.Delete(colOutbox, recID)
	return nil
}

// chatMemory is what chat remembers between calls, so that writing a
// message and marking it delivered read nothing back from the vault: the
// seq of the person's last message to each peer, and the records of the
// messages kept as sent and not yet written delivered (up to
// maxUnacked; others are read from the vault when needed). It belongs to
// one vault; Planet.chatMu guards it.
type chatMemory struct {
	vault   *vault.Vault
	lastSeq map[did.DID]uint64
	unacked map[string]*messageRecord // by message id
	// acked are the person's messages acknowledged but not yet written
	// delivered (id → when, Unix milliseconds). ackTimer starts
	// Planet.writeAcknowledged, due since ackFirst; writing says whether
	// it runs.
	acked    map[string]int64
	ackTimer *time.Timer
	ackFirst time.Time
	writing  bool
}

// of returns the memory for v, forgetting what was remembered of another
// vault.
func (c *chatMemory) of(v *vault.Vault) *chatMemory {
	if c.vault != v {
		*c = chatMemory{vault: v, lastSeq: map[did.DID]uint64{}, unacked: map[string]*messageRecord{}, acked: map[string]int64{}}
	}
	return c
}

// maxUnacked bounds how many records of messages not yet delivered chat
// remembers (those that went to a mailbox wait there for a receipt).
const maxUnacked = 512

// remember remembers rec, a record just kept as sent.
func (c *chatMemory) remember(rec *messageRecord) {
	if len(c.unacked) >= maxUnacked {
		for id := range c.unacked {
			if _, ok := c.acked[id]; !ok {
				delete(c.unacked, id)
				break
			}
		}
	}
	c.unacked[rec.ID] = rec
}

// Conversation returns the messages between the person and with, sent and
// received, in conversation order: each person's messages in the order of
// their seq (then their time, then id), the two interleaved by the time each
// was made, then the time the vault kept it. Sequence numbers win over
// clocks, so one person's messages never appear out of the order in which
// they were written, wherever they arrived from; clocks only interleave the
// two. It reads the messages once and sorts: n log n.
func (p *Planet) Conversation(ctx context.Context, with did.DID) ([]ChatMessage, error) {
	if with.IsZero() {
		return nil, fmt.Errorf("conversation: %w: no one to converse with", ErrInvalid)
	}
	all, err := p.chatMessages(ctx)
	if err != nil {
		return nil, err
	}
	var mine []ChatMessage
	for _, c := range all {
		if c.Peer() == with {
			mine = append(mine, c)
		}
	}
	return conversationOrder(mine), nil
}

// ackedNow returns the person's messages acknowledged but not yet written
// delivered. Read it before the vault: a message leaves it only once it is
// written delivered, so whatever the vault says then, the two together
// tell where each message stands.
func (p *Planet) ackedNow(v *vault.Vault) map[string]int64 {
	p.chatMu.Lock()
	defer p.chatMu.Unlock()
	return maps.Clone(p.chat.of(v).acked)
}

// chatMessages returns every chat message in the vault, in no order, those
// acknowledged but not yet written so as delivered.
func (p *Planet) chatMessages(ctx context.Context) ([]ChatMessage, error) {
	v, me, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	acked := p.ackedNow(v)
	recs, err := v.List(ctx, colMessages)
	if err != nil {
		return nil, err
	}
	out := make([]ChatMessage, 0, len(recs))
	for _, r := range recs {
		var rec messageRecord
		err := vault.UnmarshalCBOR(r.Data, &rec)
		var c ChatMessage
		if err == nil {
			c, err = rec.chatMessage()
		}
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", colMessages, r.ID, errors.Join(vault.ErrCorrupt, err))
		}
		if when, ok := acked[c.ID]; ok && (c.State == ChatSent || c.State == ChatQueued) && c.From == me.DID() {
			c.State, c.Delivered = ChatDelivered, Time(when)
		}
		out = append(out, c)
	}
	return out, nil
}

// conversationOrder orders the messages of one or more conversations as
// [Planet.Conversation] describes: by sender, each sender's messages by
// seq, then a merge of the senders by time.
func conversationOrder(msgs []ChatMessage) []ChatMessage {
	bySender := map[did.DID][]ChatMessage{}
	var senders []did.DID
	for _, c := range msgs {
		if _, ok := bySender[c.From]; !ok {
			senders = append(senders, c.From)
		}
		bySender[c.From] = append(bySender[c.From], c)
	}
	slices.SortFunc(senders, func(a, b did.DID) int { return strings.Compare(a.String(), b.String()) })
	queues := make([][]ChatMessage, len(senders))
	for i, s := range senders {
		q := bySender[s]
		slices.SortFunc(q, func(a, b ChatMessage) int {
			switch {
			case a.Seq != b.Seq:
				return cmpUint(a.Seq, b.Seq)
			case !a.Created.Equal(b.Created):
				return a.Created.Compare(b.Created)
			}
			return strings.Compare(a.ID, b.ID)
		})
		queues[i] = q
	}
	// Merge: each step takes the earliest of the senders' next messages.
	// A conversation has two senders, so the scan over heads is short.
	out := make([]ChatMessage, 0, len(msgs))
	for len(out) < len(msgs) {
		best := -1
		for i, q := range queues {
			if len(q) == 0 {
				continue
			}
			if best < 0 || before(q[0], queues[best][0]) {
				best = i
			}
		}
		out = append(out, queues[best][0])
		queues[best] = queues[best][1:]
	}
	return out
}

// before reports whether a comes before b, messages of different senders,
// in a conversation: by the time each was made, then kept. Ties go to the
// sender that sorts first, for the same order every time.
func before(a, b ChatMessage) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Stored.Before(b.Stored)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SendChat writes signed, a chat message from [Planet.NewChat], on s, a
// stream of protocol [ChatProtocol], and waits for the receiver's
// acknowledgement; then the caller marks it delivered with
// [Planet.MarkDelivered]. Several messages may be sent on one stream, one
// after the other; the caller closes it when done. Cancelling ctx resets the
// stream. An error means the message may not have been kept: send it again,
// on another stream or through the mailbox; the receiver keeps it once.
func SendChat(ctx context.Context, s wire.Stream, signed []byte) error {
	sm, err := didcomm.ParseSigned(signed)
	if err != nil {
		return fmt.Errorf("send chat: %w: %w", ErrInvalid, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send chat: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if err := wire.WriteFrame(s, chatMaxFrame, ChatFrame{Signed: signed}); err != nil {
		return fmt.Errorf("send chat: %w", ctxErr(ctx, err))
	}
	var ack ChatAck
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

// ServeChat answers one chat stream s, opened by the peer remote (the
// stream's authenticated remote peer ID, as libp2p reports it): it keeps
// each message that arrives ([Planet.ReceiveChat], ViaDirect) and
// acknowledges it, until the peer closes its side, then closes the stream
// and returns nil. A message that is malformed, oversize, forged, not
// signed by remote's key, or refused for any other reason resets the stream
// and ends with an error saying why; nothing of it is kept. Cancelling ctx
// resets the stream.
func (p *Planet) ServeChat(ctx context.Context, s wire.Stream, remote keys.PeerID) error {
	if remote.IsZero() {
		s.Reset()
		return fmt.Errorf("serve chat: %w: no remote peer", ErrInvalid)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	for {
		var f ChatFrame
		err := wire.ReadFrame(s, chatMaxFrame, &f)
		if err == io.EOF {
			return s.Close()
		}
		if err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, ctxErr(ctx, err))
		}
		m, err := p.verifyChat(f.Signed, remote)
		if err == nil {
			_, _, err = p.takeChat(ctx, m, f.Signed, ViaDirect)
		}
		if err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, err)
		}
		if err := wire.WriteFrame(s, chatMaxAck, ChatAck{ID: m.ID}); err != nil {
			s.Reset()
			return fmt.Errorf("serve chat from %s: %w", remote, ctxErr(ctx, err))
		}
	}
}
