package trust

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"planet/core/did"
	"planet/core/graph"
	"planet/core/internal/input"
	"planet/core/session"
	"planet/core/vc"
	"planet/vault"
)

// credentialsCollection holds relationship credentials: the person's own
// (one of the two people is the person) and those contacts chose to share.
const credentialsCollection vault.Collection = "credentials"

// credentialRecord keeps one credential byte for byte as it was signed, so
// it can be shown to anyone later and still verify. Its keys are frozen
// (see package session for the rules of change).
type credentialRecord struct {
	JSON     []byte `cbor:"1,keyasint"`
	SharedBy string `cbor:"2,keyasint,omitempty"` // the contact who shared it; empty for the person's own
	Received int64  `cbor:"3,keyasint"`           // Unix milliseconds
}

// A KeptCredential is a credential in the vault, with where it came from.
type KeptCredential struct {
	Credential *vc.Credential
	SharedBy   did.DID // zero for the person's own relationships
	Received   time.Time
}

// credentialRecordID names a kept credential: its UUID, and for a shared
// one also who shared it, so that two contacts sharing the same credential
// are two records, each revocable on its own.
func credentialRecordID(c *vc.Credential, sharedBy did.DID) (string, error) {
	id, ok := strings.CutPrefix(c.ID, "urn:uuid:")
	if !ok || !vault.ValidRecordID(id) {
		return "", fmt.Errorf("credential id %q is not a urn:uuid: %w", c.ID, input.ErrInvalid)
	}
	if sharedBy.IsZero() {
		return id, nil
	}
	sum := sha256.Sum256([]byte(sharedBy.String()))
	return id + "." + hex.EncodeToString(sum[:8]), nil
}

// putCredential adds a credential the person holds about one of their own
// relationships to tx.
func putCredential(tx *vault.Tx, c *vc.Credential, received int64) error {
	recID, err := credentialRecordID(c, did.DID{})
	if err != nil {
		return err
	}
	exact, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	b, err := vault.MarshalCBOR(credentialRecord{JSON: exact, Received: received})
	if err != nil {
		return err
	}
	tx.Put(credentialsCollection, recID, b)
	return nil
}

// KeepCredential verifies a relationship credential and keeps it. With a
// zero sharedBy it is one of the person's own relationships, so the person
// must be its issuer or subject; otherwise it is one a contact shared, and
// that contact must be its issuer or subject.
func (s *Service) KeepCredential(ctx context.Context, data []byte, sharedBy did.DID) (*KeptCredential, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	return keepCredential(ctx, se, data, sharedBy)
}

func keepCredential(ctx context.Context, se *session.Session, data []byte, sharedBy did.DID) (*KeptCredential, error) {
	c, err := vc.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, input.ErrInvalid)
	}
	now := se.Now()
	if err := vc.Verify(c, now); err != nil {
		return nil, fmt.Errorf("%w: %w", err, input.ErrInvalid)
	}
	party := se.Identity.DID()
	if !sharedBy.IsZero() {
		party = sharedBy
	}
	if c.Issuer != party && c.Subject.ID != party {
		return nil, fmt.Errorf("the credential is between %s and %s, not %s: %w", c.Issuer, c.Subject.ID, party, input.ErrInvalid)
	}
	recID, err := credentialRecordID(c, sharedBy)
	if err != nil {
		return nil, err
	}
	exact, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	rec := credentialRecord{JSON: exact, Received: session.Millis(now)}
	if !sharedBy.IsZero() {
		rec.SharedBy = sharedBy.String()
	}
	kept := &KeptCredential{Credential: c, SharedBy: sharedBy, Received: session.Time(rec.Received)}
	return kept, session.Put(ctx, se.Vault, credentialsCollection, recID, rec)
}

// Credentials returns every kept credential.
func (s *Service) Credentials(ctx context.Context) ([]KeptCredential, error) {
	se, err := s.open.Session()
	if err != nil {
		return nil, err
	}
	recs, err := session.List(ctx, se.Vault, credentialsCollection, func(*credentialRecord, string) {})
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

// Count adds the number of kept credentials to c.
func (s *Service) Count(ctx context.Context, c *session.Counts) error {
	se, err := s.open.Session()
	if err != nil {
		return err
	}
	c.Credentials, err = se.Vault.Count(ctx, credentialsCollection)
	return err
}

func (r credentialRecord) kept() (KeptCredential, error) {
	c, err := vc.Parse(r.JSON)
	if err != nil {
		return KeptCredential{}, fmt.Errorf("kept credential: %w", errors.Join(vault.ErrCorrupt, err))
	}
	k := KeptCredential{Credential: c, Received: session.Time(r.Received)}
	if r.SharedBy != "" {
		if k.SharedBy, err = did.Parse(r.SharedBy); err != nil {
			return KeptCredential{}, fmt.Errorf("kept credential: %w", errors.Join(vault.ErrCorrupt, err))
		}
	}
	return k, nil
}

// ForgetShared removes every credential a contact shared: sharing is
// revocable. It returns how many went.
func (s *Service) ForgetShared(ctx context.Context, by did.DID) (int, error) {
	se, err := s.open.Session()
	if err != nil {
		return 0, err
	}
	return forgetShared(ctx, se.Vault, by)
}

func forgetShared(ctx context.Context, v *vault.Vault, by did.DID) (int, error) {
	recs, err := v.List(ctx, credentialsCollection)
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
				tx.Delete(credentialsCollection, r.ID)
				n++
			}
		}
		return nil
	})
	return n, err
}

// Graph builds the person's trust graph from the kept credentials.
func (s *Service) Graph(ctx context.Context) (*graph.Graph, error) {
	kept, err := s.Credentials(ctx)
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
