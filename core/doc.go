// Package core is one person's PLANET on one device: the [Planet], which
// owns the vault's lifecycle (create, unlock, lock after the idle time the
// person chose), their settings and identity, wires the features together,
// and writes and reads the export archive.
//
// Everything else lives in packages below it (docs/architecture.md draws
// the layers, and a test holds every package to its place):
//
//   - encodings: cbor (deterministic CBOR), jcs (canonical and strict JSON),
//     keys (multikeys, X25519 from Ed25519, libp2p peer IDs);
//   - identifiers and framing: did (syntax, did:key, did:peer:2, documents,
//     resolution), wire (streams and frames), internal/jws;
//   - identity, the only package that holds a private key;
//   - signed formats and protocols: vc (credentials), invite (invitation
//     tokens), didcomm (messages and envelopes), mailbox (the mailbox
//     protocol), graph (the trust graph);
//   - session, what a feature gets while the vault is open, and the
//     features built on it: contacts (which the others build on), library,
//     chat and trust (invitations, introductions, sharing, the kept
//     credentials).
//
// What stays here besides the wiring is the dispatch of the mailbox's
// letters ([Planet.OpenLetter]) between chat and the trust network.
//
// # Features
//
// A feature is a package with a service built on a [session.Opener] (the
// Planet is one), its own vault collections and record types, and its own
// sections of the export archive. Planet holds one field per feature and
// answers [Planet.Contacts], [Planet.Library], …; [Planet.Export] and
// [Planet.Import] run the features' sections in the order of the archive
// (docs/export-format.md) and know none of their records.
//
// Core is pure Go. It never imports syscall/js, so it builds and tests
// natively (with -race) and compiles unchanged into the browser's
// WebAssembly module, where the wasm package wires it to the page.
package core
