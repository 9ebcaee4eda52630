package site

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// minCompressSize is the smallest file worth compressing: below it the saving is lost in the
// headers, and on disk it is one more file to keep in step.
const minCompressSize = 1024

// coding is one content coding the server can send.
type coding struct {
	name   string // the Content-Encoding token
	ext    string // the suffix of the precompressed file on disk
	suffix string // added inside the quotes of the ETag
	// encode compresses; best is the slow, thorough setting used ahead of time by -precompress,
	// !best a moderate one used in memory at startup, so that starting stays fast.
	encode func(data []byte, best bool) []byte
	decode func(r io.Reader) (io.Reader, error)
}

// codings is in order of preference: for the same size, brotli decodes as fast as gzip and
// is around a fifth smaller on wasm.
var codings = []coding{
	{name: "br", ext: ".br", suffix: "-br", encode: encodeBrotli, decode: decodeBrotli},
	{name: "gzip", ext: ".gz", suffix: "-gz", encode: encodeGzip, decode: decodeGzip},
}

func encodeBrotli(data []byte, best bool) []byte {
	opts := brotli.WriterOptions{Quality: 5}
	if best {
		// A 16 MiB window (the format's largest) finds repeats across the whole of a
		// multi-megabyte wasm. Every browser decodes it.
		opts = brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24}
	}
	var b bytes.Buffer
	w := brotli.NewWriterOptions(&b, opts)
	w.Write(data) // writes to a bytes.Buffer cannot fail
	w.Close()
	return b.Bytes()
}

func decodeBrotli(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }

func encodeGzip(data []byte, best bool) []byte {
	level := gzip.DefaultCompression
	if best {
		level = gzip.BestCompression
	}
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, level) // the level is valid
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func decodeGzip(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }

// decodesTo reports whether comp, decoded with c, is exactly want.
func (c coding) decodesTo(comp, want []byte) bool {
	r, err := c.decode(bytes.NewReader(comp))
	if err != nil {
		return false
	}
	var buf [32 << 10]byte
	for {
		n, err := r.Read(buf[:])
		if n > len(want) || !bytes.Equal(buf[:n], want[:n]) {
			return false
		}
		want = want[n:]
		if err == io.EOF {
			return len(want) == 0
		}
		if err != nil {
			return false
		}
	}
}

// compressible reports whether a file called name, of size bytes, should have compressed
// variants.
func compressible(name string, size int64) bool {
	t, ok := typeOf(name)
	return ok && t.compress && size >= minCompressSize
}

// readPrecompressed returns the precompressed c-variant of the file at p with content data
// and modification time mod, if there is one that can be trusted: not older than the file,
// decoding to exactly its bytes (a build step that copies files without their times, or a
// half-finished one, must not get an old wasm served under a new ETag), and smaller.
func readPrecompressed(p string, data []byte, mod time.Time, c coding) ([]byte, error) {
	fi, err := os.Stat(p + c.ext)
	if err != nil {
		return nil, err
	}
	if fi.ModTime().Before(mod) {
		return nil, errors.New("older than the file")
	}
	comp, err := os.ReadFile(p + c.ext)
	if err != nil {
		return nil, err
	}
	if len(comp) >= len(data) {
		return nil, errors.New("not smaller than the file")
	}
	if !c.decodesTo(comp, data) {
		return nil, errors.New("does not decode to the file")
	}
	return comp, nil
}

// Precompress writes f.br and f.gz beside every compressible file f under root, with the
// slowest, smallest settings. A variant that is already there and correct is kept, so running
// it again after a small change is quick. Where compressing does not make a file smaller,
// any old variant is removed instead.
func Precompress(root string, log *slog.Logger) error {
	start := time.Now()
	var files []siteFile
	err := walkSite(root, func(f siteFile) error {
		// The service worker is served with the build id written into it, so a variant made
		// from its bytes on disk would be of the wrong bytes; the server compresses it itself.
		if compressible(f.name, f.info.Size()) && f.name != serviceWorkerName {
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		return err
	}

	var (
		mu       sync.Mutex
		errs     []error
		written  int
		wg       sync.WaitGroup
		parallel = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		for _, c := range codings {
			wg.Go(func() {
				parallel <- struct{}{}
				defer func() { <-parallel }()
				n, err := precompressOne(f, data, c)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				if n > 0 {
					written++
					log.Info("precompressed", "file", f.name+c.ext, "size", len(data), "compressed", n)
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("precompress done", "root", root, "files", len(files), "written", written, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// precompressOne brings the c-variant of f up to date and returns its size if it wrote one.
func precompressOne(f siteFile, data []byte, c coding) (int, error) {
	if _, err := readPrecompressed(f.path, data, f.info.ModTime(), c); err == nil {
		return 0, nil
	}
	comp := c.encode(data, true)
	if len(comp) >= len(data) {
		if err := os.Remove(f.path + c.ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		return 0, nil
	}
	if err := writeFileAtomic(f.path+c.ext, comp, f.info.Mode().Perm()); err != nil {
		return 0, err
	}
	return len(comp), nil
}

// writeFileAtomic writes a file so that a reader sees either the old or the new content,
// never a part. The temporary file is hidden, so a crash leaves nothing that gets served.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
