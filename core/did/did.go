package did

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"planet/core/keys"
)

// Errors returned by [Parse] and by methods of [DID]. Each is wrapped with
// a description of what is wrong, so test for them with [errors.Is].
var (
	// ErrInvalid reports a string that is not a DID PLANET can use: it
	// breaks the W3C DID syntax, or the rules of its method (a did:key whose
	// key is not an Ed25519 public key, for instance). It is also returned
	// by methods called on the zero DID.
	ErrInvalid = errors.New("invalid did")

	// ErrUnsupportedMethod reports a well-formed DID whose method PLANET does
	// not handle (Parse), or cannot yet resolve to a document
	// ([DID.Document]).
	ErrUnsupportedMethod = errors.New("unsupported did method")
)

// MaxLength is the longest DID, in bytes, that [Parse] accepts. DID Core
// sets no limit; this one leaves room for did:peer:2 and did:peer:4 long forms
// that carry a few keys and services, and bounds the work that hostile input
// can cause.
const MaxLength = 4096

// Methods that [Parse] accepts.
const (
	MethodKey  = "key"  // did:key, Ed25519 keys only
	MethodPeer = "peer" // did:peer: numalgo 2 checked fully, others for syntax only
	// MethodWebVH ("webvh", did:webvh 1.0) is declared in didwebvh.go: its
	// identifier is checked fully, its resolution is package webvh's.
)

// DID is a decentralised identifier (W3C DID Core), such as
// "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp".
//
// A DID is made only by [Parse] or [FromEd25519], so holding one means
// it is valid. The zero DID is not valid: [DID.IsZero] reports it. DIDs are
// comparable with ==, which compares their exact text: DID Core defines no
// normalisation, and did:key and did:peer have a single spelling for each
// identifier.
type DID struct {
	s string // the whole DID, as parsed
}

// Parse parses s as a DID and checks it against the rules of its method.
//
// The syntax is that of W3C DID Core ("did:" method ":" method-specific-id,
// the method name of lowercase letters and digits, the id of ALPHA / DIGIT /
// "." / "-" / "_" / pct-encoded, segments separated by ":"), with two
// tightenings: no segment of the id may be empty, and s may be at most
// [MaxLength] bytes. DID URLs (with a path, query or fragment) are not DIDs
// and are rejected.
//
// Of the methods, did:key is checked fully and must hold an Ed25519 public
// key; so is did:peer:2, its keys and services (see [NewPeer2]); the other
// did:peer numalgos (0, 1, 3, 4) are checked for syntax only; did:webvh is
// checked against its method's identifier rules (see [DID.WebVHLocation]),
// which refuse IP addresses and path segments such as "..". A well-formed
// DID of any other method returns an error wrapping [ErrUnsupportedMethod];
// anything malformed returns one wrapping [ErrInvalid].
func Parse(s string) (DID, error) {
	method, id, err := splitDID(s)
	if err != nil {
		return DID{}, err
	}
	switch method {
	case MethodKey:
		_, err = parseKeyID(id)
	case MethodPeer:
		err = checkPeerID(id)
	case MethodWebVH:
		_, err = parseWebVHID(id)
	default:
		err = fmt.Errorf("%w %q", ErrUnsupportedMethod, method)
	}
	if err != nil {
		return DID{}, err
	}
	return DID{s: s}, nil
}

// ParseAnyMethod parses s as a DID of any method, for DIDs that others name
// and a [Resolver] may know: the sender and recipients of a DIDComm message,
// a mediator's DID. It checks s as [Parse] does, rules of the method
// included for did:key and did:peer; a well-formed DID of another method is
// accepted for its syntax alone rather than refused with
// [ErrUnsupportedMethod]. Whether such a DID means anything is for the
// resolver to say: [Local] refuses it with ErrUnsupportedMethod.
func ParseAnyMethod(s string) (DID, error) {
	d, err := Parse(s)
	if errors.Is(err, ErrUnsupportedMethod) {
		return DID{s: s}, nil
	}
	return d, err
}

// FromEd25519 returns the did:key DID of an Ed25519 public key. It panics
// if pub is not [ed25519.PublicKeySize] bytes long, or is not a point that
// [Parse] would accept (a key from [ed25519.GenerateKey] or
// [ed25519.NewKeyFromSeed] always is): a DID that could not be parsed back
// must never be made.
func FromEd25519(pub ed25519.PublicKey) DID {
	if err := keys.CheckEd25519(pub); err != nil {
		panic("did: FromEd25519: " + err.Error())
	}
	return DID{s: "did:" + MethodKey + ":" + keys.Ed25519Multikey(pub)}
}

// String returns the DID as text, exactly as it was parsed; it returns "" for
// the zero DID.
func (d DID) String() string { return d.s }

// IsZero reports whether d is the zero DID, which is not valid.
func (d DID) IsZero() bool { return d.s == "" }

// Method returns the DID's method name, such as "key" or "peer"; it returns
// "" for the zero DID.
func (d DID) Method() string {
	method, _ := d.split()
	return method
}

// Ed25519PublicKey returns the public key of a did:key DID. It returns an error
// wrapping [ErrInvalid] for the zero DID and for DIDs of other methods.
func (d DID) Ed25519PublicKey() (ed25519.PublicKey, error) {
	method, id := d.split()
	switch method {
	case "":
		return nil, fmt.Errorf("%w: zero did has no key", ErrInvalid)
	case MethodKey:
		return parseKeyID(id)
	default:
		return nil, fmt.Errorf("%w: did:%s does not name an ed25519 key", ErrInvalid, method)
	}
}

// MethodSpecificID returns the part of d after its method: for
// "did:key:z6Mk…", "z6Mk…".
func (d DID) MethodSpecificID() string {
	_, id := d.split()
	return id
}

// Short returns d shortened for people to read, such as
// "did:key:z6MkiT…ooWp": the method, the first few characters of the id and
// the last four. Short DIDs are for display only; they do not name a person
// uniquely.
func Short(d DID) string {
	s := d.String()
	method, id := d.split()
	if len(id) <= 12 {
		return s
	}
	return "did:" + method + ":" + id[:6] + "…" + id[len(id)-4:]
}

// split returns the method name and the method-specific id of a parsed DID.
func (d DID) split() (method, id string) {
	if d.s == "" {
		return "", ""
	}
	method, id, _ = strings.Cut(d.s[len("did:"):], ":")
	return method, id
}

// splitDID checks s against the generic DID syntax and splits it into the
// method name and the method-specific id.
func splitDID(s string) (method, id string, err error) {
	if len(s) > MaxLength {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLength)
	}
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok {
		return "", "", fmt.Errorf("%w: does not start with \"did:\"", ErrInvalid)
	}
	method, id, ok = strings.Cut(rest, ":")
	if !ok {
		return "", "", fmt.Errorf("%w: no method-specific id after the method name", ErrInvalid)
	}
	if method == "" {
		return "", "", fmt.Errorf("%w: empty method name", ErrInvalid)
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return "", "", fmt.Errorf("%w: method name has %q: only lowercase letters and digits are allowed", ErrInvalid, method[i:i+1])
		}
	}
	if err := checkMethodSpecificID(id); err != nil {
		return "", "", fmt.Errorf("%w: method-specific id %w", ErrInvalid, err)
	}
	return method, id, nil
}

// checkMethodSpecificID checks id against DID Core's method-specific-id
// production, and also rejects empty segments, which DID Core allows between
// colons but no method we know of uses.
func checkMethodSpecificID(id string) error {
	if id == "" {
		return errors.New("is empty")
	}
	if id[len(id)-1] == ':' {
		return errors.New("ends with a colon")
	}
	segmentStart := 0
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == ':':
			if i == segmentStart {
				return fmt.Errorf("has an empty segment at offset %d", i)
			}
			segmentStart = i + 1
		case c == '%':
			if i+2 >= len(id) || !isHexDigit(id[i+1]) || !isHexDigit(id[i+2]) {
				return fmt.Errorf("has a bad percent-encoding at offset %d: want %% and two hex digits", i)
			}
			i += 2
		case !IsIDChar(c):
			return fmt.Errorf("has %q at offset %d: not allowed in a did", id[i:i+1], i)
		}
	}
	return nil
}

// IsIDChar reports whether c is an idchar of DID Core other than the
// percent-encoding: ALPHA / DIGIT / "." / "-" / "_".
func IsIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '-' || c == '_'
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
