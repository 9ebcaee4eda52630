package did

import "fmt"

// JSON-LD contexts and the verification method type of the documents that
// [DID.Document] generates.
const (
	ContextDIDv1      = "https://www.w3.org/ns/did/v1"
	ContextMultikeyV1 = "https://w3id.org/security/multikey/v1"
	MultikeyType      = "Multikey"
)

// Document is a DID document (W3C DID Core) in its JSON representation.
// It holds the properties PLANET generates; services come with did:peer:2.
//
// encoding/json writes the fields in the order declared here, so the same
// document always marshals to the same bytes.
type Document struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	VerificationMethod []VerificationMethod `json:"verificationMethod"`

	// Verification relationships: each entry is the id (a DID URL) of one
	// of the VerificationMethod entries.
	Authentication       []string `json:"authentication,omitempty"`
	AssertionMethod      []string `json:"assertionMethod,omitempty"`
	CapabilityInvocation []string `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []string `json:"capabilityDelegation,omitempty"`
	KeyAgreement         []string `json:"keyAgreement,omitempty"`

	// Service lists ways to reach the subject (did:peer:2 carries them).
	Service []Service `json:"service,omitempty"`
}

// VerificationMethod is a public key in a DID document, in the Multikey form
// (W3C Controlled Identifiers): PublicKeyMultibase is "z6Mk…" for an Ed25519
// key or "z6LS…" for an X25519 key.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
}

// Document returns the DID document of d. For did:key it is generated from
// the key alone, in the shape the did:key method specifies: the Ed25519 key
// for authentication, assertion and capabilities, and the X25519 key derived
// from it for key agreement. Document does not resolve did:peer ([Resolve]
// does) and returns an error wrapping [ErrUnsupportedMethod] for it; the zero
// DID returns one wrapping [ErrInvalid].
func (d DID) Document() (*Document, error) {
	method, id := d.split()
	switch method {
	case "":
		return nil, fmt.Errorf("%w: zero did has no document", ErrInvalid)
	case MethodKey:
		pub, err := parseKeyID(id)
		if err != nil {
			return nil, err
		}
		return keyDocument(d.s, pub)
	default:
		return nil, fmt.Errorf("%w: documents of did:%s are not resolved yet", ErrUnsupportedMethod, method)
	}
}
