package mediator

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The store is one bbolt file (<data>/mediator.db). Its layout, version 1:
//
//	meta     "version" → 1
//	grants   client DID → granted at (8 bytes, big-endian Unix milliseconds)
//	routes   recipient DID → client DID: whose queue a forward for it joins
//	keylists client DID → bucket: recipient DID → empty
//	queues   client DID → bucket: seq (8 bytes, big-endian) → message record
//	usage    client DID → messages (8 bytes) ‖ bytes (8 bytes); the key 0x00
//	         holds the same for all clients
//	senders  client DID ‖ 0x00 ‖ sender → messages ‖ bytes, what one sender
//	         has waiting in that client's queue
//
// A message record is received at (8 bytes, Unix milliseconds) ‖ the length
// of the recipient DID (2 bytes) ‖ the recipient DID ‖ the length of the
// sender (2 bytes) ‖ the sender ‖ the message, an encrypted DIDComm message
// exactly as the forward carried it. The sender is the DID whose key the
// message's authcrypt header names (skid), or "" when it names none
// (anoncrypt): see senderOf. A message's
// id, as messagepickup shows it, is the base64url of its seq: opaque to the
// client, unique within the client's queue, and found without an index.
//
// Messages are kept per client rather than per recipient DID because a
// pickup's acknowledgement names only ids, and a client picks up for all
// its DIDs at once; the recipient DID in the record answers the optional
// recipient_did filters.

var (
	bucketMeta     = []byte("meta")
	bucketGrants   = []byte("grants")
	bucketRoutes   = []byte("routes")
	bucketKeylists = []byte("keylists")
	bucketQueues   = []byte("queues")
	bucketUsage    = []byte("usage")
	bucketSenders  = []byte("senders")

	keyVersion = []byte("version")
)

const storeVersion = 1

// Errors of the store, which the protocols turn into their answers.
var (
	// errQueueFull: the client's queue is at its limit, or the store is.
	errQueueFull = errors.New("the recipient's queue is full")
	// errSenderFull: the sender has as much waiting for the client as one
	// sender may (errQueueFull too, for callers that do not tell them apart).
	errSenderFull = fmt.Errorf("%w for this sender: as much of theirs waits as one sender may leave", errQueueFull)
	// errNoRoute: no client registered the forward's next DID.
	errNoRoute = errors.New("no recipient here has that DID")
	// errTaken: another client registered the DID first.
	errTaken = errors.New("another client registered that DID")
)

// usage is how much a queue holds.
type usage struct {
	messages, bytes uint64
}

func readUsage(b []byte) usage {
	if len(b) != 16 {
		return usage{}
	}
	return usage{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

func (u usage) encode() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, u.messages), u.bytes)
}

// messageOverhead is what a stored message counts beyond its bytes: the
// record's header and bbolt's keys and page slack, so that a flood of tiny
// messages reaches the limit too.
const messageOverhead = 256

func messageCost(msg []byte) uint64 { return uint64(len(msg)) + messageOverhead }

// queued is one message waiting in a client's queue.
type queued struct {
	ID        string
	Recipient string
	Sender    string
	Received  time.Time
	Message   []byte
}

func messageID(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, seq))
}

func messageSeq(id string) (uint64, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil || len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

func encodeRecord(received time.Time, recipient, sender string, msg []byte) []byte {
	b := make([]byte, 0, 12+len(recipient)+len(sender)+len(msg))
	b = binary.BigEndian.AppendUint64(b, uint64(received.UnixMilli()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(recipient)))
	b = append(b, recipient...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sender)))
	b = append(b, sender...)
	return append(b, msg...)
}

func decodeRecord(seq uint64, v []byte) (queued, error) {
	if len(v) < 10 {
		return queued{}, fmt.Errorf("mediator store: message %d: record of %d bytes", seq, len(v))
	}
	n := int(binary.BigEndian.Uint16(v[8:]))
	if len(v) < 12+n {
		return queued{}, fmt.Errorf("mediator store: message %d: recipient runs past the record", seq)
	}
	m := 10 + n
	ns := int(binary.BigEndian.Uint16(v[m:]))
	if len(v) < m+2+ns {
		return queued{}, fmt.Errorf("mediator store: message %d: sender runs past the record", seq)
	}
	return queued{
		ID:        messageID(seq),
		Received:  time.UnixMilli(int64(binary.BigEndian.Uint64(v))),
		Recipient: string(v[10:m]),
		Sender:    string(v[m+2 : m+2+ns]),
		// Copied: bbolt's bytes are valid only inside the transaction.
		Message: append([]byte(nil), v[m+2+ns:]...),
	}, nil
}

// store is the mediator's bbolt file.
type store struct {
	db  *bbolt.DB
	cfg Config
}

func openStore(path string, cfg Config) (*store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("mediator store %s is in use by another server on the same data directory: stop it, or give this one its own -data", path)
		}
		return nil, fmt.Errorf("opening the mediator store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketGrants, bucketRoutes, bucketKeylists, bucketQueues, bucketUsage, bucketSenders} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyVersion); {
		case v == nil:
			return meta.Put(keyVersion, []byte{storeVersion})
		case len(v) != 1 || v[0] != storeVersion:
			return fmt.Errorf("mediator store %s has layout version %v; this server reads version %d", path, v, storeVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &store{db: db, cfg: cfg}, nil
}

func (st *store) close() error { return st.db.Close() }

// grant records that client may use the mediator; granting twice is not
// an error.
func (st *store) grant(client string, at time.Time) error {
	return st.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketGrants)
		if b.Get([]byte(client)) != nil {
			return nil
		}
		if st.cfg.MaxClients > 0 && b.Stats().KeyN >= st.cfg.MaxClients {
			return errQueueFull
		}
		return b.Put([]byte(client), binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())))
	})
}

func (st *store) granted(client string) (bool, error) {
	var ok bool
	err := st.db.View(func(tx *bbolt.Tx) error {
		ok = tx.Bucket(bucketGrants).Get([]byte(client)) != nil
		return nil
	})
	return ok, err
}

// keylistUpdate result values, as coordinate-mediation names them.
const (
	resultSuccess     = "success"
	resultNoChange    = "no_change"
	resultClientError = "client_error"
	resultServerError = "server_error"
)

// addKey routes forwards for recipient to client's queue.
func (st *store) addKey(client, recipient string) (string, error) {
	result := resultSuccess
	err := st.db.Update(func(tx *bbolt.Tx) error {
		routes := tx.Bucket(bucketRoutes)
		switch owner := routes.Get([]byte(recipient)); {
		case owner == nil:
		case string(owner) == client:
			result = resultNoChange
			return nil
		default:
			return errTaken
		}
		list, err := tx.Bucket(bucketKeylists).CreateBucketIfNotExists([]byte(client))
		if err != nil {
			return err
		}
		if st.cfg.MaxKeys > 0 && list.Stats().KeyN >= st.cfg.MaxKeys {
			return fmt.Errorf("a client may register at most %d DIDs", st.cfg.MaxKeys)
		}
		if err := list.Put([]byte(recipient), nil); err != nil {
			return err
		}
		return routes.Put([]byte(recipient), []byte(client))
	})
	return result, err
}

// removeKey stops routing forwards for recipient to client. Messages
// already queued for it stay until picked up or expired.
func (st *store) removeKey(client, recipient string) (string, error) {
	result := resultSuccess
	err := st.db.Update(func(tx *bbolt.Tx) error {
		routes := tx.Bucket(bucketRoutes)
		if string(routes.Get([]byte(recipient))) != client {
			result = resultNoChange
			return nil
		}
		if list := tx.Bucket(bucketKeylists).Bucket([]byte(client)); list != nil {
			if err := list.Delete([]byte(recipient)); err != nil {
				return err
			}
		}
		return routes.Delete([]byte(recipient))
	})
	return result, err
}

// keys returns client's registered DIDs in byte order, offset and limit
// applied, and how many there are in all.
func (st *store) keys(client string, offset, limit int) (keys []string, total int, err error) {
	err = st.db.View(func(tx *bbolt.Tx) error {
		list := tx.Bucket(bucketKeylists).Bucket([]byte(client))
		if list == nil {
			return nil
		}
		i := 0
		return list.ForEach(func(k, _ []byte) error {
			if i >= offset && len(keys) < limit {
				keys = append(keys, string(k))
			}
			i++
			total = i
			return nil
		})
	})
	return keys, total, err
}

// route returns the client whose queue takes messages for recipient.
func (st *store) route(recipient string) (string, error) {
	var client string
	err := st.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRoutes).Get([]byte(recipient))
		if c == nil {
			return errNoRoute
		}
		client = string(c)
		return nil
	})
	return client, err
}

// enqueue adds msg for recipient to client's queue, within the limits,
// and returns its id.
func (st *store) enqueue(client, recipient, sender string, msg []byte, at time.Time) (string, error) {
	var id string
	err := st.db.Update(func(tx *bbolt.Tx) error {
		usageB := tx.Bucket(bucketUsage)
		u := readUsage(usageB.Get([]byte(client)))
		total := readUsage(usageB.Get(totalKey))
		sendersB := tx.Bucket(bucketSenders)
		sk := senderKey(client, sender)
		su := readUsage(sendersB.Get(sk))
		cost := messageCost(msg)
		if u.messages+1 > uint64(st.cfg.MaxMessages) || u.bytes+cost > uint64(st.cfg.MaxBytes) ||
			total.bytes+cost > uint64(st.cfg.MaxTotalBytes) {
			return errQueueFull
		}
		if su.messages+1 > uint64(st.cfg.MaxPerSender) || su.bytes+cost > uint64(st.cfg.MaxBytesPerSender) {
			return errSenderFull
		}
		su.messages++
		su.bytes += cost
		if err := sendersB.Put(sk, su.encode()); err != nil {
			return err
		}
		q, err := tx.Bucket(bucketQueues).CreateBucketIfNotExists([]byte(client))
		if err != nil {
			return err
		}
		seq, err := q.NextSequence()
		if err != nil {
			return err
		}
		if err := q.Put(binary.BigEndian.AppendUint64(nil, seq), encodeRecord(at, recipient, sender, msg)); err != nil {
			return err
		}
		u.messages++
		u.bytes += cost
		total.messages++
		total.bytes += cost
		id = messageID(seq)
		return putUsage(usageB, client, u, total)
	})
	return id, err
}

// totalKey is the usage bucket's key for the whole store: no DID is empty.
var totalKey = []byte{0}

func putUsage(b *bbolt.Bucket, client string, u, total usage) error {
	if err := b.Put([]byte(client), u.encode()); err != nil {
		return err
	}
	return b.Put(totalKey, total.encode())
}

// waiting returns up to limit messages of client's queue, oldest first,
// holding at most maxBytes of messages (but always at least one, if any
// waits and it fits the protocol's own limit), only those for recipient
// unless it is empty.
func (st *store) waiting(client, recipient string, limit int, maxBytes int) ([]queued, error) {
	var out []queued
	err := st.db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueues).Bucket([]byte(client))
		if q == nil {
			return nil
		}
		size := 0
		c := q.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			m, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if recipient != "" && m.Recipient != recipient {
				continue
			}
			if len(out) > 0 && size+len(m.Message) > maxBytes {
				break
			}
			size += len(m.Message)
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// status sums up client's queue, or the part of it for recipient.
type status struct {
	Count          int
	Bytes          int
	Oldest, Newest time.Time
}

func (st *store) status(client, recipient string) (status, error) {
	var s status
	err := st.db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueues).Bucket([]byte(client))
		if q == nil {
			return nil
		}
		return q.ForEach(func(k, v []byte) error {
			m, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if recipient != "" && m.Recipient != recipient {
				return nil
			}
			s.Count++
			s.Bytes += len(m.Message)
			if s.Oldest.IsZero() || m.Received.Before(s.Oldest) {
				s.Oldest = m.Received
			}
			if m.Received.After(s.Newest) {
				s.Newest = m.Received
			}
			return nil
		})
	})
	return s, err
}

// remove deletes the messages with the given ids from client's queue;
// ids that are unknown (already removed, or never there) are skipped.
func (st *store) remove(client string, ids []string) error {
	return st.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueues).Bucket([]byte(client))
		if q == nil {
			return nil
		}
		usageB := tx.Bucket(bucketUsage)
		u := readUsage(usageB.Get([]byte(client)))
		total := readUsage(usageB.Get(totalKey))
		for _, id := range ids {
			seq, ok := messageSeq(id)
			if !ok {
				continue
			}
			k := binary.BigEndian.AppendUint64(nil, seq)
			v := q.Get(k)
			if v == nil {
				continue
			}
			m, err := decodeRecord(seq, v)
			if err != nil {
				return err
			}
			if err := q.Delete(k); err != nil {
				return err
			}
			u.sub(messageCost(m.Message))
			total.sub(messageCost(m.Message))
			if err := subSender(tx, client, m); err != nil {
				return err
			}
		}
		return putUsage(usageB, client, u, total)
	})
}

func (u *usage) sub(cost uint64) {
	u.messages = max(u.messages, 1) - 1
	u.bytes = max(u.bytes, cost) - cost
}

// expire drops every message received before cutoff and returns how many.
func (st *store) expire(cutoff time.Time) (int, error) {
	dropped := 0
	err := st.db.Update(func(tx *bbolt.Tx) error {
		usageB := tx.Bucket(bucketUsage)
		total := readUsage(usageB.Get(totalKey))
		err := tx.Bucket(bucketQueues).ForEachBucket(func(client []byte) error {
			q := tx.Bucket(bucketQueues).Bucket(client)
			u := readUsage(usageB.Get(client))
			c := q.Cursor()
			for k, v := c.First(); k != nil; k, v = c.First() {
				m, err := decodeRecord(binary.BigEndian.Uint64(k), v)
				if err != nil {
					return err
				}
				if !m.Received.Before(cutoff) {
					break
				}
				if err := c.Delete(); err != nil {
					return err
				}
				u.sub(messageCost(m.Message))
				total.sub(messageCost(m.Message))
				if err := subSender(tx, string(client), m); err != nil {
					return err
				}
				dropped++
			}
			return usageB.Put(client, u.encode())
		})
		if err != nil {
			return err
		}
		return usageB.Put(totalKey, total.encode())
	})
	return dropped, err
}

// totals returns the messages and bytes of all queues.
func (st *store) totals() (usage, error) {
	var u usage
	err := st.db.View(func(tx *bbolt.Tx) error {
		u = readUsage(tx.Bucket(bucketUsage).Get(totalKey))
		return nil
	})
	return u, err
}

// senderKey is the senders bucket's key of what sender has waiting for
// client.
func senderKey(client, sender string) []byte {
	return append(append([]byte(client), 0), sender...)
}

// subSender takes a removed message off its sender's count.
func subSender(tx *bbolt.Tx, client string, m queued) error {
	b := tx.Bucket(bucketSenders)
	k := senderKey(client, m.Sender)
	su := readUsage(b.Get(k))
	su.sub(messageCost(m.Message))
	if su.messages == 0 {
		return b.Delete(k)
	}
	return b.Put(k, su.encode())
}
