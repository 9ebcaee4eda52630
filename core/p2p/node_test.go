//go:build !js

// These tests run people over real native go-libp2p hosts, which do not build for js/wasm.

package p2p_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"planet/core"
	"planet/core/chat"
	"planet/core/contacts"
	"planet/core/did"
	"planet/core/invite"
	"planet/core/p2p"
	"planet/core/trust"
	"planet/core/vc"
	"planet/serve/servetest"
	"planet/vault"
	"planet/vault/mem"
)

// person is one PLANET user in a test: a vault, a libp2p host that
// listens nowhere (like a browser) and is reached only through the relay,
// and the node joining them.
type person struct {
	name   string
	clock  *clock
	planet *core.Planet
	host   host.Host
	node   *p2p.Node
	did    did.DID
}

func newPerson(t *testing.T, name, relay string) *person {
	t.Helper()
	return newPersonWith(t, name, relay, p2p.Options{})
}

// newPersonWith is newPerson with opt for the node (its relays and dial
// timeout are set here).
func newPersonWith(t *testing.T, name, relay string, opt p2p.Options) *person {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	pl, err := core.Open(ctx, mem.New(), core.Options{
		Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}},
		Now:   clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := pl.Create(ctx, "correct horse battery staple "+name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.SetSettings(ctx, core.Settings{Name: name}); err != nil {
		t.Fatal(err)
	}
	key, err := p2p.PrivateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	h := servetest.Peer(t, libp2p.Identity(key), libp2p.DefaultTransports)
	opt.Relays, opt.DialTimeout = []string{relay}, 5*time.Second
	node, err := p2p.New(h, pl, opt)
	if err != nil {
		t.Fatal(err)
	}
	p := &person{name: name, clock: clk, planet: pl, host: h, node: node, did: id.DID()}
	p.reserve(t, relay)
	return p
}

// reserve makes the person reachable through the relay.
func (p *person) reserve(t *testing.T, relay string) {
	t.Helper()
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(relay))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.host.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, p.host, *ai); err != nil {
		t.Fatal(err)
	}
}

func (p *person) deliver(t *testing.T, outs ...trust.Outgoing) {
	t.Helper()
	for _, out := range outs {
		if err := p.node.Deliver(context.Background(), out); err != nil {
			t.Fatalf("%s delivering %s to %s: %v", p.name, out.Protocol, did.Short(out.To), err)
		}
	}
}

func (p *person) contact(t *testing.T, d did.DID) *contacts.Contact {
	t.Helper()
	c, err := p.planet.Contacts().ByDID(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatalf("%s has no contact %s", p.name, did.Short(d))
	}
	return c
}

// credentialFrom returns the credential issuer gave to p, checking that it
// verifies.
func (p *person) credentialFrom(t *testing.T, issuer did.DID) *vc.Credential {
	t.Helper()
	kept, err := p.planet.Trust().Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kept {
		if k.SharedBy.IsZero() && k.Credential.Issuer == issuer && k.Credential.Subject.ID == p.did {
			if err := vc.Verify(k.Credential, time.Now()); err != nil {
				t.Fatalf("%s's credential from %s does not verify: %v", p.name, did.Short(issuer), err)
			}
			return k.Credential
		}
	}
	t.Fatalf("%s holds no credential from %s", p.name, did.Short(issuer))
	return nil
}

// connectByInvitation has inviter invite invitee, who accepts; they connect.
func connectByInvitation(t *testing.T, inviter, invitee *person, note string, relay string) *invite.Invitation {
	t.Helper()
	ctx := context.Background()
	inv, err := inviter.planet.Trust().CreateInvitation(ctx, invite.Options{Note: note, Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := invitee.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	invitee.deliver(t, out)
	return inv
}

func TestTrustNetworkOverRelay(t *testing.T) {
	ctx := context.Background()
	relay := servetest.Start(t).Addr()
	alice, bob, carol, dave := newPerson(t, "Alice", relay), newPerson(t, "Bob", relay), newPerson(t, "Carol", relay), newPerson(t, "Dave", relay)

	// Alice invites Bob; Bob accepts through the relay.
	inv := connectByInvitation(t, alice, bob, "met at the co-op AGM", relay)
	for _, pair := range [][2]*person{{alice, bob}, {bob, alice}} {
		me, other := pair[0], pair[1]
		c := me.contact(t, other.did)
		if c.Name != other.name || !c.IsConnected() {
			t.Fatalf("%s's contact for %s: %+v", me.name, other.name, c)
		}
		if got := me.credentialFrom(t, other.did).Subject.Context; got != "met at the co-op AGM" {
			t.Fatalf("%s's credential from %s has context %q", me.name, other.name, got)
		}
	}
	// Neither listens anywhere: they reached each other through the relay.
	conns := bob.host.Network().ConnsToPeer(alice.host.ID())
	if len(conns) == 0 || !strings.Contains(conns[0].RemoteMultiaddr().String(), "/p2p-circuit") {
		t.Fatalf("Bob's connections to Alice: %v", conns)
	}
	if o := bob.contact(t, alice.did).Origin; o != contacts.OriginInvitedMe {
		t.Fatalf("Bob's contact for Alice has origin %q, want the first link of his chain", o)
	}
	if o := alice.contact(t, bob.did).Origin; o != contacts.OriginInvitedByMe {
		t.Fatalf("Alice's contact for Bob has origin %q", o)
	}
	if pending, _ := bob.planet.Trust().PendingConnections(ctx); len(pending) != 0 {
		t.Fatalf("Bob still has pending connections: %+v", pending)
	}

	// The invitation was for one person: Carol cannot use it too.
	_, out, err := carol.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := carol.node.Deliver(ctx, out); !errors.Is(err, invite.ErrUsedUp) {
		t.Fatalf("a used-up invitation: %v", err)
	}
	if c, _ := carol.planet.Contacts().ByDID(ctx, alice.did); c != nil {
		t.Fatal("a refused acceptance left a contact")
	}
	if kept, _ := carol.planet.Trust().Credentials(ctx); len(kept) != 0 {
		t.Fatalf("a refused acceptance left %d credentials", len(kept))
	}
	// Bob's acceptance arriving a second time takes no second use.
	_, again, err := bob.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	bob.deliver(t, again)

	// An altered token is refused before anything is sent.
	altered := inv.Token[:len(inv.Token)-3] + "AAA"
	if _, _, err := carol.planet.Trust().AcceptInvitation(ctx, altered); err == nil {
		t.Fatal("an altered invitation was accepted")
	}

	connectByInvitation(t, alice, carol, "neighbours", relay)
	connectByInvitation(t, alice, dave, "choir", relay)

	// Alice introduces Bob and Carol. Bob accepts first: Carol has not
	// answered, so his request waits; when Carol accepts, they connect.
	made, outs, err := alice.planet.Trust().Introduce(ctx, bob.did, carol.did, "you both build boats")
	if err != nil {
		t.Fatal(err)
	}
	alice.deliver(t, outs...)
	received, _, err := bob.planet.Trust().Introductions(ctx)
	if err != nil || len(received) != 1 || received[0].Other != carol.did || received[0].Note != "you both build boats" {
		t.Fatalf("Bob's introductions: %+v, %v", received, err)
	}
	outs, err = bob.planet.Trust().AnswerIntroduction(ctx, made.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	bob.deliver(t, outs...)
	pending, _ := bob.planet.Trust().PendingConnections(ctx)
	if len(pending) != 1 || pending[0].Waiting != trust.WaitingAnswer {
		t.Fatalf("Bob's request should wait for Carol: %+v", pending)
	}
	outs, err = carol.planet.Trust().AnswerIntroduction(ctx, made.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	carol.deliver(t, outs...)
	for _, pair := range [][2]*person{{bob, carol}, {carol, bob}} {
		me, other := pair[0], pair[1]
		c := me.contact(t, other.did)
		if c.Origin != contacts.OriginIntroduced || c.IntroducedBy != alice.did {
			t.Fatalf("%s's contact for %s: %+v", me.name, other.name, c)
		}
		if by := me.credentialFrom(t, other.did).Subject.IntroducedBy; by != alice.did {
			t.Fatalf("%s's credential from %s names introducer %v", me.name, other.name, by)
		}
	}
	if pending, _ := bob.planet.Trust().PendingConnections(ctx); len(pending) != 0 {
		t.Fatalf("Bob's request is still pending after Carol connected: %+v", pending)
	}
	// One credential each way, on both sides: the one Bob issued when he
	// accepted is the one Carol received.
	for _, p := range []*person{bob, carol} {
		kept, _ := p.planet.Trust().Credentials(ctx)
		between := 0
		for _, k := range kept {
			if c := k.Credential; (c.Issuer == bob.did && c.Subject.ID == carol.did) || (c.Issuer == carol.did && c.Subject.ID == bob.did) {
				between++
			}
		}
		if between != 2 {
			t.Fatalf("%s holds %d credentials between Bob and Carol, want one each way", p.name, between)
		}
	}
	servetest.Eventually(t, "Alice hears that Bob and Carol connected", func() bool {
		_, mades, _ := alice.planet.Trust().Introductions(ctx)
		return len(mades) == 1 && mades[0].StateA == trust.IntroConnected && mades[0].StateB == trust.IntroConnected
	})

	// Alice introduces Carol and Dave; Dave declines, so Carol's
	// acceptance comes to nothing and Alice hears both.
	made, outs, err = alice.planet.Trust().Introduce(ctx, carol.did, dave.did, "")
	if err != nil {
		t.Fatal(err)
	}
	alice.deliver(t, outs...)
	outs, err = dave.planet.Trust().AnswerIntroduction(ctx, made.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	dave.deliver(t, outs...)
	outs, err = carol.planet.Trust().AnswerIntroduction(ctx, made.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := carol.node.Deliver(ctx, outs[0]); err != nil {
		t.Fatal(err)
	}
	if err := carol.node.Deliver(ctx, outs[1]); !errors.Is(err, trust.ErrDeclined) {
		t.Fatalf("connecting after a decline: %v", err)
	}
	if c, _ := carol.planet.Contacts().ByDID(ctx, dave.did); c != nil {
		t.Fatal("Carol has Dave as a contact after he declined")
	}
	got, _, _ := carol.planet.Trust().Introductions(ctx)
	for _, r := range got {
		if r.ID == made.ID && r.State != trust.IntroOtherDeclined {
			t.Fatalf("Carol's introduction to Dave is %q", r.State)
		}
	}
	_, mades, _ := alice.planet.Trust().Introductions(ctx)
	for _, m := range mades {
		if m.ID == made.ID && (m.StateA != trust.IntroAccepted || m.StateB != trust.IntroDeclined) {
			t.Fatalf("Alice's record of the declined introduction: %+v", m)
		}
	}

	// Someone who is not a contact cannot introduce people.
	if _, _, err := bob.planet.Trust().Introduce(ctx, alice.did, dave.did, ""); err == nil {
		t.Fatal("Bob introduced Dave, who is not his contact")
	}

	// The exchanges on record go with an export: invitations, introductions
	// received and made, with their states.
	for _, p := range []*person{alice, carol} {
		q := reimported(t, p)
		for _, c := range []struct {
			what string
			get  func(*core.Planet) any
		}{
			{"invitations", func(x *core.Planet) any { r, _ := x.Trust().Invitations(ctx); return r }},
			{"introductions", func(x *core.Planet) any { r, m, _ := x.Trust().Introductions(ctx); return [2]any{r, m} }},
			{"pending connections", func(x *core.Planet) any { r, _ := x.Trust().PendingConnections(ctx); return r }},
		} {
			if got, want := c.get(q), c.get(p.planet); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s's %s after an export and import:\n%+v\nwant\n%+v", p.name, c.what, got, want)
			}
		}
	}

	// Alice shares her relationships with Bob: his graph now reaches Dave,
	// through Alice, with her credentials as evidence.
	outs, err = alice.planet.Trust().SetSharing(ctx, bob.did, true)
	if err != nil {
		t.Fatal(err)
	}
	alice.deliver(t, outs...)
	g, err := bob.planet.Trust().Graph(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := g.Paths(bob.did, dave.did, 3)
	if err != nil || len(paths) == 0 {
		t.Fatalf("Bob's paths to Dave: %v, %v", paths, err)
	}
	explained := paths[0].Explain(bob.did, func(d did.DID) string {
		for _, p := range []*person{alice, bob, carol, dave} {
			if p.did == d {
				return p.name
			}
		}
		return did.Short(d)
	})
	if !strings.Contains(explained, "Alice") || !strings.Contains(explained, "Dave") {
		t.Fatalf("the path is explained as %q", explained)
	}
	// Sharing is revocable: Bob forgets what Alice shared.
	outs, err = alice.planet.Trust().SetSharing(ctx, bob.did, false)
	if err != nil {
		t.Fatal(err)
	}
	alice.deliver(t, outs...)
	g, _ = bob.planet.Trust().Graph(ctx)
	if paths, _ := g.Paths(bob.did, dave.did, 3); len(paths) != 0 {
		t.Fatalf("Bob still reaches Dave after Alice stopped sharing: %v", paths)
	}
}

// clock is a person's time, which a test may move ahead.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

func TestExpiredInvitationIsRefused(t *testing.T) {
	ctx := context.Background()
	relay := servetest.Start(t).Addr()
	alice, bob := newPerson(t, "Alice", relay), newPerson(t, "Bob", relay)
	inv, err := alice.planet.Trust().CreateInvitation(ctx, invite.Options{Lifetime: time.Hour, Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := bob.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	// By the time Alice reads Bob's acceptance, the invitation has expired.
	alice.clock.advance(2 * time.Hour)
	if err := bob.node.Deliver(ctx, out); !errors.Is(err, invite.ErrExpired) {
		t.Fatalf("an expired invitation: %v", err)
	}
	// A revoked one is refused too.
	bob.clock.advance(2 * time.Hour)
	inv, err = alice.planet.Trust().CreateInvitation(ctx, invite.Options{Relays: []string{relay}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.planet.Trust().RevokeInvitation(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	_, out, err = bob.planet.Trust().AcceptInvitation(ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.node.Deliver(ctx, out); !errors.Is(err, invite.ErrRevoked) {
		t.Fatalf("a revoked invitation: %v", err)
	}
	if c, _ := alice.planet.Contacts().ByDID(ctx, bob.did); c != nil {
		t.Fatal("a refused acceptance made a contact")
	}
}

// reimported exports p's vault and imports it into a fresh one.
func reimported(t *testing.T, p *person) *core.Planet {
	t.Helper()
	ctx := context.Background()
	var file bytes.Buffer
	if err := p.planet.Export(ctx, &file, "harbour lights at eleven o'clock", nil); err != nil {
		t.Fatal(err)
	}
	q, err := core.Open(ctx, mem.New(), core.Options{Vault: vault.Options{KDF: vault.KDFParams{Memory: 8 * 1024, Passes: 1, Lanes: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Import(ctx, bytes.NewReader(file.Bytes()), int64(file.Len()), "harbour lights at eleven o'clock", "a new local passphrase for this", nil); err != nil {
		t.Fatal(err)
	}
	return q
}

// TestReachGoesDirect: a peer reached through a relay is then connected
// to directly when Options.Direct can, and streams take that connection;
// when Direct fails, the relayed connection serves and Direct is left
// alone for a while.
func TestReachGoesDirect(t *testing.T) {
	ctx := context.Background()
	relay := servetest.Start(t).Addr()
	bob := newPerson(t, "Bob", relay)
	if err := bob.host.Network().Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0")); err != nil {
		t.Fatal(err)
	}
	var alice *person
	alice = newPersonWith(t, "Alice", relay, p2p.Options{Direct: func(ctx context.Context, p peer.ID) error {
		// Without forcing it, the host would settle for the relayed connection.
		ctx = network.WithForceDirectDial(ctx, "test")
		return alice.host.Connect(ctx, peer.AddrInfo{ID: p, Addrs: bob.host.Network().ListenAddresses()})
	}})
	if err := alice.node.Reach(ctx, bob.host.ID(), []string{relay}); err != nil {
		t.Fatal(err)
	}
	if c := alice.host.Network().Connectedness(bob.host.ID()); c != network.Connected {
		t.Fatalf("after Reach, alice is %v to bob, want a direct connection", c)
	}
	if m, err := alice.node.Chat(ctx, bob.did, "over the direct connection"); err != nil || m.Via != chat.ViaDirect {
		t.Fatalf("over the direct connection: %+v, %v", m, err)
	}

	calls := 0
	carol := newPersonWith(t, "Carol", relay, p2p.Options{Direct: func(context.Context, peer.ID) error {
		calls++
		return errors.New("no way through")
	}})
	for range 2 {
		if err := carol.node.Reach(ctx, bob.host.ID(), []string{relay}); err != nil {
			t.Fatal(err)
		}
	}
	if c := carol.host.Network().Connectedness(bob.host.ID()); c != network.Limited {
		t.Errorf("carol is %v to bob, want the relayed connection", c)
	}
	if calls != 1 {
		t.Errorf("Direct was tried %d times within a minute, want once", calls)
	}
	if m, err := carol.node.Chat(ctx, bob.did, "through the relay"); err != nil || m.Via != chat.ViaRelayed {
		t.Fatalf("through the relay: %+v, %v", m, err)
	}
}
