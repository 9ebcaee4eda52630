package webvhhost

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"planet/core/did/webvh"
)

// The layout of a name's directory, <dir>/<name>/.
const (
	logFile     = "did.jsonl"
	witnessFile = "did-witness.json"
	filesDir    = "files"
	// tmpPrefix begins the names of files being written; a path segment may not begin with
	// a dot, so no file of a person's can be one.
	tmpPrefix = ".tmp-"
)

// entry is what the index knows of a name that has a log.
type entry struct {
	logSize     int64
	witnessSize int64            // 0: no did-witness.json
	files       map[string]int64 // canonical path -> size
	scid        string
	did         webvh.DID // the DID as the latest entry names it
	params      webvh.Parameters
}

// used returns the bytes the name keeps.
func (e *entry) used() int64 {
	n := e.logSize + e.witnessSize
	for _, size := range e.files {
		n += size
	}
	return n
}

// store is the directory of names and its index. Its methods are called with Host.mu held.
type store struct {
	dir   string
	index map[string]*entry
}

// openStore reads dir: every name's log is parsed and verified with its witness proofs, and
// its files are listed.
func openStore(dir string, now func() time.Time, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("webvhhost: %w", err)
	}
	s := &store{dir: dir, index: map[string]*entry{}}
	dirs, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("webvhhost: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || CheckName(d.Name()) != nil {
			continue
		}
		e, err := s.load(d.Name(), now(), log)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no log: nothing was published under this name
		}
		if err != nil {
			return nil, fmt.Errorf("webvhhost: stored name %s: %w", d.Name(), err)
		}
		s.index[d.Name()] = e
	}
	return s, nil
}

// load reads one name's directory. A log that no longer verifies completely (a stricter
// reading of the method, a clock set back before its last versionTime) keeps the name taken
// by the versions that still do, with a warning: the server starts, and the controller can
// publish a log that verifies.
func (s *store) load(name string, now time.Time, log *slog.Logger) (*entry, error) {
	logData, err := s.read(name, logFile)
	if err != nil {
		return nil, err
	}
	didLog, err := webvh.ParseLog(logData)
	if err != nil {
		return nil, err
	}
	var wf webvh.WitnessFile
	wfData, err := s.read(name, witnessFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if wf, err = webvh.ParseWitnessFile(wfData); err != nil {
			return nil, err
		}
	}
	versions, err := webvh.Verify(didLog, wf, now)
	if len(versions) == 0 {
		return nil, err
	}
	if err != nil {
		log.Warn("webvhhost: a stored log no longer verifies completely", "name", name, "err", err)
	}
	e := newEntry(versions, int64(len(logData)), int64(len(wfData)))
	root := filepath.Join(s.dir, name, filesDir)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			if !d.IsDir() {
				os.Remove(path) // a write that did not finish
			}
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if p, err := CheckPath(rel); err != nil || p != rel {
			return fmt.Errorf("stored file %q is not a canonical path", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e.files[rel] = info.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// newEntry makes the index entry of a verified log.
func newEntry(versions []webvh.Version, logSize, witnessSize int64) *entry {
	last := versions[len(versions)-1]
	return &entry{
		logSize: logSize, witnessSize: witnessSize, files: map[string]int64{},
		scid: versions[0].Parameters.SCID, did: last.DID, params: last.Parameters,
	}
}

// names returns the names with a log, sorted.
func (s *store) names() []string {
	names := make([]string, 0, len(s.index))
	for n := range s.index {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// read reads a file of a name; rel uses slashes.
func (s *store) read(name, rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.dir, name, filepath.FromSlash(rel)))
}

// write replaces a file of a name atomically: a temporary file in the same directory is
// written and synced, then renamed over the old one and the directory synced, so that a
// crash leaves the old file or the new one, never a part.
func (s *store) write(name, rel string, data []byte) error {
	path := filepath.Join(s.dir, name, filepath.FromSlash(rel))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// remove deletes a file of a name, and the directories it leaves empty under files/.
func (s *store) remove(name, rel string) error {
	path := filepath.Join(s.dir, name, filepath.FromSlash(rel))
	if err := os.Remove(path); err != nil {
		return err
	}
	root := filepath.Join(s.dir, name, filesDir)
	for dir := filepath.Dir(path); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty
		}
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed because it became empty
		}
		return err
	}
	defer d.Close()
	return d.Sync()
}
