/**
 * Blob confinement on local disk against symlinks: every link shape refused through `scan({ blobs })`
 * whichever way the local store was registered, and a link flipped by another process during reads
 * never yields a byte from outside the roots.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { LocalStore, StoreRegistry, toFileUri, withConcurrencyLimit, withLatency } from '../store/index.js';
import type { ObjectStore } from '../types.js';
import { Lakehouse } from '../table/index.js';
import type { LakeSoulTable } from '../table/index.js';
import { resolveBlobs } from './blob-resolver.js';
import { asAsync, batchesOf } from './blob-test-fixtures.js';

const schema = new Schema([new Field('id', new Int32(), false), new Field('path', new Utf8(), true)]);
const ALLOWED = 'allowed-bytes: a file inside the table\n';
const SECRET = 'SECRET-OUTSIDE-THE-ROOTS\n';

async function errorOf(p: Promise<unknown>): Promise<LakeSoulError> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e, 'expected an error').toBeInstanceOf(LakeSoulError);
  return e as LakeSoulError;
}

/** The ways a local store reaches the resolver. */
const registrations: { name: string; stores: (warehouse: string) => StoreRegistry }[] = [
  { name: 'the default file:/// store', stores: () => new StoreRegistry() },
  { name: "a LocalStore registered for the warehouse", stores: (wh) => new StoreRegistry().register(toFileUri(wh) + '/', new LocalStore({ root: wh })) },
  {
    name: 'a registered LocalStore behind the concurrency and latency wrappers',
    stores: (wh) => new StoreRegistry().register(toFileUri(wh) + '/', withLatency(withConcurrencyLimit(new LocalStore({ root: wh }), 4), { perRequestMs: 1 })),
  },
  { name: 'a registry wrap() around the default store', stores: () => new StoreRegistry({ wrap: (s) => withConcurrencyLimit(s, 8) }) },
];

for (const reg of registrations) {
  describe(`symlinks in a table read through scan({ blobs }) via ${reg.name}`, () => {
    let dir: string;
    let wh: string;
    let catalog: Catalog;
    let lh: Lakehouse;
    let t: LakeSoulTable;
    /** Link shapes, each as a reference relative to the table. */
    const shapes: Record<string, string> = {
      'a link to /etc/passwd': 'links/passwd',
      'a link to an outside secret': 'links/secret',
      'a relative link leading out': 'links/relative',
      'a chain of links': 'links/chain1',
      'a symlinked directory': 'links/outdir/secret.txt',
      'a link to /': 'links/root/etc/passwd',
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-confine-'));
      wh = join(dir, 'warehouse');
      const tdir = join(wh, 't');
      // the table first: a table is made on an empty path; the files referenced are then put under it
      catalog = await Catalog.open({ dataDir: ':memory:' });
      lh = await Lakehouse.open({ catalog, stores: reg.stores(wh), warehouse: toFileUri(wh) });
      t = await lh.createTable('t', schema, { path: toFileUri(tdir), blobColumns: ['path'], primaryKeys: ['id'], hashBucketNum: 1 });
      mkdirSync(join(tdir, 'links'), { recursive: true });
      mkdirSync(join(tdir, 'files'), { recursive: true });
      mkdirSync(join(dir, 'outside'), { recursive: true });
      writeFileSync(join(tdir, 'files', 'ok.txt'), ALLOWED);
      writeFileSync(join(dir, 'outside', 'secret.txt'), SECRET);
      symlinkSync('/etc/passwd', join(tdir, 'links', 'passwd'));
      symlinkSync(join(dir, 'outside', 'secret.txt'), join(tdir, 'links', 'secret'));
      symlinkSync('../../../outside/secret.txt', join(tdir, 'links', 'relative'));
      symlinkSync(join(tdir, 'links', 'chain2'), join(tdir, 'links', 'chain1'));
      symlinkSync('secret', join(tdir, 'links', 'chain2'));
      symlinkSync(join(dir, 'outside'), join(tdir, 'links', 'outdir'));
      symlinkSync('/', join(tdir, 'links', 'root'));
      symlinkSync('../files/ok.txt', join(tdir, 'links', 'inside'));
      const refs = [...Object.values(shapes), 'links/inside', 'files/ok.txt'];
      await t.write(new Table({ id: vectorFromArray(refs.map((_, i) => i), new Int32()), path: vectorFromArray(refs, new Utf8()) }));
    });
    afterAll(async () => {
      await catalog?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [shape, ref] of Object.entries(shapes)) {
      it(`refuses ${shape} (${ref}) naming the row, the reference and how to allow a root`, async () => {
        const id = Object.values(shapes).indexOf(ref);
        const e = await errorOf(t.toArrow({ blobs: ['path'], filter: `id = ${id}` }));
        expect(e.kind).toBe('PermissionDenied');
        expect(e.code).toBe('BLOB_OUTSIDE_ROOTS');
        expect(e.message).toContain(`id=${id}`);
        expect(e.message).toContain(ref);
        expect(e.message).toContain('lakesoul_blob_roots');
        expect(e.message).not.toContain(SECRET.trim());
        expect(e.context.row).toBe(`id=${id}`);
      });
    }

    it('reads links that stay inside the table, and an outside root once the table declares it', async () => {
      const ok = await t.toArrow({ blobs: ['path'], filter: `id >= ${Object.keys(shapes).length}` });
      expect(ok.toArray().map((r) => Buffer.from(r.path__bytes as Uint8Array).toString())).toEqual([ALLOWED, ALLOWED]);
      const widened = await t.toArrow({ blobs: { columns: ['path'], allowedRoots: [toFileUri(join(dir, 'outside'))] }, filter: 'id = 1' });
      expect(Buffer.from(widened.get(0)!.path__bytes as Uint8Array).toString()).toBe(SECRET);
    });
  });
}

describe('a local store that cannot confine reads', () => {
  it('is refused for blob reads (a wrapper dropping the confined read does not open a hole)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-unconfined-'));
    try {
      writeFileSync(join(dir, 'a.txt'), ALLOWED);
      const inner = new LocalStore({ root: dir });
      const bare: ObjectStore = {
        description: inner.description,
        get: (p, o) => inner.get(p, o),
        put: (p, d, o) => inner.put(p, d, o),
        head: (p, o) => inner.head(p, o),
        delete: (p, o) => inner.delete(p, o),
        list: (p, o) => inner.list(p, o),
      };
      const stores = new StoreRegistry().register(toFileUri(dir) + '/', bare);
      const run = resolveBlobs(asAsync(batchesOf({ id: [7], path: ['a.txt'] }, 1, { id: 'int32', path: 'utf8' })), {
        columns: ['path'],
        tablePath: toFileUri(dir),
        stores,
        keyColumns: ['id'],
      });
      const e = await errorOf((async () => { for await (const _ of run) void _; })());
      expect(e.code).toBe('BLOB_STORE_NOT_CONFINED');
      expect(e.message).toContain('id=7');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Another process flips `links/flip` between a file inside the table and a secret outside it (and
 * `links/dir` between a directory inside and one outside), with atomic renames, as fast as it can.
 */
const FLIPPER = `
const { symlinkSync, renameSync, writeFileSync } = require('node:fs');
const [dir, inFile, outFile, inDir, outDir] = process.argv.slice(1);
let flips = 0;
let stop = false;
process.on('message', (m) => { if (m === 'count') process.send({ flips }); else stop = true; });
const step = () => {
  for (let i = 0; i < 500; i++) {
    const odd = (flips & 1) === 1;
    symlinkSync(odd ? outFile : inFile, dir + '/flip.tmp');
    renameSync(dir + '/flip.tmp', dir + '/flip');
    symlinkSync(odd ? outDir : inDir, dir + '/dir.tmp');
    renameSync(dir + '/dir.tmp', dir + '/dir');
    flips++;
  }
  if (stop) { process.send(flips, () => process.exit(0)); } else setImmediate(step);
};
process.send('ready');
step();
`;

describe('a symlink flipped by another process during reads', () => {
  it('returns zero bytes from outside the roots over thousands of reads and flips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-race-'));
    const tdir = join(dir, 'table');
    mkdirSync(join(tdir, 'links'), { recursive: true });
    mkdirSync(join(tdir, 'in'), { recursive: true });
    mkdirSync(join(dir, 'out'), { recursive: true });
    writeFileSync(join(tdir, 'in', 'f.txt'), ALLOWED);
    writeFileSync(join(dir, 'out', 'f.txt'), SECRET);
    symlinkSync(join(tdir, 'in', 'f.txt'), join(tdir, 'links', 'flip'));
    symlinkSync(join(tdir, 'in'), join(tdir, 'links', 'dir'));
    const child = spawn(process.execPath, ['-e', FLIPPER, join(tdir, 'links'), join(tdir, 'in', 'f.txt'), join(dir, 'out', 'f.txt'), join(tdir, 'in'), join(dir, 'out')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const flipsDone = new Promise<number>((resolve) => child.on('message', (m) => typeof m === 'number' && resolve(m)));
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const outcome = { allowed: 0, refused: 0, secret: 0, other: [] as string[] };
    let reads = 0;
    const flipsSoFar = () => new Promise<number>((resolve) => {
      const on = (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'flips' in m) { child.off('message', on); resolve((m as { flips: number }).flips); }
      };
      child.on('message', on);
      child.send('count');
    });
    try {
      for (const stores of [new StoreRegistry(), new StoreRegistry().register(toFileUri(tdir) + '/', new LocalStore({ root: tdir }))]) {
        const readOne = async (i: number) => {
          const ref = i % 2 === 0 ? 'links/flip' : 'links/dir/f.txt';
          try {
            // sizes unknown: every read also makes the confined HEAD, which must not leak a size either
            for await (const b of resolveBlobs(asAsync(batchesOf({ id: [i], path: [ref] }, 1, { id: 'int32', path: 'utf8' })), {
              columns: ['path'],
              tablePath: toFileUri(tdir),
              stores,
              keyColumns: ['id'],
            })) {
              const text = Buffer.from(b.getChild('path__bytes')!.get(0) as Uint8Array).toString();
              if (text === ALLOWED) outcome.allowed++;
              else if (text.includes('SECRET')) outcome.secret++;
              else outcome.other.push(text);
            }
          } catch (e) {
            if (e instanceof LakeSoulError && e.code === 'BLOB_OUTSIDE_ROOTS') outcome.refused++;
            else outcome.other.push(String(e));
          }
        };
        // At least 1,500 reads per registration, and on until the links have flipped 1,500 times more
        // (reads got faster than the flipper: a fixed count of reads met too few flips).
        const flipsBefore = await flipsSoFar();
        for (let i = 0; i < 1500 || (await flipsSoFar()) - flipsBefore < 1500; i += 10) {
          await Promise.all(Array.from({ length: 10 }, (_, k) => readOne(i + k)));
          reads += 10;
        }
      }
    } finally {
      child.send('stop');
    }
    const flips = await flipsDone;
    rmSync(dir, { recursive: true, force: true });
    expect(flips).toBeGreaterThan(3000);
    expect(outcome.secret).toBe(0);
    expect(outcome.other).toEqual([]);
    expect(reads).toBeGreaterThanOrEqual(3000);
    expect(outcome.allowed + outcome.refused).toBe(reads);
    // the race was really run: both states of the links were met
    expect(outcome.allowed).toBeGreaterThan(0);
    expect(outcome.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe('the confined read of LocalStore', () => {
  it('never returns the bytes or the size of a file outside, and reads ranges inside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-confined-'));
    try {
      mkdirSync(join(dir, 'root', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'root', 'sub', 'a.txt'), ALLOWED);
      writeFileSync(join(dir, 'secret.txt'), SECRET);
      symlinkSync(join(dir, 'secret.txt'), join(dir, 'root', 'sub', 'out'));
      const store = new LocalStore({ root: join(dir, 'root') });
      expect(Buffer.from(await store.getConfined('sub/a.txt', ['sub'], { range: { offset: 0, length: 7 } })).toString()).toBe(ALLOWED.slice(0, 7));
      expect((await store.headConfined('sub/a.txt', [''])).size).toBe(ALLOWED.length);
      for (const call of [() => store.getConfined('sub/out', ['']), () => store.headConfined('sub/out', ['sub'])]) {
        const e = await errorOf(call());
        expect(e.code).toBe('PATH_OUTSIDE_ROOT');
        expect(e.context.realPath).toBe(join(dir, 'secret.txt'));
      }
      // a root that is itself outside the file's directory confines more tightly
      expect((await errorOf(store.getConfined('sub/a.txt', ['other']))).code).toBe('PATH_OUTSIDE_ROOT');
      expect((await errorOf(store.getConfined('sub/missing', ['sub']))).kind).toBe('NotFound');
      expect(readFileSync(join(dir, 'secret.txt'), 'utf8')).toBe(SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Linux only: the O_PATH open it checks is Linux's (elsewhere special files are opened non-blocking
  // and then refused), and it needs mkfifo; CI runs on Linux, so CI runs it
  it.runIf(process.platform === 'linux')('refuses a link to a FIFO outside without opening it: a writer waiting for a reader stays waiting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-confined-fifo-'));
    // the shell's open of the FIFO for writing returns only once some process opens it for reading
    let writer: ReturnType<typeof spawn> | undefined;
    try {
      mkdirSync(join(dir, 'root'));
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      symlinkSync(join(dir, 'pipe'), join(dir, 'root', 'out'));
      writer = spawn('/bin/sh', ['-c', 'printf x > "$1"; echo opened', 'sh', join(dir, 'pipe')], { stdio: ['ignore', 'pipe', 'ignore'] });
      let opened = '';
      writer.stdout!.on('data', (d: Buffer) => (opened += d.toString()));
      const store = new LocalStore({ root: join(dir, 'root') });
      for (const call of [() => store.getConfined('out', ['']), () => store.headConfined('out', [''])]) {
        const e = await errorOf(call());
        expect(e.code).toBe('PATH_OUTSIDE_ROOT');
        expect(e.context.realPath).toBe(join(dir, 'pipe'));
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(writer.exitCode, 'the FIFO was opened for reading: its writer went on').toBeNull();
      expect(opened).toBe('');
      // inside the root, a FIFO (without a writer: nothing hangs) or a directory is no object, and the
      // error says what is there ("object not found" alone before)
      execFileSync('mkfifo', [join(dir, 'root', 'quiet')]);
      mkdirSync(join(dir, 'root', 'sub'));
      for (const [key, what] of [['quiet', 'a FIFO (named pipe)'], ['sub', 'a directory']] as const) {
        for (const call of [() => store.getConfined(key, ['']), () => store.headConfined(key, ['']), () => store.get(key), () => store.head(key)]) {
          const e = await errorOf(call());
          expect(e).toMatchObject({ kind: 'NotFound', code: 'OBJECT_NOT_FOUND' });
          expect(e.message).toMatch(new RegExp(`^object not found: file://.*/root/${key} is ${what.replace(/[()]/g, '\\$&')}, not a regular file$`));
        }
      }
    } finally {
      writer?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads into the buffer `into` gives (plain and confined reads), refuses one too small, and fills nothing from outside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-confined-into-'));
    try {
      mkdirSync(join(dir, 'root'), { recursive: true });
      writeFileSync(join(dir, 'root', 'a.txt'), ALLOWED);
      writeFileSync(join(dir, 'secret.txt'), SECRET);
      symlinkSync(join(dir, 'secret.txt'), join(dir, 'root', 'out'));
      const store = new LocalStore({ root: join(dir, 'root') });
      const given = new Uint8Array(4096);
      for (const read of [() => store.get('a.txt', { into: () => given }), () => store.getConfined('a.txt', [''], { into: () => given })]) {
        given.fill(0);
        const got = await read();
        expect(got.buffer).toBe(given.buffer);
        expect(Buffer.from(got).toString()).toBe(ALLOWED);
      }
      const small = await errorOf(store.getConfined('a.txt', [''], { into: (n) => new Uint8Array(n - 1) }));
      expect(small.message).toContain(`its ${ALLOWED.length} bytes holds ${ALLOWED.length - 1}`);
      given.fill(0);
      let asked = false;
      expect((await errorOf(store.getConfined('out', [''], { into: () => ((asked = true), given) }))).code).toBe('PATH_OUTSIDE_ROOT');
      expect(asked).toBe(false);
      expect(given.every((b) => b === 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
