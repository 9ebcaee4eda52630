package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"planet/core/jcs"
	"planet/core/keys"
)

// did:peer:2 (DIF Peer DID Method Specification, numalgo 2): the DID carries
// its whole document. After "did:peer:2" come one or more elements, each a
// "." and a purpose code:
//
//	V  authentication        a Multikey: "z6Mk…" (Ed25519)
//	A  assertionMethod       a Multikey: "z6Mk…" (Ed25519)
//	I  capabilityInvocation  a Multikey: "z6Mk…" (Ed25519)
//	D  capabilityDelegation  a Multikey: "z6Mk…" (Ed25519)
//	E  keyAgreement          a Multikey: "z6LS…" (X25519)
//	S  service               base64url (no padding) of a JSON object
//
// Keys become verification methods "#key-1", "#key-2", … in the order they
// appear, whatever their purpose. A V key is listed under assertionMethod as
// well as authentication: the DIF specification lists it under
// authentication only, but OpenVTC (the First Person Network's reference
// client) resolves it into both, through affinidi's did:peer resolver
// (affinidi/affinidi-tdk-rs, crates/affinidi-did-resolver/affinidi-did-common/
// src/did_method/resolve.rs), and signs relationship credentials with the
// "#key-1" of a relationship DID for assertionMethod; a document without it
// would refuse every credential such a DID issues; services become "#service", "#service-1",
// "#service-2", … in the order they appear, unless they carry an id of their
// own. Service JSON is abbreviated: the keys type, serviceEndpoint,
// routingKeys and accept are written t, s, r and a, and the type
// DIDCommMessaging is written dm.
//
// PLANET checks a did:peer:2 completely when it is parsed, so that holding
// one means its document can be built: keys must be Ed25519 for V, A, I and D
// and X25519 for E (a key agreement key cannot sign, and PLANET does not turn
// a signing key into an encryption key behind the DID's back), each the one
// canonical encoding of a key that is not of small order; services must
// decode to a JSON object with a type and a serviceEndpoint. Other key types
// (secp256k1, P-256, …) are valid in the method but refused here as keys
// PLANET cannot use.

// Peer2Purpose is the purpose code of a key in a did:peer:2: which
// verification relationship of the document the key is in.
type Peer2Purpose byte

// The purpose codes of did:peer:2 keys.
const (
	Peer2Authentication       Peer2Purpose = 'V'
	Peer2Assertion            Peer2Purpose = 'A'
	Peer2KeyAgreement         Peer2Purpose = 'E'
	Peer2CapabilityInvocation Peer2Purpose = 'I'
	Peer2CapabilityDelegation Peer2Purpose = 'D'
)

// peer2Service is the purpose code of a service element.
const peer2Service = 'S'

// String returns the name of the verification relationship, such as
// "authentication", or the code in quotes if it is not one of the five.
func (p Peer2Purpose) String() string {
	switch p {
	case Peer2Authentication:
		return "authentication"
	case Peer2Assertion:
		return "assertionMethod"
	case Peer2KeyAgreement:
		return "keyAgreement"
	case Peer2CapabilityInvocation:
		return "capabilityInvocation"
	case Peer2CapabilityDelegation:
		return "capabilityDelegation"
	}
	return strconv.Quote(string([]byte{byte(p)}))
}

// Peer2Key is one key of a did:peer:2: what it is for, and the key as a
// Multikey ("z6Mk…" for Ed25519, "z6LS…" for X25519).
type Peer2Key struct {
	Purpose  Peer2Purpose
	Multikey string
}

// peer2Element is one parsed element of a did:peer:2: a key or a service.
type peer2Element struct {
	key     Peer2Key // when service is nil
	service *Service
}

// NewPeer2 returns the did:peer:2 DID of keys and services, in that order:
// keys in the order given (so the first is "#key-1"), then the services.
//
// Each key must suit its purpose (Ed25519 to sign, X25519 for key
// agreement). A service needs a Type and a ServiceEndpoint; an ID is written
// into the DID only when it differs from the one resolution would give the
// service anyway ("#service", "#service-1", …). The service JSON is written
// abbreviated, keys in a fixed order, so the same arguments always make the
// same DID.
//
// The result is checked exactly as [Parse] checks a DID, so NewPeer2 never
// returns a DID that could not be parsed back; the error for bad arguments
// wraps [ErrInvalid], as Parse's would.
func NewPeer2(keys []Peer2Key, services ...Service) (DID, error) {
	return newPeer2(keys, services, true)
}

// NewPeer2Unabbreviated is [NewPeer2], except that the properties of each
// service endpoint object are written in full ("accept", "routingKeys"),
// only the service's own type, serviceEndpoint and DIDCommMessaging being
// abbreviated. That is how OpenVTC writes the relationship DIDs it mints
// (affinidi's did:peer, crates/affinidi-did-resolver/affinidi-did-common/src/
// did_method/peer.rs: {"t":"dm","s":{"uri":…,"accept":["didcomm/v2"]}}),
// and the only spelling its resolver reads an accept list from: it takes an
// endpoint with "a" for one without accept. Both spellings resolve to the
// same document here.
func NewPeer2Unabbreviated(keys []Peer2Key, services ...Service) (DID, error) {
	return newPeer2(keys, services, false)
}

func newPeer2(keys []Peer2Key, services []Service, abbreviateEndpoints bool) (DID, error) {
	if len(keys) == 0 && len(services) == 0 {
		return DID{}, fmt.Errorf("%w: did:peer:2 needs at least one key or service", ErrInvalid)
	}
	var b strings.Builder
	b.WriteString("did:" + MethodPeer + ":2")
	for i, k := range keys {
		if _, err := decodePeer2Key(k.Purpose, k.Multikey); err != nil {
			return DID{}, fmt.Errorf("%w: did:peer:2 key %d: %w", ErrInvalid, i+1, err)
		}
		b.WriteByte('.')
		b.WriteByte(byte(k.Purpose))
		b.WriteString(k.Multikey)
	}
	for i, s := range services {
		enc, err := encodePeer2Service(s, i, abbreviateEndpoints)
		if err != nil {
			return DID{}, fmt.Errorf("%w: did:peer:2 service %d: %w", ErrInvalid, i+1, err)
		}
		b.WriteString(".S")
		b.WriteString(enc)
	}
	return Parse(b.String())
}

// Peer2Keys returns the keys of a did:peer:2 for an Ed25519 public key: the
// key itself for authentication ("#key-1") and the X25519 key derived from it
// for key agreement ("#key-2"), the same pair that its did:key document
// lists. It panics if pub is not a key that [FromEd25519] accepts.
//
// A did:peer made from a person's own key can be linked by anyone to their
// did:key, and to every other did:peer made from it: it names a channel, it
// does not hide who is at the other end. Unlinkable pairwise DIDs need a fresh
// key for each relationship, passed to [NewPeer2] in the same way.
func Peer2Keys(pub ed25519.PublicKey) []Peer2Key {
	xpub, err := keys.X25519PublicFromEd25519(pub)
	if err != nil {
		panic("did: Peer2Keys: " + err.Error())
	}
	return []Peer2Key{
		{Purpose: Peer2Authentication, Multikey: keys.Ed25519Multikey(pub)},
		{Purpose: Peer2KeyAgreement, Multikey: keys.X25519Multikey(xpub)},
	}
}

// DIDCommService returns a DIDComm v2 messaging service (type
// DIDCommMessaging) for the endpoint uri, accepting "didcomm/v2", with the
// routing keys of any mediators in the order a message passes them.
func DIDCommService(uri string, routingKeys ...string) Service {
	endpoint := map[string]any{"uri": uri, "accept": []any{"didcomm/v2"}}
	if len(routingKeys) > 0 {
		rk := make([]any, len(routingKeys))
		for i, k := range routingKeys {
			rk[i] = k
		}
		endpoint["routingKeys"] = rk
	}
	return Service{Type: ServiceTypeDIDCommMessaging, ServiceEndpoint: endpoint}
}

// peer2Document builds the document of the did:peer:2 did from its parsed
// elements.
func peer2Document(did string, elements []peer2Element) *Document {
	doc := &Document{
		Context:            []string{ContextDIDv1, ContextMultikeyV1},
		ID:                 did,
		VerificationMethod: []VerificationMethod{}, // "[]", not null, for a DID with services only
	}
	relationship := map[Peer2Purpose]*[]string{
		Peer2Authentication:       &doc.Authentication,
		Peer2Assertion:            &doc.AssertionMethod,
		Peer2KeyAgreement:         &doc.KeyAgreement,
		Peer2CapabilityInvocation: &doc.CapabilityInvocation,
		Peer2CapabilityDelegation: &doc.CapabilityDelegation,
	}
	for _, e := range elements {
		if e.service != nil {
			s := *e.service
			if s.ID == "" {
				s.ID = peer2ServiceID(len(doc.Service))
			}
			doc.Service = append(doc.Service, s)
			continue
		}
		vm := VerificationMethod{
			ID:                 "#key-" + strconv.Itoa(len(doc.VerificationMethod)+1),
			Type:               MultikeyType,
			Controller:         did,
			PublicKeyMultibase: e.key.Multikey,
		}
		doc.VerificationMethod = append(doc.VerificationMethod, vm)
		r := relationship[e.key.Purpose]
		*r = append(*r, vm.ID)
		if e.key.Purpose == Peer2Authentication {
			doc.AssertionMethod = append(doc.AssertionMethod, vm.ID)
		}
	}
	return doc
}

// peer2ServiceID is the id that resolution gives the i-th service (from 0)
// when it has none of its own.
func peer2ServiceID(i int) string {
	if i == 0 {
		return "#service"
	}
	return "#service-" + strconv.Itoa(i)
}

// parsePeer2 parses the elements of a did:peer:2, rest being what follows
// "did:peer:2". Errors read well after "did:peer ".
func parsePeer2(rest string) ([]peer2Element, error) {
	list, ok := strings.CutPrefix(rest, ".")
	if !ok {
		return nil, errors.New(`numalgo 2 must be followed by "." and an element`)
	}
	var elements []peer2Element
	ids := make(map[string]bool) // of the services so far, their own or given
	services := 0
	for i, e := range strings.Split(list, ".") {
		if e == "" {
			return nil, fmt.Errorf("numalgo 2 element %d is empty", i+1)
		}
		code, value := e[0], e[1:]
		if code == peer2Service {
			s, err := decodePeer2Service(value)
			if err != nil {
				return nil, fmt.Errorf("numalgo 2 element %d: %w", i+1, err)
			}
			id := s.ID
			if id == "" {
				id = peer2ServiceID(services)
			}
			if ids[id] {
				return nil, fmt.Errorf("numalgo 2 element %d: service id %q is used twice", i+1, id)
			}
			ids[id] = true
			services++
			elements = append(elements, peer2Element{service: &s})
			continue
		}
		purpose := Peer2Purpose(code)
		if !strings.ContainsRune("VAEID", rune(code)) {
			return nil, fmt.Errorf("numalgo 2 element %d has unknown purpose code %q", i+1, e[:1])
		}
		if _, err := decodePeer2Key(purpose, value); err != nil {
			return nil, fmt.Errorf("numalgo 2 element %d: %w", i+1, err)
		}
		elements = append(elements, peer2Element{key: Peer2Key{Purpose: purpose, Multikey: value}})
	}
	// Ids of keys are checked against those of services only now: a
	// service may come before the key whose id it takes.
	keys := 0
	for _, e := range elements {
		if e.service == nil {
			keys++
			if id := "#key-" + strconv.Itoa(keys); ids[id] {
				return nil, fmt.Errorf("numalgo 2 service id %q is the id of a key", id)
			}
		}
	}
	return elements, nil
}

// decodePeer2Key checks that multikey is a key PLANET can use for purpose,
// and returns its raw bytes.
func decodePeer2Key(purpose Peer2Purpose, multikey string) ([]byte, error) {
	var want keys.Codec
	switch purpose {
	case Peer2Authentication, Peer2Assertion, Peer2CapabilityInvocation, Peer2CapabilityDelegation:
		want = keys.CodecEd25519Pub
	case Peer2KeyAgreement:
		want = keys.CodecX25519Pub
	default:
		return nil, fmt.Errorf("unknown purpose code %s", purpose)
	}
	code, key, err := keys.DecodeMultikey(multikey)
	if err != nil {
		return nil, err
	}
	if code != keys.CodecEd25519Pub && code != keys.CodecX25519Pub {
		return nil, fmt.Errorf("multikey holds unsupported key type %s: only ed25519-pub (0xed) and x25519-pub (0xec) are accepted", code)
	}
	if code != want {
		return nil, fmt.Errorf("%s key must be %s, not %s", purpose, want, code)
	}
	if code == keys.CodecEd25519Pub {
		err = keys.CheckEd25519(key)
	} else {
		err = keys.CheckX25519Public(key)
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

// peer2ServiceEncoding is base64url without padding; strict, so that the
// unused low bits of the last digit must be zero and a service has one
// spelling.
var peer2ServiceEncoding = base64.RawURLEncoding.Strict()

// Abbreviations of service JSON in a did:peer:2: of the keys of the service
// object, of the keys of its serviceEndpoint object (or of each object in its
// serviceEndpoint list), and of the value of its type. Nothing deeper is
// abbreviated.
var (
	peer2ServiceKeys  = map[string]string{"t": "type", "s": "serviceEndpoint", "r": "routingKeys", "a": "accept"}
	peer2EndpointKeys = map[string]string{"r": "routingKeys", "a": "accept"}
	peer2ServiceTypes = map[string]string{"dm": ServiceTypeDIDCommMessaging}
)

// decodePeer2Service decodes the value of an "S" element.
func decodePeer2Service(value string) (Service, error) {
	if value == "" {
		return Service{}, errors.New("service is empty")
	}
	if !isBase64URL(value) {
		return Service{}, errors.New("service is not base64url")
	}
	data, err := peer2ServiceEncoding.DecodeString(value)
	if err != nil {
		return Service{}, fmt.Errorf("service is not base64url without padding: %w", err)
	}
	v, err := jcs.Decode(data)
	if err != nil {
		return Service{}, fmt.Errorf("service is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Service{}, errors.New("service is not a JSON object")
	}
	expanded, err := expandKeys(m, peer2ServiceKeys)
	if err != nil {
		return Service{}, fmt.Errorf("service %w", err)
	}
	if t, ok := expanded["type"].(string); ok {
		if full, ok := peer2ServiceTypes[t]; ok {
			expanded["type"] = full
		}
	}
	switch ep := expanded["serviceEndpoint"].(type) {
	case map[string]any:
		if expanded["serviceEndpoint"], err = expandKeys(ep, peer2EndpointKeys); err != nil {
			return Service{}, fmt.Errorf("service endpoint %w", err)
		}
	case []any:
		list := make([]any, len(ep))
		for i, x := range ep {
			list[i] = x
			if o, ok := x.(map[string]any); ok {
				if list[i], err = expandKeys(o, peer2EndpointKeys); err != nil {
					return Service{}, fmt.Errorf("service endpoint %d %w", i+1, err)
				}
			}
		}
		expanded["serviceEndpoint"] = list
	}
	return serviceFromMap(expanded)
}

// expandKeys returns a copy of m with its abbreviated keys spelled out. A key
// written both ways is an error: which one would win is not defined.
func expandKeys(m map[string]any, abbreviations map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if full, ok := abbreviations[k]; ok {
			if _, dup := m[full]; dup {
				return nil, fmt.Errorf("has both %q and %q", k, full)
			}
			k = full
		}
		out[k] = v
	}
	return out, nil
}

// encodePeer2Service returns the value of the "S" element for s, the i-th
// service (from 0). Keys are abbreviated, and written in a fixed order: the
// service's t, s, r, a, then the rest sorted; an endpoint object's uri, a, r,
// then the rest sorted. That is the order of the examples in the did:peer
// specification, so PLANET writes the same DIDs as they show. With
// abbreviateEndpoint false, an endpoint object's keys are written in full, in
// the order uri, accept, routingKeys, then the rest sorted.
func encodePeer2Service(s Service, i int, abbreviateEndpoint bool) (string, error) {
	if s.ID == peer2ServiceID(i) {
		s.ID = "" // resolution gives it this id anyway
	}
	m, err := s.toMap()
	if err != nil {
		return "", err
	}
	if _, err := serviceFromMap(m); err != nil {
		return "", err
	}
	abbreviated, err := abbreviateKeys(m, peer2ServiceKeys)
	if err != nil {
		return "", fmt.Errorf("service %w", err)
	}
	abbreviated["t"] = abbreviate(m["type"].(string), peer2ServiceTypes)
	endpoint, nested := abbreviateKeys, []string{"uri", "a", "r"}
	if !abbreviateEndpoint {
		endpoint, nested = fullKeys, []string{"uri", "accept", "routingKeys"}
	}
	switch ep := m["serviceEndpoint"].(type) {
	case map[string]any:
		if abbreviated["s"], err = endpoint(ep, peer2EndpointKeys); err != nil {
			return "", fmt.Errorf("service endpoint %w", err)
		}
	case []any:
		list := make([]any, len(ep))
		for i, x := range ep {
			list[i] = x
			if o, ok := x.(map[string]any); ok {
				if list[i], err = endpoint(o, peer2EndpointKeys); err != nil {
					return "", fmt.Errorf("service endpoint %d %w", i+1, err)
				}
			}
		}
		abbreviated["s"] = list
	}
	var b bytes.Buffer
	if err := writeOrderedJSON(&b, abbreviated, []string{"t", "s", "r", "a"}, nested); err != nil {
		return "", err
	}
	return peer2ServiceEncoding.EncodeToString(b.Bytes()), nil
}

// abbreviate returns the abbreviation of full in abbreviations (which maps
// abbreviations to full spellings), or full if it has none.
func abbreviate(full string, abbreviations map[string]string) string {
	for short, f := range abbreviations {
		if f == full {
			return short
		}
	}
	return full
}

// abbreviateKeys returns a copy of m with its keys abbreviated. A key that
// is itself an abbreviation cannot be written: it would be read back as the
// key it abbreviates.
func abbreviateKeys(m map[string]any, abbreviations map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if full, ok := abbreviations[k]; ok {
			return nil, fmt.Errorf("property %q cannot be written in a did:peer:2: it would be read as %q", k, full)
		}
		out[abbreviate(k, abbreviations)] = v
	}
	return out, nil
}

// fullKeys returns a copy of m with its keys as they are, refusing a key
// that is an abbreviation for the same reason as abbreviateKeys.
func fullKeys(m map[string]any, abbreviations map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if full, ok := abbreviations[k]; ok {
			return nil, fmt.Errorf("property %q cannot be written in a did:peer:2: it would be read as %q", k, full)
		}
		out[k] = v
	}
	return out, nil
}

// writeOrderedJSON writes v as compact JSON without HTML escaping. The keys
// of the top object come in the order first, then sorted; those of objects
// below it in the order nested, then sorted.
func writeOrderedJSON(b *bytes.Buffer, v any, first, nested []string) error {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for _, k := range first {
			if _, ok := v[k]; ok {
				keys = append(keys, k)
			}
		}
		rest := make([]string, 0, len(v))
		for k := range v {
			if !slices.Contains(first, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		keys = append(keys, rest...)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONScalar(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeOrderedJSON(b, v[k], nested, nested); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeOrderedJSON(b, x, nested, nested); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	default:
		return writeJSONScalar(b, v)
	}
}

func writeJSONScalar(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode adds a newline
	return nil
}
