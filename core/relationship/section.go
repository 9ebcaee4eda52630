package relationship

import (
	"context"
	"encoding/json"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// exportName is the section's entry in the export (docs/export-format.md).
const exportName = "relationships.json"

// exported is the section's entry: the relationships and the VRCs.
type exported struct {
	Relationships []exportedRelationship `json:"relationships"`
	VRCs          []exportedVRC          `json:"vrcs"`
}

type exportedRelationship struct {
	ID       string    `json:"id"`
	Role     Role      `json:"role"`
	State    State     `json:"state"`
	Thid     string    `json:"thid"`
	Peer     string    `json:"peer"`
	PeerDID  string    `json:"peerDid,omitempty"`
	PeerName string    `json:"peerName,omitempty"`
	Persona  string    `json:"persona"`
	DID      string    `json:"did,omitempty"`
	Index    *uint32   `json:"index,omitempty"` // with did: the relationship DID's index
	Mediator string    `json:"mediator,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

type exportedVRC struct {
	ID           string          `json:"id"`
	Relationship string          `json:"relationship"`
	Thid         string          `json:"thid"`
	Direction    Direction       `json:"direction"`
	State        VRCState        `json:"state"`
	Reason       string          `json:"reason,omitempty"`
	Credential   json.RawMessage `json:"credential,omitempty"` // as signed
	Created      time.Time       `json:"created"`
	Updated      time.Time       `json:"updated"`
}

// Section is the relationships' part of the export: relationships.json.
func (svc *Service) Section() session.Section { return section{svc} }

type section struct{ svc *Service }

func (sec section) Export(ctx context.Context, s *session.Session, w *session.Writer) error {
	recs, err := session.List(ctx, s.Vault, colRelationships, func(r *record, id string) { r.id = id })
	if err != nil {
		return err
	}
	vrs, err := session.List(ctx, s.Vault, colVRCs, func(r *vrcRecord, id string) { r.id = id })
	if err != nil {
		return err
	}
	if len(recs) == 0 && len(vrs) == 0 {
		return nil
	}
	out := exported{Relationships: make([]exportedRelationship, len(recs)), VRCs: make([]exportedVRC, len(vrs))}
	for i, r := range recs {
		e := exportedRelationship{ID: r.id, Role: Role(r.Role), State: State(r.State), Thid: r.Thid, Peer: r.Peer, PeerDID: r.PeerDID,
			PeerName: r.PeerName, Persona: r.Persona, Mediator: r.Mediator, Reason: r.Reason,
			Created: session.Time(r.Created), Updated: session.Time(r.Updated)}
		if r.HasDID {
			e.DID, e.Index = r.DID, &recs[i].Index
		}
		out.Relationships[i] = e
	}
	for i, v := range vrs {
		out.VRCs[i] = exportedVRC{ID: v.id, Relationship: v.Relationship, Thid: v.Thid, Direction: Direction(v.Direction), State: VRCState(v.State),
			Reason: v.Reason, Credential: v.Credential, Created: session.Time(v.Created), Updated: session.Time(v.Updated)}
	}
	w.JSON(exportName, out)
	return nil
}

func (section) Import() session.SectionImport { return &sectionImport{} }

type sectionImport struct{ in exported }

func (im *sectionImport) Claims(name string) bool { return name == exportName }

func (im *sectionImport) Entry(_ context.Context, e session.Entry) error { return e.JSON(&im.in) }

// Restore checks every relationship and credential before it writes one:
// the DIDs parse, a relationship DID is the one its index gives with the
// imported identity (else messages to it could not be read), and a
// credential parses.
func (im *sectionImport) Restore(tx *vault.Tx, id *identity.Identity, _ *session.Counts) error {
	ids := map[string]bool{}
	for _, e := range im.in.Relationships {
		if !vault.ValidRecordID(e.ID) || ids[e.ID] {
			return session.BadExport("relationship %q: not a record id, or twice", e.ID)
		}
		ids[e.ID] = true
		switch e.Role {
		case RoleRequester, RoleResponder:
		default:
			return session.BadExport("relationship %s: role %q", e.ID, e.Role)
		}
		switch e.State {
		case StateRequested, StatePending, StateAccepted, StateEstablished, StateRejected, StateDeclined:
		default:
			return session.BadExport("relationship %s: state %q", e.ID, e.State)
		}
		if e.Thid == "" {
			return session.BadExport("relationship %s: no thid", e.ID)
		}
		rec := record{Role: string(e.Role), State: string(e.State), Thid: e.Thid, PeerName: e.PeerName, Reason: e.Reason,
			Created: session.Millis(e.Created), Updated: session.Millis(e.Updated)}
		for _, f := range []struct {
			name, value string
			out         *string
			required    bool
		}{{"peer", e.Peer, &rec.Peer, true}, {"peerDid", e.PeerDID, &rec.PeerDID, false}, {"persona", e.Persona, &rec.Persona, true}, {"mediator", e.Mediator, &rec.Mediator, e.DID != ""}} {
			if f.value == "" && !f.required {
				continue
			}
			d, err := did.Parse(f.value)
			if err != nil {
				return session.BadExport("relationship %s: %s: %v", e.ID, f.name, err)
			}
			*f.out = d.String()
		}
		if e.DID != "" {
			if e.Index == nil {
				return session.BadExport("relationship %s: a did without its index", e.ID)
			}
			mediator, _ := did.Parse(rec.Mediator)
			rel, err := id.Relationship(*e.Index, mediator)
			if err != nil {
				return session.BadExport("relationship %s: %v", e.ID, err)
			}
			if rel.DID().String() != e.DID {
				return session.BadExport("relationship %s: its did is not the one index %d gives with this identity", e.ID, *e.Index)
			}
			rec.DID, rec.Index, rec.HasDID = e.DID, *e.Index, true
		}
		if err := session.RestoreRecord(tx, colRelationships, e.ID, rec); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, e := range im.in.VRCs {
		if !vault.ValidRecordID(e.ID) || seen[e.ID] {
			return session.BadExport("vrc %q: not a record id, or twice", e.ID)
		}
		seen[e.ID] = true
		if !ids[e.Relationship] {
			return session.BadExport("vrc %s: relationship %q is not in the export", e.ID, e.Relationship)
		}
		switch {
		case e.Direction != AskedByMe && e.Direction != AskedOfMe:
			return session.BadExport("vrc %s: direction %q", e.ID, e.Direction)
		case e.State != VRCRequested && e.State != VRCIssued && e.State != VRCRejected:
			return session.BadExport("vrc %s: state %q", e.ID, e.State)
		case e.Thid == "":
			return session.BadExport("vrc %s: no thid", e.ID)
		}
		rec := vrcRecord{Relationship: e.Relationship, Thid: e.Thid, Direction: string(e.Direction), State: string(e.State), Reason: e.Reason,
			Created: session.Millis(e.Created), Updated: session.Millis(e.Updated)}
		if len(e.Credential) > 0 {
			if _, err := vc.Parse(e.Credential); err != nil {
				return session.BadExport("vrc %s: %v", e.ID, err)
			}
			rec.Credential = e.Credential
		}
		if err := session.RestoreRecord(tx, colVRCs, e.ID, rec); err != nil {
			return err
		}
	}
	return nil
}
