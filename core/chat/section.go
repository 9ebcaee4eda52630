package chat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/identity"
	"planet/core/session"
	"planet/vault"
)

// exported is one chat message in messages.json (docs/export-format.md):
// what it says, for reading, and the signed message, from which an import
// restores it; with its state in the vault that exported it.
type exported struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Text      string    `json:"text"`
	Seq       uint64    `json:"seq"`
	Created   time.Time `json:"created"`
	State     State     `json:"state"`
	Stored    time.Time `json:"stored"`
	Delivered time.Time `json:"delivered,omitzero"`
	Via       string    `json:"via,omitempty"`
	// Signed is a PLANET chat message as signed; DIDComm, instead, the
	// plaintext of a basic message (basic.go). Each entry has one.
	Signed  string `json:"signed,omitempty"`
	DIDComm string `json:"didcomm,omitempty"`
}

// Section is chat's part of the export: messages.json, the chat history,
// read back on import.
func (svc *Service) Section() session.Section { return section{svc} }

type section struct{ svc *Service }

func (sec section) Export(ctx context.Context, _ *session.Session, w *session.Writer) error {
	messages, err := sec.svc.export(ctx)
	if err != nil {
		return err
	}
	w.JSON("messages.json", messages)
	w.Counts.Messages = len(messages)
	return nil
}

// export returns every chat message, conversation by conversation
// (ordered by the other person's DID), each in conversation order.
func (svc *Service) export(ctx context.Context) ([]exported, error) {
	all, err := svc.messages(ctx)
	if err != nil {
		return nil, err
	}
	byPeer := map[did.DID][]Message{}
	var peers []string
	for _, c := range all {
		if _, ok := byPeer[c.Peer()]; !ok {
			peers = append(peers, c.Peer().String())
		}
		byPeer[c.Peer()] = append(byPeer[c.Peer()], c)
	}
	sort.Strings(peers)
	out := make([]exported, 0, len(all))
	for _, peer := range peers {
		d, err := did.Parse(peer)
		if err != nil {
			return nil, err
		}
		for _, c := range conversationOrder(byPeer[d]) {
			out = append(out, exported{
				ID: c.ID, From: c.From.String(), To: c.To.String(), Text: c.Text, Seq: c.Seq,
				Created: c.Created, State: c.State, Stored: c.Stored, Delivered: c.Delivered,
				Via: c.Via, Signed: string(c.Signed), DIDComm: string(c.Plain),
			})
		}
	}
	return out, nil
}

func (section) Import() session.SectionImport { return &sectionImport{} }

type sectionImport struct{ messages []exported }

func (im *sectionImport) Claims(name string) bool { return name == "messages.json" }

func (im *sectionImport) Entry(_ context.Context, e session.Entry) error {
	return e.JSON(&im.messages)
}

func (im *sectionImport) Restore(tx *vault.Tx, id *identity.Identity, counts *session.Counts) error {
	if err := restore(tx, id, im.messages); err != nil {
		return err
	}
	counts.Messages = len(im.messages)
	return nil
}

// restore restores the chat messages of messages.json. Each is restored
// from its signed form, which is parsed, not verified again (the archive is
// authenticated as a whole, and a message kept long ago may have expired
// since); the state and times come from the entry.
func restore(tx *vault.Tx, id *identity.Identity, messages []exported) error {
	seen := map[string]bool{}
	for i, e := range messages {
		refuse := func(format string, a ...any) error {
			return session.BadExport("messages.json: message %d: %s", i+1, fmt.Sprintf(format, a...))
		}
		if e.Signed == "" {
			rec, from, err := restoreBasic(id, e)
			if err != nil {
				return refuse("%v", err)
			}
			recID := messageRecordID(rec.ID, from)
			if seen[recID] {
				return refuse("it appears twice")
			}
			seen[recID] = true
			b, err := vault.MarshalCBOR(rec)
			if err != nil {
				return err
			}
			tx.Put(colMessages, recID, b)
			continue
		}
		sm, err := didcomm.ParseSigned([]byte(e.Signed))
		if err != nil {
			return refuse("%v", err)
		}
		m := sm.Message
		body, err := readChat(m)
		if err != nil {
			return refuse("%v", err)
		}
		outgoing := m.From == id.DID()
		switch {
		case outgoing && (e.State == Queued || e.State == Sent || e.State == Delivered):
		case !outgoing && m.To[0] == id.DID() && e.State == Received:
		default:
			return refuse("a %q message from %s to %s is not one of this person's", e.State, m.From, m.To[0])
		}
		if e.Via != "" && !OnStream(e.Via) && e.Via != ViaMailbox {
			return refuse("unknown way it travelled %q", e.Via)
		}
		recID := messageRecordID(m.ID, m.From)
		if seen[recID] {
			return refuse("it appears twice")
		}
		seen[recID] = true
		rec := messageRecord{
			ID: m.ID, From: m.From.String(), To: m.To[0].String(), Text: body.Text, Seq: body.Seq,
			Created: session.Millis(m.Created), State: e.State, Stored: session.Millis(e.Stored), Via: e.Via,
			Signed: []byte(e.Signed),
		}
		if !e.Delivered.IsZero() {
			rec.Delivered = session.Millis(e.Delivered)
		}
		b, err := vault.MarshalCBOR(rec)
		if err != nil {
			return err
		}
		tx.Put(colMessages, recID, b)
		if outgoing && e.State != Delivered { // queued or sent: in the outbox
			entry, err := vault.MarshalCBOR(outboxRecord{ID: m.ID})
			if err != nil {
				return err
			}
			tx.Put(colOutbox, recID, entry)
		}
	}
	return nil
}

// restoreBasic reads a basic message of messages.json from its plaintext,
// parsed and checked as on arrival but for its dates (it may have been
// kept long ago): one of the person's own, sent, or one to them, received.
func restoreBasic(id *identity.Identity, e exported) (*messageRecord, did.DID, error) {
	if e.DIDComm == "" {
		return nil, did.DID{}, errors.New(`it has neither "signed" nor "didcomm"`)
	}
	p, err := didcomm.ParsePlaintext([]byte(e.DIDComm))
	if err != nil {
		return nil, did.DID{}, err
	}
	if p.From.IsZero() || len(p.To) != 1 {
		return nil, did.DID{}, errors.New("a basic message in an export names its sender and one recipient")
	}
	outgoing := id.Owns(p.From)
	me := p.To[0]
	switch {
	case outgoing && (e.State == Sent || e.State == Delivered && OnStream(e.Via)):
		me = p.From
		if id.Owns(p.To[0]) {
			return nil, did.DID{}, errors.New("a basic message from the person to themselves")
		}
	case !outgoing && id.Owns(me) && e.State == Received:
	default:
		return nil, did.DID{}, fmt.Errorf("a %q basic message from %s to %s is not one of this person's", e.State, p.From, p.To[0])
	}
	if outgoing {
		// readBasic checks the recipient is me; a sent message's is the other.
		me = p.To[0]
	}
	text, err := readBasic(p, me)
	if err != nil {
		return nil, did.DID{}, err
	}
	if e.Via != "" && e.Via != ViaDIDComm && !OnStream(e.Via) {
		return nil, did.DID{}, fmt.Errorf("unknown way of arrival %q for a basic message", e.Via)
	}
	return &messageRecord{
		ID: p.ID, From: p.From.String(), To: p.To[0].String(), Text: text,
		Created: session.Millis(p.Created), State: e.State, Stored: session.Millis(e.Stored), Via: e.Via,
		Plain: []byte(e.DIDComm),
	}, p.From, nil
}
