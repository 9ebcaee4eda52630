//go:build js && wasm

package main

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"planet/core"
	"planet/core/invite"
	"planet/core/mailbox"
	"planet/core/p2p"
	"planet/core/publish"
	"planet/core/relationship"
	"planet/core/trust"
	"planet/idb"
	"planet/vault"
	"planet/wasm/browser"
)

// A code is the stable name of an error class that the page can act on;
// the list is the ErrorCode type in web/planet.d.ts.
type code string

// classify maps an error from the core to its code and a message a person
// can read. Messages for the common cases are written for people; the
// others carry the core's own words, which say what was wrong.
func classify(err error) (code, string) {
	var weak *vault.ErrWeakPassphrase
	var remote *trust.RemoteError
	switch {
	case errors.As(err, &weak):
		return "weak_passphrase", sentence(weak.Strength.Warning, "That passphrase is too easy to guess.")
	case errors.Is(err, vault.ErrWrongPassphrase):
		return "wrong_passphrase", "That passphrase does not open this vault."
	case errors.Is(err, vault.ErrLocked):
		return "locked", "The vault is locked. Unlock it to continue."
	case errors.Is(err, vault.ErrNoVault):
		return "no_vault", "There is no vault in this browser yet."
	case errors.Is(err, vault.ErrExists):
		return "vault_exists", "This browser already holds a vault. Import needs a fresh browser profile."
	case errors.Is(err, core.ErrBadExport):
		return "bad_export", sentence(strings.TrimSuffix(err.Error(), ": "+core.ErrBadExport.Error()), "")
	case errors.Is(err, core.ErrInvalid), errors.Is(err, errInvalidArg):
		return "invalid", sentence(trimCause(err), "")
	case errors.Is(err, vault.ErrNotFound):
		return "not_found", "That item no longer exists."
	case errors.Is(err, vault.ErrCorrupt):
		return "corrupt", "Stored data failed its integrity check: " + err.Error() + "."
	case errors.Is(err, idb.ErrStorage):
		return "storage", sentence(err.Error(), "")
	case errors.Is(err, errServerRefused):
		return "refused", sentence(err.Error(), "")
	case errors.Is(err, publish.ErrExists):
		return "invalid", "You have a page already."
	case errors.Is(err, publish.ErrNone):
		return "not_found", "You have no page yet."
	case errors.Is(err, relationship.ErrNotFound):
		return "not_found", sentence(err.Error(), "")
	case errors.Is(err, relationship.ErrState), errors.Is(err, relationship.ErrTooMany):
		return "invalid", sentence(err.Error(), "")
	case errors.Is(err, errNetworkDown), errors.Is(err, errNoMediator):
		return "offline", sentence(err.Error(), "")
	case errors.As(err, &remote):
		return "refused", sentence(remote.Error(), "The other person refused.")
	case errors.Is(err, errPeerUnreachable):
		return "unreachable", sentence(err.Error(), "")
	case errors.Is(err, mailbox.ErrFull):
		return "mailbox_full", "The other person's mailbox is full: it takes no more letters until they pick some up."
	case errors.Is(err, p2p.ErrUnreachable):
		return "unreachable", "The other person cannot be reached now, and their mailbox could not take the message: " + strings.TrimSuffix(err.Error(), ".") + "."
	case isInvitationProblem(err):
		return "invalid", sentence(err.Error(), "")
	}
	return "internal", "Something went wrong inside PLANET: " + err.Error() + "."
}

// trimCause drops the sentinel's words from the end of a wrapped error.
func trimCause(err error) string {
	s := err.Error()
	for _, sentinel := range []error{core.ErrInvalid, errInvalidArg} {
		s = strings.TrimSuffix(s, ": "+sentinel.Error())
	}
	return s
}

// sentence capitalizes s and ends it with a full stop; fallback if empty.
func sentence(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// coded gives err its code and a message a person can read, as the page
// sees it: a PlanetError.
func coded(err error) error {
	c, msg := classify(err)
	return &browser.Error{Name: "PlanetError", Code: string(c), Message: msg, Err: err}
}

// isInvitationProblem reports an invitation that cannot be accepted as it
// is (broken, forged, expired, not valid yet): bad input, as far as the
// page is concerned.
func isInvitationProblem(err error) bool {
	for _, e := range []error{invite.ErrMalformed, invite.ErrForged,
		invite.ErrExpired, invite.ErrNotYetValid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
