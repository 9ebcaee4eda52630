package webvh

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"planet/core/did"
)

// Query selects a version of a DID (spec "Reading did:webvh DID URLs"):
// by versionId, by the time it was in force, or by version number. The
// zero Query selects the current version.
type Query struct {
	VersionID     string
	VersionTime   time.Time // zero: not by time
	VersionNumber int       // 0: not by number
}

func (q Query) isZero() bool {
	return q.VersionID == "" && q.VersionTime.IsZero() && q.VersionNumber == 0
}

// ParseQuery reads the versionId, versionTime and versionNumber parameters
// of a DID URL query ("versionId=2-Qm…"). Other parameters are refused, as
// is more than one selector.
func ParseQuery(raw string) (Query, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return Query{}, fmt.Errorf("%w: query: %v", ErrInvalidDID, err)
	}
	var q Query
	for name, vs := range values {
		if len(vs) != 1 {
			return Query{}, fmt.Errorf("%w: query parameter %q given %d times", ErrInvalidDID, name, len(vs))
		}
		switch name {
		case "versionId":
			q.VersionID = vs[0]
		case "versionTime":
			t, err := time.Parse(time.RFC3339Nano, vs[0])
			if err != nil {
				return Query{}, fmt.Errorf("%w: versionTime %q is not an ISO 8601 timestamp", ErrInvalidDID, vs[0])
			}
			q.VersionTime = t
		case "versionNumber":
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1 {
				return Query{}, fmt.Errorf("%w: versionNumber %q is not a positive integer", ErrInvalidDID, vs[0])
			}
			q.VersionNumber = n
		default:
			return Query{}, fmt.Errorf("%w: query parameter %q is not resolved", ErrInvalidDID, name)
		}
	}
	if len(values) > 1 {
		return Query{}, fmt.Errorf("%w: more than one version selector", ErrInvalidDID)
	}
	return q, nil
}

// Metadata is the DID document metadata of a resolution (spec "Read
// (Resolve)"). The version fields are those of the resolved version;
// the rest are those in force after the last valid entry.
type Metadata struct {
	VersionID     string
	VersionNumber int
	VersionTime   time.Time
	Created       time.Time // the first entry's versionTime
	Updated       time.Time // the last valid entry's versionTime
	Parameters              // in force after the last valid entry
}

// Resolution is a resolved version of a did:webvh DID.
type Resolution struct {
	// DID is the DID the version names (its state.id).
	DID DID
	// Document is the DID document with the implicit #files and #whois
	// services added, as decoded JSON. It is nil when the DID is
	// deactivated and no particular version was asked for: a deactivated
	// DID has no current document.
	Document map[string]any
	Metadata Metadata
}

// Resolve verifies log (and the witness proofs wf, when the log needs
// them) as [Verify] does, and returns the version q selects of the DID
// requested. It fails if the requested DID's SCID is not the log's
// ([ErrSCIDMismatch]) or if no entry's state.id is the requested DID
// ([ErrDIDMismatch]), so a log served for one DID cannot stand in for
// another.
//
// Without a query, any failure fails the resolution. With one, a version
// that verified before a later failure is still returned (spec "Read
// (Resolve)", step 11), and a version not in the log is did.ErrNotFound.
// A version by time is the one in force then: the last whose versionTime
// is not after it.
func Resolve(requested DID, log Log, wf WitnessFile, q Query, now time.Time) (*Resolution, error) {
	versions, verr := Verify(log, wf, now)
	if len(versions) == 0 {
		return nil, verr
	}
	if scid := versions[0].Parameters.SCID; requested.SCID() != scid {
		return nil, fmt.Errorf("%w: %s asked for, the log is of %s", ErrSCIDMismatch, requested.SCID(), scid)
	}
	if verr != nil && q.isZero() {
		return nil, verr
	}
	matched := false
	for _, v := range versions {
		matched = matched || v.DID == requested
	}
	if !matched {
		if verr != nil {
			return nil, verr
		}
		return nil, fmt.Errorf("%w: no entry has state.id %s", ErrDIDMismatch, requested)
	}
	var chosen *Version
	switch {
	case q.isZero():
		chosen = &versions[len(versions)-1]
	case q.VersionID != "":
		for i := range versions {
			if versions[i].VersionID == q.VersionID {
				chosen = &versions[i]
			}
		}
	case q.VersionNumber != 0:
		if q.VersionNumber <= len(versions) {
			chosen = &versions[q.VersionNumber-1]
		}
	default:
		for i := range versions {
			if !versions[i].Time.After(q.VersionTime) {
				chosen = &versions[i]
			}
		}
	}
	if chosen == nil {
		if verr != nil {
			return nil, verr
		}
		return nil, fmt.Errorf("%w: no version of %s matches the query", did.ErrNotFound, requested)
	}
	last := versions[len(versions)-1]
	res := &Resolution{
		DID: chosen.DID,
		Metadata: Metadata{
			VersionID:     chosen.VersionID,
			VersionNumber: chosen.Number,
			VersionTime:   chosen.Time,
			Created:       versions[0].Time,
			Updated:       last.Time,
			Parameters:    last.Parameters,
		},
	}
	if !last.Parameters.Deactivated || !q.isZero() {
		res.Document = withImplicitServices(chosen.State, chosen.DID)
	}
	return res, nil
}

// Implicit service ids and types (spec "DID URL Resolution").
const (
	ServiceFiles  = "files"
	ServiceWhois  = "whois"
	contextLinkVP = "https://identity.foundation/linked-vp/contexts/v1"
)

// withImplicitServices returns a copy of state with the #files and #whois
// services added, each unless the document defines a service of that id
// itself (relative or absolute), which then takes precedence.
func withImplicitServices(state map[string]any, d DID) map[string]any {
	doc := make(map[string]any, len(state)+1)
	for k, v := range state {
		doc[k] = v
	}
	services, _ := state["service"].([]any)
	services = append([]any(nil), services...)
	if findService(services, d, ServiceFiles) == nil {
		services = append(services, map[string]any{
			"id":              "#" + ServiceFiles,
			"type":            "relativeRef",
			"serviceEndpoint": d.BaseURL(),
		})
	}
	if findService(services, d, ServiceWhois) == nil {
		services = append(services, map[string]any{
			"@context":        contextLinkVP,
			"id":              "#" + ServiceWhois,
			"type":            "LinkedVerifiablePresentation",
			"serviceEndpoint": d.BaseURL() + "whois.vp",
		})
	}
	doc["service"] = services
	return doc
}

// findService returns the service of id "#name" or "<did>#name".
func findService(services []any, d DID, name string) map[string]any {
	for _, s := range services {
		m, _ := s.(map[string]any)
		if id, _ := m["id"].(string); id == "#"+name || id == d.String()+"#"+name {
			return m
		}
	}
	return nil
}

// FileURL returns the HTTPS URL of a DID URL path ("/posts/hello") of the
// resolved DID: the path appended to the endpoint of the document's #files
// service (the implicit one unless the document defines its own). The path
// is checked as [ParseDIDURL] checks it; an endpoint that is not an https
// URL is refused with [ErrInvalidDID].
func (r *Resolution) FileURL(path string) (string, error) {
	clean, err := cleanPath(path)
	if err != nil {
		return "", fmt.Errorf("%w: path %w", ErrInvalidDID, err)
	}
	base := r.DID.BaseURL()
	if r.Document != nil {
		services, _ := r.Document["service"].([]any)
		if s := findService(services, r.DID, ServiceFiles); s != nil {
			base, _ = s["serviceEndpoint"].(string)
		}
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%w: #files endpoint %q is not an https URL", ErrInvalidDID, base)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + clean, nil
}

// Doc returns the resolved document as a did.Document, for the formats
// that verify with DID documents (credentials, DIDComm). It fails for a
// deactivated DID ([ErrDeactivated]) and for a document did.Document cannot
// hold ([ErrMalformed]).
func (r *Resolution) Doc() (*did.Document, error) {
	if r.Document == nil {
		return nil, fmt.Errorf("%w: %s", ErrDeactivated, r.DID)
	}
	m := r.Document
	if ctx, ok := m["@context"].(string); ok {
		m = make(map[string]any, len(r.Document))
		for k, v := range r.Document {
			m[k] = v
		}
		m["@context"] = []any{ctx}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: document: %w", ErrMalformed, err)
	}
	var doc did.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: document of %s: %w", ErrMalformed, r.DID, err)
	}
	if doc.ID != r.DID.String() {
		return nil, errors.New("document id is not the resolved did")
	}
	return &doc, nil
}
