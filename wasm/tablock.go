//go:build js && wasm

package main

import (
	"github.com/hack-pad/safejs"

	"planet/wasm/browser"
)

// holdVault makes this tab the vault's only user, through the Web Locks
// API: two tabs writing one vault would each trust their own cached view of
// it and undo each other's writes, and one tab's sweep of unfinished
// uploads would remove the other's upload in progress. A second tab waits,
// telling the page why (event `planet-waiting`), and starts when the first
// one closes. holdVault returns once the lock is held; the browser releases
// it when the tab goes away.
func holdVault() error {
	nav, err := global.Get("navigator")
	if err != nil {
		return err
	}
	locks, err := nav.Get("locks")
	if err != nil || locks.IsUndefined() {
		return nil // no Web Locks here: nothing better to do than go on
	}
	if ok, err := requestLock(locks, true); err != nil || ok {
		return err
	}
	announce("planet-waiting", safejs.Undefined())
	_, err = requestLock(locks, false)
	return err
}

// requestLock asks for the exclusive "planet-vault" lock and reports whether
// it was granted; with ifAvailable false it waits until it is.
func requestLock(locks safejs.Value, ifAvailable bool) (bool, error) {
	got := make(chan bool, 1)
	// Kept for the life of the page, like the lock it receives.
	cb := browser.Func(func(args []safejs.Value) (any, error) {
		if arg(args, 0).IsNull() {
			got <- false
			return nil, nil
		}
		got <- true
		// The lock is held until the promise returned here settles: never.
		p, _ := pendingPromise()
		return p, nil
	})
	opts := newObject()
	opts.Set("mode", "exclusive")
	opts.Set("ifAvailable", ifAvailable)
	if _, err := locks.Call("request", "planet-vault", opts, cb); err != nil {
		return false, err
	}
	return <-got, nil
}

// pendingPromise returns a promise that never settles.
func pendingPromise() (safejs.Value, error) {
	executor, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return nil })
	if err != nil {
		return safejs.Value{}, err
	}
	defer executor.Release()
	return browser.Promise.New(executor.Value())
}
