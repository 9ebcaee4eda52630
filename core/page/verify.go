package page

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"planet/core/did/webvh"
	"planet/core/internal/eddsajcs"
	"planet/core/keys"
)

// Verified is a document that verified, and what was checked.
type Verified struct {
	// Type is TypeProfile, TypePost or TypeIndex; exactly one of Profile,
	// Post and Index is set.
	Type    string
	Profile *Profile
	Post    *Post
	Index   *Index
	// Path is where the document says it lives under #files
	// ("posts/hello.json").
	Path string
	// DID is the author; Key the verification method that signed.
	DID webvh.DID
	Key string
	// Version is the number of the DID's version whose document listed Key
	// as an assertion method; Signed the proof's created time.
	Version int
	Signed  time.Time
}

// Words says what was verified, for a reader: "signed by #key-1 of
// did:webvh:…, version 2, on 2026-01-02 03:04 UTC".
func (v *Verified) Words() string {
	key := strings.TrimPrefix(v.Key, v.DID.String())
	return fmt.Sprintf("signed by %s of %s, version %d, on %s", key, v.DID, v.Version, v.Signed.UTC().Format("2006-01-02 15:04 UTC"))
}

// Verify decodes a document and checks its proof against res, the author's
// DID resolved at the version in force when the document was signed (the
// proof's created time: see [SignedAt] and [VerifyLog]). It checks, in
// order: the size, the JSON (strictly), the @context and type, every
// member, that the author is res's DID and the id is that DID's URL for
// the document's path, that the proof is an eddsa-jcs-2022 proof for
// assertionMethod by a verification method listed under assertionMethod
// in res's document, that it was made no earlier than that version, and
// the signature. The error wraps the sentinel of the check that failed.
func Verify(data []byte, res *webvh.Resolution) (*Verified, error) {
	if len(data) > MaxDocument {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(data), MaxDocument)
	}
	m, err := jcsDecode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: document %w", ErrMalformed, err)
	}
	h, err := readHeader(m)
	if err != nil {
		return nil, err
	}
	v := &Verified{Type: h.typ}
	switch h.typ {
	case TypeProfile:
		v.Profile, err = decodeProfile(m)
		v.Path = ProfilePath
	case TypePost:
		v.Post, err = decodePost(m)
		if err == nil {
			v.Path = PostPath(v.Post.Slug)
		}
	case TypeIndex:
		v.Index, err = decodeIndex(m)
		v.Path = IndexPath
	}
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("%w: no resolved did to verify against", ErrWrongDID)
	}
	v.DID = res.DID
	if h.author != res.DID.String() {
		return nil, fmt.Errorf("%w: author is %s, the resolved did is %s", ErrWrongDID, h.author, res.DID)
	}
	if want := h.author + "/" + v.Path; h.id != want {
		return nil, fmt.Errorf("%w: id is %s, want %s", ErrWrongDID, h.id, want)
	}
	if err := checkProof(m, h.proof, res, v); err != nil {
		return nil, err
	}
	return v, nil
}

// proofMembers are the members a document's proof has; any other (a
// challenge, a domain, previousProof) would mean something this format
// does not define.
var proofMembers = []string{"type", "cryptosuite", "verificationMethod", "created", "proofPurpose", "proofValue"}

func checkProof(doc, proof map[string]any, res *webvh.Resolution, v *Verified) error {
	for name := range proof {
		if !slices.Contains(proofMembers, name) {
			return fmt.Errorf("%w: proof member %q is not supported", ErrBadProof, name)
		}
	}
	str := func(name string) string { s, _ := proof[name].(string); return s }
	if str("type") != proofType || str("cryptosuite") != cryptosuite || str("proofPurpose") != proofPurpose {
		return fmt.Errorf("%w: proof is %q/%q for %q, want %s/%s for %s", ErrBadProof,
			str("type"), str("cryptosuite"), str("proofPurpose"), proofType, cryptosuite, proofPurpose)
	}
	created, err := time.Parse(timeLayout, str("created"))
	if err != nil {
		return fmt.Errorf("%w: proof created %q is not a UTC time", ErrBadProof, str("created"))
	}
	v.Signed, v.Key, v.Version = created, str("verificationMethod"), res.Metadata.VersionNumber
	pub, err := assertionKey(res, v.Key)
	if err != nil {
		return err
	}
	if created.Before(res.Metadata.VersionTime) {
		return fmt.Errorf("%w: signed %s, before version %d of %s (%s) was in force", ErrNotAssertionKey,
			formatTime(created), res.Metadata.VersionNumber, res.DID, formatTime(res.Metadata.VersionTime))
	}
	sig, err := eddsajcs.DecodeProofValue(str("proofValue"))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	hash, err := eddsajcs.Hash(doc, proof)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !ed25519.Verify(pub, hash, sig) {
		return fmt.Errorf("%w: the signature by %s does not match the document: it was changed after signing, or not signed by that key", ErrBadProof, v.Key)
	}
	return nil
}

// assertionKey returns the Ed25519 key of the verification method vm if
// res's document lists it under assertionMethod (by reference, relative or
// absolute).
func assertionKey(res *webvh.Resolution, vm string) (ed25519.PublicKey, error) {
	d := res.DID.String()
	if !strings.HasPrefix(vm, d+"#") {
		return nil, fmt.Errorf("%w: verification method %q is not one of %s", ErrNotAssertionKey, vm, d)
	}
	doc, err := res.Doc()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotAssertionKey, err)
	}
	same := func(id string) bool { return id == vm || d+id == vm }
	if !slices.ContainsFunc(doc.AssertionMethod, same) {
		return nil, fmt.Errorf("%w: %s is not under assertionMethod at version %d", ErrNotAssertionKey, vm, res.Metadata.VersionNumber)
	}
	for _, m := range doc.VerificationMethod {
		if !same(m.ID) {
			continue
		}
		if m.Type != "Multikey" {
			return nil, fmt.Errorf("%w: %s is a %s, not an Ed25519 Multikey", ErrNotAssertionKey, vm, m.Type)
		}
		pub, err := keys.ParseEd25519Multikey(m.PublicKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotAssertionKey, vm, err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: %s is not among the verification methods at version %d", ErrNotAssertionKey, vm, res.Metadata.VersionNumber)
}

// SignedAt returns the created time of a document's proof, to resolve the
// DID at the version in force then. It reads no more than that.
func SignedAt(data []byte) (time.Time, error) {
	if len(data) > MaxDocument {
		return time.Time{}, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(data), MaxDocument)
	}
	m, err := jcsDecode(data)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: document %w", ErrMalformed, err)
	}
	proof, _ := m["proof"].(map[string]any)
	s, _ := proof["created"].(string)
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: proof created %q is not a UTC time", ErrBadProof, s)
	}
	return t, nil
}

// VerifyLog verifies a document against the DID's log: it resolves d (so
// the log must verify and be d's), then calls [VerifyVersions] with the
// log's versions.
func VerifyLog(data []byte, d webvh.DID, log webvh.Log, wf webvh.WitnessFile, now time.Time) (*Verified, error) {
	if _, err := webvh.Resolve(d, log, wf, webvh.Query{}, now); err != nil {
		return nil, err
	}
	versions, err := webvh.Verify(log, wf, now)
	if err != nil {
		return nil, err
	}
	return VerifyVersions(data, versions, now)
}

// VerifyVersions verifies a document against the verified versions of its
// DID's log (as webvh.Verify returns them, after a resolution of the DID
// succeeded): it picks the version in force when the document says it was
// signed and calls [Verify]. A reader verifying many documents verifies
// the log once and calls this for each.
//
// A document signed more than [webvh.MaxClockSkew] after now is refused,
// as is any document of a deactivated DID (webvh.ErrDeactivated): a DID is
// deactivated when its keys can no longer be trusted.
//
// A signer who has the key can choose the created time, so a key removed
// from the document still signs documents dated before its removal: the
// person rotates a compromised key and deactivates if that matters.
func VerifyVersions(data []byte, versions []webvh.Version, now time.Time) (*Verified, error) {
	res, err := resolutionAt(data, versions, now)
	if err != nil {
		return nil, err
	}
	return Verify(data, res)
}

// resolutionAt returns the DID resolved, from its verified versions, at
// the version in force when the document data says it was signed.
func resolutionAt(data []byte, versions []webvh.Version, now time.Time) (*webvh.Resolution, error) {
	if len(versions) == 0 {
		return nil, fmt.Errorf("%w: no verified version of the did", ErrWrongDID)
	}
	last := versions[len(versions)-1]
	if last.Parameters.Deactivated {
		return nil, fmt.Errorf("%w: %s since %s", webvh.ErrDeactivated, last.DID, formatTime(last.Time))
	}
	signed, err := SignedAt(data)
	if err != nil {
		return nil, err
	}
	if signed.After(now.Add(webvh.MaxClockSkew)) {
		return nil, fmt.Errorf("%w: signed %s, in the future", ErrBadProof, formatTime(signed))
	}
	// The version in force then: the last whose versionTime is not after
	// the signing time.
	var chosen *webvh.Version
	for i := range versions {
		if !versions[i].Time.After(signed) {
			chosen = &versions[i]
		}
	}
	if chosen == nil {
		return nil, fmt.Errorf("%w: signed %s, before the did existed", ErrNotAssertionKey, formatTime(signed))
	}
	return &webvh.Resolution{
		DID:      chosen.DID,
		Document: chosen.State,
		Metadata: webvh.Metadata{VersionID: chosen.VersionID, VersionNumber: chosen.Number, VersionTime: chosen.Time,
			Created: versions[0].Time, Updated: last.Time, Parameters: last.Parameters},
	}, nil
}
