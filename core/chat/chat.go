// Package chat is text messages between two people, end to end signed,
// delivered directly over a stream when both are online and sealed through
// the mailbox when not. docs/protocols/chat.md specifies the protocol.
//
// It is a feature (see package planet/core/session): [Service] answers the
// API over the open vault and keeps what chat remembers between calls, and
// [Service.Section] is its part of the export, messages.json. The network
// (core/p2p) carries what it writes: [Send] and [Service.Serve] on chat
// streams, sealed letters through the mailbox, which package core opens and
// hands to [Service.Take].
//
// # Protocol
//
// A chat message is a DIDComm message of type [MessageType] from the sender
// to exactly one recipient, with the body {"seq": n, "text": "…"}: text is
// what the person wrote, at most [MaxTextLength] bytes; seq counts the
// sender's messages in the conversation from 1, so that the receiver can
// keep them in the order they were written whatever order they arrive in.
//
// On a stream of protocol [Protocol], the sender writes [Frame]s,
// each holding one signed chat message; the receiver verifies it, checks
// that it was signed by the key of the stream's remote peer, keeps it, and
// answers with an [Ack] naming its id. Anything else (a malformed,
// oversize, forged or misaddressed message) resets the stream and keeps
// nothing. The sender closes its side when it has nothing more to send.
//
// # Records
//
// Both directions are kept in the vault, one record per message, whose id
// is the message id with a digest of the sender's DID: a message that
// arrives twice (directly, then from the mailbox) is kept once. The records
// (record.go) are the stored form only; [Message] is the API's.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/keys"
	"planet/core/session"
	"planet/vault"
)

// Protocol is the libp2p protocol id of chat streams.
const Protocol = "/planet/chat/1.0.0"

// MessageType is the DIDComm message type of a chat message. PLANET's
// type URIs are "planet:<protocol>/<major>.<minor>/<message>"
// (docs/envelope.md); a reader accepts any minor version of the major it
// knows and ignores body members it does not know.
const MessageType = "planet:chat/1.0/message"

// MaxTextLength is the longest chat text, in bytes of UTF-8.
const MaxTextLength = 16 << 10

// State is where a chat message stands.
type State string

// The states of chat messages. An outgoing message is sent until the
// recipient acknowledges it, then delivered; one that could be handed
// neither to the recipient nor to their mailbox is queued (see
// [Service.Queue]) until it can. An incoming one is received. The values
// are frozen: message records and messages.json hold them.
const (
	Queued    State = "queued"
	Sent      State = "sent"
	Delivered State = "delivered"
	Received  State = "received"
)

// How a chat message travelled (a message's Via): for an incoming one,
// how it reached the vault (see [Service.Receive]); for one the person
// wrote, how it was handed over (see [Service.Acknowledged] and
// [Service.MarkSent]). The values are frozen: message records and
// messages.json hold them.
//
// ViaDirect and ViaRelayed are both a chat stream between the two
// people's nodes; they differ in the connection under it. A direct one
// goes from device to device (WebRTC between browsers, or any connection
// that is not through a relay); a relayed one goes through a relay's
// circuit, which sees when and how much the two say to each other
// (though not what: the stream is encrypted end to end) and limits how
// long and how much. core/p2p says which, from the stream's connection.
const (
	ViaDirect  = "direct"  // on a chat stream over a direct connection
	ViaRelayed = "relayed" // on a chat stream over a connection through a relay
	ViaMailbox = "mailbox" // in a sealed envelope, through the mailbox
)

// OnStream reports whether via is one of the ways a message travels on a
// chat stream: [ViaDirect] or [ViaRelayed].
func OnStream(via string) bool { return via == ViaDirect || via == ViaRelayed }

// Message is one chat message in the person's vault, sent or received.
type Message struct {
	ID      string    // the message id (DIDComm "id")
	From    did.DID   // the sender
	To      did.DID   // the recipient
	Text    string    // what the sender wrote
	Seq     uint64    // the sender's count of their messages in the conversation
	Created time.Time // when the sender made it (their clock), whole seconds
	State   State     // sent, delivered or received
	// Stored is when this vault kept it: made, for an outgoing message;
	// arrived, for an incoming one.
	Stored time.Time
	// Delivered is when the recipient acknowledged an outgoing message;
	// zero until then, and for incoming messages.
	Delivered time.Time
	// Via says how an incoming message arrived: ViaDirect, ViaRelayed,
	// ViaMailbox or ViaDIDComm. For the person's own, how it was handed
	// over: ViaDirect or ViaRelayed when its reader acknowledged it on a
	// chat stream, ViaMailbox once it was left in their mailbox (delivered
	// later, by a receipt or an acknowledgement: it stays ViaMailbox),
	// ViaDIDComm for a basic message; empty while it is on its way for the
	// first time (queued, or just written), and for messages kept before
	// senders recorded how theirs went.
	Via string
	// Signed is the message as its sender signed it. For an outgoing
	// message not yet delivered, it is what to send again. Empty for a
	// basic message (see basic.go), which has Plain instead.
	Signed []byte
	// Plain is a basic message's DIDComm plaintext, as its sender wrote it.
	Plain []byte
}

// Outgoing reports whether the person sent the message.
func (c *Message) Outgoing() bool { return c.State != Received }

// Peer returns the other person in the message's conversation.
func (c *Message) Peer() did.DID {
	if c.Outgoing() {
		return c.To
	}
	return c.From
}

// Service is chat over the open vault, with what chat remembers between
// calls (see chatMemory): the last seq per conversation, the messages kept
// and not yet delivered, and the acknowledgements not yet written.
//
// What it remembers belongs to one vault and lasts while that vault does,
// across a lock and an unlock; another vault (an import) starts afresh.
// Locking needs no call: acknowledgements still to be written when the
// vault locks are dropped by their writer, which finds no session (their
// messages stay sent, in the outbox, and are offered again), and
// [Service.WriteAcknowledged] on a locked vault does nothing.
type Service struct {
	open     session.Opener
	contacts *contacts.Service // who the person knows: see requests.go

	mu  sync.Mutex // serialises chat's read-modify-writes of its records
	mem chatMemory // under mu
}

// New returns chat over the vault that open opens. cs is the person's
// address book: messages from someone in it go into conversations, others
// wait as requests (see [Service.Requests]). With a nil cs only those the
// person wrote to are known.
func New(open session.Opener, cs *contacts.Service) *Service {
	return &Service{open: open, contacts: cs}
}

// Count counts the chat messages in the vault, sent and received.
func (svc *Service) Count(ctx context.Context) (int, error) {
	s, err := svc.open.Session()
	if err != nil {
		return 0, err
	}
	return s.Vault.Count(ctx, colMessages)
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
const maxChatBody = 2*MaxTextLength + 1024

// readChat checks that m is a chat message and returns its body.
func readChat(m *didcomm.Message) (chatBody, error) {
	if !didcomm.TypeMatches(m.Type, MessageType) {
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
// MaxTextLength bytes, and no control characters but line breaks and
// tabs, which could otherwise hide or disguise what the message says.
func checkChatText(text string) error {
	if !utf8.ValidString(text) {
		return errors.New("its text is not valid UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("its text is empty")
	}
	if len(text) > MaxTextLength {
		return fmt.Errorf("its text is %d bytes long, at most %d are allowed", len(text), MaxTextLength)
	}
	for _, r := range text {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r < 0xa0 {
			return fmt.Errorf("its text holds the control character %U", r)
		}
	}
	return nil
}

// NewMessage writes a chat message with text to the person whose DID is
// to, keeps it in the vault as sent, and returns it with the signed
// message: send that with [Send] on a chat stream, or seal it with
// didcomm.SealSigned for the mailbox when to is offline, then call
// [Service.MarkDelivered] once acknowledged. It is [Service.Write] followed
// by [Written.Keep]; the errors are Write's and Keep's.
func (svc *Service) NewMessage(ctx context.Context, to did.DID, text string) (*Message, []byte, error) {
	c, err := svc.Write(ctx, to, text)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Keep(ctx); err != nil {
		return nil, nil, err
	}
	return c.Message, c.Signed, nil
}

// A Written is a chat message the person wrote, numbered and signed by
// [Service.Write] but not yet kept, so that it can be on its way while
// [Written.Keep] keeps it.
type Written struct {
	Message *Message // the message, as it is kept: sent
	Signed  []byte   // the signed message, to send or to seal

	svc *Service
	v   *vault.Vault
	to  did.DID
	rec *messageRecord
}

// Write writes a chat message with text to the person whose DID is
// to: it takes the next seq of their conversation and signs the message,
// but keeps nothing yet. Text is trimmed of surrounding white space; empty
// text, text longer than [MaxTextLength] bytes, control characters,
// and a to that is the person or cannot be resolved return an error
// wrapping [input.ErrInvalid]. A message written and never kept leaves a gap in
// the seqs of the conversation, which readers allow.
func (svc *Service) Write(ctx context.Context, to did.DID, text string) (*Written, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	v, id := s.Vault, s.Identity
	text = strings.TrimSpace(text)
	if err := checkChatText(text); err != nil {
		return nil, fmt.Errorf("new chat: %w: %w", input.ErrInvalid, err)
	}
	if to.IsZero() || to == id.DID() {
		return nil, fmt.Errorf("new chat: %w: a chat needs someone else to write to", input.ErrInvalid)
	}
	if _, err := did.Resolve(to); err != nil {
		return nil, fmt.Errorf("new chat: %w: %w", input.ErrInvalid, err)
	}
	seq, err := svc.nextSeq(ctx, v, id.DID(), to)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	m, err := didcomm.NewMessage(id.DID(), []did.DID{to}, MessageType, chatBody{Seq: seq, Text: text}, now)
	if err != nil {
		return nil, fmt.Errorf("new chat: %w", err)
	}
	signed, err := didcomm.Sign(id, m)
	if err != nil {
		return nil, fmt.Errorf("new chat: %w", err)
	}
	rec := &messageRecord{
		ID: m.ID, From: id.DID().String(), To: to.String(), Text: text, Seq: seq,
		Created: session.Millis(m.Created), State: Sent, Stored: session.Millis(now), Signed: signed,
	}
	c, err := rec.message()
	if err != nil {
		return nil, err
	}
	return &Written{Message: &c, Signed: signed, svc: svc, v: v, to: to, rec: rec}, nil
}

// nextSeq takes the seq of the person's next message to peer.
func (svc *Service) nextSeq(ctx context.Context, v *vault.Vault, me, peer did.DID) (uint64, error) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(v)
	last, ok := mem.lastSeq[peer]
	if !ok {
		var err error
		if last, err = lastSeq(ctx, v, me, peer); err != nil {
			return 0, err
		}
	}
	mem.lastSeq[peer] = last + 1
	return last + 1, nil
}

// Keep keeps the message in the vault as sent, in the outbox until it is
// delivered, with the conversation's record, in one vault update. Keep it
// once; messages written one after the other may be kept in any order.
func (c *Written) Keep(ctx context.Context) error {
	svc := c.svc
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(c.v)
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
func lastSeq(ctx context.Context, v *vault.Vault, me, peer did.DID) (uint64, error) {
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

// Receive verifies signed, a chat message that arrived via ViaDirect,
// ViaRelayed or ViaMailbox, and keeps it as received. It returns the message and whether
// it is new: a message already kept (the same id from the same sender) is
// not kept again, and the one kept first is returned.
//
// It refuses, with an error wrapping [input.ErrInvalid] and, where the message
// itself is at fault, the reason didcomm gives: a message that does
// not verify, is not a chat message, is not addressed to the person alone,
// or is from the person. A refusal keeps nothing.
func (svc *Service) Receive(ctx context.Context, signed []byte, via string) (*Message, bool, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, false, err
	}
	m, err := verify(s, signed, keys.PeerID{})
	if err != nil {
		return nil, false, err
	}
	return svc.keep(ctx, s, m, signed, via)
}

// verify verifies signed, which came on a chat stream from remote or,
// with a zero remote, from the mailbox: a message that is not from the
// person, signed by its sender's key (and, with a remote, by that peer's).
func verify(s *session.Session, signed []byte, remote keys.PeerID) (*didcomm.Message, error) {
	id := s.Identity
	m, signer, err := didcomm.VerifySigner(signed, s.Now())
	if err != nil {
		return nil, fmt.Errorf("receive chat: %w: %w", input.ErrInvalid, err)
	}
	if !remote.IsZero() && keys.PeerIDFromEd25519(signer) != remote {
		return nil, fmt.Errorf("receive chat: %w: the message was signed by %s, but sent by peer %s", input.ErrInvalid, m.From, remote)
	}
	if m.From == id.DID() {
		return nil, fmt.Errorf("receive chat: %w: the message is from yourself", input.ErrInvalid)
	}
	return m, nil
}

// Takes reports whether typ is the DIDComm type of a message of the chat
// protocol, which [Service.Take] applies: a chat message or a receipt.
func Takes(typ string) bool {
	return didcomm.TypeMatches(typ, MessageType) || didcomm.TypeMatches(typ, ReceiptType)
}

// Take applies m, a verified message of the chat protocol (see [Takes])
// that arrived via via as signed, from someone other than the person: a
// chat message is kept (see [Service.Receive]) and returned, a receipt
// marks the person's messages it names delivered (their ids are
// returned). Package core takes so what it opens from the mailbox.
func (svc *Service) Take(ctx context.Context, m *didcomm.Message, signed []byte, via string) (kept *Message, delivered []string, err error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, nil, err
	}
	return svc.take(ctx, s, m, signed, via)
}

func (svc *Service) take(ctx context.Context, s *session.Session, m *didcomm.Message, signed []byte, via string) (kept *Message, delivered []string, err error) {
	if didcomm.TypeMatches(m.Type, ReceiptType) {
		delivered, err = svc.applyReceipt(ctx, s, m)
		return nil, delivered, err
	}
	kept, _, err = svc.keep(ctx, s, m, signed, via)
	return kept, nil, err
}

// keep keeps m, a verified chat message that arrived via via as
// signed; see Receive.
func (svc *Service) keep(ctx context.Context, s *session.Session, m *didcomm.Message, signed []byte, via string) (*Message, bool, error) {
	id := s.Identity
	if !OnStream(via) && via != ViaMailbox {
		return nil, false, fmt.Errorf("receive chat: %w: unknown way of arrival %q", input.ErrInvalid, via)
	}
	now := s.Now()
	body, err := readChat(m)
	if err != nil {
		return nil, false, fmt.Errorf("receive chat: %w: %w", input.ErrInvalid, err)
	}
	if m.To[0] != id.DID() {
		return nil, false, fmt.Errorf("receive chat: %w: the message is addressed to %s, not to you", input.ErrInvalid, m.To[0])
	}
	rec := &messageRecord{
		ID: m.ID, From: m.From.String(), To: m.To[0].String(), Text: body.Text, Seq: body.Seq,
		Created: session.Millis(m.Created), State: Received, Stored: session.Millis(now), Via: via,
		Signed: append([]byte(nil), signed...),
	}
	return svc.keepReceived(ctx, s, rec, m.From)
}

// keepReceived keeps rec, a message from from that arrived, in its
// conversation if the person knows from, as a request if not, or not at all
// if the person blocked from; it returns the message and whether it is new.
func (svc *Service) keepReceived(ctx context.Context, s *session.Session, rec *messageRecord, from did.DID) (*Message, bool, error) {
	v := s.Vault
	recID := messageRecordID(rec.ID, from)
	blocked, err := isBlocked(ctx, v, from)
	if err != nil {
		return nil, false, err
	}
	if blocked {
		return nil, false, nil // dropped unread
	}
	known, err := svc.knows(ctx, v, from)
	if err != nil {
		return nil, false, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if old, err := session.Get[messageRecord](ctx, v, colMessages, recID); err == nil {
		c, err := old.message()
		if err != nil {
			return nil, false, fmt.Errorf("chat message %s: %w", recID, errors.Join(vault.ErrCorrupt, err))
		}
		return &c, false, nil
	} else if !errors.Is(err, vault.ErrNotFound) {
		return nil, false, err
	}
	if !known {
		// A stranger's message waits as a request, or is dropped past
		// the limits; either way it is in no conversation.
		_, err := keepRequest(ctx, s, rec, from)
		return nil, false, err
	}
	if err := session.Put(ctx, v, colMessages, recID, rec); err != nil {
		return nil, false, err
	}
	c, err := rec.message()
	if err != nil {
		return nil, false, err
	}
	return &c, true, nil
}

// MarkDelivered records that the recipient acknowledged the person's
// message id, without saying how it went (its Via stays as it was; see
// [Service.Acknowledged]). Marking a delivered message again changes nothing. An id of
// no message the person sent returns an error wrapping [vault.ErrNotFound];
// one the person received, an error wrapping [input.ErrInvalid].
func (svc *Service) MarkDelivered(ctx context.Context, id string) error {
	s, err := svc.open.Session()
	if err != nil {
		return err
	}
	if didcomm.CheckID(id) != nil {
		return fmt.Errorf("mark delivered: %w: %q is not a message id", input.ErrInvalid, id)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(s.Vault)
	rec, err := undelivered(ctx, s, mem, id)
	if err != nil || rec == nil {
		return err
	}
	return writeDelivered(ctx, s, mem, []*messageRecord{rec}, "")
}

// Acknowledged records that the recipient acknowledged the person's
// message id (a [Ack] came back for it) on a chat stream over a
// connection via says ([ViaDirect] or [ViaRelayed]; any other value
// records no way), once [Written.Keep] has kept it. The message reads as
// delivered at once, with that way unless it already has one (a message
// left in the reader's mailbox stays [ViaMailbox]); it is written so in the
// vault a moment later, in the background, once the conversation pauses
// (ackWriteQuiet), with any others acknowledged meanwhile: the writer of a
// message waits for its reader's vault, not for its own a second time,
// and a quick exchange costs one vault update for many messages. Should
// that write not happen (the vault locked or the page closed in between),
// the message stays sent, in the outbox, and core/p2p offers it again to
// its reader when next connected: the reader keeps it once and
// acknowledges it again. [Service.WriteAcknowledged] writes without
// waiting.
func (svc *Service) Acknowledged(id, via string) {
	s, err := svc.open.Session()
	if err != nil || didcomm.CheckID(id) != nil {
		return
	}
	if !OnStream(via) {
		via = ""
	}
	v := s.Vault
	svc.mu.Lock()
	defer svc.mu.Unlock()
	mem := svc.mem.of(v)
	if _, ok := mem.acked[id]; ok {
		return
	}
	mem.acked[id] = ack{when: session.Millis(s.Now()), via: via}
	if mem.writing {
		return // the writer takes it with the rest
	}
	if mem.ackFirst.IsZero() {
		mem.ackFirst = time.Now()
	}
	wait := min(ackWriteQuiet, time.Until(mem.ackFirst.Add(ackWriteMax)))
	switch {
	case mem.ackTimer == nil:
		mem.ackTimer = time.AfterFunc(wait, func() { svc.writeAcknowledged(v) })
	case mem.ackTimer.Stop():
		mem.ackTimer.Reset(wait)
		// Otherwise the timer has fired, and its writeAcknowledged, waiting
		// for svc.mu, takes this one with the rest.
	}
}

// WriteAcknowledged starts writing at once, in the background, the
// messages acknowledged and not yet written delivered, rather than when
// the conversation pauses: for a page about to be hidden or closed.
func (svc *Service) WriteAcknowledged() {
	s, err := svc.open.Session()
	if err != nil {
		return
	}
	v := s.Vault
	svc.mu.Lock()
	mem := svc.mem.of(v)
	waiting := mem.ackTimer != nil && mem.ackTimer.Stop()
	svc.mu.Unlock()
	if waiting { // otherwise there is nothing to write, or the writer runs
		go svc.writeAcknowledged(v)
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
// holds svc.mu only between vault operations, so that writing the next
// message does not wait for it.
func (svc *Service) writeAcknowledged(v *vault.Vault) {
	ctx := context.Background()
	s, err := svc.open.Session()
	svc.mu.Lock()
	if svc.mem.vault != v || svc.mem.writing { // locked meanwhile: what was acknowledged stays sent
		svc.mu.Unlock()
		return
	}
	svc.mem.ackTimer, svc.mem.ackFirst, svc.mem.writing = nil, time.Time{}, true
	svc.mu.Unlock()
	for {
		svc.mu.Lock()
		if svc.mem.vault != v {
			svc.mu.Unlock()
			return
		}
		mem := &svc.mem
		if err != nil || len(mem.acked) == 0 {
			mem.acked, mem.writing = map[string]ack{}, false
			svc.mu.Unlock()
			return
		}
		acked := maps.Clone(mem.acked)
		recs := make(map[string]*messageRecord, len(acked))
		for id := range acked {
			recs[id] = mem.unacked[id]
		}
		svc.mu.Unlock()

		// No one else writes these records meanwhile: MarkDelivered,
		// receipts and the outbox pass over messages in mem.acked.
		var next []*messageRecord
		for id := range acked {
			rec := recs[id]
			if rec == nil {
				if rec, err = session.Get[messageRecord](ctx, v, colMessages, messageRecordID(id, s.Identity.DID())); err != nil {
					break
				}
			}
			if rec.State == Sent || rec.State == Queued {
				next = append(next, rec)
			}
		}
		if err == nil && len(next) > 0 {
			err = v.Update(ctx, func(tx *vault.Tx) error {
				for _, rec := range next {
					if err := putDelivered(tx, s.Identity.DID(), rec, acked[rec.ID].when, acked[rec.ID].via); err != nil {
						return err
					}
				}
				return nil
			})
		}

		svc.mu.Lock()
		if svc.mem.vault == v {
			for id := range acked {
				delete(svc.mem.acked, id)
			}
			for _, n := range next {
				delete(svc.mem.unacked, n.ID)
			}
		}
		svc.mu.Unlock()
	}
}

// undelivered returns the record of the person's message id if it is still
// sent, nil if it is delivered already (or acknowledged and about to be
// written so), or an error wrapping [vault.ErrNotFound] (no message the
// person sent) or [input.ErrInvalid] (one the person received). svc.mu is
// held; mem is the memory of s's vault.
func undelivered(ctx context.Context, s *session.Session, mem *chatMemory, id string) (*messageRecord, error) {
	if _, ok := mem.acked[id]; ok {
		return nil, nil
	}
	rec := mem.unacked[id]
	if rec == nil {
		var err error
		if rec, err = session.Get[messageRecord](ctx, s.Vault, colMessages, messageRecordID(id, s.Identity.DID())); err != nil {
			return nil, fmt.Errorf("mark delivered: message %s: %w", id, err)
		}
	}
	switch rec.State {
	case Delivered:
		return nil, nil
	case Sent, Queued:
		return rec, nil
	}
	return nil, fmt.Errorf("mark delivered: %w: message %s was not sent by you", input.ErrInvalid, id)
}

// writeDelivered marks recs, records of the person's messages still sent,
// delivered now, in one vault update, each with the way via if it has none
// yet ("" leaves it). svc.mu is held; mem is the memory of s's vault.
func writeDelivered(ctx context.Context, s *session.Session, mem *chatMemory, recs []*messageRecord, via string) error {
	now := session.Millis(s.Now())
	me := s.Identity.DID()
	err := s.Vault.Update(ctx, func(tx *vault.Tx) error {
		for _, rec := range recs {
			if err := putDelivered(tx, me, rec, now, via); err != nil {
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
// queued, as delivered at when (Unix milliseconds), out of the outbox; it
// travelled via, unless its record already says how (the first way it
// was handed over is the one kept).
func putDelivered(tx *vault.Tx, me did.DID, rec *messageRecord, when int64, via string) error {
	n := *rec
	n.State, n.Delivered = Delivered, when
	if n.Via == "" {
		n.Via = via
	}
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
// one vault; Service.mu guards it.
type chatMemory struct {
	vault   *vault.Vault
	lastSeq map[did.DID]uint64
	unacked map[string]*messageRecord // by message id
	// acked are the person's messages acknowledged but not yet written
	// delivered, by id. ackTimer starts Service.writeAcknowledged, due
	// since ackFirst; writing says whether it runs.
	acked    map[string]ack
	ackTimer *time.Timer
	ackFirst time.Time
	writing  bool
}

// An ack is an acknowledgement not yet written: when it came (Unix
// milliseconds), and on what way (ViaDirect, ViaRelayed, or "" unknown).
type ack struct {
	when int64
	via  string
}

// of returns the memory for v, forgetting what was remembered of another
// vault.
func (c *chatMemory) of(v *vault.Vault) *chatMemory {
	if c.vault != v {
		*c = chatMemory{vault: v, lastSeq: map[did.DID]uint64{}, unacked: map[string]*messageRecord{}, acked: map[string]ack{}}
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
func (svc *Service) Conversation(ctx context.Context, with did.DID) ([]Message, error) {
	if with.IsZero() {
		return nil, fmt.Errorf("conversation: %w: no one to converse with", input.ErrInvalid)
	}
	all, err := svc.messages(ctx)
	if err != nil {
		return nil, err
	}
	var mine []Message
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
func (svc *Service) ackedNow(v *vault.Vault) map[string]ack {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	return maps.Clone(svc.mem.of(v).acked)
}

// messages returns every chat message in the vault, in no order, those
// acknowledged but not yet written so as delivered.
func (svc *Service) messages(ctx context.Context) ([]Message, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	v, me := s.Vault, s.Identity
	acked := svc.ackedNow(v)
	recs, err := v.List(ctx, colMessages)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(recs))
	for _, r := range recs {
		var rec messageRecord
		err := vault.UnmarshalCBOR(r.Data, &rec)
		var c Message
		if err == nil {
			c, err = rec.message()
		}
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", colMessages, r.ID, errors.Join(vault.ErrCorrupt, err))
		}
		if a, ok := acked[c.ID]; ok && (c.State == Sent || c.State == Queued) && c.From == me.DID() {
			c.State, c.Delivered = Delivered, session.Time(a.when)
			if c.Via == "" {
				c.Via = a.via
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// conversationOrder orders the messages of one or more conversations as
// [Service.Conversation] describes: by sender, each sender's messages by
// seq, then a merge of the senders by time.
func conversationOrder(msgs []Message) []Message {
	bySender := map[did.DID][]Message{}
	var senders []did.DID
	for _, c := range msgs {
		if _, ok := bySender[c.From]; !ok {
			senders = append(senders, c.From)
		}
		bySender[c.From] = append(bySender[c.From], c)
	}
	slices.SortFunc(senders, func(a, b did.DID) int { return strings.Compare(a.String(), b.String()) })
	queues := make([][]Message, len(senders))
	for i, s := range senders {
		q := bySender[s]
		slices.SortFunc(q, func(a, b Message) int {
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
	out := make([]Message, 0, len(msgs))
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
func before(a, b Message) bool {
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
