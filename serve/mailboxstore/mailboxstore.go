package mailboxstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"planet/core/did"
	"planet/core/mailbox"
	"planet/serve/quota"
)

// The mailbox's letters live in one bbolt file (docs/protocols/mailbox.md,
// "Server storage"):
//
//	meta                     version → 2
//	recipients               its Sequence numbers every letter ever stored
//	  <did:key…>             one bucket per recipient
//	    letters              Seq (8 bytes, big-endian) → letter record
//	    ids                  letter id → Seq, so that an id is stored once
//	quota                    counter name → usage (package quota's counters)
//	tokens                   the deposit tokens recipients registered
//	  <did:key…>             "at" → when (Unix ms); token hash → ""
//
// Version 1 (before deposit tokens) kept a usage per recipient and a total
// in meta instead of the quota bucket; opening such a file migrates it
// (migrateV1).
//
// Seqs come from one counter for the whole file, so a Seq is never given to
// two letters, even after a recipient's bucket was emptied and removed:
// removing by Seq can never take a letter deposited later under the same id.
var (
	mailboxBucketMeta       = []byte("meta")
	mailboxBucketRecipients = []byte("recipients")
	mailboxBucketLetters    = []byte("letters")
	mailboxBucketIDs        = []byte("ids")
	mailboxBucketQuota      = []byte("quota")
	mailboxBucketTokens     = []byte("tokens")
	mailboxKeyVersion       = []byte("version")
	mailboxKeyAt            = []byte("at")
	// Version 1 only, dropped by the migration.
	mailboxKeyTotal = []byte("total")
	mailboxKeyUsage = []byte("usage")
)

// mailboxStoreVersion is the layout version in meta. A file of version 1
// is migrated on open; one of a later version is refused rather than
// misread.
const mailboxStoreVersion = 2

// letterOverhead is what each letter costs beyond its envelope in the
// quotas, for its id, keys and index: without it, a flood of one-byte
// letters would fill the disk within a small byte quota.
const letterOverhead = 256

// A letter record is a version byte, the deposit time in Unix milliseconds
// (8 bytes, big-endian), the id's length (1 byte) and the id; in version 2,
// then the sender's length (1 byte) and the sender (a peer ID as text, ""
// for none), the contact token hash's length (1 byte: 0 for a stranger's
// letter, else 32) and the hash; then the envelope. Version 1 records
// (written before deposit tokens) have no sender and no hash and read as a
// stranger's letters from an unnamed sender. It is a fixed binary layout
// rather than CBOR so that expiring old letters reads their time without
// decoding their envelopes.
const (
	letterRecordV1 = 1
	letterRecordV2 = 2
)

func encodeLetter(in mailbox.Incoming, contact []byte, deposited time.Time) []byte {
	b := make([]byte, 0, 12+len(in.ID)+len(in.Sender)+len(contact)+len(in.Envelope))
	b = append(b, letterRecordV2)
	b = binary.BigEndian.AppendUint64(b, uint64(deposited.UnixMilli()))
	b = append(b, byte(len(in.ID)))
	b = append(b, in.ID...)
	b = append(b, byte(len(in.Sender)))
	b = append(b, in.Sender...)
	b = append(b, byte(len(contact)))
	b = append(b, contact...)
	return append(b, in.Envelope...)
}

// letterRecord is a decoded record; its slices alias the bytes it was
// decoded from, which bbolt owns only for the transaction.
type letterRecord struct {
	deposited int64
	id        []byte
	sender    []byte
	contact   []byte // nil for a stranger's letter
	envelope  []byte
}

func decodeLetter(b []byte) (letterRecord, error) {
	if len(b) < 10 || b[0] != letterRecordV1 && b[0] != letterRecordV2 {
		return letterRecord{}, errors.New("mailbox store: letter record of an unknown layout")
	}
	r := letterRecord{deposited: int64(binary.BigEndian.Uint64(b[1:9]))}
	rest := b[9:]
	field := func() ([]byte, bool) {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, false
		}
		f := rest[1 : 1+int(rest[0])]
		rest = rest[1+int(rest[0]):]
		return f, true
	}
	var ok bool
	if r.id, ok = field(); !ok {
		return letterRecord{}, errors.New("mailbox store: letter record cut short")
	}
	if b[0] == letterRecordV2 {
		if r.sender, ok = field(); !ok {
			return letterRecord{}, errors.New("mailbox store: letter record cut short")
		}
		if r.contact, ok = field(); !ok {
			return letterRecord{}, errors.New("mailbox store: letter record cut short")
		}
		if len(r.contact) == 0 {
			r.contact = nil
		} else if len(r.contact) != mailbox.TokenSize {
			return letterRecord{}, errors.New("mailbox store: letter record with a bad token hash")
		}
	}
	r.envelope = rest
	return r, nil
}

// item is what the quota policy charges for the letter of rec, to to.
func (rec letterRecord) item(to []byte) quota.Item {
	return quota.Item{Recipient: string(to), Sender: string(rec.sender), Contact: rec.contact, Cost: letterCost(rec.envelope)}
}

// letterCost is what a letter counts against the quotas.
func letterCost(envelope []byte) uint64 { return uint64(len(envelope)) + letterOverhead }

// ledger is the quota bucket as a quota.Ledger, inside a transaction.
type ledger struct{ b *bbolt.Bucket }

var _ quota.Ledger = ledger{}

func (l ledger) Usage(key string) (quota.Usage, error) {
	v := l.b.Get([]byte(key))
	if v == nil {
		return quota.Usage{}, nil
	}
	if len(v) != 16 {
		return quota.Usage{}, fmt.Errorf("mailbox store: quota counter %q of %d bytes", key, len(v))
	}
	return quota.Usage{Items: binary.BigEndian.Uint64(v[:8]), Bytes: binary.BigEndian.Uint64(v[8:])}, nil
}

func (l ledger) SetUsage(key string, u quota.Usage) error {
	if u == (quota.Usage{}) {
		return l.b.Delete([]byte(key))
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), u.Items)
	return l.b.Put([]byte(key), binary.BigEndian.AppendUint64(v, u.Bytes))
}

func ledgerOf(tx *bbolt.Tx) ledger { return ledger{tx.Bucket(mailboxBucketQuota)} }

func letterKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// mailboxStore is the bbolt store of a mailbox server.
type mailboxStore struct {
	db  *bbolt.DB
	cfg Config
}

var _ mailbox.Store = (*mailboxStore)(nil)

// openMailboxStore opens (creating it if need be) the store at path. cfg
// must have its defaults applied.
func openMailboxStore(path string, cfg Config) (*mailboxStore, error) {
	// A timeout, so that a second server on the same file fails at once
	// instead of waiting for the first one's lock forever.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("the mailbox store %s is in use by another server on the same data directory: stop that one, or give this one its own -data", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the mailbox store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(mailboxBucketMeta)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{mailboxBucketRecipients, mailboxBucketQuota, mailboxBucketTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		switch v := meta.Get(mailboxKeyVersion); {
		case v == nil:
		case len(v) == 1 && v[0] == 1:
			if err := migrateV1(tx, cfg.Quota); err != nil {
				return fmt.Errorf("migrating from layout version 1: %w", err)
			}
		case len(v) != 1 || v[0] != mailboxStoreVersion:
			return fmt.Errorf("mailbox store has layout version %x, this server reads %d", v, mailboxStoreVersion)
		}
		return meta.Put(mailboxKeyVersion, []byte{mailboxStoreVersion})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the mailbox store %s: %w", path, err)
	}
	return &mailboxStore{db: db, cfg: cfg}, nil
}

func (st *mailboxStore) close() error { return st.db.Close() }

// migrateV1 turns a file of layout version 1 into version 2: its letters
// stay as they are (their records read as strangers' letters from an
// unnamed sender), and the quota counters are computed from them, whatever
// the limits say; the per-recipient usage and the total go.
func migrateV1(tx *bbolt.Tx, p quota.Policy) error {
	recipients := tx.Bucket(mailboxBucketRecipients)
	l := ledgerOf(tx)
	err := recipients.ForEachBucket(func(name []byte) error {
		rb := recipients.Bucket(name)
		if err := rb.Delete(mailboxKeyUsage); err != nil {
			return err
		}
		letters := rb.Bucket(mailboxBucketLetters)
		if letters == nil {
			return nil
		}
		return letters.ForEach(func(k, v []byte) error {
			rec, err := decodeLetter(v)
			if err != nil {
				return fmt.Errorf("letter %x of %s: %w", k, name, err)
			}
			return p.Force(l, rec.item(name))
		})
	})
	if err != nil {
		return err
	}
	return tx.Bucket(mailboxBucketMeta).Delete(mailboxKeyTotal)
}

// Register replaces the deposit token hashes to registered (see
// mailbox.TokenStore), and notes when: registrations older than the
// retention period are dropped, since the recipient registers again at
// every pickup.
func (st *mailboxStore) Register(to did.DID, hashes [][]byte) error {
	now := st.cfg.now()
	return st.db.Update(func(tx *bbolt.Tx) error {
		tokens := tx.Bucket(mailboxBucketTokens)
		name := []byte(to.String())
		if tokens.Bucket(name) != nil {
			if err := tokens.DeleteBucket(name); err != nil {
				return err
			}
		}
		if len(hashes) == 0 {
			return nil
		}
		tb, err := tokens.CreateBucket(name)
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if len(h) != mailbox.TokenSize {
				return fmt.Errorf("mailbox store: a token hash of %d bytes", len(h))
			}
			if err := tb.Put(h, nil); err != nil {
				return err
			}
		}
		return tb.Put(mailboxKeyAt, binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli())))
	})
}

// registered reports whether to registered the token hash h.
func registered(tx *bbolt.Tx, to []byte, h []byte) bool {
	if len(h) != mailbox.TokenSize {
		return false
	}
	tb := tx.Bucket(mailboxBucketTokens).Bucket(to)
	return tb != nil && tb.Get(h) != nil
}

// cutoff is the deposit time, in Unix milliseconds, before which letters
// have waited longer than the retention period.
func (st *mailboxStore) cutoff() int64 { return st.cfg.now().Add(-st.cfg.Retention).UnixMilli() }

// Deposit stores in.Envelope for in.To under in.ID, unless a letter with
// that id is already waiting for in.To. The letter is a contact's if its
// token hash is one in.To registered, otherwise a stranger's, and is
// charged to the quota counters of its kind (package quota); it is refused
// with code "full" when it would take one of them over its limit, and then
// nothing is stored.
func (st *mailboxStore) Deposit(in mailbox.Incoming) error {
	now := st.cfg.now()
	cutoff := st.cutoff()
	to, id, envelope := in.To, in.ID, in.Envelope
	return st.db.Update(func(tx *bbolt.Tx) error {
		recipients := tx.Bucket(mailboxBucketRecipients)
		rb, err := recipients.CreateBucketIfNotExists([]byte(to.String()))
		if err != nil {
			return err
		}
		letters, err := rb.CreateBucketIfNotExists(mailboxBucketLetters)
		if err != nil {
			return err
		}
		ids, err := rb.CreateBucketIfNotExists(mailboxBucketIDs)
		if err != nil {
			return err
		}
		// Letters past their time hold no quota.
		if _, err := st.expireRecipient(tx, []byte(to.String()), rb, cutoff); err != nil {
			return err
		}
		if ids.Get([]byte(id)) != nil {
			return nil
		}
		var contact []byte
		if registered(tx, []byte(to.String()), in.Token) {
			contact = in.Token
		}
		it := quota.Item{Recipient: to.String(), Sender: in.Sender, Contact: contact, Cost: letterCost(envelope)}
		if err := st.cfg.Quota.Charge(ledgerOf(tx), it); err != nil {
			var full *quota.FullError
			if errors.As(err, &full) {
				return &mailbox.Error{Code: mailbox.CodeFull, Message: full.Error()}
			}
			return err
		}
		seq, err := recipients.NextSequence()
		if err != nil {
			return err
		}
		key := letterKey(seq)
		if err := letters.Put(key, encodeLetter(in, contact, now)); err != nil {
			return err
		}
		return ids.Put([]byte(id), key)
	})
}

// Waiting returns up to limit of to's letters after Seq after, in deposit
// order, within maxBytes of envelopes (the first letter whatever its size),
// leaving out (and then deleting) those past the retention period. Only
// the letters returned are copied out of the file.
func (st *mailboxStore) Waiting(to did.DID, after uint64, limit, maxBytes int) (_ []mailbox.StoredLetter, more bool, _ error) {
	cutoff := st.cutoff()
	var out []mailbox.StoredLetter
	expired := false
	size := 0
	err := st.db.View(func(tx *bbolt.Tx) error {
		rb := tx.Bucket(mailboxBucketRecipients).Bucket([]byte(to.String()))
		if rb == nil {
			return nil
		}
		c := rb.Bucket(mailboxBucketLetters).Cursor()
		for k, v := c.Seek(letterKey(after + 1)); k != nil; k, v = c.Next() {
			rec, err := decodeLetter(v)
			if err != nil {
				return fmt.Errorf("letter %x of %s: %w", k, to, err)
			}
			if rec.deposited < cutoff {
				expired = true
				continue
			}
			if size += len(rec.envelope); len(out) == limit || len(out) > 0 && size > maxBytes {
				more = true
				break
			}
			out = append(out, mailbox.StoredLetter{
				Seq: binary.BigEndian.Uint64(k),
				Letter: mailbox.Letter{
					ID:        string(rec.id),
					Envelope:  bytes.Clone(rec.envelope),
					Deposited: time.UnixMilli(rec.deposited).UTC(),
				},
			})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if expired {
		err = st.db.Update(func(tx *bbolt.Tx) error {
			recipients := tx.Bucket(mailboxBucketRecipients)
			rb := recipients.Bucket([]byte(to.String()))
			if rb == nil {
				return nil
			}
			if _, err := st.expireRecipient(tx, []byte(to.String()), rb, cutoff); err != nil {
				return err
			}
			return dropEmptyRecipient(recipients, rb, []byte(to.String()))
		})
	}
	return out, more, err
}

// Remove deletes to's letters with the given Seqs.
func (st *mailboxStore) Remove(to did.DID, seqs []uint64) error {
	name := []byte(to.String())
	return st.db.Update(func(tx *bbolt.Tx) error {
		recipients := tx.Bucket(mailboxBucketRecipients)
		rb := recipients.Bucket(name)
		if rb == nil {
			return nil
		}
		for _, seq := range seqs {
			if err := st.removeLetter(tx, name, rb, letterKey(seq)); err != nil {
				return err
			}
		}
		return dropEmptyRecipient(recipients, rb, name)
	})
}

// removeLetter deletes the letter at key from rb (the bucket of recipient
// to), with its id and its share of the quota counters. A key that is not
// there is skipped.
func (st *mailboxStore) removeLetter(tx *bbolt.Tx, to []byte, rb *bbolt.Bucket, key []byte) error {
	letters, ids := rb.Bucket(mailboxBucketLetters), rb.Bucket(mailboxBucketIDs)
	v := letters.Get(key)
	if v == nil {
		return nil
	}
	rec, err := decodeLetter(v)
	if err != nil {
		return err
	}
	if err := st.cfg.Quota.Refund(ledgerOf(tx), rec.item(to)); err != nil {
		return err
	}
	if bytes.Equal(ids.Get(rec.id), key) {
		if err := ids.Delete(rec.id); err != nil {
			return err
		}
	}
	return letters.Delete(key)
}

// expireRecipient deletes rb's letters deposited before cutoff and returns
// how many. Letters are in deposit order, so it stops at the first that is
// young enough (one deposited while the clock was set back waits a little
// longer).
func (st *mailboxStore) expireRecipient(tx *bbolt.Tx, to []byte, rb *bbolt.Bucket, cutoff int64) (int, error) {
	var old [][]byte
	c := rb.Bucket(mailboxBucketLetters).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		rec, err := decodeLetter(v)
		if err != nil {
			return 0, err
		}
		if rec.deposited >= cutoff {
			break
		}
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := st.removeLetter(tx, to, rb, k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// dropEmptyRecipient removes a recipient's bucket once no letter waits in it.
func dropEmptyRecipient(recipients, rb *bbolt.Bucket, name []byte) error {
	if k, _ := rb.Bucket(mailboxBucketLetters).Cursor().First(); k != nil {
		return nil
	}
	return recipients.DeleteBucket(name)
}

// expireAll deletes every letter past the retention period and returns how
// many.
func (st *mailboxStore) expireAll() (int, error) {
	cutoff := st.cutoff()
	n := 0
	err := st.db.Update(func(tx *bbolt.Tx) error {
		recipients := tx.Bucket(mailboxBucketRecipients)
		var names [][]byte
		if err := recipients.ForEachBucket(func(k []byte) error {
			names = append(names, bytes.Clone(k))
			return nil
		}); err != nil {
			return err
		}
		for _, name := range names {
			rb := recipients.Bucket(name)
			e, err := st.expireRecipient(tx, name, rb, cutoff)
			if err != nil {
				return fmt.Errorf("expiring letters of %s: %w", name, err)
			}
			n += e
			if err := dropEmptyRecipient(recipients, rb, name); err != nil {
				return err
			}
		}
		// Registrations of recipients who have not come back.
		tokens := tx.Bucket(mailboxBucketTokens)
		var stale [][]byte
		if err := tokens.ForEachBucket(func(k []byte) error {
			at := tokens.Bucket(k).Get(mailboxKeyAt)
			if len(at) != 8 || int64(binary.BigEndian.Uint64(at)) < cutoff {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range stale {
			if err := tokens.DeleteBucket(k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// stats returns the usage of all letters and the number of recipients with
// letters waiting.
func (st *mailboxStore) stats() (total quota.Usage, recipients int, err error) {
	err = st.db.View(func(tx *bbolt.Tx) error {
		l := ledgerOf(tx)
		for _, k := range []string{quota.KeyContacts, quota.KeyStrangers} {
			u, err := l.Usage(k)
			if err != nil {
				return err
			}
			total.Items += u.Items
			total.Bytes += u.Bytes
		}
		return tx.Bucket(mailboxBucketRecipients).ForEachBucket(func([]byte) error {
			recipients++
			return nil
		})
	})
	return total, recipients, err
}
