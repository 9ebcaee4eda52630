package webvh

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Seeds of the fuzz tests are the files in testdata: the community's
// vectors (valid and negative) and PLANET's DID URL cases. Each FuzzX also
// runs its seeds as a normal test.

func addFileSeeds(f *testing.F, pattern string) {
	paths, _ := filepath.Glob(pattern)
	if len(paths) == 0 {
		f.Fatalf("no seeds match %s", pattern)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseLog checks that the log decoder refuses with ErrMalformed or
// gives entries that encode to a form that parses to itself, and that
// verification of whatever parses never panics and names what failed.
func FuzzParseLog(f *testing.F) {
	addFileSeeds(f, "testdata/vectors/*/*/did.jsonl")
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		log, err := ParseLog(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseLog: %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := log.MarshalJSONL()
		if err != nil {
			t.Fatalf("MarshalJSONL: %v", err)
		}
		again, err := ParseLog(enc)
		if err != nil {
			t.Fatalf("ParseLog(MarshalJSONL()): %v", err)
		}
		enc2, _ := again.MarshalJSONL()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
		versions, err := Verify(log, nil, time.Now())
		if err == nil && len(versions) != len(log) {
			t.Fatalf("Verify succeeded with %d of %d versions", len(versions), len(log))
		}
		if err != nil && len(versions) >= len(log) {
			t.Fatalf("Verify failed (%v) but returned every version", err)
		}
	})
}

// FuzzParseWitnessFile checks the witness file decoder the same way.
func FuzzParseWitnessFile(f *testing.F) {
	addFileSeeds(f, "testdata/vectors/*/*/did-witness.json")
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		wf, err := ParseWitnessFile(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseWitnessFile: %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := json.Marshal(wf)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseWitnessFile(enc)
		if err != nil {
			t.Fatalf("ParseWitnessFile(MarshalJSON()): %v", err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

func didURLCases(tb testing.TB) (ok, bad []string) {
	data, err := os.ReadFile("testdata/didurls.txt")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if kind, u, found := strings.Cut(line, " "); found && !strings.HasPrefix(line, "#") {
			if kind == "ok" {
				ok = append(ok, u)
			} else {
				bad = append(bad, u)
			}
		}
	}
	return ok, bad
}

func TestParseDIDURLs(t *testing.T) {
	ok, bad := didURLCases(t)
	for _, u := range ok {
		if _, err := ParseDIDURL(u); err != nil {
			t.Errorf("ParseDIDURL(%q) = %v", u, err)
		}
	}
	for _, u := range bad {
		if _, err := ParseDIDURL(u); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("ParseDIDURL(%q) = %v, want ErrInvalidDID", u, err)
		}
	}
}

// FuzzParseDIDURL checks that a DID URL either is refused with
// ErrInvalidDID or gives URLs that stay on the DID's host and under its
// directory.
func FuzzParseDIDURL(f *testing.F) {
	ok, bad := didURLCases(f)
	for _, u := range append(ok, bad...) {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseDIDURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDID) {
				t.Fatalf("ParseDIDURL(%q): %v does not wrap ErrInvalidDID", s, err)
			}
			return
		}
		base := u.DID.BaseURL()
		if !strings.HasPrefix(u.DID.LogURL(), base) || !strings.HasPrefix(base, "https://") {
			t.Fatalf("%q: log %s outside base %s", s, u.DID.LogURL(), base)
		}
		if u.Path == "" {
			return
		}
		file, err := u.DID.FileURL(u.Path)
		if err != nil {
			t.Fatalf("%q: FileURL: %v", s, err)
		}
		rest := strings.TrimPrefix(file, base)
		if !strings.HasPrefix(file, base) || strings.Contains("/"+rest+"/", "/../") || strings.Contains("/"+rest+"/", "/./") || strings.Contains(rest, "//") {
			t.Fatalf("%q: file %s escapes %s", s, file, base)
		}
	})
}
