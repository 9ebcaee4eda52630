package trust

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/invite"
	"planet/core/mailbox"
	"planet/core/session"
	"planet/core/vc"
	"planet/core/wire"
	"planet/vault"
)

// Collections of the trust network's exchanges in flight.
const (
	// colInvitations holds the person's [InvitationRecord]s, by invitation id.
	colInvitations vault.Collection = "invitations"
	// colPending holds the connections the person asked for and has no
	// answer to yet, by the id of the invitation or introduction.
	colPending vault.Collection = "pending"
)

// ConnectFrame is the one message of /planet/connect/1.0.0: a request from
// the side that accepted an invitation or an introduction, or the reply.
// Exactly one field is set. Change rules: numbered keys are never reused;
// new fields are optional.
type ConnectFrame struct {
	Request *ConnectRequest `cbor:"1,keyasint,omitempty"`
	Reply   *ConnectReply   `cbor:"2,keyasint,omitempty"`
}

// ConnectRequest asks to be connected, on the strength of an invitation
// from the other side or an introduction both accepted. It carries the
// relationship credential the requester issues the other, who answers with
// theirs.
type ConnectRequest struct {
	// Invitation is the invitation token the requester accepted (whose
	// secret shows they were given it); empty for an introduction.
	Invitation string `cbor:"1,keyasint,omitempty"`
	// Introduction is the signed introduction the requester received,
	// naming the other side; nil for an invitation.
	Introduction []byte `cbor:"2,keyasint,omitempty"`
	// Credential is the JSON of the RelationshipCredential the requester
	// issued to the other side.
	Credential []byte `cbor:"3,keyasint"`
	// Name is how the requester calls themself; Relays, where they are reached.
	Name   string   `cbor:"4,keyasint,omitempty"`
	Relays []string `cbor:"5,keyasint,omitempty"`
}

// ConnectReply answers a [ConnectRequest]: the other side's credential, or
// a refusal.
type ConnectReply struct {
	// Ref is the id of the invitation or introduction the request was for.
	Ref        string       `cbor:"1,keyasint"`
	Credential []byte       `cbor:"2,keyasint,omitempty"`
	Name       string       `cbor:"3,keyasint,omitempty"`
	Relays     []string     `cbor:"4,keyasint,omitempty"`
	Refused    *RemoteError `cbor:"5,keyasint,omitempty"`
}

// Waiting says why a pending connection has no answer yet.
type Waiting string

// The reasons a connection is pending.
const (
	WaitingDelivery Waiting = ""        // not delivered yet
	WaitingAnswer   Waiting = "pending" // delivered; the other side has not answered the introduction (CodePending)
	WaitingMailbox  Waiting = "mailbox" // left in their mailbox
)

// A PendingConnection is a connection the person asked for and has no
// answer to yet: the other side may be offline, or not yet have answered
// an introduction.
type PendingConnection struct {
	Ref     string  // the id of the invitation or introduction
	With    did.DID // the other side
	Relays  []string
	Note    string
	Created time.Time
	Waiting Waiting
}

// pendingRecord is a pending connection as the vault stores it (and as
// trust.json writes it). Its keys are frozen (see package session for the
// rules of change).
type pendingRecord struct {
	Ref     string   `cbor:"1,keyasint" json:"ref"`  // invitation or introduction id
	With    string   `cbor:"2,keyasint" json:"with"` // the other side's DID
	Relays  []string `cbor:"3,keyasint,omitempty" json:"relays,omitempty"`
	Request []byte   `cbor:"4,keyasint" json:"-"` // the ConnectFrame, to send again
	Created int64    `cbor:"5,keyasint" json:"created"`
	Note    string   `cbor:"6,keyasint,omitempty" json:"note,omitempty"`
	// Waiting says why there is no answer yet.
	Waiting Waiting `cbor:"7,keyasint,omitempty" json:"waiting,omitempty"`
	// Credential is the record id of the credential the person issued for
	// this connection, withdrawn if the other side refuses.
	Credential string `cbor:"8,keyasint,omitempty" json:"-"`
}

// CreateInvitation makes an invitation from the person with opts, records
// it in the vault so that it can be accepted, and returns it. Its Token
// goes in a link (invite.Link) or a QR code.
func (s *Service) CreateInvitation(ctx context.Context, opts invite.Options) (*invite.Invitation, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	v, id := se.Vault, se.Identity
	_, inv, err := invite.New(id, opts, se.Now(), nil)
	if err != nil {
		return nil, err
	}
	return inv, session.Put(ctx, v, colInvitations, inv.ID, invite.NewRecord(inv))
}

// Invitations lists the person's invitations, newest first.
func (s *Service) Invitations(ctx context.Context) ([]Invitation, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	rs, err := invitationRecords(ctx, se.Vault)
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, len(rs))
	for i, r := range rs {
		out[i] = Invitation{ID: r.ID, Note: r.Note, Created: time.Unix(r.Created, 0).UTC(), Expires: time.Unix(r.Expires, 0).UTC(),
			UsesLeft: r.UsesLeft, Revoked: r.Revoked}
		for _, a := range r.AcceptedBy {
			// The book wrote only DIDs it parsed; one that no longer
			// parses (a method since dropped) is left out.
			if d, err := did.Parse(a); err == nil {
				out[i].AcceptedBy = append(out[i].AcceptedBy, d)
			}
		}
	}
	return out, nil
}

// An Invitation is one the person made, as they follow it: the vault keeps
// it as the inviter's book's record (invite.Record), which also holds the
// hash of its secret.
type Invitation struct {
	ID         string
	Note       string
	Created    time.Time
	Expires    time.Time
	UsesLeft   int
	Revoked    bool
	AcceptedBy []did.DID // who accepted it, in the order they did
}

func invitationRecords(ctx context.Context, v *vault.Vault) ([]invite.Record, error) {
	rs, err := session.List(ctx, v, colInvitations, func(*invite.Record, string) {})
	sort.Slice(rs, func(i, j int) bool { return rs[i].Created > rs[j].Created })
	return rs, err
}

// RevokeInvitation withdraws an invitation, so that nobody can accept it any more.
func (s *Service) RevokeInvitation(ctx context.Context, id string) error {
	se, err := s.open.Session()
	if err != nil {
		return err
	}
	v := se.Vault
	if !vault.ValidRecordID(id) {
		return fmt.Errorf("revoke invitation: %w", invite.ErrUnknown)
	}
	r, err := session.Get[invite.Record](ctx, v, colInvitations, id)
	if errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("revoke invitation: %w", invite.ErrUnknown)
	} else if err != nil {
		return err
	}
	r.Revoked = true
	return session.Put(ctx, v, colInvitations, id, r)
}

// AcceptInvitation accepts the invitation in token: it checks the token,
// issues the inviter a relationship credential with the invitation's note
// as its context, keeps a copy, and returns the request to deliver to the
// inviter (at inv.Peer, through inv.Relays). The request gives the relays
// of [Service.SetRelays], for the answer. The connection completes when the answer
// arrives ([Service.HandleFrame]); until then it is pending.
func (s *Service) AcceptInvitation(ctx context.Context, token string) (*invite.Invitation, Outgoing, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, Outgoing{}, err
	}
	id := se.Identity
	inv, err := invite.Parse(token, se.Now())
	if err != nil {
		return nil, Outgoing{}, err
	}
	if inv.Inviter == id.DID() {
		return nil, Outgoing{}, fmt.Errorf("%w: this is your own invitation; send it to the person you want to invite", input.ErrInvalid)
	}
	cred, err := issue(se, inv.Inviter, vc.RelationshipContext{Context: inv.Note})
	if err != nil {
		return nil, Outgoing{}, err
	}
	exact, err := cred.MarshalJSON()
	if err != nil {
		return nil, Outgoing{}, err
	}
	frame := &ConnectFrame{Request: &ConnectRequest{
		Invitation: inv.Token,
		Credential: exact,
		Name:       s.name(),
		Relays:     s.Relays(),
	}}
	out := Outgoing{To: inv.Inviter, Relays: inv.Relays, Protocol: ProtocolConnect, Frame: frame}
	err = savePending(ctx, se, inv.ID, out, inv.Note, cred)
	return inv, out, err
}

// savePending records a connection asked for, with the credential the
// person issued for it, in one write.
func savePending(ctx context.Context, se *session.Session, ref string, out Outgoing, note string, cred *vc.Credential) error {
	req, err := vault.MarshalCBOR(out.Frame)
	if err != nil {
		return err
	}
	now := session.Millis(se.Now())
	credID, err := credentialRecordID(cred, did.DID{})
	if err != nil {
		return err
	}
	rec, err := vault.MarshalCBOR(pendingRecord{Ref: ref, With: out.To.String(), Relays: out.Relays, Request: req, Created: now, Note: note, Credential: credID})
	if err != nil {
		return err
	}
	return se.Vault.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colPending, ref, rec)
		return putCredential(tx, cred, now)
	})
}

// PendingConnections lists the connections the person asked for that have
// no answer yet, oldest first.
func (s *Service) PendingConnections(ctx context.Context) ([]PendingConnection, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	ps, err := pendingRecords(ctx, se.Vault)
	out := make([]PendingConnection, len(ps))
	for i, pc := range ps {
		// The record's DID was checked when written.
		with, _ := did.Parse(pc.With)
		out[i] = PendingConnection{Ref: pc.Ref, With: with, Relays: pc.Relays, Note: pc.Note, Created: session.Time(pc.Created), Waiting: pc.Waiting}
	}
	return out, err
}

func pendingRecords(ctx context.Context, v *vault.Vault) ([]pendingRecord, error) {
	ps, err := session.List(ctx, v, colPending, func(*pendingRecord, string) {})
	sort.Slice(ps, func(i, j int) bool { return ps[i].Created < ps[j].Created })
	return ps, err
}

// outgoing returns what to deliver again for a pending connection.
func (pc pendingRecord) outgoing() (Outgoing, error) {
	to, err := did.Parse(pc.With)
	if err != nil {
		return Outgoing{}, fmt.Errorf("pending connection: %w", errors.Join(vault.ErrCorrupt, err))
	}
	var f ConnectFrame
	if err := vault.UnmarshalCBOR(pc.Request, &f); err != nil {
		return Outgoing{}, fmt.Errorf("pending connection: %w", errors.Join(vault.ErrCorrupt, err))
	}
	return Outgoing{To: to, Relays: pc.Relays, Protocol: ProtocolConnect, Frame: &f}, nil
}

// SetPendingWaiting notes why a pending connection has no answer yet.
func (s *Service) SetPendingWaiting(ctx context.Context, ref string, why Waiting) error {
	se, err := s.open.Session()
	if err != nil {
		return err
	}
	v := se.Vault
	pc, err := session.Get[pendingRecord](ctx, v, colPending, ref)
	if err != nil {
		return err
	}
	pc.Waiting = why
	return session.Put(ctx, v, colPending, ref, pc)
}

// handleConnectRequest answers someone who asks to be connected.
func (s *Service) handleConnectRequest(ctx context.Context, from did.DID, req *ConnectRequest) (h Handled, err error) {
	switch {
	case req.Invitation != "" && req.Introduction == nil:
		h, err = s.connectByInvitation(ctx, from, req)
	case req.Introduction != nil && req.Invitation == "":
		h, err = s.connectByIntroduction(ctx, from, req)
	default:
		return Handled{}, fmt.Errorf("%w: a connect request holds an invitation or an introduction", wire.ErrMalformedFrame)
	}
	h.ReplyRelays = contacts.CleanRelays(req.Relays)
	return h, err
}

func refused(ref string, err error) Handled {
	return Handled{Reply: &ConnectFrame{Reply: &ConnectReply{Ref: ref, Refused: refusal(err)}}}
}

// connectByInvitation answers the acceptance of one of the person's
// invitations: the invitation must be theirs and redeemable, the
// credential from the requester to them. Accepting it again (the request
// came twice) takes no second use.
func (s *Service) connectByInvitation(ctx context.Context, from did.DID, req *ConnectRequest) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return Handled{}, err
	}
	v, id := se.Vault, se.Identity
	now := se.Now()
	inv, err := invite.Parse(req.Invitation, now)
	if err != nil {
		return refused("", err), nil
	}
	if inv.Inviter != id.DID() {
		return refused(inv.ID, fmt.Errorf("%w: the invitation is from %s, not from the person you reached", invite.ErrForged, did.Short(inv.Inviter))), nil
	}
	theirs, err := verifiedRelationship(req.Credential, from, id.DID(), se.Now())
	if err != nil {
		return refused(inv.ID, err), nil
	}
	rec, err := session.Get[invite.Record](ctx, v, colInvitations, inv.ID)
	if errors.Is(err, vault.ErrNotFound) {
		return refused(inv.ID, fmt.Errorf("accept invitation: %w", invite.ErrUnknown)), nil
	} else if err != nil {
		return Handled{}, err
	}
	again := contains(rec.AcceptedBy, from.String())
	// Revocation is final for everyone: a request from someone who
	// accepted before the invitation was revoked (a retry, or a replay of
	// their old request) is refused like anyone else's, so that revoking
	// an invitation cannot be undone by presenting it again.
	if again && rec.Revoked {
		return refused(inv.ID, fmt.Errorf("accept invitation: %w", invite.ErrRevoked)), nil
	}
	if !again {
		if err := rec.Redeem(inv.Secret, now); err != nil {
			return refused(inv.ID, err), nil
		}
		rec.AcceptedBy = append(rec.AcceptedBy, from.String())
	}
	ours, err := issue(se, from, vc.RelationshipContext{Context: inv.Note})
	if err != nil {
		return Handled{}, err
	}
	recBytes, err := vault.MarshalCBOR(rec)
	if err != nil {
		return Handled{}, err
	}
	err = v.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(colInvitations, inv.ID, recBytes)
		if err := putCredential(tx, theirs, session.Millis(now)); err != nil {
			return err
		}
		if err := putCredential(tx, ours, session.Millis(now)); err != nil {
			return err
		}
		return s.connected(ctx, tx, from, req.Name, req.Relays, contacts.OriginInvitedByMe, did.DID{})
	})
	if err != nil {
		return Handled{}, err
	}
	return s.replyWith(inv.ID, ours)
}

func (s *Service) replyWith(ref string, c *vc.Credential) (Handled, error) {
	exact, err := c.MarshalJSON()
	if err != nil {
		return Handled{}, err
	}
	return Handled{Reply: &ConnectFrame{Reply: &ConnectReply{Ref: ref, Credential: exact, Name: s.name(), Relays: s.Relays()}}}, nil
}

// handleConnectReply completes a connection the person asked for, or
// records why it was refused.
func (s *Service) handleConnectReply(ctx context.Context, from did.DID, r *ConnectReply) (Handled, error) {
	se, err := s.open.Session()
	if err != nil {
		return Handled{}, err
	}
	v, id := se.Vault, se.Identity
	if !vault.ValidRecordID(r.Ref) {
		if r.Refused != nil {
			return Handled{}, r.Refused
		}
		return Handled{}, fmt.Errorf("%w: the reply names no connection", wire.ErrMalformedFrame)
	}
	pc, err := session.Get[pendingRecord](ctx, v, colPending, r.Ref)
	if errors.Is(err, vault.ErrNotFound) {
		// An answer that came twice, or one nobody asked for: nothing to do.
		return Handled{}, nil
	} else if err != nil {
		return Handled{}, err
	}
	if pc.With != from.String() {
		return Handled{}, fmt.Errorf("%w: the answer for %s came from %s", input.ErrInvalid, did.Short(mustDID(pc.With)), did.Short(from))
	}
	req, err := pc.outgoing()
	if err != nil {
		return Handled{}, err
	}
	intro := req.Frame.(*ConnectFrame).Request.Introduction
	if r.Refused != nil {
		return s.connectRefused(ctx, v, pc, intro, r.Refused)
	}
	theirs, err := verifiedRelationship(r.Credential, from, id.DID(), se.Now())
	if err != nil {
		return Handled{}, err
	}
	origin, introducer := contacts.OriginInvitedMe, did.DID{}
	var send []Outgoing
	var received *receivedRecord
	if intro != nil {
		claims, err := openIntroduction(intro)
		if err != nil {
			return Handled{}, err
		}
		origin, introducer = contacts.OriginIntroduced, claims.Introducer
		if received, err = s.receivedIntroduction(ctx, v, claims.ID); err != nil {
			return Handled{}, err
		}
		received.State = IntroConnected
		send = append(send, s.introAnswer(ctx, v, claims, IntroConnected))
	}
	now := session.Millis(se.Now())
	err = v.Update(ctx, func(tx *vault.Tx) error {
		tx.Delete(colPending, r.Ref)
		if received != nil {
			if err := putReceived(tx, received); err != nil {
				return err
			}
		}
		if err := putCredential(tx, theirs, now); err != nil {
			return err
		}
		return s.connected(ctx, tx, from, r.Name, r.Relays, origin, introducer)
	})
	return Handled{Send: send}, err
}

// connectRefused handles a refused connection: one through an
// introduction the other side has not answered stays pending (they connect
// when they accept); any other refusal ends it.
func (s *Service) connectRefused(ctx context.Context, v *vault.Vault, pc *pendingRecord, intro []byte, why *RemoteError) (Handled, error) {
	if why.Code == CodePending {
		pc.Waiting = WaitingAnswer
		return Handled{}, session.Put(ctx, v, colPending, pc.Ref, pc)
	}
	err := v.Update(ctx, func(tx *vault.Tx) error {
		tx.Delete(colPending, pc.Ref)
		if pc.Credential != "" {
			tx.Delete(credentialsCollection, pc.Credential)
		}
		if intro != nil && why.Code == CodeDeclined {
			claims, err := openIntroduction(intro)
			if err != nil {
				return err
			}
			received, err := s.receivedIntroduction(ctx, v, claims.ID)
			if err != nil {
				return err
			}
			received.State = IntroOtherDeclined
			return putReceived(tx, received)
		}
		return nil
	})
	if err != nil {
		return Handled{}, err
	}
	return Handled{}, why
}

func mustDID(s string) did.DID {
	d, _ := did.Parse(s)
	return d
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MailboxTokens returns the deposit tokens of the person's open
// invitations (not revoked, not expired, not used up), for their mailbox
// to count the letters that accept them apart from strangers' (see
// mailbox.InvitationToken).
func (s *Service) MailboxTokens(ctx context.Context) ([][]byte, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	rs, err := invitationRecords(ctx, se.Vault)
	if err != nil {
		return nil, err
	}
	now := se.Now().Unix()
	var out [][]byte
	for _, r := range rs {
		if !r.Revoked && r.UsesLeft > 0 && now < r.Expires && len(r.SecretHash) == sha256.Size {
			out = append(out, mailbox.InvitationToken(r.SecretHash))
		}
	}
	return out, nil
}

// MailboxToken returns the deposit token to present with out when it goes
// into the other person's mailbox, if out answers one of their
// invitations (the invitation token of mailbox.InvitationToken), or nil.
// now is the time the invitation must still be valid at.
func MailboxToken(out Outgoing, now time.Time) []byte {
	f, ok := out.Frame.(*ConnectFrame)
	if !ok || f.Request == nil || f.Request.Invitation == "" {
		return nil
	}
	inv, err := invite.Parse(f.Request.Invitation, now)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(inv.Secret)
	return mailbox.InvitationToken(sum[:])
}
