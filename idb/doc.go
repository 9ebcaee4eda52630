// Package idb is the IndexedDB [vault.Store], for PLANET in the browser.
//
// Each store is one IndexedDB database holding one object store, "kv",
// whose keys are the vault's string keys and whose values are byte arrays.
// A [vault.Batch] becomes one readwrite transaction: IndexedDB commits it
// whole or not at all, so a tab closed mid-write leaves the previous state.
//
// The package builds only for js/wasm. Nothing here blocks inside a
// JavaScript callback: callbacks hand results to waiting goroutines
// through buffered channels.
package idb
