package core

import (
	"encoding/base64"
	"flag"
)

// b64 is JOSE's base64url without padding, for tests that build tokens by
// hand next to jwx's jws package.
var b64 = base64.RawURLEncoding.Strict()

var update = flag.Bool("update", false, "rewrite the golden files in testdata")
