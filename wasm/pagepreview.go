//go:build js && wasm

package main

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"

	"planet/core/page"
	"planet/wasm/browser"
)

// previewPath is where the person's server renders a post's Markdown
// (serve/pagesite.PreviewPath). The preview is rendered there, by the
// code that renders the public page, rather than here: the Markdown parser
// would add some 1.4 MB to this WebAssembly build. The draft goes to the
// server that is about to publish it, and nowhere else.
const previewPath = "/pages-assets/preview"

// withPreview adds preview(markdown) to the page API: the HTML the post
// page will show for that body. The page inserts it as markup, which is
// sound only because the server's renderer (core/page/markdown) never
// passes the author's HTML through and filters every URL.
func withPreview(ctx context.Context, o safejs.Value) safejs.Value {
	o.Set("preview", async(func(args []safejs.Value) (any, error) {
		body, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		if len(body) > page.MaxBody {
			return nil, fmt.Errorf("%w: the text is %d bytes, more than %d", page.ErrTooLarge, len(body), page.MaxBody)
		}
		status, answer, err := browser.Fetch(ctx, browser.Request{Method: "POST", URL: previewPath, Body: []byte(body),
			Headers: map[string]string{"Content-Type": "text/markdown; charset=utf-8"}}, 4*page.MaxBody+(64<<10))
		if err != nil {
			return nil, fmt.Errorf("asking the server for a preview: %w", err)
		}
		if status != 200 {
			return nil, fmt.Errorf("%w: the preview: it answered %d", errServerRefused, status)
		}
		return string(answer), nil
	}))
	return o
}
