// Package mailbox is the mailbox protocol (docs/protocols/mailbox.md),
// which keeps sealed envelopes for people
// who are offline, at their server, until they come back for them. To the
// mailbox an envelope is opaque bytes with an id chosen by its sender:
// anyone may deposit a letter for a did:key, and only the holder of that
// key may pick it up. Letters leave the mailbox only when the recipient
// acknowledges them, so a connection that drops halfway loses nothing; a
// letter may therefore arrive twice, and recipients drop repeats by id.
//
// The client side is [Deposit] and [Pickup]; the server side is
// a [Server] over a [Store] that the server provides.
package mailbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"planet/core/cbor"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/keys"
	"planet/core/wire"
)

// Protocol is the libp2p protocol ID of the mailbox's first version.
const Protocol = "/planet/mailbox/1.0.0"

// ProtocolTokens is the protocol ID of the version that registers deposit
// tokens: the same messages, with a larger limit on the Proof that carries
// them (docs/protocols/mailbox.md, "Versions"). A server answers both; a
// client asks for this one first.
const ProtocolTokens = "/planet/mailbox/1.1.0"

// Protocols are the versions a client asks for, newest first, and a
// server answers.
var Protocols = []string{ProtocolTokens, Protocol}

// IsProtocol reports whether id is one of the mailbox's [Protocols].
func IsProtocol(id string) bool { return id == Protocol || id == ProtocolTokens }

// Limits of the mailbox protocol. They are part of the protocol: a server
// refuses what exceeds them, and a client refuses a server that does.
const (
	// MaxEnvelope is the largest envelope a letter may carry, in bytes.
	MaxEnvelope = 64 << 10
	// MinID and MaxID bound the length of a letter's id.
	MinID = 16
	MaxID = 64
)

// Frame limits, by what the reader expects next. A frame is refused before
// its body is read if its length prefix is larger.
const (
	// mailboxMaxRequest bounds the frames that open a stream or follow a
	// deposit: a Deposit with the largest envelope, and room for the rest.
	mailboxMaxRequest = MaxEnvelope + 1<<10
	// mailboxMaxControl bounds Pickup, Deposited, Challenge, Done and Error
	// frames, and a Proof on a 1.0.0 stream.
	mailboxMaxControl = 1 << 10
	// mailboxMaxProof bounds a Proof that registers tokens (1.1.0): the
	// largest set of token hashes and room for the rest. A server reads
	// every Proof within it.
	mailboxMaxProof = 1<<10 + MaxTokens*(TokenSize+3)
	// mailboxMaxAck bounds an Ack: the ids of one batch of letters.
	mailboxMaxAck = 8 << 10
	// mailboxMaxLetters bounds a Letters frame, which holds at least one
	// letter of the largest size.
	mailboxMaxLetters = 256 << 10
	// mailboxBatch is the most letters one Letters frame may hold.
	mailboxBatch = 64
	// pickupBudget bounds the envelopes of one batch the server reads and
	// sends (a letter of the largest size always goes alone): with the
	// frame it encodes, it is what a pickup holds of the server's memory
	// while its reader takes its time, or never reads at all.
	pickupBudget = 128 << 10
	// mailboxNonceSize is the length of a Challenge's nonce.
	mailboxNonceSize = 32
	// mailboxMaxCode and mailboxMaxMessage bound an Error's fields.
	mailboxMaxCode    = 32
	mailboxMaxMessage = 256
)

// mailboxPickupDomain begins every pickup signature, so that a signature made
// for the mailbox can never be taken for one made for anything else (and the
// version in it keeps signatures of later versions apart).
const mailboxPickupDomain = "PLANET mailbox pickup v1\x00"

// Refusal codes a mailbox server sends in an Error. A code is never reused
// for another meaning; a client shows the message of a code it does not
// know and treats it as [ErrRefused].
const (
	CodeFull           = "full"            // the recipient's quota, or the server's, is used up
	CodeTooLarge       = "too-large"       // the envelope or the frame is over its limit
	CodeMalformed      = "malformed"       // the frame is not a valid message
	CodeUnexpected     = "unexpected"      // a message unknown, or not expected at this point
	CodeUnsupportedDID = "unsupported-did" // the DID is not a did:key with an Ed25519 key
	CodeUnauthorized   = "unauthorized"    // the pickup proof does not hold
	CodeInternal       = "internal"        // the server failed; try again later
)

// Errors of the mailbox. A refusal from the server is a [*Error],
// which errors.Is matches against the sentinel of its code; [Deposit]
// returns the same sentinels for what it refuses before sending.
var (
	// ErrFull: the recipient has as many letters waiting as the
	// server keeps for one person, or the server is full. Try later.
	ErrFull = errors.New("mailbox full")
	// ErrTooLarge: the envelope is larger than [MaxEnvelope].
	ErrTooLarge = errors.New("letter too large for the mailbox")
	// ErrUnsupportedDID: the recipient (or the DID of a pickup) is
	// not a did:key; only did:key mailboxes exist.
	ErrUnsupportedDID = errors.New("mailbox holds letters for did:key only")
	// ErrUnauthorized: the server did not accept the pickup proof.
	ErrUnauthorized = errors.New("mailbox pickup not authorized")
	// ErrRefused is every other refusal: a malformed or unexpected
	// message, a server failure, a code this client does not know.
	ErrRefused = errors.New("mailbox refused the request")
)

// mailboxCodes maps each code to the sentinel that its errors match.
var mailboxCodes = map[string]error{
	CodeFull:           ErrFull,
	CodeTooLarge:       ErrTooLarge,
	CodeUnsupportedDID: ErrUnsupportedDID,
	CodeUnauthorized:   ErrUnauthorized,
}

// Error is a refusal on the mailbox protocol, with a stable Code (one
// of the MailboxCode constants) and a Message for people. It travels as the
// Error message: a client receives it from the server, and a [Store]
// returns one to have it sent to the client as is. Change rules: numbered
// keys are never reused; new fields are optional.
type Error struct {
	Code    string `cbor:"1,keyasint"`
	Message string `cbor:"2,keyasint,omitempty"`
}

// Error returns the message and the code, such as
// "mailbox: the recipient's mailbox is full: 1000 letters are waiting (full)".
func (e *Error) Error() string {
	if e.Message == "" {
		return "mailbox: refused: " + e.Code
	}
	return "mailbox: " + e.Message + " (" + e.Code + ")"
}

// Unwrap returns the sentinel of the error's code, such as [ErrFull]
// for "full", and [ErrRefused] for codes without one of their own.
func (e *Error) Unwrap() error {
	if err, ok := mailboxCodes[e.Code]; ok {
		return err
	}
	return ErrRefused
}

// check refuses an Error whose fields break the protocol's limits.
func (e *Error) check() error {
	if e.Code == "" || len(e.Code) > mailboxMaxCode {
		return fmt.Errorf("error code of %d bytes", len(e.Code))
	}
	for _, c := range []byte(e.Code) {
		if (c < 'a' || c > 'z') && c != '-' {
			return fmt.Errorf("error code %q is not lowercase letters and hyphens", e.Code)
		}
	}
	if len(e.Message) > mailboxMaxMessage {
		return fmt.Errorf("error message of %d bytes, at most %d", len(e.Message), mailboxMaxMessage)
	}
	for _, r := range e.Message {
		if r < 0x20 || r == 0x7f {
			return errors.New("error message holds control characters")
		}
	}
	return nil
}

func mailboxRefusal(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// A Letter is a sealed envelope waiting in a mailbox.
type Letter struct {
	// ID is the id its sender chose: [MinID] to [MaxID]
	// characters of A–Z, a–z, 0–9, '-', '_', '.' and ':'.
	ID string
	// Envelope is the sealed message, opaque to the mailbox.
	Envelope []byte
	// Deposited is when the server received it, to the millisecond.
	Deposited time.Time
}

// A StoredLetter is a [Letter] as a [Store] keeps it, with its place
// in the recipient's mailbox.
type StoredLetter struct {
	Letter
	// Seq orders a recipient's letters by deposit: it grows with every
	// deposit and is never given to another letter.
	Seq uint64
}

// An Incoming letter is one a sender deposits, as the server hands it to
// its [Store].
type Incoming struct {
	To       did.DID
	ID       string
	Envelope []byte
	// Sender is the peer ID of the connection the letter came on, which
	// the transport authenticated; "" for a peer whose key PLANET does
	// not read. Stores count what one sender leaves by it.
	Sender string
	// Token is the hash ([TokenHash]) of the deposit token the letter
	// carried, or nil. A store counts the letter against that
	// relationship's quota if To registered the hash ([TokenStore]),
	// otherwise as a stranger's.
	Token []byte
}

// Store keeps the letters of a mailbox server. Its methods may be
// called from several goroutines at once. A store decides its own quotas
// and how long it keeps letters.
type Store interface {
	// Deposit keeps in.Envelope for in.To under in.ID. Depositing an id
	// that is already waiting for in.To stores nothing and succeeds. An
	// error that is a *Error (such as code "full") is sent to the
	// depositor as is; any other is reported to it as an internal failure.
	Deposit(in Incoming) error
	// Waiting returns, in deposit order, up to limit letters waiting for
	// to whose Seq is greater than after (0 for the first letters), and
	// stops before a letter that would take the envelopes it returns over
	// maxBytes in all; the first letter is returned whatever its size. The
	// bound is what keeps a pickup's memory small: the server holds what
	// Waiting returned until its reader has taken it. more reports whether
	// letters are left after those returned.
	Waiting(to did.DID, after uint64, limit, maxBytes int) (letters []StoredLetter, more bool, err error)
	// Remove deletes to's letters with the given Seqs; Seqs no longer
	// stored are skipped.
	Remove(to did.DID, seqs []uint64) error
}

// TokenStore is the ability of a [Store] to keep the deposit tokens a
// recipient registered. A server whose store lacks it takes a Proof's
// tokens and forgets them: every letter is then a stranger's.
type TokenStore interface {
	// Register replaces the token hashes to registered with hashes (each
	// TokenSize bytes, at most MaxTokens, none twice).
	Register(to did.DID, hashes [][]byte) error
}

// The messages of the protocol. Every frame holds exactly one message, as
// the one key of a map naming its kind: a client sends mailboxRequest
// frames and a server mailboxReply frames. Change rules: numbered keys are
// never reused; new fields are optional; a new message gets a new key, and
// a peer that meets a frame with no message it knows refuses it as
// "unexpected".
type mailboxRequest struct {
	Deposit *mailboxDeposit `cbor:"1,keyasint,omitempty"`
	Pickup  *mailboxPickup  `cbor:"2,keyasint,omitempty"`
	Proof   *mailboxProof   `cbor:"3,keyasint,omitempty"`
	Ack     *mailboxAck     `cbor:"4,keyasint,omitempty"`
}

type mailboxReply struct {
	Deposited *mailboxDeposited `cbor:"1,keyasint,omitempty"`
	Challenge *mailboxChallenge `cbor:"2,keyasint,omitempty"`
	Letters   *mailboxLetters   `cbor:"3,keyasint,omitempty"`
	Done      *mailboxDone      `cbor:"4,keyasint,omitempty"`
	Error     *Error            `cbor:"5,keyasint,omitempty"`
}

// mailboxDeposit asks the server to keep a letter for To. Token, when
// set, is the deposit token of the sender's relationship with To.
type mailboxDeposit struct {
	To       string `cbor:"1,keyasint"`
	ID       string `cbor:"2,keyasint"`
	Envelope []byte `cbor:"3,keyasint"`
	Token    []byte `cbor:"4,keyasint,omitempty"`
}

// mailboxPickup asks for the letters of the key the client will prove.
type mailboxPickup struct{}

// mailboxProof answers a Challenge: the recipient's DID and its signature
// over [mailboxPickupInput]. Tokens, when present (even empty), replaces the
// hashes of the deposit tokens the recipient registered; absent, it leaves
// them as they are.
type mailboxProof struct {
	DID       string    `cbor:"1,keyasint"`
	Signature []byte    `cbor:"2,keyasint"`
	Tokens    *[][]byte `cbor:"3,keyasint,omitempty"`
}

// mailboxAck names the letters of the last Letters frame that the client
// has taken in; only they are deleted.
type mailboxAck struct {
	IDs []string `cbor:"1,keyasint,omitempty"`
}

// mailboxDeposited confirms that a Deposit is stored.
type mailboxDeposited struct{}

// mailboxChallenge asks the client to prove its key: Relay is the server's
// peer ID (its multihash bytes), Nonce is fresh for this stream.
type mailboxChallenge struct {
	Nonce []byte `cbor:"1,keyasint"`
	Relay []byte `cbor:"2,keyasint"`
}

// mailboxLetters is one batch of waiting letters, in deposit order; More
// says that another batch follows the Ack.
type mailboxLetters struct {
	Items []mailboxItem `cbor:"1,keyasint,omitempty"`
	More  bool          `cbor:"2,keyasint,omitempty"`
}

// mailboxItem is one letter in a batch; Deposited is in Unix milliseconds.
type mailboxItem struct {
	ID        string `cbor:"1,keyasint"`
	Envelope  []byte `cbor:"2,keyasint"`
	Deposited int64  `cbor:"3,keyasint"`
}

// mailboxDone ends a pickup: every Ack was applied.
type mailboxDone struct{}

// checkMailboxID refuses an id that is not [MinID] to [MaxID]
// characters of the id alphabet.
func checkMailboxID(id string) error {
	if len(id) < MinID || len(id) > MaxID {
		return fmt.Errorf("letter id of %d characters, want %d to %d", len(id), MinID, MaxID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return fmt.Errorf("letter id has a character other than A-Z a-z 0-9 - _ . :")
		}
	}
	return nil
}

// checkMailboxEnvelope refuses an empty envelope, or one over the limit.
func checkMailboxEnvelope(envelope []byte) error {
	if len(envelope) == 0 {
		return errors.New("empty envelope")
	}
	if len(envelope) > MaxEnvelope {
		return fmt.Errorf("%w: envelope of %d bytes, at most %d", ErrTooLarge, len(envelope), MaxEnvelope)
	}
	return nil
}

// mailboxRecipient parses the DID of a recipient: a did:key, whose key
// [ParseDID] has checked.
func mailboxRecipient(s string) (did.DID, *Error) {
	d, err := did.Parse(s)
	switch {
	case errors.Is(err, did.ErrUnsupportedMethod):
		return did.DID{}, mailboxRefusal(CodeUnsupportedDID, "only did:key recipients have a mailbox")
	case err != nil:
		return did.DID{}, mailboxRefusal(CodeMalformed, "recipient is not a valid DID")
	case d.Method() != did.MethodKey:
		return did.DID{}, mailboxRefusal(CodeUnsupportedDID, "only did:key recipients have a mailbox, not did:%s", d.Method())
	}
	return d, nil
}

// mailboxPickupInput is what a recipient signs to pick up its letters: the
// domain string, the server's peer ID bytes, then the 32-byte nonce. The
// domain is fixed and the nonce has a fixed length, so the three parts
// cannot be shifted into one another. Naming the server keeps a server from
// passing another server's challenge to the client and using its answer.
func mailboxPickupInput(relay keys.PeerID, nonce []byte) []byte {
	in := make([]byte, 0, len(mailboxPickupDomain)+len(relay.Bytes())+len(nonce))
	in = append(in, mailboxPickupDomain...)
	in = append(in, relay.Bytes()...)
	return append(in, nonce...)
}

// decodeMailboxRequest decodes a frame body a server read. A refusal is a
// *Error to send back.
func decodeMailboxRequest(body []byte) (*mailboxRequest, *Error) {
	var req mailboxRequest
	if err := unmarshalMailbox(body, &req); err != nil {
		return nil, mailboxRefusal(CodeMalformed, "frame is not a mailbox message")
	}
	n := 0
	for _, set := range []bool{req.Deposit != nil, req.Pickup != nil, req.Proof != nil, req.Ack != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, mailboxRefusal(CodeUnexpected, "frame holds no message this server knows")
	case n > 1:
		return nil, mailboxRefusal(CodeMalformed, "frame holds %d messages, want one", n)
	}
	switch {
	case req.Deposit != nil:
		if err := checkMailboxID(req.Deposit.ID); err != nil {
			return nil, mailboxRefusal(CodeMalformed, "%v", err)
		}
		if err := checkMailboxEnvelope(req.Deposit.Envelope); errors.Is(err, ErrTooLarge) {
			return nil, mailboxRefusal(CodeTooLarge, "envelope of %d bytes, at most %d", len(req.Deposit.Envelope), MaxEnvelope)
		} else if err != nil {
			return nil, mailboxRefusal(CodeMalformed, "%v", err)
		}
		if _, me := mailboxRecipient(req.Deposit.To); me != nil {
			return nil, me
		}
		if req.Deposit.Token != nil && len(req.Deposit.Token) != TokenSize {
			return nil, mailboxRefusal(CodeMalformed, "deposit token of %d bytes, want %d", len(req.Deposit.Token), TokenSize)
		}
	case req.Proof != nil:
		if len(req.Proof.Signature) != ed25519.SignatureSize {
			return nil, mailboxRefusal(CodeMalformed, "signature of %d bytes, want %d", len(req.Proof.Signature), ed25519.SignatureSize)
		}
		if err := checkTokenHashes(req.Proof.Tokens); err != nil {
			return nil, mailboxRefusal(CodeMalformed, "%v", err)
		}
	case req.Ack != nil:
		if len(req.Ack.IDs) > mailboxBatch {
			return nil, mailboxRefusal(CodeMalformed, "ack of %d ids, at most %d", len(req.Ack.IDs), mailboxBatch)
		}
		seen := make(map[string]bool, len(req.Ack.IDs))
		for _, id := range req.Ack.IDs {
			if err := checkMailboxID(id); err != nil {
				return nil, mailboxRefusal(CodeMalformed, "ack: %v", err)
			}
			if seen[id] {
				return nil, mailboxRefusal(CodeMalformed, "ack names a letter twice")
			}
			seen[id] = true
		}
	}
	return &req, nil
}

// checkTokenHashes refuses a set of token hashes over MaxTokens, one not
// TokenSize bytes, or one named twice.
func checkTokenHashes(hashes *[][]byte) error {
	if hashes == nil {
		return nil
	}
	if len(*hashes) > MaxTokens {
		return fmt.Errorf("%d deposit tokens, at most %d", len(*hashes), MaxTokens)
	}
	seen := make(map[string]bool, len(*hashes))
	for _, h := range *hashes {
		if len(h) != TokenSize {
			return fmt.Errorf("a deposit token hash of %d bytes, want %d", len(h), TokenSize)
		}
		if seen[string(h)] {
			return errors.New("a deposit token hash named twice")
		}
		seen[string(h)] = true
	}
	return nil
}

// decodeMailboxReply decodes a frame body a client read. Errors wrap
// [ErrMalformedFrame].
func decodeMailboxReply(body []byte) (*mailboxReply, error) {
	var r mailboxReply
	if err := unmarshalMailbox(body, &r); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{r.Deposited != nil, r.Challenge != nil, r.Letters != nil, r.Done != nil, r.Error != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: mailbox frame holds %d messages this client knows, want one", wire.ErrMalformedFrame, n)
	}
	var err error
	switch {
	case r.Challenge != nil:
		if len(r.Challenge.Nonce) != mailboxNonceSize {
			err = fmt.Errorf("challenge nonce of %d bytes, want %d", len(r.Challenge.Nonce), mailboxNonceSize)
		} else if _, perr := keys.PeerIDFromBytes(r.Challenge.Relay); perr != nil {
			err = errors.New("challenge names no valid peer id")
		}
	case r.Letters != nil:
		err = checkMailboxLetters(r.Letters)
	case r.Error != nil:
		err = r.Error.check()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: mailbox: %v", wire.ErrMalformedFrame, err)
	}
	return &r, nil
}

// checkMailboxLetters refuses a batch that breaks the protocol's limits.
func checkMailboxLetters(l *mailboxLetters) error {
	if len(l.Items) > mailboxBatch {
		return fmt.Errorf("batch of %d letters, at most %d", len(l.Items), mailboxBatch)
	}
	seen := make(map[string]bool, len(l.Items))
	for _, it := range l.Items {
		if err := checkMailboxID(it.ID); err != nil {
			return err
		}
		if err := checkMailboxEnvelope(it.Envelope); err != nil {
			return fmt.Errorf("letter %s: %v", it.ID, err)
		}
		if it.Deposited < 0 {
			return fmt.Errorf("letter %s deposited before 1970", it.ID)
		}
		if seen[it.ID] {
			return fmt.Errorf("batch holds letter %s twice", it.ID)
		}
		seen[it.ID] = true
	}
	return nil
}

// unmarshalMailbox decodes a frame body strictly, as [ReadFrame] does.
func unmarshalMailbox(body []byte, v any) error {
	if err := cbor.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", wire.ErrMalformedFrame, err)
	}
	return nil
}

// readMailboxReply reads the next server frame, of at most max bytes. An
// Error message is returned as its *Error.
func readMailboxReply(s io.Reader, max int) (*mailboxReply, error) {
	body, err := wire.ReadFrameBytes(s, max)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("mailbox: reading the server's answer: %w", err)
	}
	r, err := decodeMailboxReply(body)
	if err != nil {
		return nil, err
	}
	if r.Error != nil {
		return nil, r.Error
	}
	return r, nil
}

// mailboxClientError finishes a failed client exchange: a refusal leaves the
// stream to the server, which closes it; anything else resets it. It
// prefers the context's error when the context ended the exchange.
func mailboxClientError(ctx context.Context, s wire.Stream, err error) error {
	var me *Error
	if !errors.As(err, &me) {
		s.Reset()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("mailbox: %w", ctx.Err())
	}
	return err
}

// Deposit leaves a letter for to in the mailbox at the other end of s,
// a stream of [Protocol], and waits for the server to confirm it is
// stored. id is the letter's id (see [Letter]); depositing the same id
// again is harmless.
//
// A refusal is a [*Error], which errors.Is matches against
// [ErrFull], [ErrTooLarge], [ErrUnsupportedDID] or
// [ErrRefused]; the first three are also returned, without sending,
// for a letter the server would refuse. After a success the stream may
// carry another deposit; after an error it is finished. The caller closes
// it. Cancelling ctx resets the stream.
func Deposit(ctx context.Context, s wire.Stream, to did.DID, id string, envelope []byte) error {
	return DepositWithToken(ctx, s, to, id, envelope, nil)
}

// DepositWithToken is [Deposit] with the deposit token of the sender's
// relationship with to ([Token]), or nil for none. A letter whose token to
// registered counts against that relationship's quota, not against the
// share of strangers; a token to did not register (or a server that does
// not know tokens) makes it a stranger's letter, nothing worse.
func DepositWithToken(ctx context.Context, s wire.Stream, to did.DID, id string, envelope, token []byte) error {
	if token != nil && len(token) != TokenSize {
		return fmt.Errorf("mailbox: %w: deposit token of %d bytes, want %d", input.ErrInvalid, len(token), TokenSize)
	}
	if to.Method() != did.MethodKey {
		return fmt.Errorf("mailbox: recipient %q: %w", to.String(), ErrUnsupportedDID)
	}
	if err := checkMailboxID(id); err != nil {
		return fmt.Errorf("mailbox: %w: %v", input.ErrInvalid, err)
	}
	if err := checkMailboxEnvelope(envelope); errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("mailbox: %w", err)
	} else if err != nil {
		return fmt.Errorf("mailbox: %w: %v", input.ErrInvalid, err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	req := &mailboxRequest{Deposit: &mailboxDeposit{To: to.String(), ID: id, Envelope: envelope, Token: token}}
	if err := wire.WriteFrame(s, mailboxMaxRequest, req); err != nil {
		return mailboxClientError(ctx, s, fmt.Errorf("mailbox: sending the letter: %w", err))
	}
	r, err := readMailboxReply(s, mailboxMaxControl)
	if err == nil && r.Deposited == nil {
		err = fmt.Errorf("%w: mailbox: answer to a deposit is not Deposited", wire.ErrMalformedFrame)
	}
	if err != nil {
		return mailboxClientError(ctx, s, err)
	}
	return nil
}

// Pickup collects the letters waiting for id in the mailbox at the
// other end of s, a stream of [Protocol] to the server whose peer ID
// is relay. It proves that it holds id's key by signing the server's
// challenge, which must name relay.
//
// handle is called once for each letter, in deposit order. A letter is
// acknowledged, and so deleted from the mailbox, only if handle returned
// nil, so return nil as well for a letter that is to be dropped (one that
// does not open, say). A letter for which handle returns an error stays for
// the next pickup; the pickup goes on with the next letter, and ends with an
// error that wraps the first such error. Since a letter is deleted only
// after its acknowledgement reaches the server, handle may see a letter
// again in a later pickup: it should drop repeats by [Letter.ID].
//
// Pickup returns how many letters handle accepted. A refusal from the
// server is a [*Error] ([ErrUnauthorized] if the proof was
// not accepted). The caller closes s afterwards. Cancelling ctx resets the
// stream.
func Pickup(ctx context.Context, s wire.Stream, id *identity.Identity, relay keys.PeerID, handle func(Letter) error) (int, error) {
	return PickupWithTokens(ctx, s, id, relay, nil, handle)
}

// PickupWithTokens is [Pickup] that also registers, with the proof, the
// deposit tokens of the people id knows ([Token], with id the recipient):
// the server replaces what id registered before with their hashes. nil
// registers nothing and leaves what was registered; an empty, non-nil
// slice withdraws every token. Send tokens only on a stream of
// [ProtocolTokens]: a server of the first version refuses the larger
// proof. At most [MaxTokens].
func PickupWithTokens(ctx context.Context, s wire.Stream, id *identity.Identity, relay keys.PeerID, tokens [][]byte, handle func(Letter) error) (int, error) {
	if relay.IsZero() {
		return 0, errors.New("mailbox: pickup from a zero peer id")
	}
	var hashes *[][]byte
	if tokens != nil {
		hs := make([][]byte, 0, len(tokens))
		seen := map[string]bool{}
		for _, t := range tokens {
			if len(t) != TokenSize {
				return 0, fmt.Errorf("mailbox: %w: deposit token of %d bytes, want %d", input.ErrInvalid, len(t), TokenSize)
			}
			if h := TokenHash(t); !seen[string(h)] {
				seen[string(h)] = true
				hs = append(hs, h)
			}
		}
		if len(hs) > MaxTokens {
			return 0, fmt.Errorf("mailbox: %w: %d deposit tokens, at most %d", input.ErrInvalid, len(hs), MaxTokens)
		}
		hashes = &hs
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	accepted, err := pickupMailbox(s, id, relay, hashes, handle)
	if err != nil {
		return accepted, mailboxClientError(ctx, s, err)
	}
	return accepted, nil
}

func pickupMailbox(s wire.Stream, id *identity.Identity, relay keys.PeerID, hashes *[][]byte, handle func(Letter) error) (accepted int, err error) {
	if err := wire.WriteFrame(s, mailboxMaxControl, &mailboxRequest{Pickup: &mailboxPickup{}}); err != nil {
		return 0, fmt.Errorf("mailbox: asking for letters: %w", err)
	}
	r, err := readMailboxReply(s, mailboxMaxControl)
	if err != nil {
		return 0, err
	}
	if r.Challenge == nil {
		return 0, fmt.Errorf("%w: mailbox: answer to a pickup is not a Challenge", wire.ErrMalformedFrame)
	}
	if !bytes.Equal(r.Challenge.Relay, relay.Bytes()) {
		return 0, fmt.Errorf("mailbox: the challenge is for another server than %s", relay)
	}
	proof := &mailboxProof{DID: id.DID().String(), Signature: id.Sign(mailboxPickupInput(relay, r.Challenge.Nonce)), Tokens: hashes}
	if err := wire.WriteFrame(s, mailboxMaxProof, &mailboxRequest{Proof: proof}); err != nil {
		return 0, fmt.Errorf("mailbox: sending the proof: %w", err)
	}
	var (
		kept     int
		firstErr error
	)
	for {
		r, err := readMailboxReply(s, mailboxMaxLetters)
		if err != nil {
			return accepted, err
		}
		if r.Letters == nil {
			return accepted, fmt.Errorf("%w: mailbox: expected Letters", wire.ErrMalformedFrame)
		}
		ack := &mailboxAck{}
		for _, it := range r.Letters.Items {
			l := Letter{ID: it.ID, Envelope: it.Envelope, Deposited: time.UnixMilli(it.Deposited).UTC()}
			if err := handle(l); err != nil {
				kept++
				if firstErr == nil {
					firstErr = fmt.Errorf("letter %s: %w", it.ID, err)
				}
				continue
			}
			ack.IDs = append(ack.IDs, it.ID)
		}
		if err := wire.WriteFrame(s, mailboxMaxAck, &mailboxRequest{Ack: ack}); err != nil {
			return accepted, fmt.Errorf("mailbox: acknowledging letters: %w", err)
		}
		accepted += len(ack.IDs)
		if !r.Letters.More {
			break
		}
	}
	r, err = readMailboxReply(s, mailboxMaxControl)
	if err != nil {
		return accepted, err
	}
	if r.Done == nil {
		return accepted, fmt.Errorf("%w: mailbox: expected Done", wire.ErrMalformedFrame)
	}
	if firstErr != nil {
		return accepted, fmt.Errorf("mailbox: %d letters kept for the next pickup: %w", kept, firstErr)
	}
	return accepted, nil
}

// Server answers [Protocol] streams from a [Store].
type Server struct {
	// Store keeps the letters.
	Store Store
	// Relay is the server's own peer ID, which challenges name.
	Relay keys.PeerID

	// picking holds the pickup under way for each DID: one at a time per
	// recipient, so that one key cannot hold the server's memory many
	// times over by opening pickups it does not read. A new pickup ends
	// the one under way (a client that lost its connection mid-pickup
	// comes back at once, not after the old stream times out).
	mu      sync.Mutex
	picking map[did.DID]*pickupClaim
}

// pickupClaim is one pickup under way; end resets its stream.
type pickupClaim struct{ end func() }

// Serve answers one stream s that remote opened: one or more deposits, or
// one pickup. It returns when the exchange is over, having closed s (or
// reset it, when the transport failed or ctx ended). A refusal it sent is
// returned as its [*Error], for the server's log; a client that
// closes the stream between deposits is no error.
//
// A pickup is answered only for the DID whose key remote is: the client
// signs a nonce that this call made for this stream alone, so a proof
// recorded from another stream, or made for another server, is refused.
func (srv *Server) Serve(ctx context.Context, s wire.Stream, remote keys.PeerID) error {
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	err := srv.serve(s, remote)
	var me *Error
	switch {
	case err == nil:
		return s.Close()
	case errors.As(err, &me):
		// A refusal is the end of the stream: the client reads why, and
		// nothing more that it sends is read.
		if werr := wire.WriteFrame(s, mailboxMaxControl, &mailboxReply{Error: me}); werr != nil {
			s.Reset()
		} else {
			s.Close()
		}
	default:
		s.Reset()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("mailbox: %w", ctx.Err())
	}
	return err
}

// errMailboxStreamEnd is how serve learns that the client closed the stream
// where it may (between deposits).
var errMailboxStreamEnd = errors.New("mailbox: end of stream")

// readMailboxRequest reads the next client frame of at most max bytes. A frame
// the server refuses is a *Error; io.EOF before any byte of it is
// errMailboxStreamEnd.
func readMailboxRequest(s wire.Stream, max int) (*mailboxRequest, error) {
	body, err := wire.ReadFrameBytes(s, max)
	switch {
	case err == io.EOF:
		return nil, errMailboxStreamEnd
	case errors.Is(err, wire.ErrFrameTooLarge):
		return nil, mailboxRefusal(CodeTooLarge, "frame larger than %d bytes", max)
	case errors.Is(err, wire.ErrMalformedFrame):
		return nil, mailboxRefusal(CodeMalformed, "frame length is malformed")
	case err != nil:
		return nil, fmt.Errorf("mailbox: reading: %w", err)
	}
	req, me := decodeMailboxRequest(body)
	if me != nil {
		return nil, me
	}
	return req, nil
}

// mailboxUnexpected refuses a message that is not the one the exchange is at.
func mailboxUnexpected(want string) *Error {
	return mailboxRefusal(CodeUnexpected, "expected %s", want)
}

// serve runs the exchange; see Serve.
func (srv *Server) serve(s wire.Stream, remote keys.PeerID) error {
	req, err := readMailboxRequest(s, mailboxMaxRequest)
	if err == errMailboxStreamEnd {
		return nil
	}
	if err != nil {
		return err
	}
	if req.Pickup != nil {
		return srv.pickup(s, remote)
	}
	sender := ""
	if !remote.IsZero() {
		sender = remote.String()
	}
	for {
		if req.Deposit == nil {
			return mailboxUnexpected("a Deposit, or a Pickup as the first message of a stream")
		}
		if err := srv.deposit(s, req.Deposit, sender); err != nil {
			return err
		}
		req, err = readMailboxRequest(s, mailboxMaxRequest)
		if err == errMailboxStreamEnd {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// mailboxStoreError turns a store's error into what the client is told: the store's
// own refusal, or an internal failure that says nothing of the server.
func mailboxStoreError(err error) error {
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	return errors.Join(mailboxRefusal(CodeInternal, "the mailbox failed; try again later"), err)
}

func (srv *Server) deposit(s wire.Stream, d *mailboxDeposit, sender string) error {
	to, me := mailboxRecipient(d.To)
	if me != nil {
		return me
	}
	in := Incoming{To: to, ID: d.ID, Envelope: d.Envelope, Sender: sender}
	if d.Token != nil {
		in.Token = TokenHash(d.Token)
	}
	if err := srv.Store.Deposit(in); err != nil {
		return mailboxStoreError(err)
	}
	if err := wire.WriteFrame(s, mailboxMaxControl, &mailboxReply{Deposited: &mailboxDeposited{}}); err != nil {
		return fmt.Errorf("mailbox: confirming a deposit: %w", err)
	}
	return nil
}

// verify checks a pickup proof against the nonce of this stream and returns
// the DID whose letters the client may have.
func (srv *Server) verify(p *mailboxProof, nonce []byte, remote keys.PeerID) (did.DID, error) {
	owner, me := mailboxRecipient(p.DID)
	if me != nil {
		return did.DID{}, me
	}
	pub, err := owner.Ed25519PublicKey()
	if err != nil {
		return did.DID{}, mailboxRefusal(CodeUnsupportedDID, "the DID names no Ed25519 key")
	}
	if !ed25519.Verify(pub, mailboxPickupInput(srv.Relay, nonce), p.Signature) {
		return did.DID{}, mailboxRefusal(CodeUnauthorized, "the signature does not verify for this DID and challenge")
	}
	// Noise has authenticated remote: requiring it to speak for the DID
	// means a proof is of no use to anyone who does not hold the key,
	// even if it leaked.
	if !identity.SpeaksFor(remote, owner) {
		return did.DID{}, mailboxRefusal(CodeUnauthorized, "the connection is not from the DID's key")
	}
	return owner, nil
}

func (srv *Server) pickup(s wire.Stream, remote keys.PeerID) error {
	nonce := make([]byte, mailboxNonceSize)
	rand.Read(nonce)
	ch := &mailboxReply{Challenge: &mailboxChallenge{Nonce: nonce, Relay: srv.Relay.Bytes()}}
	if err := wire.WriteFrame(s, mailboxMaxControl, ch); err != nil {
		return fmt.Errorf("mailbox: sending a challenge: %w", err)
	}
	req, err := readMailboxRequest(s, mailboxMaxProof)
	if err == errMailboxStreamEnd {
		return fmt.Errorf("mailbox: client left before its proof: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if req.Proof == nil {
		return mailboxUnexpected("Proof")
	}
	owner, err := srv.verify(req.Proof, nonce, remote)
	if err != nil {
		return err
	}
	claim := srv.startPickup(owner, func() { s.Reset() })
	defer srv.endPickup(owner, claim)
	if req.Proof.Tokens != nil {
		if ts, ok := srv.Store.(TokenStore); ok {
			if err := ts.Register(owner, *req.Proof.Tokens); err != nil {
				return mailboxStoreError(err)
			}
		}
	}
	var after uint64
	for {
		waiting, more, err := srv.Store.Waiting(owner, after, mailboxBatch, pickupBudget)
		if err != nil {
			return mailboxStoreError(err)
		}
		batch := packMailboxBatch(waiting)
		more = more || len(batch) < len(waiting)
		out := &mailboxLetters{More: more}
		for _, l := range batch {
			out.Items = append(out.Items, mailboxItem{ID: l.ID, Envelope: l.Envelope, Deposited: l.Deposited.UnixMilli()})
		}
		if err := wire.WriteFrame(s, mailboxMaxLetters, &mailboxReply{Letters: out}); err != nil {
			return fmt.Errorf("mailbox: sending letters: %w", err)
		}
		req, err := readMailboxRequest(s, mailboxMaxAck)
		if err == errMailboxStreamEnd {
			return fmt.Errorf("mailbox: client left before its ack: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return err
		}
		if req.Ack == nil {
			return mailboxUnexpected("Ack")
		}
		seqs, err := mailboxAckedSeqs(req.Ack.IDs, batch)
		if err != nil {
			return err
		}
		if len(seqs) > 0 {
			if err := srv.Store.Remove(owner, seqs); err != nil {
				return mailboxStoreError(err)
			}
		}
		if !more {
			break
		}
		after = batch[len(batch)-1].Seq
	}
	// The pickup is over before the client hears so: its next one is
	// not taken for a rival of this one.
	srv.endPickup(owner, claim)
	if err := wire.WriteFrame(s, mailboxMaxControl, &mailboxReply{Done: &mailboxDone{}}); err != nil {
		return fmt.Errorf("mailbox: ending the pickup: %w", err)
	}
	return nil
}

// startPickup claims owner's letters for one pickup, ending the pickup
// that held them (end ends this one in turn).
func (srv *Server) startPickup(owner did.DID, end func()) *pickupClaim {
	c := &pickupClaim{end: end}
	srv.mu.Lock()
	old := srv.picking[owner]
	if srv.picking == nil {
		srv.picking = map[did.DID]*pickupClaim{}
	}
	srv.picking[owner] = c
	srv.mu.Unlock()
	if old != nil {
		old.end()
	}
	return c
}

// endPickup lets go of owner's letters, unless another pickup took them
// since. It may be called more than once.
func (srv *Server) endPickup(owner did.DID, c *pickupClaim) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.picking[owner] == c {
		delete(srv.picking, owner)
	}
}

// packMailboxBatch takes, from the front of waiting, as many letters as one
// Letters frame holds: at most mailboxBatch, within mailboxMaxLetters. A
// letter of any allowed size fits alone. (Waiting has already kept the
// batch within pickupBudget.)
func packMailboxBatch(waiting []StoredLetter) []StoredLetter {
	// Generous bounds on the CBOR around the letters: the frame's map,
	// keys and array head, and per letter its map, keys, string and
	// byte-string heads and the time.
	const frameOverhead, itemOverhead = 16, 32
	size := frameOverhead
	n := 0
	for n < len(waiting) && n < mailboxBatch {
		size += itemOverhead + len(waiting[n].ID) + len(waiting[n].Envelope)
		if n > 0 && size > mailboxMaxLetters {
			break
		}
		n++
	}
	return waiting[:n]
}

// mailboxAckedSeqs maps the ids of an Ack to the Seqs of the letters of the batch
// they name; an id not in the batch is a refusal.
func mailboxAckedSeqs(ids []string, batch []StoredLetter) ([]uint64, error) {
	seqs := make([]uint64, 0, len(ids))
	for _, id := range ids {
		found := false
		for _, l := range batch {
			if l.ID == id {
				seqs = append(seqs, l.Seq)
				found = true
				break
			}
		}
		if !found {
			return nil, mailboxRefusal(CodeMalformed, "ack names a letter that was not in the batch")
		}
	}
	return seqs, nil
}
