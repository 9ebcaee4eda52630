// Package core is the domain of PLANET: the types and rules that every part of
// the client shares, whatever runs it. It starts with the person's identity
// and decentralised identifiers, and grows to contacts, notes, credentials,
// the trust graph and the wire protocols.
//
// Core is pure Go. It never imports syscall/js, so it builds and tests
// natively (with -race) and compiles unchanged into the browser's WebAssembly
// module, where the wasm package wires it to the page.
//
// # Identity
//
// An [Identity] is the person's Ed25519 key pair. Its secret half is a
// [SigningKey], which never prints its bytes and cannot be compared with ==.
// From the one key come the person's identifiers:
//
//   - a did:key [DID] (multicodec ed25519-pub 0xed, base58btc, "did:key:z6Mk…"),
//     whose [DIDDocument] also lists an X25519 key agreement key derived
//     from the same key ("z6LS…", multicodec x25519-pub 0xec);
//   - a libp2p [PeerID] ("12D3KooW…"), the identity multihash of the key,
//     so that the network address and the DID name the same person.
//
// # Parsing
//
// Identifiers are parsed, never wrapped: a [DID] or [PeerID] value exists
// only if [ParseDID] or [ParsePeerID] (or a constructor from a key) accepted
// it, so code that holds one need not check it again. Parse errors wrap
// [ErrInvalidDID], [ErrUnsupportedMethod] or [ErrInvalidPeerID].
//
// The test vectors live as data in testdata/, to be shared with other
// implementations.
package core
