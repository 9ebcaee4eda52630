package webvhhost

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"planet/core/did/webvh"
	"planet/core/keys"
)

// AuthScheme is the HTTP authentication scheme of file writes (docs/pages-hosting.md,
// "Signed file requests"):
//
//	Authorization: DIDWebVH key="z6Mk…", created="1765170000", sig="<base64url>"
//
// key is an Ed25519 Multikey in the current updateKeys of the name's DID, created the Unix
// time of signing, sig the Ed25519 signature (base64url, no padding) of [SigningInput].
const AuthScheme = webvh.FileRequestScheme

// SignatureWindow is how far created may be from the server's clock, either way. A
// signature is remembered for as long as it could be accepted, so it is accepted once.
const SignatureWindow = 5 * time.Minute

// Auth is a parsed Authorization value of the DIDWebVH scheme.
type Auth struct {
	Key     string // Ed25519 Multikey, "z6Mk…"
	Created int64  // Unix seconds
	Sig     []byte // 64 bytes
}

// ErrAuth reports an Authorization value that is not a DIDWebVH one, or whose signature
// does not verify, is out of the window, was already used, or is by a key not authorised.
var ErrAuth = errors.New("file request not authorised")

// ParseAuth reads an Authorization field value strictly: the scheme (case-insensitive), then
// exactly the parameters key, created and sig, each once, as quoted strings, separated by
// commas with optional spaces. key must be an Ed25519 Multikey, created a decimal without
// leading zeros, sig 86 base64url characters. Errors wrap ErrAuth.
func ParseAuth(v string) (Auth, error) {
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, AuthScheme) {
		return Auth{}, fmt.Errorf("%w: the scheme is not %s", ErrAuth, AuthScheme)
	}
	params := map[string]string{}
	rest = strings.TrimLeft(rest, " ")
	for rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t,\"") {
			return Auth{}, fmt.Errorf("%w: a parameter has no name=value form", ErrAuth)
		}
		if !strings.HasPrefix(after, `"`) {
			return Auth{}, fmt.Errorf("%w: parameter %q is not a quoted string", ErrAuth, name)
		}
		end := strings.IndexByte(after[1:], '"')
		if end < 0 {
			return Auth{}, fmt.Errorf("%w: parameter %q has no closing quote", ErrAuth, name)
		}
		value := after[1 : end+1]
		if strings.ContainsAny(value, "\\") {
			return Auth{}, fmt.Errorf("%w: parameter %q has an escape", ErrAuth, name)
		}
		if _, dup := params[name]; dup {
			return Auth{}, fmt.Errorf("%w: parameter %q given twice", ErrAuth, name)
		}
		if name != "key" && name != "created" && name != "sig" {
			return Auth{}, fmt.Errorf("%w: unknown parameter %q", ErrAuth, name)
		}
		params[name] = value
		rest = strings.TrimLeft(after[end+2:], " ")
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return Auth{}, fmt.Errorf("%w: parameters must be separated by commas", ErrAuth)
		}
		rest = strings.TrimLeft(rest[1:], " ")
		if rest == "" {
			return Auth{}, fmt.Errorf("%w: a comma ends the value", ErrAuth)
		}
	}
	var a Auth
	for _, name := range []string{"key", "created", "sig"} {
		if _, ok := params[name]; !ok {
			return Auth{}, fmt.Errorf("%w: parameter %q is missing", ErrAuth, name)
		}
	}
	if _, err := keys.ParseEd25519Multikey(params["key"]); err != nil {
		return Auth{}, fmt.Errorf("%w: key: %w", ErrAuth, err)
	}
	a.Key = params["key"]
	c := params["created"]
	if c == "" || len(c) > 12 || c[0] == '0' || strings.Trim(c, "0123456789") != "" {
		return Auth{}, fmt.Errorf("%w: created %q is not Unix seconds", ErrAuth, c)
	}
	a.Created, _ = strconv.ParseInt(c, 10, 64)
	sig, err := base64.RawURLEncoding.Strict().DecodeString(params["sig"])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Auth{}, fmt.Errorf("%w: sig is not %d bytes of base64url", ErrAuth, ed25519.SignatureSize)
	}
	a.Sig = sig
	return a, nil
}

// String returns the Authorization field value of a.
func (a Auth) String() string {
	return webvh.FileRequestAuthorization(a.Key, a.Created, a.Sig)
}

// SigningInput is what a DIDWebVH signature signs (webvh.FileRequestSigningInput, which
// the tab uses too).
func SigningInput(method, did, path string, body []byte, created int64) []byte {
	return webvh.FileRequestSigningInput(method, did, path, body, created)
}

// Sign returns the Authorization value for a request, signed with priv: for clients and
// tests (a tab signs with the vault's key in the same way).
func Sign(priv ed25519.PrivateKey, method, did, path string, body []byte, created time.Time) string {
	a := Auth{Key: keys.Ed25519Multikey(priv.Public().(ed25519.PublicKey)), Created: created.Unix()}
	a.Sig = ed25519.Sign(priv, SigningInput(method, did, path, body, a.Created))
	return a.String()
}

// verify checks a's signature over the request and its time against now.
func (a Auth) verify(method, did, path string, body []byte, now time.Time) error {
	created := time.Unix(a.Created, 0)
	if d := now.Sub(created); d > SignatureWindow || d < -SignatureWindow {
		return fmt.Errorf("%w: created %s is more than %s from the server's time %s", ErrAuth, created.UTC().Format(time.RFC3339), SignatureWindow, now.UTC().Format(time.RFC3339))
	}
	pub, err := keys.ParseEd25519Multikey(a.Key)
	if err != nil {
		return fmt.Errorf("%w: key: %w", ErrAuth, err)
	}
	if !ed25519.Verify(pub, SigningInput(method, did, path, body, a.Created), a.Sig) {
		return fmt.Errorf("%w: the signature does not verify", ErrAuth)
	}
	return nil
}

// maxRemembered bounds the replay cache. Only verified signatures by authorised keys enter
// it, so reaching it takes a key holder writing thousands of files in a few minutes.
const maxRemembered = 100_000

// replayCache remembers the signatures accepted within the window.
type replayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it may be forgotten
}

func newReplayCache() *replayCache { return &replayCache{seen: map[string]time.Time{}} }

// use records sig, valid until expires; it fails if sig was used already or the cache is
// full.
func (c *replayCache) use(sig []byte, expires, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[string(sig)]; ok {
		return fmt.Errorf("%w: this signature was used already (replay)", ErrAuth)
	}
	if len(c.seen) >= maxRemembered/2 {
		for s, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, s)
			}
		}
	}
	if len(c.seen) >= maxRemembered {
		return errReplayFull
	}
	c.seen[string(sig)] = expires
	return nil
}

var errReplayFull = errors.New("too many signed requests in the last minutes; try again shortly")
