/**
 * Test support (left out of the build): an embedded in-memory catalog over a temporary warehouse,
 * opened before a test file's tests and closed, its directory removed, after them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { Lakehouse } from './lakehouse.js';

/** Registers the lakehouse's opening and closing; `lh` is set once the file's tests run. */
export function useTempLakehouse(prefix: string): { readonly lh: Lakehouse } {
  const state: { lh: Lakehouse; dir: string } = {} as never;
  beforeAll(async () => {
    state.dir = mkdtempSync(join(tmpdir(), prefix));
    state.lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(state.dir).href });
  });
  afterAll(async () => {
    await state.lh?.close();
    if (state.dir) rmSync(state.dir, { recursive: true, force: true });
  });
  return { get lh() { return state.lh; } };
}

/** The rows of a table as plain JSON values (bigints as numbers), for `toEqual`. */
export const plainRows = (t: { toArray(): { toJSON(): unknown }[] }): unknown[] =>
  t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));
