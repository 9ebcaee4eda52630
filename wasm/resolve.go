//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"planet/core/did"
	"planet/core/did/webvh"
	"planet/wasm/browser"
)

// The tab resolves others' DIDs: did:key and did:peer:2 from themselves,
// did:webvh by fetching its log from the host it names and verifying it
// (core/did/webvh).

// fetchGetter is webvh's Getter over the page's fetch.
type fetchGetter struct{}

func (fetchGetter) Get(ctx context.Context, url string, limit int64) ([]byte, error) {
	status, body, err := browser.Fetch(ctx, browser.Request{URL: url}, int(limit))
	switch {
	case errors.Is(err, browser.ErrTooLarge):
		return nil, fmt.Errorf("%s: %w", url, webvh.ErrTooLarge)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", url, err)
	case status == 404 || status == 410:
		return nil, fmt.Errorf("%s: %w", url, did.ErrNotFound)
	case status != 200:
		return nil, fmt.Errorf("%s answered %d", url, status)
	}
	return body, nil
}

// resolver is the tab's: the local methods, and did:webvh over fetch. A
// page served on loopback (tests, a developer's machine) is by a server
// without TLS, whose DIDs name planet.localhost (docs/pages-hosting.md):
// their logs are fetched over http there, and nowhere else.
func resolver() did.Resolver {
	driver := &webvh.Driver{Getter: fetchGetter{}}
	switch h := browser.String(browser.Global("location"), "hostname"); {
	case h == "127.0.0.1" || h == "localhost" || h == "[::1]" || strings.HasSuffix(h, ".localhost"):
		driver.PlainHTTPHosts = []string{"planet.localhost"}
	}
	return did.Methods{
		did.MethodKey:   did.KeyMethod,
		did.MethodPeer:  did.PeerMethod,
		did.MethodWebVH: driver,
	}
}
