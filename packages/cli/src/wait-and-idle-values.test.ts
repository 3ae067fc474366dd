/**
 * `catalog-server --idle abc` said "(got NaN)", not the value typed; `LAKESOUL_CATALOG_WAIT=abc` was
 * taken as the default 60 s without a word. Found by a hunt of the documentation's examples.
 */
import { expect, it } from 'vitest';
import { DEFAULT_CATALOG_LOCK_WAIT_MS, catalogLockWaitMs } from '@lakesoul-ts/meta';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('catalog-server --idle names the value it refuses', async () => {
  await inTempDirNoServer('lakesoul-cli-idle-', async (dir) => {
    for (const value of ['abc', '0', '-1']) {
      const r = await cli(dir, ['catalog-server', '--idle', value]);
      expect([r.code, r.err.trim()]).toEqual([4, `error: --idle must be a positive number of seconds (got '${value}')`]);
    }
  });
});

it('LAKESOUL_CATALOG_WAIT that is no number of seconds is refused naming it; unset or empty is the default', () => {
  for (const value of ['abc', '-1', '1e400', '5s']) {
    expect(() => catalogLockWaitMs({ LAKESOUL_CATALOG_WAIT: value })).toThrow(`LAKESOUL_CATALOG_WAIT=${JSON.stringify(value)} is not a number of seconds`);
  }
  expect(catalogLockWaitMs({})).toBe(DEFAULT_CATALOG_LOCK_WAIT_MS);
  expect(catalogLockWaitMs({ LAKESOUL_CATALOG_WAIT: ' ' })).toBe(DEFAULT_CATALOG_LOCK_WAIT_MS);
  expect(catalogLockWaitMs({ LAKESOUL_CATALOG_WAIT: '0' })).toBe(0);
  expect(catalogLockWaitMs({ LAKESOUL_CATALOG_WAIT: '0.3' })).toBe(300);
});

it('a command run with LAKESOUL_CATALOG_WAIT=abc exits 4 naming it', async () => {
  await inTempDirNoServer('lakesoul-cli-wait-', async (dir) => {
    const before = process.env.LAKESOUL_CATALOG_WAIT;
    process.env.LAKESOUL_CATALOG_WAIT = 'abc';
    try {
      const r = await cli(dir, ['table', 'list']);
      expect(r.code).toBe(4);
      expect(r.err).toContain('LAKESOUL_CATALOG_WAIT="abc" is not a number of seconds');
    } finally {
      if (before === undefined) delete process.env.LAKESOUL_CATALOG_WAIT; else process.env.LAKESOUL_CATALOG_WAIT = before;
    }
  });
});
