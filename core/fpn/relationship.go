package fpn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"planet/core/did"
	"planet/core/didcomm"
	"planet/core/vc"
)

// TypeDIDBinding is the type of the statement a relationship DID proof
// signs (openvtc-core src/relationships.rs, RELATIONSHIP_DID_BINDING_TYPE).
const TypeDIDBinding = "https://linuxfoundation.org/openvtc/1.0/relationship-did-binding"

// BindingRole is which side of a handshake a binding is for, so that a
// request's proof cannot stand as an accept's in the same handshake.
type BindingRole string

// The roles.
const (
	RoleRequest BindingRole = "request"
	RoleAccept  BindingRole = "accept"
)

// Binding is the statement that a relationship request or accept proves:
// DID is the DID that Persona uses with Peer in the handshake Thid, as Role.
// Every member comes from the handshake (the request's id is its Thid; the
// sender is the Persona, the recipient the Peer), not from the body, so a
// proof made for one handshake does not verify in another.
type Binding struct {
	Role    BindingRole
	DID     did.DID // the relationship DID (or the persona DID itself)
	Persona did.DID // the sender's persona DID
	Peer    did.DID // the recipient's DID
	Thid    string  // the handshake's thread id: the request's message id
}

// statement returns the JSON object the proofs sign.
func (b Binding) statement() (map[string]any, error) {
	switch {
	case b.Role != RoleRequest && b.Role != RoleAccept:
		return nil, invalid("did binding: role %q", b.Role)
	case b.DID.IsZero() || b.Persona.IsZero() || b.Peer.IsZero():
		return nil, invalid("did binding: a DID is missing")
	case b.Thid == "":
		return nil, invalid("did binding: no thid")
	}
	return map[string]any{
		"type":    TypeDIDBinding,
		"role":    string(b.Role),
		"did":     b.DID.String(),
		"persona": b.Persona.String(),
		"peer":    b.Peer.String(),
		"thid":    b.Thid,
	}, nil
}

// Proofs are the proofs a request or accept carries: one by the DID, and,
// when the DID is not the persona's own, one by the persona naming it.
type Proofs struct {
	DID     map[string]any // didProof
	Persona map[string]any // personaProof; nil when DID is the persona
}

// SignBinding makes the proofs of b: didSigner must sign as b.DID and
// personaSigner as b.Persona (it is not used when they are the same DID).
// Each is an eddsa-jcs-2022 DataIntegrityProof with proofPurpose
// authentication.
func SignBinding(b Binding, didSigner, personaSigner vc.Signer, now time.Time) (Proofs, error) {
	st, err := b.statement()
	if err != nil {
		return Proofs{}, err
	}
	if didSigner.DID() != b.DID {
		return Proofs{}, invalid("did binding: the signer is %s, not %s", didSigner.DID(), b.DID)
	}
	var p Proofs
	if p.DID, err = vc.SignDocument(st, didSigner, vc.ProofPurposeAuthentication, now); err != nil {
		return Proofs{}, err
	}
	if b.DID != b.Persona {
		if personaSigner == nil || personaSigner.DID() != b.Persona {
			return Proofs{}, invalid("did binding: no signer for the persona %s", b.Persona)
		}
		if p.Persona, err = vc.SignDocument(st, personaSigner, vc.ProofPurposeAuthentication, now); err != nil {
			return Proofs{}, err
		}
	}
	return p, nil
}

// Errors of [VerifyBinding].
var (
	ErrMissingDIDProof     = errors.New("no proof of control of the relationship DID")
	ErrMissingPersonaProof = errors.New("no proof from the persona naming the relationship DID")
	ErrBindingProof        = errors.New("relationship DID binding proof refused")
)

// VerifyBinding checks that the holder of b.DID controls it and, when it is
// not b.Persona, that b.Persona names it, both for exactly this handshake
// and role: each proof must verify against the resolved document of its
// signer with a key listed under authentication.
func VerifyBinding(ctx context.Context, r did.Resolver, b Binding, p Proofs, now time.Time) error {
	st, err := b.statement()
	if err != nil {
		return err
	}
	if p.DID == nil {
		return ErrMissingDIDProof
	}
	signed := func(proof map[string]any) map[string]any {
		m := make(map[string]any, len(st)+1)
		for k, v := range st {
			m[k] = v
		}
		m["proof"] = proof
		return m
	}
	if err := vc.VerifyDocument(ctx, r, signed(p.DID), b.DID, vc.ProofPurposeAuthentication, now); err != nil {
		return fmt.Errorf("%w: the relationship DID's proof: %w", ErrBindingProof, err)
	}
	if b.DID == b.Persona {
		return nil
	}
	if p.Persona == nil {
		return ErrMissingPersonaProof
	}
	if err := vc.VerifyDocument(ctx, r, signed(p.Persona), b.Persona, vc.ProofPurposeAuthentication, now); err != nil {
		return fmt.Errorf("%w: the persona's proof: %w", ErrBindingProof, err)
	}
	return nil
}

// RequestBody is the body of a relationship-request.
type RequestBody struct {
	Reason string  // "reason", optional: why the requester asks
	DID    did.DID // "did": the DID the requester will use in the relationship
	Name   string  // "name", optional: the requester's name
	Proofs         // "didProof" (required to be acted on), "personaProof"
}

// AcceptBody is the body of a relationship-request-accept.
type AcceptBody struct {
	DID    did.DID // "did": the DID the acceptor will use
	Proofs         // "didProof", "personaProof"
}

// RejectBody is the body of a relationship-request-reject: {"reason":
// string or null}. OpenVTC writes null when there is no reason.
type RejectBody struct {
	Reason *string
}

// VRCRequestBody is the body of a VRC request, and of a VRC rejection:
// {"reason": string}, the member absent when there is none.
type VRCRequestBody struct {
	Reason string
}

// MarshalJSON writes the body as OpenVTC does.
func (b RequestBody) MarshalJSON() ([]byte, error) {
	m := map[string]any{"did": b.DID.String()}
	if b.Reason != "" {
		m["reason"] = b.Reason
	}
	if b.Name != "" {
		m["name"] = b.Name
	}
	b.Proofs.put(m)
	return rawJSON(m)
}

// MarshalJSON writes the body as OpenVTC does.
func (b AcceptBody) MarshalJSON() ([]byte, error) {
	m := map[string]any{"did": b.DID.String()}
	b.Proofs.put(m)
	return rawJSON(m)
}

// MarshalJSON writes {"reason": …} with null for no reason, as OpenVTC does.
func (b RejectBody) MarshalJSON() ([]byte, error) {
	var reason any
	if b.Reason != nil {
		reason = *b.Reason
	}
	return rawJSON(map[string]any{"reason": reason})
}

// MarshalJSON writes the body as OpenVTC does.
func (b VRCRequestBody) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if b.Reason != "" {
		m["reason"] = b.Reason
	}
	return rawJSON(m)
}

func (p Proofs) put(m map[string]any) {
	if p.DID != nil {
		m["didProof"] = p.DID
	}
	if p.Persona != nil {
		m["personaProof"] = p.Persona
	}
}

func (p *Proofs) read(o *object) (err error) {
	if p.DID, err = o.obj("didProof", false); err != nil {
		return err
	}
	p.Persona, err = o.obj("personaProof", false)
	return err
}

func (o *object) did(name string) (did.DID, error) {
	s, err := o.str(name, true)
	if err != nil {
		return did.DID{}, err
	}
	d, err := did.Parse(s)
	if err != nil {
		return did.DID{}, invalid("%s: %s: %v", o.what, name, err)
	}
	return d, nil
}

// DecodeRequest reads a relationship-request body.
func DecodeRequest(data []byte) (*RequestBody, error) {
	o, err := decodeObject("relationship request", data)
	if err != nil {
		return nil, err
	}
	b := &RequestBody{}
	if b.Reason, err = o.str("reason", false); err != nil {
		return nil, err
	}
	if b.DID, err = o.did("did"); err != nil {
		return nil, err
	}
	if b.Name, err = o.str("name", false); err != nil {
		return nil, err
	}
	if err := b.Proofs.read(o); err != nil {
		return nil, err
	}
	return b, o.done()
}

// DecodeAccept reads a relationship-request-accept body.
func DecodeAccept(data []byte) (*AcceptBody, error) {
	o, err := decodeObject("relationship accept", data)
	if err != nil {
		return nil, err
	}
	b := &AcceptBody{}
	if b.DID, err = o.did("did"); err != nil {
		return nil, err
	}
	if err := b.Proofs.read(o); err != nil {
		return nil, err
	}
	return b, o.done()
}

// DecodeReject reads a relationship-request-reject body. The reason may be
// a string, null or absent.
func DecodeReject(data []byte) (*RejectBody, error) {
	o, err := decodeObject("relationship reject", data)
	if err != nil {
		return nil, err
	}
	b := &RejectBody{}
	if b.Reason, err = o.nullableStr("reason"); err != nil {
		return nil, err
	}
	return b, o.done()
}

// DecodeFinalize reads a relationship-request-finalize body, which is {}.
func DecodeFinalize(data []byte) error {
	o, err := decodeObject("relationship finalize", data)
	if err != nil {
		return err
	}
	return o.done()
}

// DecodeVRCRequest reads the body of a VRC request or VRC rejection.
func DecodeVRCRequest(data []byte) (*VRCRequestBody, error) {
	o, err := decodeObject("vrc request", data)
	if err != nil {
		return nil, err
	}
	b := &VRCRequestBody{}
	if b.Reason, err = o.str("reason", false); err != nil {
		return nil, err
	}
	return b, o.done()
}

// DecodeVRCIssued reads the body of a VRC issued message: the credential,
// which it parses strictly ([vc.Parse]) and checks is a relationship
// credential. It does not verify it: see [vc.Verifier].
func DecodeVRCIssued(data []byte) (*vc.Credential, error) {
	c, err := vc.Parse(data)
	if err != nil {
		return nil, invalid("vrc issued: %v", err)
	}
	if c.ConcreteType() != vc.TypeRelationshipCredential {
		return nil, invalid("vrc issued: a %q, not a relationship credential", c.ConcreteType())
	}
	return c, nil
}

// NewRequest builds the relationship-request from persona to peer, naming
// rel (a relationship DID, or the persona itself) and proving it with
// relSigner and personaSigner. The handshake's thread id is the message's id
// (the value every answer threads on; the request itself carries no thid).
func NewRequest(persona, peer did.DID, relSigner, personaSigner vc.Signer, reason, name string, now time.Time) (*didcomm.Plaintext, error) {
	out, err := newOutgoing(persona, peer, TypeRelationshipRequest, struct{}{}, "", now)
	if err != nil {
		return nil, err
	}
	p, err := SignBinding(Binding{Role: RoleRequest, DID: relSigner.DID(), Persona: persona, Peer: peer, Thid: out.ID}, relSigner, personaSigner, now)
	if err != nil {
		return nil, err
	}
	out.Body, err = json.Marshal(RequestBody{Reason: reason, DID: relSigner.DID(), Name: name, Proofs: p})
	return out, err
}

// NewAccept builds the relationship-request-accept of the request thid from
// persona (who received it) to peer (its sender).
func NewAccept(persona, peer did.DID, thid string, relSigner, personaSigner vc.Signer, now time.Time) (*didcomm.Plaintext, error) {
	p, err := SignBinding(Binding{Role: RoleAccept, DID: relSigner.DID(), Persona: persona, Peer: peer, Thid: thid}, relSigner, personaSigner, now)
	if err != nil {
		return nil, err
	}
	return newOutgoing(persona, peer, TypeRelationshipAccept, AcceptBody{DID: relSigner.DID(), Proofs: p}, thid, now)
}

// NewReject builds the relationship-request-reject of the request thid.
func NewReject(persona, peer did.DID, thid string, reason *string, now time.Time) (*didcomm.Plaintext, error) {
	if thid == "" {
		return nil, invalid("relationship reject: no thid")
	}
	return newOutgoing(persona, peer, TypeRelationshipReject, RejectBody{Reason: reason}, thid, now)
}

// NewFinalize builds the relationship-request-finalize of the handshake thid.
func NewFinalize(persona, peer did.DID, thid string, now time.Time) (*didcomm.Plaintext, error) {
	if thid == "" {
		return nil, invalid("relationship finalize: no thid")
	}
	return newOutgoing(persona, peer, TypeRelationshipFinalize, struct{}{}, thid, now)
}

// NewVRCRequest builds a VRC request between two relationship DIDs; its
// id is the thread the answer threads on.
func NewVRCRequest(from, to did.DID, reason string, now time.Time) (*didcomm.Plaintext, error) {
	return newOutgoing(from, to, TypeVRCRequest, VRCRequestBody{Reason: reason}, "", now)
}

// NewVRCIssued builds the VRC issued message answering the request thid:
// the body is the credential as signed.
func NewVRCIssued(from, to did.DID, thid string, c *vc.Credential, now time.Time) (*didcomm.Plaintext, error) {
	if thid == "" {
		return nil, invalid("vrc issued: no thid")
	}
	if c == nil || c.Issuer != from || c.Subject.ID != to {
		return nil, invalid("vrc issued: the credential is not from %s to %s", from, to)
	}
	return newOutgoing(from, to, TypeVRCIssued, c, thid, now)
}

// NewVRCRejected builds the VRC rejection answering the request thid.
func NewVRCRejected(from, to did.DID, thid, reason string, now time.Time) (*didcomm.Plaintext, error) {
	if thid == "" {
		return nil, invalid("vrc rejected: no thid")
	}
	return newOutgoing(from, to, TypeVRCRejected, VRCRequestBody{Reason: reason}, thid, now)
}

// RequestBinding returns the binding a received request proves: from its
// sender (persona), to its recipient (peer), threaded on its own id.
func RequestBinding(m *didcomm.Plaintext, body *RequestBody, recipient did.DID) Binding {
	return Binding{Role: RoleRequest, DID: body.DID, Persona: m.From, Peer: recipient, Thid: m.ID}
}

// AcceptBinding returns the binding a received accept proves, threaded on
// the request's id.
func AcceptBinding(m *didcomm.Plaintext, body *AcceptBody, recipient did.DID) Binding {
	return Binding{Role: RoleAccept, DID: body.DID, Persona: m.From, Peer: recipient, Thid: m.ThreadID()}
}
