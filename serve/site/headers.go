package site

import (
	"path"
	"regexp"
	"strings"

	"planet/serve/response"
)

// hashedName matches base names like app.0123abcd.js: a dot, 8 or more hex digits, a dot and
// the extension, at the end of the name.
var hashedName = regexp.MustCompile(`.\.[0-9a-fA-F]{8,}\.[A-Za-z0-9]+$`)

func cacheControl(name string) string {
	if hashedName.MatchString(path.Base(name)) {
		return response.CacheImmutable
	}
	return response.CacheRevalidate
}

// fileType is how a file is served.
type fileType struct {
	contentType string
	// compress is false for formats that are already compressed.
	compress bool
}

// fileTypes is the complete list of what the server serves, by extension. A file whose
// extension is not listed is not served at all: no type is ever guessed or sniffed.
var fileTypes = map[string]fileType{
	".html":        {"text/html; charset=utf-8", true},
	".js":          {"text/javascript; charset=utf-8", true},
	".mjs":         {"text/javascript; charset=utf-8", true},
	".css":         {"text/css; charset=utf-8", true},
	".json":        {"application/json", true},
	".webmanifest": {"application/manifest+json", true},
	".wasm":        {"application/wasm", true},
	".svg":         {"image/svg+xml", true},
	".ico":         {"image/x-icon", true},
	".txt":         {"text/plain; charset=utf-8", true},
	// The TypeScript declaration of the wasm API, for people writing apps against it.
	".d.ts":  {"text/plain; charset=utf-8", true},
	".png":   {"image/png", false},
	".jpg":   {"image/jpeg", false},
	".jpeg":  {"image/jpeg", false},
	".webp":  {"image/webp", false},
	".woff2": {"font/woff2", false},
}

// typeOf returns how the file called name is served, and false if it is not served.
func typeOf(name string) (fileType, bool) {
	ext := path.Ext(name)
	if strings.HasSuffix(name, ".d.ts") {
		ext = ".d.ts"
	}
	t, ok := fileTypes[strings.ToLower(ext)]
	return t, ok
}
