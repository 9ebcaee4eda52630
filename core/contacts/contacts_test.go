package contacts

import (
	"context"
	"errors"
	"testing"
	"time"

	"planet/core/did"
	"planet/core/internal/input"
	"planet/core/session/sessiontest"
	"planet/vault"
)

// FuzzDecodeRecord: whatever decodes as a contact record re-encodes to
// bytes that decode to the same record and encode again to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	seed, err := vault.MarshalCBOR(record{Name: "Ada", DID: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Notes: "n", Created: 1, Updated: 2,
		Relays: []string{"/ip4/127.0.0.1/tcp/4001/ws"}, Origin: string(OriginIntroduced), IntroducedBy: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Connected: 3, SharingGraph: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(sessiontest.RoundTrip[record])
}

func TestService(t *testing.T) {
	ctx := context.Background()
	o := sessiontest.Open(t, 1)
	cs := New(o)
	ada := must(cs.Add(ctx, Input{Name: "  Ada  ", DID: " did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp ", Notes: "n"}))
	if ada.Name != "Ada" || ada.DID.String() != "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp" || !ada.Created.Equal(o.Clock) {
		t.Fatalf("Add = %+v", ada)
	}
	must(cs.Add(ctx, Input{Name: "Babbage"}))
	for _, bad := range []Input{{Name: " "}, {Name: "x", DID: "did:example:nope"}, {Name: string([]byte{0xff})}} {
		if _, err := cs.Add(ctx, bad); !errors.Is(err, input.ErrInvalid) {
			t.Errorf("Add(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	o.Clock = o.Clock.Add(time.Hour)
	upd := must(cs.Update(ctx, ada.ID, Input{Name: "Ada King"}))
	if !upd.DID.IsZero() || !upd.Updated.Equal(o.Clock) || !upd.Created.Equal(ada.Created) {
		t.Errorf("Update = %+v", upd)
	}
	list := must(cs.List(ctx))
	if len(list) != 2 || list[0].Name != "Ada King" || list[1].Name != "Babbage" {
		t.Errorf("List = %+v", list)
	}
	if err := cs.Delete(ctx, ada.ID); err != nil {
		t.Fatal(err)
	}
	if err := cs.Delete(ctx, ada.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if n := must(cs.Count(ctx)); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	o.Lock()
	if _, err := cs.List(ctx); !errors.Is(err, vault.ErrLocked) {
		t.Errorf("List while locked = %v", err)
	}
}

// TestConnect: the trust network adds a contact it connects with, or
// completes the one the person typed in, and sharing needs a connection.
func TestConnect(t *testing.T) {
	ctx := context.Background()
	o := sessiontest.Open(t, 1)
	cs := New(o)
	bob := must(did.Parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"))
	carol := must(did.Parse("did:key:z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc"))
	typed := must(cs.Add(ctx, Input{Name: did.Short(carol), DID: carol.String()}))
	if _, err := cs.SetSharing(ctx, carol, true); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("sharing with a contact not connected: %v", err)
	}
	relays := []string{"/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", "not an address"}
	err := o.S.Vault.Update(ctx, func(tx *vault.Tx) error {
		if err := cs.Connect(ctx, tx, Connection{DID: bob, Name: "Bob", Relays: relays, Origin: OriginInvitedByMe}); err != nil {
			return err
		}
		return cs.Connect(ctx, tx, Connection{DID: carol, Name: "Carol", Origin: OriginIntroduced, Introducer: bob})
	})
	if err != nil {
		t.Fatal(err)
	}
	b := must(cs.ByDID(ctx, bob))
	if b == nil || b.Name != "Bob" || !b.IsConnected() || b.Origin != OriginInvitedByMe || len(b.Relays) != 1 {
		t.Errorf("Bob = %+v", b)
	}
	c := must(cs.ByDID(ctx, carol))
	if c == nil || c.ID != typed.ID || c.Name != "Carol" || c.IntroducedBy != bob || c.Origin != OriginIntroduced {
		t.Errorf("Carol = %+v, want the contact typed in, named and introduced by Bob", c)
	}
	if c := must(cs.SetSharing(ctx, bob, true)); !c.SharingGraph {
		t.Errorf("SetSharing = %+v", c)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestKnows: Knows follows the address book as it changes, and the
// vault's lock.
func TestKnows(t *testing.T) {
	ctx := context.Background()
	o := sessiontest.Open(t, 1)
	cs := New(o)
	ada := must(did.Parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"))
	knows := func(want bool) {
		t.Helper()
		got, err := cs.Knows(ctx, ada)
		if err != nil || got != want {
			t.Fatalf("Knows(ada) = %v, %v; want %v", got, err, want)
		}
	}
	knows(false)
	must(cs.Add(ctx, Input{Name: "Babbage"}))
	knows(false)
	c := must(cs.Add(ctx, Input{Name: "Ada", DID: ada.String()}))
	knows(true)
	knows(true)
	if err := cs.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	knows(false)
	// Written behind the service's back, in a vault update of another
	// feature (as the trust network's Connect does): seen all the same.
	err := o.S.Vault.Update(ctx, func(tx *vault.Tx) error {
		return cs.Connect(ctx, tx, Connection{DID: ada, Name: "Ada", Origin: OriginInvitedMe})
	})
	if err != nil {
		t.Fatal(err)
	}
	knows(true)
	o.Lock()
	if _, err := cs.Knows(ctx, ada); !errors.Is(err, vault.ErrLocked) {
		t.Fatalf("Knows on a locked vault = %v, want ErrLocked", err)
	}
}
