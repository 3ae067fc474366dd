/**
 * The real binary on outputs that fail and on settings that are set but empty: `export` to a full
 * device or file system stops with an error naming the file (it waited forever for a 'drain' that a
 * failed stream never emits), and an empty home or warehouse is refused (it meant the working directory).
 * Each run is a subprocess with a timeout, so a hang fails the test.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { DIST_BIN } from './cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'lakesoul-write-errors-'));
const home = join(root, 'home');
const g = ['--home', home, '--quiet'];

/** Runs the binary with stdout to `stdout` (a file descriptor) or a pipe; killed after 30 s. */
function cli(args: string[], options: { stdout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [DIST_BIN, ...args], {
    cwd: options.cwd ?? root, timeout: 30_000, encoding: 'utf8',
    env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off', ...options.env },
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  expect(r.signal, `lakesoul-ts ${args.join(' ')} did not exit within 30 s (killed): ${r.stderr}`).toBeNull();
  return r;
}

beforeAll(async () => {
  // rows in several files: the first write's error (ENOSPC) arrives while later batches are read
  const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'catalog') }, warehouse: pathToFileURL(join(home, 'warehouse')).href });
  try {
    const t = await lh.createTable('t', new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]));
    for (let k = 0; k < 6; k++) {
      await t.write(new Table({ id: vectorFromArray([BigInt(2 * k), BigInt(2 * k + 1)], new Int64()), s: vectorFromArray(['a', 'b'], new Utf8()) }));
    }
  } finally {
    await lh.close();
  }
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('export on an output that fails', () => {
  for (const format of ['csv', 'json', 'jsonl', 'parquet']) {
    it(`to /dev/full (--format ${format}) fails with ENOSPC naming the file, exit 1`, () => {
      for (let run = 0; run < 3; run++) {
        const r = cli([...g, 'export', 't', '/dev/full', '--format', format]);
        expect([r.status, r.stderr.trim()]).toEqual([1, 'error: cannot write /dev/full: ENOSPC: no space left on device, write']);
      }
    }, 120_000);
  }

  it('to stdout on /dev/full (-, /dev/stdout, scan) fails with exit 1', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const format of ['csv', 'json', 'jsonl']) {
        for (const args of [['export', 't', '-', '--format', format], ['export', 't', '/dev/stdout', '--format', format], ['scan', 't', '--format', format]]) {
          const r = cli([...g, ...args], { stdout: full });
          expect([r.status, r.stderr], args.join(' ')).toEqual([1, expect.stringMatching(/ENOSPC: no space left on device/)]);
        }
      }
    } finally {
      closeSync(full);
    }
  }, 180_000);

  it('to a full file system removes its temporary file and leaves an earlier export as it was', (ctx) => {
    const mnt = join(root, 'full');
    mkdirSync(mnt);
    // a small tmpfs, filled: where mounting is not allowed (no root), there is nothing to check
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status !== 0) ctx.skip();
    try {
      writeFileSync(join(mnt, 'out.csv'), 'an earlier export\n');
      spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=4k']);
      for (const name of ['out.csv', 'out.json', 'out.jsonl', 'out.parquet', 'new.csv']) {
        const r = cli([...g, 'export', 't', join(mnt, name)]);
        expect([r.status, r.stderr.trim()], name).toEqual([1, `error: cannot write ${join(mnt, name)}: ENOSPC: no space left on device, write`]);
        expect(readdirSync(mnt).filter((f) => f.endsWith('.part')), name).toEqual([]);
      }
      expect(readFileSync(join(mnt, 'out.csv'), 'utf8')).toBe('an earlier export\n');
      expect(readdirSync(mnt).sort()).toEqual(['fill', 'out.csv']);
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 180_000);
});

describe('a home or warehouse set but empty', () => {
  it('is refused naming it (exit 4), and nothing is made in the working directory', () => {
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--home', ''], {}, /^error: --home is set but empty/],
      [[], { LAKESOUL_TS_HOME: '' }, /^error: LAKESOUL_TS_HOME is set but empty/],
      [['--home', join(cwd, 'h')], { LAKESOUL_TS_WAREHOUSE: '' }, /^error: LAKESOUL_TS_WAREHOUSE is set but empty/],
      [['--warehouse='], {}, /^error: --warehouse is set but empty/],
      [['--catalog', ''], {}, /^error: --catalog is set but empty/],
    ];
    for (const [flags, env, message] of cases) {
      const r = cli([...flags, 'table', 'create', 'x', '--schema', 'id:int64'], { cwd, env: { LAKESOUL_TS_HOME: undefined, LAKESOUL_TS_WAREHOUSE: undefined, ...env } });
      expect([r.status, r.stderr], JSON.stringify([flags, env])).toEqual([4, expect.stringMatching(message)]);
    }
    writeFileSync(join(cwd, 'lakesoul-ts.json'), '{"home": ""}');
    const r = cli(['table', 'list'], { cwd, env: { LAKESOUL_TS_HOME: undefined } });
    expect([r.status, r.stderr]).toEqual([4, expect.stringMatching(/^error: "home" in the config file .*lakesoul-ts\.json is set but empty/)]);
    expect(readdirSync(cwd)).toEqual(['lakesoul-ts.json']);
    expect(existsSync(join(cwd, 'catalog'))).toBe(false);
  }, 120_000);
});
