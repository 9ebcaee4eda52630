package core

import (
	"planet/core/internal/input"
	"planet/core/session"
)

// Errors of the application layer; vault's errors (vault.ErrLocked,
// vault.ErrWrongPassphrase, …) pass through unchanged.
var (
	// ErrInvalid wraps every refusal of bad input: an empty name, a
	// malformed DID, an unknown file kind. The message says which. It is
	// the same value in every package of core.
	ErrInvalid = input.ErrInvalid
	// ErrBadExport: an import file is not a PLANET export, is damaged or
	// truncated, or the passphrase does not decrypt it.
	ErrBadExport = session.ErrBadExport
)
