package fpn

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/jcs"
	"planet/core/vc"
)

// Trust Tasks (trustoverip/dtgwg-trust-tasks-tf): the relationship exchange
// as Trust Task documents, carried in the Trust Tasks DIDComm binding.
const (
	TaskPropose = "https://trusttasks.org/spec/vrc/relationships/propose/0.1"
	TaskIssue   = "https://trusttasks.org/spec/vrc/relationships/issue/0.1"
	// ResponseFragment ends the type of a task's response document.
	ResponseFragment = "#response"
	// TaskError is the type of a refusal (framework 0.2).
	TaskError = "https://trusttasks.org/spec/trust-task-error/0.2"
	// ErrorDeclined and ErrorNotAccepted are the refusals these two tasks
	// define.
	ErrorDeclined    = "vrc/relationships/propose:declined"
	ErrorNotAccepted = "vrc/relationships/issue:notAccepted"
	// EnvelopeType is the DIDComm type of a message carrying a Trust Task
	// document (specs/bindings/didcomm/0.1): authcrypt only, the document
	// as the body.
	EnvelopeType = "https://trusttasks.org/binding/didcomm/0.1/envelope"
)

// Task is a Trust Task document (framework trust-task.schema.json 0.4):
// the members PLANET reads, and the payload as canonical JSON for the typed
// decoders ([DecodePropose], …). Other top-level members (@context, ceremony,
// ext, …) are kept in Extra, as the framework asks consumers to.
type Task struct {
	ID             string          // "id", required
	Type           string          // "type", required: a Type URI, maybe with #response
	ThreadID       string          // "threadId"
	ParentThreadID string          // "parentThreadId"
	Issuer         string          // "issuer": a VID (a DID here)
	Recipient      string          // "recipient"
	IssuedAt       time.Time       // "issuedAt"; zero if absent
	ExpiresAt      time.Time       // "expiresAt"; zero if absent
	Payload        json.RawMessage // "payload", required, a JSON object
	Proof          map[string]any  // "proof"
	Extra          map[string]any  // other members
}

var taskMembers = []string{"id", "type", "threadId", "parentThreadId", "issuer", "recipient", "issuedAt", "expiresAt", "payload", "proof"}

// DecodeTask reads a Trust Task document.
func DecodeTask(data []byte) (*Task, error) {
	o, err := decodeObject("trust task", data)
	if err != nil {
		return nil, err
	}
	t := &Task{}
	for _, f := range []struct {
		name     string
		to       *string
		required bool
	}{{"id", &t.ID, true}, {"type", &t.Type, true}, {"threadId", &t.ThreadID, false}, {"parentThreadId", &t.ParentThreadID, false},
		{"issuer", &t.Issuer, false}, {"recipient", &t.Recipient, false}} {
		if *f.to, err = o.str(f.name, f.required); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"issuedAt", &t.IssuedAt}, {"expiresAt", &t.ExpiresAt}} {
		s, err := o.str(f.name, false)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		if *f.to, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, invalid("trust task: %s is not an RFC 3339 time", f.name)
		}
	}
	payload, err := o.obj("payload", true)
	if err != nil {
		return nil, err
	}
	if t.Payload, err = rawJSON(payload); err != nil {
		return nil, invalid("trust task: payload: %v", err)
	}
	if t.Proof, err = o.obj("proof", false); err != nil {
		return nil, err
	}
	if t.ParentThreadID != "" && t.ParentThreadID == t.ThreadID {
		return nil, invalid("trust task: parentThreadId is its own threadId")
	}
	for name, v := range o.m {
		if !contains(taskMembers, name) {
			if t.Extra == nil {
				t.Extra = map[string]any{}
			}
			t.Extra[name] = v
		}
	}
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MarshalJSON writes the document as canonical JSON.
func (t Task) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range t.Extra {
		m[k] = v
	}
	m["id"], m["type"] = t.ID, t.Type
	for name, v := range map[string]string{"threadId": t.ThreadID, "parentThreadId": t.ParentThreadID, "issuer": t.Issuer, "recipient": t.Recipient} {
		if v != "" {
			m[name] = v
		}
	}
	if !t.IssuedAt.IsZero() {
		m["issuedAt"] = t.IssuedAt.UTC().Format(time.RFC3339)
	}
	if !t.ExpiresAt.IsZero() {
		m["expiresAt"] = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	payload, err := jcs.DecodeObject(t.Payload)
	if err != nil {
		return nil, fmt.Errorf("trust task payload: %w", err)
	}
	m["payload"] = payload
	if t.Proof != nil {
		m["proof"] = t.Proof
	}
	return rawJSON(m)
}

// ProposePayload is the payload of vrc/relationships/propose.
type ProposePayload struct {
	RelationshipDID string         // "relationshipDid", required, "did:…"
	Witnessed       *bool          // "witnessed": asked for; absent means unwitnessed
	Reason          string         // "reason", optional
	Ext             map[string]any // "ext", optional
}

// ProposeResponse is the payload of its #response: an acceptance (a decline
// is a trust-task-error with [ErrorDeclined]).
type ProposeResponse struct {
	RelationshipDID string
	Witnessed       *bool // true only if the counterparty agrees to a witnessed exchange
	Ext             map[string]any
}

// IssuePayload is the payload of vrc/relationships/issue.
type IssuePayload struct {
	VRC                json.RawMessage // "vrc", required: the signed credential, as received
	VRCDigestMultibase string          // "vrcDigestMultibase", optional
	Ext                map[string]any
}

// IssueResponse is the payload of its #response, the delivery receipt.
type IssueResponse struct {
	VRCDigestMultibase string // required, computed over the credential as stored
	Ext                map[string]any
}

func (o *object) relationshipDID() (string, error) {
	s, err := o.str("relationshipDid", true)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(s, "did:") {
		return "", invalid("%s: relationshipDid %q is not a DID", o.what, s)
	}
	return s, nil
}

func (o *object) digest(name string, required bool) (string, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return s, err
	}
	if !isMultibaseDigest(s) {
		return "", invalid("%s: %s is not a multibase multihash ('z' base58btc or 'u' base64url)", o.what, name)
	}
	return s, nil
}

// isMultibaseDigest is the framework's DigestMultibase pattern:
// ^(z[1-9A-HJ-NP-Za-km-z]+|u[A-Za-z0-9_-]+)$.
func isMultibaseDigest(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, c := range s[1:] {
		switch s[0] {
		case 'z':
			if !strings.ContainsRune("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", c) {
				return false
			}
		case 'u':
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// DecodePropose reads a propose payload.
func DecodePropose(data []byte) (*ProposePayload, error) {
	o, err := decodeObject("propose payload", data)
	if err != nil {
		return nil, err
	}
	p := &ProposePayload{}
	if p.RelationshipDID, err = o.relationshipDID(); err != nil {
		return nil, err
	}
	if p.Witnessed, err = o.boolean("witnessed"); err != nil {
		return nil, err
	}
	if p.Reason, err = o.str("reason", false); err != nil {
		return nil, err
	}
	if p.Ext, err = o.obj("ext", false); err != nil {
		return nil, err
	}
	return p, o.done()
}

// DecodeProposeResponse reads a propose #response payload.
func DecodeProposeResponse(data []byte) (*ProposeResponse, error) {
	o, err := decodeObject("propose response payload", data)
	if err != nil {
		return nil, err
	}
	accept, err := o.boolean("accept")
	if err != nil {
		return nil, err
	}
	if accept == nil || !*accept {
		return nil, invalid("propose response payload: accept is not true (a decline is a trust-task-error)")
	}
	p := &ProposeResponse{}
	if p.RelationshipDID, err = o.relationshipDID(); err != nil {
		return nil, err
	}
	if p.Witnessed, err = o.boolean("witnessed"); err != nil {
		return nil, err
	}
	if p.Ext, err = o.obj("ext", false); err != nil {
		return nil, err
	}
	return p, o.done()
}

// DecodeIssue reads an issue payload. The credential is kept as received;
// parse it with [DecodeVRCIssued] (or [vc.Parse]).
func DecodeIssue(data []byte) (*IssuePayload, error) {
	o, err := decodeObject("issue payload", data)
	if err != nil {
		return nil, err
	}
	p := &IssuePayload{}
	vrc, err := o.obj("vrc", true)
	if err != nil {
		return nil, err
	}
	if p.VRC, err = rawJSON(vrc); err != nil {
		return nil, invalid("issue payload: vrc: %v", err)
	}
	if p.VRCDigestMultibase, err = o.digest("vrcDigestMultibase", false); err != nil {
		return nil, err
	}
	if p.Ext, err = o.obj("ext", false); err != nil {
		return nil, err
	}
	return p, o.done()
}

// DecodeIssueResponse reads an issue #response payload.
func DecodeIssueResponse(data []byte) (*IssueResponse, error) {
	o, err := decodeObject("issue response payload", data)
	if err != nil {
		return nil, err
	}
	p := &IssueResponse{}
	if p.VRCDigestMultibase, err = o.digest("vrcDigestMultibase", true); err != nil {
		return nil, err
	}
	if p.Ext, err = o.obj("ext", false); err != nil {
		return nil, err
	}
	return p, o.done()
}

// VRCDigest is the vrcDigestMultibase of a credential: base58btc of the
// sha2-256 multihash of its RFC 8785 form, proof included, as the issue
// specification has it ("the RFC 8785 canonicalization of the credential").
// It differs from the credential's own digestMultibase ([vc.DigestMultibase]),
// which leaves the proof out.
func VRCDigest(credential []byte) (string, error) {
	canonical, err := jcs.Canonicalize(credential)
	if err != nil {
		return "", invalid("vrc digest: %v", err)
	}
	return vc.Multihash(canonical), nil
}

// NewTask returns a Trust Task document of typ from issuer to recipient on
// thread threadID (the id itself when threadID is ""), issued at now, with
// the payload given (a value encoding/json writes as an object) and a fresh
// urn:uuid id.
func NewTask(typ string, issuer, recipient did.DID, threadID string, payload any, now time.Time) (*Task, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, invalid("trust task payload: %v", err)
	}
	if raw, err = jcs.Canonicalize(raw); err != nil || len(raw) == 0 || raw[0] != '{' {
		return nil, invalid("trust task payload is not a JSON object")
	}
	id, err := vc.NewID(nil)
	if err != nil {
		return nil, err
	}
	if threadID == "" {
		threadID = id
	}
	return &Task{ID: id, Type: typ, ThreadID: threadID, Issuer: issuer.String(), Recipient: recipient.String(),
		IssuedAt: now.UTC().Truncate(time.Second), Payload: raw}, nil
}

// MarshalJSON writes the payload as the schema has it.
func (p ProposePayload) MarshalJSON() ([]byte, error) {
	m := map[string]any{"relationshipDid": p.RelationshipDID}
	if p.Witnessed != nil {
		m["witnessed"] = *p.Witnessed
	}
	if p.Reason != "" {
		m["reason"] = p.Reason
	}
	if p.Ext != nil {
		m["ext"] = p.Ext
	}
	return rawJSON(m)
}

// MarshalJSON writes the payload as the schema has it, accept true.
func (p ProposeResponse) MarshalJSON() ([]byte, error) {
	m := map[string]any{"accept": true, "relationshipDid": p.RelationshipDID}
	if p.Witnessed != nil {
		m["witnessed"] = *p.Witnessed
	}
	if p.Ext != nil {
		m["ext"] = p.Ext
	}
	return rawJSON(m)
}

// MarshalJSON writes the payload as the schema has it.
func (p IssuePayload) MarshalJSON() ([]byte, error) {
	vrc, err := jcs.DecodeObject(p.VRC)
	if err != nil {
		return nil, err
	}
	m := map[string]any{"vrc": vrc}
	if p.VRCDigestMultibase != "" {
		m["vrcDigestMultibase"] = p.VRCDigestMultibase
	}
	if p.Ext != nil {
		m["ext"] = p.Ext
	}
	return rawJSON(m)
}

// MarshalJSON writes the payload as the schema has it.
func (p IssueResponse) MarshalJSON() ([]byte, error) {
	m := map[string]any{"vrcDigestMultibase": p.VRCDigestMultibase}
	if p.Ext != nil {
		m["ext"] = p.Ext
	}
	return rawJSON(m)
}

// NewEnvelope wraps t in a DIDComm message of [EnvelopeType] from from to
// to, the document as the body. The transport must send it authcrypt; its
// thid is the task's threadId.
func NewEnvelope(from, to did.DID, t *Task, now time.Time) (*didcomm.Plaintext, error) {
	body, err := t.MarshalJSON()
	if err != nil {
		return nil, invalid("trust task envelope: %v", err)
	}
	return newOutgoing(from, to, EnvelopeType, json.RawMessage(body), t.ThreadID, now)
}

// Errors of [OpenEnvelope].
var (
	// ErrNotAuthcrypt reports an envelope that arrived anoncrypt or in
	// plaintext: it must not enter the Trust Task pipeline.
	ErrNotAuthcrypt = errors.New("trust task envelope not authcrypt")
	// ErrIdentityMismatch reports an in-band issuer or recipient that is
	// not the party the transport authenticated.
	ErrIdentityMismatch = errors.New("trust task identity mismatch")
)

// OpenEnvelope reads the Trust Task document of m, which arrived authcrypt
// from sender (the verified sender_kid's DID; the zero DID for anoncrypt or
// plaintext) to recipient. It refuses an envelope not authcrypt, of another
// type, whose document is malformed, whose in-band issuer or recipient
// differs from the authenticated ones, whose threadId is not the message's
// thread, or that has expired at now.
func OpenEnvelope(m *didcomm.Plaintext, sender, recipient did.DID, now time.Time) (*Task, error) {
	if sender.IsZero() {
		return nil, ErrNotAuthcrypt
	}
	if m.Type != EnvelopeType {
		return nil, invalid("trust task envelope: type %q", m.Type)
	}
	t, err := DecodeTask(m.Body)
	if err != nil {
		return nil, err
	}
	if t.Issuer != "" && t.Issuer != sender.String() {
		return nil, fmt.Errorf("%w: issuer %s, sender %s", ErrIdentityMismatch, t.Issuer, sender)
	}
	if t.Recipient != "" && t.Recipient != recipient.String() {
		return nil, fmt.Errorf("%w: recipient %s is not %s", ErrIdentityMismatch, t.Recipient, recipient)
	}
	if t.ThreadID != m.ThreadID() {
		return nil, invalid("trust task envelope: threadId %q on thread %q", t.ThreadID, m.ThreadID())
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, fmt.Errorf("%w: task expired %s", ErrOutsideWindow, t.ExpiresAt.Format(time.RFC3339))
	}
	return t, nil
}
