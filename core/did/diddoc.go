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

// VerificationMethod is a public key in a DID document. PLANET writes the
// Multikey form (W3C Controlled Identifiers): PublicKeyMultibase is "z6Mk…"
// for an Ed25519 key or "z6LS…" for an X25519 key. Documents of other
// methods, read through a [Resolver], may hold their key as a JSON Web Key
// (type JsonWebKey2020) or in base58 (the 2018 and 2019 suites); those forms
// are kept so that the formats that use keys (DIDComm) can read them.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	PublicKeyJwk       *JWK   `json:"publicKeyJwk,omitempty"`
	PublicKeyBase58    string `json:"publicKeyBase58,omitempty"`
}

// JWK is the public part of a JSON Web Key (RFC 7517) as DID documents hold
// it: an OKP key (RFC 8037: crv Ed25519 or X25519, x) or an EC key (crv
// P-256, P-384, P-521 or secp256k1, x and y), each coordinate base64url.
// Which keys are usable, and the checks of the values, belong to the reader.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
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
