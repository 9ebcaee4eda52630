#!/bin/sh
# Writes the page's file lists into a built copy of web/, so that no list is
# kept by hand: run by the Makefile after copying web/ to the build directory.
#
#   list-files.sh <www>
#
# <www>/index.html: the line holding <!-- @styles --> becomes one
#   <link rel=stylesheet> per CSS file (the top level first, then ui/, then
#   screens/, then the feature folders, each sorted by name), and the line
#   holding <!-- @modulepreload --> one <link rel=modulepreload> per module the
#   page needs before the unlock prompt: those of lib/, ui/ and screens/. The
#   feature folders' modules load on a section's first visit.
# <www>/sw.js: the line holding @shell becomes the service worker's SHELL,
#   every file the page may load (the page itself as "./", the core, the
#   loader, every module and style sheet, features included, the manifest
#   and the icons), so that all of PLANET works offline.
set -eu
www=$1
cd "$www"

# Files by folder rank, then name: "." first, ui, screens, the rest.
ordered() {
	find . -type f -name "$1" ! -name '*.d.ts' ! -path './sw.js' | sed 's#^\./##' |
		awk -F/ '{ r = (NF == 1) ? 0 : ($1 == "lib") ? 1 : ($1 == "ui") ? 2 : ($1 == "screens") ? 3 : 4; print r "\t" $0 }' |
		LC_ALL=C sort | cut -f2
}

styles=$(ordered '*.css' | awk '{ printf "  <link rel=\"stylesheet\" href=\"%s\">\\n", $0 }')
preload=$(ordered '*.js' | grep -E '^(lib|ui|screens)/' | awk '{ printf "  <link rel=\"modulepreload\" href=\"%s\">\\n", $0 }')
shell=$( { echo './'; echo 'planet.wasm'; echo 'wasm_exec.js'; echo 'manifest.webmanifest'
	ordered '*.css'; ordered '*.js' | grep -v '^wasm_exec\.js$'
	find icons -type f | LC_ALL=C sort; } | awk '{ printf "%s\"%s\"", (NR > 1 ? ", " : ""), $0 }')

replace() { # file marker text
	awk -v marker="$2" -v text="$3" 'index($0, marker) { printf "%s", text; next } { print }' "$1" > "$1.tmp"
	grep -q . "$1.tmp"
	mv "$1.tmp" "$1"
}
grep -q '<!-- @styles -->' index.html && grep -q '<!-- @modulepreload -->' index.html && grep -q '@shell' sw.js || {
	echo "list-files.sh: a marker is missing in index.html or sw.js" >&2
	exit 1
}
replace index.html '<!-- @styles -->' "$styles"
replace index.html '<!-- @modulepreload -->' "$preload"
replace sw.js '@shell' "const SHELL = [$shell];
"
