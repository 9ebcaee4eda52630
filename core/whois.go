package core

import (
	"context"
	"fmt"

	"planet/core/internal/input"
	"planet/core/publish"
	"planet/core/relationship"
)

// SaveWhois publishes on the person's page the relationship credentials
// they choose to show, by id ("urn:uuid:…"), as the presentation
// page.WhoisPath (docs/pages.md): their own kept relationship credentials
// (core/trust: issued by them or about them, never those a contact shared,
// which speak of other people) and the VRCs issued in their First Person
// Network relationships (core/relationship). No ids takes the presentation
// down. It returns what to upload.
func (p *Planet) SaveWhois(ctx context.Context, ids []string) ([]publish.Upload, error) {
	creds, err := p.showable(ctx)
	if err != nil {
		return nil, err
	}
	var chosen [][]byte
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		data, ok := creds[id]
		if !ok {
			return nil, fmt.Errorf("%w: there is no relationship credential %q of the person's to show", input.ErrInvalid, id)
		}
		chosen = append(chosen, data)
	}
	return p.publish.SaveWhois(ctx, chosen)
}

// showable returns the credentials the person may show, by id, each as
// its issuer signed it.
func (p *Planet) showable(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	kept, err := p.trust.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range kept {
		if !k.SharedBy.IsZero() {
			continue
		}
		data, err := k.Credential.MarshalJSON()
		if err != nil {
			return nil, err
		}
		out[k.Credential.ID] = data
	}
	vrcs, err := p.relationships.VRCs(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vrcs {
		if v.State != relationship.VRCIssued || v.Credential == nil {
			continue
		}
		data, err := v.Credential.MarshalJSON()
		if err != nil {
			return nil, err
		}
		out[v.Credential.ID] = data
	}
	return out, nil
}
