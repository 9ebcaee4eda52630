package didcomm

import (
	"encoding/base64"
	"flag"
)

// b64 is JOSE's base64url without padding, for tests that build tokens by
// hand next to jwx's jws package.
var b64 = base64.RawURLEncoding.Strict()

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ChatMessageType is the type of PLANET's chat messages (package core),
// the typical message a person sends.
const ChatMessageType = "planet:chat/1.0/message"
