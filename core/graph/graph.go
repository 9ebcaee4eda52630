// Package graph is the trust graph: the person's own relationships and
// those their contacts chose to share with them, held in memory, and the
// questions the person can ask of it (connections, mutual acquaintances,
// paths of up to [MaxHops] with their evidence). There are no scores and no
// ranks: the graph only says who knows whom, in whose words, and which
// signed credentials show it.
package graph

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/vc"
)

// MaxHops is the most hops [Graph.Paths] looks across. Beyond three
// the people on a path are strangers to the person asking, and a path through
// them explains nothing.
const MaxHops = 3

// MaxPaths is the most paths [Graph.Paths] returns: the first ones in
// the order of their DIDs. More would not help the person understand how they
// are connected, and the number of shortest paths between two well-connected
// people can grow with the square of their contacts.
const MaxPaths = 10

// Claim is one direction of a relationship: what one person's
// RelationshipCredential says about the other.
type Claim struct {
	// Credential is the id of the credential ("urn:uuid:…"), the evidence
	// for the claim; "" if the graph holds no credential for this
	// direction.
	Credential string
	// Context is how the issuer knows the other person, in the issuer's
	// own words; "" if they gave none.
	Context string
	// IntroducedBy is who introduced them, or the zero DID.
	IntroducedBy did.DID
}

// IsZero reports whether the graph holds no credential for c's direction.
func (c Claim) IsZero() bool { return c.Credential == "" }

// Edge is one relationship between two people, as one source tells it.
//
// A connection is a pair of signed RelationshipCredentials, one issued by
// each person about the other; an edge holds the two as claims, AB (A's
// credential about B) and BA. An edge with only one of them is one-sided
// ([Edge.OneSided]): one person says they know the other, who has not said
// so back, or whose credential the graph has not seen.
//
// The same two people may have several edges, one per source: the person's
// own relationship (SharedBy zero) and one for each contact who shared it.
//
// Its fields are plain values (strings and DIDs, no pointers or maps) so that
// the vault can keep an edge as a record of numbered keys, in field order.
type Edge struct {
	A, B     did.DID // the two people, A's DID sorting before B's
	AB, BA   Claim   // A's credential about B, and B's about A
	SharedBy did.DID // the contact who shared the edge; zero for the person's own
}

// OneSided reports whether the graph holds only one of the edge's two
// credentials.
func (e Edge) OneSided() bool { return e.AB.IsZero() != e.BA.IsZero() }

// Shared reports whether the edge came from a contact's shared relationships
// rather than from the person's own.
func (e Edge) Shared() bool { return !e.SharedBy.IsZero() }

// ClaimBy returns what d's credential says about the other person, or the
// zero Claim if d is not on the edge or the graph holds no credential of d's.
func (e Edge) ClaimBy(d did.DID) Claim {
	switch d {
	case e.A:
		return e.AB
	case e.B:
		return e.BA
	}
	return Claim{}
}

// Other returns the person on the edge who is not d: B for A, A for B, and
// the zero DID for anyone else.
func (e Edge) Other(d did.DID) did.DID {
	switch d {
	case e.A:
		return e.B
	case e.B:
		return e.A
	}
	return did.DID{}
}

// Credentials returns the ids of the credentials the graph holds for the
// edge, A's first: the evidence that the two people know each other.
func (e Edge) Credentials() []string {
	var ids []string
	for _, c := range []Claim{e.AB, e.BA} {
		if !c.IsZero() {
			ids = append(ids, c.Credential)
		}
	}
	return ids
}

// contextFrom returns the relationship's context as from tells it, falling
// back to the other person's words, and who introduced them.
func (e Edge) contextFrom(from did.DID) (context string, introducer did.DID) {
	mine, theirs := e.ClaimBy(from), e.ClaimBy(e.Other(from))
	context = cmp.Or(mine.Context, theirs.Context)
	introducer = cmp.Or(mine.IntroducedBy, theirs.IntroducedBy)
	return context, introducer
}

// normalize orders e's people by DID, swapping their claims with them.
func (e Edge) normalize() Edge {
	if e.B.String() < e.A.String() {
		e.A, e.B = e.B, e.A
		e.AB, e.BA = e.BA, e.AB
	}
	return e
}

// Step is one hop of a [Path], or one of the person's connections: from one
// person to another across the edge that joins them.
type Step struct {
	From, To did.DID
	Edge     Edge
}

// Path is a chain of relationships from one person to another, each step
// with its edge and so its credentials as evidence.
type Path []Step

// DIDs returns the people along p, its start first; nil for an empty path.
func (p Path) DIDs() []did.DID {
	if len(p) == 0 {
		return nil
	}
	dids := []did.DID{p[0].From}
	for _, s := range p {
		dids = append(dids, s.To)
	}
	return dids
}

// Explain tells p in words, one sentence a step, such as
//
//	You know Bob (met at the co-op AGM). Bob knows Carol (introduced by Dana: climbing partners).
//
// me is the person reading, who is "you"; name gives the names they know
// their contacts by, and may be nil or return "" for people they have no
// name for, who are shown by a shortened DID. Each step uses the context in
// the words of the person it starts from, or failing those the other
// person's; a one-sided step says whose credential alone vouches for it.
func (p Path) Explain(me did.DID, name func(did.DID) string) string {
	who := func(d did.DID) string {
		if d == me {
			return "you"
		}
		if name != nil {
			if n := name(d); n != "" {
				return n
			}
		}
		return did.Short(d)
	}
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s.From == me {
			fmt.Fprintf(&b, "You know %s", who(s.To))
		} else {
			fmt.Fprintf(&b, "%s knows %s", who(s.From), who(s.To))
		}
		context, introducer := s.Edge.contextFrom(s.From)
		switch {
		case !introducer.IsZero() && context != "":
			fmt.Fprintf(&b, " (introduced by %s: %s)", who(introducer), context)
		case !introducer.IsZero():
			fmt.Fprintf(&b, " (introduced by %s)", who(introducer))
		case context != "":
			fmt.Fprintf(&b, " (%s)", context)
		}
		if s.Edge.OneSided() {
			signer := s.Edge.A
			if s.Edge.AB.IsZero() {
				signer = s.Edge.B
			}
			if signer == me {
				b.WriteString("; only you have signed for it")
			} else {
				fmt.Fprintf(&b, "; only %s has signed for it", who(signer))
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// Graph is the person's trust graph, in memory: their own relationships
// and those their contacts chose to share with them.
//
// It takes credentials that the caller has verified (see [Verify]); it does
// not verify them again. Its methods may be called from several goroutines.
// Queries work on an index of the graph that the first query after a change
// builds, so that a path query stays fast on a large graph: build the graph,
// then ask.
type Graph struct {
	mu    sync.Mutex
	edges map[edgeKey]Edge
	index *graphIndex // nil after a change, until the next query
}

// edgeKey names one edge: the two people, ordered, and its source.
type edgeKey struct{ a, b, sharedBy did.DID }

// New returns an empty trust graph.
func New() *Graph {
	return &Graph{edges: make(map[edgeKey]Edge)}
}

// AddCredential adds one of the person's own RelationshipCredentials, one
// they issued or one issued to them, which the caller has verified. The two
// credentials of a connection make one edge, whichever comes first; a later
// credential for the same direction replaces the earlier one, as a renewal
// would.
//
// It refuses, with an error wrapping [input.ErrInvalid], a credential that is not a
// RelationshipCredential or lacks an id, an issuer or a subject, or whose
// subject is its issuer.
func (g *Graph) AddCredential(c *vc.Credential) error {
	return g.addCredential(c, did.DID{})
}

// AddShared adds a RelationshipCredential that the contact by shared with the
// person: one by issued, or one issued to by. A contact shares only their own
// relationships, so a credential that names neither as issuer nor as subject
// is refused, with an error wrapping [input.ErrInvalid], as are those that
// AddCredential refuses. [Graph.RevokeShared] removes it again.
func (g *Graph) AddShared(by did.DID, c *vc.Credential) error {
	if by.IsZero() {
		return fmt.Errorf("%w: add shared relationship: no contact shared it", input.ErrInvalid)
	}
	if c != nil && c.Issuer != by && c.Subject.ID != by {
		return fmt.Errorf("%w: add shared relationship: credential %s is not a relationship of %s", input.ErrInvalid, c.ID, by)
	}
	return g.addCredential(c, by)
}

func (g *Graph) addCredential(c *vc.Credential, sharedBy did.DID) error {
	if err := checkGraphCredential(c); err != nil {
		return fmt.Errorf("%w: add relationship: %w", input.ErrInvalid, err)
	}
	claim := Claim{Credential: c.ID, Context: c.Subject.Context, IntroducedBy: c.Subject.IntroducedBy}
	e := Edge{A: c.Issuer, B: c.Subject.ID, AB: claim, SharedBy: sharedBy}.normalize()

	g.mu.Lock()
	defer g.mu.Unlock()
	key := edgeKey{e.A, e.B, sharedBy}
	if old, ok := g.edges[key]; ok {
		// Keep the other direction's credential: this one completes or
		// renews the pair.
		if e.AB.IsZero() {
			e.AB = old.AB
		} else {
			e.BA = old.BA
		}
	}
	g.edges[key] = e
	g.index = nil
	return nil
}

func checkGraphCredential(c *vc.Credential) error {
	switch {
	case c == nil:
		return errors.New("no credential")
	case c.ConcreteType() != vc.TypeRelationshipCredential:
		return fmt.Errorf("credential %s is a %q, not a %s", c.ID, c.ConcreteType(), vc.TypeRelationshipCredential)
	case c.ID == "":
		return errors.New("credential has no id")
	case c.Issuer.IsZero():
		return fmt.Errorf("credential %s has no issuer", c.ID)
	case c.Subject.ID.IsZero():
		return fmt.Errorf("credential %s has no subject", c.ID)
	case c.Subject.ID == c.Issuer:
		return fmt.Errorf("credential %s is about its own issuer", c.ID)
	}
	return nil
}

// AddEdge adds e as it is, replacing any edge between the same two people
// from the same source. It is for edges whose credentials are held elsewhere,
// and for tests; e's people may come in either order.
//
// It refuses, with an error wrapping [input.ErrInvalid], an edge whose people are
// zero or the same, that has no credential id in either direction, or that
// a contact shared without being on it.
func (g *Graph) AddEdge(e Edge) error {
	e = e.normalize()
	switch {
	case e.A.IsZero() || e.B.IsZero():
		return fmt.Errorf("%w: add edge: a person is missing", input.ErrInvalid)
	case e.A == e.B:
		return fmt.Errorf("%w: add edge: %s is on both ends", input.ErrInvalid, e.A)
	case e.AB.IsZero() && e.BA.IsZero():
		return fmt.Errorf("%w: add edge %s – %s: no credential in either direction", input.ErrInvalid, e.A, e.B)
	case e.Shared() && e.SharedBy != e.A && e.SharedBy != e.B:
		return fmt.Errorf("%w: add edge %s – %s: shared by %s, who is not on it", input.ErrInvalid, e.A, e.B, e.SharedBy)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.edges[edgeKey{e.A, e.B, e.SharedBy}] = e
	g.index = nil
	return nil
}

// RevokeShared removes every edge that the contact by shared, as when they
// stop sharing their relationships with the person, and reports how many
// there were. The person's own edges, and those other contacts shared, stay.
func (g *Graph) RevokeShared(by did.DID) int {
	if by.IsZero() {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for k := range g.edges {
		if k.sharedBy == by {
			delete(g.edges, k)
			n++
		}
	}
	if n > 0 {
		g.index = nil
	}
	return n
}

// Edges returns every edge of the graph, ordered by A, then B, then source
// (the person's own first, then by the DID of the contact who shared it).
func (g *Graph) Edges() []Edge {
	g.mu.Lock()
	defer g.mu.Unlock()
	edges := make([]Edge, 0, len(g.edges))
	for _, e := range g.edges {
		edges = append(edges, e)
	}
	slices.SortFunc(edges, compareEdges)
	return edges
}

// compareEdges orders edges by their people, then by source, the person's own
// edge (whose SharedBy is zero, "") first. Between two people, the first edge
// in this order is the one queries show.
func compareEdges(x, y Edge) int {
	return cmp.Or(
		strings.Compare(x.A.String(), y.A.String()),
		strings.Compare(x.B.String(), y.B.String()),
		strings.Compare(x.SharedBy.String(), y.SharedBy.String()),
	)
}

// Connections returns one step from me to each person I am connected to,
// ordered by their DIDs. If contextFilter is not empty, only relationships
// whose context (in either person's words) holds it, ignoring case, are
// returned. When several sources tell of the same relationship, the step
// has the person's own edge, or else the one shared by the contact whose
// DID sorts first.
func (g *Graph) Connections(me did.DID, contextFilter string) []Step {
	x := g.query()
	u, ok := x.ids[me]
	if !ok {
		return nil
	}
	filter := strings.ToLower(contextFilter)
	var steps []Step
	for i := x.start[u]; i < x.start[u+1]; i++ {
		e := x.edges[x.edge[i]]
		if filter != "" &&
			!strings.Contains(strings.ToLower(e.AB.Context), filter) &&
			!strings.Contains(strings.ToLower(e.BA.Context), filter) {
			continue
		}
		steps = append(steps, Step{From: me, To: x.dids[x.nbr[i]], Edge: e})
	}
	return steps
}

// Mutual returns the people connected to both a and b, ordered by DID.
func (g *Graph) Mutual(a, b did.DID) []did.DID {
	x := g.query()
	u, ok1 := x.ids[a]
	v, ok2 := x.ids[b]
	if !ok1 || !ok2 || u == v {
		return nil
	}
	// Both neighbour lists are sorted: merge them.
	p, q := x.neighbours(u), x.neighbours(v)
	var mutual []did.DID
	for len(p) > 0 && len(q) > 0 {
		switch {
		case p[0] < q[0]:
			p = p[1:]
		case p[0] > q[0]:
			q = q[1:]
		default:
			mutual = append(mutual, x.dids[p[0]])
			p, q = p[1:], q[1:]
		}
	}
	return mutual
}

// Paths returns how from is connected to to: the shortest paths between them
// of at most maxHops steps, at most [MaxPaths] of them, ordered by the DIDs
// of the people along them. Each step has the edge between its two people,
// chosen as [Graph.Connections] chooses. It returns no paths if the two
// are not connected within maxHops, if either is not in the graph, or if
// they are the same person.
//
// It refuses, with an error wrapping [input.ErrInvalid], a maxHops outside 1 to
// [MaxHops].
func (g *Graph) Paths(from, to did.DID, maxHops int) ([]Path, error) {
	if maxHops < 1 || maxHops > MaxHops {
		return nil, fmt.Errorf("%w: paths: %d hops: want 1 to %d", input.ErrInvalid, maxHops, MaxHops)
	}
	x := g.query()
	s, ok1 := x.ids[from]
	t, ok2 := x.ids[to]
	if !ok1 || !ok2 || s == t {
		return nil, nil
	}
	return x.paths(s, t, maxHops), nil
}

// graphJSON is the export form of the graph.
type graphJSON struct {
	Nodes []string   `json:"nodes"`
	Edges []edgeJSON `json:"edges"`
}

type edgeJSON struct {
	A        string     `json:"a"`
	B        string     `json:"b"`
	AB       *claimJSON `json:"ab,omitempty"`
	BA       *claimJSON `json:"ba,omitempty"`
	OneSided bool       `json:"oneSided,omitempty"`
	SharedBy string     `json:"sharedBy,omitempty"`
}

type claimJSON struct {
	Credential   string `json:"credential"`
	Context      string `json:"context,omitempty"`
	IntroducedBy string `json:"introducedBy,omitempty"`
}

func claimToJSON(c Claim) *claimJSON {
	if c.IsZero() {
		return nil
	}
	return &claimJSON{Credential: c.Credential, Context: c.Context, IntroducedBy: c.IntroducedBy.String()}
}

// MarshalJSON writes the graph for export, the same graph always as the same
// bytes:
//
//	{"nodes":["did:…",…],
//	 "edges":[{"a":"did:…","b":"did:…",
//	           "ab":{"credential":"urn:uuid:…","context":"…","introducedBy":"did:…"},
//	           "ba":{…},"oneSided":true,"sharedBy":"did:…"},…]}
//
// (without the line breaks). Nodes are every DID on an edge, sorted; edges
// are ordered as [Graph.Edges] orders them. "ab" is A's credential about
// B and "ba" B's about A, each left out when the graph does not hold it; a
// claim's context and introducer, "oneSided" when false and "sharedBy" for
// the person's own edges are left out too. The credentials themselves are
// exported beside the graph, by id.
func (g *Graph) MarshalJSON() ([]byte, error) {
	edges := g.Edges()
	out := graphJSON{Nodes: []string{}, Edges: make([]edgeJSON, 0, len(edges))}
	seen := make(map[did.DID]bool)
	for _, e := range edges {
		for _, d := range []did.DID{e.A, e.B} {
			if !seen[d] {
				seen[d] = true
				out.Nodes = append(out.Nodes, d.String())
			}
		}
		out.Edges = append(out.Edges, edgeJSON{
			A: e.A.String(), B: e.B.String(),
			AB: claimToJSON(e.AB), BA: claimToJSON(e.BA),
			OneSided: e.OneSided(), SharedBy: e.SharedBy.String(),
		})
	}
	slices.Sort(out.Nodes)
	return json.Marshal(out)
}

// query returns the graph's index, building it if the graph changed since
// the last query. The index is never changed once built, so the caller may
// use it after the lock is released.
func (g *Graph) query() *graphIndex {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.index == nil {
		g.index = g.buildIndex()
	}
	return g.index
}

// graphIndex is the graph made fast to walk: each person is numbered in the
// order of their DIDs, and their neighbours are listed in that order too, in
// one array (compressed sparse rows), so that walks meet people in DID order
// and the paths come out in the order Paths promises, without sorting.
type graphIndex struct {
	dids  []did.DID         // by number, in DID order
	ids   map[did.DID]int32 // number of each DID
	start []int32           // node u's neighbours are nbr[start[u]:start[u+1]]
	nbr   []int32           // neighbours, ascending for each node
	edge  []int32           // edge[i] is the index in edges of the edge to nbr[i]
	edges []Edge            // the edge queries show for each pair of people
}

func (g *Graph) buildIndex() *graphIndex {
	all := make([]Edge, 0, len(g.edges))
	for _, e := range g.edges {
		all = append(all, e)
	}
	slices.SortFunc(all, compareEdges)
	// The first edge between two people is the one to show.
	edges := slices.CompactFunc(all, func(x, y Edge) bool { return x.A == y.A && x.B == y.B })

	x := &graphIndex{edges: edges, ids: make(map[did.DID]int32)}
	for _, e := range edges {
		for _, d := range []did.DID{e.A, e.B} {
			if _, ok := x.ids[d]; !ok {
				x.ids[d] = 0
				x.dids = append(x.dids, d)
			}
		}
	}
	slices.SortFunc(x.dids, func(p, q did.DID) int { return strings.Compare(p.String(), q.String()) })
	for i, d := range x.dids {
		x.ids[d] = int32(i)
	}

	n := len(x.dids)
	x.start = make([]int32, n+1)
	for _, e := range edges {
		x.start[x.ids[e.A]+1]++
		x.start[x.ids[e.B]+1]++
	}
	for i := 1; i <= n; i++ {
		x.start[i] += x.start[i-1]
	}
	x.nbr = make([]int32, 2*len(edges))
	x.edge = make([]int32, 2*len(edges))
	next := slices.Clone(x.start[:n])
	// Edges are sorted by A then B, so each person's list fills in DID
	// order: first the people before them (the edges where they are B, by
	// A), then those after (where they are A, by B).
	for i, e := range edges {
		a, b := x.ids[e.A], x.ids[e.B]
		x.nbr[next[a]], x.edge[next[a]] = b, int32(i)
		next[a]++
		x.nbr[next[b]], x.edge[next[b]] = a, int32(i)
		next[b]++
	}
	return x
}

func (x *graphIndex) neighbours(u int32) []int32 { return x.nbr[x.start[u]:x.start[u+1]] }

// paths finds the shortest paths from s to t of at most maxHops steps by a
// search from both ends, each a breadth-first search one level at a time,
// growing the side whose frontier has fewer edges to look across. At three
// hops this touches the neighbours of s, t and one side's neighbours' own,
// not the whole graph.
func (x *graphIndex) paths(s, t int32, maxHops int) []Path {
	n := len(x.dids)
	distS, distT := make([]int8, n), make([]int8, n) // distance+1; 0 unseen
	distS[s], distT[t] = 1, 1
	frontS, frontT := []int32{s}, []int32{t}
	hopsS, hopsT := 0, 0
	var last []int32 // the level the searches last reached
	met := false
	for !met && hopsS+hopsT < maxHops {
		growS := x.degreeSum(frontS) <= x.degreeSum(frontT)
		front, dist, other, hops := frontT, distT, distS, &hopsT
		if growS {
			front, dist, other, hops = frontS, distS, distT, &hopsS
		}
		var next []int32
		for _, u := range front {
			for _, v := range x.neighbours(u) {
				if dist[v] != 0 {
					continue
				}
				dist[v] = int8(*hops + 2)
				next = append(next, v)
				if other[v] != 0 {
					met = true
				}
			}
		}
		*hops++
		last = next
		if growS {
			frontS = next
		} else {
			frontT = next
		}
		if len(next) == 0 {
			return nil
		}
	}
	if !met {
		return nil
	}
	d := hopsS + hopsT

	// layer[v] is 1 + v's place on a shortest path, 0 if v is on none. The
	// people where the searches met are those of the last level that both
	// have seen; had either seen one of them sooner, the searches would have
	// met sooner, so each is hopsS from s and hopsT from t. Walk back
	// towards s and on towards t from them.
	layer := make([]int8, n)
	var cur []int32
	for _, v := range last {
		if distS[v] != 0 && distT[v] != 0 {
			layer[v] = int8(hopsS + 1)
			cur = append(cur, v)
		}
	}
	meet := cur
	for i := hopsS - 1; i >= 0; i-- {
		var prev []int32
		for _, v := range cur {
			for _, u := range x.neighbours(v) {
				if distS[u] == int8(i+1) && layer[u] == 0 {
					layer[u] = int8(i + 1)
					prev = append(prev, u)
				}
			}
		}
		cur = prev
	}
	cur = meet
	for i := hopsS + 1; i <= d; i++ {
		var next []int32
		for _, v := range cur {
			for _, w := range x.neighbours(v) {
				if distT[w] == int8(d-i+1) && layer[w] == 0 {
					layer[w] = int8(i + 1)
					next = append(next, w)
				}
			}
		}
		cur = next
	}

	// Every person in a layer lies on a shortest path, so a walk from s
	// through the layers, taking neighbours in DID order, finds the paths
	// in order and never backtracks in vain.
	var paths []Path
	nodes := make([]int32, d+1)
	edges := make([]int32, d)
	nodes[0] = s
	var walk func(i int)
	walk = func(i int) {
		if i == d {
			p := make(Path, d)
			for j := range d {
				p[j] = Step{From: x.dids[nodes[j]], To: x.dids[nodes[j+1]], Edge: x.edges[edges[j]]}
			}
			paths = append(paths, p)
			return
		}
		u := nodes[i]
		for k := x.start[u]; k < x.start[u+1] && len(paths) < MaxPaths; k++ {
			if v := x.nbr[k]; layer[v] == int8(i+2) {
				nodes[i+1], edges[i] = v, x.edge[k]
				walk(i + 1)
			}
		}
	}
	walk(0)
	return paths
}

// degreeSum returns how many neighbours the people in front have in all.
func (x *graphIndex) degreeSum(front []int32) int {
	n := 0
	for _, u := range front {
		n += int(x.start[u+1] - x.start[u])
	}
	return n
}
