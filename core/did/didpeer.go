package did

import (
	"errors"
	"fmt"
	"strings"
)

// did:peer (DIF Peer DID Method Specification). Numalgo 2 is checked
// completely, keys and services (see didpeer2.go), since PLANET resolves it;
// for the others PLANET checks only the shape of the method-specific id.
//
//	0 / 1 / 3   "z" and 46 or more base58btc digits
//	2           one or more "." elements: a purpose code (A, E, V, I, D) then
//	            a Multikey, or "S" then base64url of a service
//	4           "z" and 46 or more base58btc digits (the hash), optionally
//	            followed by ":" "z" and base58btc digits (the long form)

// minPeerBasisDigits is the shortest encnumbasis the spec allows: a 34-byte
// multicodec-prefixed key or multihash is at least 46 base58 digits.
const minPeerBasisDigits = 46

// checkPeerID checks the method-specific id of a did:peer.
func checkPeerID(id string) error {
	if err := checkPeerSyntax(id); err != nil {
		return fmt.Errorf("%w: did:peer %w", ErrInvalid, err)
	}
	return nil
}

func checkPeerSyntax(id string) error {
	numalgo, rest := id[0], id[1:] // splitDID has checked that id is not empty
	switch numalgo {
	case '0', '1', '3':
		return checkPeerBasis(rest)
	case '2':
		_, err := parsePeer2(rest)
		return err
	case '4':
		hash, doc, long := strings.Cut(rest, ":")
		if err := checkPeerBasis(hash); err != nil {
			return err
		}
		if long && (len(doc) < 2 || doc[0] != 'z' || !isBase58(doc[1:])) {
			return errors.New("long form document is not 'z' and base58btc digits")
		}
		return nil
	default:
		return fmt.Errorf("numalgo %q is unknown: want 0 to 4", id[:1])
	}
}

// checkPeerBasis checks a multibase "z" numeric basis: a key or a hash.
func checkPeerBasis(s string) error {
	if len(s) < 1+minPeerBasisDigits || s[0] != 'z' || !isBase58(s[1:]) {
		return fmt.Errorf("numeric basis is not 'z' and at least %d base58btc digits", minPeerBasisDigits)
	}
	return nil
}

// base58Alphabet is the Bitcoin base58 alphabet: no 0, O, I or l.
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base58Alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
