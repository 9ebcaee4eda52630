package mediation

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"planet/core/didcomm"
)

// ErrNoRoute is returned by [Send] when the packed message has no route
// this build can deliver along: its recipient names no DIDCommMessaging
// service, or only endpoints of other schemes than http and https.
var ErrNoRoute = errors.New("mediation: no route to deliver the message along")

// Poster delivers one packed DIDComm message by HTTP POST to uri, with
// the content type application/didcomm-encrypted+json, and returns nil
// when the endpoint took it (a 2xx status). Natively [HTTPPost] does
// (net/http); in the browser, wasm/browser's Post does (fetch).
type Poster func(ctx context.Context, uri string, msg []byte) error

// HTTPError is a refusal by the endpoint a message was posted to: its
// HTTP status and the start of what it said.
type HTTPError struct {
	URI     string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("mediation: %s answered HTTP %d", e.URI, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Send delivers packed, a message [didcomm.Pack] made, along the first of
// its routes whose URI is http or https that takes it, trying the next
// when one fails, and posts with post (nil means [HTTPPost], which only
// the native build has). It returns an error joining every failure, or
// [ErrNoRoute] when no route is usable.
func Send(ctx context.Context, packed *didcomm.Packed, post Poster) error {
	if post == nil {
		post = HTTPPost
	}
	if post == nil {
		return errors.New("mediation: no way to post in this build: pass a Poster")
	}
	var errs []error
	for _, r := range packed.Routes {
		u, err := url.Parse(r.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		err = post(ctx, r.URI, r.Message)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return ErrNoRoute
	}
	return errors.Join(errs...)
}
