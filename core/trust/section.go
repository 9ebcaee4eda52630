package trust

import (
	"context"
	"encoding/json"
	"time"

	"planet/core/contacts"
	"planet/core/did"
	"planet/core/identity"
	"planet/core/invite"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// TrustSection is trust.json in the export: invitations, introductions and
// connections under way.
func (s *Service) TrustSection() session.Section { return trustSection{} }

type trustSection struct{}

func (trustSection) Export(ctx context.Context, se *session.Session, w *session.Writer) error {
	t, err := trustForExport(ctx, se.Vault)
	if err != nil {
		return err
	}
	w.JSON("trust.json", t)
	return nil
}

func (trustSection) Import() session.SectionImport { return &trustImport{} }

type trustImport struct{ trust trustExport }

func (im *trustImport) Claims(name string) bool { return name == "trust.json" }

func (im *trustImport) Entry(_ context.Context, e session.Entry) error { return e.JSON(&im.trust) }

func (im *trustImport) Restore(tx *vault.Tx, _ *identity.Identity, _ *session.Counts) error {
	return restoreTrust(im.trust, tx)
}

// CredentialsSection is credentials.json in the export, the kept
// credentials, read back on import; and graph.json, the trust graph they
// make, for reading.
func (s *Service) CredentialsSection() session.Section { return credentialsSection{s} }

type credentialsSection struct{ s *Service }

// credentialExport is one kept credential in credentials.json: the
// credential exactly as signed, and where it came from.
type credentialExport struct {
	Credential json.RawMessage `json:"credential"`
	SharedBy   string          `json:"sharedBy,omitempty"`
	Received   time.Time       `json:"received"`
}

func (sec credentialsSection) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	kept, err := sec.s.Credentials(ctx)
	if err != nil {
		return err
	}
	graph, err := graphOf(kept)
	if err != nil {
		return err
	}
	creds := make([]credentialExport, len(kept))
	for i, k := range kept {
		raw, err := k.Credential.MarshalJSON()
		if err != nil {
			return err
		}
		creds[i] = credentialExport{Credential: raw, Received: k.Received}
		if !k.SharedBy.IsZero() {
			creds[i].SharedBy = k.SharedBy.String()
		}
	}
	w.JSON("credentials.json", creds)
	w.JSON("graph.json", graph)
	w.Counts.Credentials = len(kept)
	return nil
}

func (credentialsSection) Import() session.SectionImport { return &credentialsImport{} }

type credentialsImport struct{ creds []credentialExport }

func (im *credentialsImport) Claims(name string) bool { return name == "credentials.json" }

func (im *credentialsImport) Entry(_ context.Context, e session.Entry) error {
	return e.JSON(&im.creds)
}

func (im *credentialsImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for _, ce := range im.creds {
		// The archive is authenticated as a whole; each credential is
		// parsed, not re-verified, so one that has since expired is
		// still restored, as it was kept.
		c, err := vc.Parse(ce.Credential)
		if err != nil {
			return session.BadExport("credentials.json: %v", err)
		}
		var by did.DID
		if ce.SharedBy != "" {
			if by, err = did.Parse(ce.SharedBy); err != nil {
				return session.BadExport("credentials.json: %v", err)
			}
		}
		recID, err := credentialRecordID(c, by)
		if err != nil {
			return session.BadExport("credentials.json: %v", err)
		}
		exact, err := c.MarshalJSON()
		if err != nil {
			return err
		}
		if err := session.RestoreRecord(tx, credentialsCollection, recID, credentialRecord{JSON: exact, SharedBy: ce.SharedBy, Received: session.Millis(ce.Received)}); err != nil {
			return err
		}
	}
	counts.Credentials = len(im.creds)
	return nil
}

// trust.json in an export holds the trust network's exchanges on record or
// in flight: the person's invitations (with the hash of each secret, so
// that an invitation still open can be accepted after an import), the
// introductions they received and made, and the connections they asked for
// that have no answer yet. Binary fields are base64, as encoding/json
// writes []byte.
type trustExport struct {
	Invitations []invitationExport    `json:"invitations"`
	Received    []receivedIntroExport `json:"introductionsReceived"`
	Made        []madeRecord          `json:"introductionsMade"`
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
	receivedRecord
	OtherRelays []string `json:"otherRelays,omitempty"`
	Signed      []byte   `json:"signed"` // the introduction as the introducer signed it
}

type pendingExport struct {
	pendingRecord
	Request    []byte `json:"request"` // the ConnectFrame, CBOR
	Credential string `json:"credentialRecord,omitempty"`
}

// trustForExport gathers trust.json, from the records as they are kept.
func trustForExport(ctx context.Context, v *vault.Vault) (trustExport, error) {
	var t trustExport
	invs, err := invitationRecords(ctx, v)
	if err != nil {
		return t, err
	}
	for _, r := range invs {
		t.Invitations = append(t.Invitations, invitationExport{r.ID, r.SecretHash, r.Created, r.Expires, r.UsesLeft, r.Revoked, r.Note, r.AcceptedBy})
	}
	received, made, err := introductionRecords(ctx, v)
	if err != nil {
		return t, err
	}
	for _, r := range received {
		t.Received = append(t.Received, receivedIntroExport{r, r.OtherRelays, r.Signed})
	}
	t.Made = made
	pending, err := pendingRecords(ctx, v)
	if err != nil {
		return t, err
	}
	for _, pc := range pending {
		t.Pending = append(t.Pending, pendingExport{pc, pc.Request, pc.Credential})
	}
	return t, nil
}

// restoreTrust checks trust.json and adds its records to tx.
func restoreTrust(t trustExport, tx *vault.Tx) error {
	put := func(c vault.Collection, id string, rec any) error { return session.RestoreRecord(tx, c, id, rec) }
	for _, e := range t.Invitations {
		if len(e.SecretHash) != 32 || e.UsesLeft < 0 {
			return session.BadExport("trust.json: invitation %q is malformed", e.ID)
		}
		for _, d := range e.AcceptedBy {
			if _, err := did.Parse(d); err != nil {
				return session.BadExport("trust.json: invitation %q: %v", e.ID, err)
			}
		}
		r := invite.Record{ID: e.ID, SecretHash: e.SecretHash, Expires: e.Expires, UsesLeft: e.UsesLeft,
			Revoked: e.Revoked, Note: e.Note, AcceptedBy: e.AcceptedBy, Created: e.Created}
		if err := put(colInvitations, e.ID, r); err != nil {
			return err
		}
	}
	for _, e := range t.Received {
		r := e.receivedRecord
		r.OtherRelays, r.Signed = contacts.CleanRelays(e.OtherRelays), e.Signed
		c, err := openIntroduction(r.Signed)
		if err != nil || c.ID != r.ID || c.Introducer.String() != r.Introducer || c.Other.String() != r.Other {
			return session.BadExport("trust.json: introduction %q does not match its signed form", r.ID)
		}
		if !validIntroState(r.State, true) {
			return session.BadExport("trust.json: introduction %q has unknown state %q", r.ID, r.State)
		}
		if err := put(colIntroductions, r.ID, r); err != nil {
			return err
		}
	}
	for _, m := range t.Made {
		for _, d := range []string{m.A, m.B} {
			if _, err := did.Parse(d); err != nil {
				return session.BadExport("trust.json: introduction %q: %v", m.ID, err)
			}
		}
		if !validIntroState(m.StateA, false) || !validIntroState(m.StateB, false) {
			return session.BadExport("trust.json: introduction %q has an unknown state", m.ID)
		}
		if err := put(colIntroduced, m.ID, m); err != nil {
			return err
		}
	}
	for _, e := range t.Pending {
		pc := e.pendingRecord
		pc.Request, pc.Credential, pc.Relays = e.Request, e.Credential, contacts.CleanRelays(e.Relays)
		if _, err := pc.outgoing(); err != nil {
			return session.BadExport("trust.json: pending connection %q: %v", pc.Ref, err)
		}
		if pc.Credential != "" && !vault.ValidRecordID(pc.Credential) {
			return session.BadExport("trust.json: pending connection %q names no credential record", pc.Ref)
		}
		if err := put(colPending, pc.Ref, pc); err != nil {
			return err
		}
	}
	return nil
}

func validIntroState(s IntroState, received bool) bool {
	switch s {
	case IntroPending, IntroAccepted, IntroDeclined, IntroConnected:
		return true
	case IntroOtherDeclined:
		return received
	}
	return false
}
