/**
 * Issue 12 §2 / §8: table names and paths. Names are validated at create (API, catalog, Flight's
 * request parser share one rule); no table's path equals, contains or lies inside another's or a
 * namespace directory; cleanup and purge never touch files under another table's path or named by
 * another table's commits. PGlite + local disk and PostgreSQL + the moto S3 server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Decimal, Field, Float16, Int64, Interval, IntervalUnit, Null, Schema, Struct, Table, TimeMillisecond, TimeUnit, Timestamp, Utf8, vectorFromArray } from 'apache-arrow';
import { LakeSoulError, MAX_NAME_BYTES } from '@lakesoul-ts/meta';
import { joinUri, type LakeSoulTable } from '@lakesoul-ts/io';
import { openTestLakehouse, rowsOf, sortRows, type CatalogKind, type StorageKind, type TestLakehouse } from './io-harness.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true)]);
const rows = (ids: number[]) => new Table({ id: vectorFromArray(ids.map(BigInt), new Int64()), v: vectorFromArray(ids.map((i) => `v${i}`), new Utf8()) });
const ids = async (t: LakeSoulTable) => sortRows(rowsOf(await t.toArrow()), ['id']).map((r) => r.id);

async function refused(p: Promise<unknown>, kind: string, code: string): Promise<LakeSoulError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(LakeSoulError.is(e), `expected a LakeSoulError, got ${String(e)}`).toBe(true);
  const le = e as LakeSoulError;
  expect([le.kind, le.code], le.message).toEqual([kind, code]);
  return le;
}

const ENVS: [CatalogKind, StorageKind][] = [['pglite', 'local'], ['pg', 's3']];

describe.each(ENVS)('table names and paths on %s + %s', (catalogKind, storage) => {
  let env: TestLakehouse;
  beforeAll(async () => { env = await openTestLakehouse(catalogKind, storage); });
  afterAll(async () => { await env?.close(); });

  it('refuses bad table names and namespaces at create, leaving nothing in the catalog', async () => {
    const before = (await env.lh.listTables()).length;
    const nsBefore = (await env.lh.catalog.listNamespaces()).length;
    const bad = ['/', 'victim/nested', '..', '.', '', 'a\u0000b', 'tab\there', 'x'.repeat(300), 'y'.repeat(5000), 'a#b', 'a?b', 'c:\\x', ' lead',
      'é'.repeat(128) /* 256 bytes */];
    for (const name of bad) {
      const e = await refused(env.lh.createTable(name, schema), 'InvalidArgument', 'INVALID_NAME');
      expect(e.message).toContain('allowed: letters and digits');
      expect(e.message.length).toBeLessThan(400); // a 5,000-character name is not echoed
      await refused(env.lh.catalog.createTable({ name, path: joinUri(env.warehouse, 'explicit', 'p'), schema }), 'InvalidArgument', 'INVALID_NAME');
    }
    for (const ns of ['default/events', '..', '/', 'a\u0000']) {
      await refused(env.lh.createTable('ok', schema, { namespace: ns }), 'InvalidArgument', 'INVALID_NAME');
      await refused(env.lh.catalog.createNamespace(ns), 'InvalidArgument', 'INVALID_NAME');
    }
    // lookups of such names: NotFound quoting a short prefix, never PostgreSQL's words
    for (const name of ['q'.repeat(1_000_000), 'a\u0000b']) {
      const e = await refused(env.lh.table(name), 'NotFound', 'TABLE_NOT_FOUND');
      expect(e.message.length).toBeLessThan(200);
      expect(e.message).not.toMatch(/byte sequence|UTF8/);
      await refused(env.lh.catalog.getNamespace(name), 'NotFound', 'NAMESPACE_NOT_FOUND');
    }
    // types a table could not write or read back, and keys without a bucket hash: refused at create
    const badTypes: [Field, string[], string, RegExp][] = [
      [new Field('d', new Decimal(2, 50, 128), true), [], 'UNSUPPORTED_COLUMN_TYPE', /decimal precision 50 is outside 1\.\.38/],
      [new Field('d', new Decimal(7, 5, 128), true), [], 'UNSUPPORTED_COLUMN_TYPE', /decimal scale 7 is outside 0\.\.5/],
      [new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'Mars/Olympus'), true), [], 'UNSUPPORTED_COLUMN_TYPE', /time zone 'Mars\/Olympus' is unknown/],
      [new Field('k', new Float16(), false), ['k'], 'UNSUPPORTED_KEY_TYPE', /primary key column 'k' has type Float16, which has no Spark hash/],
      [new Field('k', new TimeMillisecond(), false), ['k'], 'UNSUPPORTED_KEY_TYPE', /no Spark hash/],
      [new Field('n', new Null(), false), [], 'UNSUPPORTED_COLUMN_TYPE', /column 'n' has type null \(only nulls\) but is not nullable/],
      // every write failed: 'NYI: Attempting to write an Arrow interval type MonthDayNano to parquet'
      [new Field('iv', new Interval(IntervalUnit.MONTH_DAY_NANO), true), [], 'UNSUPPORTED_COLUMN_TYPE', /column 'iv' .*Parquet has no month_day_nano interval/],
      [new Field('s', new Struct([new Field('iv', new Interval(IntervalUnit.MONTH_DAY_NANO), true)]), true), [], 'UNSUPPORTED_COLUMN_TYPE', /in its field 'iv'/],
    ];
    for (const [field, pks, code, re] of badTypes) {
      const e = await refused(env.lh.createTable('bad_type', new Schema([new Field('id', new Int64(), false), field]), { primaryKeys: pks }), 'InvalidArgument', code);
      expect(e.message).toMatch(re);
    }
    // a column name the catalog cannot list (file_exist_cols is comma-joined): its values would read as null
    for (const column of ['a,b', '']) {
      const e = await refused(env.lh.createTable('bad_column', new Schema([new Field('id', new Int64(), false), new Field(column, new Int64(), true)])), 'InvalidArgument', 'INVALID_ARGUMENT');
      expect(e.message).toContain(`column name '${column}'`);
    }
    expect((await env.lh.listTables()).length).toBe(before);
    expect((await env.lh.catalog.listNamespaces()).length).toBe(nsBefore);
    // what is allowed: any script, dots inside, the longest name
    for (const name of ['événements_2024', 'v1.2-final', 'd'.repeat(MAX_NAME_BYTES), '数据表']) {
      const t = await env.lh.createTable(name, schema);
      await t.write(rows([1]));
      expect(await ids(t)).toEqual([1]);
    }
  });

  it('refuses a path that equals, contains or lies inside another table or a namespace directory', async () => {
    const victim = await env.lh.createTable('victim', schema);
    await victim.write(rows([1, 2]));
    const inside = joinUri(victim.info.path, 'nested');
    await refused(env.lh.createTable('nested', schema, { path: inside }), 'AlreadyExists', 'TABLE_PATH_OVERLAP');
    await refused(env.lh.createTable('same', schema, { path: victim.info.path }), 'AlreadyExists', 'TABLE_PATH_EXISTS');
    await refused(env.lh.createTable('same2', schema, { path: `${victim.info.path}/` }), 'AlreadyExists', 'TABLE_PATH_EXISTS');
    await refused(env.lh.createTable('ns_dir', schema, { path: joinUri(env.warehouse, 'default') }), 'InvalidArgument', 'TABLE_PATH_OVERLAP');
    await refused(env.lh.createTable('root', schema, { path: env.warehouse }), 'InvalidArgument', 'TABLE_PATH_OVERLAP');
    // a directory of someone's own files: cleanup and drop with purge would delete them as the table's
    const own = joinUri(env.warehouse, 'elsewhere', 'my-files');
    const { store, key } = env.lh.stores.resolve(own);
    await store.put(`${key}/notes.txt`, new TextEncoder().encode('precious'));
    const e = await refused(env.lh.createTable('on_own_files', schema, { path: own }), 'InvalidArgument', 'TABLE_PATH_NOT_EMPTY');
    expect(e.message).toContain('notes.txt');
    await refused(env.lh.table('on_own_files'), 'NotFound', 'TABLE_NOT_FOUND');
    expect(new TextDecoder().decode(await store.get(`${key}/notes.txt`))).toBe('precious');
    const fresh = await env.lh.createTable('on_new_dir', schema, { path: joinUri(env.warehouse, 'elsewhere', 'new-dir') });
    await fresh.write(rows([1]));
    expect((await env.lh.createTable('on_new_dir', schema, { path: fresh.info.path, ifNotExists: true })).info.tableId).toBe(fresh.info.tableId);
    // the default path too: a table dropped without purge leaves its files there, and a table made
    // again by that name took them as its orphans (cleanup deleted them once the window passed)
    const kept = await env.lh.createTable('dropped_kept', schema);
    await kept.write(rows([1, 2]));
    await env.lh.dropTable('dropped_kept');
    const left = await refused(env.lh.createTable('dropped_kept', schema), 'InvalidArgument', 'TABLE_PATH_NOT_EMPTY');
    expect(left.message).toMatch(/^create table 'default\.dropped_kept': its default path '.*\/default\/dropped_kept' already holds files \('.*\.parquet'\.\.\.\), left by a table of that name dropped without purge/);
    await refused(env.lh.table('dropped_kept'), 'NotFound', 'TABLE_NOT_FOUND');
    await env.lh.createTable('dropped_kept', schema, { path: joinUri(env.warehouse, 'elsewhere', 'dropped-kept-2') });
    await env.lh.dropTable('dropped_kept', { purge: true });
    // the catalog alone (no warehouse known) still refuses containment either way
    await refused(env.lh.catalog.createTable({ name: 'outer', path: joinUri(env.warehouse, 'default'), schema }), 'AlreadyExists', 'TABLE_PATH_OVERLAP');
    await refused(env.lh.catalog.createTable({ name: 'dots', path: `${victim.info.path}/../victim2`, schema }), 'InvalidArgument', 'INVALID_TABLE_PATH');
    // concurrent creates of a path and a path inside it: exactly one wins
    const base = joinUri(env.warehouse, 'race');
    const r = await Promise.allSettled([
      env.lh.catalog.createTable({ name: 'race_outer', path: base, schema }),
      env.lh.catalog.createTable({ name: 'race_inner', path: `${base}/inner`, schema }),
    ]);
    expect(r.filter((x) => x.status === 'fulfilled').length).toBe(1);
    expect(await ids(victim)).toEqual([1, 2]);
  });

  it('refuses partition values equal to the null / empty-string markers, committing nothing (§8)', async () => {
    const ps = new Schema([new Field('id', new Int64(), false), new Field('region', new Utf8(), false)]);
    const t = await env.lh.createTable(`markers_${storage}`, ps, { rangePartitions: ['region'] });
    for (const marker of ['__L@KE$OUL_NULL__', '__L@KE$OUL_EMPTY_STRING__']) {
      const batch = new Table({ id: vectorFromArray([1n, 2n], new Int64()), region: vectorFromArray(['eu', marker], new Utf8()) });
      const e = await refused(t.write(batch), 'InvalidArgument', 'INVALID_PARTITION_VALUE');
      expect(e.message).toContain("'region'");
      expect(e.message).toContain(marker);
      expect(e.context.table).toBe(t.info.name);
    }
    expect(await t.history()).toEqual([]);
    await t.write(new Table({ id: vectorFromArray([3n], new Int64()), region: vectorFromArray([''], new Utf8()) }));
    expect(rowsOf(await t.toArrow())).toEqual([{ id: 3, region: '' }]);
    // values no directory or catalog row can hold: a clear error naming the column, nothing written
    // (before: a raw ENAMETOOLONG of the whole path, PostgreSQL's "invalid byte sequence")
    // (on local disk a directory name holds 255 bytes; an S3 key 1024, and LakeSoul's engines write
    // longer partition names there, which this project must be able to write into)
    const tooLong = storage === 'local'
      ? [['x'.repeat(250), /^write to table 'markers_local': range partition column 'region' value 'x+…' is too long for a directory: 'region=<value>' takes 257 bytes \(at most 255 bytes, one directory/],
          ['?'.repeat(84), /takes 259 bytes/]] as const
      : [['x'.repeat(1100), /^write to table 'markers_s3': .*takes 1107 bytes \(at most 1024 bytes, an S3 object key holds at most 1024 bytes/]] as const;
    for (const [value, why] of [...tooLong, ['a\u0000b', /contains U\+0000/]] as const) {
      const e = await refused(t.write(new Table({ id: vectorFromArray([9n], new Int64()), region: vectorFromArray([value], new Utf8()) })), 'InvalidArgument', 'INVALID_PARTITION_VALUE');
      expect(e.message).toMatch(why);
      expect(e.message.length).toBeLessThan(600);
    }
    if (storage === 's3') {
      const longer = new Table({ id: vectorFromArray([7n], new Int64()), region: vectorFromArray(['x'.repeat(250)], new Utf8()) });
      await t.write(longer);
      expect(rowsOf(await t.toArrow({ filter: 'id = 7' }))).toEqual([{ id: 7, region: 'x'.repeat(250) }]);
      await t.deleteWhere('id = 7');
      // S3's 1024 bytes hold the whole key: two levels of 600 bytes each fit no key
      const two = await env.lh.createTable('two_levels_s3', new Schema([new Field('id', new Int64(), false), new Field('a', new Utf8(), false), new Field('b', new Utf8(), false)]), { rangePartitions: ['a', 'b'] });
      const e2 = await refused(two.write([{ id: 1n, a: 'a'.repeat(600), b: 'b'.repeat(600) }]), 'InvalidArgument', 'PATH_TOO_LONG');
      expect(e2.message).toMatch(/^write to table 'two_levels_s3': the data file of partition 'a=a+…' would have an S3 object key of \d{4} bytes \(S3 keys hold at most 1024 bytes/);
      expect(await two.history()).toEqual([]);
    }
    await refused(t.toArrow({ partitions: { region: 'a\ud800' } }), 'InvalidArgument', 'INVALID_PARTITION_VALUE');
    // an unpaired surrogate has no UTF-8 form: it was written as U+FFFD, another partition
    await refused(t.write([{ id: 9n, region: 'a\ud800' }]), 'SchemaMismatch', 'VALUE_NOT_CONVERTIBLE');
    expect(rowsOf(await t.toArrow())).toEqual([{ id: 3, region: '' }]);
    // a path over the local file system's 4,096 bytes: a short error naming the limits (it echoed the path twice, ~10,000 characters)
    const deep = new Schema([new Field('id', new Int64(), false), ...Array.from({ length: 20 }, (_, i) => new Field(`c${i}`, new Utf8(), true))]);
    const dt = await env.lh.createTable(`deep_${storage}`, deep, { rangePartitions: deep.fields.slice(1).map((f) => f.name) });
    const deepRow = Object.fromEntries([['id', 1n], ...deep.fields.slice(1).map((f) => [f.name, 'y'.repeat(240)])]);
    // (on S3 the key's 1024 bytes: it was accepted there, and AWS refuses such a key at upload)
    const de = await refused(dt.write([deepRow]), 'InvalidArgument', 'PATH_TOO_LONG');
    expect(de.message.length).toBeLessThan(500);
    expect(await dt.history()).toEqual([]);
    const long = 'c'.repeat(260);
    const e = await refused(env.lh.createTable(`long_range_${storage}`, new Schema([new Field('id', new Int64(), false), new Field(long, new Utf8(), true)]), { rangePartitions: [long] }),
      'InvalidArgument', 'INVALID_PARTITION_VALUE');
    expect(e.message).toMatch(/range partition column name 'c+…' is too long for a directory/);
    expect(await env.lh.table(`long_range_${storage}`).then(() => 'exists', () => 'absent')).toBe('absent');
  });

  it("a range column named like a store's temporary files keeps its partitions in cleanup and purge", async () => {
    // LocalStore's listing skipped directories named `.lakesoul-tmp-*` as if they were a put's temporary file
    const ps = new Schema([new Field('id', new Int64(), false), new Field('.lakesoul-tmp-c', new Utf8(), true)]);
    const t = await env.lh.createTable(`tmpcol_${storage}`, ps, { rangePartitions: ['.lakesoul-tmp-c'] });
    await t.write([{ id: 1n, '.lakesoul-tmp-c': 'v' }]);
    await t.write([{ id: 2n, '.lakesoul-tmp-c': 'v' }], { mode: 'overwrite' });
    const report = await t.cleanup({ retainSince: Date.now() + 1000 });
    expect(report.files.map((f) => f.reason)).toEqual(['expired']);
    const purged = await env.lh.dropTable(t.info.name, { purge: true });
    expect(purged.files.length).toBe(2);
  });

  it("purge leaves the empty directory markers of object stores' tools (dir/, dir_$folder$) as they are: it refused them as foreign files", async () => {
    const t = await env.lh.createTable(`foldermarkers_${storage}`, schema);
    await t.write([{ id: 1n }]);
    const markers = storage === 's3' ? ['', 'sub/', 'sub_$folder$'] : ['sub_$folder$'];
    for (const m of markers) {
      if (storage === 's3') {
        const { bucket, key } = /^s3:\/\/(?<bucket>[^/]+)\/(?<key>.*)$/.exec(t.info.path)!.groups!;
        const put = await fetch(`${process.env.LAKESOUL_TEST_S3_ENDPOINT}/${bucket}/${key}/${m}`, { method: 'PUT', body: '' });
        expect(put.ok).toBe(true);
      } else {
        writeFileSync(`${fileURLToPath(t.info.path)}/${m}`, '');
      }
    }
    // a marker with bytes is someone's file
    if (storage === 'local') writeFileSync(`${fileURLToPath(t.info.path)}/kept_$folder$`, 'x');
    if (storage === 'local') {
      const e = await refused(env.lh.dropTable(t.info.name, { purge: true }), 'InvalidArgument', 'PURGE_FOREIGN_FILES');
      expect(e.message).toContain("'kept_$folder$'");
      expect(e.message).not.toContain("'sub_$folder$'");
      return;
    }
    const purged = await env.lh.dropTable(t.info.name, { purge: true });
    expect(purged.files).toHaveLength(1);
    expect(purged.files[0]).toMatch(/\.parquet$/);
    await refused(env.lh.table(t.info.name), 'NotFound', 'TABLE_NOT_FOUND');
  });

  it('cleanup and purge keep files under another table path or named by another table', async () => {
    const outer = await env.lh.createTable('outer_t', schema);
    await outer.write(rows([1, 2]));
    // A nested table as an older version or another engine could have made it: moved by SQL.
    const inner = await env.lh.createTable('inner_t', schema);
    const innerPath = joinUri(outer.info.path, 'inner');
    await env.lh.catalog.driver.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [inner.info.tableId, innerPath]);
    await env.lh.catalog.driver.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [inner.info.tableId, innerPath]);
    const innerT = await env.lh.table('inner_t');
    await innerT.write(rows([10, 11]));
    // An object under outer's path that a commit of a third table names.
    const other = await env.lh.createTable('other_t', schema);
    const w = await other.write(rows([20]));
    const src = w.files[0].path;
    const borrowed = `${outer.info.path}/borrowed-0000_0000.parquet`;
    const s = env.lh.stores.resolve(src);
    const bytes = await s.store.get(s.key);
    const d = env.lh.stores.resolve(borrowed);
    await d.store.put(d.key, bytes);
    await env.lh.catalog.commit({ tableId: other.info.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path: borrowed, op: 'add', size: BigInt(bytes.length), existCols: ['id', 'v'] }] }] });
    // A nested table with no file yet: on local disk only its (empty) directory.
    const empty = await env.lh.createTable('empty_inner_t', schema);
    const emptyPath = joinUri(outer.info.path, 'empty_inner');
    await env.lh.catalog.driver.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [empty.info.tableId, emptyPath]);
    await env.lh.catalog.driver.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [empty.info.tableId, emptyPath]);
    if (storage === 'local') mkdirSync(fileURLToPath(emptyPath));
    // A real orphan of outer.
    const orphan = `${outer.info.path}/part-orphan0000000001_0000.parquet`;
    const o = env.lh.stores.resolve(orphan);
    await o.store.put(o.key, new Uint8Array([1, 2, 3]));

    const dry = await outer.cleanup({ retainSince: Date.now(), orphanSafetyWindowMs: 0 });
    expect(dry.files.map((f) => f.path)).toEqual([orphan]);
    const real = await outer.cleanup({ retainSince: Date.now(), orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false });
    expect(real.deleted).toBe(1);
    const purged = await env.lh.dropTable('outer_t', { purge: true });
    expect(purged.files.some((f) => f.startsWith(`${innerPath}/`) || f === borrowed)).toBe(false);
    expect(purged.files.length).toBeGreaterThan(0);
    expect(await ids(innerT)).toEqual([10, 11]);
    expect(await ids(other)).toEqual([20, 20]);
    if (storage === 'local') {
      // the directories purge left empty went, not another table's (empty) one, nor those above it
      expect(readdirSync(fileURLToPath(outer.info.path)).sort()).toEqual(['borrowed-0000_0000.parquet', 'empty_inner', 'inner']);
      expect(readdirSync(fileURLToPath(emptyPath))).toEqual([]);
    }
  });

  it('purge refuses, dropping nothing, a path a catalog row points at a directory that is not a table\'s; it deletes what tables write there', async () => {
    const moved = async (t: LakeSoulTable, path: string) => {
      await env.lh.catalog.driver.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [t.info.tableId, path]);
      await env.lh.catalog.driver.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [t.info.tableId, path]);
    };
    const put = async (uri: string, text: string) => {
      const d = env.lh.stores.resolve(uri);
      await d.store.put(d.key, new TextEncoder().encode(text));
    };
    const exists = async (uri: string) => {
      const d = env.lh.stores.resolve(uri);
      return d.store.head(d.key).then(() => true, () => false);
    };
    // a directory of someone's files, named as a table's path by a row written elsewhere
    const t = await env.lh.createTable(`victim_${storage}`, schema);
    await t.write(rows([1]));
    const home = `${env.warehouse.replace(/\/+$/, '')}-elsewhere/home_${storage}`;
    await put(`${home}/notes.txt`, 'notes');
    await put(`${home}/.ssh/id_rsa`, 'key');
    await put(`${home}/data/report.parquet`, 'not ours either');
    await moved(t, home);
    const e = await refused(env.lh.dropTable(t.info.name, { purge: true }), 'InvalidArgument', 'PURGE_FOREIGN_FILES');
    expect(e.message).toMatch(/holds 2 files no table writes \('(\.ssh\/id_rsa|notes\.txt)', '(\.ssh\/id_rsa|notes\.txt)'\).*nothing was dropped or deleted/);
    expect(e.context.files).toBe(2);
    expect(await exists(`${home}/notes.txt`) && await exists(`${home}/.ssh/id_rsa`) && await exists(`${home}/data/report.parquet`)).toBe(true);
    expect((await env.lh.table(t.info.name)).info.tableId).toBe(t.info.tableId);
    // the namespace directory, or the warehouse root
    for (const dir of [joinUri(env.warehouse, 'default'), env.warehouse]) {
      await moved(t, dir);
      const overlap = await refused(env.lh.dropTable(t.info.name, { purge: true }), 'InvalidArgument', 'TABLE_PATH_OVERLAP');
      expect(overlap.message).toMatch(/nothing was dropped or deleted; drop it without purge/);
    }
    await moved(t, home);
    await env.lh.dropTable(t.info.name);
    expect(await exists(`${home}/notes.txt`)).toBe(true);
    // a purge interrupted before its deletes end keeps the table (files first, the catalog rows last): running it again finishes it
    const again = await env.lh.createTable(`again_${storage}`, schema);
    await again.write(rows([5]));
    await again.write(rows([6]));
    const ac = new AbortController();
    const stopped = await env.lh.dropTable(again.info.name, { purge: true, signal: ac.signal, onProgress: (p) => { if (p.listed) ac.abort(); } }).then(() => undefined, (x: unknown) => x);
    expect(LakeSoulError.is(stopped, 'Aborted'), String(stopped)).toBe(true);
    expect((stopped as LakeSoulError).message).toMatch(/the table was not dropped: run the drop again/);
    expect((await env.lh.table(again.info.name)).info.tableId).toBe(again.info.tableId);
    expect((await env.lh.dropTable(again.info.name, { purge: true })).files.length).toBe(2);
    await refused(env.lh.table(again.info.name), 'NotFound', 'TABLE_NOT_FOUND');
    // a table's own directory with what engines write there: checksums, job markers, copied blobs, a file its commit names
    const own = await env.lh.createTable(`owned_${storage}`, schema);
    const w = await own.write(rows([2]));
    const named = `${own.info.path}/custom-name.data`;
    const src = env.lh.stores.resolve(w.files[0].path);
    const bytes = await src.store.get(src.key);
    const dst = env.lh.stores.resolve(named);
    await dst.store.put(dst.key, bytes);
    await env.lh.catalog.commit({ tableId: own.info.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [{ path: named, op: 'add', size: BigInt(bytes.length), existCols: ['id', 'v'] }] }] });
    const extras = [`${own.info.path}/.part-x.parquet.crc`, `${own.info.path}/_SUCCESS`, `${own.info.path}/_blobs/cats/1.png`];
    for (const x of extras) await put(x, 'x');
    const purged = await env.lh.dropTable(own.info.name, { purge: true });
    expect(purged.files.sort()).toEqual([w.files[0].path, named, ...extras].sort());
    for (const x of [named, ...extras]) expect(await exists(x), x).toBe(false);
  });
});

describe("a table path as Spark stores it (Hadoop's file:/ spelling)", () => {
  it('is the same location as file:///: no table is created inside it, and its cleanup keeps the files of a table inside it', async () => {
    const env = await openTestLakehouse('pglite', 'local');
    try {
      const spark = await env.lh.createTable('spark_made', schema);
      await spark.write(rows([1]));
      const hadoop = spark.info.path.replace(/^file:\/\/\//, 'file:/');
      expect(hadoop).toMatch(/^file:\/[^/]/);
      await env.lh.catalog.driver.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [spark.info.tableId, hadoop]);
      await env.lh.catalog.driver.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [spark.info.tableId, hadoop]);
      const inside = joinUri(spark.info.path, 'sub');
      await refused(env.lh.createTable('inside_spark', schema, { path: inside }), 'AlreadyExists', 'TABLE_PATH_OVERLAP');
      await refused(env.lh.createTable('same_as_spark', schema, { path: spark.info.path }), 'AlreadyExists', 'TABLE_PATH_EXISTS');
      // a table already inside it (made before this check, or by another engine): cleanup of the outer one keeps its files
      const inner = await env.lh.createTable('inner_of_spark', schema);
      await env.lh.catalog.driver.query('UPDATE table_info SET table_path = $2 WHERE table_id = $1', [inner.info.tableId, inside]);
      await env.lh.catalog.driver.query('UPDATE table_path_id SET table_path = $2 WHERE table_id = $1', [inner.info.tableId, inside]);
      const innerT = await env.lh.table('inner_of_spark');
      await innerT.write(rows([10, 11]));
      const outer = await env.lh.table('spark_made');
      const report = await outer.cleanup({ retainSince: Date.now(), orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false });
      expect(report.files).toEqual([]);
      expect(await ids(innerT)).toEqual([10, 11]);
      expect(await ids(outer)).toEqual([1]);
    } finally {
      await env.close();
    }
  });
});

describe('the warehouse option of Lakehouse.open', () => {
  it('takes a local path relative to the working directory as its file:// URI, and refuses ~ before opening anything', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Lakehouse } = await import('@lakesoul-ts/io');
    const dir = mkdtempSync(join(tmpdir(), 'warehouse-option-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const lh = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: './wh' });
      try {
        const t = await lh.createTable('rel', rows([1, 2]));
        expect(t.info.path).toBe(`file://${join(dir, 'wh')}/default/rel`);
        expect(await ids(t)).toEqual([1, 2]);
      } finally {
        await lh.close();
      }
      const e = await refused(Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: '~/lake' }), 'InvalidArgument', 'INVALID_WAREHOUSE');
      expect(e.message).toContain('~ is not expanded');
      // nothing was left open: the directory opens again at once
      await (await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: join(dir, 'wh') })).close();
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stores a location as LakeSoul's engines read it: a percent-encoded file: URL decoded, a location URL parsing would cut refused", async () => {
    // `pathToFileURL(dir).href` (the docs' example) wrote into a sibling directory literally named
    // `my%20lake`, which LakeSoul's engines (they decode the stored path) never found; a table path
    // holding `#` was read back from the location before the `#` (another table's file there).
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const { Lakehouse } = await import('@lakesoul-ts/io');
    const dir = mkdtempSync(join(tmpdir(), 'warehouse-url-'));
    try {
      const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'my lake é')).href });
      try {
        expect(lh.warehouse).toBe(`file://${dir}/my lake é`);
        const t = await lh.createTable('spaced', rows([1, 2]));
        expect(t.info.path).toBe(`file://${dir}/my lake é/default/spaced`);
        expect(readdirSync(dir)).toEqual(['my lake é']);
        expect(await ids(t)).toEqual([1, 2]);
        const p = await lh.createTable('explicit', rows([3]), { path: pathToFileURL(join(dir, 'other place')).href });
        expect(p.info.path).toBe(`file://${dir}/other place`);
        expect(readdirSync(dir).sort()).toEqual(['my lake é', 'other place']);
        for (const bad of [`file://${dir}/run#3/t`, `file://${dir}/q?x=1/t`, `file://${dir}/a%2541/t`, `file://${dir}/tab\there/t`, `file://${dir}\\back/t`]) {
          const e = await refused(lh.createTable('bad', schema, { path: bad }), 'InvalidArgument', 'INVALID_TABLE_PATH');
          expect(e.message).toMatch(/LakeSoul's engines read stored paths as URLs/);
        }
        expect(await lh.table('bad').then(() => 'exists', () => 'absent')).toBe('absent');
      } finally {
        await lh.close();
      }
      await refused(Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: `file://${dir}/C#/lake` }), 'InvalidArgument', 'INVALID_WAREHOUSE');
      await refused(Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: join(dir, 'C#', 'lake') }), 'InvalidArgument', 'INVALID_WAREHOUSE');
      // a warehouse every table path made from would be refused (INVALID_TABLE_PATH at each create)
      for (const warehouse of ['s3://b//lake', 's3://b/lake//x', `file://${dir}//lake`]) {
        const e = await refused(Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse }), 'InvalidArgument', 'INVALID_WAREHOUSE');
        expect(e.message, warehouse).toContain("has an empty, '.' or '..' segment");
      }
      // dot segments are taken as LakeSoul's engines take them (the URL parser applies them)
      const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT: 'http://127.0.0.1:9' };
      for (const [warehouse, stored] of [['s3://b/lake/', 's3://b/lake'], ['s3://b/a/./lake', 's3://b/a/lake'], ['s3://b/x/../lake', 's3://b/lake'], ['s3://b', 's3://b/']]) {
        const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse, stores: { env } });
        expect(lh.warehouse, warehouse).toBe(stored);
        await lh.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
