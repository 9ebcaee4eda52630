package pagesite

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"planet/core/did/webvh"
	"planet/core/page"
)

// site is what the server verified of a name, on this request.
type site struct {
	Name     string
	DID      webvh.DID
	Base     string // the DID's https base URL, "https://host/name/"
	Checked  time.Time
	Versions int       // the log's versions
	Updated  time.Time // the last version's time
	Witness  bool      // the log is witnessed (and the witnesses' proofs were checked)

	Deactivated bool

	Profile      *page.Profile // nil unless verified
	ProfileCheck check
	Index        *page.Index // nil unless verified; posts newest first
	IndexCheck   check
	// Whois is the presentation of the relationship credentials the
	// person shows (whois.vp), nil unless it verified.
	Whois      *page.Whois
	WhoisCheck check

	log      webvh.Log
	wf       webvh.WitnessFile
	versions []webvh.Version // the log's, verified once per request
}

// check is the outcome of verifying one document, in words.
type check struct {
	Path    string // under the DID ("profile.json")
	Missing bool   // not published
	OK      bool
	Words   string // what was verified, or what failed
}

// failure is a page that cannot be shown at all: its status and words.
type failure struct {
	status int
	title  string
	msg    string
}

func (f *failure) Error() string { return f.msg }

// load reads and verifies the log of name, and the profile and index. Any
// failure of the log is a failure of the whole page: without a verified log
// nothing can be said about the documents.
func (h *Handler) load(name string) (*site, *failure) {
	now := h.now().UTC()
	s := &site{Name: name, Checked: now}
	raw, err := h.r.Log(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &failure{http.StatusNotFound, "No page here", fmt.Sprintf("No one has published a page called %q on this server.", name)}
	}
	if err != nil {
		return nil, &failure{http.StatusServiceUnavailable, "Not available", "This page could not be read just now. Try again later."}
	}
	bad := func(format string, args ...any) *failure {
		return &failure{http.StatusUnprocessableEntity, "This page does not verify",
			fmt.Sprintf("The identity behind this page could not be verified, so nothing of it is shown: "+format, args...)}
	}
	if s.log, err = webvh.ParseLog(raw); err != nil {
		return nil, bad("its did.jsonl is malformed (%v).", err)
	}
	if wraw, err := h.r.Witness(name); err == nil {
		if s.wf, err = webvh.ParseWitnessFile(wraw); err != nil {
			return nil, bad("its did-witness.json is malformed (%v).", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &failure{http.StatusServiceUnavailable, "Not available", "This page could not be read just now. Try again later."}
	}
	id, _ := s.log[len(s.log)-1].State["id"].(string)
	if s.DID, err = webvh.ParseDID(id); err != nil {
		return nil, bad("the last entry of its log names %q (%v).", id, err)
	}
	if loc := s.DID.Location().Path; len(loc) == 0 || loc[len(loc)-1] != name {
		return nil, bad("its log is of %s, which does not live under %q.", s.DID, name)
	}
	res, err := webvh.Resolve(s.DID, s.log, s.wf, webvh.Query{}, now)
	if err != nil {
		return nil, bad("its log does not verify (%v).", err)
	}
	if s.versions, err = webvh.Verify(s.log, s.wf, now); err != nil {
		return nil, bad("its log does not verify (%v).", err)
	}
	s.Base = s.DID.BaseURL()
	s.Versions = res.Metadata.VersionNumber
	s.Updated = res.Metadata.Updated
	s.Witness = res.Metadata.Witness.Active()
	if res.Metadata.Deactivated {
		s.Deactivated = true
		return s, nil
	}

	var v *page.Verified
	if v, s.ProfileCheck = h.verify(s, page.ProfilePath, now); v != nil {
		s.Profile = v.Profile
	}
	if v, s.IndexCheck = h.verify(s, page.IndexPath, now); v != nil {
		s.Index = v.Index
		slices.SortStableFunc(s.Index.Posts, func(a, b page.IndexEntry) int { return b.Published.Compare(a.Published) })
	}
	s.Whois, s.WhoisCheck = h.verifyWhois(s, now)
	return s, nil
}

// verifyWhois reads and verifies the presentation of the credentials the
// person shows: its own proof by the DID, and each credential's by its
// issuer (page.VerifyWhois).
func (h *Handler) verifyWhois(s *site, now time.Time) (*page.Whois, check) {
	c := check{Path: page.WhoisPath}
	data, err := h.r.File(s.Name, page.WhoisPath)
	if errors.Is(err, fs.ErrNotExist) {
		c.Missing, c.Words = true, "not published"
		return nil, c
	}
	if err != nil {
		c.Words = "could not be read just now"
		return nil, c
	}
	w, err := page.VerifyWhois(data, s.versions, now)
	if err != nil {
		c.Words = "does not verify, so it is not shown: " + err.Error()
		return nil, c
	}
	shown := 0
	for _, x := range w.Credentials {
		if x.Verified {
			shown++
		}
	}
	key := strings.TrimPrefix(w.Key, w.DID.String())
	c.OK = true
	c.Words = fmt.Sprintf("presented by %s of %s, version %d, on %s; %d of its %d credentials verify by their issuers' keys",
		key, w.DID, w.Version, w.Signed.UTC().Format("2006-01-02 15:04 UTC"), shown, len(w.Credentials))
	return w, c
}

// verify reads and verifies the document at p. It returns the verified
// document, or nil and the reason in words.
func (h *Handler) verify(s *site, p string, now time.Time) (*page.Verified, check) {
	c := check{Path: p}
	data, err := h.r.File(s.Name, p)
	if errors.Is(err, fs.ErrNotExist) {
		c.Missing, c.Words = true, "not published"
		return nil, c
	}
	if err != nil {
		c.Words = "could not be read just now"
		return nil, c
	}
	v, err := page.VerifyVersions(data, s.versions, now)
	if err == nil && v.Path != p {
		err = fmt.Errorf("it says it is %s, not %s", v.Path, p)
	}
	if err != nil {
		c.Words = "does not verify, so it is not shown: " + err.Error()
		return nil, c
	}
	c.OK, c.Words = true, v.Words()
	return v, c
}
