package pagesite

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"planet/core/identity"
	"planet/core/page"
	"planet/core/vc"
)

// issue returns a relationship credential from a new identity about
// another, valid from at until until (zero: no end).
func issue(t *testing.T, note string, at, until time.Time) []byte {
	t.Helper()
	from, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	to, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := vc.IssueRelationship(from, to.DID(), vc.RelationshipContext{Context: note}, at, until, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWhoisShown(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada")
	h := handler(mem)

	// None published: no section, no line in the verification.
	_, body := get(t, h, "/ada/")
	if strings.Contains(body, "Relationship credentials") || strings.Contains(body, "whois.vp") {
		t.Error("a page without whois.vp shows credentials")
	}

	good := issue(t, "met at the <co-op> AGM", t0, time.Time{})
	expired := issue(t, "school", t0, t0.Add(time.Hour))
	data, err := page.SignWhois([][]byte{good, expired}, p.ContentKey, p.DID, p.KeyID, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mem.put("ada", page.WhoisPath, data)
	res, body := get(t, h, "/ada/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := parse(t, body)
	checkCSPClean(t, res, doc)
	lists := find(doc, withClass("credentials"))
	if len(lists) != 1 {
		t.Fatalf("%d lists of credentials", len(lists))
	}
	items := find(lists[0], tag("li"))
	if len(items) != 2 {
		t.Fatalf("%d credentials shown, want 2", len(items))
	}
	goodC, _ := vc.Parse(good)
	if got := text(items[0]); !strings.Contains(got, goodC.Issuer.String()+" says they know "+goodC.Subject.ID.String()+" (met at the <co-op> AGM), issued 1 March 2026: verified") ||
		attr(items[0], "class") != "verified" {
		t.Errorf("the good credential: %q", got)
	}
	if got := text(items[1]); !strings.Contains(got, "not verified") || !strings.Contains(got, "expired") || attr(items[1], "class") != "not-verified" {
		t.Errorf("the expired credential: %q", got)
	}
	contains(t, body, "whois.vp: presented by #key-1 of "+p.DID.String()+", version 1, on 2026-03-01 10:01 UTC; 1 of its 2 credentials verify",
		`data-docs="profile.json posts/index.json whois.vp"`)

	// Changed after signing: nothing of it is shown, and the page says so.
	mem.put("ada", page.WhoisPath, bytes.Replace(data, []byte("school"), []byte("work"), 1))
	_, body = get(t, h, "/ada/")
	if strings.Contains(body, "says they know") {
		t.Error("a changed presentation is shown")
	}
	contains(t, body, "whois.vp: does not verify, so it is not shown")
}

// The browser's script checks the presentation's own proof by the DID,
// and refuses one changed after signing.
func TestScriptVerifiesWhois(t *testing.T) {
	mem := newMem()
	p := publish(t, mem, "ada")
	h := handler(mem)
	data, err := page.SignWhois([][]byte{issue(t, "met at the co-op AGM", t0, time.Time{})}, p.ContentKey, p.DID, p.KeyID, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mem.put("ada", page.WhoisPath, data)
	r := runScript(t, h, p, page.ProfilePath, page.WhoisPath)
	if !r.OK || len(r.Lines) != 3 || !strings.Contains(r.Lines[2].Text, "whois.vp: signed by #key-1 of "+p.DID.String()) {
		t.Fatalf("valid presentation: %+v", r)
	}
	mem.put("ada", page.WhoisPath, bytes.Replace(data, []byte("co-op"), []byte("club"), 1))
	if r := runScript(t, h, p, page.ProfilePath, page.WhoisPath); r.OK || !strings.Contains(r.Lines[2].Text, "does not verify") {
		t.Fatalf("changed presentation: %+v", r)
	}
	other := publish(t, newMem(), "bob")
	forged, err := page.SignWhois([][]byte{issue(t, "x", t0, time.Time{})}, other.ContentKey, other.DID, other.KeyID, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mem.put("ada", page.WhoisPath, forged)
	if r := runScript(t, h, p, page.ProfilePath, page.WhoisPath); r.OK || !strings.Contains(r.Lines[2].Text, "holder") {
		t.Fatalf("another's presentation: %+v", r)
	}
}
