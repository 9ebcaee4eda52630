//go:build js && wasm

package idb_test

import (
	"context"
	"fmt"
	"testing"

	"planet/idb"
	"planet/vault"
	"planet/vault/storetest"
)

var dbs int

// newStore gives each test its own database and deletes it afterwards.
func newStore(t *testing.T) vault.Store {
	dbs++
	name := fmt.Sprintf("planet-test-%s-%d", t.Name(), dbs)
	s, err := idb.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := idb.Delete(context.Background(), name); err != nil {
			t.Errorf("deleting %s: %v", name, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }
