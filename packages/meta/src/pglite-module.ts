/**
 * PGlite's WebAssembly module, compiled once per process and shared by every embedded catalog the
 * process opens (a module can be instantiated any number of times).
 *
 * It is compiled by V8's baseline WebAssembly compiler (Liftoff) only. PGlite's build is 9 MB; under
 * V8's default tiering, the functions PostgreSQL runs while it starts are compiled again by the
 * optimizing compiler on background threads, which on a small machine takes CPU from the start itself
 * and holds 30-60 MiB more. A catalog runs short queries, which the baseline code serves about as fast
 * (bench/cli-startup.mjs measures the open both ways in the same run).
 *
 * V8's flag is process-wide, so it is set only around the synchronous compile of this one module and
 * cleared right after: no other JavaScript of this thread runs in between, and WebAssembly compiled
 * later (parquet-wasm) is optimized as usual. A worker thread that compiles a module in that window
 * (about 0.1 s, once per process) would get baseline code too. `LAKESOUL_PGLITE_TIERING=default`
 * leaves the compile to PGlite with V8's defaults.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

/** A compiled WebAssembly module, opaque here. */
export type WasmModule = object;
/** The one WebAssembly call used here (the project's TypeScript libraries declare no WebAssembly types). */
declare const WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule };

let compiled: WasmModule | null | undefined;

/** Whether this process was started with Liftoff only already (then the flag is left as it is). */
function startedLiftoffOnly(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--liftoff-only');
}

/**
 * The compiled PGlite module, or undefined when PGlite should compile it itself (tiering left to
 * V8's defaults by `LAKESOUL_PGLITE_TIERING=default`, or its `pglite.wasm` not found next to its
 * entry point in a future layout).
 */
export function pgliteWasmModule(): WasmModule | undefined {
  if (compiled !== undefined) return compiled ?? undefined;
  if (process.env.LAKESOUL_PGLITE_TIERING === 'default') return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), 'pglite.wasm'));
  } catch {
    compiled = null;
    return undefined;
  }
  const restore = !startedLiftoffOnly();
  setFlagsFromString('--liftoff-only');
  try {
    compiled = new WebAssembly.Module(bytes);
  } finally {
    if (restore) setFlagsFromString('--no-liftoff-only');
  }
  return compiled;
}
