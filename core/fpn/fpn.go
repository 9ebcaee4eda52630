// Package fpn speaks the First Person Network's protocols as OpenVTC's
// VTI-Eucalyptus release speaks them (docs/protocols/openvtc.md): the
// relationship handshake (relationship-request, -accept, -reject, -finalize)
// with its relationship DID binding proofs, the VRC exchange (request,
// issued, rejected), and the Trust Task forms of the same exchange
// (vrc/relationships/propose and issue) in the Trust Tasks DIDComm binding.
//
// It builds and reads DIDComm plaintexts, their bodies, proofs and
// documents; the DIDComm layer packs and carries them. Every builder sets
// the thread (thid) OpenVTC sets, so a reply is threaded on its request.
//
// Every decoder is strict: a member of the wrong JSON type, an empty value
// where one is required, or a member the format does not define is refused
// with an error wrapping [input.ErrInvalid] that names it.
package fpn

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/internal/input"
	"planet/core/jcs"
)

// Message types (openvtc-core src/lib.rs, protocol_urls).
const (
	TypeRelationshipRequest  = "https://linuxfoundation.org/openvtc/1.0/relationship-request"
	TypeRelationshipAccept   = "https://linuxfoundation.org/openvtc/1.0/relationship-request-accept"
	TypeRelationshipReject   = "https://linuxfoundation.org/openvtc/1.0/relationship-request-reject"
	TypeRelationshipFinalize = "https://linuxfoundation.org/openvtc/1.0/relationship-request-finalize"
	TypeVRCRequest           = "https://firstperson.network/vrc/1.0/request"
	TypeVRCIssued            = "https://firstperson.network/vrc/1.0/issued"
	TypeVRCRejected          = "https://firstperson.network/vrc/1.0/rejected"
)

// The time window of OpenVTC's messages (openvtc-core src/messaging.rs,
// check_message_age): each is sent to expire 48 hours after it was made, and
// one made more than 48 hours ago, more than five minutes in the future, or
// already expired is dropped.
const (
	MessageLifetime = 48 * time.Hour
	MaxFutureSkew   = 5 * time.Minute
)

// ErrOutsideWindow is wrapped by [CheckWindow] for a message too old, from
// the future or expired.
var ErrOutsideWindow = errors.New("message outside its time window")

// CheckWindow checks a received message's times at now: created at most
// [MessageLifetime] ago and at most [MaxFutureSkew] ahead, and not expired.
// A message without created_time is refused: OpenVTC always sets it, and a
// message that says nothing of its age cannot be held to the window.
func CheckWindow(m *didcomm.Plaintext, now time.Time) error {
	switch {
	case m.Created.IsZero():
		return fmt.Errorf("%w: no created_time", ErrOutsideWindow)
	case m.Created.After(now.Add(MaxFutureSkew)):
		return fmt.Errorf("%w: created %s, more than %s ahead", ErrOutsideWindow, m.Created.UTC().Format(time.RFC3339), MaxFutureSkew)
	case now.Sub(m.Created) > MessageLifetime:
		return fmt.Errorf("%w: created %s, more than %s ago", ErrOutsideWindow, m.Created.UTC().Format(time.RFC3339), MessageLifetime)
	case !m.Expires.IsZero() && m.Expires.Before(now):
		return fmt.Errorf("%w: expired %s", ErrOutsideWindow, m.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// newOutgoing makes a message of typ from from to to with body on thread
// thid ("" for one that starts its own thread and carries none: its thread
// is its id), expiring [MessageLifetime] after now.
func newOutgoing(from, to did.DID, typ string, body any, thid string, now time.Time) (*didcomm.Plaintext, error) {
	m, err := didcomm.NewPlaintext(typ, body, now)
	if err != nil {
		return nil, err
	}
	m.From, m.To, m.Thid = from, []did.DID{to}, thid
	m.Expires = m.Created.Add(MessageLifetime)
	return m, nil
}

// invalid returns an error wrapping input.ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", input.ErrInvalid, fmt.Sprintf(format, args...))
}

// object is a strictly decoded JSON object and the names read from it.
type object struct {
	what string
	m    map[string]any
	seen []string
}

// decodeObject decodes data as one JSON object (no duplicate members, valid
// UTF-8, nothing after it), at most maxBody bytes.
func decodeObject(what string, data []byte) (*object, error) {
	if len(data) > maxBody {
		return nil, invalid("%s: %d bytes, more than %d", what, len(data), maxBody)
	}
	m, err := jcs.DecodeObject(data)
	if err != nil {
		return nil, invalid("%s: %v", what, err)
	}
	return &object{what: what, m: m}, nil
}

// maxBody bounds a body or Trust Task document: a credential and two
// proofs fit many times over.
const maxBody = 64 << 10

func (o *object) mark(name string) (any, bool) {
	o.seen = append(o.seen, name)
	v, ok := o.m[name]
	return v, ok
}

// str reads a string member; required ones may not be absent, and none may
// be empty.
func (o *object) str(name string, required bool) (string, error) {
	v, ok := o.mark(name)
	if !ok {
		if required {
			return "", invalid("%s: no %s", o.what, name)
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid("%s: %s is not a string", o.what, name)
	}
	if s == "" {
		return "", invalid("%s: %s is empty", o.what, name)
	}
	return s, nil
}

// optionalStr reads a string member that may also be null (serde's
// Option<String> without skip_serializing_if).
func (o *object) nullableStr(name string) (*string, error) {
	if v, ok := o.m[name]; ok && v == nil {
		o.mark(name)
		return nil, nil
	}
	s, err := o.str(name, false)
	if err != nil || s == "" {
		return nil, err
	}
	return &s, nil
}

func (o *object) boolean(name string) (*bool, error) {
	v, ok := o.mark(name)
	if !ok {
		return nil, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return nil, invalid("%s: %s is not a boolean", o.what, name)
	}
	return &b, nil
}

func (o *object) obj(name string, required bool) (map[string]any, error) {
	v, ok := o.mark(name)
	if !ok {
		if required {
			return nil, invalid("%s: no %s", o.what, name)
		}
		return nil, nil
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, invalid("%s: %s is not a JSON object", o.what, name)
	}
	return m, nil
}

// done refuses members that were not read.
func (o *object) done() error {
	for name := range o.m {
		if !slices.Contains(o.seen, name) {
			return invalid("%s: member %q is not part of the format", o.what, name)
		}
	}
	return nil
}

// rawJSON returns the canonical JSON of a decoded value.
func rawJSON(v any) (json.RawMessage, error) {
	data, err := jcs.Encode(v)
	if err != nil {
		return nil, err
	}
	return jcs.Canonicalize(data)
}
