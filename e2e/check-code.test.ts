// The rules of scripts/check-code.mjs (run by `pnpm lint` and `pnpm test`) on small source files
// written for the purpose: each rule must flag what it exists for and leave the rest alone.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { abortHelpers, importCycles, longFunctions, MAX_FUNCTION_LINES } from '../scripts/check-code.mjs';

const dir = mkdtempSync(join(tmpdir(), 'check-code-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const body = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');

describe('check-code: long functions', () => {
  it('flags a function over the limit unless a comment at its top says why', () => {
    const f = file('long.ts', [
      `export function short() {\n  let x = 0;\n${body(10)}\n  return x;\n}`,
      `export function tooLong() {\n  let x = 0;\n${body(MAX_FUNCTION_LINES)}\n  return x;\n}`,
      `/** Why long: one case per type. */\nexport function explained() {\n  let x = 0;\n${body(MAX_FUNCTION_LINES)}\n  return x;\n}`,
      `export const arrow = () => {\n  // Why long: a table of cases.\n  let x = 0;\n${body(MAX_FUNCTION_LINES)}\n  return x;\n};`,
      `export class C {\n  method() {\n    let x = 0;\n${body(MAX_FUNCTION_LINES)}\n    return x;\n  }\n}`,
    ].join('\n\n'));
    const found = longFunctions([f]) as Array<{ name: string; explained: boolean; lines: number }>;
    expect(found.map((x) => [x.name, x.explained])).toEqual([['tooLong', false], ['explained', true], ['arrow', true], ['method', false]]);
    for (const x of found) expect(x.lines).toBeGreaterThan(MAX_FUNCTION_LINES);
  });
});

describe('check-code: import cycles', () => {
  it('finds a cycle through a barrel, type-only imports included, and nothing in a layered tree', () => {
    const a = file('cyc/blob/importer.ts', "import type { T } from '../table/index.js';\nexport const i = 1;\n");
    const b = file('cyc/blob/index.ts', "export { i } from './importer.js';\n");
    const c = file('cyc/table/index.ts', "import { i } from '../blob/index.js';\nexport type T = typeof i;\n");
    const cycles = importCycles([a, b, c]) as string[][];
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(3);
    expect(cycles[0].join(' ')).toMatch(/cyc\/blob\/importer\.ts.*cyc\/blob\/index\.ts.*cyc\/table\/index\.ts/);

    const d = file('ok/import/importer.ts', "import type { T } from '../table/index.js';\nexport const i = 1;\n");
    const e = file('ok/blob/index.ts', 'export const j = 1;\n');
    const g = file('ok/table/index.ts', "import { j } from '../blob/index.js';\nexport type T = typeof j;\n");
    expect(importCycles([d, e, g])).toEqual([]);
  });
});

describe('check-code: one abort module', () => {
  it('flags module-level abort helpers and leaves listeners and unrelated names alone', () => {
    const f = file('abort.ts', [
      'function checkAborted(s?: AbortSignal) { if (s?.aborted) throw new Error(); }',
      'const abortError = (r: unknown) => new Error(String(r));',
      'function aborted(s?: AbortSignal) { return s?.aborted; }',
      'export function abortableSleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }',
      'function retryAbortedTransaction() { return 1; }',
      'function cancelQuietly() { return 1; }',
      'export function run(s: AbortSignal) { const onAbort = () => 1; s.addEventListener("abort", onAbort); }',
    ].join('\n'));
    expect((abortHelpers([f]) as Array<{ name: string }>).map((h) => h.name)).toEqual(['checkAborted', 'abortError', 'aborted', 'abortableSleep']);
  });
});
