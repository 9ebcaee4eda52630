package mailbox

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/keys"
)

// Deposit tokens (docs/protocols/mailbox.md, "Deposit tokens"). A mailbox
// cannot read its letters, so it cannot tell a contact's letter from a
// stranger's; yet strangers must not be able to fill anyone's mailbox. So
// each letter may carry the deposit token of the relationship between its
// sender and its recipient, and the recipient registers, with its proof of
// key, the hashes of the tokens of the people it knows: a letter whose
// token hashes to one of them counts against that relationship's quota,
// any other against the small share strangers get.
//
// Both sides compute the token on their own, with nothing exchanged: it is
// derived from the X25519 secret their two did:keys share (which only the
// two of them can compute), so every existing relationship has one, and
// the mailbox, which sees only hashes until a token is used, cannot make
// one.

// TokenSize is the length of a deposit token and of its hash.
const TokenSize = 32

// MaxTokens is the most token hashes one recipient registers.
const MaxTokens = 1024

const (
	tokenLabel     = "PLANET mailbox deposit token v1\x00"
	tokenHashLabel = "PLANET mailbox token hash v1\x00"
)

// Token returns the deposit token with which sender leaves letters for
// recipient, as me computes it: me is one of the two, and the other must
// be a did:key with an Ed25519 key. The sender presents it with each letter
// ([DepositWithToken]); the recipient registers its hash
// ([PickupWithTokens]).
func Token(me *identity.Identity, sender, recipient did.DID) ([]byte, error) {
	var other did.DID
	switch me.DID() {
	case sender:
		other = recipient
	case recipient:
		other = sender
	default:
		return nil, fmt.Errorf("mailbox token: %w: %s is neither the sender nor the recipient", input.ErrInvalid, me.DID())
	}
	if other == me.DID() {
		return nil, fmt.Errorf("mailbox token: %w: a token is between two people", input.ErrInvalid)
	}
	pub, err := other.Ed25519PublicKey()
	if err != nil {
		return nil, fmt.Errorf("mailbox token: %w: %w", input.ErrInvalid, err)
	}
	otherX, err := keys.X25519PublicFromEd25519(pub)
	if err != nil {
		return nil, fmt.Errorf("mailbox token: %w: %w", input.ErrInvalid, err)
	}
	secret := me.X25519Private()
	defer clear(secret)
	priv, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return nil, fmt.Errorf("mailbox token: %w", err)
	}
	peer, err := ecdh.X25519().NewPublicKey(otherX)
	if err != nil {
		return nil, fmt.Errorf("mailbox token: %w: %w", input.ErrInvalid, err)
	}
	shared, err := priv.ECDH(peer) // refuses a low-order key (an all-zero secret)
	if err != nil {
		return nil, fmt.Errorf("mailbox token: %w: %w", input.ErrInvalid, err)
	}
	defer clear(shared)
	// The direction is part of the input: the token for Alice's letters to
	// Bob is not the one for Bob's letters to Alice.
	mac := hmac.New(sha256.New, shared)
	mac.Write([]byte(tokenLabel))
	mac.Write([]byte(sender.String()))
	mac.Write([]byte{0})
	mac.Write([]byte(recipient.String()))
	return mac.Sum(nil), nil
}

// TokenHash is what a recipient registers for a token, and what the
// server compares a deposit's token with: a server's file never holds a
// token that would let anyone deposit as a contact.
func TokenHash(token []byte) []byte {
	h := sha256.New()
	h.Write([]byte(tokenHashLabel))
	h.Write(token)
	return h.Sum(nil)
}

// InvitationToken returns the deposit token for letters that answer an
// invitation, from the SHA-256 of the invitation's secret: the inviter's
// vault keeps that hash, and whoever was given the invitation can compute
// it. So an inviter registers a token for each open invitation, and the
// acceptance of an invitation (from someone the inviter does not know yet)
// is not counted with strangers' letters.
func InvitationToken(secretHash []byte) []byte {
	mac := hmac.New(sha256.New, secretHash)
	mac.Write([]byte(invitationTokenLabel))
	return mac.Sum(nil)
}

const invitationTokenLabel = "PLANET mailbox invitation token v1"
