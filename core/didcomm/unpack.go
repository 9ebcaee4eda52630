package didcomm

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"slices"
	"time"

	"planet/core/did"
	"planet/core/jcs"
)

// Metadata says how a message [Unpack] returned was packed: what it proves
// and which keys were used. The names follow didcomm-rust's.
type Metadata struct {
	// Encrypted: it came in at least one encryption layer.
	Encrypted bool
	// Authenticated: its sender is proved to the reader, by authcrypt or
	// by a signature.
	Authenticated bool
	// NonRepudiation: it was signed, and SignedMessage proves to anyone
	// that SignedBy's DID said it.
	NonRepudiation bool
	// AnonymousSender: an anoncrypt layer hid who sent it from all but the
	// reader (anoncrypt alone, or around authcrypt to protect the sender).
	AnonymousSender bool
	// EncryptedFrom is the sender's key agreement kid (skid) of an
	// authcrypt layer.
	EncryptedFrom string
	// EncryptedTo is the recipients' kids of the innermost encryption
	// layer, as the message lists them; MyKids are those of them the
	// reader's Keyring held.
	EncryptedTo []string
	MyKids      []string
	// EncAuthcrypt and EncAnoncrypt are the content encryptions of the
	// authcrypt and anoncrypt layers, "" where there was none.
	EncAuthcrypt ContentEncryption
	EncAnoncrypt ContentEncryption
	// SignedBy is the kid that signed, SignAlg its algorithm, and
	// SignedMessage the signed message itself, kept as evidence.
	SignedBy      string
	SignAlg       string
	SignedMessage []byte
	// Forward is set when the message is a forward: a mediator passes
	// Forward.Payload on to Forward.Next, who is someone else than the
	// reader unless the reader's own mediator re-wrapped a message for it.
	Forward *Forward
}

// Layers of a message, outermost first, each at most once, in this order.
const (
	layerAnoncrypt = iota
	layerAuthcrypt
	layerSigned
	layerPlaintext
)

// Unpack reads data, a DIDComm message in any of its forms (plaintext,
// signed, anoncrypt, authcrypt, and their nestings anoncrypt(sign(plain)),
// authcrypt(plain), authcrypt(sign(plain)), anoncrypt(authcrypt(plain))),
// and returns the plaintext inside and how it was packed. It tells the
// forms apart by their members: ciphertext for encrypted, payload for
// signed, anything else is read as a plaintext.
//
// It resolves the DIDs of the senders and signers with r, and decrypts with
// the keys of keys (which may be nil to read only plaintext and signed
// messages), and checks, refusing at the first failure:
//   - every layer's form (errors wrapping [ErrInvalidMessage]) and what
//     PLANET does not do ([ErrUnsupported]);
//   - that some recipient kid is the reader's ([ErrNotForMe]);
//   - decryption and signatures, the sender's key being a key agreement key
//     of from's document and the signer's an authentication key of it, and
//     that the layers agree: skid and the signer's kid are DID URLs of
//     from, the recipient kids DID URLs of a DID in to ([ErrForged]);
//   - then the dates, against now: expires_time not after now is
//     [ErrExpired], created_time more than [ClockSkew] after now is
//     [ErrNotYetValid].
//
// It never panics on any input.
func Unpack(ctx context.Context, r did.Resolver, keys Keyring, data []byte, now time.Time) (*Plaintext, *Metadata, error) {
	meta := new(Metadata)
	var recipientDIDs []did.DID // of the kids decrypted with, every layer
	var skidDID, signerDID did.DID
	next := layerAnoncrypt
	for {
		if len(data) > MaxPackedSize {
			return nil, nil, invalid("it is %d bytes, at most %d are allowed", len(data), MaxPackedSize)
		}
		obj, err := jcs.DecodeObject(data)
		if err != nil {
			return nil, nil, invalid("it %v", err)
		}
		_, encrypted := obj["ciphertext"]
		_, signed := obj["payload"]
		switch {
		case encrypted:
			m, err := parseJWE(obj)
			if err != nil {
				return nil, nil, layerError("the encrypted message", err)
			}
			layer := layerAnoncrypt
			if m.alg == AlgAuthcrypt {
				layer = layerAuthcrypt
			}
			if layer < next {
				return nil, nil, invalid("it nests %s inside another layer where DIDComm does not allow it", m.alg)
			}
			next = layer + 1
			inner, used, err := openJWE(ctx, r, keys, m, meta)
			if err != nil {
				return nil, nil, err
			}
			recipientDIDs = append(recipientDIDs, used...)
			if m.alg == AlgAuthcrypt {
				skidDID, _ = kidDID(m.skid)
			}
			data = inner
		case signed:
			if next > layerSigned {
				return nil, nil, invalid("it nests a signed message inside another signed message")
			}
			next = layerPlaintext
			m, err := parseJWS(obj)
			if err != nil {
				return nil, nil, layerError("the signed message", err)
			}
			if signerDID, err = verifyJWS(ctx, r, m); err != nil {
				return nil, nil, err
			}
			meta.Authenticated = true
			meta.NonRepudiation = true
			meta.SignedBy = m.kid
			meta.SignAlg = m.alg
			meta.SignedMessage = slices.Clone(data)
			data = m.payload
		default:
			p, err := plaintextFromJSON(obj)
			if err != nil {
				return nil, nil, err
			}
			if err := checkLayers(p, meta, recipientDIDs, skidDID, signerDID, now); err != nil {
				return nil, nil, err
			}
			if p.Type == ForwardType {
				if meta.Forward, err = ParseForward(p); err != nil {
					return nil, nil, err
				}
			}
			return p, meta, nil
		}
	}
}

// layerError wraps err, about a layer, in ErrInvalidMessage unless it
// already wraps ErrUnsupported.
func layerError(layer string, err error) error {
	if isUnsupported(err) {
		return fmt.Errorf("%s: %w", layer, err)
	}
	return invalid("%s %v", layer, err)
}

// isUnsupported reports whether err wraps ErrUnsupported.
func isUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }

// openJWE decrypts m with the first of its recipients whose key keys
// holds, after checking apv and, for authcrypt, the sender's key. It
// returns the plaintext and the DIDs of the reader's kids.
func openJWE(ctx context.Context, r did.Resolver, keys Keyring, m *jweMessage, meta *Metadata) ([]byte, []did.DID, error) {
	kids := m.kids()
	if string(recipientsAPV(kids)) != string(m.apv) {
		return nil, nil, invalid("the encrypted message has an apv that is not the hash of its recipients' kids")
	}
	var mine []string
	var key AgreementKey
	for _, kid := range kids {
		if keys == nil {
			break
		}
		if k, ok := keys.AgreementKey(kid); ok {
			if key == nil {
				key = k
			}
			mine = append(mine, kid)
		}
	}
	if key == nil {
		return nil, nil, fmt.Errorf("%w: it is encrypted to %v", ErrNotForMe, kids)
	}
	var sender *ecdh.PublicKey
	if m.alg == AlgAuthcrypt {
		s, err := resolveSender(ctx, r, m.skid)
		if err != nil {
			return nil, nil, err
		}
		sender = s
	}
	plaintext, err := m.decrypt(mine[0], key, sender)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the encrypted message: %v", ErrForged, err)
	}
	meta.Encrypted = true
	meta.EncryptedTo = kids
	meta.MyKids = mine
	if m.alg == AlgAuthcrypt {
		meta.Authenticated = true
		meta.EncryptedFrom = m.skid
		meta.EncAuthcrypt = m.enc
	} else {
		meta.AnonymousSender = true
		meta.EncAnoncrypt = m.enc
	}
	var dids []did.DID
	for _, kid := range mine {
		d, _ := kidDID(kid) // parseJWE checked every kid
		if !slices.Contains(dids, d) {
			dids = append(dids, d)
		}
	}
	return plaintext, dids, nil
}

// resolveSender finds skid among the key agreement keys of its DID's
// document.
func resolveSender(ctx context.Context, r did.Resolver, skid string) (*ecdh.PublicKey, error) {
	d, err := kidDID(skid)
	if err != nil {
		return nil, invalid("the sender key %v", err)
	}
	doc, err := r.Resolve(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("the sender %s cannot be resolved: %w", d, err)
	}
	pk, err := documentKey(doc, skid, doc.KeyAgreement, "key agreement")
	if err != nil {
		if isUnsupported(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: it names the sender key %v", ErrForged, err)
	}
	if pk.ecdh == nil {
		return nil, fmt.Errorf("%w: the sender key %s is not a key agreement key", ErrForged, skid)
	}
	return pk.ecdh, nil
}

// verifyJWS checks a signed message's signature with the key its kid names,
// which must be an authentication key of the kid's DID, and returns that
// DID.
func verifyJWS(ctx context.Context, r did.Resolver, m *jwsMessage) (did.DID, error) {
	d, _ := kidDID(m.kid) // parseJWS checked it
	doc, err := r.Resolve(ctx, d)
	if err != nil {
		return did.DID{}, fmt.Errorf("the signer %s cannot be resolved: %w", d, err)
	}
	pk, err := documentKey(doc, m.kid, doc.Authentication, "authentication")
	if err != nil {
		if isUnsupported(err) {
			return did.DID{}, err
		}
		return did.DID{}, fmt.Errorf("%w: it is signed with %v", ErrForged, err)
	}
	if err := m.verify(pk); err != nil {
		return did.DID{}, fmt.Errorf("%w: the signed message: %v", ErrForged, err)
	}
	return d, nil
}

// checkLayers checks that the plaintext agrees with the layers around it,
// then its dates.
func checkLayers(p *Plaintext, meta *Metadata, recipients []did.DID, skid, signer did.DID, now time.Time) error {
	if !skid.IsZero() && p.From != skid {
		return fmt.Errorf("%w: it is authcrypted by %s but says it is from %q", ErrForged, skid, p.From)
	}
	if !signer.IsZero() && p.From != signer {
		return fmt.Errorf("%w: it is signed by %s but says it is from %q", ErrForged, signer, p.From)
	}
	if p.To != nil {
		for _, d := range recipients {
			if !p.AddressedTo(d) {
				return fmt.Errorf("%w: it is encrypted to %s, which is not among its recipients", ErrForged, d)
			}
		}
	} else if meta.NonRepudiation && meta.Encrypted {
		// A signed message that names no recipient could be re-encrypted to
		// anyone and passed off as said to them.
		return invalid("it is signed and encrypted but names no recipient (to)")
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return fmt.Errorf("%w: it expired on %s", ErrExpired, p.Expires.Format(time.RFC1123))
	}
	if !p.Created.IsZero() && p.Created.After(now.Add(ClockSkew)) {
		return fmt.Errorf("%w: it was made on %s, after the time on this device (%s)",
			ErrNotYetValid, p.Created.Format(time.RFC1123), now.UTC().Format(time.RFC1123))
	}
	return nil
}
