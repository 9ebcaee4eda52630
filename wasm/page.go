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
	"planet/core/did"
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

// pageLocation asks a server where it hosts DIDs: server is its address,
// or "" for the page's own.
func pageLocation(ctx context.Context, server string) (publish.Location, error) {
	var info struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	status, body, err := browser.Fetch(ctx, browser.Request{URL: strings.TrimSuffix(server, "/") + pagesPath}, 4<<10)
	switch {
	case err != nil:
		return publish.Location{}, err
	case status == 404:
		return publish.Location{}, fmt.Errorf("%w: that server hosts no pages", errServerRefused)
	case status != 200 || json.Unmarshal(body, &info) != nil || info.Host == "":
		return publish.Location{}, fmt.Errorf("%w: that server did not say where it hosts pages (%d)", errServerRefused, status)
	}
	return publish.Location{Host: info.Host, Port: info.Port}, nil
}

// publicURL is the address of the page of DID d: the base of its files,
// over plain HTTP for a server on loopback (a *.localhost name).
func publicURL(d webvh.DID) string { return plainForLoopback(d.BaseURL()) }

// upload sends a change to the page's own server: PUT of body at path under
// the DID's name (DELETE when body is nil), signed by the update key unless
// it is the log, which authorises itself.
func upload(ctx context.Context, p *core.Planet, name, path string, body []byte) error {
	return uploadTo(ctx, p, "", name, path, body)
}

// uploadTo is upload to the server at base ("" for the page's own).
func uploadTo(ctx context.Context, p *core.Planet, base, name, path string, body []byte) error {
	target := "/" + name + "/" + path
	req := browser.Request{Method: "PUT", URL: strings.TrimSuffix(base, "/") + target, Body: body, Headers: map[string]string{}}
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
		shown := make([]string, len(c.Profile.Relationships))
		for i, r := range c.Profile.Relationships {
			shown[i] = r.DID
		}
		out["profile"] = map[string]any{"name": c.Profile.Name, "summary": c.Profile.Summary, "links": links, "relationships": shown}
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

// viewPage reads someone's page by their did:webvh or the page's address,
// and verifies it here: the log (every entry, as the resolver does) and
// each document against the DID's keys at the version it was signed.
func viewPage(ctx context.Context, input string) (map[string]any, error) {
	input = strings.TrimSpace(input)
	var wd webvh.DID
	var err error
	var logData []byte
	if strings.HasPrefix(input, "did:") {
		if wd, err = webvh.ParseDID(input); err != nil {
			return nil, fmt.Errorf("%v: %w", err, errInvalidArg)
		}
	} else {
		u, err := url.Parse(input)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%q is neither a did:webvh nor a page's address: %w", input, errInvalidArg)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawQuery, u.Fragment = "", ""
		if logData, err = (fetchGetter{}).Get(ctx, u.String()+"did.jsonl", webvh.DefaultMaxLogSize); err != nil {
			return nil, fmt.Errorf("%w: no did:webvh log at that address: %v", errServerRefused, err)
		}
	}
	if logData == nil {
		if logData, err = (fetchGetter{}).Get(ctx, plainForLoopback(wd.LogURL()), webvh.DefaultMaxLogSize); err != nil {
			return nil, fmt.Errorf("%w: %v", errServerRefused, err)
		}
	}
	log, err := webvh.ParseLog(logData)
	if err != nil {
		return nil, fmt.Errorf("%w: their log: %v", errServerRefused, err)
	}
	now := time.Now()
	versions, err := webvh.Verify(log, nil, now)
	if err != nil {
		return nil, fmt.Errorf("%w: their log does not verify: %v", errServerRefused, err)
	}
	last := versions[len(versions)-1]
	if wd.IsZero() {
		wd = last.DID
	}
	res, err := webvh.Resolve(wd, log, nil, webvh.Query{}, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errServerRefused, err)
	}
	base := publicURL(res.DID)
	out := map[string]any{"did": res.DID.String(), "url": base, "versions": len(versions),
		"checks": []string{fmt.Sprintf("the identifier's log: %d version(s), every entry signed by an authorised key", len(versions))}}
	read := func(path string) (*page.Verified, error) {
		data, err := (fetchGetter{}).Get(ctx, base+path, page.MaxDocument)
		if err != nil {
			return nil, err
		}
		return page.VerifyLog(data, res.DID, log, nil, now)
	}
	checks := out["checks"].([]string)
	if v, err := read(page.ProfilePath); err == nil {
		links := make([]map[string]string, len(v.Profile.Links))
		for i, l := range v.Profile.Links {
			links[i] = map[string]string{"title": l.Title, "url": l.URL}
		}
		out["profile"] = map[string]any{"name": v.Profile.Name, "summary": v.Profile.Summary, "links": links}
		checks = append(checks, "the profile: "+v.Words())
	} else if !errors.Is(err, did.ErrNotFound) {
		checks = append(checks, "the profile does not verify: "+err.Error())
		out["problem"] = true
	}
	posts := []map[string]any{}
	if v, err := read(page.IndexPath); err == nil {
		for _, e := range v.Index.Posts {
			posts = append(posts, map[string]any{"slug": e.Slug, "title": e.Title, "published": e.Published})
		}
		checks = append(checks, "the list of posts: "+v.Words())
	} else if !errors.Is(err, did.ErrNotFound) {
		checks = append(checks, "the list of posts does not verify: "+err.Error())
		out["problem"] = true
	}
	out["posts"], out["checks"] = posts, checks
	return out, nil
}

// shownRelationships are the connected contacts whose DIDs the person
// chose to show on their page, by the names they gave them, since they
// connected. A DID that is not a connected contact is refused.
func shownRelationships(ctx context.Context, p *core.Planet, dids []string) ([]page.Relationship, error) {
	out := []page.Relationship{}
	for _, s := range dids {
		d, err := did.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", err, errInvalidArg)
		}
		c, err := p.Contacts().ByDID(ctx, d)
		if err != nil {
			return nil, err
		}
		if c == nil || !c.IsConnected() {
			return nil, fmt.Errorf("%s is not one of your connections: %w", did.Short(d), errInvalidArg)
		}
		out = append(out, page.Relationship{Name: c.Name, DID: d.String(), Since: c.Connected.UTC().Truncate(time.Second)})
	}
	return out, nil
}

// plainForLoopback turns an https URL of a *.localhost host into http: a
// server on loopback has no TLS (docs/pages-hosting.md).
func plainForLoopback(u string) string {
	parsed, err := url.Parse(u)
	if err == nil && (parsed.Hostname() == "localhost" || strings.HasSuffix(parsed.Hostname(), ".localhost")) {
		parsed.Scheme = "http"
		return parsed.String()
	}
	return u
}

func pageAPI(ctx context.Context, p *core.Planet, net *tabNetwork) safejs.Value {
	o := newObject()
	o.Set("view", async(func(args []safejs.Value) (any, error) {
		in, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := viewPage(ctx, in)
		if err != nil {
			return nil, err
		}
		return toJS(v)
	}))
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
	addWhois(ctx, p, o, step)
	o.Set("create", async(func(args []safejs.Value) (any, error) {
		name, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			loc, err := pageLocation(ctx, "")
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
			// Its document names the person's mediator: what is sent to it
			// must reach them.
			return net.didcomm.register(ctx, pg.DID)
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
			Name          string      `json:"name"`
			Summary       string      `json:"summary"`
			Links         []page.Link `json:"links"`
			Relationships []string    `json:"relationships"` // DIDs of connected contacts to show
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
			shown, err := shownRelationships(ctx, p, in.Relationships)
			if err != nil {
				return err
			}
			ups, err := p.Publish().SaveProfile(ctx, page.Profile{Name: in.Name, Summary: in.Summary, Links: in.Links, Relationships: shown})
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
	o.Set("savePicture", async(func(args []safejs.Value) (any, error) {
		data, err := browser.BytesFromJS(arg(args, 0), publish.MaxPicture)
		if errors.Is(err, browser.ErrTooLarge) {
			return nil, fmt.Errorf("a picture is at most %d KiB: %w", publish.MaxPicture>>10, errInvalidArg)
		} else if err != nil {
			return nil, err
		}
		typ, err := str(args, 1)
		if err != nil {
			return nil, err
		}
		return step(func(ctx context.Context) error {
			ups, err := p.Publish().SavePicture(ctx, data, typ)
			if err != nil {
				return err
			}
			return publishFiles(ctx, p, ups)
		})
	}))
	o.Set("move", async(func(args []safejs.Value) (any, error) {
		server, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		u, err := url.Parse(strings.TrimSpace(server))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%q is not a server's address (https://…): %w", server, errInvalidArg)
		}
		base := u.Scheme + "://" + u.Host
		return step(func(ctx context.Context) error {
			old, err := p.Publish().Get(ctx)
			if err != nil {
				return err
			}
			loc, err := pageLocation(ctx, base)
			if err != nil {
				return err
			}
			moved, files, err := p.Publish().Move(ctx, loc)
			if err != nil {
				return err
			}
			// The new server first: the log, then every file; then the
			// old one, whose copy of the log now says where the DID went
			// (it redirects there from then on).
			data, err := moved.JSONL()
			if err != nil {
				return err
			}
			if err := uploadTo(ctx, p, base, moved.Name(), "did.jsonl", data); err != nil {
				return err
			}
			for _, f := range files {
				if err := uploadTo(ctx, p, base, moved.Name(), f.Path, f.Body); err != nil {
					return err
				}
			}
			if err := uploadTo(ctx, p, "", old.Name(), "did.jsonl", data); err != nil {
				return err
			}
			return net.didcomm.register(ctx, moved.DID)
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
