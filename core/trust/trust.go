// Package trust is the person's trust network: invitations and the connect
// protocol, introductions, the sharing of relationships with contacts, and
// the relationship credentials the person keeps and the graph they make
// (docs/protocols/trust.md).
//
// It is a feature (see package planet/core/session): [Service] answers the
// API over the open vault, and [Service.CredentialsSection] and
// [Service.TrustSection] are its parts of the export (credentials.json with
// graph.json, and trust.json). It fills in the contacts it connects with
// through package planet/core/contacts.
//
// # Exchanges
//
// Every protocol is one frame from the side that opens a stream and one
// frame back. [Service.HandleFrame] applies a frame, whether it came over a
// stream ([Service.ServeTrust], [Service.Exchange]) or out of the mailbox
// ([Service.SealOutgoing], [Service.HandleMessage]); what it produces for
// others is returned as [Outgoing] frames for the caller to deliver, so the
// package itself never dials anyone.
//
// # Records
//
// The vault collections ("credentials", "invitations", "pending",
// "introductions", "introduced") and their key numbers are frozen; the
// record types are unexported and apart from the API types.
package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/internal/jws"
	"planet/core/invite"
	"planet/core/keys"
	"planet/core/session"
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

// MaxFrame is the largest frame of the trust-network protocols. It is
// small enough that a frame still fits in a signed message when it travels
// through the mailbox, base64 twice. A relationship credential is about
// 1.3 KB; a share carries at most [MaxSharedPerFrame] of them.
const MaxFrame = 24 << 10

// Protocols are the protocol IDs whose frames [Service.HandleFrame] takes.
var Protocols = []string{ProtocolConnect, ProtocolIntroduce, ProtocolShare}

// Refusal codes one vault sends another in a [RemoteError]. A code is
// never reused for another meaning; a reader shows the message of a code it
// does not know.
const (
	CodeInvalid           = "invalid"            // the frame or a credential in it is not acceptable
	CodeInvitationExpired = "invitation-expired" // see invite.ErrExpired
	CodeInvitationUsedUp  = "invitation-used-up"
	CodeInvitationRevoked = "invitation-revoked"
	CodeInvitationUnknown = "invitation-unknown"
	CodeInvitationForged  = "invitation-forged"
	CodeNotAContact       = "not-a-contact" // only contacts may introduce or share
	CodePending           = "pending"       // the other side has not yet answered the introduction
	CodeDeclined          = "declined"      // the other side declined the introduction
)

// Errors of the trust network. Refusals of bad input wrap input.ErrInvalid
// (core.ErrInvalid).
var (
	// ErrDeclined is what a connection through an introduction the other
	// side declined fails with.
	ErrDeclined = errors.New("they declined the introduction")
	// ErrPending is what a connection through an introduction the other
	// side has not answered yet is refused with; it stays pending.
	ErrPending = errors.New("they have not answered the introduction yet")
	// ErrNotAContact refuses an introduction or a share from someone who is
	// not among the person's connected contacts.
	ErrNotAContact = errors.New("only a connected contact may do this")
)

// RemoteError is a refusal that the other side sent, with a stable Code and
// a message for people. errors.Is matches it against the error of the same
// meaning on this side, such as invite.ErrExpired for
// CodeInvitationExpired. Its keys are frozen like a frame's.
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
	CodeInvalid:           input.ErrInvalid,
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

// Service is the trust network of the open vault.
type Service struct {
	open     session.Opener
	contacts *contacts.Service
	name     func() string

	mu     sync.Mutex
	relays []string // where the person is reached now; see SetRelays

	// replayMu makes checking, applying and remembering a sealed message
	// one step, so that a message picked up twice at once is applied once.
	replayMu     sync.Mutex
	replayPruned time.Time // when rememberReplay last dropped old records
}

// New returns the trust network of the vault that open opens. It connects
// people as contacts of cs, and gives those it connects with the name that
// name returns (the person's display name, "" for none).
func New(open session.Opener, cs *contacts.Service, name func() string) *Service {
	if name == nil {
		name = func() string { return "" }
	}
	return &Service{open: open, contacts: cs, name: name}
}

// SetRelays tells the trust network the relay multiaddrs at which the
// person is reached now, which the messages it makes give for answers.
// They are the node's to know, so they are kept in memory only.
func (s *Service) SetRelays(relays []string) {
	clean := contacts.CleanRelays(relays)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relays = clean
}

// Relays returns what [Service.SetRelays] set.
func (s *Service) Relays() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.relays...)
}

// HandleFrame applies one frame of a trust-network protocol that from sent,
// whether it came over a stream (from is then the stream's remote peer) or
// out of the mailbox (from signed the sealed message). A frame that cannot
// be decoded is an error wrapping wire.ErrMalformedFrame: reset the stream.
// A request refused for a reason the sender should hear (an expired
// invitation, say) is not an error: the refusal is in the reply. An answer
// that brings a refusal returns it as a [*RemoteError], for the person.
func (s *Service) HandleFrame(ctx context.Context, from did.DID, protocol string, frame []byte) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
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
			return s.handleConnectRequest(ctx, from, f.Request)
		case f.Reply != nil && f.Request == nil:
			return s.handleConnectReply(ctx, from, f.Reply)
		case f.Reply == nil && f.Request == nil:
			// The receipt of a reply (receivedFrame): a reply that went
			// over a stream, to a request that came by letter.
			return Handled{}, nil
		}
	case ProtocolIntroduce:
		var f IntroduceFrame
		if err := decodeFrame(frame, &f); err != nil {
			return Handled{}, err
		}
		switch {
		case f.Introduction != nil && f.Answer == nil && !f.Received && f.Refused == nil:
			return s.handleIntroduction(ctx, from, f.Introduction)
		case f.Answer != nil && f.Introduction == nil && !f.Received && f.Refused == nil:
			return s.handleIntroductionAnswer(ctx, from, f.Answer)
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
		return s.handleShare(ctx, se, from, &f)
	default:
		return Handled{}, fmt.Errorf("%w: unknown protocol %q", wire.ErrMalformedFrame, protocol)
	}
	return Handled{}, fmt.Errorf("%w: a %s frame must hold exactly one message", wire.ErrMalformedFrame, protocol)
}

func decodeFrame(frame []byte, v any) error {
	if len(frame) > MaxFrame {
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
	if len(b) > MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes", wire.ErrFrameTooLarge, len(b))
	}
	return b, nil
}

// ServeTrust answers one exchange of a trust-network protocol on st, opened
// by remote: it reads the frame, applies it and writes the reply. Frames
// for third parties that handling produced are returned for the caller to
// deliver. A malformed frame resets the stream.
func (s *Service) ServeTrust(ctx context.Context, st wire.Stream, protocol string, remote keys.PeerID) ([]Outgoing, error) {
	from, err := identity.PeerDID(remote)
	if err != nil {
		st.Reset()
		return nil, err
	}
	return s.serve(ctx, st, protocol, from)
}

// serve is ServeTrust once the remote side is known to speak for from.
func (s *Service) serve(ctx context.Context, st wire.Stream, protocol string, from did.DID) ([]Outgoing, error) {
	frame, err := wire.ReadFrameBytes(st, MaxFrame)
	if err != nil {
		st.Reset()
		return nil, err
	}
	h, err := s.HandleFrame(ctx, from, protocol, frame)
	if err != nil {
		st.Reset()
		return nil, err
	}
	reply := h.Reply
	if reply == nil {
		reply = receivedFrame(protocol)
	}
	if err := wire.WriteFrame(st, MaxFrame, reply); err != nil {
		st.Reset()
		return h.Send, err
	}
	return h.Send, st.Close()
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

// Exchange sends out's frame on st, a stream of out.Protocol to out.To, and
// applies the answer. It returns what the answer produced; a refusal in the
// answer is a [*RemoteError].
func (s *Service) Exchange(ctx context.Context, st wire.Stream, out Outgoing) (Handled, error) {
	if err := wire.WriteFrame(st, MaxFrame, out.Frame); err != nil {
		st.Reset()
		return Handled{}, err
	}
	if err := st.CloseWrite(); err != nil {
		st.Reset()
		return Handled{}, err
	}
	reply, err := wire.ReadFrameBytes(st, MaxFrame)
	if err != nil {
		st.Reset()
		if err == io.EOF {
			err = fmt.Errorf("%s closed the stream without an answer: %w", did.Short(out.To), io.ErrUnexpectedEOF)
		}
		return Handled{}, err
	}
	st.Close()
	return s.HandleFrame(ctx, out.To, out.Protocol, reply)
}

// connected records in tx that the person and d are connected (see
// [contacts.Service.Connect]).
func (s *Service) connected(ctx context.Context, tx *vault.Tx, d did.DID, name string, relays []string, origin contacts.Origin, introducer did.DID) error {
	return s.contacts.Connect(ctx, tx, contacts.Connection{DID: d, Name: name, Relays: relays, Origin: origin, Introducer: introducer})
}

// issue issues subject a relationship credential from the person, valid
// from now.
func issue(se *session.Session, subject did.DID, rc vc.RelationshipContext) (*vc.Credential, error) {
	return vc.IssueRelationship(se.Identity, subject, rc, se.Now(), time.Time{}, nil)
}

// verifiedRelationship parses and verifies a credential that issuer issued
// to subject.
func verifiedRelationship(data []byte, issuer, subject did.DID, now time.Time) (*vc.Credential, error) {
	c, err := vc.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, input.ErrInvalid)
	}
	if err := vc.Verify(c, now); err != nil {
		return nil, fmt.Errorf("%w: %w", err, input.ErrInvalid)
	}
	if c.Issuer != issuer || c.Subject.ID != subject {
		return nil, fmt.Errorf("%w: the credential is from %s to %s, not from %s to %s", input.ErrInvalid,
			did.Short(c.Issuer), did.Short(c.Subject.ID), did.Short(issuer), did.Short(subject))
	}
	if c.ConcreteType() != vc.TypeRelationshipCredential {
		return nil, fmt.Errorf("%w: a %s, not a relationship credential", input.ErrInvalid, c.ConcreteType())
	}
	return c, nil
}

// Through the mailbox, a trust-network frame travels as a signed DIDComm
// message of type "planet:<name>/1.0/frame" (connect, introduce, share)
// whose body is {"frame": the frame's CBOR in base64url}, sealed to the
// recipient (didcomm.Seal).
var messageTypes = map[string]string{
	ProtocolConnect:   "planet:connect/1.0/frame",
	ProtocolIntroduce: "planet:introduce/1.0/frame",
	ProtocolShare:     "planet:share/1.0/frame",
}

type messageBody struct {
	Frame string `json:"frame"`
}

// SealOutgoing seals out's frame for out.To's mailbox and returns the
// envelope and its id (the message id, which the mailbox keeps once).
func (s *Service) SealOutgoing(out Outgoing) (id string, envelope []byte, err error) {
	se, err := s.open.Session()
	if err != nil {
		return "", nil, err
	}
	typ, ok := messageTypes[out.Protocol]
	if !ok {
		return "", nil, fmt.Errorf("%w: no mailbox form for %q", input.ErrInvalid, out.Protocol)
	}
	frame, err := EncodeFrame(out.Frame)
	if err != nil {
		return "", nil, err
	}
	me := se.Identity
	m, err := didcomm.NewMessage(me.DID(), []did.DID{out.To}, typ, messageBody{Frame: jws.Base64.EncodeToString(frame)}, se.Now())
	if err != nil {
		return "", nil, err
	}
	// It expires when its recipient would refuse it by its age anyway
	// (see MaxMessageAge), so that no reader need remember it longer.
	m.Expires = m.Created.Add(MaxMessageAge)
	env, err := didcomm.Seal(me, out.To, m)
	return m.ID, env, err
}

// HandleMessage applies a trust-network frame that came out of the
// mailbox in m, a message its signer sent and the person unsealed, as if it
// had come over a stream from the signer. It returns the frame's protocol,
// or "" and an error wrapping wire.ErrMalformedFrame when m is not a
// trust-network message.
//
// Each message is applied once: one applied before, or made more than
// [MaxMessageAge] ago, is refused with an error wrapping [ErrReplayed]
// (and input.ErrInvalid), and nothing changes.
func (s *Service) HandleMessage(ctx context.Context, m *didcomm.Message) (string, Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return "", Handled{}, err
	}
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	if err := s.checkReplay(ctx, se, m); err != nil {
		return "", Handled{}, err
	}
	proto, h, err := s.handleMessage(ctx, m)
	if proto == "" {
		return proto, h, err
	}
	// Remembered whatever handling it made: a refusal is as final as an
	// answer, and the mailbox does not offer the letter again.
	if rerr := s.rememberReplay(ctx, se, m); rerr != nil {
		return proto, h, errors.Join(err, fmt.Errorf("remembering message %s: %w", m.ID, rerr))
	}
	return proto, h, err
}

func (s *Service) handleMessage(ctx context.Context, m *didcomm.Message) (string, Handled, error) {
	for proto, typ := range messageTypes {
		if m.Type != typ {
			continue
		}
		var body messageBody
		if err := json.Unmarshal(m.Body, &body); err != nil {
			return "", Handled{}, fmt.Errorf("%w: %s body: %v", wire.ErrMalformedFrame, typ, err)
		}
		frame, err := jws.Base64.DecodeString(body.Frame)
		if err != nil {
			return "", Handled{}, fmt.Errorf("%w: %s body: %v", wire.ErrMalformedFrame, typ, err)
		}
		h, err := s.HandleFrame(ctx, m.From, proto, frame)
		return proto, h, err
	}
	return "", Handled{}, fmt.Errorf("%w: unknown message type %q", wire.ErrMalformedFrame, m.Type)
}
