//go:build !js

package mediation

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"planet/core/didcomm"
)

// HTTPPost is the native [Poster], over net/http's default client. The
// browser build has none (net/http stays out of it): pass wasm/browser's
// Post there.
var HTTPPost Poster = httpPost

func httpPost(ctx context.Context, uri string, msg []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("mediation: posting to %s: %w", uri, err)
	}
	req.Header.Set("Content-Type", didcomm.EncryptedMediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mediation: posting to %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	// The endpoint's sentence, bounded: it is for a log, not to keep.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &HTTPError{URI: uri, Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
}
