package graph

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/identity"
	"planet/core/internal/input"
	"planet/core/vc"
)

// graphDID returns the i-th test DID, a did:peer:0 whose id is i in
// fixed-width base58, so that the DIDs sort in the order of i.
func graphDID(tb testing.TB, i int) did.DID {
	tb.Helper()
	digits := []byte(strings.Repeat("1", 46)) // the shortest basis did:peer:0 takes
	for j := len(digits) - 1; i > 0; j-- {
		digits[j] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[i%58]
		i /= 58
	}
	d, err := did.Parse("did:peer:0z" + string(digits))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// people is a small cast for hand-made graphs; their DIDs sort in this order.
var people = []string{"Alice", "Bob", "Carol", "Dana", "Erin", "Frank", "Gina", "Hank"}

type cast struct {
	did  map[string]did.DID
	name map[did.DID]string
}

func newCast(tb testing.TB) *cast {
	c := &cast{did: map[string]did.DID{}, name: map[did.DID]string{}}
	for i, n := range people {
		d := graphDID(tb, i+1)
		c.did[n], c.name[d] = d, n
	}
	return c
}

// edge returns the two-sided edge between the people a and b, each saying
// ctx about the other.
func (c *cast) edge(a, b, ctx string) Edge {
	return Edge{
		A: c.did[a], B: c.did[b],
		AB: Claim{Credential: "urn:uuid:" + a + "-" + b, Context: ctx},
		BA: Claim{Credential: "urn:uuid:" + b + "-" + a, Context: ctx},
	}
}

func (c *cast) names(dids []did.DID) []string {
	var out []string
	for _, d := range dids {
		out = append(out, c.name[d])
	}
	return out
}

func (c *cast) pathNames(paths []Path) [][]string {
	var out [][]string
	for _, p := range paths {
		out = append(out, c.names(p.DIDs()))
	}
	return out
}

func mustAddEdges(tb testing.TB, g *Graph, edges ...Edge) {
	tb.Helper()
	for _, e := range edges {
		if err := g.AddEdge(e); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestTrustGraphPaths(t *testing.T) {
	c := newCast(t)
	g := New()
	// Alice – Bob – Carol – Dana – Erin, with Frank a second way from Alice
	// to Carol; Gina – Hank apart.
	mustAddEdges(t, g,
		c.edge("Alice", "Bob", "co-op"),
		c.edge("Bob", "Carol", "climbing"),
		c.edge("Carol", "Dana", "work"),
		c.edge("Dana", "Erin", "school"),
		c.edge("Frank", "Alice", "choir"), // either order
		c.edge("Carol", "Frank", "choir"),
		c.edge("Gina", "Hank", "neighbours"),
	)
	tests := []struct {
		name     string
		from, to string
		maxHops  int
		want     [][]string
	}{
		{"direct", "Alice", "Bob", 3, [][]string{{"Alice", "Bob"}}},
		{"direct backwards", "Bob", "Alice", 1, [][]string{{"Bob", "Alice"}}},
		{"two hops, two ways", "Alice", "Carol", 3, [][]string{{"Alice", "Bob", "Carol"}, {"Alice", "Frank", "Carol"}}},
		{"two hops, from the other end", "Carol", "Alice", 2, [][]string{{"Carol", "Bob", "Alice"}, {"Carol", "Frank", "Alice"}}},
		{"three hops", "Alice", "Dana", 3, [][]string{{"Alice", "Bob", "Carol", "Dana"}, {"Alice", "Frank", "Carol", "Dana"}}},
		{"three hops, two allowed", "Alice", "Dana", 2, nil},
		{"two hops, one allowed", "Bob", "Dana", 1, nil},
		{"only the shortest", "Bob", "Frank", 3, [][]string{{"Bob", "Alice", "Frank"}, {"Bob", "Carol", "Frank"}}},
		{"four hops", "Alice", "Erin", 3, nil},
		{"three hops from the far end", "Erin", "Bob", 3, [][]string{{"Erin", "Dana", "Carol", "Bob"}}},
		{"not connected", "Alice", "Gina", 3, nil},
		{"same person", "Alice", "Alice", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths, err := g.Paths(c.did[tt.from], c.did[tt.to], tt.maxHops)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.pathNames(paths); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Paths(%s, %s, %d) = %v, want %v", tt.from, tt.to, tt.maxHops, got, tt.want)
			}
			checkPaths(t, paths)
		})
	}

	stranger := graphDID(t, 999)
	if paths, err := g.Paths(c.did["Alice"], stranger, 3); paths != nil || err != nil {
		t.Errorf("Paths to a DID not in the graph = %v, %v; want none", paths, err)
	}
	for _, hops := range []int{0, -1, MaxHops + 1} {
		if _, err := g.Paths(c.did["Alice"], c.did["Bob"], hops); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("Paths with %d hops: err = %v, want input.ErrInvalid", hops, err)
		}
	}
}

// checkPaths checks what every path must be: steps that follow each other,
// each across an edge between its two people.
func checkPaths(tb testing.TB, paths []Path) {
	tb.Helper()
	if len(paths) > MaxPaths {
		tb.Errorf("%d paths, more than %d", len(paths), MaxPaths)
	}
	for _, p := range paths {
		if len(p) != len(paths[0]) {
			tb.Errorf("paths of different lengths: %d and %d", len(paths[0]), len(p))
		}
		for i, s := range p {
			if i > 0 && p[i-1].To != s.From {
				tb.Errorf("step %d starts at %s, not where step %d ended", i, s.From, i-1)
			}
			if s.Edge.Other(s.From) != s.To || s.From == s.To {
				tb.Errorf("step %d from %s to %s is across the edge %s – %s", i, s.From, s.To, s.Edge.A, s.Edge.B)
			}
		}
	}
}

func TestTrustGraphMaxPaths(t *testing.T) {
	// Twelve people between Alice and Bob: twelve shortest paths, of which
	// the first ten by DID come back.
	g := New()
	alice, bob := graphDID(t, 0), graphDID(t, 100)
	var want [][]did.DID
	for i := 1; i <= 12; i++ {
		m := graphDID(t, i)
		mustAddEdges(t, g,
			Edge{A: alice, B: m, AB: Claim{Credential: fmt.Sprint("a", i)}},
			Edge{A: m, B: bob, BA: Claim{Credential: fmt.Sprint("b", i)}})
		if i <= MaxPaths {
			want = append(want, []did.DID{alice, m, bob})
		}
	}
	paths, err := g.Paths(alice, bob, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]did.DID
	for _, p := range paths {
		got = append(got, p.DIDs())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Paths = %v, want %v", got, want)
	}
}

func TestTrustGraphCredentials(t *testing.T) {
	alice, bob, carol := testIdentity(t, 0xa1), testIdentity(t, 0xb0), testIdentity(t, 0xc0)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	issue := func(from *identity.Identity, to did.DID, ctx vc.RelationshipContext) *vc.Credential {
		t.Helper()
		c, err := vc.IssueRelationship(from, to, ctx, now, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	names := map[did.DID]string{bob.DID(): "Bob", carol.DID(): "Carol"}
	name := func(d did.DID) string { return names[d] }

	g := New()
	ab := issue(alice, bob.DID(), vc.RelationshipContext{Context: "met at the co-op AGM"})
	if err := g.AddCredential(ab); err != nil {
		t.Fatal(err)
	}
	conns := g.Connections(alice.DID(), "")
	if len(conns) != 1 || !conns[0].Edge.OneSided() || !reflect.DeepEqual(conns[0].Edge.Credentials(), []string{ab.ID}) {
		t.Fatalf("after one credential, Connections = %+v, want one one-sided edge", conns)
	}
	paths, _ := g.Paths(alice.DID(), bob.DID(), 1)
	if got, want := paths[0].Explain(alice.DID(), name), "You know Bob (met at the co-op AGM); only you have signed for it."; got != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}

	ba := issue(bob, alice.DID(), vc.RelationshipContext{Context: "co-op"})
	if err := g.AddCredential(ba); err != nil {
		t.Fatal(err)
	}
	conns = g.Connections(alice.DID(), "")
	if len(conns) != 1 || conns[0].Edge.OneSided() || conns[0].To != bob.DID() {
		t.Fatalf("after both credentials, Connections = %+v, want one two-sided edge to Bob", conns)
	}
	e := conns[0].Edge
	if got, want := e.ClaimBy(alice.DID()).Credential, ab.ID; got != want {
		t.Errorf("Alice's claim has credential %s, want %s", got, want)
	}
	if got, want := e.ClaimBy(bob.DID()).Credential, ba.ID; got != want {
		t.Errorf("Bob's claim has credential %s, want %s", got, want)
	}
	if got := e.Credentials(); len(got) != 2 || !slices.Contains(got, ab.ID) || !slices.Contains(got, ba.ID) {
		t.Errorf("Credentials = %v, want both", got)
	}

	// Bob shares his relationship with Carol, whom Dana introduced him to;
	// only Carol's side of it so far.
	dana := graphDID(t, 4)
	names[dana] = "Dana"
	cb := issue(carol, bob.DID(), vc.RelationshipContext{Context: "climbing partners", IntroducedBy: dana})
	if err := g.AddShared(bob.DID(), cb); err != nil {
		t.Fatal(err)
	}
	bc := issue(bob, carol.DID(), vc.RelationshipContext{Context: "climbing partners", IntroducedBy: dana})
	if err := g.AddShared(bob.DID(), bc); err != nil {
		t.Fatal(err)
	}
	paths, err := g.Paths(alice.DID(), carol.DID(), 3)
	if err != nil || len(paths) != 1 {
		t.Fatalf("Paths to Carol = %v, %v; want one", paths, err)
	}
	want := "You know Bob (met at the co-op AGM). Bob knows Carol (introduced by Dana: climbing partners)."
	if got := paths[0].Explain(alice.DID(), name); got != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}
	if got := paths[0][1].Edge; got.SharedBy != bob.DID() || got.OneSided() {
		t.Errorf("second step's edge = %+v, want a two-sided edge shared by Bob", got)
	}
	// Unnamed people are shown by a short DID.
	if got := paths[0].Explain(alice.DID(), nil); !strings.Contains(got, did.Short(carol.DID())) || !strings.Contains(got, "…") {
		t.Errorf("Explain without names = %q, want Carol's short DID", got)
	}

	// Bob can share only his own relationships.
	if err := g.AddShared(carol.DID(), ab); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("AddShared of someone else's relationship: err = %v, want input.ErrInvalid", err)
	}
	bad := *ab
	bad.Type = []string{vc.TypeVerifiableCredential, vc.TypeDTGCredential, vc.TypeMembershipCredential}
	for _, c := range []*vc.Credential{nil, &bad} {
		if err := g.AddCredential(c); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("AddCredential(%v): err = %v, want input.ErrInvalid", c, err)
		}
	}
}

func TestTrustGraphRevokeShared(t *testing.T) {
	c := newCast(t)
	g := New()
	shared := func(by string, e Edge) Edge { e.SharedBy = c.did[by]; return e }
	mustAddEdges(t, g,
		c.edge("Alice", "Bob", "mine"),
		c.edge("Alice", "Frank", "mine"),
		shared("Bob", c.edge("Alice", "Bob", "as Bob tells it")),
		shared("Bob", c.edge("Bob", "Carol", "Bob's")),
		shared("Bob", c.edge("Bob", "Dana", "Bob's")),
		shared("Frank", c.edge("Frank", "Dana", "Frank's")),
	)
	alice := c.did["Alice"]
	paths := func(to string) [][]string {
		t.Helper()
		p, err := g.Paths(alice, c.did[to], 3)
		if err != nil {
			t.Fatal(err)
		}
		return c.pathNames(p)
	}
	if got, want := paths("Carol"), [][]string{{"Alice", "Bob", "Carol"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("before revoking, paths to Carol = %v, want %v", got, want)
	}
	if got, want := paths("Dana"), [][]string{{"Alice", "Bob", "Dana"}, {"Alice", "Frank", "Dana"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("before revoking, paths to Dana = %v, want %v", got, want)
	}
	// The person's own edge is the one shown, not Bob's copy of it.
	if conns := g.Connections(alice, ""); len(conns) != 2 || conns[0].Edge.Shared() || conns[0].Edge.AB.Context != "mine" {
		t.Errorf("Connections = %+v, want own edges", conns)
	}

	if n := g.RevokeShared(c.did["Bob"]); n != 3 {
		t.Errorf("RevokeShared(Bob) removed %d edges, want 3", n)
	}
	if got := paths("Carol"); got != nil {
		t.Errorf("after revoking, paths to Carol = %v, want none", got)
	}
	if got, want := paths("Dana"), [][]string{{"Alice", "Frank", "Dana"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after revoking, paths to Dana = %v, want %v", got, want)
	}
	if got, want := c.names(dids(g.Connections(alice, ""))), []string{"Bob", "Frank"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after revoking, connections = %v, want %v", got, want)
	}
	if n := g.RevokeShared(c.did["Bob"]); n != 0 {
		t.Errorf("second RevokeShared(Bob) removed %d edges, want 0", n)
	}
}

func dids(steps []Step) []did.DID {
	var out []did.DID
	for _, s := range steps {
		out = append(out, s.To)
	}
	return out
}

func TestTrustGraphConnectionsAndMutual(t *testing.T) {
	c := newCast(t)
	g := New()
	carolAlice := c.edge("Carol", "Alice", "")
	carolAlice.BA.Context = "Met at the Co-op AGM" // Alice's words
	oneSided := c.edge("Alice", "Erin", "co-op board")
	oneSided.BA = Claim{}
	mustAddEdges(t, g,
		c.edge("Alice", "Bob", "climbing"),
		carolAlice,
		c.edge("Alice", "Dana", "work"),
		oneSided,
		c.edge("Bob", "Carol", "co-op"),
		c.edge("Bob", "Dana", "school"),
		c.edge("Carol", "Dana", "work"),
		c.edge("Gina", "Hank", "co-op"),
	)
	alice := c.did["Alice"]
	tests := []struct {
		filter string
		want   []string
	}{
		{"", []string{"Bob", "Carol", "Dana", "Erin"}},
		{"CO-OP", []string{"Carol", "Erin"}},
		{"agm", []string{"Carol"}},
		{"climb", []string{"Bob"}},
		{"knitting", nil},
	}
	for _, tt := range tests {
		steps := g.Connections(alice, tt.filter)
		if got := c.names(dids(steps)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Connections(Alice, %q) = %v, want %v", tt.filter, got, tt.want)
		}
		for _, s := range steps {
			if s.From != alice || s.Edge.Other(alice) != s.To {
				t.Errorf("Connections(Alice, %q) step %+v is not from Alice across its edge", tt.filter, s)
			}
			if got := s.Edge.OneSided(); got != (c.name[s.To] == "Erin") {
				t.Errorf("edge to %s one-sided = %v", c.name[s.To], got)
			}
		}
	}
	if got := g.Connections(graphDID(t, 999), ""); got != nil {
		t.Errorf("Connections of a stranger = %v, want none", got)
	}

	mutual := []struct {
		a, b string
		want []string
	}{
		{"Alice", "Bob", []string{"Carol", "Dana"}},
		{"Bob", "Alice", []string{"Carol", "Dana"}},
		{"Alice", "Carol", []string{"Bob", "Dana"}},
		{"Erin", "Bob", []string{"Alice"}},
		{"Alice", "Gina", nil},
		{"Alice", "Alice", nil},
	}
	for _, tt := range mutual {
		if got := c.names(g.Mutual(c.did[tt.a], c.did[tt.b])); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Mutual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestTrustGraphAddEdgeRefuses(t *testing.T) {
	c := newCast(t)
	g := New()
	noClaims := c.edge("Alice", "Bob", "")
	noClaims.AB, noClaims.BA = Claim{}, Claim{}
	sharedByStranger := c.edge("Alice", "Bob", "")
	sharedByStranger.SharedBy = c.did["Carol"]
	for name, e := range map[string]Edge{
		"no one":             {},
		"one person":         {A: c.did["Alice"], AB: Claim{Credential: "x"}},
		"the same person":    {A: c.did["Alice"], B: c.did["Alice"], AB: Claim{Credential: "x"}},
		"no credentials":     noClaims,
		"shared by stranger": sharedByStranger,
	} {
		if err := g.AddEdge(e); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("AddEdge(%s): err = %v, want input.ErrInvalid", name, err)
		}
	}
	if edges := g.Edges(); len(edges) != 0 {
		t.Errorf("refused edges were added: %v", edges)
	}
}

func TestTrustGraphJSON(t *testing.T) {
	c := newCast(t)
	oneSided := c.edge("Bob", "Carol", "")
	oneSided.AB = Claim{}
	oneSided.BA.IntroducedBy = c.did["Dana"]
	oneSided.SharedBy = c.did["Bob"]
	edges := []Edge{c.edge("Alice", "Bob", "co-op"), oneSided}

	g1, g2 := New(), New()
	mustAddEdges(t, g1, edges...)
	slices.Reverse(edges)
	mustAddEdges(t, g2, edges...)
	b1, err := g1.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := g2.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Errorf("the same graph exported differently:\n%s\n%s", b1, b2)
	}
	d := func(n string) string { return c.did[n].String() }
	want := `{"nodes":["` + d("Alice") + `","` + d("Bob") + `","` + d("Carol") + `"],"edges":[` +
		`{"a":"` + d("Alice") + `","b":"` + d("Bob") + `",` +
		`"ab":{"credential":"urn:uuid:Alice-Bob","context":"co-op"},` +
		`"ba":{"credential":"urn:uuid:Bob-Alice","context":"co-op"}},` +
		`{"a":"` + d("Bob") + `","b":"` + d("Carol") + `",` +
		`"ba":{"credential":"urn:uuid:Carol-Bob","introducedBy":"` + d("Dana") + `"},` +
		`"oneSided":true,"sharedBy":"` + d("Bob") + `"}]}`
	if string(b1) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", b1, want)
	}
	if b, err := New().MarshalJSON(); err != nil || string(b) != `{"nodes":[],"edges":[]}` {
		t.Errorf("empty graph = %s, %v", b, err)
	}
}

func TestShortDID(t *testing.T) {
	id := testIdentity(t, 0xa1).DID()
	s := id.String()
	if got, want := did.Short(id), s[:len("did:key:")+6]+"…"+s[len(s)-4:]; got != want {
		t.Errorf("ShortDID = %q, want %q", got, want)
	}
	if got := did.Short(did.DID{}); got != "" {
		t.Errorf("ShortDID of the zero DID = %q", got)
	}
}

// refGraph is a brute-force model of a trust graph: every edge in a map, and
// queries by looking at all of them.
type refGraph map[edgeKey]Edge

// shown returns the edge between a and b that queries show, if any.
func (r refGraph) shown(a, b did.DID) (Edge, bool) {
	var best Edge
	found := false
	for _, e := range r {
		if (e.A == a && e.B == b || e.A == b && e.B == a) &&
			(!found || e.SharedBy.String() < best.SharedBy.String()) {
			best, found = e, true
		}
	}
	return best, found
}

func (r refGraph) neighbours(d did.DID) []did.DID {
	var out []did.DID
	for _, e := range r {
		if o := e.Other(d); !o.IsZero() && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(p, q did.DID) int { return strings.Compare(p.String(), q.String()) })
	return out
}

// paths lists every simple path of up to maxHops steps, keeps the shortest,
// and sorts them by their DIDs.
func (r refGraph) paths(from, to did.DID, maxHops int) []Path {
	if from == to {
		return nil
	}
	var all []Path
	var walk func(p Path, at did.DID)
	walk = func(p Path, at did.DID) {
		if at == to {
			all = append(all, slices.Clone(p))
			return
		}
		if len(p) == maxHops {
			return
		}
		for _, n := range r.neighbours(at) {
			if n == from || slices.ContainsFunc(p, func(s Step) bool { return s.To == n }) {
				continue
			}
			e, _ := r.shown(at, n)
			walk(append(p, Step{From: at, To: n, Edge: e}), n)
		}
	}
	walk(nil, from)
	if len(all) == 0 {
		return nil
	}
	shortest := slices.MinFunc(all, func(p, q Path) int { return cmp.Compare(len(p), len(q)) })
	all = slices.DeleteFunc(all, func(p Path) bool { return len(p) != len(shortest) })
	slices.SortFunc(all, func(p, q Path) int {
		for i := range p {
			if c := strings.Compare(p[i].To.String(), q[i].To.String()); c != 0 {
				return c
			}
		}
		return 0
	})
	return all[:min(len(all), MaxPaths)]
}

func TestTrustGraphRandom(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 4 + rng.IntN(20)
		nodes := make([]did.DID, n)
		for i := range nodes {
			// Sparse ids, so that DID order is not insertion order.
			nodes[i] = graphDID(t, rng.IntN(1_000_000))
		}
		g, ref := New(), refGraph{}
		m := rng.IntN(3 * n)
		for i := range m {
			a, b := nodes[rng.IntN(n)], nodes[rng.IntN(n)]
			if a == b {
				continue
			}
			e := Edge{A: a, B: b}
			switch rng.IntN(4) {
			case 0:
				e.AB = Claim{Credential: fmt.Sprint("ab", i)}
			case 1:
				e.BA = Claim{Credential: fmt.Sprint("ba", i), Context: "x"}
			default:
				e.AB = Claim{Credential: fmt.Sprint("ab", i)}
				e.BA = Claim{Credential: fmt.Sprint("ba", i)}
			}
			switch rng.IntN(3) {
			case 0:
				e.SharedBy = a
			case 1:
				e.SharedBy = b
			}
			mustAddEdges(t, g, e)
			e = e.normalize()
			ref[edgeKey{e.A, e.B, e.SharedBy}] = e
		}
		if rng.IntN(2) == 0 {
			by := nodes[rng.IntN(n)]
			g.RevokeShared(by)
			for k := range ref {
				if k.sharedBy == by {
					delete(ref, k)
				}
			}
		}

		for _, from := range nodes {
			var wantConns []Step
			for _, to := range ref.neighbours(from) {
				e, _ := ref.shown(from, to)
				wantConns = append(wantConns, Step{From: from, To: to, Edge: e})
			}
			if got := g.Connections(from, ""); !reflect.DeepEqual(got, wantConns) {
				t.Fatalf("seed %d: Connections(%s) = %v, want %v", seed, from, got, wantConns)
			}
			for _, to := range nodes {
				var wantMutual []did.DID
				if from != to {
					for _, d := range ref.neighbours(from) {
						if slices.Contains(ref.neighbours(to), d) {
							wantMutual = append(wantMutual, d)
						}
					}
				}
				if got := g.Mutual(from, to); !reflect.DeepEqual(got, wantMutual) {
					t.Fatalf("seed %d: Mutual(%s, %s) = %v, want %v", seed, from, to, got, wantMutual)
				}
				for hops := 1; hops <= MaxHops; hops++ {
					got, err := g.Paths(from, to, hops)
					if err != nil {
						t.Fatal(err)
					}
					if want := ref.paths(from, to, hops); !reflect.DeepEqual(got, want) {
						t.Fatalf("seed %d: Paths(%s, %s, %d) =\n%v\nwant\n%v", seed, from, to, hops, got, want)
					}
					checkPaths(t, got)
					// Property: a connection reads the same both ways.
					back, _ := g.Paths(to, from, hops)
					if len(got) < MaxPaths && !samePathsReversed(got, back) {
						t.Fatalf("seed %d: Paths(%s, %s, %d) are not those of the other way reversed", seed, from, to, hops)
					}
				}
			}
		}
	}
}

// samePathsReversed reports whether q holds the paths of p walked backwards,
// in any order.
func samePathsReversed(p, q []Path) bool {
	if len(p) != len(q) {
		return false
	}
	key := func(dids []did.DID) string {
		var b strings.Builder
		for _, d := range dids {
			b.WriteString(d.String() + " ")
		}
		return b.String()
	}
	want := map[string]bool{}
	for _, path := range p {
		dids := path.DIDs()
		slices.Reverse(dids)
		want[key(dids)] = true
	}
	for _, path := range q {
		if !want[key(path.DIDs())] {
			return false
		}
	}
	return true
}

func TestTrustGraphConcurrent(t *testing.T) {
	c := newCast(t)
	g := New()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				a, b := people[(i+j)%len(people)], people[(i+j+1)%len(people)]
				if err := g.AddEdge(c.edge(a, b, "")); err != nil {
					t.Error(err)
				}
				if _, err := g.Paths(c.did["Alice"], c.did[b], 3); err != nil {
					t.Error(err)
				}
				g.Mutual(c.did[a], c.did[b])
				g.RevokeShared(c.did[a])
			}
		})
	}
	wg.Wait()
	if paths, _ := g.Paths(c.did["Alice"], c.did["Dana"], 3); len(paths) != 1 {
		t.Errorf("Paths around the ring = %v, want one", c.pathNames(paths))
	}
}

// smallWorld builds a Watts–Strogatz graph of n people and n*k/2
// relationships: a ring where each person knows the k nearest, with one
// relationship in ten rewired to someone random.
func smallWorld(tb testing.TB, n, k int, seed uint64) (*Graph, []did.DID) {
	rng := rand.New(rand.NewPCG(seed, 0))
	nodes := make([]did.DID, n)
	for i := range nodes {
		nodes[i] = graphDID(tb, i)
	}
	g := New()
	for i := range n {
		for j := 1; j <= k/2; j++ {
			b := (i + j) % n
			if rng.IntN(10) == 0 {
				b = rng.IntN(n)
			}
			if b == i {
				continue
			}
			e := Edge{
				A: nodes[i], B: nodes[b],
				AB: Claim{Credential: fmt.Sprintf("urn:uuid:%d-%d", i, b), Context: "neighbours"},
				BA: Claim{Credential: fmt.Sprintf("urn:uuid:%d-%d", b, i)},
			}
			if err := g.AddEdge(e); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return g, nodes
}

func BenchmarkPaths100k(b *testing.B) {
	g, nodes := smallWorld(b, 20_000, 10, 1)
	if got := len(g.Edges()); got < 99_000 {
		b.Fatalf("graph has %d edges", got)
	}
	g.query() // build the index, once, outside the timing
	rng := rand.New(rand.NewPCG(2, 0))

	// Random pairs are mostly more than three hops apart, which costs the
	// most: both searches run to the end. Near pairs are found.
	random := make([][2]did.DID, 1024)
	for i := range random {
		random[i] = [2]did.DID{nodes[rng.IntN(len(nodes))], nodes[rng.IntN(len(nodes))]}
	}
	near := make([][2]did.DID, 1024)
	for i := range near {
		s := rng.IntN(len(nodes))
		near[i] = [2]did.DID{nodes[s], nodes[(s+12+rng.IntN(4))%len(nodes)]}
	}
	for _, bc := range []struct {
		name  string
		pairs [][2]did.DID
	}{{"random", random}, {"near", near}} {
		b.Run(bc.name, func(b *testing.B) {
			found := 0
			i := 0
			for b.Loop() {
				p := bc.pairs[i%len(bc.pairs)]
				paths, err := g.Paths(p[0], p[1], MaxHops)
				if err != nil {
					b.Fatal(err)
				}
				if len(paths) > 0 {
					found++
				}
				i++
			}
			b.ReportMetric(float64(found)/float64(i), "found/op")
		})
	}
}

func BenchmarkTrustGraphIndex100k(b *testing.B) {
	g, _ := smallWorld(b, 20_000, 10, 1)
	for b.Loop() {
		g.mu.Lock()
		g.index = nil
		g.mu.Unlock()
		g.query()
	}
}

func testIdentity(tb testing.TB, b byte) *identity.Identity {
	tb.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
