// Package vc reads, writes, issues and verifies PLANET's verifiable
// credentials: W3C Verifiable Credentials 2.0 in the shape of the
// Decentralized Trust Graph (DTG) work of the First Person Network, each
// secured by one Data Integrity proof with the cryptosuite eddsa-jcs-2022
// (W3C VC Data Integrity EdDSA Cryptosuites v1.0). The format is described
// on [Credential], the proof on [DataIntegrityProof], reading on [Parse] and
// the checks on [Verify].
//
// The test vectors in testdata/credentials (valid, invalid with the check
// that refuses each, malformed) are data for other implementations too.
package vc

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/eddsajcs"
	"planet/core/internal/input"
	"planet/core/jcs"
	"planet/core/keys"

	"github.com/mr-tron/base58"
)

// JSON-LD contexts of credentials.
const (
	ContextCredentialsV2 = "https://www.w3.org/ns/credentials/v2"
	ContextDTGv1         = "https://registry.trustoverip.org/dtg/context/v1"
	// ContextRetiredDTG is the pre-v1 DTG context. DTG Credentials v1
	// retired it and OpenVTC's VTI-Eucalyptus release refuses it (openvtc-core
	// src/dtg.rs, parse_conformant): so does PLANET, with
	// [ErrRetiredContext]. Credentials kept before are still read ([Parse]
	// does not check contexts) but never verify again.
	ContextRetiredDTG = "https://firstperson.network/credentials/dtg/v1"
)

// contextFirstPersonPrefix starts the retired contexts, every one refused.
const contextFirstPersonPrefix = "https://firstperson.network/credentials/"

// ErrRetiredContext is wrapped by the [*VerifyError] (check "@context") of
// a credential under the retired https://firstperson.network/credentials/
// contexts.
var ErrRetiredContext = errors.New("retired pre-v1 DTG context")

// Credential types. A credential has exactly the first two and one concrete
// type.
const (
	TypeVerifiableCredential   = "VerifiableCredential"
	TypeDTGCredential          = "DTGCredential"
	TypeRelationshipCredential = "RelationshipCredential"
	TypeMembershipCredential   = "MembershipCredential"
	TypeInvitationCredential   = "InvitationCredential"
	TypeAuthorityCredential    = "AuthorityCredential"
)

// concreteTypes are the concrete DTG types PLANET verifies.
var concreteTypes = []string{TypeRelationshipCredential, TypeMembershipCredential, TypeInvitationCredential, TypeAuthorityCredential}

// Values of the other fixed members of a credential and its proof.
const (
	// IssuerScopeDirected is the issuerScope of a credential that a
	// person issues with the DID of their own identity, which every
	// counterparty they choose sees.
	IssuerScopeDirected = "directed"
	// IssuerScopePairwise is the issuerScope of a credential issued with a
	// DID used with one counterparty only: a relationship DID.
	IssuerScopePairwise = "pairwise"
	// IssuerScopePublic is the issuerScope of a credential issued with a
	// public DID (a community's).
	IssuerScopePublic = "public"

	ProofTypeDataIntegrity  = "DataIntegrityProof"
	CryptosuiteEdDSAJCS2022 = "eddsa-jcs-2022"
	ProofPurposeAssertion   = "assertionMethod"
)

// MaxSize is the largest credential, in bytes, that
// [Parse] reads. PLANET's own are well under 2 KiB; the limit
// leaves room for others' extra members and bounds the work of hostile
// input.
const MaxSize = 64 << 10

// MaxRelationshipContextLength is the most characters (Unicode code points)
// that [RelationshipContext.Context] may hold in a credential PLANET issues:
// a sentence or two.
const MaxRelationshipContextLength = 500

// ErrInvalidCredential is wrapped by the errors of [Parse] (data
// that is not a credential of the expected shape) and of [Verify] (a
// credential that fails a check, always a [*VerifyError]).
var ErrInvalidCredential = errors.New("invalid credential")

// Credential is a verifiable credential (W3C VC 2.0) of the DTG shape.
// [IssueRelationship] makes one and signs it; [Parse] reads one,
// which [Verify] then checks.
//
// A credential that PLANET writes is one JSON object with these members, in
// this order (the proof covers the values, not the order):
//
//	@context           ["https://www.w3.org/ns/credentials/v2",
//	                    "https://registry.trustoverip.org/dtg/context/v1"]
//	id                 "urn:uuid:" and a random (version 4) UUID, lowercase
//	type               ["VerifiableCredential", "DTGCredential", concrete],
//	                   concrete being "RelationshipCredential" (and, later,
//	                   "MembershipCredential")
//	issuer             the issuer's DID, a string
//	issuerScope        "directed": the issuer speaks for themselves, with the
//	                   DID of their own identity; "pairwise" when issued by a
//	                   relationship DID ([IssueRelationshipAs]); "public" is
//	                   read too
//	validFrom          when the credential starts to hold, and
//	validUntil         (optional) when it stops, both UTC to the second:
//	                   "2025-06-01T12:00:00Z"
//	credentialSubject  the other person:
//	  id               their DID
//	  context          (optional) how the two know each other, in the
//	                   issuer's own words: "met at the co-op AGM"
//	  introducedBy     (optional) the DID of whoever introduced them
//	proof              the proof: see [DataIntegrityProof]
//
// There is no whitespace, and strings have the escapes of RFC 8785.
// Credentials from elsewhere may carry credentialStatus (a
// BitstringStatusListEntry, [StatusEntry]), written after credentialSubject.
// Credentials under the retired https://firstperson.network/credentials/
// contexts are read (a vault keeps them as history) but never verify.
//
// Every member is optional to Parse, an absent member being the
// field's zero value, and [Verify] says which required ones are missing
// (credentialSubject alone must be there, as an object, since PLANET always
// writes it). Empty values ("" or []) are refused, so that absent and zero
// are one thing and encoding round-trips exactly. A credential is not meant
// to be changed once signed: any change to a field makes the proof fail.
type Credential struct {
	Context     []string            // "@context"
	ID          string              // "id", "urn:uuid:…"
	Type        []string            // "type"
	Issuer      did.DID             // "issuer"
	IssuerScope string              // "issuerScope"
	ValidFrom   CredentialTime      // "validFrom"
	ValidUntil  CredentialTime      // "validUntil"; zero for no end
	Subject     Subject             // "credentialSubject"
	Status      *StatusEntry        // "credentialStatus"; nil if none
	Proof       *DataIntegrityProof // "proof"; nil if unsigned

	// Extra holds the top-level members that PLANET does not know, by
	// name, as canonical JSON (RFC 8785): kept so that a credential from
	// elsewhere still verifies and re-encodes to what its issuer signed.
	// PLANET writes none.
	Extra map[string]json.RawMessage
}

// Subject is the credentialSubject of a credential: whom it is
// about, and, for a relationship, how the issuer knows them.
type Subject struct {
	ID did.DID // "id": the subject's DID
	RelationshipContext

	// Extra holds the members that PLANET does not know, as in
	// [Credential.Extra].
	Extra map[string]json.RawMessage
}

// RelationshipContext is what a relationship credential says about the
// relationship, beyond who the two people are.
type RelationshipContext struct {
	// Context is how the issuer and the subject know each other, in the
	// issuer's own words ("met at the co-op AGM", "my sister"); empty if
	// they gave none. JSON "context".
	Context string
	// IntroducedBy is the DID of the person who introduced them, or the
	// zero DID if nobody did. JSON "introducedBy".
	IntroducedBy did.DID
}

// DataIntegrityProof is the proof of a credential (W3C VC Data Integrity
// 1.0) with the cryptosuite eddsa-jcs-2022. PLANET writes:
//
//	@context            the credential's @context
//	type                "DataIntegrityProof"
//	cryptosuite         "eddsa-jcs-2022"
//	created             when it was signed, as validFrom
//	verificationMethod  the issuer's key: for did:key, "did:key:z6Mk…#z6Mk…",
//	                    which the issuer's DID document lists under
//	                    assertionMethod
//	proofPurpose        "assertionMethod"
//	proofValue          "z" and the base58btc of the 64-byte Ed25519 signature
//
// The proof configuration is the proof without proofValue, with @context
// set to the credential's @context; the unsecured document is the
// credential without proof. The signature is the Ed25519 signature of the
// 64 bytes
//
//	SHA-256(JCS(proof configuration)) || SHA-256(JCS(unsecured document))
//
// (the configuration's hash first), JCS being the canonical JSON of RFC 8785
// ([Canonicalize]). The proof PLANET writes carries the @context itself, as
// the cryptosuite's Create Proof algorithm has it, so that verifiers that
// take the configuration to be the proof minus proofValue agree with those
// that set its @context from the document; proofs without it are read too.
type DataIntegrityProof struct {
	// Context is the proof's "@context": the credential's @context in the
	// proofs PLANET writes, nil when absent.
	Context            []string
	Type               string         // "type": "DataIntegrityProof"
	Cryptosuite        string         // "cryptosuite": "eddsa-jcs-2022"
	Created            CredentialTime // "created"; zero when absent
	VerificationMethod string         // "verificationMethod": a DID URL
	ProofPurpose       string         // "proofPurpose": "assertionMethod"
	ProofValue         string         // "proofValue": "z" + base58btc
}

// CredentialTime is a date and time in a credential (an XML Schema
// dateTimeStamp, RFC 3339 with a time zone). It keeps the text exactly as
// written beside the instant it names, so that a credential from elsewhere,
// written "2025-06-01T12:00:00.000+02:00" say, re-encodes to the bytes its
// issuer signed. The zero CredentialTime is an absent one.
type CredentialTime struct {
	t    time.Time // in UTC
	text string
}

// NewCredentialTime returns t as PLANET writes times: in UTC, to the second
// (truncated), "2006-01-02T15:04:05Z". The zero time gives the zero
// CredentialTime.
func NewCredentialTime(t time.Time) CredentialTime {
	if t.IsZero() {
		return CredentialTime{}
	}
	t = t.UTC().Truncate(time.Second)
	return CredentialTime{t: t, text: t.Format("2006-01-02T15:04:05Z")}
}

// ParseCredentialTime parses s, which must have the form
// YYYY-MM-DDThh:mm:ss, optionally a fraction of a second (up to nine
// digits), then "Z" or an offset ±hh:mm of at most 14 hours.
func ParseCredentialTime(s string) (CredentialTime, error) {
	if !isDateTimeStamp(s) {
		return CredentialTime{}, fmt.Errorf("time %q is not of the form 2006-01-02T15:04:05Z", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return CredentialTime{}, fmt.Errorf("time %q: %w", s, err)
	}
	return CredentialTime{t: t.UTC(), text: s}, nil
}

// isDateTimeStamp checks the layout of s, digit by digit; time.Parse then
// checks the ranges.
func isDateTimeStamp(s string) bool {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 {
		return false
	}
	for i := range len(layout) {
		if c := s[i]; layout[i] == 'd' && !('0' <= c && c <= '9') || layout[i] != 'd' && c != layout[i] {
			return false
		}
	}
	rest := s[len(layout):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	if rest == "Z" {
		return true
	}
	// An offset, at most 14:00 either way, as XML Schema allows.
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') &&
		isDateDigits(rest[1:3]) && rest[3] == ':' && isDateDigits(rest[4:6]) &&
		(rest[1:3] < "14" && rest[4:6] < "60" || rest[1:] == "14:00")
}

func isDateDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Time returns the instant, in UTC; the zero time for the zero
// CredentialTime.
func (t CredentialTime) Time() time.Time { return t.t }

// String returns the time as written; "" for the zero CredentialTime.
func (t CredentialTime) String() string { return t.text }

// IsZero reports whether t is the zero (absent) CredentialTime.
func (t CredentialTime) IsZero() bool { return t.text == "" }

// MarshalText returns the time as written.
func (t CredentialTime) MarshalText() ([]byte, error) { return []byte(t.text), nil }

// UnmarshalText parses the time as [ParseCredentialTime] does.
func (t *CredentialTime) UnmarshalText(text []byte) error {
	p, err := ParseCredentialTime(string(text))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// ConcreteType returns the credential's one type besides
// VerifiableCredential and DTGCredential, such as RelationshipCredential;
// "" if it has none or several.
func (c *Credential) ConcreteType() string {
	concrete := ""
	for _, t := range c.Type {
		if t == TypeVerifiableCredential || t == TypeDTGCredential {
			continue
		}
		if concrete != "" {
			return ""
		}
		concrete = t
	}
	return concrete
}

// IssueRelationship issues the RelationshipCredential in which issuer says
// that they know subject, in the context ctx, from validFrom until
// validUntil (the zero time for no end). Both times are written in UTC,
// truncated to the second; the proof's created time is validFrom, so issue
// credentials valid from now. random supplies the credential's id (a nil
// random means crypto/rand); the signature itself is deterministic.
//
// It refuses, with an error wrapping [input.ErrInvalid], a subject that is the
// issuer or is zero, a validUntil not after validFrom, a context longer than
// [MaxRelationshipContextLength] characters or holding control characters
// other than newline and tab, and an introducer who is the issuer or the
// subject. It panics if issuer's key was wiped.
func IssueRelationship(issuer *identity.Identity, subject did.DID, ctx RelationshipContext, validFrom, validUntil time.Time, random io.Reader) (*Credential, error) {
	if issuer == nil {
		return nil, fmt.Errorf("%w: issue relationship credential: no issuer", input.ErrInvalid)
	}
	self := issuer.DID()
	if err := checkRelationship(self, subject, ctx); err != nil {
		return nil, fmt.Errorf("%w: issue relationship credential: %w", input.ErrInvalid, err)
	}
	if validFrom.IsZero() {
		return nil, fmt.Errorf("%w: issue relationship credential: no validFrom", input.ErrInvalid)
	}
	from, until := NewCredentialTime(validFrom), NewCredentialTime(validUntil)
	if !until.IsZero() && !until.Time().After(from.Time()) {
		return nil, fmt.Errorf("%w: issue relationship credential: validUntil %s is not after validFrom %s", input.ErrInvalid, until, from)
	}
	id, err := NewID(random)
	if err != nil {
		return nil, fmt.Errorf("issue relationship credential: %w", err)
	}
	doc, err := self.Document()
	if err != nil {
		return nil, fmt.Errorf("issue relationship credential: %w", err)
	}
	c := &Credential{
		Context:     []string{ContextCredentialsV2, ContextDTGv1},
		ID:          id,
		Type:        []string{TypeVerifiableCredential, TypeDTGCredential, TypeRelationshipCredential},
		Issuer:      self,
		IssuerScope: IssuerScopeDirected,
		ValidFrom:   from,
		ValidUntil:  until,
		Subject:     Subject{ID: subject, RelationshipContext: ctx},
	}
	if err := c.sign(issuer.Sign, doc.AssertionMethod[0], from); err != nil {
		return nil, fmt.Errorf("issue relationship credential: %w", err)
	}
	return c, nil
}

// IssueRelationshipAs issues the RelationshipCredential in which issuer (a
// relationship DID, [identity.Relationship], or a person's identity) says
// that they know subject, as [IssueRelationship] does, declaring scope as
// the issuerScope: [IssuerScopePairwise] for a relationship DID,
// [IssuerScopeDirected] for a persona DID, as OpenVTC declares them
// (openvtc-core src/dtg.rs, relationship_issuer_scope). The proof's
// verificationMethod is issuer.SigningKeyID(), which the issuer's document
// must list under assertionMethod.
func IssueRelationshipAs(issuer Signer, scope string, subject did.DID, ctx RelationshipContext, validFrom, validUntil time.Time, random io.Reader) (*Credential, error) {
	if issuer == nil {
		return nil, fmt.Errorf("%w: issue relationship credential: no issuer", input.ErrInvalid)
	}
	if scope != IssuerScopePairwise && scope != IssuerScopeDirected && scope != IssuerScopePublic {
		return nil, fmt.Errorf("%w: issue relationship credential: issuerScope %q", input.ErrInvalid, scope)
	}
	self := issuer.DID()
	if err := checkRelationship(self, subject, ctx); err != nil {
		return nil, fmt.Errorf("%w: issue relationship credential: %w", input.ErrInvalid, err)
	}
	if validFrom.IsZero() {
		return nil, fmt.Errorf("%w: issue relationship credential: no validFrom", input.ErrInvalid)
	}
	from, until := NewCredentialTime(validFrom), NewCredentialTime(validUntil)
	if !until.IsZero() && !until.Time().After(from.Time()) {
		return nil, fmt.Errorf("%w: issue relationship credential: validUntil %s is not after validFrom %s", input.ErrInvalid, until, from)
	}
	id, err := NewID(random)
	if err != nil {
		return nil, fmt.Errorf("issue relationship credential: %w", err)
	}
	c := &Credential{
		Context:     []string{ContextCredentialsV2, ContextDTGv1},
		ID:          id,
		Type:        []string{TypeVerifiableCredential, TypeDTGCredential, TypeRelationshipCredential},
		Issuer:      self,
		IssuerScope: scope,
		ValidFrom:   from,
		ValidUntil:  until,
		Subject:     Subject{ID: subject, RelationshipContext: ctx},
	}
	if err := c.sign(issuer.Sign, issuer.SigningKeyID(), from); err != nil {
		return nil, fmt.Errorf("issue relationship credential: %w", err)
	}
	return c, nil
}

// checkRelationship checks what IssueRelationship is asked to say.
func checkRelationship(issuer, subject did.DID, ctx RelationshipContext) error {
	switch {
	case subject.IsZero():
		return errors.New("no subject")
	case subject == issuer:
		return errors.New("the subject is the issuer")
	case ctx.IntroducedBy == issuer || ctx.IntroducedBy == subject:
		return errors.New("the introducer is the issuer or the subject")
	case !utf8.ValidString(ctx.Context):
		return errors.New("context is not valid UTF-8")
	case utf8.RuneCountInString(ctx.Context) > MaxRelationshipContextLength:
		return fmt.Errorf("context is longer than %d characters", MaxRelationshipContextLength)
	}
	for _, r := range ctx.Context {
		if r < 0x20 && r != '\n' && r != '\t' || 0x7f <= r && r < 0xa0 {
			return fmt.Errorf("context holds the control character %U", r)
		}
	}
	return nil
}

// NewID returns "urn:uuid:" and a version 4 UUID (RFC 9562) read
// from random, or from crypto/rand if random is nil.
func NewID(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var u [16]byte
	if _, err := io.ReadFull(random, u[:]); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	h := hex.EncodeToString(u[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// isUUIDURN reports whether s is "urn:uuid:" and a UUID in its usual
// 8-4-4-4-12 hex form.
func isUUIDURN(s string) bool {
	u, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(u) != 36 {
		return false
	}
	for i := range len(u) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if u[i] != '-' {
				return false
			}
		} else if !isHexDigit(u[i]) {
			return false
		}
	}
	return true
}

// sign adds the eddsa-jcs-2022 proof, signed with signFn by the key that the
// DID URL vm names.
func (c *Credential) sign(signFn func([]byte) []byte, vm string, created CredentialTime) error {
	c.Proof = &DataIntegrityProof{
		Context:            slices.Clone(c.Context),
		Type:               ProofTypeDataIntegrity,
		Cryptosuite:        CryptosuiteEdDSAJCS2022,
		Created:            created,
		VerificationMethod: vm,
		ProofPurpose:       ProofPurposeAssertion,
	}
	hash, err := c.hashData()
	if err != nil {
		c.Proof = nil
		return err
	}
	c.Proof.ProofValue = "z" + base58.Encode(signFn(hash))
	return nil
}

// hashData returns what eddsa-jcs-2022 signs (its Hashing algorithm):
// SHA-256 of the canonical proof configuration, then SHA-256 of the
// canonical unsecured document. c.Proof must not be nil.
func (c *Credential) hashData() ([]byte, error) {
	doc, err := c.appendJSON(nil, false)
	if err != nil {
		return nil, err
	}
	canonicalDoc, err := jcs.Canonicalize(doc)
	if err != nil {
		return nil, err
	}
	// The proof configuration: the proof options without proofValue,
	// with @context set to the unsecured document's.
	config := *c.Proof
	config.Context = c.Context
	config.ProofValue = ""
	configJSON, err := config.appendJSON(nil)
	if err != nil {
		return nil, err
	}
	canonicalConfig, err := jcs.Canonicalize(configJSON)
	if err != nil {
		return nil, err
	}
	configHash := sha256.Sum256(canonicalConfig)
	docHash := sha256.Sum256(canonicalDoc)
	return append(configHash[:], docHash[:]...), nil
}

// VerifyError is the error of [Verify]: which check failed, and why. It
// wraps both [ErrInvalidCredential] and Err.
type VerifyError struct {
	Check string // one of the Check constants
	Err   error
}

// The checks of [Verify], each named after the member it is about.
const (
	// CheckEncoding: the credential is nil, or has a field that cannot be
	// encoded (a string that is not UTF-8, bad JSON in Extra).
	CheckEncoding = "encoding"
	// CheckContext: @context is not ContextCredentialsV2 then ContextDTGv1
	// (a retired firstperson.network context wraps [ErrRetiredContext]), or
	// the proof's @context differs from it.
	CheckContext = "@context"
	// CheckType: type is not VerifiableCredential, DTGCredential and one
	// concrete type PLANET knows, each once.
	CheckType = "type"
	// CheckID: id is missing or not a urn:uuid.
	CheckID = "id"
	// CheckIssuer: issuer is missing, or its DID document cannot be had.
	CheckIssuer = "issuer"
	// CheckIssuerScope: issuerScope is missing, or not pairwise, directed
	// or public.
	CheckIssuerScope = "issuerScope"
	// CheckCredentialStatus: the status entry could not be checked
	// ([ErrStatusUnchecked]) or says the credential is revoked
	// ([ErrRevoked]).
	CheckCredentialStatus = "credentialStatus"
	// CheckSubject: credentialSubject.id is missing or is the issuer.
	CheckSubject = "credentialSubject"
	// CheckProof: there is no proof, or its signature does not verify.
	CheckProof = "proof"
	// CheckCryptosuite: the proof is not a DataIntegrityProof of the
	// cryptosuite eddsa-jcs-2022.
	CheckCryptosuite = "cryptosuite"
	// CheckProofPurpose: proofPurpose is not assertionMethod.
	CheckProofPurpose = "proofPurpose"
	// CheckVerificationMethod: the key is not one of the issuer's
	// assertion methods, or is not an Ed25519 Multikey.
	CheckVerificationMethod = "verificationMethod"
	// CheckProofValue: proofValue is not "z" and the base58btc of 64
	// bytes.
	CheckProofValue = "proofValue"
	// CheckValidFrom: validFrom is missing, or later than now.
	CheckValidFrom = "validFrom"
	// CheckValidUntil: validUntil is earlier than now.
	CheckValidUntil = "validUntil"
)

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%v: %s: %v", ErrInvalidCredential, e.Check, e.Err)
}

// Unwrap returns ErrInvalidCredential and e.Err, so that errors.Is finds
// either (e.Err may wrap ErrUnsupportedMethod, for instance).
func (e *VerifyError) Unwrap() []error { return []error{ErrInvalidCredential, e.Err} }

func credentialCheckFailed(check, format string, args ...any) *VerifyError {
	return &VerifyError{Check: check, Err: fmt.Errorf(format, args...)}
}

// Verify checks c at the time now: its shape (@context, type, id, issuer,
// issuerScope, credentialSubject), then its proof (cryptosuite,
// proofPurpose, the issuer's key, the signature), then its dates (validFrom
// ≤ now ≤ validUntil). It returns nil if all pass, or a [*VerifyError] for
// the first that fails. A forged credential thus reports its signature even
// when it is also out of date.
//
// The key is resolved from the issuer's DID with [did.Local] (did:key and
// did:peer:2, whose documents are the DIDs themselves; other methods fail the
// issuer check: use a [Verifier] with a resolver for them): the proof's
// verificationMethod must be a method of that document, controlled by the
// issuer and listed under assertionMethod. A credential with a
// credentialStatus fails the status check here, since Verify fetches no
// status list: a [Verifier] with StatusLists checks it.
func Verify(c *Credential, now time.Time) error {
	return Verifier{}.Verify(context.Background(), c, now)
}

// Verifier verifies credentials as [Verify] does, with a resolver for the
// issuers' DIDs and a fetcher for status lists.
type Verifier struct {
	Resolver    did.Resolver      // did.Local when nil
	StatusLists StatusListFetcher // nil: a credential with a status entry fails
}

// Verify checks c at now as [Verify] does, then its status ([CheckStatus]).
func (v Verifier) Verify(ctx context.Context, c *Credential, now time.Time) error {
	if err := v.verify(ctx, c, now); err != nil {
		return err
	}
	resolver := v.Resolver
	if resolver == nil {
		resolver = did.Local
	}
	return CheckStatus(ctx, c, v.StatusLists, resolver, now)
}

func (v Verifier) verify(ctx context.Context, c *Credential, now time.Time) error {
	if c == nil {
		return credentialCheckFailed(CheckEncoding, "no credential")
	}
	if err := checkCredentialContext(c.Context); err != nil {
		return &VerifyError{Check: CheckContext, Err: err}
	}
	if err := checkCredentialType(c.Type); err != nil {
		return &VerifyError{Check: CheckType, Err: err}
	}
	if !isUUIDURN(c.ID) {
		return credentialCheckFailed(CheckID, "id %q is not a urn:uuid", c.ID)
	}
	if c.Issuer.IsZero() {
		return credentialCheckFailed(CheckIssuer, "no issuer")
	}
	resolver := v.Resolver
	if resolver == nil {
		resolver = did.Local
	}
	doc, err := resolver.Resolve(ctx, c.Issuer)
	if err != nil {
		return &VerifyError{Check: CheckIssuer, Err: err}
	}
	switch c.IssuerScope {
	case IssuerScopePairwise, IssuerScopeDirected, IssuerScopePublic:
	case "":
		return credentialCheckFailed(CheckIssuerScope, "no issuerScope")
	default:
		return credentialCheckFailed(CheckIssuerScope, "issuerScope %q is not %q, %q or %q", c.IssuerScope, IssuerScopePairwise, IssuerScopeDirected, IssuerScopePublic)
	}
	if c.Subject.ID.IsZero() {
		return credentialCheckFailed(CheckSubject, "no credentialSubject.id")
	}
	if c.Subject.ID == c.Issuer {
		return credentialCheckFailed(CheckSubject, "the subject is the issuer")
	}
	if c.ValidFrom.IsZero() {
		return credentialCheckFailed(CheckValidFrom, "no validFrom")
	}

	p := c.Proof
	if p == nil {
		return credentialCheckFailed(CheckProof, "no proof")
	}
	if p.Type != ProofTypeDataIntegrity || p.Cryptosuite != CryptosuiteEdDSAJCS2022 {
		return credentialCheckFailed(CheckCryptosuite, "proof is %q with cryptosuite %q, want %q with %q",
			p.Type, p.Cryptosuite, ProofTypeDataIntegrity, CryptosuiteEdDSAJCS2022)
	}
	if p.Context != nil && !slices.Equal(p.Context, c.Context) {
		// eddsa-jcs-2022 lets a proof's @context be a prefix of the
		// document's; PLANET's credentials have no use for that freedom.
		return credentialCheckFailed(CheckContext, "proof @context %q differs from the credential's", p.Context)
	}
	if p.ProofPurpose != ProofPurposeAssertion {
		return credentialCheckFailed(CheckProofPurpose, "proofPurpose is %q, want %q", p.ProofPurpose, ProofPurposeAssertion)
	}
	pub, err := issuerAssertionKey(doc, c.Issuer, p.VerificationMethod)
	if err != nil {
		return &VerifyError{Check: CheckVerificationMethod, Err: err}
	}
	sig, err := decodeProofValue(p.ProofValue)
	if err != nil {
		return &VerifyError{Check: CheckProofValue, Err: err}
	}
	hash, err := c.hashData()
	if err != nil {
		return &VerifyError{Check: CheckEncoding, Err: err}
	}
	if !ed25519.Verify(pub, hash, sig) {
		return credentialCheckFailed(CheckProof, "signature does not verify with %s", p.VerificationMethod)
	}

	if now.Before(c.ValidFrom.Time()) {
		return credentialCheckFailed(CheckValidFrom, "not valid until %s", c.ValidFrom)
	}
	if !c.ValidUntil.IsZero() && now.After(c.ValidUntil.Time()) {
		return credentialCheckFailed(CheckValidUntil, "expired at %s", c.ValidUntil)
	}
	return nil
}

// checkCredentialContext checks @context: the VC 2.0 context first, then the
// DTG one, and nothing else. The order matters in JSON-LD: later contexts
// may not redefine the terms of earlier protected ones.
func checkCredentialContext(ctx []string) error {
	switch {
	case len(ctx) == 0:
		return errors.New("no @context")
	case ctx[0] != ContextCredentialsV2:
		return fmt.Errorf("@context starts with %q, want %q", ctx[0], ContextCredentialsV2)
	case len(ctx) != 2:
		return fmt.Errorf("@context has %d entries, want 2", len(ctx))
	case ctx[1] == ContextDTGv1:
		return nil
	}
	if strings.HasPrefix(ctx[1], contextFirstPersonPrefix) {
		return fmt.Errorf("%w %q: DTG Credentials v1 uses %q", ErrRetiredContext, ctx[1], ContextDTGv1)
	}
	return fmt.Errorf("second @context is %q, want %q", ctx[1], ContextDTGv1)
}

// checkCredentialType checks type: VerifiableCredential, DTGCredential and
// one concrete type that PLANET knows, each once, in any order (JSON-LD
// types are a set).
func checkCredentialType(types []string) error {
	var concrete []string
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			return fmt.Errorf("type lists %q twice", t)
		}
		seen[t] = true
		if t != TypeVerifiableCredential && t != TypeDTGCredential {
			concrete = append(concrete, t)
		}
	}
	switch {
	case !seen[TypeVerifiableCredential]:
		return fmt.Errorf("type lacks %q", TypeVerifiableCredential)
	case !seen[TypeDTGCredential]:
		return fmt.Errorf("type lacks %q", TypeDTGCredential)
	case len(concrete) == 0:
		return errors.New("type has no concrete credential type")
	case len(concrete) > 1:
		return fmt.Errorf("type has %d concrete types %q, want one", len(concrete), concrete)
	case !slices.Contains(concreteTypes, concrete[0]):
		return fmt.Errorf("unknown credential type %q", concrete[0])
	}
	return nil
}

// assertionKey returns the Ed25519 key of the verification method vm, which
// must be a method of the issuer's document doc, controlled by the issuer and
// listed under assertionMethod.
func issuerAssertionKey(doc *did.Document, issuer did.DID, vm string) (ed25519.PublicKey, error) {
	vmDID, _, ok := strings.Cut(vm, "#")
	if !ok || vmDID != issuer.String() {
		return nil, fmt.Errorf("verification method %q is not one of the issuer's", vm)
	}
	resolve := func(ref string) string {
		if strings.HasPrefix(ref, "#") {
			return doc.ID + ref
		}
		return ref
	}
	listed := false
	for _, ref := range doc.AssertionMethod {
		listed = listed || resolve(ref) == vm
	}
	if !listed {
		return nil, fmt.Errorf("verification method %q is not an assertion method of the issuer", vm)
	}
	for _, m := range doc.VerificationMethod {
		if resolve(m.ID) != vm {
			continue
		}
		if m.Controller != issuer.String() {
			return nil, fmt.Errorf("verification method %q is controlled by %q, not the issuer", vm, m.Controller)
		}
		if m.Type != did.MultikeyType {
			return nil, fmt.Errorf("verification method %q is a %q, want a %s", vm, m.Type, did.MultikeyType)
		}
		pub, err := keys.ParseEd25519Multikey(m.PublicKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("verification method %q: %w", vm, err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("verification method %q is not in the issuer's document", vm)
}

// decodeProofValue decodes a proofValue: multibase base58btc ("z…") of a
// 64-byte Ed25519 signature, in its one canonical spelling.
func decodeProofValue(s string) ([]byte, error) { return eddsajcs.DecodeProofValue(s) }

// Member names of the JSON form.
var (
	credentialMembers = []string{"@context", "id", "type", "issuer", "issuerScope", "validFrom", "validUntil", "credentialSubject", "credentialStatus", "proof"}
	// Top-level members refused rather than kept: each obliges a
	// verifier to act in a way PLANET does not, so keeping it would
	// claim more than Verify checked.
	refusedCredentialMembers = []string{"termsOfUse", "issuanceDate", "expirationDate"}
	subjectMembers           = []string{"id", "context", "introducedBy"}
	proofMembers             = []string{"@context", "type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"}
)

// Parse reads the JSON form of a credential, strictly: the JSON
// must be valid (UTF-8, no duplicate member names, no lone surrogates: see
// [Canonicalize]) and at most [MaxSize] bytes; each member PLANET
// knows must have the right JSON type and no empty value ("" or []); DIDs
// must parse with [ParseDID] and times with [ParseCredentialTime]. Errors
// wrap [ErrInvalidCredential]. Parse does not verify: call
// [Verify].
//
// It reads credentials written elsewhere too: dates with fractions of a
// second or a time zone offset are kept as written, and members PLANET does
// not know, at the top level and in credentialSubject, are kept in Extra (as
// canonical JSON), so that the credential re-encodes to the values its
// issuer signed. It refuses, rather than keeps, what would change what the
// credential means without PLANET noticing: JSON-LD keywords other than
// @context; termsOfUse, which obliges a verifier to act; a credentialStatus
// other than one object of the members of [StatusEntry];
// VC 1.1's issuanceDate and expirationDate; an issuer or subject that is an
// object rather than a DID, several subjects or several proofs; and any
// proof member other than those of [DataIntegrityProof] (expires, domain,
// challenge, nonce, previousProof…).
//
// What [Credential.MarshalJSON] writes, Parse reads back to an
// equal Credential, which marshals to the same bytes.
func Parse(data []byte) (*Credential, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidCredential, len(data), MaxSize)
	}
	v, err := jcs.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCredential, err)
	}
	obj, ok := v.(jcs.Object)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidCredential)
	}
	c := &Credential{}
	hasSubject := false
	for _, m := range obj {
		var err error
		switch m.Name {
		case "@context":
			c.Context, err = credStrings(m.Value)
		case "id":
			c.ID, err = credString(m.Value)
		case "type":
			c.Type, err = credStrings(m.Value)
		case "issuer":
			c.Issuer, err = credDID(m.Value)
		case "issuerScope":
			c.IssuerScope, err = credString(m.Value)
		case "validFrom":
			c.ValidFrom, err = credTime(m.Value)
		case "validUntil":
			c.ValidUntil, err = credTime(m.Value)
		case "credentialSubject":
			hasSubject = true
			c.Subject, err = parseSubject(m.Value)
		case "credentialStatus":
			c.Status, err = parseStatus(m.Value)
		case "proof":
			c.Proof, err = parseProof(m.Value)
		default:
			if err = checkExtraName(m.Name, credentialMembers, refusedCredentialMembers); err == nil {
				c.Extra = addExtra(c.Extra, m)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidCredential, m.Name, err)
		}
	}
	if !hasSubject {
		// A subject of zero fields is written as {}, so that the
		// member is always there and round trips are exact.
		return nil, fmt.Errorf("%w: no credentialSubject", ErrInvalidCredential)
	}
	return c, nil
}

// UnmarshalJSON reads data as [Parse] does, so that a Credential
// can sit inside other JSON.
func (c *Credential) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

func parseSubject(v any) (Subject, error) {
	var s Subject
	obj, ok := v.(jcs.Object)
	if !ok {
		return s, errors.New("not a JSON object (a credential has one subject)")
	}
	for _, m := range obj {
		var err error
		switch m.Name {
		case "id":
			s.ID, err = credDID(m.Value)
		case "context":
			s.Context, err = credString(m.Value)
		case "introducedBy":
			s.IntroducedBy, err = credDID(m.Value)
		default:
			if err = checkExtraName(m.Name, subjectMembers, nil); err == nil {
				s.Extra = addExtra(s.Extra, m)
			}
		}
		if err != nil {
			return s, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return s, nil
}

func parseProof(v any) (*DataIntegrityProof, error) {
	obj, ok := v.(jcs.Object)
	if !ok {
		return nil, errors.New("not a JSON object (a credential has one proof)")
	}
	p := &DataIntegrityProof{}
	for _, m := range obj {
		var err error
		switch m.Name {
		case "@context":
			p.Context, err = credStrings(m.Value)
		case "type":
			p.Type, err = credString(m.Value)
		case "cryptosuite":
			p.Cryptosuite, err = credString(m.Value)
		case "created":
			p.Created, err = credTime(m.Value)
		case "verificationMethod":
			p.VerificationMethod, err = credString(m.Value)
		case "proofPurpose":
			p.ProofPurpose, err = credString(m.Value)
		case "proofValue":
			p.ProofValue, err = credString(m.Value)
		default:
			// Every proof member changes what the proof means, so
			// one PLANET does not know is refused, not kept.
			err = errors.New("unsupported proof member")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return p, nil
}

func credString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", errors.New("not a string")
	}
	if s == "" {
		return "", errors.New("empty string")
	}
	return s, nil
}

func credStrings(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("not an array")
	}
	if len(arr) == 0 {
		return nil, errors.New("empty array")
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, err := credString(e)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

func credDID(v any) (did.DID, error) {
	s, ok := v.(string)
	if !ok {
		return did.DID{}, errors.New("not a string (a DID is expected)")
	}
	return did.Parse(s)
}

func credTime(v any) (CredentialTime, error) {
	s, ok := v.(string)
	if !ok {
		return CredentialTime{}, errors.New("not a string")
	}
	return ParseCredentialTime(s)
}

// checkExtraName reports whether a member called name may be kept in Extra.
func checkExtraName(name string, known, refused []string) error {
	switch {
	case slices.Contains(known, name):
		return errors.New("is a known member")
	case slices.Contains(refused, name):
		return errors.New("unsupported member")
	case strings.HasPrefix(name, "@"):
		return errors.New("unsupported JSON-LD keyword")
	}
	return nil
}

func addExtra(extra map[string]json.RawMessage, m jcs.Member) map[string]json.RawMessage {
	if extra == nil {
		extra = map[string]json.RawMessage{}
	}
	extra[m.Name] = jcs.Append(nil, m.Value)
	return extra
}

// MarshalJSON writes the credential as [Credential] describes: members in a
// fixed order, absent ones (zero fields) left out, Extra members after the known
// ones in RFC 8785 order and in canonical form, no whitespace, strings with
// the escapes of RFC 8785. The same credential always gives the same bytes.
// It fails on strings that are not valid UTF-8 and on Extra members that
// are not valid JSON or would be refused by [Parse]. (The
// receiver is a value so that a Credential held by value in another
// struct marshals this way too.)
func (c Credential) MarshalJSON() ([]byte, error) {
	b, err := c.appendJSON(nil, true)
	if err != nil {
		return nil, fmt.Errorf("marshal credential: %w", err)
	}
	return b, nil
}

// credWriter writes a JSON object member by member, keeping the first
// error.
type credWriter struct {
	b   []byte
	n   int
	err error
}

func (w *credWriter) name(name string) {
	if w.n == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = jcs.AppendString(w.b, name)
	w.b = append(w.b, ':')
}

func (w *credWriter) string(name, s string) {
	if s == "" || w.err != nil {
		return
	}
	if !utf8.ValidString(s) {
		w.err = fmt.Errorf("%s is not valid UTF-8", name)
		return
	}
	w.name(name)
	w.b = jcs.AppendString(w.b, s)
}

func (w *credWriter) strings(name string, ss []string) {
	if len(ss) == 0 || w.err != nil {
		return
	}
	w.name(name)
	w.b = append(w.b, '[')
	for i, s := range ss {
		if !utf8.ValidString(s) {
			w.err = fmt.Errorf("%s is not valid UTF-8", name)
			return
		}
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jcs.AppendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *credWriter) raw(name string, value []byte) {
	w.name(name)
	w.b = append(w.b, value...)
}

// extra writes the Extra members, sorted as RFC 8785 sorts names.
func (w *credWriter) extra(extra map[string]json.RawMessage, known, refused []string) {
	if w.err != nil {
		return
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.SortFunc(names, jcs.CompareUTF16)
	for _, name := range names {
		if !utf8.ValidString(name) {
			w.err = errors.New("an Extra member's name is not valid UTF-8")
			return
		}
		if err := checkExtraName(name, known, refused); err != nil {
			w.err = fmt.Errorf("Extra member %q: %w", name, err)
			return
		}
		value, err := jcs.Canonicalize(extra[name])
		if err != nil {
			w.err = fmt.Errorf("Extra member %q: %w", name, err)
			return
		}
		w.raw(name, value)
	}
}

func (w *credWriter) end() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if w.n == 0 {
		w.b = append(w.b, '{')
	}
	return append(w.b, '}'), nil
}

// appendJSON appends the JSON form of c, with the proof or without it (the
// unsecured document).
func (c *Credential) appendJSON(b []byte, withProof bool) ([]byte, error) {
	w := credWriter{b: b}
	w.strings("@context", c.Context)
	w.string("id", c.ID)
	w.strings("type", c.Type)
	w.string("issuer", c.Issuer.String())
	w.string("issuerScope", c.IssuerScope)
	w.string("validFrom", c.ValidFrom.String())
	w.string("validUntil", c.ValidUntil.String())
	if w.err == nil {
		subject, err := c.Subject.appendJSON(nil)
		if err != nil {
			return nil, fmt.Errorf("credentialSubject: %w", err)
		}
		w.raw("credentialSubject", subject)
	}
	if c.Status != nil && w.err == nil {
		status, err := c.Status.appendJSON(nil)
		if err != nil {
			return nil, fmt.Errorf("credentialStatus: %w", err)
		}
		w.raw("credentialStatus", status)
	}
	w.extra(c.Extra, credentialMembers, refusedCredentialMembers)
	if withProof && c.Proof != nil && w.err == nil {
		proof, err := c.Proof.appendJSON(nil)
		if err != nil {
			return nil, fmt.Errorf("proof: %w", err)
		}
		w.raw("proof", proof)
	}
	return w.end()
}

func (s *Subject) appendJSON(b []byte) ([]byte, error) {
	w := credWriter{b: b}
	w.string("id", s.ID.String())
	w.string("context", s.Context)
	w.string("introducedBy", s.IntroducedBy.String())
	w.extra(s.Extra, subjectMembers, nil)
	return w.end()
}

func (p *DataIntegrityProof) appendJSON(b []byte) ([]byte, error) {
	w := credWriter{b: b}
	w.strings("@context", p.Context)
	w.string("type", p.Type)
	w.string("cryptosuite", p.Cryptosuite)
	w.string("created", p.Created.String())
	w.string("verificationMethod", p.VerificationMethod)
	w.string("proofPurpose", p.ProofPurpose)
	w.string("proofValue", p.ProofValue)
	return w.end()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
