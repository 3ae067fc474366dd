/**
 * A create from data killed during its first write. `createTable(name, data)` and
 * `openOrCreate(name, data)` commit the catalog row, then write the data; a process killed in
 * between left a table with no commit: `openOrCreate(name, data)` run again returned it empty without
 * writing the data (lost without an error; 5 of 5 SIGKILLs 0.1-0.5 s into a 300k-row create), and
 * `createTable` failed TABLE_EXISTS. The create now marks the table (property `lakesoul_ts_creating`:
 * pid, host, start) until the first commit: a later create from data makes an abandoned one (its
 * process gone) again in its place (one catalog transaction), deletes the files its write left, and
 * writes the data; while the creating process runs it is refused (Conflict TABLE_BEING_CREATED, retryable).
 * The killed creator is a child process on the built library (dist), PGlite catalog directory, no
 * catalog server; its store stalls the write after two files are put, so the kill lands after the
 * catalog row and files exist and before any commit, every time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Schema, Field, Int64, Utf8 } from 'apache-arrow';
import { Lakehouse, joinUri, type ObjectStore } from '@lakesoul-ts/io';
import { Catalog, LakeSoulError, processStartTime } from '@lakesoul-ts/meta';

const MARKER = 'lakesoul_ts_creating';
const IO_DIST = JSON.stringify(new URL('../packages/io/dist/index.js', import.meta.url).href);
const ROWS = 20_000;
const rows = (n = ROWS) => Array.from({ length: n }, (_, i) => ({ id: i, day: `p${i % 20}`, v: `x${i}` }));
const OPTS = { primaryKeys: ['id'], rangePartitions: ['day'] };

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under a directory, recursively (paths relative to it). */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
  } catch {
    return [];
  }
}

/**
 * Runs a child that creates table `t` from data in `home` (`mode`: createTable or openOrCreate) with
 * a store that stalls the third put, and SIGKILLs it once two files are written (the catalog row is
 * made before any).
 */
async function killedCreate(home: string, mode: 'create' | 'openOrCreate'): Promise<void> {
  const script = `const { Lakehouse } = await import(${IO_DIST});
    const [home, mode] = process.argv.slice(1);
    let puts = 0; const done = [];
    const wrap = (s) => { const put = s.put.bind(s); s.put = (...a) => {
      if (++puts > 2) { Promise.all(done).then(() => console.log('STALLED')); return new Promise(() => {}); }
      const p = put(...a); done.push(p.catch(() => {})); return p; }; return s; };
    const lh = await Lakehouse.open({ catalog: { dataDir: home + '/cat' }, warehouse: 'file://' + home + '/wh', stores: { wrap } });
    const rows = []; for (let i = 0; i < ${ROWS}; i++) rows.push({ id: i, day: 'p' + (i % 20), v: 'x' + i });
    const opts = ${JSON.stringify(OPTS)};
    await (mode === 'create' ? lh.createTable('t', rows, opts) : lh.openOrCreate('t', rows, opts));
    console.log('FINISHED');`;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script, home, mode], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('STALLED')) res();
      if (out.includes('FINISHED')) rej(new Error('the child finished its create: the store did not stall it'));
    });
    child.once('exit', (code) => rej(new Error(`child exited (${code}) before its write stalled: ${out}${err}`)));
  });
  child.kill('SIGKILL');
  await exited;
}

describe('a create from data killed during its first write (child process, PGlite directory)', () => {
  for (const [mode, again] of [
    ['openOrCreate', 'openOrCreate'],
    ['create', 'createTable'],
    ['create', 'createTable ifNotExists'],
  ] as const) {
    it(`killed ${mode}, then ${again} in another process writes the data`, { timeout: 120_000 }, async () => {
      const home = tempDir('create-crash-');
      await killedCreate(home, mode);
      const tableDir = join(home, 'wh', 'default', 't');
      // what the kill left: the row, marked, no commit, and files of the write
      expect(filesUnder(tableDir).filter((f) => f.endsWith('.parquet')).length).toBeGreaterThanOrEqual(2);
      const lh = await Lakehouse.open({ catalog: { dataDir: join(home, 'cat'), env: { LAKESOUL_CATALOG_SERVER: 'off' } }, warehouse: `file://${home}/wh` });
      try {
        const left = await lh.table('t');
        expect(left.info.properties[MARKER]).toBeDefined();
        expect(await lh.catalog.commitCount(left.info.tableId)).toBe(0);
        expect((await left.toArrow()).numRows).toBe(0); // a scan of a marked table reads it, empty
        const data = rows();
        const t = again === 'openOrCreate' ? await lh.openOrCreate('t', data, OPTS)
          : await lh.createTable('t', data, again === 'createTable' ? OPTS : { ...OPTS, ifNotExists: true });
        expect(t.info.tableId).not.toBe(left.info.tableId);
        expect((await t.toArrow()).numRows).toBe(ROWS);
        expect(await lh.catalog.commitCount(t.info.tableId)).toBe(1);
        expect(t.info.properties[MARKER]).toBeUndefined();
        expect((await lh.table('t')).info.properties[MARKER]).toBeUndefined();
        // the killed write's files are gone: what is on disk is what the commit names
        const onDisk = filesUnder(tableDir).map((f) => joinUri(`file://${tableDir}`, f)).sort();
        expect(onDisk).toEqual((await lh.catalog.allCommittedFilePaths(t.info.tableId)).sort());
        // and the table is now an ordinary one: creating it again is refused, openOrCreate opens it
        await expect(lh.createTable('t', data, OPTS)).rejects.toMatchObject({ code: 'TABLE_EXISTS' });
        expect((await lh.openOrCreate('t', [{ id: -1, day: 'p0', v: 'no' }], OPTS)).info.tableId).toBe(t.info.tableId);
        expect((await (await lh.table('t')).toArrow()).numRows).toBe(ROWS);
      } finally {
        await lh.close();
      }
    });
  }
});

describe('a marker whose process runs (in-memory catalog)', () => {
  let dir: string;
  let catalog: Catalog;
  let lh: Lakehouse;
  let warehouse: string;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('day', new Utf8(), true), new Field('v', new Utf8(), true)]);
  beforeAll(async () => {
    dir = tempDir('create-marker-');
    warehouse = `file://${dir}/wh`;
    catalog = await Catalog.open({ dataDir: ':memory:' });
    lh = await Lakehouse.open({ catalog, warehouse });
  });
  afterAll(async () => {
    await lh?.close();
    await catalog?.close();
  });

  /** A table as a create from data by `marker`'s process leaves it before its first commit. */
  const marked = (name: string, marker: Record<string, unknown>) => catalog.createTable({
    name, namespace: 'default', path: joinUri(warehouse, 'default', name), schema, primaryKeys: ['id'], rangePartitions: ['day'],
    properties: { [MARKER]: JSON.stringify(marker) },
  });

  it('a creator alive on this host: Conflict naming it (createTable, ifNotExists, openOrCreate); a schema opens it; once it is gone, the data is written', { timeout: 60_000 }, async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const pid = other.pid!;
      await marked('busy', { pid, host: hostname(), started: Date.now(), start: processStartTime(pid) });
      for (const attempt of [
        () => lh.openOrCreate('busy', rows(), OPTS),
        () => lh.createTable('busy', rows(), OPTS),
        () => lh.createTable('busy', rows(), { ...OPTS, ifNotExists: true }),
      ]) {
        const e = await attempt().then(() => null, (x: unknown) => x);
        expect(LakeSoulError.is(e, 'Conflict')).toBe(true);
        expect(e).toMatchObject({ code: 'TABLE_BEING_CREATED', retryable: true });
        expect((e as Error).message).toMatch(new RegExp(`table 'default\\.busy' is being created with its first data by process ${pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*retry when it finished`));
      }
      // a scan reads it (empty); openOrCreate from a schema opens it as before
      expect((await (await lh.table('busy')).toArrow()).numRows).toBe(0);
      expect((await lh.openOrCreate('busy', schema, OPTS)).info.properties[MARKER]).toBeDefined();
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      const t = await lh.openOrCreate('busy', rows(100), OPTS);
      expect((await t.toArrow()).numRows).toBe(100);
      expect(t.info.properties[MARKER]).toBeUndefined();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a pid taken again by another process since (start differs) is not the creator: the create is done again', async () => {
    await marked('reused', { pid: process.pid, host: hostname(), started: Date.now(), start: 'another-boot:1' });
    const t = await lh.createTable('reused', rows(10), OPTS);
    expect((await t.toArrow()).numRows).toBe(10);
  });

  it('a creator on another host cannot be checked: Conflict that says how to get out', async () => {
    await marked('far', { pid: 1, host: `not-${hostname()}`, started: Date.now() });
    await expect(lh.openOrCreate('far', rows(10), OPTS)).rejects.toMatchObject({ kind: 'Conflict', code: 'TABLE_BEING_CREATED', message: expect.stringMatching(/another host.*drop the table/) });
  });

  it('a marked table with a commit is an ordinary table (the marker removal was missed)', async () => {
    await marked('committed', { pid: 999_999_999, host: hostname(), started: Date.now() });
    const t = await lh.table('committed');
    await t.write(rows(5));
    const opened = await lh.openOrCreate('committed', rows(), OPTS);
    expect(opened.info.tableId).toBe(t.info.tableId);
    // the missed removal is done: the table's info (as returned, and in the catalog) has no marker
    expect(opened.info.properties[MARKER]).toBeUndefined();
    expect((await catalog.getTable('committed', 'default')).properties[MARKER]).toBeUndefined();
    await expect(lh.createTable('committed', rows(), { ...OPTS, ifNotExists: true })).resolves.toMatchObject({ info: { tableId: t.info.tableId } });
    expect((await t.toArrow()).numRows).toBe(5);
  });

  it('a create in this process still writing: Conflict from another call; the marker is gone once it committed', { timeout: 60_000 }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const wrap = (s: ObjectStore): ObjectStore => {
      const put = s.put.bind(s);
      s.put = async (...a: Parameters<ObjectStore['put']>) => { await gate; return put(...a); };
      return s;
    };
    const slow = await Lakehouse.open({ catalog, warehouse, stores: { wrap } });
    const creating = slow.createTable('inflight', rows(1000), OPTS);
    creating.catch(() => {});
    let info;
    for (let i = 0; i < 500 && !info; i++) {
      info = (await catalog.listTables('default')).find((x) => x.name === 'inflight');
      if (!info) await new Promise((r) => setTimeout(r, 10));
    }
    expect(info?.properties[MARKER]).toBeDefined();
    expect(JSON.parse(info!.properties[MARKER]!)).toMatchObject({ pid: process.pid, host: hostname() });
    await expect(lh.openOrCreate('inflight', rows(3), OPTS)).rejects.toMatchObject({ code: 'TABLE_BEING_CREATED', message: expect.stringContaining(`process ${process.pid}`) });
    release();
    const t = await creating;
    expect(t.info.properties[MARKER]).toBeUndefined();
    expect((await lh.table('inflight')).info.properties[MARKER]).toBeUndefined();
    expect((await lh.openOrCreate('inflight', rows(3), OPTS)).info.tableId).toBe(t.info.tableId);
    expect((await t.toArrow()).numRows).toBe(1000);
  });

  it('openOrCreate whose create met a table that is gone when opened (an abandoned create a third call settled) creates it, not TABLE_NOT_FOUND', async () => {
    // as several openOrCreate at once after a killed create met it: the catalog refused this call's
    // row as existing, and the table was dropped before this call opened it
    const create = catalog.createTable.bind(catalog);
    let refusals = 0;
    catalog.createTable = async (o) => {
      if (o.name === 'flicker' && refusals++ === 0) throw new LakeSoulError('AlreadyExists', "table 'default.flicker' already exists", { code: 'TABLE_EXISTS' });
      return create(o);
    };
    try {
      const t = await lh.openOrCreate('flicker', rows(7), OPTS);
      expect(refusals).toBe(2);
      expect((await t.toArrow()).numRows).toBe(7);
    } finally {
      catalog.createTable = create;
    }
  });

  it('the files of a table made at the path after an abandoned create\'s files were listed are left: the replacement finds its table gone, and opens the new one', async () => {
    const abandoned = await marked('twin', { pid: 999_999_999, host: hostname(), started: Date.now() });
    const tableDir = join(dir, 'wh', 'default', 'twin');
    mkdirSync(join(tableDir, 'day=p0'), { recursive: true });
    writeFileSync(join(tableDir, 'day=p0', 'part-left_0000.parquet'), 'left by the killed write');
    // the replacing call's listing waits until another process has dropped the abandoned create and
    // made the table again with its first file (as an older version's settle does)
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let listings = 0;
    const wrap = (st: ObjectStore): ObjectStore => {
      const list = st.list.bind(st);
      st.list = (...a: Parameters<ObjectStore['list']>) => (async function* () {
        if (String(a[0]).includes('twin') && listings++ === 0) await gate;
        yield* list(...a);
      })();
      return st;
    };
    const settling = await Lakehouse.open({ catalog, warehouse, stores: { wrap } });
    try {
      const opened = settling.openOrCreate('twin', rows(5), OPTS);
      opened.catch(() => {});
      for (let i = 0; i < 500 && listings === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(listings).toBe(1);
      expect(await catalog.dropTableIfEmpty(abandoned.tableId)).toBe(true);
      const other = await catalog.createTable({ name: 'twin', namespace: 'default', path: joinUri(warehouse, 'default', 'twin'), schema, primaryKeys: ['id'], rangePartitions: ['day'] });
      writeFileSync(join(tableDir, 'day=p0', 'part-other_0000.parquet'), 'the other create\'s first file');
      release();
      const t = await opened;
      expect(t.info.tableId).toBe(other.tableId);
      expect(filesUnder(tableDir)).toContain(join('day=p0', 'part-other_0000.parquet'));
    } finally {
      release();
      await settling.close();
    }
  });

  it('creates meeting an abandoned create while another makes it again: refused as being created (retryable), never TABLE_PATH_NOT_EMPTY for its files', { timeout: 60_000 }, async () => {
    await marked('crowd', { pid: 999_999_999, host: hostname(), started: Date.now() });
    const tableDir = join(dir, 'wh', 'default', 'crowd');
    mkdirSync(join(tableDir, 'day=p0'), { recursive: true });
    writeFileSync(join(tableDir, 'day=p0', 'part-left_0000.parquet'), 'left by the killed write');
    // the replacing call's deletion of the abandoned files waits while the other creates run
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let deleting = 0;
    const wrap = (st: ObjectStore): ObjectStore => {
      const del = st.delete.bind(st);
      st.delete = async (...a: Parameters<ObjectStore['delete']>) => {
        if (String(a[0]).includes('part-left')) { deleting++; await gate; }
        return del(...a);
      };
      const many = (st as { deleteMany?: (keys: readonly string[], o?: unknown) => Promise<void> }).deleteMany;
      if (many) {
        (st as { deleteMany?: unknown }).deleteMany = async (keys: readonly string[], o?: unknown) => {
          if (keys.some((k) => k.includes('part-left'))) { deleting++; await gate; }
          return many.call(st, keys, o);
        };
      }
      return st;
    };
    const replacing = await Lakehouse.open({ catalog, warehouse, stores: { wrap } });
    try {
      const first = replacing.openOrCreate('crowd', rows(9), OPTS);
      first.catch(() => {});
      for (let i = 0; i < 500 && deleting === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(deleting).toBe(1);
      for (const attempt of [
        () => lh.openOrCreate('crowd', rows(3), OPTS),
        () => lh.createTable('crowd', rows(3), OPTS),
        () => lh.createTable('crowd', rows(3), { ...OPTS, ifNotExists: true }),
      ]) {
        await expect(attempt()).rejects.toMatchObject({ kind: 'Conflict', code: 'TABLE_BEING_CREATED', retryable: true, message: expect.stringContaining(`process ${process.pid}`) });
      }
      release();
      const t = await first;
      expect((await t.toArrow()).numRows).toBe(9);
      expect(filesUnder(tableDir).some((f) => f.includes('part-left'))).toBe(false);
      // a retry now opens it
      expect((await lh.openOrCreate('crowd', rows(3), OPTS)).info.tableId).toBe(t.info.tableId);
    } finally {
      release();
      await replacing.close();
    }
  });

  it('a write into an abandoned create committing after the table was made again fails at its commit, its rows not taken by the new table', async () => {
    const abandoned = await marked('late', { pid: 999_999_999, host: hostname(), started: Date.now() });
    const old = await lh.table('late');
    expect(old.info.tableId).toBe(abandoned.tableId);
    const t = await lh.openOrCreate('late', rows(4), OPTS);
    expect(t.info.tableId).not.toBe(abandoned.tableId);
    await expect(old.write([{ id: 100, day: 'p0', v: 'late' }])).rejects.toMatchObject({ kind: 'NotFound' });
    expect((await (await lh.table('late')).toArrow()).numRows).toBe(4);
  });

  it('the marker property is not set by hand', async () => {
    await expect(lh.createTable('byhand', schema, { properties: { [MARKER]: '{}' } })).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });
});
