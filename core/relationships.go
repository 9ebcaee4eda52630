package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"planet/core/did"
	"planet/core/graph"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// colCredentials holds relationship credentials: the person's own (one of
// the two people is the person) and those contacts chose to share.
const colCredentials vault.Collection = "credentials"

// credentialRecord keeps one credential byte for byte as it was signed, so
// it can be shown to anyone later and still verify. Change rules: numbered
// keys are never reused; fields added later are optional.
type credentialRecord struct {
	JSON     []byte `cbor:"1,keyasint"`
	SharedBy string `cbor:"2,keyasint,omitempty"` // the contact who shared it; empty for the person's own
	Received int64  `cbor:"3,keyasint"`
}

// A KeptCredential is a credential in the vault, with where it came from.
type KeptCredential struct {
	Credential *vc.Credential
	SharedBy   did.DID // zero for the person's own relationships
	Received   int64
}

// credentialRecordID names a kept credential: its UUID, and for a shared
// one also who shared it, so that two contacts sharing the same credential
// are two records, each revocable on its own.
func credentialRecordID(c *vc.Credential, sharedBy did.DID) (string, error) {
	id, ok := strings.CutPrefix(c.ID, "urn:uuid:")
	if !ok || !vault.ValidRecordID(id) {
		return "", fmt.Errorf("credential id %q is not a urn:uuid: %w", c.ID, ErrInvalid)
	}
	if sharedBy.IsZero() {
		return id, nil
	}
	sum := sha256.Sum256([]byte(sharedBy.String()))
	return id + "." + hex.EncodeToString(sum[:8]), nil
}

// KeepCredential verifies a relationship credential and keeps it. With a
// zero sharedBy it is one of the person's own relationships, so the person
// must be its issuer or subject; otherwise it is one a contact shared, and
// that contact must be its issuer or subject.
func (p *Planet) KeepCredential(ctx context.Context, data []byte, sharedBy did.DID) (*KeptCredential, error) {
	v, id, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	c, err := vc.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if err := vc.Verify(c, p.opt.Now()); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	party := id.DID()
	if !sharedBy.IsZero() {
		party = sharedBy
	}
	if c.Issuer != party && c.Subject.ID != party {
		return nil, fmt.Errorf("the credential is between %s and %s, not %s: %w", c.Issuer, c.Subject.ID, party, ErrInvalid)
	}
	recID, err := credentialRecordID(c, sharedBy)
	if err != nil {
		return nil, err
	}
	exact, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	kept := &KeptCredential{Credential: c, SharedBy: sharedBy, Received: millis(p.opt.Now())}
	rec := credentialRecord{JSON: exact, Received: kept.Received}
	if !sharedBy.IsZero() {
		rec.SharedBy = sharedBy.String()
	}
	return kept, session.Put(ctx, v, colCredentials, recID, rec)
}

// Credentials returns every kept credential.
func (p *Planet) Credentials(ctx context.Context) ([]KeptCredential, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return nil, err
	}
	recs, err := session.List(ctx, v, colCredentials, func(*credentialRecord, string) {})
	if err != nil {
		return nil, err
	}
	out := make([]KeptCredential, 0, len(recs))
	for _, r := range recs {
		k, err := r.kept()
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func (r credentialRecord) kept() (KeptCredential, error) {
	c, err := vc.Parse(r.JSON)
	if err != nil {
		return KeptCredential{}, fmt.Errorf("kept credential: %w", errors.Join(vault.ErrCorrupt, err))
	}
	k := KeptCredential{Credential: c, Received: r.Received}
	if r.SharedBy != "" {
		if k.SharedBy, err = did.Parse(r.SharedBy); err != nil {
			return KeptCredential{}, fmt.Errorf("kept credential: %w", errors.Join(vault.ErrCorrupt, err))
		}
	}
	return k, nil
}

// ForgetShared removes every credential a contact shared: sharing is
// revocable. It returns how many went.
func (p *Planet) ForgetShared(ctx context.Context, by did.DID) (int, error) {
	v, _, err := p.unlocked()
	if err != nil {
		return 0, err
	}
	recs, err := v.List(ctx, colCredentials)
	if err != nil {
		return 0, err
	}
	n := 0
	err = v.Update(ctx, func(tx *vault.Tx) error {
		for _, r := range recs {
			var rec credentialRecord
			if err := vault.UnmarshalCBOR(r.Data, &rec); err != nil {
				return fmt.Errorf("kept credential: %w", errors.Join(vault.ErrCorrupt, err))
			}
			if rec.SharedBy == by.String() {
				tx.Delete(colCredentials, r.ID)
				n++
			}
		}
		return nil
	})
	return n, err
}

// TrustGraph builds the person's trust graph from the kept credentials.
func (p *Planet) TrustGraph(ctx context.Context) (*graph.Graph, error) {
	kept, err := p.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	return graphOf(kept)
}

func graphOf(kept []KeptCredential) (*graph.Graph, error) {
	g := graph.New()
	for _, k := range kept {
		var err error
		if k.SharedBy.IsZero() {
			err = g.AddCredential(k.Credential)
		} else {
			err = g.AddShared(k.SharedBy, k.Credential)
		}
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}
