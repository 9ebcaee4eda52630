package main

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"planet/core/did/webvh"
)

// BenchmarkResolve100 times what a tab does with a did:webvh log it has
// fetched: parse did.jsonl and resolve it, verifying every entry (hash
// chain, proofs, pre-rotation commitments). It reports the median time of
// one resolution (median-ns/op) beside Go's mean, and prints the log's
// SHA-256 and size so that the bench can check that its baseline resolved
// the same bytes.
func BenchmarkResolve100(b *testing.B) {
	log, err := Make()
	if err != nil {
		b.Fatal(err)
	}
	data, err := log.MarshalJSONL()
	if err != nil {
		b.Fatal(err)
	}
	id, err := webvh.ParseDID(log[0].State["id"].(string))
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("webvh-log sha256=%x bytes=%d entries=%d\n", sha256.Sum256(data), len(data), len(log))
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		l, err := webvh.ParseLog(data)
		if err != nil {
			b.Fatal(err)
		}
		res, err := webvh.Resolve(id, l, nil, webvh.Query{}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		if res.Metadata.VersionID != log[len(log)-1].VersionID {
			b.Fatalf("resolved version %s, want %s", res.Metadata.VersionID, log[len(log)-1].VersionID)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns/op")
}

// TestMake checks that the log resolves to its last version, under
// pre-rotation to the end.
func TestMake(t *testing.T) {
	log, err := Make()
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != Entries {
		t.Fatalf("%d entries, want %d", len(log), Entries)
	}
	versions, err := webvh.Verify(log, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if last := versions[len(versions)-1]; !last.Parameters.PreRotation() {
		t.Fatal("the last version is not under pre-rotation")
	}
}
