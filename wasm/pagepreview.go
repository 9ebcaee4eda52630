package main

import (
	"github.com/hack-pad/safejs"

	"planet/core/page"
)

// withPreview adds preview(markdown) to the page API: the HTML a post's
// body becomes on the public page, rendered by the same code
// (page.RenderHTML), so the person sees what a visitor will see. The page
// inserts it as markup, which is sound only because RenderHTML never
// passes the author's HTML through and filters every URL.
func withPreview(o safejs.Value) safejs.Value {
	_ = o.Set("preview", async(func(args []safejs.Value) (any, error) {
		body, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return page.RenderHTML(body), nil
	}))
	return o
}
