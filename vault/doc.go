// Package vault keeps a person's data sealed on their own device.
//
// A [Vault] sits on a [Store], a flat ordered map of opaque keys to opaque
// values (IndexedDB in the browser, memory in tests), and seals everything
// before the store sees it: the store learns neither names, ids nor
// contents. One passphrase opens the vault; it unwraps a random data key,
// so changing the passphrase rewrites one value.
//
// # Records
//
// Records live in named collections and are written in atomic
// transactions ([Vault.Update]). Each sealed record is bound to its
// collection, id and version, so records cannot be swapped or replayed.
//
// # Files
//
// Photos and documents of any size are streamed in fixed-size chunks
// ([Vault.WriteBlob], [Vault.OpenBlob]); memory stays bounded whatever the
// size. Each chunk is sealed with its index and a final-chunk flag, so
// truncation and reordering are detected.
//
// The byte-level format is specified in docs/vault-format.md.
package vault
