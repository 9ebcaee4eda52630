// Package input holds the one sentinel error for bad input, so that every
// layer of core refuses bad input with an error that wraps the same value:
// core re-exports it as core.ErrInvalid, and the page's bridge turns it into
// the error code "invalid" whichever package refused.
package input

import "errors"

// ErrInvalid wraps every refusal of bad input: an empty name, a malformed
// DID, an unknown file kind, a path query of too many hops. The message says
// which.
var ErrInvalid = errors.New("invalid input")
