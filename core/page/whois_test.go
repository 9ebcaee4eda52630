package page_test

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"planet/core/did/webvh"
	"planet/core/identity"
	"planet/core/jcs"
	"planet/core/page"
	"planet/core/page/pagetest"
	"planet/core/vc"
)

var updateWhois = flag.Bool("update-whois", false, "rewrite testdata/valid-whois.vp")

// seeded is a reader of the same bytes on every run, for credentials and
// identities fixed across runs.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

// relationshipCredential issues a real relationship credential from a new
// identity about another, valid from at until until (zero: no end).
func relationshipCredential(t testing.TB, seed uint64, note string, at, until time.Time) []byte {
	t.Helper()
	r := seeded(seed)
	issuer, err := identity.New(r)
	must(t, err)
	subject, err := identity.New(r)
	must(t, err)
	c, err := vc.IssueRelationship(issuer, subject.DID(), vc.RelationshipContext{Context: note}, at, until, r)
	must(t, err)
	data, err := c.MarshalJSON()
	must(t, err)
	return data
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func versions(t testing.TB, p *pagetest.Person, now time.Time) []webvh.Version {
	t.Helper()
	vs, err := webvh.Verify(p.Log, nil, now)
	must(t, err)
	return vs
}

func TestWhois(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	now := t0.Add(48 * time.Hour)
	good := relationshipCredential(t, 1, "met at the co-op AGM", t0, time.Time{})
	expired := relationshipCredential(t, 2, "school", t0, t0.Add(time.Hour))
	changed := bytes.Replace(relationshipCredential(t, 3, "neighbours", t0, time.Time{}), []byte("neighbours"), []byte("colleagues"), 1)

	data, err := page.SignWhois([][]byte{good, expired, changed}, p.ContentKey, p.DID, p.KeyID, t0.Add(time.Minute))
	must(t, err)
	w, err := page.VerifyWhois(data, versions(t, p, now), now)
	if err != nil {
		t.Fatalf("VerifyWhois: %v", err)
	}
	if w.DID != p.DID || w.Key != p.DID.String()+"#key-1" || w.Version != 1 || len(w.Credentials) != 3 {
		t.Fatalf("whois = %+v", w)
	}
	// Each credential's verdict is core/vc's, and each is kept as signed.
	for i, raw := range [][]byte{good, expired, changed} {
		s := w.Credentials[i]
		c, err := vc.Parse(raw)
		must(t, err)
		vcErr := vc.Verify(c, now)
		if s.Verified != (vcErr == nil) {
			t.Errorf("credential %d: verified %v, core/vc says %v (%v)", i, s.Verified, vcErr == nil, s.Problem)
		}
		if !s.Verified && !errors.Is(s.Problem, page.ErrUnverifiedCredential) {
			t.Errorf("credential %d: problem %v", i, s.Problem)
		}
		// The same JSON values as signed, in canonical form (RFC 8785),
		// which is what eddsa-jcs-2022 signs.
		if want, err := jcs.Canonicalize(raw); err != nil || !bytes.Equal(s.JSON, want) {
			t.Errorf("credential %d not kept as signed:\n got %s\nwant %s", i, s.JSON, want)
		}
		if s.Issuer != c.Issuer.String() || s.Subject != c.Subject.ID.String() || !s.ValidFrom.Equal(c.ValidFrom.Time()) {
			t.Errorf("credential %d read as %+v", i, s)
		}
	}
	if !w.Credentials[0].Verified || w.Credentials[0].Context != "met at the co-op AGM" {
		t.Errorf("the good credential: %+v", w.Credentials[0])
	}
	if w.Credentials[1].Verified || !strings.Contains(w.Credentials[1].Problem.Error(), "expired") {
		t.Errorf("the expired credential: %+v", w.Credentials[1])
	}
	if w.Credentials[2].Verified || !strings.Contains(w.Credentials[2].Problem.Error(), "signature") {
		t.Errorf("the changed credential: %+v", w.Credentials[2])
	}
	if !bytes.Contains(data, []byte(`"proofPurpose":"assertionMethod"`)) || !bytes.Contains(data, []byte(`"holder":"`+p.DID.String()+`"`)) {
		t.Errorf("presentation: %s", data)
	}
}

func TestWhoisRefused(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	other := pagetest.New(t, "example.com", "bob", t0)
	now := t0.Add(time.Hour)
	good := relationshipCredential(t, 1, "met at the co-op AGM", t0, time.Time{})
	data, err := page.SignWhois([][]byte{good}, p.ContentKey, p.DID, p.KeyID, t0.Add(time.Minute))
	must(t, err)

	for name, c := range map[string]struct {
		data []byte
		vs   []webvh.Version
		want error
	}{
		"another's did":    {data, versions(t, other, now), page.ErrWrongDID},
		"changed":          {bytes.Replace(data, []byte("co-op"), []byte("club"), 1), versions(t, p, now), page.ErrBadProof},
		"unknown member":   {bytes.Replace(data, []byte(`"holder"`), []byte(`"extra":1,"holder"`), 1), versions(t, p, now), page.ErrMalformed},
		"not json":         {[]byte("{"), versions(t, p, now), page.ErrMalformed},
		"signed in future": {mustSign(t, p, good, now.Add(time.Hour)), versions(t, p, now), page.ErrBadProof},
	} {
		if _, err := page.VerifyWhois(c.data, c.vs, now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}

	for name, creds := range map[string][][]byte{
		"none":       nil,
		"not json":   {[]byte("nope")},
		"no subject": {bytes.Replace(good, []byte(`"credentialSubject"`), []byte(`"credentialSubjects"`), 1)},
	} {
		if _, err := page.SignWhois(creds, p.ContentKey, p.DID, p.KeyID, t0); err == nil {
			t.Errorf("SignWhois(%s) signed", name)
		}
	}
	if _, err := page.SignWhois([][]byte{good}, p.ContentKey, p.DID, other.DID.String()+"#key-1", t0); !errors.Is(err, page.ErrWrongDID) {
		t.Errorf("SignWhois with another's key: %v", err)
	}
}

func mustSign(t testing.TB, p *pagetest.Person, cred []byte, at time.Time) []byte {
	data, err := page.SignWhois([][]byte{cred}, p.ContentKey, p.DID, p.KeyID, at)
	must(t, err)
	return data
}

// TestWhoisTestdata checks testdata/valid-whois.vp (and writes it with
// -update-whois).
func TestWhoisTestdata(t *testing.T) {
	p := pagetest.New(t, "example.com", "ada", t0)
	path := filepath.Join("testdata", "valid-whois.vp")
	if *updateWhois {
		data := mustSign(t, p, relationshipCredential(t, 1, "met at <the> co-op & AGM", t0, time.Time{}), t0.Add(time.Minute))
		must(t, os.WriteFile(path, append(data, '\n'), 0o644))
	}
	data, err := os.ReadFile(path)
	must(t, err)
	w, err := page.VerifyWhois(bytes.TrimSuffix(data, []byte("\n")), versions(t, p, t0.Add(time.Hour)), t0.Add(time.Hour))
	if err != nil || len(w.Credentials) != 1 || !w.Credentials[0].Verified {
		t.Fatalf("valid-whois.vp: %+v, %v", w, err)
	}
}

// FuzzVerifyWhois feeds VerifyWhois any bytes against a real log: it must
// not panic, and a presentation that verifies holds credentials that each
// read back as the canonical JSON it carried.
func FuzzVerifyWhois(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "valid-whois.vp"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.TrimSuffix(data, []byte("\n")))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiablePresentation"]}`))
	p := pagetest.New(f, "example.com", "ada", t0)
	vs := versions(f, p, t0.Add(time.Hour))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := page.VerifyWhois(data, vs, t0.Add(time.Hour))
		if err != nil {
			return
		}
		if w.DID != p.DID || len(w.Credentials) == 0 {
			t.Fatalf("verified as %+v", w)
		}
		for _, c := range w.Credentials {
			again, err := jcs.Canonicalize(c.JSON)
			if err != nil || !bytes.Equal(again, c.JSON) {
				t.Fatalf("credential %s is not kept as canonical JSON: %v", c.ID, err)
			}
		}
	})
}
