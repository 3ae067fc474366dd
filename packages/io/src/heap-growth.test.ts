import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAP_GROWING_ENV } from './heap-growth.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-heap-growth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Writes and reads a table in a fresh process (the built package) with V8 tracing its heap limits,
 * then forces a full collection: returns the growing factors V8 applied after the table work, and
 * the error the work threw, if any.
 */
async function factorsAfterTableWork(env: Record<string, string>, nodeFlags: string[] = []): Promise<{ factors: string[]; error: string | null }> {
  const dist = new URL('../dist/index.js', import.meta.url).href;
  const code = `
    const io = await import(${JSON.stringify(dist)});
    const { Table, makeVector } = await import('apache-arrow');
    let error = null;
    const lh = await io.Lakehouse.open({ warehouse: ${JSON.stringify(pathToFileURL(dir).href)} });
    try {
      const data = new Table({ id: makeVector(BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i))) });
      const t = await lh.createTable('t' + process.pid, data.schema, { primaryKeys: ['id'] });
      await t.write(data);
      let n = 0;
      for await (const b of t.read()) n += b.numRows;
      if (n !== 1000) throw new Error('read ' + n + ' rows');
    } catch (e) { error = String(e.message); } finally { await lh.close(); }
    console.log('-- table work done ' + JSON.stringify(error));
    globalThis.gc();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--trace-gc-verbose', ...nodeFlags, '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname, timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, ...env },
  });
  const marker = stdout.indexOf('-- table work done ');
  expect(marker).toBeGreaterThan(0);
  const after = stdout.slice(marker);
  const error = JSON.parse(after.slice('-- table work done '.length, after.indexOf('\n'))) as string | null;
  // "[HeapController] Limit: old size: 10796 KB, new limit: 35095 KB (1.5)" after each full collection
  const factors = [...after.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)/g)].map((m) => m[1]!);
  return { factors, error };
}

describe('V8 heap growth during table work', () => {
  it('a read or write sets the factor the environment asks for', async () => {
    const r = await factorsAfterTableWork({ [HEAP_GROWING_ENV]: '50' });
    expect(r.error).toBeNull();
    expect(r.factors.length).toBeGreaterThan(0);
    expect(new Set(r.factors)).toEqual(new Set(['1.5']));
  });

  it('a process started with its own --heap-growing-percent keeps it', async () => {
    const r = await factorsAfterTableWork({ [HEAP_GROWING_ENV]: '50' }, ['--heap-growing-percent=20']);
    expect(r.error).toBeNull();
    expect(new Set(r.factors)).toEqual(new Set(['1.2']));
  });

  it('a value that is neither default nor a percent fails the first table work, naming the variable', async () => {
    const r = await factorsAfterTableWork({ [HEAP_GROWING_ENV]: 'lots' });
    expect(r.error).toContain(HEAP_GROWING_ENV);
    expect(r.error).toContain("'lots'");
  });
});
