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
)

// The mailbox's letters live in one bbolt file (docs/protocols/mailbox.md,
// "Server storage"):
//
//	meta                     version → 1; total → usage of all recipients
//	recipients               its Sequence numbers every letter ever stored
//	  <did:key…>             one bucket per recipient
//	    usage                count and bytes of the recipient's letters
//	    letters              Seq (8 bytes, big-endian) → letter record
//	    ids                  letter id → Seq, so that an id is stored once
//
// Seqs come from one counter for the whole file, so a Seq is never given to
// two letters, even after a recipient's bucket was emptied and removed:
// removing by Seq can never take a letter deposited later under the same id.
var (
	mailboxBucketMeta       = []byte("meta")
	mailboxBucketRecipients = []byte("recipients")
	mailboxBucketLetters    = []byte("letters")
	mailboxBucketIDs        = []byte("ids")
	mailboxKeyVersion       = []byte("version")
	mailboxKeyTotal         = []byte("total")
	mailboxKeyUsage         = []byte("usage")
)

// mailboxStoreVersion is the layout version in meta; a file of another
// version is refused rather than misread.
const mailboxStoreVersion = 1

// letterOverhead is what each letter costs beyond its envelope in the
// quotas, for its id, keys and index: without it, a flood of one-byte
// letters would fill the disk within a small byte quota.
const letterOverhead = 256

// A letter record is a version byte (1), the deposit time in Unix
// milliseconds (8 bytes, big-endian), the id's length (1 byte), the id, then
// the envelope. It is a fixed binary layout rather than CBOR so that
// expiring old letters reads their time without decoding their envelopes.
const letterRecordVersion = 1

func encodeLetter(id string, deposited time.Time, envelope []byte) []byte {
	b := make([]byte, 0, 10+len(id)+len(envelope))
	b = append(b, letterRecordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(deposited.UnixMilli()))
	b = append(b, byte(len(id)))
	b = append(b, id...)
	return append(b, envelope...)
}

// letterRecord is a decoded record; its slices alias the bytes it was
// decoded from, which bbolt owns only for the transaction.
type letterRecord struct {
	deposited int64
	id        []byte
	envelope  []byte
}

func decodeLetter(b []byte) (letterRecord, error) {
	if len(b) < 10 || b[0] != letterRecordVersion {
		return letterRecord{}, errors.New("mailbox store: letter record of an unknown layout")
	}
	n := int(b[9])
	if len(b) < 10+n {
		return letterRecord{}, errors.New("mailbox store: letter record cut short")
	}
	return letterRecord{
		deposited: int64(binary.BigEndian.Uint64(b[1:9])),
		id:        b[10 : 10+n],
		envelope:  b[10+n:],
	}, nil
}

// cost is what a letter counts against the quotas.
func letterCost(envelope []byte) int64 { return int64(len(envelope)) + letterOverhead }

// letterUsage is a count of letters and the bytes they cost.
type letterUsage struct {
	letters uint64
	bytes   uint64
}

func readLetterUsage(b []byte) letterUsage {
	if len(b) != 16 {
		return letterUsage{}
	}
	return letterUsage{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (u letterUsage) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), u.letters)
	return binary.BigEndian.AppendUint64(b, u.bytes)
}

func (u *letterUsage) add(c int64) { u.letters++; u.bytes += uint64(c) }

func (u *letterUsage) sub(c int64) {
	// Never below zero, whatever the file says.
	if u.letters > 0 {
		u.letters--
	}
	u.bytes -= min(u.bytes, uint64(c))
}

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
	if err != nil {
		return nil, fmt.Errorf("opening the mailbox store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(mailboxBucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(mailboxKeyVersion); v == nil {
			if err := meta.Put(mailboxKeyVersion, []byte{mailboxStoreVersion}); err != nil {
				return err
			}
		} else if len(v) != 1 || v[0] != mailboxStoreVersion {
			return fmt.Errorf("mailbox store has layout version %x, this server reads %d", v, mailboxStoreVersion)
		}
		_, err = tx.CreateBucketIfNotExists(mailboxBucketRecipients)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the mailbox store %s: %w", path, err)
	}
	return &mailboxStore{db: db, cfg: cfg}, nil
}

func (st *mailboxStore) close() error { return st.db.Close() }

// cutoff is the deposit time, in Unix milliseconds, before which letters
// have waited longer than the retention period.
func (st *mailboxStore) cutoff() int64 { return st.cfg.now().Add(-st.cfg.Retention).UnixMilli() }

// Deposit stores envelope for to under id, unless a letter with that id is
// already waiting for to. It refuses with code "full" when the letter would
// take the recipient, or the whole store, over its quota; then nothing is
// stored.
func (st *mailboxStore) Deposit(to did.DID, id string, envelope []byte) error {
	now := st.cfg.now()
	cutoff := st.cutoff()
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
		if _, err := expireRecipient(tx, rb, cutoff); err != nil {
			return err
		}
		if ids.Get([]byte(id)) != nil {
			return nil
		}
		meta := tx.Bucket(mailboxBucketMeta)
		mine, total := readLetterUsage(rb.Get(mailboxKeyUsage)), readLetterUsage(meta.Get(mailboxKeyTotal))
		c := letterCost(envelope)
		switch {
		case mine.letters+1 > uint64(st.cfg.MaxLetters):
			return &mailbox.Error{Code: mailbox.CodeFull,
				Message: fmt.Sprintf("the recipient's mailbox is full: %d letters are waiting", mine.letters)}
		case mine.bytes+uint64(c) > uint64(st.cfg.MaxBytes):
			return &mailbox.Error{Code: mailbox.CodeFull,
				Message: fmt.Sprintf("the recipient's mailbox is full: %d of %d bytes are used", mine.bytes, st.cfg.MaxBytes)}
		case total.bytes+uint64(c) > uint64(st.cfg.MaxTotalBytes):
			return &mailbox.Error{Code: mailbox.CodeFull, Message: "the mailbox server is full"}
		}
		seq, err := recipients.NextSequence()
		if err != nil {
			return err
		}
		key := letterKey(seq)
		if err := letters.Put(key, encodeLetter(id, now, envelope)); err != nil {
			return err
		}
		if err := ids.Put([]byte(id), key); err != nil {
			return err
		}
		mine.add(c)
		total.add(c)
		if err := rb.Put(mailboxKeyUsage, mine.encode()); err != nil {
			return err
		}
		return meta.Put(mailboxKeyTotal, total.encode())
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
			if _, err := expireRecipient(tx, rb, cutoff); err != nil {
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
			if err := removeLetter(tx, rb, letterKey(seq)); err != nil {
				return err
			}
		}
		return dropEmptyRecipient(recipients, rb, name)
	})
}

// removeLetter deletes the letter at key from rb, with its id and its share
// of the usage. A key that is not there is skipped.
func removeLetter(tx *bbolt.Tx, rb *bbolt.Bucket, key []byte) error {
	letters, ids := rb.Bucket(mailboxBucketLetters), rb.Bucket(mailboxBucketIDs)
	v := letters.Get(key)
	if v == nil {
		return nil
	}
	rec, err := decodeLetter(v)
	if err != nil {
		return err
	}
	c := letterCost(rec.envelope)
	if bytes.Equal(ids.Get(rec.id), key) {
		if err := ids.Delete(rec.id); err != nil {
			return err
		}
	}
	if err := letters.Delete(key); err != nil {
		return err
	}
	meta := tx.Bucket(mailboxBucketMeta)
	mine, total := readLetterUsage(rb.Get(mailboxKeyUsage)), readLetterUsage(meta.Get(mailboxKeyTotal))
	mine.sub(c)
	total.sub(c)
	if err := rb.Put(mailboxKeyUsage, mine.encode()); err != nil {
		return err
	}
	return meta.Put(mailboxKeyTotal, total.encode())
}

// expireRecipient deletes rb's letters deposited before cutoff and returns
// how many. Letters are in deposit order, so it stops at the first that is
// young enough (one deposited while the clock was set back waits a little
// longer).
func expireRecipient(tx *bbolt.Tx, rb *bbolt.Bucket, cutoff int64) (int, error) {
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
		if err := removeLetter(tx, rb, k); err != nil {
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
			e, err := expireRecipient(tx, rb, cutoff)
			if err != nil {
				return fmt.Errorf("expiring letters of %s: %w", name, err)
			}
			n += e
			if err := dropEmptyRecipient(recipients, rb, name); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// stats returns the usage of all letters and the number of recipients with
// letters waiting.
func (st *mailboxStore) stats() (total letterUsage, recipients int, err error) {
	err = st.db.View(func(tx *bbolt.Tx) error {
		total = readLetterUsage(tx.Bucket(mailboxBucketMeta).Get(mailboxKeyTotal))
		return tx.Bucket(mailboxBucketRecipients).ForEachBucket(func([]byte) error {
			recipients++
			return nil
		})
	})
	return total, recipients, err
}
