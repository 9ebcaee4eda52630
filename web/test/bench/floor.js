// The Go runtime floor: the smallest Go program that runs in a page (a
// hello world that also tells the page it ran), built for js/wasm with the
// same flags and the same loader as PLANET's core and served by the same
// server. It is the baseline for the core's transfer size and for the time a
// repeat visit needs before anything can appear.
//
// Its sources live here as strings, not as .go files, so that nothing under
// web/ becomes part of the Go module.

import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../lib.js';

const run = promisify(execFile);

const goMod = 'module floor\n\ngo 1.21\n';

const mainGo = `//go:build js && wasm

// Hello world, then an event that tells the page the program has run.
package main

import (
	"fmt"
	"syscall/js"
)

func main() {
	fmt.Println("hello, world")
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("floor-ready"))
}
`;

const indexHTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Go runtime floor</title>
  <script src="wasm_exec.js" defer></script>
  <script type="module" src="start.js"></script>
</head>
<body><p>Go runtime floor</p></body>
</html>
`;

// The same steps as PLANET's boot.js: stream and compile, then run.
const startJS = `performance.mark('floor-start');
window.addEventListener('floor-ready', () => performance.mark('floor-ready'), { once: true });
const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiateStreaming(fetch('floor.wasm'), go.importObject);
performance.mark('floor-instantiated');
go.run(instance);
`;

/**
 * Builds the floor site into www (floor.wasm, wasm_exec.js, index.html,
 * start.js), precompressed by the server's own -precompress, using src as
 * the Go build directory.
 * @param {{src: string, www: string}} dirs
 */
export async function buildFloor({ src, www }) {
  await mkdir(src, { recursive: true });
  await mkdir(www, { recursive: true });
  await writeFile(join(src, 'go.mod'), goMod);
  await writeFile(join(src, 'main.go'), mainGo);
  await run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(www, 'floor.wasm'), '.'], {
    cwd: src,
    env: { ...process.env, GOOS: 'js', GOARCH: 'wasm', GOWORK: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '' },
  });
  await copyFile(join(root, 'build/www/wasm_exec.js'), join(www, 'wasm_exec.js'));
  await writeFile(join(www, 'index.html'), indexHTML);
  await writeFile(join(www, 'start.js'), startJS);
  await run(join(root, 'build/bin/serve'), ['-precompress', '-root', www]);
}
