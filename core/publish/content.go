package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"planet/core/did/webvh"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/page"
	"planet/core/session"
	"planet/vault"
)

// What the person publishes under their DID (docs/pages.md): a profile and
// posts, each a document signed by the identity's key ("#key-1" of the DID
// document) with the post index beside them. The vault keeps each document
// as signed, so that the person's PLANET knows what their page says and can
// publish it again; the server holds the copies anyone reads.

// filesCollection holds the signed documents, one record per path.
const filesCollection vault.Collection = "publish-files"

type fileRecord struct {
	Path string `cbor:"1,keyasint"`
	Data []byte `cbor:"2,keyasint"` // the document as signed
}

// fileID names the record of path (a path holds "/", which record ids may
// not).
func fileID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:16])
}

// An Upload is a file to publish (Body) or to delete from the server (nil
// Body) at Path under the DID's #files.
type Upload struct {
	Path string
	Body []byte
}

// contentSigner signs page documents with the identity's key.
type contentSigner struct{ id *identity.Identity }

func (s contentSigner) Sign(msg []byte) []byte { return s.id.Sign(msg) }

// contentKey is the verification method that signs page documents.
const contentKey = "#key-1"

// Content is what the person's page says: their profile (nil when none)
// and their posts, newest first, each verified against the DID's log.
type Content struct {
	Profile *page.Profile
	Posts   []page.Post
	// Whois is the presentation of the credentials the person shows
	// (page.WhoisPath), nil when they show none.
	Whois *page.Whois
}

// Content returns what the person published.
func (svc *Service) Content(ctx context.Context) (*Content, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	p, err := get(ctx, s)
	if err != nil {
		return nil, err
	}
	return content(ctx, s, p)
}

func content(ctx context.Context, s *session.Session, p *Page) (*Content, error) {
	recs, err := session.List(ctx, s.Vault, filesCollection, func(*fileRecord, string) {})
	if err != nil {
		return nil, err
	}
	wd, err := webvh.FromDID(p.DID)
	if err != nil {
		return nil, err
	}
	out := &Content{}
	for _, r := range recs {
		if isPicture(r.Path) {
			continue // bytes, not a signed document
		}
		if r.Path == page.WhoisPath {
			if out.Whois, err = verifyWhois(r.Data, p, s.Now()); err != nil {
				return nil, fmt.Errorf("publish: %s: %w", r.Path, errors.Join(vault.ErrCorrupt, err))
			}
			continue
		}
		v, err := page.VerifyLog(r.Data, wd, p.Log, nil, s.Now())
		if err != nil {
			return nil, fmt.Errorf("publish: %s: %w", r.Path, errors.Join(vault.ErrCorrupt, err))
		}
		switch {
		case v.Profile != nil:
			out.Profile = v.Profile
		case v.Post != nil:
			out.Posts = append(out.Posts, *v.Post)
		}
	}
	slices.SortFunc(out.Posts, func(a, b page.Post) int { return b.Published.Compare(a.Published) })
	return out, nil
}

// SaveProfile signs profile and keeps it; it returns what to upload. A
// profile without a picture keeps the one published.
func (svc *Service) SaveProfile(ctx context.Context, profile page.Profile) ([]Upload, error) {
	return svc.edit(ctx, func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error) {
		if profile.Picture == "" && c.Profile != nil {
			profile.Picture = c.Profile.Picture
		}
		profile.Updated = now
		data, err := page.SignProfile(&profile, contentSigner{s.Identity}, mustWebVH(p), contentKey, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
		}
		return []Upload{{Path: page.ProfilePath, Body: data}}, nil
	})
}

// isPicture reports whether path is the page's picture (SavePicture names
// it), whose bytes are kept as they are, rather than a signed document.
func isPicture(path string) bool { return strings.HasPrefix(path, "avatar-") }

// Picture types a page's picture may have, by file extension.
var pictureTypes = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

// MaxPicture bounds a picture, well inside what the server takes for a file.
const MaxPicture = 512 << 10

// SavePicture keeps data (of MIME type typ) as the page's picture and signs
// the profile again naming it; it returns what to upload: the picture,
// then the profile (the picture the profile named before is deleted).
func (svc *Service) SavePicture(ctx context.Context, data []byte, typ string) ([]Upload, error) {
	ext, ok := pictureTypes[typ]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: a picture is a JPEG, PNG or WebP image, not %q", input.ErrInvalid, typ)
	case len(data) == 0 || len(data) > MaxPicture:
		return nil, fmt.Errorf("%w: a picture is at most %d KiB (this one is %d KiB)", input.ErrInvalid, MaxPicture>>10, len(data)>>10)
	}
	return svc.edit(ctx, func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error) {
		profile := page.Profile{Name: "", Updated: now}
		if c.Profile != nil {
			profile = *c.Profile
			profile.Updated = now
		}
		// A new name each time, so that no cache shows the old picture.
		sum := sha256.Sum256(data)
		path := "avatar-" + hex.EncodeToString(sum[:6]) + "." + ext
		old := profile.Picture
		profile.Picture = path
		signed, err := page.SignProfile(&profile, contentSigner{s.Identity}, mustWebVH(p), contentKey, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
		}
		// The new picture before the profile that names it, the old one
		// gone only once nothing names it.
		ups := []Upload{{Path: path, Body: data}, {Path: page.ProfilePath, Body: signed}}
		if old != "" && old != path {
			ups = append(ups, Upload{Path: old})
		}
		return ups, nil
	})
}

// SaveWhois signs the presentation of the credentials the person chooses
// to show on their page (page.WhoisPath), each a credential's JSON as its
// issuer signed it, and keeps it; it returns what to upload. No
// credentials deletes the presentation. Which credentials the person may
// show is the caller's to decide (the kept credentials and relationship
// credentials belong to features beside this one): a credential is shown
// as it is, and its own proof says who said what.
func (svc *Service) SaveWhois(ctx context.Context, credentials [][]byte) ([]Upload, error) {
	return svc.edit(ctx, func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error) {
		if len(credentials) == 0 {
			return []Upload{{Path: page.WhoisPath}}, nil
		}
		data, err := page.SignWhois(credentials, contentSigner{s.Identity}, mustWebVH(p), contentKey, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
		}
		return []Upload{{Path: page.WhoisPath, Body: data}}, nil
	})
}

// verifyWhois verifies the kept presentation against the page's log.
func verifyWhois(data []byte, p *Page, now time.Time) (*page.Whois, error) {
	versions, err := webvh.Verify(p.Log, nil, now)
	if err != nil {
		return nil, err
	}
	return page.VerifyWhois(data, versions, now)
}

// SavePost signs a new post (slug empty: one is made from the title) or a
// new version of the post slug, and the index of posts; it returns what to
// upload.
func (svc *Service) SavePost(ctx context.Context, slug, title, body string) (*page.Post, []Upload, error) {
	var saved page.Post
	ups, err := svc.edit(ctx, func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error) {
		post := page.Post{Slug: slug, Title: strings.TrimSpace(title), Body: body, Published: now, Updated: now}
		if slug == "" {
			post.Slug = newSlug(post.Title, c.Posts)
		} else {
			i := slices.IndexFunc(c.Posts, func(q page.Post) bool { return q.Slug == slug })
			if i < 0 {
				return nil, fmt.Errorf("%w: there is no post %q to change", input.ErrInvalid, slug)
			}
			post.Published = c.Posts[i].Published
			c.Posts = slices.Delete(c.Posts, i, i+1)
		}
		data, err := page.SignPost(&post, contentSigner{s.Identity}, mustWebVH(p), contentKey, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
		}
		saved = post
		index, err := signIndex(s, p, append(c.Posts, post), now)
		if err != nil {
			return nil, err
		}
		return []Upload{{Path: page.PostPath(post.Slug), Body: data}, index}, nil
	})
	return &saved, ups, err
}

// DeletePost unpublishes the post slug: its file goes, the index no longer
// lists it.
func (svc *Service) DeletePost(ctx context.Context, slug string) ([]Upload, error) {
	return svc.edit(ctx, func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error) {
		i := slices.IndexFunc(c.Posts, func(q page.Post) bool { return q.Slug == slug })
		if i < 0 {
			return nil, fmt.Errorf("%w: there is no post %q", input.ErrInvalid, slug)
		}
		index, err := signIndex(s, p, slices.Delete(c.Posts, i, i+1), now)
		if err != nil {
			return nil, err
		}
		return []Upload{{Path: page.PostPath(slug)}, index}, nil
	})
}

// signIndex signs the index of posts.
func signIndex(s *session.Session, p *Page, posts []page.Post, now time.Time) (Upload, error) {
	slices.SortFunc(posts, func(a, b page.Post) int { return b.Published.Compare(a.Published) })
	x := page.Index{Updated: now}
	for _, q := range posts {
		x.Posts = append(x.Posts, page.IndexEntry{Slug: q.Slug, Title: q.Title, Summary: q.Summary, Published: q.Published, Updated: q.Updated})
	}
	data, err := page.SignIndex(&x, contentSigner{s.Identity}, mustWebVH(p), contentKey, now)
	if err != nil {
		return Upload{}, fmt.Errorf("%w: %w", input.ErrInvalid, err)
	}
	return Upload{Path: page.IndexPath, Body: data}, nil
}

// edit runs f on the page and its content and keeps the uploads it makes
// in the vault (a nil body deletes), in one transaction.
func (svc *Service) edit(ctx context.Context, f func(s *session.Session, p *Page, c *Content, now time.Time) ([]Upload, error)) ([]Upload, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	p, err := get(ctx, s)
	if err != nil {
		return nil, err
	}
	c, err := content(ctx, s, p)
	if err != nil {
		return nil, err
	}
	ups, err := f(s, p, c, s.Now().UTC().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	recs := make([][]byte, len(ups))
	for i, u := range ups {
		if u.Body != nil {
			if recs[i], err = vault.MarshalCBOR(fileRecord{Path: u.Path, Data: u.Body}); err != nil {
				return nil, err
			}
		}
	}
	err = s.Vault.Update(ctx, func(tx *vault.Tx) error {
		for i, u := range ups {
			if u.Body == nil {
				tx.Delete(filesCollection, fileID(u.Path))
			} else {
				tx.Put(filesCollection, fileID(u.Path), recs[i])
			}
		}
		return nil
	})
	return ups, err
}

// Files returns every document the person publishes, to upload again (to a
// new server, or after the server lost them).
func (svc *Service) Files(ctx context.Context) ([]Upload, error) {
	s, err := svc.open.Session()
	if err != nil {
		return nil, err
	}
	recs, err := session.List(ctx, s.Vault, filesCollection, func(*fileRecord, string) {})
	if err != nil {
		return nil, err
	}
	out := make([]Upload, len(recs))
	for i, r := range recs {
		out[i] = Upload{Path: r.Path, Body: r.Data}
	}
	return out, nil
}

func mustWebVH(p *Page) webvh.DID {
	wd, _ := webvh.FromDID(p.DID) // the kept log's DID, verified when read
	return wd
}

// newSlug makes a slug from title that no post in posts has.
func newSlug(title string, posts []page.Post) string {
	var b strings.Builder
	dash := false
letters:
	for _, r := range strings.ToLower(title) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break letters
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "post"
	}
	slug := base
	for n := 2; slices.ContainsFunc(posts, func(q page.Post) bool { return q.Slug == slug }); n++ {
		slug = fmt.Sprintf("%s-%d", base, n)
	}
	return slug
}

// Move takes the person's DID to loc, another server (did:webvh
// portability): a new entry, signed by the next update key as pre-rotation
// asks, names the DID at loc, keeping its SCID and listing the old DID in
// alsoKnownAs; every document is signed again for the new DID (a document
// names its DID, so the old signatures do not hold there). It returns the
// page and every file to upload to loc's server. The caller then publishes
// the log there, the files, and the log at the old server too, which then
// redirects to the new one.
func (svc *Service) Move(ctx context.Context, loc Location) (*Page, []Upload, error) {
	if loc.Host == "" {
		return nil, nil, fmt.Errorf("%w: a move needs the new server's name", input.ErrInvalid)
	}
	s, err := svc.open.Session()
	if err != nil {
		return nil, nil, err
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	p, err := get(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	c, err := content(ctx, s, p)
	if err != nil {
		return nil, nil, err
	}
	if loc.Name == "" {
		loc.Name = p.Name()
	}
	now := entryTime(s, p)
	next := p.Key + 1
	log, err := p.Log.Move(loc.Host, loc.Port, []string{loc.Name}, webvh.UpdateOptions{
		Time:          now,
		UpdateKeys:    []string{multikey(s.Identity, next)},
		NextKeyHashes: []string{webvh.NextKeyHash(multikey(s.Identity, next+1))},
	}, updateSigner{s.Identity.UpdateKey(next)}, now)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", input.ErrInvalid, err)
	}
	versions, err := webvh.Verify(log, nil, now)
	if err != nil {
		return nil, nil, err
	}
	moved := &Page{DID: versions[len(versions)-1].DID.DID(), Log: log, Key: next}
	wd := mustWebVH(moved)
	sign := contentSigner{s.Identity}
	var ups []Upload
	if c.Profile != nil {
		data, err := page.SignProfile(c.Profile, sign, wd, contentKey, now)
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, Upload{Path: page.ProfilePath, Body: data})
	}
	for i := range c.Posts {
		data, err := page.SignPost(&c.Posts[i], sign, wd, contentKey, now)
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, Upload{Path: page.PostPath(c.Posts[i].Slug), Body: data})
	}
	if len(c.Posts) > 0 {
		index, err := signIndex(s, moved, c.Posts, now)
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, index)
	}
	if c.Whois != nil {
		creds := make([][]byte, len(c.Whois.Credentials))
		for i, sc := range c.Whois.Credentials {
			creds[i] = sc.JSON
		}
		data, err := page.SignWhois(creds, sign, wd, contentKey, now)
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, Upload{Path: page.WhoisPath, Body: data})
	}
	files, err := session.List(ctx, s.Vault, filesCollection, func(*fileRecord, string) {})
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if isPicture(f.Path) {
			ups = append([]Upload{{Path: f.Path, Body: f.Data}}, ups...) // the picture first
		}
	}
	data, err := log.MarshalJSONL()
	if err != nil {
		return nil, nil, err
	}
	recs := make([][]byte, len(ups))
	for i, u := range ups {
		if recs[i], err = vault.MarshalCBOR(fileRecord{Path: u.Path, Data: u.Body}); err != nil {
			return nil, nil, err
		}
	}
	rec, err := vault.MarshalCBOR(record{Log: data, Key: next, Created: session.Millis(p.Created), Updated: session.Millis(now)})
	if err != nil {
		return nil, nil, err
	}
	err = s.Vault.Update(ctx, func(tx *vault.Tx) error {
		tx.Put(collection, recordID, rec)
		for i, u := range ups {
			tx.Put(filesCollection, fileID(u.Path), recs[i])
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	moved, err = get(ctx, s)
	return moved, ups, err
}
