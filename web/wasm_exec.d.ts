// What Go's wasm loader (wasm_exec.js, copied from $(go env GOROOT)/lib/wasm
// at build time) defines on globalThis, as far as boot.js uses it.

/** One run of a Go program compiled to WebAssembly. */
export interface GoProgram {
  /** The imports the Go module expects: pass them to WebAssembly.instantiate. */
  importObject: WebAssembly.Imports;
  /** Runs the program; resolves when it exits. */
  run(instance: WebAssembly.Instance): Promise<void>;
}

declare global {
  /** Undefined when wasm_exec.js did not load. */
  // eslint-disable-next-line no-var
  var Go: (new () => GoProgram) | undefined;
}
