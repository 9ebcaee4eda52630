package webvhhost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"planet/core/did/webvh"
)

// apiError is a refusal as the client reads it: {"error": code, "message": words}.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func refuse(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// Error codes (docs/pages-hosting.md, "Errors").
const (
	codeBadName       = "bad_name"
	codeBadPath       = "bad_path"
	codeBadLog        = "bad_log"
	codeBadWitness    = "bad_witness"
	codeWrongDID      = "wrong_did"
	codeNameTaken     = "name_taken"
	codeRewritten     = "history_rewritten"
	codeDeactivated   = "deactivated"
	codeMoved         = "moved"
	codeConflict      = "path_conflict"
	codeTooLarge      = "too_large"
	codeQuota         = "quota_exceeded"
	codeTooManyFiles  = "too_many_files"
	codeUnauthorized  = "unauthorized"
	codeNotFound      = "not_found"
	codeNoLog         = "no_log"
	codeMethod        = "method_not_allowed"
	codeBusy          = "busy"
	codeInternal      = "internal_error"
	codeNotAuthorised = "key_not_authorised"
)

// Result is what a successful write answers.
type Result struct {
	DID           string `json:"did"`
	VersionID     string `json:"versionId,omitempty"`
	VersionNumber int    `json:"versionNumber,omitempty"`
	Path          string `json:"path,omitempty"`
	Size          int64  `json:"size,omitempty"`
	Used          int64  `json:"used"`  // bytes the name keeps now
	Quota         int64  `json:"quota"` // bytes it may keep
}

// putLog stores body as the log of name: a log whose current DID is this server's for a free
// name, or one that extends the stored log (the stored entries an exact prefix) for a taken
// one; either way it must verify completely with the stored (or pending) witness proofs.
//
// Publications are serialised by h.publish, and verified without h.mu: verifying a log of a
// megabyte takes a while, and reads and file writes of every name go on meanwhile. Only
// publications change a name's log and witness proofs, so what was read stays true.
func (h *Host) putLog(name string, body []byte) (Result, bool, error) {
	log, err := webvh.ParseLog(body)
	if err != nil {
		return Result{}, false, refuse(http.StatusBadRequest, codeBadLog, "%v", err)
	}
	now := h.cfg.Now()
	h.publish.Lock()
	defer h.publish.Unlock()

	h.mu.RLock()
	e := h.store.index[name]
	var storedData, wfData []byte
	if e != nil {
		storedData, err = h.store.read(name, logFile)
		if err == nil && e.witnessSize > 0 {
			wfData, err = h.store.read(name, witnessFile)
		}
	}
	h.mu.RUnlock()
	if err != nil {
		return Result{}, false, err
	}
	if e != nil {
		stored, err := webvh.ParseLog(storedData)
		if err != nil {
			return Result{}, false, err
		}
		if scid := logSCID(log); scid != e.scid {
			return Result{}, false, refuse(http.StatusConflict, codeNameTaken, "the name %q is taken by the DID with SCID %s; choose another name", name, e.scid)
		}
		if err := extends(log, stored); err != nil {
			return Result{}, false, refuse(http.StatusConflict, codeRewritten, "%v; publish the stored log with your new entries appended", err)
		}
	} else {
		wfData = h.pending.get(name, now)
	}
	var wf webvh.WitnessFile
	if wfData != nil {
		if wf, err = webvh.ParseWitnessFile(wfData); err != nil {
			return Result{}, false, err
		}
	}
	versions, err := webvh.Verify(log, wf, now)
	if err != nil {
		next := "fix the log"
		if errors.Is(err, webvh.ErrWitness) {
			next = "publish did-witness.json with the witnesses' proofs first"
		}
		return Result{}, false, refuse(http.StatusBadRequest, codeBadLog, "the log does not verify: %v; %s", err, next)
	}
	last := versions[len(versions)-1]
	if e == nil {
		want := h.origin.didOf(last.Parameters.SCID, name)
		if last.DID.String() != want {
			return Result{}, false, refuse(http.StatusBadRequest, codeWrongDID, "the log's DID is %s; under the name %q this server hosts %s", last.DID, name, want)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	ne := newEntry(versions, int64(len(body)), int64(len(wfData)))
	if e != nil {
		ne.files = e.files // as they are now: file writes went on meanwhile
	}
	if used := ne.used(); used > h.cfg.MaxNameBytes {
		return Result{}, false, refuse(http.StatusRequestEntityTooLarge, codeQuota, "the name would keep %d bytes, over its quota of %d; delete files first", used, h.cfg.MaxNameBytes)
	}
	if e == nil && wfData != nil {
		if err := h.store.write(name, witnessFile, wfData); err != nil {
			return Result{}, false, err
		}
		h.pending.drop(name)
	}
	if err := h.store.write(name, logFile, body); err != nil {
		return Result{}, false, err
	}
	h.store.index[name] = ne
	return Result{DID: last.DID.String(), VersionID: last.VersionID, VersionNumber: last.Number, Used: ne.used(), Quota: h.cfg.MaxNameBytes}, e == nil, nil
}

// logSCID returns the scid parameter of a log's first entry, as written.
func logSCID(log webvh.Log) string {
	s, _ := log[0].Parameters["scid"].(string)
	return s
}

// extends reports whether stored is an exact prefix of log, comparing the entries in their
// canonical encoding.
func extends(log, stored webvh.Log) error {
	if len(log) < len(stored) {
		return fmt.Errorf("the log has %d entries, the stored one %d: entries cannot be removed", len(log), len(stored))
	}
	for i := range stored {
		a, err1 := webvh.Log{log[i]}.MarshalJSONL()
		b, err2 := webvh.Log{stored[i]}.MarshalJSONL()
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			return fmt.Errorf("entry %d differs from the stored one: history cannot be rewritten", i+1)
		}
	}
	return nil
}

// putWitness stores body as the did-witness.json of name. With a stored log, the log must
// verify completely with it; without one, it is held in memory for the log to come.
func (h *Host) putWitness(name string, body []byte) (Result, error) {
	wf, err := webvh.ParseWitnessFile(body)
	if err != nil {
		return Result{}, refuse(http.StatusBadRequest, codeBadWitness, "%v", err)
	}
	now := h.cfg.Now()
	h.publish.Lock()
	defer h.publish.Unlock()

	h.mu.RLock()
	e := h.store.index[name]
	var logData []byte
	if e != nil {
		logData, err = h.store.read(name, logFile)
	}
	h.mu.RUnlock()
	if err != nil {
		return Result{}, err
	}
	if e == nil {
		if len(body) > maxPendingWitness {
			return Result{}, refuse(http.StatusRequestEntityTooLarge, codeTooLarge, "a did-witness.json for a name without a log is at most %d bytes", maxPendingWitness)
		}
		h.pending.put(name, body, now)
		return Result{Used: int64(len(body)), Quota: h.cfg.MaxNameBytes}, nil
	}
	log, err := webvh.ParseLog(logData)
	if err != nil {
		return Result{}, err
	}
	if _, err := webvh.Verify(log, wf, now); err != nil {
		return Result{}, refuse(http.StatusBadRequest, codeBadWitness, "the stored log does not verify with these proofs: %v; keep a proof over the stored log's latest witnessed version beside the new ones", err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	used := e.used() - e.witnessSize + int64(len(body))
	if used > h.cfg.MaxNameBytes {
		return Result{}, refuse(http.StatusRequestEntityTooLarge, codeQuota, "the name would keep %d bytes, over its quota of %d; delete files first", used, h.cfg.MaxNameBytes)
	}
	if err := h.store.write(name, witnessFile, body); err != nil {
		return Result{}, err
	}
	e.witnessSize = int64(len(body))
	return Result{DID: e.did.String(), Used: e.used(), Quota: h.cfg.MaxNameBytes}, nil
}

// authorise checks a signed file request against the name's current DID and update keys,
// and records the signature so that it is accepted once.
func (h *Host) authorise(e *entry, method, path, header string, body []byte) error {
	if header == "" {
		return refuse(http.StatusUnauthorized, codeUnauthorized, "sign the request: Authorization: %s key=…, created=…, sig=… (docs/pages-hosting.md)", AuthScheme)
	}
	a, err := ParseAuth(header)
	if err != nil {
		return refuse(http.StatusUnauthorized, codeUnauthorized, "%v", err)
	}
	if !containsString(e.params.UpdateKeys, a.Key) {
		return refuse(http.StatusUnauthorized, codeNotAuthorised, "key %s is not in the current updateKeys of %s; sign with one that is", a.Key, e.did)
	}
	now := h.cfg.Now()
	if err := a.verify(method, e.did.String(), path, body, now); err != nil {
		return refuse(http.StatusUnauthorized, codeUnauthorized, "%v", err)
	}
	if err := h.replay.use(a.Sig, time.Unix(a.Created, 0).Add(SignatureWindow), now); err != nil {
		if errors.Is(err, errReplayFull) {
			return refuse(http.StatusServiceUnavailable, codeBusy, "%v", err)
		}
		return refuse(http.StatusUnauthorized, codeUnauthorized, "%v; sign each request afresh", err)
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// putFile stores a file of name at the canonical path p, for a request signed with auth.
func (h *Host) putFile(name, p, auth string, body []byte) (Result, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.store.index[name]
	if e == nil {
		return Result{}, false, refuse(http.StatusNotFound, codeNoLog, "no DID is published under %q; publish did.jsonl first", name)
	}
	// Public facts first: a deactivated DID has no keys left to sign with.
	if e.params.Deactivated {
		return Result{}, false, refuse(http.StatusConflict, codeDeactivated, "%s is deactivated and takes no new files", e.did)
	}
	if h.moved(name, e) {
		return Result{}, false, refuse(http.StatusConflict, codeMoved, "%s has moved; publish files at %s", e.did, e.did.BaseURL())
	}
	if err := h.authorise(e, http.MethodPut, "/"+name+"/"+p, auth, body); err != nil {
		return Result{}, false, err
	}
	for q := range e.files {
		if strings.HasPrefix(q, p+"/") || strings.HasPrefix(p, q+"/") {
			return Result{}, false, refuse(http.StatusConflict, codeConflict, "%q and the stored %q cannot both be files; delete one", p, q)
		}
	}
	old, replacing := e.files[p]
	if !replacing && len(e.files) >= h.cfg.MaxFiles {
		return Result{}, false, refuse(http.StatusRequestEntityTooLarge, codeTooManyFiles, "the name keeps %d files, its limit; delete some first", len(e.files))
	}
	if used := e.used() - old + int64(len(body)); used > h.cfg.MaxNameBytes {
		return Result{}, false, refuse(http.StatusRequestEntityTooLarge, codeQuota, "the name would keep %d bytes, over its quota of %d; delete files first", used, h.cfg.MaxNameBytes)
	}
	if err := h.store.write(name, filesDir+"/"+p, body); err != nil {
		return Result{}, false, err
	}
	e.files[p] = int64(len(body))
	return Result{DID: e.did.String(), Path: p, Size: int64(len(body)), Used: e.used(), Quota: h.cfg.MaxNameBytes}, !replacing, nil
}

// deleteFile deletes a file of name, for a request signed with auth.
func (h *Host) deleteFile(name, p, auth string) (Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.store.index[name]
	if e == nil {
		return Result{}, refuse(http.StatusNotFound, codeNoLog, "no DID is published under %q", name)
	}
	if err := h.authorise(e, http.MethodDelete, "/"+name+"/"+p, auth, nil); err != nil {
		return Result{}, err
	}
	if _, ok := e.files[p]; !ok {
		return Result{}, refuse(http.StatusNotFound, codeNotFound, "%s has no file %q", name, p)
	}
	if err := h.store.remove(name, filesDir+"/"+p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, err
	}
	delete(e.files, p)
	return Result{DID: e.did.String(), Path: p, Used: e.used(), Quota: h.cfg.MaxNameBytes}, nil
}

// moved reports whether the name's DID now lives elsewhere (its latest entry moved it).
func (h *Host) moved(name string, e *entry) bool {
	return e.did.String() != h.origin.didOf(e.scid, name)
}

// maxPendingWitness bounds a did-witness.json held for a name without a log: a first
// entry's proofs are a few hundred bytes each.
const maxPendingWitness = 64 << 10

// maxPending and pendingTTL bound what strangers can make the server hold in memory.
const (
	maxPending = 256
	pendingTTL = 10 * time.Minute
)

// pendingWitnesses (guarded by Host.publish) are did-witness.json files put for names that have no log yet: a witnessed
// DID's first entry needs its proofs in place before its log verifies. They give no claim on
// the name, live in memory only, and are dropped after pendingTTL or when more arrive.
type pendingWitnesses struct {
	m map[string]pendingWitness
}

type pendingWitness struct {
	data    []byte
	expires time.Time
}

func newPendingWitnesses() *pendingWitnesses {
	return &pendingWitnesses{m: map[string]pendingWitness{}}
}

func (p *pendingWitnesses) get(name string, now time.Time) []byte {
	w, ok := p.m[name]
	if !ok || now.After(w.expires) {
		return nil
	}
	return w.data
}

func (p *pendingWitnesses) put(name string, data []byte, now time.Time) {
	if len(p.m) >= maxPending {
		oldest := ""
		for n, w := range p.m {
			if now.After(w.expires) {
				delete(p.m, n)
			} else if oldest == "" || w.expires.Before(p.m[oldest].expires) {
				oldest = n
			}
		}
		if len(p.m) >= maxPending {
			delete(p.m, oldest)
		}
	}
	p.m[name] = pendingWitness{data: data, expires: now.Add(pendingTTL)}
}

func (p *pendingWitnesses) drop(name string) { delete(p.m, name) }
