package vc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/jcs"
)

func credTestIdentity(tb testing.TB, b byte) *identity.Identity {
	tb.Helper()
	seed := bytes.Repeat([]byte{b}, 32)
	id, err := identity.FromSeed(seed)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestIssueRelationshipVerifies(t *testing.T) {
	alice, bob := credTestIdentity(t, 0xa1), credTestIdentity(t, 0xb0)
	from := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	until := from.Add(24 * time.Hour)
	c, err := IssueRelationship(alice, bob.DID(), RelationshipContext{Context: "neighbours"}, from, until, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != alice.DID() || c.Subject.ID != bob.DID() || c.IssuerScope != IssuerScopeDirected ||
		c.ConcreteType() != TypeRelationshipCredential || c.Subject.Context != "neighbours" {
		t.Errorf("credential = %+v", c)
	}
	if got := c.Proof.VerificationMethod; got != alice.DID().String()+"#"+strings.TrimPrefix(alice.DID().String(), "did:key:") {
		t.Errorf("verificationMethod = %q", got)
	}
	tests := []struct {
		now   time.Time
		check string // "" for valid
	}{
		{from, ""},
		{until, ""},
		{from.Add(time.Hour), ""},
		{from.Add(-time.Second), CheckValidFrom},
		{until.Add(time.Second), CheckValidUntil},
	}
	for _, tt := range tests {
		err := Verify(c, tt.now)
		if got := credVerifyCheck(err); got != tt.check {
			t.Errorf("Verify at %v: %v; want check %q", tt.now, err, tt.check)
		}
	}
	// Through the JSON form too.
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parsed, c) {
		t.Errorf("parsed credential differs:\n got %+v\nwant %+v", parsed, c)
	}
	if err := Verify(parsed, from); err != nil {
		t.Error(err)
	}
}

// credVerifyCheck returns the check that err names, "" for nil, or "?" if err
// is not a *VerifyError.
func credVerifyCheck(err error) string {
	if err == nil {
		return ""
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		return "?"
	}
	return ve.Check
}

func TestIssueRelationshipFields(t *testing.T) {
	alice, bob := credTestIdentity(t, 0xa1), credTestIdentity(t, 0xb0)
	from := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.FixedZone("CET", 3600))
	c, err := IssueRelationship(alice, bob.DID(), RelationshipContext{}, from, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ValidFrom.String() != "2025-03-04T04:06:07Z" || c.Proof.Created != c.ValidFrom || !c.ValidUntil.IsZero() {
		t.Errorf("validFrom %q, created %q, validUntil %q", c.ValidFrom, c.Proof.Created, c.ValidUntil)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(c.ID) {
		t.Errorf("id %q is not a urn:uuid of a version 4 UUID", c.ID)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"validUntil"`, `"context"`, `"introducedBy"`} {
		if bytes.Contains(data, []byte(absent)) {
			t.Errorf("%s written though empty: %s", absent, data)
		}
	}
	// Two credentials differ in their ids.
	c2, err := IssueRelationship(alice, bob.DID(), RelationshipContext{}, from, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == c.ID {
		t.Error("two credentials have the same id")
	}
}

func TestIssueRelationshipRefuses(t *testing.T) {
	alice, bob, carol := credTestIdentity(t, 0xa1), credTestIdentity(t, 0xb0), credTestIdentity(t, 0xc0)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	long := strings.Repeat("é", MaxRelationshipContextLength)
	if _, err := IssueRelationship(alice, bob.DID(), RelationshipContext{Context: long}, from, until, nil); err != nil {
		t.Errorf("context of %d characters: %v", MaxRelationshipContextLength, err)
	}
	tests := []struct {
		name         string
		issuer       *identity.Identity
		subject      did.DID
		ctx          RelationshipContext
		from, until  time.Time
		wrapsInvalid bool
	}{
		{"no issuer", nil, bob.DID(), RelationshipContext{}, from, until, true},
		{"no subject", alice, did.DID{}, RelationshipContext{}, from, until, true},
		{"subject is issuer", alice, alice.DID(), RelationshipContext{}, from, until, true},
		{"introducer is issuer", alice, bob.DID(), RelationshipContext{IntroducedBy: alice.DID()}, from, until, true},
		{"introducer is subject", alice, bob.DID(), RelationshipContext{IntroducedBy: bob.DID()}, from, until, true},
		{"context too long", alice, bob.DID(), RelationshipContext{Context: long + "x"}, from, until, true},
		{"context not UTF-8", alice, bob.DID(), RelationshipContext{Context: "caf\xe9"}, from, until, true},
		{"context with a control character", alice, bob.DID(), RelationshipContext{Context: "a\rb"}, from, until, true},
		{"context with a C1 control character", alice, bob.DID(), RelationshipContext{Context: "a\u0085b"}, from, until, true},
		{"no validFrom", alice, bob.DID(), RelationshipContext{}, time.Time{}, until, true},
		{"validUntil before validFrom", alice, bob.DID(), RelationshipContext{}, from, from.Add(-time.Hour), true},
		{"validUntil equal to validFrom once truncated", alice, bob.DID(), RelationshipContext{}, from, from.Add(time.Millisecond), true},
	}
	for _, tt := range tests {
		c, err := IssueRelationship(tt.issuer, tt.subject, tt.ctx, tt.from, tt.until, nil)
		if err == nil {
			t.Errorf("%s: issued %+v", tt.name, c)
			continue
		}
		if errors.Is(err, input.ErrInvalid) != tt.wrapsInvalid {
			t.Errorf("%s: %v; errors.Is(err, input.ErrInvalid) = %v", tt.name, err, !tt.wrapsInvalid)
		}
	}
	if _, err := IssueRelationship(alice, bob.DID(), RelationshipContext{IntroducedBy: carol.DID(), Context: "line one\nline\ttwo"}, from, until, nil); err != nil {
		t.Errorf("introduced, with newline and tab: %v", err)
	}
	if _, err := IssueRelationship(alice, bob.DID(), RelationshipContext{}, from, until, io.LimitReader(nil, 0)); err == nil {
		t.Error("no error when randomness fails")
	}
}

func TestVerifyErrors(t *testing.T) {
	alice, bob := credTestIdentity(t, 0xa1), credTestIdentity(t, 0xb0)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := IssueRelationship(alice, bob.DID(), RelationshipContext{}, from, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(c, from.AddDate(100, 0, 0)); err != nil {
		t.Errorf("credential without validUntil, a century later: %v", err)
	}
	if got := credVerifyCheck(Verify(nil, from)); got != CheckEncoding {
		t.Errorf("Verify(nil): check %q", got)
	}

	peer, err := did.Parse("did:peer:0z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V")
	if err != nil {
		t.Fatal(err)
	}
	bad := *c
	bad.Issuer = peer
	err = Verify(&bad, from)
	if !errors.Is(err, ErrInvalidCredential) || !errors.Is(err, did.ErrUnsupportedMethod) || credVerifyCheck(err) != CheckIssuer {
		t.Errorf("did:peer issuer: %v; want check %q wrapping ErrInvalidCredential and ErrUnsupportedMethod", err, CheckIssuer)
	}
	if want := "invalid credential: issuer: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q does not start with %q", err, want)
	}

	bad = *c
	bad.Extra = map[string]json.RawMessage{"name": json.RawMessage(`{`)}
	if got := credVerifyCheck(Verify(&bad, from)); got != CheckEncoding {
		t.Errorf("bad Extra: check %q, want %q", got, CheckEncoding)
	}

	// An Extra member is covered by the proof.
	bad = *c
	bad.Extra = map[string]json.RawMessage{"name": json.RawMessage(`"x"`)}
	if got := credVerifyCheck(Verify(&bad, from)); got != CheckProof {
		t.Errorf("added Extra member: check %q, want %q", got, CheckProof)
	}
	// So is the subject's.
	bad = *c
	bad.Subject.Extra = map[string]json.RawMessage{"since": json.RawMessage(`2019`)}
	if got := credVerifyCheck(Verify(&bad, from)); got != CheckProof {
		t.Errorf("added subject Extra member: check %q, want %q", got, CheckProof)
	}
	// A proofValue in another spelling of base58 (a leading '1' is a
	// zero byte) is refused.
	bad = *c
	p := *c.Proof
	p.ProofValue = "z1" + p.ProofValue[1:]
	bad.Proof = &p
	if got := credVerifyCheck(Verify(&bad, from)); got != CheckProofValue {
		t.Errorf("proofValue with a leading zero byte: check %q, want %q", got, CheckProofValue)
	}
}

func TestParseCredentialTime(t *testing.T) {
	valid := map[string]time.Time{
		"2025-06-01T12:00:00Z":                time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		"2025-06-01T12:00:00.5Z":              time.Date(2025, 6, 1, 12, 0, 0, 5e8, time.UTC),
		"2025-06-01T12:00:00.123456789Z":      time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC),
		"2025-06-01T14:00:00+02:00":           time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		"2025-06-01T07:30:00.000-04:30":       time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		"2024-02-29T23:59:59Z":                time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		"2025-06-02T02:00:00+14:00":           time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		"2025-06-01T00:01:00-11:59":           time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		"0001-01-01T00:00:00Z":                time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		"9999-12-31T23:59:59.999999999+00:00": time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for s, want := range valid {
		got, err := ParseCredentialTime(s)
		if err != nil || !got.Time().Equal(want) || got.String() != s || got.Time().Location() != time.UTC {
			t.Errorf("ParseCredentialTime(%q) = %v (%v), %v; want %v", s, got.Time(), got, err, want)
		}
	}
	for _, s := range []string{
		"", "2025-06-01", "2025-06-01T12:00:00", "2025-06-01 12:00:00Z", "2025-06-01t12:00:00Z",
		"2025-06-01T12:00:00z", "2025-06-01T12:00Z", "2025-06-01T12:00:00.Z", "2025-06-01T12:00:00.1234567890Z",
		"2025-06-01T12:00:00+0200", "2025-06-01T12:00:00+02", "2025-13-01T12:00:00Z", "2025-02-30T12:00:00Z",
		"2025-06-01T24:00:00Z", "2025-06-01T12:60:00Z", "2025-06-01T12:00:60Z", "+2025-06-01T12:00:00Z",
		"-2025-06-01T12:00:00Z", "12025-06-01T12:00:00Z", "2025-06-01T12:00:00Z ", "2025-06-01T12:00:00+24:00", "2025-06-01T12:00:00-14:01", "2025-06-01T12:00:00+15:00",
		"2025-06-01T12:00:00+01:60",
		"２025-06-01T12:00:00Z",
	} {
		if got, err := ParseCredentialTime(s); err == nil {
			t.Errorf("ParseCredentialTime(%q) = %v, want an error", s, got)
		}
	}
	if NewCredentialTime(time.Time{}) != (CredentialTime{}) || !NewCredentialTime(time.Time{}).IsZero() {
		t.Error("NewCredentialTime of the zero time is not zero")
	}
	var ct CredentialTime
	if err := ct.UnmarshalText([]byte("2025-06-01T12:00:00Z")); err != nil || ct.String() != "2025-06-01T12:00:00Z" {
		t.Errorf("UnmarshalText: %v, %v", ct, err)
	}
	if text, _ := ct.MarshalText(); string(text) != "2025-06-01T12:00:00Z" {
		t.Errorf("MarshalText = %s", text)
	}
}

func TestParseCredentialLimits(t *testing.T) {
	c := readCredentialVectors(t).Valid[0].data
	big := append(bytes.TrimSuffix(bytes.Clone(c), []byte("}")), []byte(`,"padding":"`+strings.Repeat("x", MaxSize)+`"}`)...)
	if _, err := Parse(big); !errors.Is(err, ErrInvalidCredential) {
		t.Errorf("credential of %d bytes: %v", len(big), err)
	}
	for _, in := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"credentialSubject":[]}`, `{"credentialSubject":{"@id":"x"}}`} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrInvalidCredential) {
			t.Errorf("Parse(%s) = %v", in, err)
		}
	}
	// The smallest credential: everything absent but the subject. It
	// parses, and Verify says what is missing.
	min, err := Parse([]byte(`{"credentialSubject":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := min.MarshalJSON(); string(out) != `{"credentialSubject":{}}` {
		t.Errorf("marshals as %s", out)
	}
	if got := credVerifyCheck(Verify(min, time.Now())); got != CheckContext {
		t.Errorf("empty credential: check %q", got)
	}
}

func TestMarshalCredentialRefuses(t *testing.T) {
	c, err := Parse(readCredentialVectors(t).Valid[0].data)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(c *Credential){
		"Extra with a known name":      func(c *Credential) { c.Extra = map[string]json.RawMessage{"issuer": json.RawMessage(`"x"`)} },
		"Extra with a refused name":    func(c *Credential) { c.Extra = map[string]json.RawMessage{"termsOfUse": json.RawMessage(`{}`)} },
		"Extra with a JSON-LD keyword": func(c *Credential) { c.Extra = map[string]json.RawMessage{"@type": json.RawMessage(`"x"`)} },
		"Extra not JSON":               func(c *Credential) { c.Extra = map[string]json.RawMessage{"name": json.RawMessage(`nope`)} },
		"Extra name not UTF-8":         func(c *Credential) { c.Extra = map[string]json.RawMessage{"\xff": json.RawMessage(`1`)} },
		"subject Extra with a known name": func(c *Credential) {
			c.Subject.Extra = map[string]json.RawMessage{"context": json.RawMessage(`"x"`)}
		},
		"string not UTF-8":     func(c *Credential) { c.Subject.Context = "\xff" },
		"type not UTF-8":       func(c *Credential) { c.Type = []string{"\xff"} },
		"proofValue not UTF-8": func(c *Credential) { c.Proof.ProofValue = "z\xff" },
	}
	for name, change := range tests {
		bad := *c
		p := *c.Proof
		bad.Proof = &p
		change(&bad)
		if out, err := bad.MarshalJSON(); err == nil {
			t.Errorf("%s: marshalled as %s", name, out)
		}
	}
}

// TestCredentialInJSON checks that a Credential held by value inside other
// JSON is written and read in its own form.
func TestCredentialInJSON(t *testing.T) {
	data := readCredentialVectors(t).Valid[0].data
	c, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		Credential Credential `json:"credential"`
	}
	out, err := json.Marshal(holder{Credential: *c})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"credential":` + string(data) + `}`; string(out) != want {
		t.Errorf("json.Marshal:\n got %s\nwant %s", out, want)
	}
	var h holder
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&h.Credential, c) {
		t.Errorf("json.Unmarshal gives %+v", h.Credential)
	}
	if err := json.Unmarshal([]byte(`{"credential":{"credentialSubject":{},"proof":{"expires":"x"}}}`), &h); !errors.Is(err, ErrInvalidCredential) {
		t.Errorf("json.Unmarshal of a malformed credential: %v", err)
	}
}

func addCredentialSeeds(f *testing.F) {
	v := readCredentialVectors(f)
	for _, list := range [][]credentialVector{v.Valid, v.Invalid, v.Malformed} {
		for _, vec := range list {
			f.Add(vec.data)
		}
	}
}

func FuzzParseCredential(f *testing.F) {
	addCredentialSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("error %v does not wrap ErrInvalidCredential", err)
			}
			return
		}
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("parsed credential does not marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("own output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("parse → marshal → parse differs:\n got %+v\nwant %+v", again, c)
		}
		if out2, err := again.MarshalJSON(); err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("second marshal differs: %v\n got %s\nwant %s", err, out2, out)
		}
		cin, err1 := jcs.Canonicalize(data)
		cout, err2 := jcs.Canonicalize(out)
		if err1 != nil || err2 != nil || !bytes.Equal(cin, cout) {
			t.Fatalf("output means something else than the input: %v %v\n in %s\nout %s", err1, err2, cin, cout)
		}
	})
}

func FuzzVerify(f *testing.F) {
	addCredentialSeeds(f)
	now := credentialVectorNow
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		err = Verify(c, now)
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidCredential) || ve.Check == "" {
				t.Fatalf("Verify: %v is not a *VerifyError naming a check", err)
			}
		}
		// Verifying the re-encoded credential gives the same answer.
		out, merr := c.MarshalJSON()
		if merr != nil {
			t.Fatal(merr)
		}
		again, perr := Parse(out)
		if perr != nil {
			t.Fatal(perr)
		}
		if got := credVerifyCheck(Verify(again, now)); got != credVerifyCheck(err) {
			t.Fatalf("re-encoded credential: check %q, original %q", got, credVerifyCheck(err))
		}
	})
}

func BenchmarkVerifyCredential(b *testing.B) {
	data := readCredentialVectors(b).Valid[0].data
	for b.Loop() {
		c, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(c, credentialVectorNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify1000Credentials verifies 1,000 relationship credentials
// from 100 issuers, as a person checking the credentials a few contacts
// shared would: the design's target is 1 s for all of them in the browser.
func BenchmarkVerify1000Credentials(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	issuers := make([]*identity.Identity, 100)
	for i := range issuers {
		seed := make([]byte, 32)
		seed[0], seed[1] = byte(i), 0xb0
		id, err := identity.FromSeed(seed)
		if err != nil {
			b.Fatal(err)
		}
		issuers[i] = id
	}
	docs := make([][]byte, 1000)
	for i := range docs {
		issuer, subject := issuers[i%100], issuers[(i/100+i%100+1)%100]
		if issuer == subject {
			subject = issuers[(i%100+50)%100]
		}
		c, err := IssueRelationship(issuer, subject.DID(), RelationshipContext{Context: "met at the co-op AGM"}, now, time.Time{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if docs[i], err = c.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		for _, data := range docs {
			c, err := Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			if err := Verify(c, now.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
