package webvh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/did"
)

// A Getter fetches the files of a DID from the web: the tab implements it
// with fetch, the server with an HTTP client that has timeouts. It is an
// interface so that this package, which the browser build links, holds no
// HTTP client of its own.
//
// Get fetches url, an https URL this package built (see [DID.LogURL]), or
// an http one for a host the driver's PlainHTTPHosts names, and returns its
// body. It must read at most limit+1 bytes
// and fail with an error wrapping [ErrTooLarge] beyond limit, so that a
// hostile host cannot make the resolver read without end; it must not
// follow redirects to other schemes; and it must fail with an error
// wrapping did.ErrNotFound for a 404 or 410.
type Getter interface {
	Get(ctx context.Context, url string, limit int64) ([]byte, error)
}

// Default limits on what [Driver] reads: the specification suggests 5 MiB
// for a log (section "Security and Privacy Considerations", denial of
// service). A log of a thousand entries of a few keys and services fits.
const (
	DefaultMaxLogSize     = 5 << 20
	DefaultMaxWitnessSize = 1 << 20
)

// Driver resolves did:webvh DIDs over the web: a did.Resolver for
// [did.MethodWebVH] (add it to a did.Methods), and [Driver.ResolveURL] for
// versions and DID URL paths.
type Driver struct {
	Getter         Getter
	MaxLogSize     int64            // DefaultMaxLogSize when 0
	MaxWitnessSize int64            // DefaultMaxWitnessSize when 0
	Now            func() time.Time // time.Now when nil

	// PlainHTTPHosts are host names (lowercase ASCII) whose files the
	// driver fetches over http:// instead of https://. It is empty, and so
	// off, by default: the specification's security section asks resolvers
	// to use HTTPS and allows exceptions only as opt-ins for testing. A
	// PLANET server on loopback without TLS (tests, a developer's machine)
	// sets it to its own host name, a name under "localhost" such as
	// "planet.localhost" (RFC 6761; a DID's domain needs two labels), so
	// that it and the tabs it serves can resolve the DIDs it hosts; nothing
	// else should. The DIDs, their documents and their #files endpoints are
	// unchanged: only the scheme of the fetch differs.
	PlainHTTPHosts []string
}

var _ did.Resolver = (*Driver)(nil)

// Resolve returns the current document of d, verified. A deactivated DID
// returns an error wrapping [ErrDeactivated]; a log that is not there, one
// wrapping did.ErrNotFound; a DID that is not a valid did:webvh, one
// wrapping did.ErrInvalid; a log that does not verify, the sentinel of the
// check that failed.
func (r *Driver) Resolve(ctx context.Context, d did.DID) (*did.Document, error) {
	w, err := FromDID(d)
	if err != nil {
		return nil, err
	}
	res, err := r.ResolveVersion(ctx, w, Query{})
	if err != nil {
		return nil, err
	}
	return res.Doc()
}

// ResolveVersion fetches the log of d (and did-witness.json when the log
// names witnesses), verifies it and returns the version q selects.
func (r *Driver) ResolveVersion(ctx context.Context, d DID, q Query) (*Resolution, error) {
	if r.Getter == nil {
		return nil, errors.New("webvh: driver has no getter")
	}
	data, err := r.Getter.Get(ctx, r.fetchURL(d, d.LogURL()), r.limit(r.MaxLogSize, DefaultMaxLogSize))
	if err != nil {
		return nil, fmt.Errorf("fetch log of %s: %w", d, err)
	}
	if int64(len(data)) > r.limit(r.MaxLogSize, DefaultMaxLogSize) {
		return nil, fmt.Errorf("%w: log of %s is over %d bytes", ErrTooLarge, d, r.limit(r.MaxLogSize, DefaultMaxLogSize))
	}
	log, err := ParseLog(data)
	if err != nil {
		return nil, fmt.Errorf("log of %s: %w", d, err)
	}
	var wf WitnessFile
	if usesWitnesses(log) {
		data, err := r.Getter.Get(ctx, r.fetchURL(d, d.WitnessURL()), r.limit(r.MaxWitnessSize, DefaultMaxWitnessSize))
		switch {
		case errors.Is(err, did.ErrNotFound):
			// No proofs: Resolve says which entries lack them.
		case err != nil:
			return nil, fmt.Errorf("fetch witness proofs of %s: %w", d, err)
		case int64(len(data)) > r.limit(r.MaxWitnessSize, DefaultMaxWitnessSize):
			return nil, fmt.Errorf("%w: did-witness.json of %s", ErrTooLarge, d)
		default:
			if wf, err = ParseWitnessFile(data); err != nil {
				return nil, fmt.Errorf("witness proofs of %s: %w", d, err)
			}
		}
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	res, err := Resolve(d, log, wf, q, now)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d, err)
	}
	return res, nil
}

// ResolveURL resolves a did:webvh DID URL: the version its query selects
// (versionId, versionTime or versionNumber) and, when it has a path, the
// HTTPS URL of the file the path names through the #files service (the
// caller fetches it, as it would any web resource). It refuses paths that
// climb out of the DID's directory.
func (r *Driver) ResolveURL(ctx context.Context, didURL string) (*Resolution, string, error) {
	u, err := ParseDIDURL(didURL)
	if err != nil {
		return nil, "", err
	}
	q, err := ParseQuery(u.Query)
	if err != nil {
		return nil, "", err
	}
	res, err := r.ResolveVersion(ctx, u.DID, q)
	if err != nil {
		return nil, "", err
	}
	if u.Path == "" {
		return res, "", nil
	}
	file, err := res.FileURL(u.Path)
	return res, file, err
}

// fetchURL returns u, an https URL of d's files, with the scheme http
// when d's host is one of PlainHTTPHosts.
func (r *Driver) fetchURL(d DID, u string) string {
	if slices.Contains(r.PlainHTTPHosts, d.Location().Host) {
		return "http://" + strings.TrimPrefix(u, "https://")
	}
	return u
}

func (r *Driver) limit(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// usesWitnesses reports whether any entry of log sets a witness list.
func usesWitnesses(log Log) bool {
	for _, e := range log {
		if w, ok := e.Parameters["witness"].(map[string]any); ok && len(w) > 0 {
			return true
		}
	}
	return false
}
