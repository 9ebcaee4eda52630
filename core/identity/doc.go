// Package identity holds the person's keys: it is the only package in PLANET
// that sees a private key.
//
// An [Identity] is the person's Ed25519 key pair. Its secret half is a
// [SigningKey], which never prints its bytes and cannot be compared with ==.
// From the one key come the person's identifiers:
//
//   - a did:key (multicodec ed25519-pub 0xed, base58btc, "did:key:z6Mk…"),
//     whose document also lists an X25519 key agreement key derived from the
//     same key ("z6LS…", multicodec x25519-pub 0xec);
//   - a pairwise did:peer:2 per relationship ([Identity.Relationship]), with
//     keys of its own derived from the seed and the relationship's index
//     (docs/relationship-keys.md), in the shape OpenVTC mints;
//   - a did:peer:2 with the identity's own keys ([Identity.Peer2DID]), which
//     names a channel but does not hide who is at the other end;
//   - a libp2p peer ID ("12D3KooW…"), the identity multihash of the key.
//
// Code that must sign but should see nothing else of the identity is given
// its [SigningKey]; code that must open what was sealed to the person is
// given the X25519 private key for the moment it needs it.
package identity
