package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/internal/jws"
	"planet/core/invite"
	"planet/core/keys"
	"planet/core/vc"
	"planet/core/wire"
	"planet/vault"
)

// The trust network's stream protocols (docs/protocols/trust.md). Each
// exchange is one frame from the side that opens the stream and one frame
// back; the same frames travel sealed through the mailbox when the other
// side is offline, so everything a frame means is in the frame and in who
// sent it.
const (
	ProtocolConnect   = "/planet/connect/1.0.0"
	ProtocolIntroduce = "/planet/introduce/1.0.0"
	ProtocolShare     = "/planet/share/1.0.0"
)

// MaxTrustFrame is the largest frame of the trust-network protocols. It is
// small enough that a frame still fits in a signed message
// ([MaxMessageSize]) when it travels through the mailbox, base64 twice. A
// relationship credential is about 1.3 KB; a share carries at most
// [MaxSharedPerFrame] of them.
const MaxTrustFrame = 24 << 10

// TrustProtocols are the protocol IDs whose frames [Planet.HandleFrame] takes.
var TrustProtocols = []string{ProtocolConnect, ProtocolIntroduce, ProtocolShare}

// Refusal codes one vault sends another in a [RemoteError]. A code is
// never reused for another meaning; a reader shows the message of a code it
// does not know.
const (
	CodeInvalid           = "invalid"            // the frame or a credential in it is not acceptable
	CodeInvitationExpired = "invitation-expired" // see ErrInvitationExpired
	CodeInvitationUsedUp  = "invitation-used-up"
	CodeInvitationRevoked = "invitation-revoked"
	CodeInvitationUnknown = "invitation-unknown"
	CodeInvitationForged  = "invitation-forged"
	CodeNotAContact       = "not-a-contact" // only contacts may introduce or share
	CodePending           = "pending"       // the other side has not yet answered the introduction
	CodeDeclined          = "declined"      // the other side declined the introduction
)

// ErrDeclined is what a connection through an introduction the other side
// declined fails with; ErrPending, one they have not answered yet.
var (
	ErrDeclined = errors.New("they declined the introduction")
	ErrPending  = errors.New("they have not answered the introduction yet")
	// ErrNotAContact refuses an introduction or a share from someone who is
	// not among the person's connected contacts.
	ErrNotAContact = errors.New("only a connected contact may do this")
)

// RemoteError is a refusal that the other side sent, with a stable Code and
// a message for people. errors.Is matches it against the error of the same
// meaning on this side, such as [ErrInvitationExpired] for
// CodeInvitationExpired.
type RemoteError struct {
	Code    string `cbor:"1,keyasint"`
	Message string `cbor:"2,keyasint,omitempty"`
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "refused: " + e.Code
	}
	return e.Message
}

var remoteCodes = map[string]error{
	CodeInvalid:           ErrInvalid,
	CodeInvitationExpired: invite.ErrExpired,
	CodeInvitationUsedUp:  invite.ErrUsedUp,
	CodeInvitationRevoked: invite.ErrRevoked,
	CodeInvitationUnknown: invite.ErrUnknown,
	CodeInvitationForged:  invite.ErrForged,
	CodeNotAContact:       ErrNotAContact,
	CodePending:           ErrPending,
	CodeDeclined:          ErrDeclined,
}

// Is reports whether the refusal means target.
func (e *RemoteError) Is(target error) bool { return remoteCodes[e.Code] == target }

// refusal turns a local error into what is sent back: the code of the
// sentinel it wraps, and its message.
func refusal(err error) *RemoteError {
	for code, sentinel := range remoteCodes {
		if code != CodeInvalid && errors.Is(err, sentinel) {
			return &RemoteError{Code: code, Message: err.Error()}
		}
	}
	return &RemoteError{Code: CodeInvalid, Message: err.Error()}
}

// An Outgoing is a frame the vault wants delivered to another person: over
// a stream of Protocol when they are reachable, otherwise sealed into their
// mailbox at one of Relays.
type Outgoing struct {
	To       did.DID
	Relays   []string
	Protocol string
	Frame    any // *ConnectFrame, *IntroduceFrame or *ShareFrame
}

// Handled is what handling a frame produced: the frame to answer the sender
// with (nil when the frame was itself an answer), and frames for others,
// such as the news of a connection for the introducer.
type Handled struct {
	Reply any
	// ReplyRelays are where the sender said they are reached, for a reply
	// that cannot go back over the stream it answers (one to a letter).
	ReplyRelays []string
	Send        []Outgoing
}

// HandleFrame applies one frame of a trust-network protocol that from sent,
// whether it came over a stream (from is then the stream's remote peer) or
// out of the mailbox (from signed the sealed message). A frame that cannot
// be decoded is an error wrapping [ErrMalformedFrame]: reset the stream. A
// request refused for a reason the sender should hear (an expired
// invitation, say) is not an error: the refusal is in the reply. An answer
// that brings a refusal returns it as a [*RemoteError], for the person.
func (p *Planet) HandleFrame(ctx context.Context, from did.DID, protocol string, frame []byte) (Handled, error) {
	if _, _, err := p.unlocked(); err != nil {
		return Handled{}, err
	}
	switch protocol {
	case ProtocolConnect:
		var f ConnectFrame
		if err := decodeFrame(frame, &f); err != nil {
			return Handled{}, err
		}
		switch {
		case f.Request != nil && f.Reply == nil:
			return p.handleConnectRequest(ctx, from, f.Request)
		case f.Reply != nil && f.Request == nil:
			return p.handleConnectReply(ctx, from, f.Reply)
		}
	case ProtocolIntroduce:
		var f IntroduceFrame
		if err := decodeFrame(frame, &f); err != nil {
			return Handled{}, err
		}
		switch {
		case f.Introduction != nil && f.Answer == nil && !f.Received && f.Refused == nil:
			return p.handleIntroduction(ctx, from, f.Introduction)
		case f.Answer != nil && f.Introduction == nil && !f.Received && f.Refused == nil:
			return p.handleIntroductionAnswer(ctx, from, f.Answer)
		case f.Received && f.Introduction == nil && f.Answer == nil && f.Refused == nil:
			return Handled{}, nil
		case f.Refused != nil && f.Introduction == nil && f.Answer == nil && !f.Received:
			return Handled{}, f.Refused
		}
	case ProtocolShare:
		var f ShareFrame
		if err := decodeFrame(frame, &f); err != nil {
			return Handled{}, err
		}
		return p.handleShare(ctx, from, &f)
	default:
		return Handled{}, fmt.Errorf("%w: unknown protocol %q", wire.ErrMalformedFrame, protocol)
	}
	return Handled{}, fmt.Errorf("%w: a %s frame must hold exactly one message", wire.ErrMalformedFrame, protocol)
}

func decodeFrame(frame []byte, v any) error {
	if len(frame) > MaxTrustFrame {
		return fmt.Errorf("%w: %d bytes", wire.ErrFrameTooLarge, len(frame))
	}
	if err := vault.UnmarshalCBOR(frame, v); err != nil {
		return fmt.Errorf("%w: %v", wire.ErrMalformedFrame, err)
	}
	return nil
}

// EncodeFrame encodes a trust-network frame as it travels, for the mailbox.
func EncodeFrame(frame any) ([]byte, error) {
	b, err := vault.MarshalCBOR(frame)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxTrustFrame {
		return nil, fmt.Errorf("%w: %d bytes", wire.ErrFrameTooLarge, len(b))
	}
	return b, nil
}

// ServeTrust answers one exchange of a trust-network protocol on s, opened
// by remote: it reads the frame, applies it and writes the reply. Frames
// for third parties that handling produced are returned for the caller to
// deliver. A malformed frame resets the stream.
func (p *Planet) ServeTrust(ctx context.Context, s wire.Stream, protocol string, remote keys.PeerID) ([]Outgoing, error) {
	from, err := identity.PeerDID(remote)
	if err != nil {
		s.Reset()
		return nil, err
	}
	frame, err := wire.ReadFrameBytes(s, MaxTrustFrame)
	if err != nil {
		s.Reset()
		return nil, err
	}
	h, err := p.HandleFrame(ctx, from, protocol, frame)
	if err != nil {
		s.Reset()
		return nil, err
	}
	reply := h.Reply
	if reply == nil {
		reply = receivedFrame(protocol)
	}
	if err := wire.WriteFrame(s, MaxTrustFrame, reply); err != nil {
		s.Reset()
		return h.Send, err
	}
	return h.Send, s.Close()
}

// receivedFrame is the answer to a frame that needs none but a receipt.
func receivedFrame(protocol string) any {
	switch protocol {
	case ProtocolIntroduce:
		return &IntroduceFrame{Received: true}
	case ProtocolShare:
		return &ShareFrame{Received: true}
	}
	return &ConnectFrame{}
}

// Exchange sends out's frame on s, a stream of out.Protocol to out.To, and
// applies the answer. It returns what the answer produced; a refusal in the
// answer is a [*RemoteError].
func (p *Planet) Exchange(ctx context.Context, s wire.Stream, out Outgoing) (Handled, error) {
	if err := wire.WriteFrame(s, MaxTrustFrame, out.Frame); err != nil {
		s.Reset()
		return Handled{}, err
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return Handled{}, err
	}
	reply, err := wire.ReadFrameBytes(s, MaxTrustFrame)
	if err != nil {
		s.Reset()
		if err == io.EOF {
			err = fmt.Errorf("%s closed the stream without an answer: %w", did.Short(out.To), io.ErrUnexpectedEOF)
		}
		return Handled{}, err
	}
	s.Close()
	return p.HandleFrame(ctx, out.To, out.Protocol, reply)
}

// contactByDID finds the contact with DID d, or returns nil.
func (p *Planet) contactByDID(ctx context.Context, d did.DID) (*contacts.Contact, error) {
	return p.contacts.ByDID(ctx, d)
}

// connected records in tx that the person and d are connected (see
// [contacts.Service.Connect]).
func (p *Planet) connected(ctx context.Context, tx *vault.Tx, d did.DID, name string, relays []string, origin contacts.Origin, introducer did.DID) error {
	return p.contacts.Connect(ctx, tx, contacts.Connection{DID: d, Name: name, Relays: relays, Origin: origin, Introducer: introducer})
}

// putCredential adds a credential the person holds about one of their own
// relationships to tx.
func putCredential(tx *vault.Tx, c *vc.Credential, received int64) error {
	recID, err := credentialRecordID(c, did.DID{})
	if err != nil {
		return err
	}
	exact, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	b, err := vault.MarshalCBOR(credentialRecord{JSON: exact, Received: received})
	if err != nil {
		return err
	}
	tx.Put(colCredentials, recID, b)
	return nil
}

// verifiedRelationship parses and verifies a credential that issuer issued
// to subject.
func (p *Planet) verifiedRelationship(data []byte, issuer, subject did.DID) (*vc.Credential, error) {
	c, err := vc.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if err := vc.Verify(c, p.opt.Now()); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if c.Issuer != issuer || c.Subject.ID != subject {
		return nil, fmt.Errorf("%w: the credential is from %s to %s, not from %s to %s", ErrInvalid,
			did.Short(c.Issuer), did.Short(c.Subject.ID), did.Short(issuer), did.Short(subject))
	}
	if c.ConcreteType() != vc.TypeRelationshipCredential {
		return nil, fmt.Errorf("%w: a %s, not a relationship credential", ErrInvalid, c.ConcreteType())
	}
	return c, nil
}

// Through the mailbox, a trust-network frame travels as a signed DIDComm
// message of type "planet:<name>/1.0/frame" (connect, introduce, share)
// whose body is {"frame": the frame's CBOR in base64url}, sealed to the
// recipient ([Seal]).
var trustMessageTypes = map[string]string{
	ProtocolConnect:   "planet:connect/1.0/frame",
	ProtocolIntroduce: "planet:introduce/1.0/frame",
	ProtocolShare:     "planet:share/1.0/frame",
}

type trustMessageBody struct {
	Frame string `json:"frame"`
}

// SealOutgoing seals out's frame for out.To's mailbox and returns the
// envelope and its id (the message id, which the mailbox keeps once).
func (p *Planet) SealOutgoing(out Outgoing) (id string, envelope []byte, err error) {
	_, me, err := p.unlocked()
	if err != nil {
		return "", nil, err
	}
	typ, ok := trustMessageTypes[out.Protocol]
	if !ok {
		return "", nil, fmt.Errorf("%w: no mailbox form for %q", ErrInvalid, out.Protocol)
	}
	frame, err := EncodeFrame(out.Frame)
	if err != nil {
		return "", nil, err
	}
	m, err := didcomm.NewMessage(me.DID(), []did.DID{out.To}, typ, trustMessageBody{Frame: jws.Base64.EncodeToString(frame)}, p.opt.Now())
	if err != nil {
		return "", nil, err
	}
	env, err := didcomm.Seal(me, out.To, m)
	return m.ID, env, err
}

// Opened is what [Planet.OpenLetter] made of a letter from the mailbox.
type Opened struct {
	From     did.DID
	Protocol string        // the protocol of a trust-network frame; "" for a chat message or receipt
	Chat     *chat.Message // the chat message kept (now or before), or nil
	// Delivered are the person's messages that a receipt marked delivered.
	Delivered []string
	Handled   // what handling a trust-network frame produced
}

// OpenLetter opens an envelope picked up from the person's mailbox and
// applies what is inside: a chat message is kept, a receipt marks the
// person's messages it names delivered, a trust-network frame is
// handled as if it had come over a stream from its signer. A refusal that
// an answer brings is returned, with what was opened, as a
// [*RemoteError].
func (p *Planet) OpenLetter(ctx context.Context, envelope []byte) (Opened, error) {
	_, me, err := p.unlocked()
	if err != nil {
		return Opened{}, err
	}
	m, signed, err := didcomm.UnsealSigned(me, envelope, p.opt.Now())
	if err != nil {
		return Opened{}, err
	}
	o := Opened{From: m.From}
	if chat.Takes(m.Type) {
		if m.From == me.DID() {
			return o, fmt.Errorf("%w: a chat message from yourself", ErrInvalid)
		}
		o.Chat, o.Delivered, err = p.chat.Take(ctx, m, signed, chat.ViaMailbox)
		return o, err
	}
	for proto, typ := range trustMessageTypes {
		if m.Type != typ {
			continue
		}
		var body trustMessageBody
		if err := json.Unmarshal(m.Body, &body); err != nil {
			return o, fmt.Errorf("%w: %s body: %v", wire.ErrMalformedFrame, typ, err)
		}
		frame, err := jws.Base64.DecodeString(body.Frame)
		if err != nil {
			return o, fmt.Errorf("%w: %s body: %v", wire.ErrMalformedFrame, typ, err)
		}
		o.Protocol = proto
		o.Handled, err = p.HandleFrame(ctx, m.From, proto, frame)
		return o, err
	}
	return o, fmt.Errorf("%w: unknown message type %q", wire.ErrMalformedFrame, m.Type)
}
