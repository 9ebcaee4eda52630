package webvhhost

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"planet/core/did/webvh"
)

// key is an Ed25519 key held by the test, as a person's vault holds their update keys.
type key struct{ priv ed25519.PrivateKey }

func newKey(seed string) key {
	s := sha256.Sum256([]byte(seed))
	return key{ed25519.NewKeyFromSeed(s[:])}
}

func (k key) PublicKey() ed25519.PublicKey    { return k.priv.Public().(ed25519.PublicKey) }
func (k key) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.priv, msg), nil }
func (k key) multikey() string                { return webvh.Multikey(k.PublicKey()) }

// server is a Host served over loopback HTTP, as serve runs it.
type server struct {
	t     *testing.T
	wrap  func(http.Handler) http.Handler // nil: the Host alone
	count atomic.Int32                    // requests served
	// override, when set, answers instead of the Host (a server gone bad or slow).
	override atomic.Pointer[http.HandlerFunc]
	host     *Host
	srv      *httptest.Server
	dir      string
	port     int // the public URL's port
}

// startServer starts a Host on a free loopback port with a new data directory; its public
// URL is http://planet.localhost:<port>/.
func startServer(t *testing.T, cfg Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: t.TempDir(), port: ln.Addr().(*net.TCPAddr).Port}
	s.start(ln, cfg)
	return s
}

func (s *server) start(ln net.Listener, cfg Config) {
	s.t.Helper()
	cfg.PublicURL = "http://localhost:" + strconv.Itoa(s.port) + "/"
	h, err := Open(s.dir, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.host = h
	var handler http.Handler = h
	if s.wrap != nil {
		handler = s.wrap(h)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count.Add(1)
		if o := s.override.Load(); o != nil {
			(*o)(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	s.t.Cleanup(s.srv.Close)
}

// restart stops the server and opens a new Host on the same data and port.
func (s *server) restart(cfg Config) {
	s.t.Helper()
	s.srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
	if err != nil {
		s.t.Fatal(err)
	}
	s.start(ln, cfg)
}

// do sends a request to the server and returns the response and its body.
func (s *server) do(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, data
}

// want checks the status and, for a refusal, the error code.
func want(t *testing.T, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %s %s, want %d", what, resp.Status, body, status)
	}
	if code == "" {
		return
	}
	var e struct{ Error, Message string }
	if err := json.Unmarshal(body, &e); err != nil || e.Error != code || e.Message == "" {
		t.Fatalf("%s: body %s, want error %q with a message", what, body, code)
	}
}

// didLog makes and marshals logs of a DID on s under name.
type didLog struct {
	t   *testing.T
	log webvh.Log
}

func (d *didLog) bytes() []byte {
	d.t.Helper()
	b, err := d.log.MarshalJSONL()
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

func (d *didLog) did() string {
	id, _ := d.log[len(d.log)-1].State["id"].(string)
	return id
}

func document(k key) func(string) map[string]any {
	return func(id string) map[string]any {
		return map[string]any{
			"@context": []any{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
			"id":       id,
			"verificationMethod": []any{map[string]any{
				"id": id + "#key-1", "type": "Multikey", "controller": id, "publicKeyMultibase": k.multikey(),
			}},
			"assertionMethod": []any{id + "#key-1"},
		}
	}
}

// create makes a new DID on s under name, signed by k, with opts' other fields.
func (s *server) create(name string, k key, opts webvh.CreateOptions) *didLog {
	s.t.Helper()
	opts.Host, opts.Port = s.host.Location()
	opts.Path = []string{name}
	if opts.Time.IsZero() {
		opts.Time = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	opts.Document = document(k)
	log, err := webvh.Create(opts, k)
	if err != nil {
		s.t.Fatal(err)
	}
	return &didLog{t: s.t, log: log}
}

func (d *didLog) update(opts webvh.UpdateOptions, k key) *didLog {
	d.t.Helper()
	if opts.Time.IsZero() {
		opts.Time = time.Now().Add(-time.Duration(30-len(d.log)) * time.Minute).UTC().Truncate(time.Second)
	}
	log, err := d.log.Update(opts, k, time.Now())
	if err != nil {
		d.t.Fatal(err)
	}
	return &didLog{t: d.t, log: log}
}

func TestPublishAndUpdate(t *testing.T) {
	s := startServer(t, Config{})
	k0, k1, k2 := newKey("k0"), newKey("k1"), newKey("k2")
	genesis := s.create("alice", k0, webvh.CreateOptions{NextKeyHashes: []string{webvh.NextKeyHash(k1.multikey())}})
	if !strings.HasPrefix(genesis.did(), "did:webvh:") || !strings.HasSuffix(genesis.did(), ":planet.localhost%3A"+strconv.Itoa(s.port)+":alice") {
		t.Fatalf("DID %s", genesis.did())
	}

	resp, body := s.do("PUT", "/alice/did.jsonl", genesis.bytes())
	want(t, "genesis", resp, body, 201, "")
	var res Result
	if err := json.Unmarshal(body, &res); err != nil || res.DID != genesis.did() || res.VersionNumber != 1 {
		t.Fatalf("result %s", body)
	}

	resp, body = s.do("GET", "/alice/did.jsonl", nil)
	want(t, "GET log", resp, body, 200, "")
	if !bytes.Equal(body, genesis.bytes()) || resp.Header.Get("Content-Type") != mediaLog ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		resp.Header.Get("Cache-Control") != cacheHosted {
		t.Fatalf("GET log: %v %q", resp.Header, body)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = s.do("GET", "/alice/did.jsonl", nil, "If-None-Match", etag)
	want(t, "conditional GET", resp, nil, 304, "")
	resp, body = s.do("HEAD", "/alice/did.jsonl", nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(genesis.bytes())) {
		t.Fatalf("HEAD: %s %d %q", resp.Status, resp.ContentLength, body)
	}

	// A rotation under pre-rotation, then one without it.
	v2 := genesis.update(webvh.UpdateOptions{UpdateKeys: []string{k1.multikey()}, NextKeyHashes: []string{}}, k1)
	resp, body = s.do("PUT", "/alice/did.jsonl", v2.bytes())
	want(t, "pre-rotation", resp, body, 200, "")
	v3 := v2.update(webvh.UpdateOptions{UpdateKeys: []string{k2.multikey()}}, k1)
	resp, body = s.do("PUT", "/alice/did.jsonl", v3.bytes())
	want(t, "rotation", resp, body, 200, "")
	resp, body = s.do("PUT", "/alice/did.jsonl", v3.bytes())
	want(t, "the same log again", resp, body, 200, "")

	// Going back, or rewriting history, is refused; so is a forged entry.
	resp, body = s.do("PUT", "/alice/did.jsonl", v2.bytes())
	want(t, "an older log", resp, body, 409, codeRewritten)
	other := v2.update(webvh.UpdateOptions{UpdateKeys: []string{k1.multikey()}, TTL: new(int)}, k1)
	resp, body = s.do("PUT", "/alice/did.jsonl", other.update(webvh.UpdateOptions{}, k1).bytes())
	want(t, "a rewritten entry", resp, body, 409, codeRewritten)
	v4 := v3.update(webvh.UpdateOptions{}, k2)
	lines := bytes.SplitAfter(v4.bytes(), []byte("\n"))
	lines[3] = bytes.Replace(lines[3], []byte(`"proofValue":"z`), []byte(`"proofValue":"z1`), 1)
	forged := bytes.Join(lines, nil)
	resp, body = s.do("PUT", "/alice/did.jsonl", forged)
	want(t, "a forged entry", resp, body, 400, codeBadLog)
	// An entry signed by the key that was rotated away.
	stale := &didLog{t: t, log: append(webvh.Log(nil), v3.log...)}
	stale.log = append(stale.log, resignedBy(t, v3, k0))
	resp, body = s.do("PUT", "/alice/did.jsonl", stale.bytes())
	want(t, "an entry by a retired key", resp, body, 400, codeBadLog)
	resp, body = s.do("PUT", "/alice/did.jsonl", []byte("{}\n"))
	want(t, "not a log", resp, body, 400, codeBadLog)

	// Another DID for a taken name; a log for another name, another host.
	mallory := s.create("alice", newKey("mallory"), webvh.CreateOptions{})
	resp, body = s.do("PUT", "/alice/did.jsonl", mallory.bytes())
	want(t, "a taken name", resp, body, 409, codeNameTaken)
	resp, body = s.do("PUT", "/bob/did.jsonl", mallory.bytes())
	want(t, "another name's log", resp, body, 400, codeWrongDID)
	elsewhere, err := webvh.Create(webvh.CreateOptions{Host: "example.com", Path: []string{"carol"}, Time: time.Now().Add(-time.Hour)}, k0)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = s.do("PUT", "/carol/did.jsonl", (&didLog{t: t, log: elsewhere}).bytes())
	want(t, "another host's log", resp, body, 400, codeWrongDID)
	for _, name := range []string{"Alice", "didcomm", "icons", "-a", strings.Repeat("a", 64)} {
		resp, body = s.do("PUT", "/"+name+"/did.jsonl", genesis.bytes())
		want(t, "name "+name, resp, body, 404, codeBadName)
	}

	// What the page renderer reads.
	r := Reader(s.host)
	if names := r.Names(); len(names) != 1 || names[0] != "alice" {
		t.Errorf("Names = %v", names)
	}
	stored, err := r.Log("alice")
	if err != nil || !bytes.Equal(stored, v3.bytes()) {
		t.Errorf("Log: %v", err)
	}
	resolved, err := r.Resolve("alice")
	if err != nil || resolved.Metadata.VersionNumber != 3 || resolved.DID.String() != genesis.did() || resolved.Document["id"] != genesis.did() {
		t.Errorf("Resolve: %+v, %v", resolved, err)
	}
	if _, err := r.Log("bob"); err == nil {
		t.Error("Log of a free name")
	}
}

// resignedBy returns the entry that would follow d's log, made by its own key but with the
// proof replaced by one of k.
func resignedBy(t *testing.T, d *didLog, k key) webvh.Entry {
	t.Helper()
	// A log whose last key is k's, to get k's proof over the same kind of entry.
	next := d.update(webvh.UpdateOptions{}, newKey("k2"))
	e := next.log[len(next.log)-1]
	kl, err := webvh.Create(webvh.CreateOptions{Host: "example.com", Time: time.Now().Add(-time.Hour)}, k)
	if err != nil {
		t.Fatal(err)
	}
	// Same proof shape, wrong key and wrong signature: it cannot verify.
	proof := map[string]any{}
	for key, v := range kl[0].Proof[0] {
		proof[key] = v
	}
	e.Proof = []map[string]any{proof}
	return e
}

func TestWitnessFile(t *testing.T) {
	s := startServer(t, Config{})
	k, w1 := newKey("k"), newKey("w1")
	d := s.create("alice", k, webvh.CreateOptions{Witness: webvh.Witness{Threshold: 1, Witnesses: []string{"did:key:" + w1.multikey()}}})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "a witnessed log without proofs", resp, body, 400, codeBadLog)
	if !strings.Contains(string(body), "did-witness.json") {
		t.Errorf("the message does not say what to do: %s", body)
	}
	proof, err := webvh.SignWitness(d.log[0].VersionID, w1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wf, _ := json.Marshal(webvh.WitnessFile(nil).Add(d.log[0].VersionID, proof))
	resp, body = s.do("PUT", "/alice/did-witness.json", wf)
	want(t, "proofs before the log", resp, body, 200, "")
	resp, body = s.do("GET", "/alice/did-witness.json", nil)
	want(t, "proofs of a name without a log are not served", resp, body, 404, codeNotFound)
	resp, body = s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "the witnessed log", resp, body, 201, "")
	resp, body = s.do("GET", "/alice/did-witness.json", nil)
	want(t, "GET proofs", resp, body, 200, "")
	if !bytes.Equal(body, wf) || resp.Header.Get("Content-Type") != mediaJSON {
		t.Errorf("proofs %q %s", body, resp.Header.Get("Content-Type"))
	}

	// Proofs that leave the stored log short of its threshold are refused.
	resp, body = s.do("PUT", "/alice/did-witness.json", []byte("[]"))
	want(t, "no proofs", resp, body, 400, codeBadWitness)
	resp, body = s.do("PUT", "/alice/did-witness.json", []byte(`[{"versionId":"1-x"}]`))
	want(t, "malformed proofs", resp, body, 400, codeBadWitness)

	// The next entry needs its proof first.
	v2 := d.update(webvh.UpdateOptions{}, k)
	resp, body = s.do("PUT", "/alice/did.jsonl", v2.bytes())
	want(t, "an unwitnessed update", resp, body, 400, codeBadLog)
	proof2, _ := webvh.SignWitness(v2.log[1].VersionID, w1, time.Now())
	wf2, _ := json.Marshal(webvh.WitnessFile(nil).Add(v2.log[1].VersionID, proof2))
	resp, body = s.do("PUT", "/alice/did-witness.json", wf2)
	want(t, "dropping the proofs the stored log needs", resp, body, 400, codeBadWitness)
	wf2, _ = json.Marshal(webvh.WitnessFile(nil).Add(d.log[0].VersionID, proof).Add(v2.log[1].VersionID, proof2))
	resp, body = s.do("PUT", "/alice/did-witness.json", wf2)
	want(t, "the new proofs", resp, body, 200, "")
	resp, body = s.do("PUT", "/alice/did.jsonl", v2.bytes())
	want(t, "the witnessed update", resp, body, 200, "")
}

// put sends a signed file request.
func (s *server) put(d *didLog, k key, method, path string, body []byte, created time.Time) (*http.Response, []byte) {
	s.t.Helper()
	p, err := CheckPath(strings.SplitN(path, "/", 3)[2])
	if err != nil {
		s.t.Fatal(err)
	}
	name := strings.SplitN(path, "/", 3)[1]
	return s.do(method, path, body, "Authorization", Sign(k.priv, method, d.did(), "/"+name+"/"+p, body, created))
}

func TestFiles(t *testing.T) {
	s := startServer(t, Config{})
	k, k2 := newKey("k"), newKey("k2")
	d := s.create("alice", k, webvh.CreateOptions{})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "log", resp, body, 201, "")
	now := time.Now()
	page := []byte("<h1>Hello</h1><script>alert(1)</script>")

	resp, body = s.put(d, k, "PUT", "/alice/posts/hello.html", page, now)
	want(t, "put", resp, body, 201, "")
	resp, body = s.do("GET", "/alice/posts/hello.html", nil)
	want(t, "get", resp, body, 200, "")
	if !bytes.Equal(body, page) || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		resp.Header.Get("Content-Security-Policy") != filePolicy || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		resp.Header.Get("ETag") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("get: %v", resp.Header)
	}
	resp, body = s.put(d, k, "PUT", "/alice/app.js", []byte("alert(1)"), now)
	want(t, "put js", resp, body, 201, "")
	resp, _ = s.do("GET", "/alice/app.js", nil)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("a script is served as %s", ct)
	}
	// Another spelling of the same path is the same file.
	resp, body = s.do("GET", "/alice/posts/hello%2Ehtml", nil)
	want(t, "encoded path", resp, body, 200, "")

	// Replays, stale and future signatures, other keys, other bodies, no signature.
	auth := Sign(k.priv, "PUT", d.did(), "/alice/posts/hello.html", page, now.Add(time.Second))
	resp, body = s.do("PUT", "/alice/posts/hello.html", page, "Authorization", auth)
	want(t, "replace", resp, body, 200, "")
	resp, body = s.do("PUT", "/alice/posts/hello.html", page, "Authorization", auth)
	want(t, "replay", resp, body, 401, codeUnauthorized)
	resp, body = s.put(d, k, "PUT", "/alice/a.txt", []byte("a"), now.Add(-6*time.Minute))
	want(t, "expired", resp, body, 401, codeUnauthorized)
	resp, body = s.put(d, k, "PUT", "/alice/a.txt", []byte("a"), now.Add(6*time.Minute))
	want(t, "from the future", resp, body, 401, codeUnauthorized)
	resp, body = s.put(d, k2, "PUT", "/alice/a.txt", []byte("a"), now)
	want(t, "wrong key", resp, body, 401, codeNotAuthorised)
	resp, body = s.do("PUT", "/alice/a.txt", []byte("b"), "Authorization", Sign(k.priv, "PUT", d.did(), "/alice/a.txt", []byte("a"), now))
	want(t, "another body", resp, body, 401, codeUnauthorized)
	resp, body = s.do("PUT", "/alice/b.txt", []byte("a"), "Authorization", Sign(k.priv, "PUT", d.did(), "/alice/a.txt", []byte("a"), now))
	want(t, "another path", resp, body, 401, codeUnauthorized)
	resp, body = s.do("DELETE", "/alice/posts/hello.html", nil, "Authorization", Sign(k.priv, "PUT", d.did(), "/alice/posts/hello.html", nil, now))
	want(t, "another method", resp, body, 401, codeUnauthorized)
	resp, body = s.do("PUT", "/alice/a.txt", []byte("a"))
	want(t, "unsigned", resp, body, 401, codeUnauthorized)
	resp, body = s.do("PUT", "/alice/a.txt", []byte("a"), "Authorization", "Bearer x")
	want(t, "another scheme", resp, body, 401, codeUnauthorized)
	resp, body = s.put(d, k, "PUT", "/bob/a.txt", []byte("a"), now)
	want(t, "a free name", resp, body, 404, codeNoLog)

	// Paths that climb or hide.
	for _, p := range []string{"/alice/../x", "/alice/%2e%2e/x", "/alice/a//b", "/alice/a/", "/alice/.hidden", "/alice/a%2Fb",
		"/alice/a%00b", "/alice/a%5Cb", "/alice/1/2/3/4/5/6/7/8/9", "/alice/%20a", "/alice/a%01", "/alice/did%2Ejsonl"} {
		resp, body = s.do("PUT", p, []byte("x"), "Authorization", Sign(k.priv, "PUT", d.did(), p, []byte("x"), now))
		want(t, "path "+p, resp, body, 400, codeBadPath)
	}
	resp, body = s.put(d, k, "PUT", "/alice/posts/hello.html/x", []byte("x"), now)
	want(t, "a file under a file", resp, body, 409, codeConflict)
	resp, body = s.put(d, k, "PUT", "/alice/posts", []byte("x"), now)
	want(t, "a file over a folder", resp, body, 409, codeConflict)

	if files, err := s.host.Files("alice"); err != nil || strings.Join(files, ",") != "app.js,posts/hello.html" {
		t.Errorf("Files = %v, %v", files, err)
	}
	resp, body = s.put(d, k, "DELETE", "/alice/posts/hello.html", nil, now)
	want(t, "delete", resp, body, 200, "")
	resp, body = s.do("GET", "/alice/posts/hello.html", nil)
	want(t, "deleted", resp, body, 404, codeNotFound)
	resp, body = s.put(d, k, "DELETE", "/alice/posts/hello.html", nil, now.Add(time.Second))
	want(t, "delete again", resp, body, 404, codeNotFound)
	if _, err := os.Stat(s.dir + "/alice/files/posts"); !os.IsNotExist(err) {
		t.Errorf("the emptied folder is left: %v", err)
	}

	// After a rotation the old key signs nothing.
	d2 := d.update(webvh.UpdateOptions{UpdateKeys: []string{k2.multikey()}}, k)
	resp, body = s.do("PUT", "/alice/did.jsonl", d2.bytes())
	want(t, "rotation", resp, body, 200, "")
	resp, body = s.put(d2, k, "PUT", "/alice/a.txt", []byte("a"), now)
	want(t, "the rotated key", resp, body, 401, codeNotAuthorised)
	resp, body = s.put(d2, k2, "PUT", "/alice/a.txt", []byte("a"), now)
	want(t, "the new key", resp, body, 201, "")

	// A deactivated DID takes no new files; its log and files are still served.
	d3, err := d2.log.Deactivate(time.Now().Add(-time.Minute).UTC().Truncate(time.Second), k2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, body = s.do("PUT", "/alice/did.jsonl", (&didLog{t: t, log: d3}).bytes())
	want(t, "deactivation", resp, body, 200, "")
	resp, body = s.put(d2, k2, "PUT", "/alice/b.txt", []byte("b"), now)
	want(t, "a file for a deactivated DID", resp, body, 409, codeDeactivated)
	resp, body = s.do("GET", "/alice/a.txt", nil)
	want(t, "a file of a deactivated DID", resp, body, 200, "")
}

func TestQuotas(t *testing.T) {
	k := newKey("k")
	probe := startServer(t, Config{})
	logSize := int64(len(probe.create("alice", k, webvh.CreateOptions{}).bytes()))
	s := startServer(t, Config{MaxNameBytes: logSize + 250, MaxFileBytes: 100, MaxFiles: 3, MaxLogBytes: logSize + 1500})
	d := s.create("alice", k, webvh.CreateOptions{})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "log", resp, body, 201, "")
	now := time.Now()
	resp, body = s.put(d, k, "PUT", "/alice/big", make([]byte, 101), now)
	want(t, "a file over the limit", resp, body, 413, codeTooLarge)
	var res Result
	for i, size := range []int{100, 100} {
		resp, body = s.put(d, k, "PUT", "/alice/f"+strconv.Itoa(i), make([]byte, size), now)
		want(t, "a file within the quota", resp, body, 201, "")
		json.Unmarshal(body, &res)
	}
	left := int(res.Quota - res.Used)
	if left <= 0 || left > 100 {
		t.Fatalf("used %d of %d", res.Used, res.Quota)
	}
	resp, body = s.put(d, k, "PUT", "/alice/f2", make([]byte, left+1), now)
	want(t, "over the name's quota", resp, body, 413, codeQuota)
	resp, body = s.put(d, k, "PUT", "/alice/f2", make([]byte, left-40), now)
	want(t, "within it", resp, body, 201, "")
	resp, body = s.put(d, k, "PUT", "/alice/f3", make([]byte, 1), now)
	want(t, "one file too many", resp, body, 413, codeTooManyFiles)
	resp, body = s.put(d, k, "PUT", "/alice/f0", make([]byte, 50), now)
	want(t, "a smaller replacement", resp, body, 200, "")

	// The log counts too: a longer log must fit beside the files.
	long := d.update(webvh.UpdateOptions{}, k)
	resp, body = s.do("PUT", "/alice/did.jsonl", long.bytes())
	want(t, "a log over the quota", resp, body, 413, codeQuota)
	for range 3 {
		long = long.update(webvh.UpdateOptions{}, k)
	}
	resp, body = s.do("PUT", "/alice/did.jsonl", long.bytes())
	want(t, "a log over its limit", resp, body, 413, codeTooLarge)
}

func TestMove(t *testing.T) {
	s := startServer(t, Config{})
	k := newKey("k")
	d := s.create("alice", k, webvh.CreateOptions{Portable: true})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "log", resp, body, 201, "")
	resp, body = s.put(d, k, "PUT", "/alice/posts/a.txt", []byte("a"), time.Now())
	want(t, "file", resp, body, 201, "")

	moved, err := d.log.Move("example.org", 0, []string{"people", "alice"}, webvh.UpdateOptions{Time: time.Now().Add(-time.Minute).UTC().Truncate(time.Second)}, k, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, body = s.do("PUT", "/alice/did.jsonl", (&didLog{t: t, log: moved}).bytes())
	want(t, "the move", resp, body, 200, "")
	for path, loc := range map[string]string{
		"/alice/did.jsonl":        "https://example.org/people/alice/did.jsonl",
		"/alice/did-witness.json": "https://example.org/people/alice/did-witness.json",
		"/alice/posts/a.txt":      "https://example.org/people/alice/posts/a.txt",
	} {
		resp, body = s.do("GET", path, nil)
		want(t, "GET "+path, resp, body, 301, "")
		if got := resp.Header.Get("Location"); got != loc {
			t.Errorf("GET %s: Location %q, want %q", path, got, loc)
		}
	}
	resp, body = s.put(d, k, "PUT", "/alice/posts/b.txt", []byte("b"), time.Now())
	want(t, "a file after the move", resp, body, 409, codeMoved)
	// The log itself is still what the name holds, for the page and the resolver.
	if res, err := s.host.Resolve("alice"); err != nil || res.DID.Location().Host != "example.org" {
		t.Errorf("Resolve after the move: %v, %v", res, err)
	}
}

func TestRestart(t *testing.T) {
	s := startServer(t, Config{})
	k := newKey("k")
	d := s.create("alice", k, webvh.CreateOptions{})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "log", resp, body, 201, "")
	resp, body = s.put(d, k, "PUT", "/alice/posts/a%20b.txt", []byte("a"), time.Now())
	want(t, "file", resp, body, 201, "")
	// A write that never finished is not a file.
	if err := os.WriteFile(s.dir+"/alice/files/posts/"+tmpPrefix+"123", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	s.restart(Config{})
	resp, body = s.do("GET", "/alice/posts/a%20b.txt", nil)
	want(t, "file after the restart", resp, body, 200, "")
	resp, body = s.do("GET", "/alice/did.jsonl", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, d.bytes()) {
		t.Fatalf("log after the restart: %s", resp.Status)
	}
	if files, _ := s.host.Files("alice"); strings.Join(files, ",") != "posts/a%20b.txt" {
		t.Errorf("files after the restart: %v", files)
	}
	mallory := s.create("alice", newKey("m"), webvh.CreateOptions{})
	resp, body = s.do("PUT", "/alice/did.jsonl", mallory.bytes())
	want(t, "the name is still taken", resp, body, 409, codeNameTaken)
	resp, body = s.do("PUT", "/alice/did.jsonl", d.update(webvh.UpdateOptions{}, k).bytes())
	want(t, "an update after the restart", resp, body, 200, "")

	// A clock set back before the update's versionTime: the log no longer verifies
	// completely, and the server still starts, the name still taken, its files served.
	s.restart(Config{Now: func() time.Time { return time.Now().Add(-40 * time.Minute) }})
	resp, body = s.do("PUT", "/alice/did.jsonl", mallory.bytes())
	want(t, "the name is still taken with the clock set back", resp, body, 409, codeNameTaken)
	resp, body = s.do("GET", "/alice/posts/a%20b.txt", nil)
	want(t, "file with the clock set back", resp, body, 200, "")
}

func TestCORS(t *testing.T) {
	s := startServer(t, Config{})
	resp, _ := s.do("OPTIONS", "/alice/posts/a.txt", nil,
		"Origin", "https://other.example", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization")
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "DELETE") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %s %v", resp.Status, h)
	}
	resp, body := s.do("GET", "/nobody/did.jsonl", nil)
	want(t, "a free name", resp, body, 404, codeNotFound)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("a 404 without CORS: the resolver in another origin cannot read why")
	}
	resp, body = s.do("POST", "/alice/did.jsonl", nil)
	want(t, "POST", resp, body, 405, codeMethod)
}

func TestNames(t *testing.T) {
	for _, ok := range []string{"a", "alice", "a-b", "0", strings.Repeat("a", 63)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "-a", "a-", "a_b", "a.b", strings.Repeat("a", 64), "didcomm", "icons", "assets"} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
	// Everything the site serves at its top level is no one's name.
	entries, err := os.ReadDir("../../web")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), ".sh")
		if n == "README.md" || n == "list-files" {
			continue // not shipped
		}
		if CheckName(e.Name()) == nil {
			t.Errorf("the site serves /%s, which is not reserved", e.Name())
		}
	}
	for _, u := range []string{"http://10.0.0.1/", "ftp://example.com/", "https://example.com/sub/", "http://intranet/"} {
		if _, err := Open(t.TempDir(), Config{PublicURL: u}); err == nil {
			t.Errorf("public URL %s accepted", u)
		}
	}
	for u, prefix := range map[string]string{
		"https://example.com":        "did:webvh:{SCID}:example.com:",
		"http://127.0.0.1:8080/":     "did:webvh:{SCID}:planet.localhost%3A8080:",
		"http://[::1]:9/":            "did:webvh:{SCID}:planet.localhost%3A9:",
		"https://Pages.EXAMPLE:8443": "did:webvh:{SCID}:pages.example%3A8443:",
	} {
		h, err := Open(t.TempDir(), Config{PublicURL: u})
		if err != nil || h.DIDPrefix() != prefix {
			t.Errorf("public URL %s: %v, %v", u, h, err)
		}
	}
}

// TestDocumentedCodes checks that docs/pages-hosting.md lists every error code.
func TestDocumentedCodes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/pages-hosting.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(string(doc), "| `"+c+"` |") {
			t.Errorf("docs/pages-hosting.md does not list error %q", c)
		}
	}
}

// TestConcurrentWrites writes files of one name from many clients at once.
func TestConcurrentWrites(t *testing.T) {
	s := startServer(t, Config{})
	k := newKey("k")
	d := s.create("alice", k, webvh.CreateOptions{})
	resp, body := s.do("PUT", "/alice/did.jsonl", d.bytes())
	want(t, "log", resp, body, 201, "")
	const n = 16
	errs := make(chan string, n)
	for i := range n {
		go func() {
			p := "/alice/f/" + strconv.Itoa(i)
			req, _ := http.NewRequest("PUT", s.srv.URL+p, strings.NewReader(p))
			req.Header.Set("Authorization", Sign(k.priv, "PUT", d.did(), p, []byte(p), time.Now()))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				errs <- p + ": " + resp.Status
				return
			}
			errs <- ""
		}()
	}
	for range n {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if files, _ := s.host.Files("alice"); len(files) != n {
		t.Errorf("%d files stored, want %d", len(files), n)
	}
}
