package webvh

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Signed file requests to a PLANET server that hosts a DID's log
// (docs/pages-hosting.md, "Signed file requests"): the controller writes and
// deletes the DID's public files with requests signed by a current update
// key. Both sides build the signed text here, so they cannot drift apart.

// FileRequestScheme is the Authorization scheme of a signed file request.
const FileRequestScheme = "DIDWebVH"

// fileRequestLabel starts the signed text: it names the protocol and its
// version, so that the signature means nothing anywhere else.
const fileRequestLabel = "PLANET did:webvh file request v1"

// FileRequestSigningInput is what a file request's signature signs: the
// label, then one per line the method (PUT or DELETE), the DID as its latest
// log entry names it, the path "/<name>/<canonical file path>", the SHA-256
// of the body in lowercase hex (of nothing for DELETE), and created (Unix
// seconds) in decimal.
func FileRequestSigningInput(method, did, path string, body []byte, created int64) []byte {
	sum := sha256.Sum256(body)
	return []byte(fileRequestLabel + "\n" + method + "\n" + did + "\n" + path + "\n" + hex.EncodeToString(sum[:]) + "\n" + strconv.FormatInt(created, 10))
}

// FileRequestAuthorization returns the Authorization value of a request
// signed with sig by the update key multikey at created.
func FileRequestAuthorization(multikey string, created int64, sig []byte) string {
	return fmt.Sprintf(`%s key="%s", created="%d", sig="%s"`, FileRequestScheme, multikey, created, base64.RawURLEncoding.EncodeToString(sig))
}
