package contacts

import (
	"context"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
)

// exported is a contact in contacts.json (docs/export-format.md).
type exported struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	DID     string    `json:"did"`
	Notes   string    `json:"notes"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// What the trust network knows of the contact (see Contact); absent for
	// a contact typed in by hand.
	Relays       []string   `json:"relays,omitempty"`
	Origin       string     `json:"origin,omitempty"`
	IntroducedBy string     `json:"introducedBy,omitempty"`
	Connected    *time.Time `json:"connected,omitempty"`
	SharingGraph bool       `json:"sharingGraph,omitempty"`
}

// Section is the address book's part of the export: contacts.json, read
// back on import, and contacts.vcf, the same contacts as vCard 4.0 for
// address books.
func (cs *Service) Section() session.Section { return section{cs} }

type section struct{ cs *Service }

func (sec section) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	contacts, err := sec.cs.List(ctx)
	if err != nil {
		return err
	}
	out := make([]exported, len(contacts))
	for i, c := range contacts {
		out[i] = exported{ID: c.ID, Name: c.Name, DID: c.DID.String(), Notes: c.Notes, Created: c.Created, Updated: c.Updated,
			Relays: c.Relays, Origin: string(c.Origin), IntroducedBy: c.IntroducedBy.String(), SharingGraph: c.SharingGraph}
		if c.IsConnected() {
			out[i].Connected = &c.Connected
		}
	}
	w.JSON("contacts.json", out)
	w.Bytes("contacts.vcf", vCards(contacts))
	w.Counts.Contacts = len(contacts)
	return nil
}

func (section) Import() session.SectionImport { return &sectionImport{} }

type sectionImport struct{ contacts []exported }

func (im *sectionImport) Claims(name string) bool { return name == "contacts.json" }

func (im *sectionImport) Entry(_ context.Context, e session.Entry) error { return e.JSON(&im.contacts) }

func (im *sectionImport) Restore(tx *vault.Tx, _ *identity.Identity, counts *session.Counts) error {
	for _, c := range im.contacts {
		in, d, err := Input{Name: c.Name, DID: c.DID, Notes: c.Notes}.check()
		if err != nil {
			return session.BadExport("contact %q: %v", c.Name, err)
		}
		rec := record{Name: in.Name, DID: d.String(), Notes: in.Notes, Created: session.Millis(c.Created), Updated: session.Millis(c.Updated),
			Relays: CleanRelays(c.Relays), SharingGraph: c.SharingGraph}
		switch o := Origin(c.Origin); o {
		case "", OriginInvitedMe, OriginInvitedByMe, OriginIntroduced, OriginRelationship:
			rec.Origin = string(o)
		default:
			return session.BadExport("contact %q: unknown origin %q", c.Name, c.Origin)
		}
		if c.IntroducedBy != "" {
			d, err := did.Parse(c.IntroducedBy)
			if err != nil {
				return session.BadExport("contact %q: introducedBy: %v", c.Name, err)
			}
			rec.IntroducedBy = d.String()
		}
		if c.Connected != nil {
			rec.Connected = session.Millis(*c.Connected)
		}
		if err := session.RestoreRecord(tx, Collection, c.ID, rec); err != nil {
			return err
		}
	}
	counts.Contacts = len(im.contacts)
	return nil
}
