package page

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/did/webvh"
	"planet/core/internal/eddsajcs"
)

// The whois presentation (docs/pages.md): the relationship credentials the
// person chooses to show, published at [WhoisPath] beside their did:webvh
// log, where the DID's implicit #whois service (a Linked VP service) points.
// It is a W3C Verifiable Presentation (VC Data Model 2.0) whose holder is
// the DID, holding each credential exactly as its issuer signed it, and
// signed itself by the DID's #key-1 with an eddsa-jcs-2022 proof for
// assertionMethod: a presentation published once and read by anyone has no
// challenge or domain to bind an authentication proof to, so it is a
// statement the DID makes, like the page's other documents (the Linked VP
// specification's own example presentation is signed for assertionMethod).
const (
	// WhoisPath is where the presentation is published under the DID's
	// base URL ("<base>/whois.vp").
	WhoisPath = "whois.vp"
	// ContextCredentials is the VC Data Model 2.0 context, the
	// presentation's @context.
	ContextCredentials = "https://www.w3.org/ns/credentials/v2"
	// TypePresentation is the presentation's type.
	TypePresentation = "VerifiablePresentation"
	// MaxShown is the most credentials a presentation holds.
	MaxShown = 50
	// maxCredential is the most bytes of one credential (as core/vc
	// reads them).
	maxCredential = 64 << 10
)

// ErrUnverifiedCredential reports, in [ShownCredential.Problem], why a
// shown credential does not verify now; the presentation itself may still
// verify (the person chose to show it, its issuer's word is what fails).
var ErrUnverifiedCredential = errors.New("shown credential does not verify")

// ShownCredential is one credential of the presentation: who says they
// know whom, since when, and whether that verifies now.
type ShownCredential struct {
	ID      string
	Issuer  string // a DID
	Subject string // a DID
	// Context is how the two know each other, in the issuer's words.
	Context    string
	ValidFrom  time.Time
	ValidUntil time.Time // zero: no end
	// JSON is the credential as signed (canonical JSON, RFC 8785).
	JSON []byte
	// Verified says whether its proof and dates verify now; Problem says
	// why not (it wraps ErrUnverifiedCredential).
	Verified bool
	Problem  error
}

// Whois is a presentation that verified.
type Whois struct {
	Credentials []ShownCredential
	// DID is the holder; Key the verification method that signed;
	// Version the DID's version in force then; Signed the proof's time.
	DID     webvh.DID
	Key     string
	Version int
	Signed  time.Time
}

// SignWhois returns the presentation of credentials (each a credential's
// JSON, as signed) held by d, signed by vmID ("#key-1"). Each credential
// is read as [VerifyWhois] reads it, so a malformed one is refused here
// rather than published; whether it verifies is the reader's to find out.
func SignWhois(credentials [][]byte, signer Signer, d webvh.DID, vmID string, now time.Time) ([]byte, error) {
	if len(credentials) == 0 {
		return nil, fmt.Errorf("%w: a presentation needs at least one credential", ErrMalformed)
	}
	if len(credentials) > MaxShown {
		return nil, fmt.Errorf("%w: %d credentials, more than %d", ErrTooLarge, len(credentials), MaxShown)
	}
	vcs := make([]any, len(credentials))
	for i, data := range credentials {
		if len(data) > maxCredential {
			return nil, fmt.Errorf("%w: credential %d is %d bytes, more than %d", ErrTooLarge, i, len(data), maxCredential)
		}
		m, err := jcsDecode(data)
		if err != nil {
			return nil, fmt.Errorf("%w: credential %d: %w", ErrMalformed, i, err)
		}
		if _, err := readShown(m); err != nil {
			return nil, fmt.Errorf("credential %d: %w", i, err)
		}
		vcs[i] = m
	}
	return signAs(map[string]any{
		"@context":             []any{ContextCredentials},
		"type":                 []any{TypePresentation},
		"holder":               d.String(),
		"verifiableCredential": vcs,
	}, signer, d, vmID, now)
}

// whoisMembers are the presentation's members; any other is refused.
var whoisMembers = []string{"@context", "type", "holder", "verifiableCredential", "proof"}

// VerifyWhois decodes a presentation and verifies it against the verified
// versions of its holder's log (as [VerifyVersions] does for the other
// documents): strictly the format above, the holder is the log's DID, and
// the proof is an eddsa-jcs-2022 proof for assertionMethod by an assertion
// method of the version in force when it was signed. Then it verifies each
// credential's own proof and dates at now ([ShownCredential.Verified]):
// its issuer's key resolved from the issuer's DID where that needs no
// network (did:key, did:peer:2, the DIDs PLANET's relationship credentials
// are issued by), else it is reported as not verified.
func VerifyWhois(data []byte, versions []webvh.Version, now time.Time) (*Whois, error) {
	res, err := resolutionAt(data, versions, now)
	if err != nil {
		return nil, err
	}
	m, err := jcsDecode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: presentation %w", ErrMalformed, err)
	}
	for name := range m {
		if !slices.Contains(whoisMembers, name) {
			return nil, fmt.Errorf("%w: presentation member %q is not supported", ErrMalformed, name)
		}
	}
	if ctx, _ := m["@context"].([]any); len(ctx) != 1 || ctx[0] != ContextCredentials {
		return nil, fmt.Errorf("%w: presentation @context is %v, want [%s]", ErrUnknownType, m["@context"], ContextCredentials)
	}
	if typ, _ := m["type"].([]any); len(typ) != 1 || typ[0] != TypePresentation {
		return nil, fmt.Errorf("%w: presentation type is %v, want [%s]", ErrUnknownType, m["type"], TypePresentation)
	}
	if holder, _ := m["holder"].(string); holder != res.DID.String() {
		return nil, fmt.Errorf("%w: holder is %q, the resolved did is %s", ErrWrongDID, holder, res.DID)
	}
	vcs, ok := m["verifiableCredential"].([]any)
	if !ok || len(vcs) == 0 {
		return nil, fmt.Errorf("%w: verifiableCredential is not a list of credentials", ErrMalformed)
	}
	if len(vcs) > MaxShown {
		return nil, fmt.Errorf("%w: %d credentials, more than %d", ErrTooLarge, len(vcs), MaxShown)
	}
	proof, ok := m["proof"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: no proof", ErrBadProof)
	}
	var v Verified
	if err := checkProof(m, proof, res, &v); err != nil {
		return nil, err
	}
	w := &Whois{DID: res.DID, Key: v.Key, Version: v.Version, Signed: v.Signed}
	for i, x := range vcs {
		c, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: credential %d is not an object", ErrMalformed, i)
		}
		s, err := readShown(c)
		if err != nil {
			return nil, fmt.Errorf("credential %d: %w", i, err)
		}
		if err := verifyShown(c, s, now); err != nil {
			s.Problem = fmt.Errorf("%w: %w", ErrUnverifiedCredential, err)
		} else {
			s.Verified = true
		}
		w.Credentials = append(w.Credentials, *s)
	}
	return w, nil
}

// readShown reads what the page shows of a credential: its id, issuer,
// subject, context and dates. Members it does not read are left as they
// are (the issuer's proof covers them); the ones it reads must have the
// right type.
func readShown(c map[string]any) (*ShownCredential, error) {
	str := func(m map[string]any, name string, required bool) (string, error) {
		v, present := m[name]
		s, ok := v.(string)
		switch {
		case !present && !required:
			return "", nil
		case !ok || s == "":
			return "", fmt.Errorf("%w: credential %s is not a string", ErrMalformed, name)
		case len(s) > maxURL || hasControl(s):
			return "", fmt.Errorf("%w: credential %s is too long or has control characters", ErrMalformed, name)
		}
		return s, nil
	}
	when := func(s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: credential time %q is not RFC 3339", ErrMalformed, s)
		}
		return t, nil
	}
	s := &ShownCredential{}
	var err error
	var from, until string
	if s.ID, err = str(c, "id", true); err != nil {
		return nil, err
	}
	if s.Issuer, err = str(c, "issuer", true); err != nil {
		return nil, err
	}
	if from, err = str(c, "validFrom", true); err != nil {
		return nil, err
	}
	if until, err = str(c, "validUntil", false); err != nil {
		return nil, err
	}
	subject, ok := c["credentialSubject"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: credentialSubject is not one object", ErrMalformed)
	}
	if s.Subject, err = str(subject, "id", true); err != nil {
		return nil, err
	}
	if s.Context, err = str(subject, "context", false); err != nil {
		return nil, err
	}
	for _, d := range []string{s.Issuer, s.Subject} {
		if _, err := did.Parse(d); err != nil {
			return nil, fmt.Errorf("%w: credential: %w", ErrMalformed, err)
		}
	}
	if s.ValidFrom, err = when(from); err != nil {
		return nil, err
	}
	if s.ValidUntil, err = when(until); err != nil {
		return nil, err
	}
	if _, ok := c["proof"].(map[string]any); !ok {
		return nil, fmt.Errorf("%w: credential %s has no proof", ErrMalformed, s.ID)
	}
	if s.JSON, err = eddsajcs.Canonical(c); err != nil {
		return nil, fmt.Errorf("%w: credential %s: %w", ErrMalformed, s.ID, err)
	}
	if len(s.JSON) > maxCredential {
		return nil, fmt.Errorf("%w: credential %s is %d bytes, more than %d", ErrTooLarge, s.ID, len(s.JSON), maxCredential)
	}
	return s, nil
}

// hasControl reports whether s has a control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// verifyShown checks a credential's proof and dates as a relationship
// credential's verifier does (core/vc's Verify, which the server may not
// link): the VC 2.0 context first, an eddsa-jcs-2022 proof for
// assertionMethod by a Multikey the issuer controls and lists under
// assertionMethod, validFrom ≤ now ≤ validUntil. A credential with a
// credentialStatus is not verified: the server fetches no status lists.
func verifyShown(c map[string]any, s *ShownCredential, now time.Time) error {
	if ctx, _ := c["@context"].([]any); len(ctx) == 0 || ctx[0] != ContextCredentials {
		return fmt.Errorf("@context does not start with %s", ContextCredentials)
	}
	if _, ok := c["credentialStatus"]; ok {
		return errors.New("it has a status list, which is not checked here")
	}
	proof := c["proof"].(map[string]any) // readShown checked it
	if pc, ok := proof["@context"]; ok && !sameJSONValue(pc, c["@context"]) {
		return errors.New("the proof's @context differs from the credential's")
	}
	str := func(name string) string { v, _ := proof[name].(string); return v }
	if str("type") != proofType || str("cryptosuite") != cryptosuite || str("proofPurpose") != proofPurpose {
		return fmt.Errorf("proof is %q/%q for %q, want %s/%s for %s", str("type"), str("cryptosuite"), str("proofPurpose"), proofType, cryptosuite, proofPurpose)
	}
	issuer, _ := did.Parse(s.Issuer) // readShown checked it
	vm := str("verificationMethod")
	if vmDID, _, _ := strings.Cut(vm, "#"); vmDID != s.Issuer {
		return fmt.Errorf("verification method %q is not the issuer's", vm)
	}
	doc, err := did.Local.Resolve(context.Background(), issuer)
	if err != nil {
		return fmt.Errorf("the issuer's key: %w", err)
	}
	m, found := doc.FindVerificationMethod(vm)
	if !found || doc.Absolute(m.Controller) != s.Issuer {
		return fmt.Errorf("verification method %q is not controlled by the issuer", vm)
	}
	pub, err := doc.Ed25519Key(vm, doc.AssertionMethod)
	if err != nil {
		return err
	}
	sig, err := eddsajcs.DecodeProofValue(str("proofValue"))
	if err != nil {
		return err
	}
	hash, err := eddsajcs.Hash(c, proof)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, hash, sig) {
		return fmt.Errorf("the signature does not verify with %s", vm)
	}
	if now.Before(s.ValidFrom) {
		return fmt.Errorf("not valid until %s", formatTime(s.ValidFrom))
	}
	if !s.ValidUntil.IsZero() && now.After(s.ValidUntil) {
		return fmt.Errorf("expired at %s", formatTime(s.ValidUntil))
	}
	return nil
}

// sameJSONValue reports whether a and b are the same JSON value.
func sameJSONValue(a, b any) bool {
	ja, err1 := eddsajcs.Canonical(a)
	jb, err2 := eddsajcs.Canonical(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
