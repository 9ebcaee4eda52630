// Package page holds the signed documents of a person's public page (First
// Person Pages, docs/pages.md): the profile, the blog posts and the index of
// posts, each a JSON document published beside a did:webvh log and reached
// by a DID URL through the DID's #files service
// (did:webvh:…/profile.json, did:webvh:…/posts/<slug>.json,
// did:webvh:…/posts/index.json).
//
// # Signing and verifying
//
// The person's tab signs each document with [SignProfile], [SignPost] or
// [SignIndex]: an eddsa-jcs-2022 Data Integrity proof for assertionMethod by
// a verification method of the DID's document (PLANET puts the identity's
// Ed25519 key there as #key-1). The DID's update keys sign the log, never
// the content, so the content key can stay in the vault's identity while
// the log's keys rotate on their own schedule.
//
// Anyone verifies with [Verify], given the DID resolved at the version in
// force when the document was signed, or with [VerifyLog], which finds that
// version in the log itself. Verification says in words what it checked
// ([Verified.Words]) or which check failed (the sentinels below).
//
// # Strictness
//
// The decoders refuse anything the format does not define: unknown or
// missing members, duplicate keys, invalid UTF-8, control characters in
// text, links that are not http(s), documents over [MaxDocument]. A page is
// read by strangers' browsers, so what is not understood is not shown.
package page

import (
	"errors"
	"time"
)

// Context is the document's @context: a name for this format and its
// version, compared as a string and never fetched (eddsa-jcs-2022 signs the
// JSON text, not a JSON-LD expansion). A later incompatible version gets a
// new name.
const Context = "urn:planet:page:v1"

// The document types, the value of "type".
const (
	TypeProfile = "PageProfile"
	TypePost    = "PagePost"
	TypeIndex   = "PagePostIndex"
)

// The document paths under the DID's #files service.
const (
	ProfilePath = "profile.json"
	IndexPath   = "posts/index.json"
)

// PostPath returns the path of the post with slug under #files.
func PostPath(slug string) string { return "posts/" + slug + ".json" }

// Limits of the format. A reader refuses a document that exceeds them
// before doing any work on it, so a hostile page costs little to read.
const (
	MaxDocument      = 256 << 10 // bytes of a whole document
	MaxBody          = 64 << 10  // bytes of a post's body
	MaxPosts         = 200       // entries of the index
	MaxLinks         = 50
	MaxRelationships = 200
	maxLine          = 300  // bytes of a name, title, link title
	maxSummary       = 1000 // bytes of a summary
	maxURL           = 2048 // bytes of a URL or DID
)

// Errors of [Verify] and the decoders, wrapped with what failed.
var (
	// ErrTooLarge reports a document over [MaxDocument], or a part over
	// its own limit (a post's body, the index's number of posts).
	ErrTooLarge = errors.New("page document too large")
	// ErrMalformed reports a document that is not the format: not a JSON
	// object, a missing or unknown member, a value of the wrong type, text
	// with control characters, a link that is not http(s).
	ErrMalformed = errors.New("malformed page document")
	// ErrUnknownType reports a @context or type this package does not
	// read.
	ErrUnknownType = errors.New("unknown page document type")
	// ErrWrongDID reports a document whose author or id is not the DID
	// (and path) it was verified against: a document copied from another
	// person's page, or put at another path.
	ErrWrongDID = errors.New("page document of another did")
	// ErrNotAssertionKey reports a proof by a verification method that the
	// DID's document, at the version in force when it was signed, does not
	// list under assertionMethod, or that is not an Ed25519 Multikey.
	ErrNotAssertionKey = errors.New("page document signed by a key that is not an assertion method of the did")
	// ErrBadProof reports a proof that is not eddsa-jcs-2022 for
	// assertionMethod, or whose signature does not verify: the document
	// was changed after it was signed, or was never signed by that key.
	ErrBadProof = errors.New("page document proof does not verify")
)

// Link is a link to one of the person's other places.
type Link struct {
	Title string
	URL   string // http or https
}

// Relationship is a relationship the person chooses to show.
type Relationship struct {
	Name  string
	DID   string
	Since time.Time // zero: not shown
}

// Profile is who the person is.
type Profile struct {
	Name          string
	Summary       string
	Links         []Link
	Relationships []Relationship
	// Picture is the path of an image under the DID's #files
	// ("avatar.jpg"), or "".
	Picture string
	Updated time.Time
}

// Post is one blog post. Its body is Markdown (CommonMark), rendered by
// RenderHTML with raw HTML shown as text, so no reader has to sanitise
// markup; a plain-text body (blank-line paragraphs, bare links) reads as it
// did before.
type Post struct {
	Slug      string
	Title     string
	Summary   string // optional
	Body      string
	Published time.Time
	Updated   time.Time
}

// IndexEntry is one post as the index lists it.
type IndexEntry struct {
	Slug      string
	Title     string
	Summary   string
	Published time.Time
	Updated   time.Time
}

// Index lists the published posts, so a reader lists them without
// guessing paths.
type Index struct {
	Posts   []IndexEntry
	Updated time.Time
}
