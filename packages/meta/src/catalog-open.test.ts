import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PgDriver } from './pg-driver.js';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDriver, PGLITE_LOCK_FILE } from './pglite-driver.js';
import { CATALOG_SERVER_FILE } from './catalog-server.js';
import { processAlive, processStartTime } from './process-alive.js';
import { mapSqlError } from './sql-driver.js';

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

const schema = new Schema([new Field('id', new Int64(), false)]);

describe('Catalog.open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-open-'));
  const pgSchema = `open_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!process.env.LAKESOUL_TEST_PG_URL) return;
    const c = new pg.Client({ connectionString: testUrl() });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
    await c.end();
  });

  it('opens an embedded catalog directory, which persists across reopen', async () => {
    const dataDir = join(dir, 'catalog');
    const c1 = await Catalog.open({ defaultDataDir: dataDir, env: {} });
    expect(c1.driver.kind).toBe('pglite');
    const t = await c1.createTable({ name: 'persisted', path: 'file:///tmp/persisted', schema });
    await c1.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path: 'file:///tmp/persisted/part-a_0000.parquet', op: 'add', size: 1n, existCols: ['id'] }] }] });
    await c1.close();
    await c1.close(); // idempotent
    await expect(c1.getTable('persisted')).rejects.toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
    const c2 = await Catalog.open({ dataDir, env: { LAKESOUL_PG_URL: 'jdbc:postgresql://127.0.0.1:1/never' } });
    expect((await c2.getTable('persisted')).tableId).toBe(t.tableId);
    expect((await c2.getSnapshot(t.tableId))[0].files.map((f) => f.path)).toEqual(['file:///tmp/persisted/part-a_0000.parquet']);
    await c2.close();
  });

  it("keeps an embedded catalog directory to its owner (PGlite writes its files world-writable), an existing one too", async () => {
    const dataDir = join(dir, 'private');
    const c1 = await Catalog.open({ dataDir, env: {} });
    await c1.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    // (PGlite 0.5 creates the files inside with mode 0666: only the directory's mode keeps others out)
    chmodSync(dataDir, 0o755); // a catalog made before the fix
    const c2 = await Catalog.open({ dataDir, env: {} });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    await c2.close();
  });

  it('keeps a second process out of an embedded catalog directory, and takes over a stale lock', async () => {
    const dataDir = join(dir, 'locked');
    mkdirSync(dataDir, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, PGLITE_LOCK_FILE), String(other.pid));
      const e = await Catalog.open({ dataDir, env: {}, lockWaitMs: 0 }).catch((x) => x);
      expect(e).toBeInstanceOf(LakeSoulError);
      expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_LOCKED' });
      expect(e.message).toContain(dataDir);
      expect(e.message).toContain(String(other.pid));
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
    const c = await Catalog.open({ dataDir, env: {} }); // the lock's process is gone
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(true);
    await c.close();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it('waits for another process that has the directory open (a CLI command), then opens it; or fails after the wait, saying so', async () => {
    const dataDir = join(dir, 'waited');
    await (await Catalog.open({ dataDir, env: {} })).close();
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { Catalog } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      console.log('open');
      setTimeout(() => c.close().then(() => console.log('closed')), 1500);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((r) => holder.stdout!.on('data', (d) => { out += d; if (out.includes('open')) r(); }));
    const waits: unknown[] = [];
    // a wait shorter than the holder's: refused, naming it and the wait; a process warning said it waited
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const short = await Catalog.open({ dataDir, env: { LAKESOUL_CATALOG_WAIT: '0.3' } }).catch((x) => x);
    process.off('warning', onWarning);
    expect(short).toMatchObject({ kind: 'Catalog', code: 'CATALOG_LOCKED', context: { pid: holder.pid, dataDir } });
    expect(short.message).toMatch(/in use by process \d+.*\(waited 0.3 s for it: LAKESOUL_CATALOG_WAIT or lockWaitMs sets how long\)$/);
    expect(warnings.filter((w) => (w as NodeJS.ErrnoException).code === 'LAKESOUL_CATALOG_WAIT').map((w) => w.message))
      .toEqual([`waiting for process ${holder.pid}, which has the embedded catalog ${dataDir} open, for up to 0.3 s (lockWaitMs or LAKESOUL_CATALOG_WAIT sets how long; onLockWait replaces this warning)`]);
    // the default wait outlasts it: opened once the holder closed the directory
    const t0 = Date.now();
    const c = await Catalog.open({ dataDir, env: {}, onLockWait: (w) => waits.push(w) });
    expect(out).toContain('closed');
    expect(Date.now() - t0).toBeGreaterThan(300);
    expect(waits).toEqual([{ pid: holder.pid, dataDir, waitMs: 60_000 }]);
    expect(c.driver).toBeInstanceOf(PGliteDriver);
    await c.close();
    await new Promise((r) => (holder.exitCode !== null ? r(null) : holder.once('exit', r)));
    // a signal ends the wait
    writeFileSync(join(dataDir, PGLITE_LOCK_FILE), `${process.ppid} ${processStartTime(process.ppid)}`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(Catalog.open({ dataDir, env: {}, signal: ac.signal })).rejects.toMatchObject({ kind: 'Aborted' });
    rmSync(join(dataDir, PGLITE_LOCK_FILE));
  }, 30_000);

  it('a lock or a server claim naming a pid another process has taken since (a crash, a reboot) is stale: taken over, not waited on', async () => {
    const dataDir = join(dir, 'reused');
    await (await Catalog.open({ dataDir, env: {} })).close();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const start = processStartTime(other.pid!);
      expect(start, '/proc/<pid>/stat').toMatch(/^[0-9a-f-]*:\d+$/);
      // held by that very process: refused
      writeFileSync(join(dataDir, PGLITE_LOCK_FILE), `${other.pid} ${start}`);
      await expect(Catalog.open({ dataDir, env: {}, lockWaitMs: 0 })).rejects.toMatchObject({ code: 'CATALOG_LOCKED' });
      // its pid, but another start: the holder died and the pid went to another process
      writeFileSync(join(dataDir, PGLITE_LOCK_FILE), `${other.pid} ${start}1`);
      writeFileSync(join(dataDir, CATALOG_SERVER_FILE), JSON.stringify({ pid: other.pid, socket: join(dir, 'no-such.sock'), start: `${start}1` }));
      const t0 = Date.now();
      const c = await Catalog.open({ dataDir, env: {} });
      expect(c.driver).toBeInstanceOf(PGliteDriver);
      expect(Date.now() - t0, 'not waited on the dead server\'s socket').toBeLessThan(10_000);
      await c.close();
      expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
  });

  it('a lock naming a process that has ended but not been collected by its parent (a zombie, still signallable) is stale', async () => {
    const dataDir = join(dir, 'zombie');
    await (await Catalog.open({ dataDir, env: {} })).close();
    // the shell's child ends at once; the shell then becomes \`sleep\`, which never collects it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d)))));
      const start = processStartTime(zombie);
      const state = () => readFileSync(`/proc/${zombie}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      for (let i = 0; state() !== 'Z' && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
      expect(state()).toBe('Z');
      expect(processAlive(zombie), 'a zombie').toBe(false);
      expect(processAlive(zombie, start)).toBe(false);
      expect(processAlive(parent.pid!, processStartTime(parent.pid!)), 'its parent').toBe(true);
      writeFileSync(join(dataDir, PGLITE_LOCK_FILE), `${zombie} ${start}`);
      const c = await Catalog.open({ dataDir, env: {} });
      expect(c.driver).toBeInstanceOf(PGliteDriver);
      await c.close();
    } finally {
      parent.kill();
      await new Promise((r) => parent.once('exit', r));
    }
  });

  it('a lock file still empty (its writer between creating it and writing its pid) is not taken over; one a power loss left empty is', async () => {
    const dataDir = join(dir, 'emptylock');
    await (await Catalog.open({ dataDir, env: {} })).close();
    // an earlier version creates the file, then writes its pid: a reader in between took it for
    // stale and removed it, and two processes ran PGlite on one directory (concurrent imports lost commits)
    const lock = JSON.stringify(join(dataDir, PGLITE_LOCK_FILE));
    const other = spawn(process.execPath, ['-e', `const fs = require('node:fs'); fs.writeFileSync(${lock}, '');
      setTimeout(() => fs.writeFileSync(${lock}, String(process.pid)), 400); setTimeout(() => {}, 60000);`], { stdio: 'ignore' });
    try {
      while (!existsSync(join(dataDir, PGLITE_LOCK_FILE))) await new Promise((r) => setTimeout(r, 5));
      await expect(Catalog.open({ dataDir, env: {}, lockWaitMs: 0 })).rejects.toMatchObject({ code: 'CATALOG_LOCKED', context: { pid: other.pid } });
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
    writeFileSync(join(dataDir, PGLITE_LOCK_FILE), '');
    utimesSync(join(dataDir, PGLITE_LOCK_FILE), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const c = await Catalog.open({ dataDir, env: {} });
    await c.close();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it('opens a catalog whose postmaster.pid a power loss left empty (PGlite failed to initialize until it was deleted by hand)', async () => {
    const dataDir = join(dir, 'powerloss');
    const c1 = await Catalog.open({ dataDir, env: {} });
    await c1.createTable({ name: 'kept', path: 'file:///tmp/kept', schema });
    await c1.close();
    writeFileSync(join(dataDir, 'postmaster.pid'), '');
    const c2 = await Catalog.open({ dataDir, env: {} });
    expect((await c2.listTables()).map((t) => t.name)).toEqual(['kept']);
    await c2.close();
  });

  it('shares one PGlite among the catalogs a process opens on a directory (two lost each other\'s commits)', async () => {
    const dataDir = join(dir, 'shared');
    // opened at once, twice more through another spelling of the same directory
    const [a, b] = await Promise.all([Catalog.open({ dataDir, env: {} }), Catalog.open({ dataDir, env: {} })]);
    const c = await Catalog.open({ dataDir: join(dir, '.', 'shared', '..', 'shared'), env: {} });
    expect((a.driver as PGliteDriver).db).toBe((b.driver as PGliteDriver).db);
    expect((c.driver as PGliteDriver).db).toBe((a.driver as PGliteDriver).db);
    const ta = await a.createTable({ name: 'from_a', path: 'file:///tmp/from_a', schema });
    const tb = await b.createTable({ name: 'from_b', path: 'file:///tmp/from_b', schema });
    expect((await c.listTables()).map((t) => t.name).sort()).toEqual(['from_a', 'from_b']);
    await a.close();
    // the others go on; the directory stays locked until the last one closes
    expect((await b.getTable('from_a')).tableId).toBe(ta.tableId);
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(true);
    await b.close();
    await c.close();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
    // both tables were written to the directory
    const d = await Catalog.open({ dataDir, env: {} });
    expect((await d.getTable('from_b')).tableId).toBe(tb.tableId);
    expect((await d.listTables()).map((t) => t.name).sort()).toEqual(['from_a', 'from_b']);
    // reopened while its close is still running: an open waits for it, a synchronous one is refused
    const closing = d.close();
    expect(() => new PGliteDriver(dataDir)).toThrow(expect.objectContaining({ code: 'CATALOG_CLOSING' }));
    const e = await Catalog.open({ dataDir, env: {} });
    await closing;
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(true); // the new one's lock
    expect((await e.listTables()).map((t) => t.name).sort()).toEqual(['from_a', 'from_b']);
    await e.close();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it('lets a program that does not close its embedded catalog exit (a PostgreSQL timer kept it alive for ever)', async () => {
    const dataDir = join(dir, 'unclosed');
    const first = await Catalog.open({ dataDir, env: {} });
    await first.close();
    const meta = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
    const code = `const { Catalog } = await import(${meta});
      const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      console.log((await c.listTables()).length);`;
    const t0 = Date.now();
    const exited = await new Promise<number | null>((res) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore' });
      const timer = setTimeout(() => { p.kill('SIGKILL'); res(null); }, 40_000);
      p.on('exit', (c) => { clearTimeout(timer); res(c); });
    });
    expect(exited, 'still running after 40 s').toBe(0);
    // what remains: PostgreSQL's statistics timer (10 s) after the last query
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);

  it('shares an embedded directory with other processes while open with share: true', async () => {
    const dataDir = join(dir, 'served');
    const holder = await Catalog.open({ dataDir, env: {}, share: true });
    await holder.createTable({ name: 'held', path: 'file:///tmp/held', schema });
    // another process opens the same directory (as the CLI does): through the holder, not CATALOG_LOCKED
    const meta = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
    const code = `const { Catalog } = await import(${meta});
      const c = await Catalog.open({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      const before = (await c.listTables()).map((t) => t.name);
      await c.createTable({ name: 'from_child', path: 'file:///tmp/from_child', schema: (await c.getTable('held')).schema });
      console.log(JSON.stringify({ driver: c.driver.constructor.name, before }));
      await c.close();`;
    const child = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (c) => res({ code: c, out, err }));
    });
    expect(child.code, child.err).toBe(0);
    expect(JSON.parse(child.out.trim().split('\n').at(-1)!)).toEqual({ driver: 'ServedCatalogDriver', before: ['held'] });
    expect((await holder.listTables()).map((t) => t.name).sort()).toEqual(['from_child', 'held']);
    await holder.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it('runs an embedded catalog with small buffers and WAL, on new directories and on ones created with PostgreSQL defaults', async () => {
    const show = async (d: PGliteDriver, name: string) => (await d.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
    const fresh = await PGliteDriver.open({ dataDir: join(dir, 'small') });
    expect(await show(fresh, 'shared_buffers')).toBe('8MB');
    expect(await show(fresh, 'max_connections')).toBe('3');
    expect(await show(fresh, 'max_wal_size')).toBe('64MB');
    expect(await show(fresh, 'wal_segment_size')).toBe('1MB');
    expect(await show(fresh, 'min_wal_size')).toBe('2MB');
    await fresh.close();
    const tuned = await PGliteDriver.open({ dataDir: join(dir, 'small'), settings: { shared_buffers: '16MB' } });
    expect(await show(tuned, 'shared_buffers')).toBe('16MB');
    await tuned.close();
    // A directory created by PGlite itself (16 MB WAL segments, 128 MB buffers in its postgresql.conf):
    // it opens with the small buffers, and min_wal_size follows its segment size (2 segments).
    const legacyDir = join(dir, 'legacy');
    const legacy = await PGlite.create(legacyDir);
    await legacy.close();
    const reopened = await PGliteDriver.open({ dataDir: legacyDir });
    expect(await show(reopened, 'wal_segment_size')).toBe('16MB');
    expect(await show(reopened, 'min_wal_size')).toBe('32MB');
    expect(await show(reopened, 'shared_buffers')).toBe('8MB');
    await reopened.close();
    const bad = await PGliteDriver.open({ dataDir: join(dir, 'small'), settings: { shared_buffers: 'lots' } }).catch((x) => x);
    expect(bad).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE' });
    expect(bad.message).toContain(join(dir, 'small'));
    expect(existsSync(join(dir, 'small', PGLITE_LOCK_FILE))).toBe(false);
  });

  it('opens PostgreSQL from LAKESOUL_PG_URL (jdbc) + LAKESOUL_PG_USERNAME/PASSWORD, and from lakesoul_home', async () => {
    const u = new URL(testUrl());
    const jdbc = `jdbc:postgresql://${u.host}${u.pathname}?stringtype=unspecified`;
    const env = { LAKESOUL_PG_URL: jdbc, LAKESOUL_PG_USERNAME: decodeURIComponent(u.username), LAKESOUL_PG_PASSWORD: decodeURIComponent(u.password) };
    const c = await Catalog.open({ env, schema: pgSchema });
    expect(c.driver.kind).toBe('pg');
    expect((c.driver as PgDriver).queryTimeoutMillis).toBe(120_000);
    // the statement timeout from the environment (the CLI's only way to set it)
    const timed = await Catalog.open({ env: { ...env, LAKESOUL_PG_QUERY_TIMEOUT: '2.5' }, schema: pgSchema });
    expect((timed.driver as PgDriver).queryTimeoutMillis).toBe(2500);
    await timed.close();
    await expect(Catalog.open({ env: { ...env, LAKESOUL_PG_QUERY_TIMEOUT: '2m' }, schema: pgSchema }))
      .rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringContaining("LAKESOUL_PG_QUERY_TIMEOUT must be a number of seconds greater than 0 (how long one catalog statement may wait for PostgreSQL's answer), not '2m'") });
    await c.createTable({ name: 'from_env', path: 'file:///tmp/from_env', schema });
    await c.close();
    const props = join(dir, 'lakesoul.properties');
    writeFileSync(props, `lakesoul.pg.url=${jdbc}\nlakesoul.pg.username=${env.LAKESOUL_PG_USERNAME}\nlakesoul.pg.password=${env.LAKESOUL_PG_PASSWORD}\n`);
    const c2 = await Catalog.open({ env: { lakesoul_home: props }, schema: pgSchema });
    expect((await c2.getTable('from_env')).path).toBe('file:///tmp/from_env');
    await c2.close();
  });

  it('maps connection and SQL failures to LakeSoulError', async () => {
    const e = await Catalog.open({ url: 'postgres://u:secret@127.0.0.1:1/none', env: {} }).catch((x) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toMatchObject({ kind: 'Catalog', code: 'CATALOG_UNAVAILABLE', retryable: true });
    expect(e.message).toContain('127.0.0.1:1');
    expect(e.message).not.toContain('secret');
    const d = await PgDriver.connect({ url: testUrl(), schema: pgSchema });
    await expect(d.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ kind: 'Catalog', context: { sqlState: '42P01' } });
    await expect(d.query('SELECT 1/0')).rejects.toMatchObject({ kind: 'InvalidArgument', context: { sqlState: '22012' } });
    // the callback's own error comes back unchanged after the rollback (it was taken for a lost connection)
    const boom = new Error('boom');
    await expect(d.transaction(async (tx) => { await tx.query('SELECT 1'); throw boom; })).rejects.toBe(boom);
    const ac = new AbortController();
    ac.abort();
    await expect(d.query('SELECT 1', [], { signal: ac.signal })).rejects.toMatchObject({ kind: 'Aborted' });
    await d.close();
    const conflict = mapSqlError(Object.assign(new Error('duplicate key value violates unique constraint "partition_info_pkey"'), { code: '23505', table: 'partition_info', constraint: 'partition_info_pkey' }));
    expect(conflict).toMatchObject({ kind: 'Conflict', retryable: true, code: 'COMMIT_CONFLICT' });
    const dup = mapSqlError(Object.assign(new Error('dup'), { code: '23505', table: 'table_name_id' }));
    expect(dup.kind).toBe('AlreadyExists');
    const p = await PGliteDriver.open();
    await expect(p.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ kind: 'Catalog', context: { sqlState: '42P01' } });
    await p.close();
  });
});

describe('catalogs older LakeSoul releases created', () => {
  it("refuses one without the domain columns (LakeSoul before 2.4) naming them, before any DDL", async () => {
    const d = await PGliteDriver.open();
    try {
      // the tables as LakeSoul 2.3's meta_init.sql created them: no domain column
      await d.query('CREATE TABLE namespace (namespace text PRIMARY KEY, properties json, comment text)');
      await d.query("CREATE TABLE table_info (table_id text PRIMARY KEY, table_namespace text DEFAULT 'default', table_name text, table_path text, table_schema text, properties json, partitions text)");
      await d.query("CREATE TABLE partition_info (table_id text, partition_desc text, version int, commit_op text, timestamp bigint, snapshot uuid[], expression text, PRIMARY KEY (table_id, partition_desc, version))");
      const err = await new Catalog(d).bootstrap().then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ kind: 'Unsupported', code: 'CATALOG_SCHEMA_OUTDATED' });
      expect((err as LakeSoulError).message).toMatch(/lacks namespace\.domain, table_info\.domain, partition_info\.domain .*LakeSoul before 2\.4.*nothing was changed/);
      const created = await d.query("SELECT 1 FROM pg_class WHERE relname IN ('table_name_id', 'discard_compressed_file_info', 'table_info_name_index')");
      expect(created.rowCount).toBe(0);
    } finally {
      await d.close();
    }
  });
});
