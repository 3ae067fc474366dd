/**
 * Multi-process commit concurrency on the real PostgreSQL server: several child processes, each with
 * its own Catalog and connection pool, committing to one partition at once.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog, PARTITION_LOCKS_PER_COMMIT } from './catalog.js';
import { PgDriver } from './pg-driver.js';
import type { TableInfo } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const worker = join(here, 'testing', 'commit-worker.mjs');
const openWorker = join(here, 'testing', 'open-worker.mjs');

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

interface WorkerLine { ok: boolean; path: string; commitId?: string; version?: number; retries?: number; kind?: string; code?: string; retryable?: boolean; message?: string; lakesoul?: boolean }

describe('multi-process commits on PostgreSQL', () => {
  const schema = `concurrency_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let buildDir: string;
  let catalog: Catalog;

  beforeAll(async () => {
    const url = testUrl();
    // The children run a fresh compilation of this package's sources (not a possibly stale dist/).
    buildDir = mkdtempSync(join(tmpdir(), 'lakesoul-meta-build-'));
    symlinkSync(join(pkgDir, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.build.json'), '--outDir', join(buildDir, 'dist'), '--declaration', 'false', '--sourceMap', 'false', '--inlineSources', 'false'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`compiling @lakesoul-ts/meta for the worker processes failed:\n${r.stdout}${r.stderr}`);
    catalog = new Catalog(await PgDriver.connect({ url, schema }));
    await catalog.bootstrap();
  }, 180_000);

  afterAll(async () => {
    await catalog?.close();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: testUrl() });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  function run(table: TableInfo, name: string, op: string, count: number, startAt: number, extra: Record<string, string> = {}, script = worker): Promise<WorkerLine[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script], {
        env: {
          ...process.env, META_DIST: join(buildDir, 'dist'), PG_URL: testUrl(), PG_SCHEMA: schema, TABLE_ID: table.tableId, TABLE_PATH: table.path,
          OP: op, COUNT: String(count), PARTITION: '-5', NAME: name, START_AT: String(startAt), ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`worker ${name} exited with ${code}: ${err}`));
        else resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as WorkerLine));
      });
    });
  }

  async function table(pk: boolean): Promise<TableInfo> {
    const n = `c_${randomUUID().slice(0, 8)}`;
    return catalog.createTable({
      name: n, path: `file:///tmp/lakesoul-concurrency/${n}`, primaryKeys: pk ? ['id'] : [], hashBucketNum: pk ? 1 : undefined,
      schema: new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true)]),
    });
  }

  it('8 processes x 50 MergeCommits to one partition: versions 0..399, every commit exactly once', async () => {
    const t = await table(true);
    const startAt = Date.now() + 2500;
    const results = await Promise.all(Array.from({ length: 8 }, (_, w) => run(t, `w${w}`, 'MergeCommit', 50, startAt)));
    console.info(`[concurrency] 8 x 50 merges took ${Date.now() - startAt} ms after the common start`);
    const lines = results.flat();
    const failures = lines.filter((l) => !l.ok);
    expect(failures).toEqual([]);
    expect(lines).toHaveLength(400);
    for (const r of results) {
      const vs = r.map((l) => l.version!);
      expect(vs).toEqual([...vs].sort((a, b) => a - b)); // each writer's versions increase
    }
    expect(lines.map((l) => l.version).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    const history = await catalog.history(t.tableId);
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(history.every((h) => h.commitOp === 'MergeCommit')).toBe(true);
    const snap = await catalog.getSnapshot(t.tableId);
    expect(snap).toHaveLength(1);
    expect(snap[0].version).toBe(399);
    const ids = snap[0].files.map((f) => f.commitId);
    expect(ids).toHaveLength(400);
    expect(new Set(ids).size).toBe(400);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.commitId)));
    expect(new Set(snap[0].files.map((f) => f.path))).toEqual(new Set(lines.map((l) => l.path)));
    const uncommitted = await catalog.driver.query('SELECT 1 FROM data_commit_info WHERE table_id = $1 AND NOT committed', [t.tableId]);
    expect(uncommitted.rowCount).toBe(0);
  });

  it('a commit of more partitions than it locks one by one takes the table gate: small commits beside it keep every version', async () => {
    // a lock per partition filled PostgreSQL's lock table ("out of shared memory" at 20,000 partitions)
    const n = `c_${randomUUID().slice(0, 8)}`;
    const t = await catalog.createTable({
      name: n, path: `file:///tmp/lakesoul-concurrency/${n}`, primaryKeys: ['id'], hashBucketNum: 1, rangePartitions: ['p'],
      schema: new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), true)]),
    });
    const file = (desc: string, k: string) => ({ path: `${t.path}/${desc}/part-${k.padStart(16, 'x')}_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] });
    const wide = Array.from({ length: PARTITION_LOCKS_PER_COMMIT + 1 }, (_, i) => `p=v${i}`);
    const small = (k: number) => catalog.commit({ tableId: t.tableId, op: 'MergeCommit', partitions: [{ partitionDesc: 'p=v7', files: [file('p=v7', `s${k}`)] }] });
    const results = await Promise.all([
      catalog.commit({ tableId: t.tableId, op: 'MergeCommit', partitions: wide.map((d) => ({ partitionDesc: d, files: [file(d, 'w')] })) }),
      ...Array.from({ length: 10 }, (_, k) => small(k)),
    ]);
    expect(results).toHaveLength(11);
    expect((await catalog.history(t.tableId, { partitionDesc: 'p=v7' })).map((h) => h.version)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    const snap = await catalog.getSnapshot(t.tableId, { partitions: ['p=v7'] });
    expect(snap[0]!.files).toHaveLength(11);
    expect((await catalog.listPartitions(t.tableId)).length).toBe(wide.length);
  });

  it('catalogs opened by other processes never fail or block commits (2 x 100 Merges vs 2 x 40 opens)', async () => {
    // issue 12 §8: opening an existing catalog used to run CREATE INDEX IF NOT EXISTS, whose lock on
    // partition_info deadlocked with a commit's UPDATE data_commit_info; both sides failed.
    const t = await table(true);
    const startAt = Date.now() + 2500;
    const [m1, m2, o1, o2] = await Promise.all([
      run(t, 'p', 'MergeCommit', 100, startAt),
      run(t, 'q', 'MergeCommit', 100, startAt),
      run(t, 'o1', 'OPEN', 40, startAt, {}, openWorker),
      run(t, 'o2', 'OPEN', 40, startAt, {}, openWorker),
    ]);
    const commits = [...m1, ...m2];
    expect(commits.filter((l) => !l.ok)).toEqual([]);
    expect([...o1, ...o2].filter((l) => !l.ok)).toEqual([]);
    expect(commits).toHaveLength(200);
    expect(o1.length + o2.length).toBe(80);
    expect(commits.map((l) => l.version).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a commit the database aborts as a deadlock victim (40P01) is retried and succeeds', async () => {
    const t = await table(false);
    const other = new pg.Client({ connectionString: testUrl(), options: `-c search_path="${schema}"` });
    await other.connect();
    try {
      // The other session holds partition_info in SHARE mode: the commit's INSERT waits on it while
      // holding its partition advisory lock; then the other session asks for that advisory lock.
      // The commit waited first, so its deadlock check fires first and it is the victim.
      // PostgreSQL's deadlock check runs in the backend whose wait outlasts deadlock_timeout first,
      // and that backend is the victim: on a loaded machine the other session's check could come
      // first. Its timeout raised (a superuser setting: the throwaway server's user is one), the
      // commit's backend is always the one to check.
      await other.query("SET deadlock_timeout = '60s'").catch(() => undefined);
      await other.query('BEGIN');
      await other.query('LOCK TABLE partition_info IN SHARE MODE');
      const committing = catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path: `${t.path}/part-dl_0000.parquet`, op: 'add', size: 1n, existCols: ['id'] }] }] });
      for (let i = 0; i < 100; i++) {
        const w = await other.query("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted AND c.relname = 'partition_info'");
        if (w.rowCount) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const otherLock = other.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [t.tableId, '-5']);
      await otherLock; // granted once the commit's transaction was aborted
      await other.query('COMMIT');
      const r = await committing;
      expect(r.retries).toBeGreaterThanOrEqual(1);
      expect(r.versions.get('-5')).toBe(0);
      expect((await catalog.getSnapshot(t.tableId))[0].files.map((f) => f.path)).toEqual([`${t.path}/part-dl_0000.parquet`]);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
    }
  });

  it('a drop waits for the commits under way and removes what they added (it left their versions behind, or deadlocked with them)', async () => {
    const t = await table(false);
    const file = (n: string) => ({ path: `${t.path}/part-${n}_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] });
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('b0')] }] });
    const other = new pg.Client({ connectionString: testUrl(), options: `-c search_path="${schema}"` });
    await other.connect();
    const waiting = async (what: string) => {
      for (let i = 0; i < 100; i++) {
        if ((await other.query(`SELECT 1 FROM pg_locks WHERE locktype = ANY($1::text[]) AND NOT granted`, [what.split(' or ')])).rowCount) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nothing waits on a ${what} lock`);
    };
    try {
      // a commit parked inside its phase-2 transaction, on the partition's lock (as behind another writer)
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [t.tableId, '-5']);
      const committing = catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('a')] }] });
      await waiting('advisory');
      // the drop waits for that commit's hold on the table row
      let dropped = false;
      const dropping = catalog.dropTable(t.tableId).finally(() => { dropped = true; });
      await waiting('tuple or transactionid');
      expect(dropped).toBe(false);
      await other.query('COMMIT');
      expect((await committing).versions.get('-5')).toBe(1);
      expect((await dropping).files.sort()).toEqual([file('a').path, file('b0').path]);
      for (const rel of ['partition_info', 'data_commit_info', 'table_info']) {
        const left = await other.query(`SELECT count(*)::int AS n FROM ${rel} WHERE table_id = $1`, [t.tableId]);
        expect({ rel, n: left.rows[0].n }).toEqual({ rel, n: 0 });
      }
      // a commit after the drop finds the table gone
      await expect(catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('c')] }] }))
        .rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
    }
  });

  it('consecutive incremental reads ending "now" miss no commit that was in flight: versions are dated after their locks, and readers wait for commits in flight', async () => {
    const t = await table(false);
    const file = (n: string) => ({ path: `${t.path}/part-${n}_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] });
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('b0')] }] });
    const other = new pg.Client({ connectionString: testUrl(), options: `-c search_path="${schema}"` });
    await other.connect();
    try {
      // writer A is parked inside its commit on the partition's lock (as behind another writer)
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [t.tableId, '-5']);
      const a = catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file('a')] }] });
      for (let i = 0; i < 100; i++) {
        const w = await other.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        if (w.rowCount) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // a consumer polls [start, now) while A is in flight: the poll waits for A instead of missing it
      const start = 0;
      const e1 = Date.now();
      let polled = false;
      const poll1 = catalog.getSnapshot(t.tableId, { incremental: { start, end: e1 } }).finally(() => { polled = true; });
      await new Promise((r) => setTimeout(r, 300));
      expect(polled).toBe(false);
      await other.query('COMMIT');
      await a;
      const e2 = Date.now() + 1;
      const poll2 = await catalog.getSnapshot(t.tableId, { incremental: { start: e1, end: e2 } });
      const seen = [...(await poll1), ...poll2].flatMap((p) => p.files.map((f) => f.path.replace(/^.*part-(\w+)_0000\.parquet$/, '$1')));
      expect(seen.sort()).toEqual(['a', 'b0']);
      // the later version carries the later time
      const history = await catalog.history(t.tableId);
      const ts = history.filter((h) => h.partitionDesc === '-5').sort((x, y) => x.version - y.version).map((h) => h.timestamp);
      expect(ts[1]).toBeGreaterThan(ts[0]!);
      expect(ts[1]).toBeGreaterThanOrEqual(e1);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
    }
  });

  it('a read waiting for a writer stalled in its commit does not stop the other writers', async () => {
    const t = await table(false);
    const file = (n: string) => ({ path: `${t.path}/part-${n}_0000.parquet`, op: 'add' as const, size: 1n, existCols: ['id'] });
    const other = new pg.Client({ connectionString: testUrl(), options: `-c search_path="${schema}"` });
    await other.connect();
    try {
      // a writer stalled inside its commit: it holds the table's commit gate (shared)
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock_shared(hashtext($1)::bigint)', [t.tableId]);
      let polled = false;
      const poll = catalog.getSnapshot(t.tableId, { incremental: { start: 0, end: Date.now() } }).finally(() => { polled = true; });
      await new Promise((r) => setTimeout(r, 300));
      expect(polled).toBe(false); // it waits for the stalled writer
      // other writers commit meanwhile (an exclusive request by the reader queued them behind it)
      const t0 = Date.now();
      for (const n of ['w1', 'w2']) await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [file(n)] }] });
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(polled).toBe(false);
      await other.query('COMMIT');
      await poll;
      // an abort ends the wait promptly
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock_shared(hashtext($1)::bigint)', [t.tableId]);
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 200);
      await expect(catalog.getSnapshot(t.tableId, { incremental: { start: 0, end: Date.now() }, signal: ctl.signal })).rejects.toMatchObject({ kind: 'Aborted' });
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
    }
  });

  it('without the advisory lock, the primary-key conflict signal drives rebase and retry (4 x 25 Merges)', async () => {
    const t = await table(true);
    const startAt = Date.now() + 2500;
    const results = await Promise.all(Array.from({ length: 4 }, (_, w) => run(t, `n${w}`, 'MergeCommit', 25, startAt, { COMMIT_LOCK: '0', MAX_RETRIES: '200' })));
    const lines = results.flat();
    expect(lines.filter((l) => !l.ok)).toEqual([]);
    expect(lines.map((l) => l.version).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const retries = lines.reduce((s, l) => s + (l.retries ?? 0), 0);
    expect(retries).toBeGreaterThan(0); // conflicts really happened and were resolved
    console.info(`[concurrency] no advisory lock, 4 x 25 merges: ${retries} primary-key conflicts retried`);
    const snap = await catalog.getSnapshot(t.tableId);
    expect(new Set(snap[0].files.map((f) => f.commitId))).toEqual(new Set(lines.map((l) => l.commitId)));
    expect(snap[0].files).toHaveLength(100);
  });

  it('a CompactionCommit racing appends keeps every appended commit', async () => {
    const t = await table(false);
    const sources = new Map<string, string[]>(); // compacted file -> files it replaced
    const seed = await Promise.all([0, 1, 2].map(async (i) => {
      const path = `${t.path}/part-seed${i}_0000.parquet`;
      await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path, op: 'add', size: 1n, existCols: ['id'] }] }] });
      return path;
    }));
    const startAt = Date.now() + 2500;
    const appenders = Promise.all(Array.from({ length: 4 }, (_, w) => run(t, `a${w}`, 'AppendCommit', 25, startAt)));
    let compactions = 0;
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    for (let i = 0; i < 6; i++) {
      const [cur] = await catalog.listPartitions(t.tableId);
      const snap = await catalog.getSnapshot(t.tableId, { version: cur.version });
      const path = `${t.path}/part-compact${i}_0000.parquet`;
      sources.set(path, snap[0].files.map((f) => f.path));
      await new Promise((res) => setTimeout(res, 150)); // the compactor writes its file meanwhile
      const r = await catalog.commit({ tableId: t.tableId, op: 'CompactionCommit', partitions: [{ partitionDesc: '-5', readVersion: cur.version, files: [{ path, op: 'add', size: 1n, existCols: ['id'] }] }] });
      if (r.versions.has('-5')) compactions++;
      else sources.delete(path);
      await new Promise((res) => setTimeout(res, 30));
    }
    const lines = (await appenders).flat();
    expect(lines.filter((l) => !l.ok)).toEqual([]);
    expect(compactions).toBe(6); // nothing but appends raced them, so none was dropped
    const expand = (p: string): string[] => (sources.has(p) ? sources.get(p)!.flatMap(expand) : [p]);
    const final = (await catalog.getSnapshot(t.tableId))[0].files.flatMap((f) => expand(f.path));
    expect(final.sort()).toEqual([...seed, ...lines.map((l) => l.path)].sort()); // each appended file exactly once
    const history = await catalog.history(t.tableId);
    const compactRows = history.filter((h) => h.commitOp === 'CompactionCommit');
    expect(compactRows).toHaveLength(6);
    // at least one compaction really raced: appends landed between its read and its commit
    const raced = compactRows.filter((h) => h.snapshot.length > 1).length;
    expect(raced).toBeGreaterThan(0);
    console.info(`[concurrency] compactions racing appends: ${raced}/6 rebased over concurrent appends`);
  });

  it('an Append racing a Merge fails loudly, never silently', async () => {
    const t = await table(true);
    const startAt = Date.now() + 2500;
    const [merges, appends] = await Promise.all([run(t, 'm', 'MergeCommit', 40, startAt), run(t, 'a', 'AppendCommit', 40, startAt)]);
    const lines = [...merges, ...appends];
    const failed = lines.filter((l) => !l.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f).toMatchObject({ lakesoul: true, kind: 'Conflict', code: 'COMMIT_REBASE_FAILED', retryable: false });
      expect(f.message).toContain(t.name);
      expect(f.message).toContain("partition '-5'");
      expect(f.message).toMatch(/AppendCommit.*MergeCommit|MergeCommit.*AppendCommit/);
    }
    const ok = lines.filter((l) => l.ok);
    console.info(`[concurrency] append vs merge race: ${ok.length} committed, ${failed.length} refused with Conflict`);
    const snap = await catalog.getSnapshot(t.tableId);
    expect(new Set(snap[0].files.map((f) => f.path))).toEqual(new Set(ok.map((l) => l.path)));
    expect(snap[0].files).toHaveLength(ok.length);
    const history = await catalog.history(t.tableId);
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: ok.length }, (_, i) => i));
    const committed = await catalog.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM data_commit_info WHERE table_id = $1', [t.tableId]);
    expect(committed.rows[0].n).toBe(ok.length); // failed commits left no rows behind
  });
});
