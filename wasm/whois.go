//go:build js && wasm

package main

import (
	"context"

	"github.com/hack-pad/safejs"

	"planet/core"
)

// addWhois adds to planet.page the relationship credentials the person
// shows on their page (whois.vp, docs/pages.md): whois() lists the ids
// shown, saveWhois(ids) signs and publishes the presentation of those
// (none takes it down) and answers with the page. step runs a change and
// answers with the page, as the other changes do.
func addWhois(ctx context.Context, p *core.Planet, o safejs.Value, step func(func(context.Context) error) (any, error)) {
	o.Set("whois", async(func([]safejs.Value) (any, error) {
		c, err := p.Publish().Content(ctx)
		if err != nil {
			return nil, err
		}
		ids := []string{}
		if c.Whois != nil {
			for _, s := range c.Whois.Credentials {
				ids = append(ids, s.ID)
			}
		}
		return toJS(map[string]any{"credentials": ids})
	}))
	o.Set("saveWhois", async(func(args []safejs.Value) (any, error) {
		var ids []string
		if err := fromJS(arg(args, 0), &ids); err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			ups, err := p.SaveWhois(ctx, ids)
			if err != nil {
				return err
			}
			return publishFiles(ctx, p, ups)
		})
	}))
}
