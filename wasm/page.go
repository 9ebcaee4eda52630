//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/did/webvh"
	"planet/core/page"
	"planet/core/publish"
	"planet/wasm/browser"
)

// The person's public page (planet.page in web/planet.d.ts): their did:webvh
// made and signed in the vault (core/publish), published to their own
// server (docs/pages-hosting.md) — the log, then the signed profile and
// posts — which renders it for anyone (docs/pages.md). Every change goes to
// the server at once; one the server refuses is reported, and a first
// publication it refuses (a name already taken) is forgotten so that the
// person can choose another name.

// pagesPath is where the server says under which host its pages' DIDs are.
const pagesPath = "/pages.json"

// errServerRefused wraps the server's own words when it refuses a change.
var errServerRefused = errors.New("the server refused")

// pageLocation asks the page's server where it hosts DIDs.
func pageLocation(ctx context.Context) (publish.Location, error) {
	var info struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	found, err := fetchOwnJSON(ctx, pagesPath, &info)
	switch {
	case err != nil:
		return publish.Location{}, err
	case !found || info.Host == "":
		return publish.Location{}, fmt.Errorf("%w: this server hosts no pages", errServerRefused)
	}
	return publish.Location{Host: info.Host, Port: info.Port}, nil
}

// publicURL is the address of the page of DID d: the base of its files,
// over plain HTTP for a server on loopback (a *.localhost name).
func publicURL(d webvh.DID) string {
	u := d.BaseURL()
	if h := d.Location().Host; h == "localhost" || strings.HasSuffix(h, ".localhost") {
		u = "http://" + strings.TrimPrefix(u, "https://")
	}
	return u
}

// upload sends a change to the page's own server: PUT of body at path under
// the DID's name (DELETE when body is nil), signed by the update key unless
// it is the log, which authorises itself.
func upload(ctx context.Context, p *core.Planet, name, path string, body []byte) error {
	target := "/" + name + "/" + path
	req := browser.Request{Method: "PUT", URL: target, Body: body, Headers: map[string]string{}}
	if body == nil {
		req.Method = "DELETE"
	}
	if path != "did.jsonl" {
		auth, err := p.Publish().Authorize(ctx, req.Method, target, body)
		if err != nil {
			return err
		}
		req.Headers["Authorization"] = auth
	}
	status, answer, err := browser.Fetch(ctx, req, 64<<10)
	if err != nil {
		return err
	}
	if status >= 200 && status < 300 {
		return nil
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &e) != nil || e.Message == "" {
		e.Message = fmt.Sprintf("it answered %d", status)
	}
	return fmt.Errorf("%w %s: %s", errServerRefused, path, e.Message)
}

// pageJS is the page's view of the person's page (PageInfo).
func pageJS(ctx context.Context, p *core.Planet) (any, error) {
	pg, err := p.Publish().Get(ctx)
	if errors.Is(err, publish.ErrNone) {
		return safejs.Null(), nil
	} else if err != nil {
		return nil, err
	}
	c, err := p.Publish().Content(ctx)
	if err != nil {
		return nil, err
	}
	wd, err := webvh.FromDID(pg.DID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"did": pg.DID.String(), "url": publicURL(wd), "name": pg.Name(), "key": pg.Key, "versions": len(pg.Log)}
	if c.Profile != nil {
		links := make([]map[string]string, len(c.Profile.Links))
		for i, l := range c.Profile.Links {
			links[i] = map[string]string{"title": l.Title, "url": l.URL}
		}
		out["profile"] = map[string]any{"name": c.Profile.Name, "summary": c.Profile.Summary, "links": links}
	}
	posts := make([]map[string]any, len(c.Posts))
	for i, q := range c.Posts {
		posts[i] = map[string]any{"slug": q.Slug, "title": q.Title, "body": q.Body, "published": q.Published, "updated": q.Updated}
	}
	out["posts"] = posts
	return toJS(out)
}

// publishLog sends the page's log to its server.
func publishLog(ctx context.Context, p *core.Planet, pg *publish.Page) error {
	data, err := pg.JSONL()
	if err != nil {
		return err
	}
	return upload(ctx, p, pg.Name(), "did.jsonl", data)
}

// publishFiles sends uploads to the page's server.
func publishFiles(ctx context.Context, p *core.Planet, ups []publish.Upload) error {
	pg, err := p.Publish().Get(ctx)
	if err != nil {
		return err
	}
	for _, u := range ups {
		if err := upload(ctx, p, pg.Name(), u.Path, u.Body); err != nil {
			return err
		}
	}
	return nil
}

func pageAPI(ctx context.Context, p *core.Planet) safejs.Value {
	o := newObject()
	// step runs f within a minute and answers with the page as it is then.
	step := func(f func(ctx context.Context) error) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := f(ctx); err != nil {
			return nil, err
		}
		return pageJS(ctx, p)
	}
	o.Set("get", async(func([]safejs.Value) (any, error) { return pageJS(ctx, p) }))
	o.Set("create", async(func(args []safejs.Value) (any, error) {
		name, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			loc, err := pageLocation(ctx)
			if err != nil {
				return err
			}
			loc.Name = strings.TrimSpace(name)
			pg, err := p.Publish().Create(ctx, loc)
			if err != nil {
				return err
			}
			if err := publishLog(ctx, p, pg); err != nil {
				// Never published: forget it, so another name can be tried.
				if derr := p.Publish().Discard(context.WithoutCancel(ctx)); derr != nil {
					return errors.Join(err, derr)
				}
				return err
			}
			return nil
		})
	}))
	o.Set("rotateKey", async(func([]safejs.Value) (any, error) {
		return step(func(ctx context.Context) error {
			pg, err := p.Publish().Rotate(ctx)
			if err != nil {
				return err
			}
			return publishLog(ctx, p, pg)
		})
	}))
	o.Set("saveProfile", async(func(args []safejs.Value) (any, error) {
		var in struct {
			Name    string      `json:"name"`
			Summary string      `json:"summary"`
			Links   []page.Link `json:"links"`
		}
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		for _, l := range in.Links {
			if u, err := url.Parse(l.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				return nil, fmt.Errorf("%q is not a web address (https://…): %w", l.URL, errInvalidArg)
			}
		}
		return step(func(ctx context.Context) error {
			ups, err := p.Publish().SaveProfile(ctx, page.Profile{Name: in.Name, Summary: in.Summary, Links: in.Links})
			if err != nil {
				return err
			}
			return publishFiles(ctx, p, ups)
		})
	}))
	o.Set("savePost", async(func(args []safejs.Value) (any, error) {
		var in struct {
			Slug  string `json:"slug"`
			Title string `json:"title"`
			Body  string `json:"body"`
		}
		if err := fromJS(arg(args, 0), &in); err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			_, ups, err := p.Publish().SavePost(ctx, in.Slug, in.Title, in.Body)
			if err != nil {
				return err
			}
			return publishFiles(ctx, p, ups)
		})
	}))
	o.Set("deletePost", async(func(args []safejs.Value) (any, error) {
		slug, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			ups, err := p.Publish().DeletePost(ctx, slug)
			if err != nil {
				return err
			}
			return publishFiles(ctx, p, ups)
		})
	}))
	return o
}
