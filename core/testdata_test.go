package core

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

// testCase is one string from a vector file in testdata, with the comment
// lines that come right before it. The format is described at the top of
// testdata/did/valid.txt and testdata/did/invalid.txt.
type testCase struct {
	line   int    // line number in the file, for messages
	reason string // the comment lines before it, joined by spaces
	in     string
}

func readCases(tb testing.TB, name string) []testCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []testCase
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
			cases = append(cases, testCase{line: i + 1, reason: strings.Join(reason, " "), in: in})
			reason = nil
		}
	}
	if len(cases) == 0 {
		tb.Fatalf("%s: no cases", name)
	}
	return cases
}

// identityVector is one entry of testdata/identity/ed25519.json.
type identityVector struct {
	Seed                     string `json:"seed"` // hex
	PublicKeyBase58          string `json:"publicKeyBase58"`
	DID                      string `json:"did"`
	X25519PublicKeyMultibase string `json:"x25519PublicKeyMultibase"`
	X25519PrivateKeyBase58   string `json:"x25519PrivateKeyBase58"`
	PeerID                   string `json:"peerID"`
}

func (v identityVector) seed(tb testing.TB) []byte {
	tb.Helper()
	b, err := hex.DecodeString(v.Seed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (v identityVector) publicKey(tb testing.TB) []byte {
	tb.Helper()
	b, err := base58.Decode(v.PublicKeyBase58)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func readIdentityVectors(tb testing.TB) []identityVector {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "identity", "ed25519.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Vectors []identityVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no identity vectors")
	}
	return file.Vectors
}
