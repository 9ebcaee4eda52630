package mem_test

import (
	"testing"

	"planet/vault"
	"planet/vault/mem"
	"planet/vault/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) vault.Store { return mem.New() })
}
