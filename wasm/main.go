//go:build js && wasm

// Command wasm is PLANET's core in the browser: it opens the vault in
// IndexedDB, and installs the one API object the page uses,
// globalThis.planet, described by web/planet.d.ts. Every method that does
// work returns a Promise and runs on a goroutine of its own; rejected
// promises carry an Error with a stable code.
package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"planet/core"
	"planet/core/identity"
	"planet/idb"
	"planet/vault"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

// dbName is the IndexedDB database holding the vault.
const dbName = "planet-vault"

func main() {
	ctx := context.Background()
	if err := holdVault(); err != nil {
		failStart(err)
		return
	}
	store, err := idb.Open(ctx, dbName)
	if err != nil {
		failStart(err)
		return
	}
	p, err := core.Open(ctx, store, core.Options{Vault: vault.Options{Chunks: webCryptoChunks()}, Resolver: resolver()})
	if err != nil {
		failStart(err)
		return
	}
	global.Set("planet", api(p))
	announce("planet-ready", safejs.Undefined())
	select {} // serve the page for as long as it lives
}

// failStart tells the page the core could not start, with the reason.
func failStart(err error) {
	announce("planet-failed", jsErr(err))
}

func announce(name string, detail safejs.Value) {
	ctor, _ := global.Get("CustomEvent")
	opts := newObject()
	opts.Set("detail", detail)
	ev, err := ctor.New(name, opts)
	if err != nil {
		return
	}
	global.Call("dispatchEvent", ev)
}

func api(p *core.Planet) safejs.Value {
	ctx := context.Background()
	net := newTabNetwork(p)
	// The node lives while the vault is open; the page's own lock listener
	// (onLock) is called after the node is told to stop.
	var pageOnLock safejs.Value
	var lockMu sync.Mutex
	p.OnLock(func() {
		net.stop()
		lockMu.Lock()
		listener := pageOnLock
		lockMu.Unlock()
		if listener.Type() == safejs.TypeFunction {
			go listener.Invoke()
		}
	})
	o := newObject()
	o.Set("version", version)
	o.Set("state", async(func([]safejs.Value) (any, error) { return string(p.State()), nil }))
	o.Set("passphraseStrength", fn(func(args []safejs.Value) (any, error) {
		s, _ := str(args, 0)
		return toJS(vault.CheckPassphrase(s))
	}))
	o.Set("create", async(func(args []safejs.Value) (any, error) {
		pass, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		id, err := p.Create(ctx, pass)
		releaseKDFMemory()
		if err != nil {
			return nil, err
		}
		net.start()
		return identityJS(id)
	}))
	o.Set("unlock", async(func(args []safejs.Value) (any, error) {
		pass, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		id, err := p.Unlock(ctx, pass)
		releaseKDFMemory()
		if err != nil {
			return nil, err
		}
		net.start()
		return identityJS(id)
	}))
	o.Set("lock", async(func([]safejs.Value) (any, error) { p.Lock(); return nil, nil }))
	o.Set("identity", async(func([]safejs.Value) (any, error) {
		id, err := p.Identity()
		if err != nil {
			return nil, err
		}
		return identityJS(id)
	}))
	o.Set("changePassphrase", async(func(args []safejs.Value) (any, error) {
		old, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		nw, err := str(args, 1)
		if err != nil {
			return nil, err
		}
		defer releaseKDFMemory()
		return nil, p.ChangePassphrase(ctx, old, nw)
	}))
	o.Set("touch", fn(func([]safejs.Value) (any, error) { p.Touch(); return nil, nil }))
	o.Set("onLock", fn(func(args []safejs.Value) (any, error) {
		listener := arg(args, 0)
		lockMu.Lock()
		defer lockMu.Unlock()
		pageOnLock = listener
		return nil, nil
	}))
	o.Set("settings", async(func([]safejs.Value) (any, error) {
		s, err := p.Settings()
		if err != nil {
			return nil, err
		}
		return toJS(s)
	}))
	o.Set("setSettings", async(func(args []safejs.Value) (any, error) {
		// Members left out keep their values: a page that knows only
		// autoLockMinutes must not erase the person's name.
		s, err := p.Settings()
		if err != nil {
			return nil, err
		}
		if err := fromJS(arg(args, 0), &s); err != nil {
			return nil, err
		}
		s, err = p.SetSettings(ctx, s)
		if err != nil {
			return nil, err
		}
		return toJS(s)
	}))
	o.Set("counts", async(func([]safejs.Value) (any, error) {
		c, err := p.Counts(ctx)
		if err != nil {
			return nil, err
		}
		return toJS(c)
	}))
	o.Set("contacts", contactsAPI(ctx, p))
	o.Set("notes", notesAPI(ctx, p))
	o.Set("files", filesAPI(ctx, p))
	o.Set("network", networkAPI(net))
	o.Set("invitations", invitationsAPI(ctx, p, net))
	o.Set("chat", chatAPI(ctx, p, net))
	o.Set("credentials", credentialsAPI(ctx, p))
	o.Set("profile", profileAPI(ctx, p))
	o.Set("introductions", introductionsAPI(ctx, p, net))
	o.Set("sharing", sharingAPI(ctx, p, net))
	o.Set("graph", graphAPI(ctx, p))
	o.Set("relationships", relationshipsAPI(ctx, p, net))
	o.Set("page", withPreview(ctx, pageAPI(ctx, p, net)))
	o.Set("exportVault", async(func(args []safejs.Value) (any, error) {
		pass, err := str(args, 0)
		if err != nil {
			return nil, err
		}
		w, err := newBlobWriter()
		if err != nil {
			return nil, err
		}
		if err := p.Export(ctx, w, pass, progress(arg(args, 1))); err != nil {
			return nil, err
		}
		return w.blob("application/octet-stream")
	}))
	o.Set("importVault", async(func(args []safejs.Value) (any, error) {
		r, err := newBlobReader(arg(args, 0))
		if err != nil {
			return nil, fmt.Errorf("the import needs a file: %w", errInvalidArg)
		}
		exportPass, err := str(args, 1)
		if err != nil {
			return nil, err
		}
		newPass, err := str(args, 2)
		if err != nil {
			return nil, err
		}
		id, counts, err := p.Import(ctx, r, r.size, exportPass, newPass, progress(arg(args, 3)))
		releaseKDFMemory()
		if err != nil {
			return nil, err
		}
		net.start()
		return toJS(struct {
			core.Counts
			DID string `json:"did"`
		}{counts, id.DID().String()})
	}))
	o.Set("qrSVG", fn(func(args []safejs.Value) (any, error) {
		s, err := str(args, 0)
		if err != nil {
			return "", nil
		}
		svg, err := qrSVG(s)
		if err != nil {
			return "", nil
		}
		return svg, nil
	}))
	return o
}

// releaseKDFMemory collects right after a key derivation. Argon2id holds
// 64 MiB while it runs; if the collector's first cycle happens then, it
// paces the heap to twice that, and a tab that stores a large file next
// lets garbage pile up to ~128 MiB of wasm memory, which the browser never
// gets back. Collecting once the derivation's memory is garbage keeps the
// pacing to what is really live (a few MiB).
func releaseKDFMemory() { runtime.GC() }

// progress adapts an optional JS (done, total) callback, calling it at most
// every 50 ms and always for the end, so that a fast stream does not spend
// its time in the page.
func progress(cb safejs.Value) func(done, total int64) {
	if cb.Type() != safejs.TypeFunction {
		return nil
	}
	var last time.Time
	return func(done, total int64) {
		if now := time.Now(); done == total || now.Sub(last) > 50*time.Millisecond {
			last = now
			cb.Invoke(float64(done), float64(total))
		}
	}
}

func identityJS(id *identity.Identity) (any, error) {
	doc, err := id.DID().Document()
	if err != nil {
		return nil, err
	}
	return toJS(map[string]any{"did": id.DID().String(), "peerId": id.PeerID().String(), "didDocument": doc})
}
