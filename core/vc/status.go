package vc

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"planet/core/did"
	"planet/core/jcs"

	"github.com/mr-tron/base58"
)

// Revocation and suspension with W3C Bitstring Status List v1.0: a
// credential's credentialStatus names a bit of a list that its issuer
// publishes as a credential of its own; the bit set means revoked (or
// suspended, as the entry's statusPurpose says).

// Status list terms.
const (
	StatusEntryType          = "BitstringStatusListEntry"
	StatusListCredentialType = "BitstringStatusListCredential"
	StatusListType           = "BitstringStatusList"
	StatusPurposeRevocation  = "revocation"
	StatusPurposeSuspension  = "suspension"
)

// MaxStatusListBits bounds a decompressed status list (16 MiB of bits, far
// above the 131,072 the specification asks for at least), so that a hostile
// list cannot make PLANET inflate gigabytes.
const MaxStatusListBits = 16 << 20 * 8

// Errors of status checks, wrapped in the [*VerifyError] of [CheckStatus].
var (
	// ErrRevoked reports a credential whose status bit is set: its issuer
	// revoked (or suspended) it. Revocation is final for PLANET.
	ErrRevoked = errors.New("credential revoked")
	// ErrStatusUnchecked reports a credential with a credentialStatus that
	// could not be checked: no fetcher was given, or the list could not be
	// had or did not verify. PLANET does not accept what it cannot check.
	ErrStatusUnchecked = errors.New("credential status not checked")
)

// StatusEntry is a credential's credentialStatus: a BitstringStatusListEntry.
type StatusEntry struct {
	ID                   string // "id", optional
	Type                 string // "type": "BitstringStatusListEntry"
	StatusPurpose        string // "statusPurpose": "revocation", "suspension", …
	StatusListIndex      string // "statusListIndex": a decimal integer, as a string
	StatusListCredential string // "statusListCredential": the URL of the list credential
}

var statusEntryMembers = []string{"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"}

// A StatusListFetcher gets the status list credential at url, as the bytes
// received: over HTTPS in a browser, from a cache, or from memory in tests.
type StatusListFetcher interface {
	FetchStatusList(ctx context.Context, url string) ([]byte, error)
}

func parseStatus(v any) (*StatusEntry, error) {
	obj, ok := v.(jcs.Object)
	if !ok {
		return nil, errors.New("not a JSON object (PLANET reads one status entry)")
	}
	s := &StatusEntry{}
	for _, m := range obj {
		var err error
		switch m.Name {
		case "id":
			s.ID, err = credString(m.Value)
		case "type":
			s.Type, err = credString(m.Value)
		case "statusPurpose":
			s.StatusPurpose, err = credString(m.Value)
		case "statusListIndex":
			s.StatusListIndex, err = credString(m.Value)
		case "statusListCredential":
			s.StatusListCredential, err = credString(m.Value)
		default:
			err = errors.New("unsupported status entry member")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return s, nil
}

func (s *StatusEntry) appendJSON(b []byte) ([]byte, error) {
	w := credWriter{b: b}
	w.string("id", s.ID)
	w.string("type", s.Type)
	w.string("statusPurpose", s.StatusPurpose)
	w.string("statusListIndex", s.StatusListIndex)
	w.string("statusListCredential", s.StatusListCredential)
	return w.end()
}

// index checks the entry's shape and returns its index.
func (s *StatusEntry) index() (int, error) {
	switch {
	case s.Type != StatusEntryType:
		return 0, fmt.Errorf("status entry type is %q, want %q", s.Type, StatusEntryType)
	case s.StatusPurpose == "":
		return 0, errors.New("status entry has no statusPurpose")
	case s.StatusListCredential == "":
		return 0, errors.New("status entry has no statusListCredential")
	}
	i, err := strconv.Atoi(s.StatusListIndex)
	if err != nil || i < 0 || strconv.Itoa(i) != s.StatusListIndex {
		return 0, fmt.Errorf("statusListIndex %q is not a non-negative decimal integer", s.StatusListIndex)
	}
	return i, nil
}

// CheckStatus checks c's credentialStatus, if it has one: it fetches the
// status list credential with f, checks that it is a
// BitstringStatusListCredential of the same issuer and purpose, signed by the
// issuer (eddsa-jcs-2022, assertionMethod, resolved with r) and valid at now,
// and reads the entry's bit. A bit set gives a [*VerifyError] wrapping
// [ErrRevoked]; anything that prevents the check one wrapping
// [ErrStatusUnchecked]. A credential without credentialStatus passes.
func CheckStatus(ctx context.Context, c *Credential, f StatusListFetcher, r did.Resolver, now time.Time) error {
	if c.Status == nil {
		return nil
	}
	unchecked := func(format string, args ...any) error {
		return &VerifyError{Check: CheckCredentialStatus, Err: fmt.Errorf("%w: %s", ErrStatusUnchecked, fmt.Sprintf(format, args...))}
	}
	index, err := c.Status.index()
	if err != nil {
		return unchecked("%v", err)
	}
	if f == nil {
		return unchecked("no status list fetcher")
	}
	data, err := f.FetchStatusList(ctx, c.Status.StatusListCredential)
	if err != nil {
		return unchecked("fetching the status list: %v", err)
	}
	bits, err := verifiedStatusList(ctx, data, c, r, now)
	if err != nil {
		return unchecked("status list: %v", err)
	}
	if index >= len(bits)*8 {
		return unchecked("statusListIndex %d is past the list's %d bits", index, len(bits)*8)
	}
	// Bit 0 is the most significant bit of the first byte.
	if bits[index/8]&(0x80>>(index%8)) != 0 {
		return &VerifyError{Check: CheckCredentialStatus, Err: fmt.Errorf("%w: %s bit %d of %s is set", ErrRevoked, c.Status.StatusPurpose, index, c.Status.StatusListCredential)}
	}
	return nil
}

// verifiedStatusList checks the status list credential data for c and
// returns its decompressed bitstring.
func verifiedStatusList(ctx context.Context, data []byte, c *Credential, r did.Resolver, now time.Time) ([]byte, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%d bytes, more than %d", len(data), MaxSize)
	}
	doc, err := jcs.DecodeObject(data)
	if err != nil {
		return nil, err
	}
	types, _ := doc["type"].([]any)
	if !slices.Contains(types, any(TypeVerifiableCredential)) || !slices.Contains(types, any(StatusListCredentialType)) {
		return nil, fmt.Errorf("type is not %s", StatusListCredentialType)
	}
	if issuer, _ := doc["issuer"].(string); issuer != c.Issuer.String() {
		return nil, fmt.Errorf("issued by %q, not by the credential's issuer", issuer)
	}
	if err := VerifyDocument(ctx, r, doc, c.Issuer, ProofPurposeAssertion, now); err != nil {
		return nil, err
	}
	for name, after := range map[string]bool{"validFrom": false, "validUntil": true} {
		s, ok := doc[name].(string)
		if !ok {
			continue
		}
		t, err := ParseCredentialTime(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !after && now.Before(t.Time()) || after && now.After(t.Time()) {
			return nil, fmt.Errorf("not valid at %s (%s %s)", now.UTC().Format(time.RFC3339), name, s)
		}
	}
	subject, _ := doc["credentialSubject"].(map[string]any)
	if t, _ := subject["type"].(string); t != StatusListType {
		return nil, fmt.Errorf("credentialSubject type is %q, want %q", t, StatusListType)
	}
	if p, _ := subject["statusPurpose"].(string); p != c.Status.StatusPurpose {
		return nil, fmt.Errorf("list is for %q, the entry for %q", p, c.Status.StatusPurpose)
	}
	encoded, _ := subject["encodedList"].(string)
	return DecodeStatusList(encoded)
}

// DecodeStatusList decodes a status list's encodedList: multibase base64url
// without padding ("u…") of the GZIP-compressed bitstring. It refuses a list
// that decompresses to more than [MaxStatusListBits].
func DecodeStatusList(encoded string) ([]byte, error) {
	b64, ok := cutPrefix(encoded, "u")
	if !ok {
		return nil, errors.New("encodedList is not multibase base64url ('u')")
	}
	gz, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("encodedList is not gzip: %w", err)
	}
	bits, err := io.ReadAll(io.LimitReader(zr, MaxStatusListBits/8+1))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	if len(bits) > MaxStatusListBits/8 {
		return nil, fmt.Errorf("encodedList decompresses to more than %d bits", MaxStatusListBits)
	}
	if len(bits) == 0 {
		return nil, errors.New("encodedList is empty")
	}
	return bits, nil
}

// EncodeStatusList encodes a bitstring as an encodedList (GZIP, then
// multibase base64url), for issuers and tests.
func EncodeStatusList(bits []byte) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(bits)
	zw.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(b.Bytes())
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// DigestMultibase returns the digestMultibase of a credential as received:
// multibase base58btc ("z") of the sha2-256 multihash (0x12 0x20 and the 32
// bytes) of the RFC 8785 form of the credential without its proof. data
// must be a JSON object; other JSON is refused with an error wrapping
// [ErrInvalidCredential].
func DigestMultibase(data []byte) (string, error) {
	doc, err := jcs.DecodeObject(data)
	if err != nil {
		return "", fmt.Errorf("%w: digest: %w", ErrInvalidCredential, err)
	}
	delete(doc, "proof")
	canonical, err := canonicalJSON(doc)
	if err != nil {
		return "", fmt.Errorf("%w: digest: %w", ErrInvalidCredential, err)
	}
	return Multihash(canonical), nil
}

// Multihash returns multibase base58btc of the sha2-256 multihash of data.
func Multihash(data []byte) string {
	sum := sha256.Sum256(data)
	return "z" + base58.Encode(append([]byte{0x12, 0x20}, sum[:]...))
}
