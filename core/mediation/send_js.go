//go:build js

package mediation

// HTTPPost is nil in the browser build, which keeps net/http out of it:
// pass wasm/browser's Post to [Send] there.
var HTTPPost Poster
