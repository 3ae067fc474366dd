import { describe, expect, it } from 'vitest';
import { pgliteWasmModule } from './pglite-module.js';
import { PGliteDriver } from './pglite-driver.js';

describe('PGlite module', () => {
  it('is compiled once per process and serves every embedded catalog opened', async () => {
    const m = pgliteWasmModule();
    expect(m).toBeInstanceOf((globalThis as unknown as { WebAssembly: { Module: new () => object } }).WebAssembly.Module);
    expect(pgliteWasmModule()).toBe(m);
    // Two databases at once from the one module, each with its own state.
    const [a, b] = await Promise.all([PGliteDriver.open(), PGliteDriver.open()]);
    try {
      await a.query('CREATE TABLE t (x int)');
      await a.query('INSERT INTO t VALUES (1), (2)');
      expect((await a.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]!.n).toBe(2);
      await expect(b.query('SELECT * FROM t')).rejects.toThrow(/"t" does not exist/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
