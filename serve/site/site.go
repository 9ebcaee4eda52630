// Package site is the server's static site: the page, the wasm core and the service worker,
// served from memory with brotli and gzip variants (read from the f.br and f.gz files that
// [Precompress] writes at build time, or compressed on loading), strong ETags, ranges, the
// security headers of package response, and the Cache-Control each file needs. [LogRequests]
// logs one line per request for the whole server.
package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"planet/serve/response"
)

const (
	// serviceWorkerName is the service worker script, at the root so that its scope is the
	// whole site.
	serviceWorkerName = "sw.js"
	// buildToken is replaced, wherever it appears in the service worker, by the build id.
	buildToken = "__PLANET_BUILD__"
	// buildInfoName is generated, not read from disk: {"build":"<id>"}.
	buildInfoName = "build.json"
)

// Site serves the files of one directory from memory, as they were when it was loaded.
// Each file is held with its compressed variants and their ETags, so a request costs a map
// lookup and a write. It is safe for concurrent use.
type Site struct {
	assets map[string]*asset // by name: the path under the root, slash-separated, e.g. "icons/a.png"
	// build identifies the content of the whole site (see buildID).
	build string
}

// asset is one servable file.
type asset struct {
	contentType  string
	cacheControl string
	// variants are in order of preference; the last is always the identity.
	variants []variant
}

// variant is one representation of an asset.
type variant struct {
	coding string // the Content-Encoding, "" for the identity
	body   []byte
	etag   string // strong: the quoted SHA-256 of body, plus "-br" or "-gz" for a coding
}

func newVariant(c coding, body []byte) variant {
	sum := sha256.Sum256(body)
	return variant{coding: c.name, body: body, etag: `"` + hex.EncodeToString(sum[:]) + c.suffix + `"`}
}

// siteFile is a file found under the root.
type siteFile struct {
	name string // slash-separated path under the root
	path string // path on disk
	info fs.FileInfo
}

// walkSite calls fn for every file under root that the server would serve: regular files
// (or links to them) of a known type, outside hidden files and directories.
func walkSite(root string, fn func(siteFile) error) error {
	// The root may itself be a link (build/www -> somewhere), which WalkDir would not enter.
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		name := filepath.ToSlash(rel)
		if _, ok := typeOf(name); !ok {
			return nil
		}
		info, err := os.Stat(p) // follows a link
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return fn(siteFile{name: name, path: p, info: info})
	})
}

// Load reads every servable file under root into memory and prepares its variants: a
// precompressed file from disk where one can be trusted (see readPrecompressed), otherwise
// compressed here at a moderate setting, and left out where it would not be smaller.
func Load(root string, log *slog.Logger) (*Site, error) {
	start := time.Now()
	type file struct {
		siteFile
		data []byte
		sum  [sha256.Size]byte
	}
	var files []file
	err := walkSite(root, func(f siteFile) error {
		if f.name == buildInfoName {
			log.Warn("not served: the server generates it", "file", f.name)
			return nil
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		files = append(files, file{siteFile: f, data: data, sum: sha256.Sum256(data)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading site: %w", err)
	}

	var entries []buildEntry
	for _, f := range files {
		if f.name != serviceWorkerName {
			entries = append(entries, buildEntry{f.name, f.sum})
		}
	}
	s := &Site{assets: make(map[string]*asset, len(files)+1), build: buildID(entries)}

	var (
		wg       sync.WaitGroup
		parallel = make(chan struct{}, runtime.GOMAXPROCS(0))
		total    int
	)
	for _, f := range files {
		t, _ := typeOf(f.name)
		a := &asset{contentType: t.contentType, cacheControl: cacheControl(f.name)}
		s.assets[f.name] = a
		data := f.data
		if f.name == serviceWorkerName {
			if !bytes.Contains(data, []byte(buildToken)) {
				log.Warn("the service worker has no build token: browsers will not notice new builds",
					"file", f.name, "token", buildToken)
			}
			data = bytes.ReplaceAll(data, []byte(buildToken), []byte(s.build))
		}
		total += len(data)
		identity := newVariant(coding{}, data)
		if !compressible(f.name, int64(len(data))) {
			a.variants = []variant{identity}
			continue
		}
		wg.Go(func() {
			vs := make([]variant, 0, len(codings)+1)
			for _, c := range codings {
				var comp []byte
				err := errNotPrecompressed
				if f.name != serviceWorkerName {
					comp, err = readPrecompressed(f.path, data, f.info.ModTime(), c)
					if err != nil && !errors.Is(err, fs.ErrNotExist) {
						log.Warn("precompressed file not used", "file", f.name+c.ext, "reason", err)
					}
				}
				if err != nil {
					parallel <- struct{}{}
					comp = c.encode(data, false)
					<-parallel
				}
				if len(comp) < len(data) {
					vs = append(vs, newVariant(c, comp))
				}
			}
			a.variants = append(vs, identity) // read only after wg.Wait
		})
	}
	wg.Wait()

	info := []byte(`{"build":"` + s.build + `"}`)
	s.assets[buildInfoName] = &asset{
		contentType:  "application/json",
		cacheControl: response.CacheRevalidate,
		variants:     []variant{newVariant(coding{}, info)},
	}
	if _, ok := s.assets["index.html"]; !ok {
		log.Warn("no index.html: / will be 404", "root", root)
	}
	log.Info("site loaded", "root", root, "files", len(files), "bytes", total, "build", s.build,
		"took", time.Since(start).Round(time.Millisecond))
	return s, nil
}

// errNotPrecompressed stands for a file whose variants are always made in memory: the
// service worker, whose bytes on disk are not the bytes served.
var errNotPrecompressed = errors.New("not precompressed")

// buildEntry is one file's part in the build id.
type buildEntry struct {
	name string
	sum  [sha256.Size]byte
}

// buildID identifies a build: the first 16 hex digits of SHA-256 over the files' names and
// SHA-256 digests, sorted by name, each as the name's bytes, a zero byte and the 32-byte
// digest. (A name never holds a zero byte, and the digest has a fixed length, so no two lists
// give the same input.) The service worker is not among the entries, since the id is written
// into it; any change to any other file changes the id, so the browser sees a new service
// worker and installs the new build.
func buildID(entries []buildEntry) string {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b buildEntry) int { return strings.Compare(a.name, b.name) })
	h := sha256.New()
	for _, e := range entries {
		h.Write([]byte(e.name))
		h.Write([]byte{0})
		h.Write(e.sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
