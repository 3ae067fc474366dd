/**
 * The UI's API and server without a browser, on the embedded catalog and local disk: CDC and
 * append-only diffs, values read exactly (diffs compare and key rows by their exact values,
 * statistics count them, views show them beyond Date's range, with every digit of a timestamp's unit
 * and a leading U+FEFF), struct blob references (byte ranges of a packed file), an image beyond the decode
 * limit, and the server's refusals (DNS-rebinding hosts, unknown paths, bad parameters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Binary, DateDay, Field, Float64, Int32, Int64, Schema, Struct, Table, TimeUnit, Timestamp, Utf8, makeData, makeVector, vectorFromArray, RecordBatch } from 'apache-arrow';
import { Lakehouse, joinUri, toFileUri } from '@lakesoul-ts/io';
import { MIN_UNGUESSABLE_TOKEN_CHARS } from '@lakesoul-ts/meta';
import { MAX_ANALYSIS_ROWS, MAX_DETAIL_CHARS, UiApi } from './ui-api.js';
import { MAX_REQUEST_HEAD_BYTES, startUi, type UiServer } from './ui-server.js';
import { drawPng } from './ui-fixtures.js';
import { MAX_DECODE_PIXELS } from './ui-images.js';

let lake: Lakehouse;
let api: UiApi;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastCommit = async (t: { history(): Promise<Array<{ timestamp: number }>> }) => {
  const ts = Math.max(...(await t.history()).map((h) => h.timestamp));
  await sleep(5);
  return ts;
};
const view = (table: string) => ({ namespace: 'default', table });
const micros = (values: bigint[], zone?: string) => makeVector(makeData({ type: new Timestamp(TimeUnit.MICROSECOND, zone), length: values.length, nullCount: 0, data: BigInt64Array.from(values) }));

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-ui-api-'));
  lake = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: toFileUri(join(dir, 'warehouse')) });
  api = new UiApi(lake);
});

afterAll(async () => {
  await lake?.close();
});

describe('diff', () => {
  it('a CDC table: deletes come from the incremental read (delete markers), upserts as changed', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('v', new Utf8(), true), new Field('rowKinds', new Utf8(), true)]);
    const t = await lake.createTable('cdc', schema, { primaryKeys: ['id'], hashBucketNum: 1, cdcColumn: 'rowKinds' });
    const rows = (ids: number[], v: string[], kinds: string[]) => new Table({
      id: vectorFromArray(ids.map(BigInt), new Int64()), v: vectorFromArray(v, new Utf8()), rowKinds: vectorFromArray(kinds, new Utf8()),
    });
    await t.write(rows([1, 2, 3], ['a', 'b', 'c'], ['insert', 'insert', 'insert']));
    const c0 = await lastCommit(t);
    await t.write(rows([2, 3, 4], ['b', 'C', 'd'], ['delete', 'update', 'insert']));
    const c1 = await lastCommit(t);
    const d = await api.diff({ namespace: 'default', table: 'cdc' }, c0, c1);
    expect(d.partitions).toEqual({ '-5': 'incremental' });
    expect(d.counts).toEqual({ added: 1, changed: 1, deleted: 1, unchanged: 0 });
    expect(d.columns).toEqual(['id', 'v']);
    expect(d.added).toEqual([{ id: 4, v: 'd' }]);
    expect(d.deleted).toEqual([{ id: 2, v: 'b' }]);
    expect(d.changed).toEqual([{ key: { id: 3 }, before: { id: 3, v: 'c' }, after: { id: 3, v: 'C' }, columns: ['v'] }]);
  });

  // A partition rewritten in the range is read whole as of its end; its CDC delete rows were kept and
  // counted as live rows (a deleted key listed as changed to nulls, a delete of a key never written as added).
  it('a CDC table whose partition was rewritten or dropped in the range: delete rows there are no rows', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true), new Field('rk', new Utf8(), true)]);
    const t = await lake.createTable('cdc_reset', schema, { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 2, cdcColumn: 'rk' });
    await t.write([{ id: 1n, p: 'a', v: 'v1' }, { id: 2n, p: 'a', v: 'v2' }, { id: 3n, p: 'b', v: 'v3' }, { id: 4n, p: 'b', v: 'v4' }]);
    const c0 = await lastCommit(t);
    await t.deleteByKeys([{ id: 3n, p: 'b' }]); // a delete marker in p=b
    await t.update("p = 'b' and id = 4", { v: 'changed' }); // rewrites p=b (an UpdateCommit): read whole
    await t.dropPartitions({ p: 'a' });
    await t.write([{ id: 1n, p: 'a', v: 'again', rk: 'insert' }, { id: 9n, p: 'a', v: 'never', rk: 'delete' }]);
    const c1 = await lastCommit(t);
    const d = await api.diff({ namespace: 'default', table: 'cdc_reset' }, c0, c1);
    expect(d.partitions).toEqual({ 'p=a': 'reset', 'p=b': 'reset' });
    expect(d.added).toEqual([]);
    expect(d.deleted.map((r) => r.id).sort()).toEqual([2, 3]);
    expect(d.changed.map((c) => [c.key.id, c.after.v])).toEqual([[1, 'again'], [4, 'changed']].sort());
    expect(d.counts).toEqual({ added: 0, changed: 2, deleted: 2, unchanged: 0 });
  });

  it('an append-only table: the increment is the added rows; a bad range is refused', async () => {
    const schema = new Schema([new Field('n', new Int32(), true), new Field('tag', new Utf8(), true)]);
    const t = await lake.createTable('appends', schema);
    await t.write(new Table({ n: vectorFromArray([1, 2, 2], new Int32()), tag: vectorFromArray(['x', 'y', 'y'], new Utf8()) }));
    const c0 = await lastCommit(t);
    await t.write(new Table({ n: vectorFromArray([5, 2], new Int32()), tag: vectorFromArray(['z', 'y'], new Utf8()) }));
    const c1 = await lastCommit(t);
    const d = await api.diff({ namespace: 'default', table: 'appends' }, c0, c1);
    expect(d.counts).toEqual({ added: 2, changed: 0, deleted: 0, unchanged: 0 });
    expect(d.added).toEqual([{ n: 5, tag: 'z' }, { n: 2, tag: 'y' }]);
    await expect(api.diff({ namespace: 'default', table: 'appends' }, c1, c0)).rejects.toMatchObject({ kind: 'InvalidArgument', code: 'UI_BAD_DIFF_RANGE' });
    // the largest safe integer is refused as given (the read's end, one more, was quoted: 9007199254740992)
    await expect(api.diff({ namespace: 'default', table: 'appends' }, c1, Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({ code: 'UI_BAD_DIFF_RANGE', message: expect.stringContaining('got ' + c1 + ', 9007199254740991') });
    // An integer column with few values: one bin per value, so no bin straddles two integers.
    const s = await api.stats({ namespace: 'default', table: 'appends' }, 'n');
    expect(s.kind === 'histogram' && s.bins.map((b) => [b.lo + 0.5, b.count])).toEqual([[1, 1], [2, 3], [3, 0], [4, 0], [5, 1]]);
  });

  it('a diff waiting for a commit stamped ahead of this clock stops when its request is aborted', async () => {
    const t = await lake.createTable('ahead', new Schema([new Field('n', new Int32(), true)]));
    await t.write(new Table({ n: vectorFromArray([1], new Int32()) }));
    const c1 = await lastCommit(t);
    const ctl = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ctl.abort(), 100);
    // an end 4 s ahead is waited for (up to 5 s): the abort must end the wait, not the clock
    await expect(api.diff(view('ahead'), c1, Date.now() + 4_000, ctl.signal)).rejects.toMatchObject({ kind: 'Aborted' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('diff counts beyond the analysis limits', () => {
  it('a 2-row upsert into a table of more than MAX_ANALYSIS_ROWS rows counts both changes exactly (the snapshots are read for the changed keys only)', async () => {
    const t = await lake.createTable('accounts', new Schema([new Field('id', new Int64(), false), new Field('balance', new Float64(), true)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    const n = MAX_ANALYSIS_ROWS + 50_000;
    const ids = new BigInt64Array(n);
    for (let i = 0; i < n; i++) ids[i] = BigInt(i);
    await t.write(new Table({ id: makeVector(ids), balance: makeVector(new Float64Array(n).fill(100)) }));
    const c1 = await lastCommit(t);
    await t.write(new Table({ id: vectorFromArray([5n, BigInt(n - 1)], new Int64()), balance: vectorFromArray([0, 0], new Float64()) }));
    const c2 = await lastCommit(t);
    const d = await api.diff(view('accounts'), c1, c2);
    expect(d.counts).toEqual({ added: 0, changed: 2, deleted: 0, unchanged: 0 });
    expect(d.changed.map((c) => c.key.id)).toEqual([5, n - 1]);
    expect([d.truncated, d.partial, d.partialPartitions]).toEqual([false, false, []]);
  }, 120_000);

  it('a read that stops says the counts are partial, and a rewritten partition it did not read whole is not reported deleted', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]);
    // two buckets: p=b's rows come in two splits, and the read stops before the second
    const t = await lake.createTable('stopped', schema, { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 2 });
    await t.write([1, 2, 3, 4, 5].map((id) => ({ id: BigInt(id), p: 'b', v: 'old' })));
    const c1 = await lastCommit(t);
    await t.write([{ id: 10n, p: 'a', v: 'new' }]);
    await t.update("p = 'b' and id = 1", { v: 'changed' }); // rewrites p=b: compared whole
    const c2 = await lastCommit(t);
    // one batch of the increment passes the byte limit: p=b's rows are not all read
    const small = new UiApi(lake, { analysisBytes: 1 });
    const d = await small.diff(view('stopped'), c1, c2);
    expect(d.partitions).toEqual({ 'p=a': 'incremental', 'p=b': 'reset' });
    expect(d.partial).toBe(true);
    expect(d.partialPartitions).toContain('p=b');
    // p=b is not compared (its rows missing from the read had come out as deleted)
    expect([d.counts.changed, d.counts.deleted, d.deleted]).toEqual([0, 0, []]);
    // read whole, the same range is exact and complete
    const whole = await api.diff(view('stopped'), c1, c2);
    expect([whole.counts, whole.partial]).toEqual([{ added: 1, changed: 1, deleted: 0, unchanged: 0 }, false]);
  });
});

describe('rows pinned to the snapshot they read', () => {
  it('a page read at the latest state names its commit; the row, the blob and the next page read at it stay the rows it listed after another commit', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('doc', new Binary(), true)]);
    const t = await lake.createTable('people', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const ids = Array.from({ length: 30 }, (_, i) => BigInt(100 + i));
    const doc = (id: bigint) => new TextEncoder().encode(`contract of customer ${id}`);
    await t.write(new Table({ id: vectorFromArray(ids, new Int64()), doc: vectorFromArray(ids.map(doc), new Binary()) }));
    const c1 = await lastCommit(t);
    const page = await api.rows(view('people'), 0, 25);
    expect(page.at).toBe(c1);
    expect(page.rows[0]![0]).toBe(100);
    // another writer adds customers 1..5, which sort before 100
    await t.write(new Table({ id: vectorFromArray([1n, 2n, 3n, 4n, 5n], new Int64()), doc: vectorFromArray([1n, 2n, 3n, 4n, 5n].map(doc), new Binary()) }));
    const pinned = { ...view('people'), at: page.at! };
    expect((await api.row(pinned, 0)).values[0]).toBe(100);
    expect((await api.row(pinned, 0)).at).toBe(c1);
    expect(new TextDecoder().decode((await api.blob(pinned, 0, 'doc', 'original')).bytes)).toBe('contract of customer 100');
    expect((await api.rows(pinned, 25, 25)).rows.map((r) => r[0])).toEqual([125, 126, 127, 128, 129]);
    // a new page at the latest state reads the new commit
    const latest = await api.rows(view('people'), 0, 25);
    expect([latest.rows[0]![0], latest.at]).toEqual([1, await lastCommit(t)]);
    expect((await api.row(view('people'), 0)).at).toBe(latest.at);
    // an empty table has no commit to pin to
    await lake.createTable('nocommit', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    expect(await api.rows(view('nocommit'), 0, 25)).toMatchObject({ rows: [], at: null });
  });
});

describe('statistics and history', () => {
  it('lists a table this version cannot read with why, beside the readable ones', async () => {
    await lake.createTable('undecodable', [{ id: 1n }]);
    await lake.createTable('readable', [{ id: 1n }]);
    await lake.catalog.driver.query(`UPDATE table_info SET table_schema = '{"fields":[{"name":"id","type":{"name":"nosuchtype"},"nullable":true}]}' WHERE table_name = 'undecodable'`);
    const tables = (await api.namespaces()).find((n) => n.name === 'default')!.tables;
    expect(tables.find((t) => t.name === 'undecodable')!.unsupported).toEqual(expect.stringContaining('undecodable'));
    expect(tables.find((t) => t.name === 'readable')!.unsupported).toBeNull();
    await lake.dropTable('undecodable');
  });

  it('orders values counted alike the same on every machine (code units, numbers by value), not by the server locale', async () => {
    const words = ['cb', 'ça', 'ib', 'ıa', 'Zz', 'aa', 'öa', 'ob', 'sb', 'şa', 'A', 'é', 'e\u0301', 'z'];
    const more = Array.from({ length: 25 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    const all = [...words, ...more];
    await lake.createTable('tied', all.map((w, i) => ({ id: BigInt(i), w })));
    const s = await api.stats(view('tied'), 'w');
    const byCodeUnits = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(s.kind === 'counts' && [s.values.map((v) => v.value), s.others]).toEqual([byCodeUnits.slice(0, 30), all.length - 30]);
  });

  it('counts whole values (not the text cut for display), within a byte budget, and refuses a NUL partition', async () => {
    const head = 'x'.repeat(2400);
    const t = await lake.createTable('longtext', [{ id: 1n, s: `${head}a`, p: 'one' }, { id: 2n, s: `${head}b`, p: 'one' }, { id: 3n, s: `${head}b`, p: 'one' }], { rangePartitions: ['p'] });
    const s = await api.stats({ namespace: 'default', table: 'longtext' }, 's');
    expect(s.kind === 'counts' && [s.distinct, s.values.map((v) => v.count), s.truncated]).toEqual([2, [2, 1], false]);
    // a small budget: the first batch is kept and the answer says it is partial
    await t.write(Array.from({ length: 3000 }, (_, i) => ({ id: BigInt(10 + i), s: `${head}${i}`, p: 'two' })));
    const small = new UiApi(lake, { analysisBytes: 1 });
    const cut = await small.stats({ namespace: 'default', table: 'longtext' }, 's');
    expect(cut.kind === 'counts' && cut.truncated).toBe(true);
    expect(cut.count).toBeLessThan(3003);
    await expect(api.history({ namespace: 'default', table: 'longtext', partition: 'p=\u0000' })).rejects.toMatchObject({ code: 'INVALID_PARTITION' });
    await expect(api.history({ namespace: 'default', table: 'longtext', partition: 'q=one' })).rejects.toMatchObject({ code: 'INVALID_PARTITION' });
    expect(Object.keys((await api.history({ namespace: 'default', table: 'longtext', partition: 'p=one' })).partitions)).toEqual(['p=one']);
    // the newest commits only, with how many there are
    const recent = await new UiApi(lake, { historyCommits: 1 }).history({ namespace: 'default', table: 'longtext' });
    expect([recent.commits.length, recent.total, Object.keys(recent.partitions)]).toEqual([1, 2, ['p=two']]);
    expect((await api.history({ namespace: 'default', table: 'longtext' })).total).toBe(2);
  });

  it('startUi refuses tokens given as a string (each character was a token) and an empty list (auth off, silently)', async () => {
    await expect(startUi({ lakehouse: lake, port: 0, tokens: 'correct-horse-battery-staple' as never })).rejects.toMatchObject({ code: 'UI_EMPTY_TOKEN', message: expect.stringMatching(/tokens must be an array of strings, got a string/) });
    await expect(startUi({ lakehouse: lake, port: 0, tokens: [] })).rejects.toMatchObject({ code: 'UI_EMPTY_TOKEN', message: expect.stringMatching(/tokens is an empty list, which would turn authentication off/) });
  });

  it('refuses limits that are not positive integers (analysisSlots 0 made every statistics request wait forever)', () => {
    for (const [k, v] of [['analysisSlots', 0], ['analysisSlots', NaN], ['analysisBytes', -1], ['historyCommits', '2'], ['downloadChunkBytes', 0]] as const) {
      expect(() => new UiApi(lake, { [k]: v } as never), `${k} ${String(v)}`).toThrow(new RegExp(`${k} must be a positive integer \\(got ${typeof v === 'string' ? `'${v}'` : String(v)}\\)`));
    }
  });

  it('runs at most its slots of diffs and statistics at once; a request waiting for a slot ends with its client', async () => {
    const one = new UiApi(lake, { analysisSlots: 1 });
    const view = { namespace: 'default', table: 'longtext' };
    const first = one.stats(view, 's');
    const gone = new AbortController();
    const waiting = one.stats(view, 'id', gone.signal);
    gone.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    const third = one.stats(view, 'id');
    await expect(first).resolves.toMatchObject({ kind: 'counts' });
    await expect(third).resolves.toMatchObject({ kind: 'histogram' });
  });
});

describe('diff by exact values', () => {
  it('a same-length binary change and a change past the 2,000th character are changes, not "rewritten unchanged"', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('bin', new Binary(), true), new Field('txt', new Utf8(), true)]);
    const t = await lake.createTable('binlong', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const long = 'x'.repeat(2500);
    const write = (bin: Uint8Array[], txt: string[]) => t.write(new Table({ id: vectorFromArray([1n, 2n], new Int64()), bin: vectorFromArray(bin, new Binary()), txt: vectorFromArray(txt, new Utf8()) }));
    await write([Uint8Array.of(1, 2, 3), Uint8Array.of(9)], [`${long}A`, 'same']);
    const c1 = await lastCommit(t);
    await write([Uint8Array.of(7, 7, 7), Uint8Array.of(9)], [`${long}B`, 'same']);
    const c2 = await lastCommit(t);
    const d = await api.diff(view('binlong'), c1, c2);
    expect(d.counts).toEqual({ added: 0, changed: 1, deleted: 0, unchanged: 1 });
    expect(d.changed[0]).toMatchObject({ key: { id: 1 }, columns: ['bin', 'txt'], before: { bin: '0x010203' }, after: { bin: '0x070707' } });
  });

  it('timestamp(us) keys differing in microseconds are two keys', async () => {
    const schema = new Schema([new Field('t', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false), new Field('v', new Utf8(), true)]);
    const t = await lake.createTable('tspk', schema, { primaryKeys: ['t'], hashBucketNum: 1 });
    const base = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z
    await t.write(new Table({ t: micros([base + 1n, base + 2n], 'UTC'), v: vectorFromArray(['a', 'b'], new Utf8()) }));
    const c1 = await lastCommit(t);
    await t.write(new Table({ t: micros([base + 1n], 'UTC'), v: vectorFromArray(['CHANGED'], new Utf8()) }));
    const c2 = await lastCommit(t);
    const d = await api.diff(view('tspk'), c1, c2);
    expect(d.counts).toEqual({ added: 0, changed: 1, deleted: 0, unchanged: 0 });
    expect(d.changed[0]).toMatchObject({ key: { t: '2024-01-01T00:00:00.000001Z' }, before: { v: 'a' }, after: { v: 'CHANGED' }, columns: ['v'] });
  });
});

describe('values beyond Date, microseconds, U+FEFF, binary and NaN', () => {
  it('timestamps and dates beyond ±8.64e15 ms are shown (rows, row, stats, diff), not a 500 "Invalid time value"', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true), new Field('d', new DateDay(), true)]);
    const t = await lake.createTable('far', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const days = makeVector(makeData({ type: new DateDay(), length: 2, nullCount: 0, data: Int32Array.of(2_000_000_000, -2_000_000_000) }));
    await t.write(new Table({ id: vectorFromArray([1n, 2n], new Int64()), ts: micros([8_640_000_000_000_001_000n, 9_223_372_036_854_775_807n], 'UTC'), d: days }));
    const c1 = await lastCommit(t);
    const page = await api.rows(view('far'), 0, 10);
    expect(page.rows).toEqual([
      [1, '+275760-09-13T00:00:00.001000Z', '+5477784-01-06'],
      [2, '+294247-01-10T04:00:54.775807Z', '-5473845-12-27'],
    ]);
    expect((await api.row(view('far'), 1)).values[1]).toBe('+294247-01-10T04:00:54.775807Z');
    expect(await api.stats(view('far'), 'ts')).toMatchObject({ kind: 'counts', distinct: 2 });
    expect(await api.stats(view('far'), 'd')).toMatchObject({ kind: 'counts', distinct: 2 });
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), ts: micros([-9_223_372_036_854_775_807n], 'UTC'), d: makeVector(makeData({ type: new DateDay(), length: 1, nullCount: 0, data: Int32Array.of(0) })) }));
    const c2 = await lastCommit(t);
    const d = await api.diff(view('far'), c1, c2);
    expect(d.changed[0]).toMatchObject({ before: { ts: '+275760-09-13T00:00:00.001000Z' }, after: { ts: '-290308-12-21T19:59:05.224193Z', d: '1970-01-01' } });
  });

  it('statistics count distinct binary values and microseconds apart; rows keep the microseconds and a leading U+FEFF', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('bin', new Binary(), true), new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true), new Field('s', new Utf8(), true)]);
    const t = await lake.createTable('distinct', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const base = 1_704_067_200_000_000n;
    await t.write(new Table({
      id: vectorFromArray([1n, 2n, 3n], new Int64()),
      bin: vectorFromArray([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6), Uint8Array.of(1, 2, 3)], new Binary()),
      ts: micros([base + 123_456n, base + 123_999n, base + 123_456n], 'UTC'),
      s: vectorFromArray(['\uFEFFbom', 'bom', 'bom'], new Utf8()),
    }));
    const bins = await api.stats(view('distinct'), 'bin');
    expect(bins).toMatchObject({ kind: 'counts', distinct: 2, values: [{ value: '0x010203', count: 2 }, { value: '0x040506', count: 1 }] });
    const ts = await api.stats(view('distinct'), 'ts');
    expect(ts).toMatchObject({ kind: 'counts', distinct: 2, values: [{ value: '2024-01-01T00:00:00.123456Z', count: 2 }, { value: '2024-01-01T00:00:00.123999Z', count: 1 }] });
    expect(await api.stats(view('distinct'), 's')).toMatchObject({ kind: 'counts', distinct: 2 });
    const page = await api.rows(view('distinct'), 0, 10);
    expect(page.rows.map((r) => [r[2], r[3]])).toEqual([['2024-01-01T00:00:00.123456Z', '\uFEFFbom'], ['2024-01-01T00:00:00.123999Z', 'bom'], ['2024-01-01T00:00:00.123456Z', 'bom']]);
    expect((await api.row(view('distinct'), 0)).values[3]).toBe('\uFEFFbom');
  });

  it('a diff shows a leading U+FEFF', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true)]);
    const t = await lake.createTable('bomdiff', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), s: vectorFromArray(['bom'], new Utf8()) }));
    const c1 = await lastCommit(t);
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), s: vectorFromArray(['\uFEFFbom'], new Utf8()) }));
    const c2 = await lastCommit(t);
    const d = await api.diff(view('bomdiff'), c1, c2);
    expect(d.changed).toEqual([{ key: { id: 1 }, before: { id: 1, s: 'bom' }, after: { id: 1, s: '\uFEFFbom' }, columns: ['s'] }]);
  });

  it('the row view cuts text beyond MAX_DETAIL_CHARS and names the columns it cut', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('body', new Utf8(), true), new Field('note', new Utf8(), true)]);
    const t = await lake.createTable('longrow', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), body: vectorFromArray(['y'.repeat(MAX_DETAIL_CHARS + 5)], new Utf8()), note: vectorFromArray(['short'], new Utf8()) }));
    const r = await api.row(view('longrow'), 0);
    expect(r.truncated).toEqual(['body']);
    expect(r.values[1]).toBe(`${'y'.repeat(MAX_DETAIL_CHARS)}… (${MAX_DETAIL_CHARS + 5} chars)`);
    expect(r.values[2]).toBe('short');
  });

  it('a histogram of finite values whose span overflows a double (-1e308 .. 1e308) has finite bins, not a 500', async () => {
    const t = await lake.createTable('readings', new Schema([new Field('x', new Float64(), true)]));
    await t.write(new Table({ x: vectorFromArray([-1e308, 1, 2, 1e308], new Float64()) }));
    const s = await api.stats(view('readings'), 'x');
    if (s.kind !== 'histogram') throw new Error('expected a histogram');
    expect([s.min, s.max, s.bins.length]).toEqual([-1e308, 1e308, 20]);
    expect(s.bins.every((b) => Number.isFinite(b.lo) && Number.isFinite(b.hi) && b.lo < b.hi)).toBe(true);
    expect([s.bins[0]!.lo, s.bins[19]!.hi]).toEqual([-1e308, 1e308]);
    expect(s.bins.map((b) => b.count)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('a histogram counts NaN and ±Infinity apart, not as nulls', async () => {
    const schema = new Schema([new Field('x', new Float64(), true)]);
    const t = await lake.createTable('nonfinite', schema);
    await t.write(new Table({ x: vectorFromArray([1, 2, NaN, Infinity, -Infinity, Infinity, null], new Float64()) }));
    const s = await api.stats(view('nonfinite'), 'x');
    expect(s).toMatchObject({ kind: 'histogram', count: 7, nulls: 1, nonFinite: { nan: 1, infinity: 2, negativeInfinity: 1 }, min: 1, max: 2 });
    expect(s.kind === 'histogram' && s.bins.reduce((n, b) => n + b.count, 0)).toBe(2);
  });
});

describe('paging', () => {
  it('a deep page of a table without primary keys skips whole files by their row counts and still returns the right rows', async () => {
    const schema = new Schema([new Field('n', new Int32(), false)]);
    const t = await lake.createTable('paged', schema);
    for (let f = 0; f < 4; f++) await t.write(new Table({ n: vectorFromArray(Array.from({ length: 10 }, (_, i) => f * 10 + i), new Int32()) }));
    const all = (await api.rows({ namespace: 'default', table: 'paged' }, 0, 200)).rows.map((r) => r[0]);
    expect(all).toHaveLength(40);
    for (const offset of [9, 10, 20, 25, 39, 40]) {
      const page = await api.rows({ namespace: 'default', table: 'paged' }, offset, 7);
      expect(page.rows.map((r) => r[0]), `offset ${offset}`).toEqual(all.slice(offset, offset + 7));
      expect(page.more, `offset ${offset}`).toBe(offset + 7 < 40);
    }
    const filtered = await api.rows({ namespace: 'default', table: 'paged', filter: 'n >= 15' }, 10, 3);
    expect(filtered.rows.map((r) => r[0])).toEqual(all.filter((n) => (n as number) >= 15).slice(10, 13));
  });
});

describe('blobs', () => {
  it('struct references (byte ranges of one packed file) are read positionally through the scan', async () => {
    const a = await drawPng(0, 1, 30);
    const b = await drawPng(1, 2, 20);
    const ref = new Struct([new Field('path', new Utf8(), false), new Field('offset', new Int64(), true), new Field('length', new Int64(), true)]);
    const schema = new Schema([new Field('id', new Int64(), false), new Field('img', ref, true)]);
    const t = await lake.createTable('packed', schema, { primaryKeys: ['id'], hashBucketNum: 1, blobColumns: ['img'] });
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'packed.bin'));
    await store.put(key, new Uint8Array(Buffer.concat([a, b])));
    const img = makeVector(makeData({
      type: ref, length: 2, nullCount: 0,
      children: [vectorFromArray(['packed.bin', 'packed.bin'], new Utf8()).data[0]!, vectorFromArray([0n, BigInt(a.length)], new Int64()).data[0]!, vectorFromArray([BigInt(a.length), BigInt(b.length)], new Int64()).data[0]!],
    }));
    await t.write(new RecordBatch({ id: vectorFromArray([1n, 2n], new Int64()).data[0]!, img: img.data[0]! }));
    const page = await api.rows({ namespace: 'default', table: 'packed' }, 1, 10);
    expect(page.rows.map((r) => r[0])).toEqual([2]);
    expect(page.previews.img).toMatchObject([{ kind: 'image', type: 'image/png', width: 20, height: 20, size: b.length }]);
    const full = await api.blob({ namespace: 'default', table: 'packed' }, 0, 'img', 'full');
    expect(Buffer.from(full.bytes).equals(a)).toBe(true);
    expect(full.fileName).toBe('packed.bin');
  });

  it('reads each distinct reference of a request once: rows naming one object, deep pages of struct references', async () => {
    const png = new Uint8Array(await drawPng(1, 4, 64));
    const ref = new Struct([new Field('path', new Utf8(), false), new Field('offset', new Int64(), true), new Field('length', new Int64(), true)]);
    const schema = new Schema([new Field('id', new Int64(), false), new Field('path', new Utf8(), true), new Field('packed', ref, true)]);
    const t = await lake.createTable('shared', schema, { primaryKeys: ['id'], hashBucketNum: 1, blobColumns: ['path', 'packed'] });
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'one.png'));
    await store.put(key, png);
    const n = 3_000;
    const packed = makeVector(makeData({
      type: ref, length: n, nullCount: 0,
      children: [vectorFromArray(Array.from({ length: n }, () => 'one.png'), new Utf8()).data[0]!, vectorFromArray(Array.from({ length: n }, () => 0n), new Int64()).data[0]!,
        vectorFromArray(Array.from({ length: n }, () => BigInt(png.length)), new Int64()).data[0]!],
    }));
    await t.write(new RecordBatch({
      id: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i)), new Int64()).data[0]!,
      path: vectorFromArray(Array.from({ length: n }, () => 'one.png'), new Utf8()).data[0]!,
      packed: packed.data[0]!,
    }));
    // the reads of the object (the store's real ones, counted): every row of the table names it
    const counted = store as unknown as Record<'get' | 'getConfined', (...a: unknown[]) => Promise<Uint8Array>>;
    let reads = 0;
    const originals = { get: counted.get, getConfined: counted.getConfined };
    for (const m of ['get', 'getConfined'] as const) counted[m] = function (this: unknown, ...a: unknown[]) { if (String(a[0]).endsWith('/one.png')) reads++; return originals[m].apply(this, a); };
    try {
      const view = { namespace: 'default', table: 'shared' };
      const one = await api.blob(view, 2_500, 'path', 'original');
      expect(Buffer.from(one.bytes).equals(Buffer.from(png))).toBe(true);
      expect(reads).toBe(1);
      reads = 0;
      const page = await api.rows(view, 2_800, 200);
      expect(page.rows.length).toBe(200);
      expect(page.previews.path!.every((p) => p.kind === 'image')).toBe(true);
      expect(page.previews.packed!.every((p) => p.kind === 'image')).toBe(true);
      // one read per column, not one per row, and none for the 2,800 rows before the page
      expect(reads).toBe(2);
    } finally {
      Object.assign(counted, originals);
    }
  });

  it('one page mixes an image, a malformed reference, a missing object and a refused one, each shown for what it is', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('path', new Utf8(), true)]);
    const t = await lake.createTable('mixed', schema, { primaryKeys: ['id'], hashBucketNum: 1, blobColumns: ['path'] });
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'ok.png'));
    await store.put(key, new Uint8Array(await drawPng(2, 3, 16)));
    const paths = ['ok.png', 'ok.png#bytes=9-1', 'gone.png', '../../../escape.png', null];
    await t.write(new Table({ id: vectorFromArray([1n, 2n, 3n, 4n, 5n], new Int64()), path: vectorFromArray(paths, new Utf8()) }));
    const page = await api.rows({ namespace: 'default', table: 'mixed' }, 0, 10);
    expect(page.rows.map((r) => r[1])).toEqual(paths);
    const kinds = page.previews.path!.map((p) => ('code' in p ? `${p.kind}:${p.code}` : p.kind));
    expect(kinds[0]).toBe('image');
    expect(kinds[1]).toMatch(/^error:/);
    expect(kinds.slice(2)).toEqual(['missing', 'refused:BLOB_OUTSIDE_ROOTS', 'missing']);
  });

  it('a binary column holding image bytes itself is previewed from its values, and opens in full', async () => {
    const png = await drawPng(0, 9, 12);
    const schema = new Schema([new Field('id', new Int64(), false), new Field('bytes', new Binary(), true)]);
    const t = await lake.createTable('inline', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(new Table({ id: vectorFromArray([1n, 2n, 3n], new Int64()), bytes: vectorFromArray([new Uint8Array(png), new Uint8Array([1, 2, 3]), null], new Binary()) }));
    const page = await api.rows({ namespace: 'default', table: 'inline' }, 0, 10);
    expect(page.columns.find((c) => c.name === 'bytes')).toMatchObject({ blob: false, binary: true });
    expect(page.rows.map((r) => r[1])).toEqual([`<${png.length} bytes>`, '<3 bytes>', null]);
    expect(page.previews.bytes).toMatchObject([{ kind: 'image', width: 12, height: 12 }, { kind: 'file', type: 'application/octet-stream', size: 3 }, { kind: 'missing' }]);
    const full = await api.blob({ namespace: 'default', table: 'inline' }, 0, 'bytes', 'full');
    expect(Buffer.from(full.bytes).equals(png)).toBe(true);
    await expect(api.blob({ namespace: 'default', table: 'inline' }, 0, 'id', 'original')).rejects.toMatchObject({ code: 'UI_NOT_BLOB_COLUMN' });
  });

  it('an image beyond the decode limit gets no thumbnail, only its type and size', async () => {
    const side = Math.ceil(Math.sqrt(MAX_DECODE_PIXELS)) + 16;
    const huge = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const schema = new Schema([new Field('id', new Int64(), false), new Field('path', new Utf8(), true)]);
    const t = await lake.createTable('huge', schema, { primaryKeys: ['id'], hashBucketNum: 1, blobColumns: ['path'] });
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'huge.png'));
    await store.put(key, new Uint8Array(huge));
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), path: vectorFromArray(['huge.png'], new Utf8()) }));
    const page = await api.rows({ namespace: 'default', table: 'huge' }, 0, 10);
    expect(page.previews.path![0]).toMatchObject({ kind: 'file', type: 'image/png', size: huge.length });
    expect((page.previews.path![0] as { note: string }).note).toMatch(/pixel limit/i);
    await expect(api.blob({ namespace: 'default', table: 'huge' }, 0, 'path', 'original')).resolves.toMatchObject({ type: 'image/png' });
  });
});

describe('server', () => {
  let ui: UiServer;
  beforeAll(async () => { ui = await startUi({ lakehouse: lake, port: 0 }); });
  afterAll(async () => { await ui?.close(); });

  const raw = (path: string, headers: Record<string, string> = {}, method = 'GET') => new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((res, rej) => {
    const r = request({ host: '127.0.0.1', port: ui.port, path, method, headers }, (resp) => {
      let body = '';
      resp.on('data', (d) => { body += d; });
      resp.on('end', () => res({ status: resp.statusCode!, body, headers: resp.headers }));
    });
    r.on('error', rej);
    r.end();
  });

  it('refuses a foreign Host on loopback (DNS rebinding), unknown paths, writes and bad parameters', async () => {
    const rebound = await raw('/api/namespaces', { host: 'attacker.example:80' });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('UI_HOST_REFUSED');
    expect((await raw('/api/namespaces', { host: `localhost:${ui.port}` })).status).toBe(200);
    // names that only look like loopback addresses are names a rebinding attacker can own
    for (const host of ['127.attacker.example', '127.0.0.1.nip.io', '127.0.0.1.', 'localhost.attacker.example']) {
      const r = await raw('/api/namespaces', { host: `${host}:${ui.port}` });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body).error.code, host).toBe('UI_HOST_REFUSED');
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '[::1]']) expect((await raw('/api/namespaces', { host: `${host}:${ui.port}` })).status, host).toBe(200);
    const huge = await raw('/api/rows?table=appends&at=99999999999999999999999');
    expect(huge.status).toBe(400);
    expect(JSON.parse(huge.body).error).toMatchObject({ code: 'UI_BAD_PARAMETER', message: expect.stringContaining("'at'") });
    expect(huge.body).not.toMatch(/sqlState|bigint/);
    const traversal = await raw('/../package.json');
    expect(traversal.status).toBe(404);
    expect(traversal.body).not.toContain('@lakesoul-ts/ui');
    expect((await raw('/app.js/../../package.json')).status).toBe(404);
    expect((await raw('/api/namespaces', {}, 'DELETE')).status).toBe(405);
    const bad = await raw('/api/rows?table=appends&offset=abc');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ kind: 'InvalidArgument', code: 'UI_BAD_PARAMETER' });
    const missing = await raw('/api/table?table=nosuch');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.message).toMatch(/nosuch/);
    const page = await raw('/');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('takes a column named with leading or trailing spaces as spelled, and answers a malformed request target with 400', async () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field(' sp ', new Utf8(), true), new Field('v', new Utf8(), true)]);
    const t = await lake.createTable('spaced', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(new Table({ id: vectorFromArray([1n], new Int64()), ' sp ': vectorFromArray(['spaced'], new Utf8()), v: vectorFromArray(['x'], new Utf8()) }));
    const spaced = await raw(`/api/rows?table=spaced&columns=${encodeURIComponent(' sp ,id')}`);
    expect(spaced.status).toBe(200);
    expect(JSON.parse(spaced.body)).toMatchObject({ columns: [{ name: ' sp ' }, { name: 'id' }], rows: [['spaced', 1]] });
    // a list typed by hand with spaces after the commas still names `v`
    expect(JSON.parse((await raw(`/api/rows?table=spaced&columns=${encodeURIComponent('id, v')}`)).body)).toMatchObject({ rows: [[1, 'x']] });
    const answer = await new Promise<string>((res, rej) => {
      const sock = connect(ui.port, '127.0.0.1', () => sock.end(`GET http://[bad/api/namespaces HTTP/1.1\r\nHost: 127.0.0.1:${ui.port}\r\nConnection: close\r\n\r\n`));
      let got = '';
      sock.on('data', (d) => { got += d; });
      sock.on('end', () => res(got));
      sock.on('error', rej);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('UI_BAD_PARAMETER');
  });

  it('takes a filter of 3,000 ids (a 19 KB address); an address past the limit gets 431 with what to shorten; the icon is an empty answer, not a 404', async () => {
    const t = await lake.createTable('manyids', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(new Table({ id: vectorFromArray(Array.from({ length: 5000 }, (_, i) => BigInt(i)), new Int64()) }));
    const filter = `id in (${Array.from({ length: 3000 }, (_, i) => i * 7).join(', ')})`;
    const long = await raw(`/api/rows?table=manyids&limit=5&filter=${encodeURIComponent(filter)}`);
    expect(long.status).toBe(200);
    expect(JSON.parse(long.body).rows.map((r: unknown[]) => r[0])).toEqual([0, 7, 14, 21, 28]);
    const tooLong = await raw(`/api/rows?table=manyids&filter=${'x'.repeat(MAX_REQUEST_HEAD_BYTES + 10)}`);
    expect(tooLong.status).toBe(431);
    expect(JSON.parse(tooLong.body).error).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringContaining('shorten the filter') });
    const icon = await raw('/favicon.ico');
    expect([icon.status, icon.body]).toEqual([204, '']);
  });

  it('answers 429 with Retry-After to an address that sent too many wrong tokens, before checking its token', async () => {
    let now = 0;
    const guarded = await startUi({ lakehouse: lake, port: 0, tokens: ['right-token'], failedLogins: { burst: 3, refillMs: 5_000, now: () => now } });
    const at = (token: string) => new Promise<{ status: number; body: string; retryAfter?: string }>((res, rej) => {
      const r = request({ host: '127.0.0.1', port: guarded.port, path: '/api/namespaces', headers: { authorization: `Bearer ${token}` } }, (resp) => {
        let body = '';
        resp.on('data', (d) => { body += d; });
        resp.on('end', () => res({ status: resp.statusCode!, body, retryAfter: resp.headers['retry-after'] as string | undefined }));
      });
      r.on('error', rej);
      r.end();
    });
    try {
      for (let i = 0; i < 3; i++) expect((await at(`guess-${i}`)).status).toBe(401);
      const limited = await at('right-token');
      expect(limited.status).toBe(429);
      expect(limited.retryAfter).toBe('5');
      expect(JSON.parse(limited.body).error.message).toMatch(/too many failed logins from host (127\.0\.0\.1|::ffff:127\.0\.0\.1); retry in 5 s/);
      now += 5_000;
      expect((await at('right-token')).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it("one client's stale token does not lock out the others behind its address: the same wrong token counts once, and a long token passes a locked host", async () => {
    const long = 'L'.repeat(MIN_UNGUESSABLE_TOKEN_CHARS);
    const guarded = await startUi({ lakehouse: lake, port: 0, tokens: ['short-token', long], failedLogins: { burst: 3, refillMs: 60_000 } });
    const at = (token: string) => new Promise<number>((res, rej) => {
      const r = request({ host: '127.0.0.1', port: guarded.port, path: '/api/namespaces', headers: { authorization: `Bearer ${token}` } }, (resp) => { resp.resume(); resp.on('end', () => res(resp.statusCode!)); });
      r.on('error', rej);
      r.end();
    });
    try {
      for (let i = 0; i < 10; i++) expect(await at('stale-token')).toBe(401);
      expect(await at('short-token')).toBe(200);
      for (let i = 0; i < 2; i++) expect(await at(`guess-${i}`)).toBe(401); // with the stale one, 3 failures
      // locked: a short token is refused right or wrong, the long one still gets in
      expect(await at('short-token')).toBe(429);
      expect(await at(long)).toBe(200);
      expect(await at(`${long}x`)).toBe(429);
    } finally {
      await guarded.close();
    }
  });
});
