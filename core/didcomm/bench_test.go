package didcomm

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"planet/core/did"
)

// BenchmarkAuthcryptRoundTrip is one message from Alice to Bob: a basic message of 1 KiB of
// text, authcrypted by Alice to Bob's key agreement key (X25519, ECDH-1PU+A256KW,
// A256CBC-HS512, the only content encryption of authcrypt), and unpacked by Bob, who checks
// who sent it and what it says. Both are did:peer:2 DIDs without services, resolved from the
// DID itself, as PLANET's relationship DIDs are. `make bench` runs it inside Chromium, beside
// didcomm-rust doing the same (web/test/bench/didcomm.js).
//
// Besides ns/op, the mean, it reports median-ns/msg: the median over batches of 10 messages of
// each batch's time per message (batches, because a page's clock may be coarse), after 20
// messages not timed, as the benchmark it is compared with measures.
func BenchmarkAuthcryptRoundTrip(b *testing.B) {
	const warm, batch = 20, 10
	alice, bob := newParty(b, "alice"), newParty(b, "bob")
	aliceKid := alice.did.String() + "#key-2"
	text := strings.Repeat("Tea at five? ", 1024/13+1)[:1024]
	ctx := context.Background()
	roundTrip := func() {
		now := time.Now()
		p, err := NewPlaintext("https://didcomm.org/basicmessage/2.0/message", map[string]string{"content": text}, now)
		if err != nil {
			b.Fatal(err)
		}
		p.From = alice.did
		p.To = []did.DID{bob.did}
		packed, err := Pack(ctx, p, bob.did, PackOptions{Resolver: did.Local, Keys: alice.keys, NoForward: true})
		if err != nil {
			b.Fatal(err)
		}
		got, meta, err := Unpack(ctx, did.Local, bob.keys, packed.Message, now)
		if err != nil {
			b.Fatal(err)
		}
		var body struct{ Content string }
		if err := json.Unmarshal(got.Body, &body); err != nil || body.Content != text || got.ID != p.ID ||
			!meta.Authenticated || meta.EncryptedFrom != aliceKid || meta.EncAuthcrypt != A256CBCHS512 {
			b.Fatalf("Bob read %+v, %+v, %v", got, meta, err)
		}
	}
	for range warm {
		roundTrip()
	}
	var perMsg []float64 // ns per message of each batch
	n, start := 0, time.Now()
	for b.Loop() {
		roundTrip()
		if n++; n == batch {
			perMsg = append(perMsg, float64(time.Since(start))/batch)
			n, start = 0, time.Now()
		}
	}
	if len(perMsg) > 0 {
		slices.Sort(perMsg)
		b.ReportMetric(perMsg[len(perMsg)/2], "median-ns/msg")
	}
}
