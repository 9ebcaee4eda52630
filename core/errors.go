package core

import "errors"

// Errors of the application layer; vault's errors (vault.ErrLocked,
// vault.ErrWrongPassphrase, …) pass through unchanged.
var (
	// ErrInvalid wraps every refusal of bad input: an empty name, a
	// malformed DID, an unknown file kind. The message says which.
	ErrInvalid = errors.New("invalid input")
	// ErrBadExport: an import file is not a PLANET export, is damaged or
	// truncated, or the passphrase does not decrypt it.
	ErrBadExport = errors.New("not a readable PLANET export")
)
