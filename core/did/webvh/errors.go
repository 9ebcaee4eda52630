package webvh

import "errors"

// Errors that resolution, the log decoders and the operations return,
// wrapped with a description of what failed (which entry, which key), so
// test for them with [errors.Is]. Each names one check of the did:webvh 1.0
// specification (decentralized-identity/didwebvh, spec-v1.0/specification.md);
// docs/didwebvh.md lists them beside the sections they come from.
var (
	// ErrInvalidDID reports a DID or DID URL that breaks the method's
	// identifier rules: an IP address for a host, a path segment such as
	// ".." once decoded, a bad SCID. Returned by [ParseDID], [ParseDIDURL]
	// and the resolvers; it also wraps did.ErrInvalid.
	ErrInvalidDID = errors.New("invalid did:webvh")

	// ErrMalformed reports a did.jsonl or did-witness.json that is not
	// what the format says: not JSON, a missing or unknown member, a value
	// of the wrong type, a line too long. Returned by [ParseLog],
	// [ParseWitnessFile] and resolution.
	ErrMalformed = errors.New("malformed did:webvh log")

	// ErrMethodVersion reports a "method" parameter other than
	// "did:webvh:1.0", or a parameter that version does not define (such
	// as one of version 0.5's): resolution stops rather than guess.
	ErrMethodVersion = errors.New("did:webvh method version not supported")

	// ErrInvalidParameter reports a parameter of version 1.0 with a value
	// the specification forbids: a scid after the first entry, portable
	// turned on after it, a witness threshold out of range, a witness that
	// is not an Ed25519 did:key, a ttl out of range.
	ErrInvalidParameter = errors.New("invalid did:webvh parameter")

	// ErrCryptosuite reports a proof that is not a DataIntegrityProof with
	// cryptosuite eddsa-jcs-2022 and proofPurpose assertionMethod, the only
	// kind version 1.0 permits for log entries and witness proofs.
	ErrCryptosuite = errors.New("did:webvh proof is not eddsa-jcs-2022")

	// ErrInvalidProof reports a proof whose signature does not verify, or
	// whose verificationMethod is not a did:key URL with the same key in its
	// body and fragment.
	ErrInvalidProof = errors.New("did:webvh proof does not verify")

	// ErrUnauthorizedKey reports a log entry signed by a key that is not in
	// the active updateKeys.
	ErrUnauthorizedKey = errors.New("did:webvh entry signed by a key not authorised to update")

	// ErrPreRotation reports an entry that breaks a pre-rotation
	// commitment: an updateKeys key whose hash the previous entry's
	// nextKeyHashes did not list, or updateKeys or nextKeyHashes left out
	// while pre-rotation is active.
	ErrPreRotation = errors.New("did:webvh pre-rotation commitment broken")

	// ErrSCIDMismatch reports a SCID that is not the hash of the first
	// entry, or a DID (requested, or an entry's state.id) whose SCID is not
	// the log's.
	ErrSCIDMismatch = errors.New("did:webvh scid mismatch")

	// ErrHashChain reports an entry whose versionId does not carry the
	// next version number and the hash of the entry chained to the one
	// before it.
	ErrHashChain = errors.New("did:webvh entry hash chain broken")

	// ErrVersionTime reports a versionTime that is not a UTC timestamp, not
	// later than the entry before it, or more than [MaxClockSkew] in the
	// future.
	ErrVersionTime = errors.New("did:webvh versionTime out of order")

	// ErrDIDMismatch reports a log none of whose entries has the requested
	// DID as its state.id.
	ErrDIDMismatch = errors.New("did:webvh log is not the requested did's")

	// ErrPortability reports a change of the DID's location in a log whose
	// first entry did not make it portable, or a move that does not keep
	// the previous DID in alsoKnownAs.
	ErrPortability = errors.New("did:webvh did moved without portability")

	// ErrWitness reports entries that need witnessing without a threshold
	// of valid proofs from distinct active witnesses in did-witness.json,
	// counting only proofs over versionIds of this very log (so proofs
	// replayed from another DID, or over an older version, do not count).
	ErrWitness = errors.New("did:webvh witness threshold not met")

	// ErrDeactivated reports a deactivated DID: its current document is not
	// returned (a version query still is) and it takes no more entries.
	ErrDeactivated = errors.New("did:webvh did is deactivated")

	// ErrTooLarge reports a did.jsonl or did-witness.json larger than the
	// resolver reads.
	ErrTooLarge = errors.New("did:webvh file too large")
)
