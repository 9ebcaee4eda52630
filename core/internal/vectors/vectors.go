// Package vectors reads the test vectors that PLANET's packages keep as data
// in their testdata folders, so that other implementations can share them.
// It is imported by tests only.
//
// Two shapes are read: line files (one case a line, see [Lines]) and the
// Ed25519 identity vectors that several layers check themselves against,
// embedded here because the keys, DIDs and identity all derive from them.
package vectors

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

// A Case is one string from a line file, with the comment lines that come
// right before it. The format is described at the top of the did package's
// testdata/did/valid.txt and testdata/did/invalid.txt: blank lines separate
// cases, "#" lines give the reason for the case that follows, and a case that
// starts with a double quote is a JSON string.
type Case struct {
	Line   int    // line number in the file, for messages
	Reason string // the comment lines before it, joined by spaces
	In     string
}

// Lines reads the line file testdata/name of the package under test.
func Lines(tb testing.TB, name string) []Case {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []Case
	var reason []string
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "":
			reason = nil
		case strings.HasPrefix(line, "#"):
			reason = append(reason, strings.TrimSpace(line[1:]))
		default:
			in := line
			if strings.HasPrefix(line, `"`) {
				if err := json.Unmarshal([]byte(line), &in); err != nil {
					tb.Fatalf("%s:%d: bad JSON string: %v", name, i+1, err)
				}
			}
			cases = append(cases, Case{Line: i + 1, Reason: strings.Join(reason, " "), In: in})
			reason = nil
		}
	}
	if len(cases) == 0 {
		tb.Fatalf("%s: no cases", name)
	}
	return cases
}

// Identity is one entry of testdata/identity/ed25519.json: an Ed25519 seed
// and everything PLANET derives from it.
type Identity struct {
	Seed                     string `json:"seed"` // hex
	PublicKeyBase58          string `json:"publicKeyBase58"`
	DID                      string `json:"did"`
	X25519PublicKeyMultibase string `json:"x25519PublicKeyMultibase"`
	X25519PrivateKeyBase58   string `json:"x25519PrivateKeyBase58"`
	PeerID                   string `json:"peerID"`
}

// SeedBytes returns the decoded seed.
func (v Identity) SeedBytes(tb testing.TB) []byte {
	tb.Helper()
	b, err := hex.DecodeString(v.Seed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// PublicKey returns the decoded Ed25519 public key.
func (v Identity) PublicKey(tb testing.TB) []byte {
	tb.Helper()
	b, err := base58.Decode(v.PublicKeyBase58)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

//go:embed testdata/identity/ed25519.json
var identityFile []byte

// Identities returns the identity vectors.
func Identities(tb testing.TB) []Identity {
	tb.Helper()
	var file struct {
		Vectors []Identity `json:"vectors"`
	}
	if err := json.Unmarshal(identityFile, &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no identity vectors")
	}
	return file.Vectors
}
