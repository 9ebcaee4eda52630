package core

import (
	"context"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/invite"
	"planet/vault"
)

// trust.json in an export holds the trust network's exchanges on record or
// in flight: the person's invitations (with the hash of each secret, so
// that an invitation still open can be accepted after an import), the
// introductions they received and made, and the connections they asked for
// that have no answer yet. Binary fields are base64, as encoding/json
// writes []byte.
type trustExport struct {
	Invitations []invitationExport    `json:"invitations"`
	Received    []receivedIntroExport `json:"introductionsReceived"`
	Made        []MadeIntroduction    `json:"introductionsMade"`
	Pending     []pendingExport       `json:"pendingConnections"`
}

type invitationExport struct {
	ID         string   `json:"id"`
	SecretHash []byte   `json:"secretHash"`
	Created    int64    `json:"created"` // Unix seconds, as in the token
	Expires    int64    `json:"expires"`
	UsesLeft   int      `json:"usesLeft"`
	Revoked    bool     `json:"revoked,omitempty"`
	Note       string   `json:"note,omitempty"`
	AcceptedBy []string `json:"acceptedBy,omitempty"`
}

type receivedIntroExport struct {
	ReceivedIntroduction
	OtherRelays []string `json:"otherRelays,omitempty"`
	Signed      []byte   `json:"signed"` // the introduction as the introducer signed it
}

type pendingExport struct {
	PendingConnection
	Request    []byte `json:"request"` // the ConnectFrame, CBOR
	Credential string `json:"credentialRecord,omitempty"`
}

// trustForExport gathers trust.json.
func (p *Planet) trustForExport(ctx context.Context) (trustExport, error) {
	var t trustExport
	invs, err := p.Invitations(ctx)
	if err != nil {
		return t, err
	}
	for _, r := range invs {
		t.Invitations = append(t.Invitations, invitationExport{r.ID, r.SecretHash, r.Created, r.Expires, r.UsesLeft, r.Revoked, r.Note, r.AcceptedBy})
	}
	received, made, err := p.Introductions(ctx)
	if err != nil {
		return t, err
	}
	for _, r := range received {
		t.Received = append(t.Received, receivedIntroExport{r, r.OtherRelays, r.Signed})
	}
	t.Made = made
	pending, err := p.PendingConnections(ctx)
	if err != nil {
		return t, err
	}
	for _, pc := range pending {
		t.Pending = append(t.Pending, pendingExport{pc, pc.Request, pc.Credential})
	}
	return t, nil
}

// restoreTrust checks trust.json and adds its records to tx.
func restoreTrust(t trustExport, put func(vault.Collection, string, any) error) error {
	for _, e := range t.Invitations {
		if len(e.SecretHash) != 32 || e.UsesLeft < 0 {
			return badExport("trust.json: invitation %q is malformed", e.ID)
		}
		for _, d := range e.AcceptedBy {
			if _, err := did.Parse(d); err != nil {
				return badExport("trust.json: invitation %q: %v", e.ID, err)
			}
		}
		r := invite.Record{ID: e.ID, SecretHash: e.SecretHash, Expires: e.Expires, UsesLeft: e.UsesLeft,
			Revoked: e.Revoked, Note: e.Note, AcceptedBy: e.AcceptedBy, Created: e.Created}
		if err := put(colInvitations, e.ID, r); err != nil {
			return err
		}
	}
	for _, e := range t.Received {
		r := e.ReceivedIntroduction
		r.OtherRelays, r.Signed = contacts.CleanRelays(e.OtherRelays), e.Signed
		c, err := openIntroduction(r.Signed)
		if err != nil || c.ID != r.ID || c.Introducer.String() != r.Introducer || c.Other.String() != r.Other {
			return badExport("trust.json: introduction %q does not match its signed form", r.ID)
		}
		if !validIntroState(r.State, true) {
			return badExport("trust.json: introduction %q has unknown state %q", r.ID, r.State)
		}
		if err := put(colIntroductions, r.ID, r); err != nil {
			return err
		}
	}
	for _, m := range t.Made {
		for _, d := range []string{m.A, m.B} {
			if _, err := did.Parse(d); err != nil {
				return badExport("trust.json: introduction %q: %v", m.ID, err)
			}
		}
		if !validIntroState(m.StateA, false) || !validIntroState(m.StateB, false) {
			return badExport("trust.json: introduction %q has an unknown state", m.ID)
		}
		if err := put(colIntroduced, m.ID, m); err != nil {
			return err
		}
	}
	for _, e := range t.Pending {
		pc := e.PendingConnection
		pc.Request, pc.Credential, pc.Relays = e.Request, e.Credential, contacts.CleanRelays(e.Relays)
		if _, err := pc.Outgoing(); err != nil {
			return badExport("trust.json: pending connection %q: %v", pc.Ref, err)
		}
		if pc.Credential != "" && !vault.ValidRecordID(pc.Credential) {
			return badExport("trust.json: pending connection %q names no credential record", pc.Ref)
		}
		if err := put(colPending, pc.Ref, pc); err != nil {
			return err
		}
	}
	return nil
}

func validIntroState(s string, received bool) bool {
	switch s {
	case IntroPending, IntroAccepted, IntroDeclined, IntroConnected:
		return true
	case IntroOtherDeclined:
		return received
	}
	return false
}
