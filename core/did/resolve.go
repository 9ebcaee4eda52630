package did

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"planet/core/jcs"
	"planet/core/keys"
)

// ErrNotFound is returned, wrapped, by resolvers when a DID is well formed
// and of a method they handle, but has no document: a did:webvh whose log
// does not exist, for instance. [Resolve] never returns it for did:key or
// did:peer:2, whose documents are built from the DID itself.
var ErrNotFound = errors.New("did not found")

// Resolve returns the DID document of d with [Local]: the methods whose
// documents are built from the DID itself, so that resolving needs no
// network and its result never changes.
//
//   - did:key: generated from the key, as [DID.Document] does.
//   - did:peer:2: built from the keys and services in the DID (see
//     [NewPeer2]); ids are relative DID URLs, "#key-1" and "#service", as the
//     did:peer specification shows them: [Document.FindVerificationMethod]
//     accepts both those and their absolute forms.
//
// Other did:peer numalgos (0, 1, 3, 4) return an error wrapping
// [ErrUnsupportedMethod], as does any method Local does not hold; the zero
// DID returns one wrapping [ErrInvalid].
func Resolve(d DID) (*Document, error) {
	return Local.Resolve(context.Background(), d)
}

// peerMethod resolves did:peer:2.
type peerMethod struct{}

func (peerMethod) Resolve(_ context.Context, d DID) (*Document, error) {
	_, id := d.split()
	if !strings.HasPrefix(id, "2") {
		return nil, fmt.Errorf("%w: did:peer numalgo %s is not resolved, only 2", ErrUnsupportedMethod, id[:1])
	}
	elements, err := parsePeer2(id[1:])
	if err != nil {
		// Parse made d, so this does not happen.
		return nil, fmt.Errorf("%w: did:peer %w", ErrInvalid, err)
	}
	return peer2Document(d.s, elements), nil
}

// keyMethod resolves did:key.
type keyMethod struct{}

func (keyMethod) Resolve(_ context.Context, d DID) (*Document, error) { return d.Document() }

// FindVerificationMethod returns the verification method of the document
// whose id is ref, an absolute DID URL ("did:peer:2…#key-1") or one relative
// to the document ("#key-1"), whichever form the document itself uses.
func (doc *Document) FindVerificationMethod(ref string) (VerificationMethod, bool) {
	want := doc.Absolute(ref)
	for _, vm := range doc.VerificationMethod {
		if doc.Absolute(vm.ID) == want {
			return vm, true
		}
	}
	return VerificationMethod{}, false
}

// ed25519Key returns the Ed25519 key of the document's verification method
// ref (absolute or relative, as [Document.FindVerificationMethod] takes
// it), which must be listed in at least one of relationships, such as
// doc.AssertionMethod: a key is fit to verify only what its document says it
// signs. The error says which check failed.
func (doc *Document) Ed25519Key(ref string, relationships ...[]string) (ed25519.PublicKey, error) {
	vm, ok := doc.FindVerificationMethod(ref)
	if !ok {
		return nil, fmt.Errorf("key %q is not in the document of %s", ref, doc.ID)
	}
	listed := false
	for _, refs := range relationships {
		listed = listed || doc.Lists(refs, ref)
	}
	if !listed {
		return nil, fmt.Errorf("key %q of %s is not one it signs with for this purpose", ref, doc.ID)
	}
	pub, err := keys.ParseEd25519Multikey(vm.PublicKeyMultibase)
	if err != nil {
		return nil, fmt.Errorf("key %q of %s: %w", ref, doc.ID, err)
	}
	return pub, nil
}

// Absolute resolves a fragment-only reference against the document's DID.
func (doc *Document) Absolute(ref string) string {
	if strings.HasPrefix(ref, "#") {
		return doc.ID + ref
	}
	return ref
}

// ServiceTypeDIDCommMessaging is the service type of a DIDComm v2 messaging
// endpoint.
const ServiceTypeDIDCommMessaging = "DIDCommMessaging"

// Service is a service of a DID document (W3C DID Core, section 5.4): a way
// to reach the DID's subject, such as a DIDComm messaging endpoint (see
// [DIDCommService]).
//
// ServiceEndpoint and the values of Extra hold JSON as decoded into an any
// (map[string]any, []any, string, bool, nil), except that numbers are
// json.Number so that they keep their exact text. A Service marshals to a JSON
// object with id (left out if empty), type and serviceEndpoint in that order,
// then the properties of Extra sorted by name.
type Service struct {
	ID   string
	Type string
	// ServiceEndpoint is a URI string, a map (for DIDComm: "uri", "accept",
	// "routingKeys"), or a non-empty list of those.
	ServiceEndpoint any
	// Extra holds any other properties, such as "accept" and "routingKeys"
	// beside a plain URI endpoint in the older DIDComm form.
	Extra map[string]any
}

// MarshalJSON implements [json.Marshaler].
func (s Service) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		val, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("service %s: %w", name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
		return nil
	}
	if s.ID != "" {
		field("id", s.ID)
	}
	field("type", s.Type)
	if err := field("serviceEndpoint", s.ServiceEndpoint); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(s.Extra))
	for k := range s.Extra {
		if k == "id" || k == "type" || k == "serviceEndpoint" {
			return nil, fmt.Errorf("service extra property %q is one of its own fields", k)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if err := field(k, s.Extra[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements [json.Unmarshaler]. It applies the rules of a
// did:peer:2 service: a JSON object with no duplicate keys, a type that is a
// non-empty string, a serviceEndpoint of the shape DID Core allows, and an id
// that, if present, is a non-empty string.
func (s *Service) UnmarshalJSON(data []byte) error {
	v, err := jcs.Decode(data)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("service is not a JSON object")
	}
	got, err := serviceFromMap(m)
	if err != nil {
		return err
	}
	*s = got
	return nil
}

// serviceFromMap makes a Service of a decoded JSON object, checking it.
func serviceFromMap(m map[string]any) (Service, error) {
	var s Service
	if id, ok := m["id"]; ok {
		if s.ID, ok = id.(string); !ok || s.ID == "" {
			return Service{}, errors.New("service id is not a non-empty string")
		}
	}
	t, ok := m["type"].(string)
	if !ok || t == "" {
		// DID Core also allows a list of types; no did:peer service in use has one.
		return Service{}, errors.New("service has no type, or one that is not a non-empty string")
	}
	s.Type = t
	ep, ok := m["serviceEndpoint"]
	if !ok {
		return Service{}, errors.New("service has no serviceEndpoint")
	}
	if err := checkServiceEndpoint(ep); err != nil {
		return Service{}, err
	}
	s.ServiceEndpoint = ep
	for k, v := range m {
		if k == "id" || k == "type" || k == "serviceEndpoint" {
			continue
		}
		if s.Extra == nil {
			s.Extra = make(map[string]any)
		}
		s.Extra[k] = v
	}
	return s, nil
}

// checkServiceEndpoint checks the shape DID Core gives a serviceEndpoint: a
// string, a map, or a set of one or more strings and maps.
func checkServiceEndpoint(ep any) error {
	switch ep := ep.(type) {
	case string:
		if ep == "" {
			return errors.New("service endpoint is an empty string")
		}
		return nil
	case map[string]any:
		return nil
	case []any:
		if len(ep) == 0 {
			return errors.New("service endpoint is an empty list")
		}
		for i, x := range ep {
			switch x := x.(type) {
			case string:
				if x == "" {
					return fmt.Errorf("service endpoint %d is an empty string", i+1)
				}
			case map[string]any:
			default:
				return fmt.Errorf("service endpoint %d is neither a string nor an object", i+1)
			}
		}
		return nil
	default:
		return errors.New("service endpoint is neither a string, an object nor a list")
	}
}

// toMap returns s as a decoded JSON object, whatever Go values its endpoint
// and extra properties were given as.
func (s Service) toMap() (map[string]any, error) {
	data, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	v, err := jcs.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return v.(map[string]any), nil
}

// Lists reports whether refs, one of the document's verification
// relationships (doc.AssertionMethod, say), holds the verification method
// ref, comparing absolute and relative DID URLs alike.
func (doc *Document) Lists(refs []string, ref string) bool {
	want := doc.Absolute(ref)
	for _, r := range refs {
		if doc.Absolute(r) == want {
			return true
		}
	}
	return false
}

// X25519Key returns the X25519 key of the document's key agreement method
// ref, checked as [keys.CheckX25519Public] checks keys.
func (doc *Document) X25519Key(ref string) ([]byte, error) {
	if !doc.Lists(doc.KeyAgreement, ref) {
		return nil, fmt.Errorf("key %q of %s is not a key agreement key", ref, doc.ID)
	}
	vm, ok := doc.FindVerificationMethod(ref)
	if !ok {
		return nil, fmt.Errorf("key %q is not in the document of %s", ref, doc.ID)
	}
	code, key, err := keys.DecodeMultikey(vm.PublicKeyMultibase)
	if err != nil {
		return nil, err
	}
	if code != keys.CodecX25519Pub {
		return nil, fmt.Errorf("key %q of %s is not an X25519 key", ref, doc.ID)
	}
	if err := keys.CheckX25519Public(key); err != nil {
		return nil, err
	}
	return key, nil
}
