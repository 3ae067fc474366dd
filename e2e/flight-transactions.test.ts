/**
 * DoPut commits only what a client declared complete (docs/flight.md "Writing"): pyarrow producers
 * that fail mid-stream commit nothing however they end, a plain undeclared DoPut is refused, a
 * declared row count autocommits, and transactions (begin -> DoPut streams from several clients ->
 * commit / rollback / expiry) make one catalog commit or none; a transaction in mode overwrite replaces
 * the table or the chosen partitions with one UpdateCommit. Real pyarrow.flight client, PGlite
 * catalog, local disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binary, Field, Float64, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse, type LakeSoulTable } from '@lakesoul-ts/io';
import { FlightClient, createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { runPythonClient } from './cli-env.js';

const SECRET = 'e2e-flight-txn-secret-0123456789';
const COLUMNS = ['id', 'date', 'label', 'score', 'image'];

function python(): string {
  const py = process.env.LAKESOUL_TEST_PYTHON;
  if (!py) throw new Error('LAKESOUL_TEST_PYTHON is not set: run via node scripts/test-env.mjs -- vitest run e2e/flight-transactions.test.ts');
  return py;
}

const py = (command: string, url: string, args: Record<string, unknown> = {}) => runPythonClient('flight_client.py', command, url, args);

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('image', new Binary(), true),
]);

/** Rows of the test schema with the given ids. */
function rows(ids: number[]): Table {
  return new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-02-0${1 + (i % 2)}`), new Utf8()),
    label: vectorFromArray(ids.map((i) => `ts-${i}`), new Utf8()),
    score: vectorFromArray(ids.map((i) => i / 2), new Float64()),
    image: vectorFromArray(ids.map(() => null), new Binary()),
  } as any);
}

/** Every data file under a local directory (relative paths, sorted). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  python();
  dir = mkdtempSync(join(tmpdir(), 'flight-txn-e2e-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  server = createFlightServer({ lakehouse, ticketSecret: SECRET });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freshTable(name: string, pk = true): Promise<LakeSoulTable> {
  return lakehouse.createTable(name, schema, pk ? { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 2 } : { rangePartitions: ['date'] });
}

function tableDir(t: LakeSoulTable): string {
  return fileURLToPath(t.info.path);
}

/** What a table shows: versions, rows and files on disk. */
async function stateOf(t: LakeSoulTable): Promise<{ versions: number; rows: number; files: string[] }> {
  return { versions: (await t.history()).length, rows: (await t.toArrow()).numRows, files: filesUnder(tableDir(t)) };
}

describe('DoPut commits only declared, complete streams (pyarrow)', () => {
  it('a producer failing mid-stream commits nothing, however it ends and whatever the descriptor', async () => {
    const t = await freshTable('failing');
    await t.write(rows([1, 2]));
    const before = await stateOf(t);
    expect(before.rows).toBe(2);
    const cases: { how: string; cmd: Record<string, unknown> }[] = [];
    for (const how of ['raise', 'no_done', 'close_only']) {
      cases.push({ how, cmd: { table: 'failing', mode: 'upsert' } }); // undeclared: refused up front
      cases.push({ how, cmd: { table: 'failing', mode: 'upsert', expectedRows: 1000 } }); // declared: 600 of 1000 arrive
    }
    for (const c of cases) {
      const r = await py('put_fail', url, { cmd: c.cmd, how: c.how, rows: 1000, start: 100, columns: COLUMNS });
      expect(r.sent, JSON.stringify(c)).toBeGreaterThan(0);
      // pyarrow may or may not surface the server's refusal to a producer that stopped; the table must not move.
      await new Promise((res) => setTimeout(res, 150));
      expect(await stateOf(t), JSON.stringify(c)).toEqual(before);
    }
    // A pyarrow path descriptor cannot declare an end either: refused, naming what to use.
    const refused = await py('put', url, { path: ['failing'], rows: 10, start: 5000, columns: COLUMNS });
    expect(refused.error).toBe('ArrowInvalid');
    expect(refused.message).toMatch(/expectedRows/);
    expect(refused.message).toMatch(/begin/);
    expect(await stateOf(t)).toEqual(before);
  });

  it('a declared row count commits once at the end of a complete stream', async () => {
    const t = await freshTable('declared');
    const r = await py('put', url, { cmd: { table: 'declared', mode: 'upsert', expectedRows: 400 }, rows: 400, start: 0, columns: COLUMNS });
    expect(r.error).toBeUndefined();
    expect(r.result.rows).toBe(400);
    expect((await t.history()).length).toBe(2); // one commit: one version per touched partition
    expect((await t.toArrow()).numRows).toBe(400);
    // A count that does not match what arrives commits nothing.
    const over = await py('put', url, { cmd: { table: 'declared', expectedRows: 100 }, rows: 400, start: 1000, columns: COLUMNS });
    expect(over.error).toBe('ArrowInvalid');
    expect(over.message).toMatch(/expectedRows/);
    expect((await t.toArrow()).numRows).toBe(400);
  });

  it('a transaction gathers DoPut streams of two concurrent clients into one commit, visible only after it', async () => {
    const t = await freshTable('txn');
    const before = await stateOf(t);
    const r = await py('txn', url, { table: 'txn', workers: 2, rows: 500, start: 0, columns: COLUMNS, end: 'none' });
    expect(r.puts).toHaveLength(2);
    for (const p of r.puts) expect(p).toMatchObject({ staged: true, rows: 500, transaction: r.transaction });
    // staged, not committed: readers see nothing
    const staged = await stateOf(t);
    expect(staged.versions).toBe(before.versions);
    expect(staged.rows).toBe(0);
    expect(staged.files.length).toBeGreaterThan(0);
    const client = await FlightClient.connect(url);
    try {
      const committed = await client.doActionJson<any>('commit', { transaction: r.transaction, expectedRows: 1000 });
      expect(committed).toMatchObject({ rows: 1000, streams: 2 });
      const history = await t.history();
      expect(history.length).toBe(2); // two partitions, one commit
      expect((await t.toArrow()).numRows).toBe(1000);
      // the transaction is over: no stream joins it, and a commit sent again answers the first one's result, committing nothing more
      await expect(client.doPut({ cmd: { table: 'txn', transaction: r.transaction } }, rows([9_999]))).rejects.toMatchObject({ kind: 'NotFound' });
      expect(await client.doActionJson<any>('commit', { transaction: r.transaction })).toEqual(committed);
      expect((await t.history()).length).toBe(2);
    } finally {
      client.close();
    }
    // from pyarrow end to end, with the commit in the same script
    const again = await py('txn', url, { table: 'txn', workers: 2, rows: 300, start: 5000, columns: COLUMNS, end: 'commit' });
    expect(again.commit).toMatchObject({ rows: 600, streams: 2 });
    expect((await t.toArrow()).numRows).toBe(1600);
  });

  it('a transaction one of whose writers failed is refused at commit and leaves no files', async () => {
    const t = await freshTable('txnfail');
    const before = await stateOf(t);
    const r = await py('txn', url, { table: 'txnfail', workers: 2, rows: 400, start: 0, columns: COLUMNS, fail_worker: 1, end: 'commit', expectedRows: 800 });
    expect(r.puts[1].failed ?? r.puts[1].error).toBeTruthy();
    // the failed writer's half stream either staged 100 rows (pyarrow ended it cleanly) or failed: the
    // coordinator's expected count refuses the commit either way, and rolls back
    expect(r.error).toBeDefined();
    expect(await stateOf(t)).toEqual(before);
  });

  // Found by a hunt of the Spark source: a Spark task failing with an exception ended its DoPut as if
  // complete, so the retried attempt's rows came on top of the failed one's and every such write failed
  it('a writer run again after it failed: the commit takes the streams it names, the failed attempt\'s rows and files go', async () => {
    const t = await freshTable('txnretry');
    const r = await py('txn', url, { table: 'txnretry', workers: 2, rows: 400, start: 0, columns: COLUMNS, fail_worker: 1, retry_failed: true, stream_names: true, end: 'commit', expectedRows: 800 });
    expect(r.puts[1].failed ?? r.puts[1].error).toBeTruthy();
    expect(r.puts[2]).toMatchObject({ staged: true, rows: 400, stream: 'w1-a1' });
    expect(r.error, r.message).toBeUndefined();
    expect(r.commit).toMatchObject({ rows: 800, streams: 2 });
    const ids = [...(await t.toArrow()).getChild('id')!].map(Number).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 800 }, (_, i) => i));
    // on disk: the committed files alone (the failed attempt's staged file was deleted)
    const committed = (await t.scan()).splits.flatMap((s) => s.files.map((f) => fileURLToPath(f.path).slice(tableDir(t).length + 1))).sort();
    expect(filesUnder(tableDir(t)).filter((f) => f.endsWith('.parquet'))).toEqual(committed);
    // a name no stream staged under is refused, rolling back; a name given twice refuses the second stream
    const missing = await py('txn', url, { table: 'txnretry', workers: 1, rows: 10, start: 5000, columns: COLUMNS, stream_names: true, streams: ['w0-a0', 'w9-a0'], end: 'commit' });
    expect(missing.message).toContain('no stream named "w9-a0" staged in it');
    const twice = await py('txn', url, { table: 'txnretry', workers: 2, rows: 10, start: 6000, columns: COLUMNS, stream_names: 'same', end: 'commit' });
    expect(twice.puts.filter((p: any) => p.error).map((p: any) => p.message)).toEqual([expect.stringContaining('has a stream named "w" already')]);
    expect(twice.commit).toMatchObject({ rows: 10, streams: 1 });
    expect((await t.toArrow()).numRows).toBe(810);
  });

  it('rollback deletes what was staged; an abandoned transaction expires and its files are reclaimed', async () => {
    const t = await freshTable('txnroll');
    const before = await stateOf(t);
    const rolled = await py('txn', url, { table: 'txnroll', workers: 2, rows: 200, columns: COLUMNS, end: 'rollback' });
    expect(rolled.rollback).toMatchObject({ rolledBack: true, streams: 2, rows: 400 });
    expect(await stateOf(t)).toEqual(before);

    const short = createFlightServer({ lakehouse, ticketSecret: SECRET, transactionTtlMs: 2000 });
    const shortUrl = `grpc://127.0.0.1:${await short.listen(0, '127.0.0.1')}`;
    try {
      const abandoned = await py('txn', shortUrl, { table: 'txnroll', workers: 2, rows: 200, columns: COLUMNS, end: 'none' });
      expect(abandoned.puts.every((p: any) => p.staged), JSON.stringify(abandoned)).toBe(true);
      expect(filesUnder(tableDir(t)).length).toBeGreaterThan(before.files.length);
      await new Promise((res) => setTimeout(res, 3500));
      expect(await stateOf(t)).toEqual(before);
      const client = await FlightClient.connect(shortUrl);
      try {
        await expect(client.doActionJson('commit', { transaction: abandoned.transaction })).rejects.toMatchObject({ kind: 'NotFound', message: expect.stringMatching(/expired/) });
      } finally {
        client.close();
      }
    } finally {
      await short.close(1000);
    }
  });

  it('refuses a transaction of another table, a malformed id and mixed modes', async () => {
    await freshTable('txna');
    await freshTable('txnb', false);
    const client = await FlightClient.connect(url);
    try {
      const { transaction } = await client.doActionJson<any>('begin', { table: 'txna' });
      const batch = rows([1]);
      await expect(client.doPut({ cmd: { table: 'txnb', transaction } }, batch)).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/txna/) });
      await expect(client.doPut({ cmd: { table: 'txna', transaction: 'nope' } }, batch)).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/32-hex-digit/) });
      await client.doPut({ cmd: { table: 'txna', transaction, mode: 'upsert' } }, batch);
      await expect(client.doPut({ cmd: { table: 'txna', transaction, mode: 'append' } }, batch)).rejects.toMatchObject({ message: expect.stringMatching(/upsert/) });
      // the failed stream poisoned the transaction: commit refuses and rolls back
      await expect(client.doActionJson('commit', { transaction })).rejects.toMatchObject({ kind: 'Aborted', message: expect.stringMatching(/rolled back/) });
      expect((await (await lakehouse.table('txna')).toArrow()).numRows).toBe(0);
    } finally {
      client.close();
    }
  });

  it('a transaction whose table was dropped and made again under its name: a stream says so, the commit says the table was dropped (found by a hunt of Flight replicas)', async () => {
    await freshTable('txnre');
    const client = await FlightClient.connect(url);
    try {
      const { transaction } = await client.doActionJson<any>('begin', { table: 'txnre' });
      await client.doPut({ cmd: { table: 'txnre', transaction, stream: 'a' } }, rows([1, 2]));
      await lakehouse.dropTable('txnre', { purge: true });
      await freshTable('txnre');
      await expect(client.doPut({ cmd: { table: 'txnre', transaction, stream: 'b' } }, rows([3]))).rejects.toMatchObject({
        kind: 'InvalidArgument', message: expect.stringMatching(/writes the table default\.txnre that was dropped since it began .*the table of that name now is another one/),
      });
      // (it said the staged file was deleted by a cleanup, ABORTED, which a client retries)
      const transaction2 = (await client.doActionJson<any>('begin', { table: 'txnre' })).transaction;
      await client.doPut({ cmd: { table: 'txnre', transaction: transaction2, stream: 'a' } }, rows([1]));
      await lakehouse.dropTable('txnre', { purge: true });
      await freshTable('txnre');
      await expect(client.doActionJson('commit', { transaction: transaction2, streams: ['a'] })).rejects.toMatchObject({
        kind: 'NotFound', message: expect.stringMatching(/table 'default\.txnre' was dropped while this write ran: nothing was committed/),
      });
      expect((await (await lakehouse.table('txnre')).toArrow()).numRows).toBe(0);
    } finally {
      client.close();
    }
  });

  it('a commit sent again or by several clients at once answers the first commit\'s outcome (a retry read "not open on this server"; found by a hunt of Flight replicas)', async () => {
    await freshTable('txnidem');
    const client = await FlightClient.connect(url);
    try {
      const { transaction } = await client.doActionJson<any>('begin', { table: 'txnidem' });
      await client.doPut({ cmd: { table: 'txnidem', transaction } }, rows([1, 2, 3]));
      const all = await Promise.all([1, 2, 3].map(() => client.doActionJson<any>('commit', { transaction })));
      for (const r of all) expect(r).toEqual(all[0]);
      expect(all[0].rows).toBe(3);
      expect(await client.doActionJson<any>('commit', { transaction })).toEqual(all[0]);
      const t = await lakehouse.table('txnidem');
      expect((await t.toArrow()).numRows).toBe(3);
      expect(new Set((await t.history()).map((h) => h.snapshot.at(-1))).size).toBe(Object.keys(all[0].commitIds).length);
      // commits naming streams (a stream left out is deleted first): one catalog commit, however many are sent at once
      const named = (await client.doActionJson<any>('begin', { table: 'txnidem' })).transaction;
      await client.doPut({ cmd: { table: 'txnidem', transaction: named, stream: 'a0' } }, rows([10, 11]));
      await client.doPut({ cmd: { table: 'txnidem', transaction: named, stream: 'a1' } }, rows([20, 21]));
      const versions = (await t.history()).length;
      const both = await Promise.all([1, 2, 3, 4].map(() => client.doActionJson<any>('commit', { transaction: named, streams: ['a1'], expectedRows: 2 })));
      for (const r of both) expect(r).toEqual(both[0]);
      expect((await t.history()).length - versions).toBe(Object.keys(both[0].commitIds).length);
      expect((await t.toArrow()).numRows).toBe(5);
      // a commit refused (rows counted wrong): refused again the same way, not retryable
      const second = (await client.doActionJson<any>('begin', { table: 'txnidem' })).transaction;
      await client.doPut({ cmd: { table: 'txnidem', transaction: second } }, rows([4]));
      await expect(client.doActionJson('commit', { transaction: second, expectedRows: 5 })).rejects.toMatchObject({ message: expect.stringMatching(/1 rows were staged, the commit expected 5/) });
      await expect(client.doActionJson('commit', { transaction: second, expectedRows: 1 })).rejects.toMatchObject({
        message: expect.stringMatching(/its commit failed, and the transaction is over \(begin a new one to write again\): .*1 rows were staged, the commit expected 5/),
      });
      expect((await t.toArrow()).numRows).toBe(5);
    } finally {
      client.close();
    }
  });

  it('one caller cannot hold every transaction: a per-caller bound (user, or host without auth) leaves room for the others', async () => {
    await freshTable('txncaller');
    const bounded = createFlightServer({ lakehouse, ticketSecret: SECRET, users: { alice: 'pw-a', bob: 'pw-b', 'token 1': 'pw-t' }, tokens: ['team-a', 'team-b'], maxOpenTransactions: 20, maxOpenTransactionsPerCaller: 3 });
    const boundedUrl = `grpc://127.0.0.1:${await bounded.listen(0, '127.0.0.1')}`;
    const open = createFlightServer({ lakehouse, ticketSecret: SECRET, maxOpenTransactionsPerCaller: 2 });
    const openUrl = `grpc://127.0.0.1:${await open.listen(0, '127.0.0.1')}`;
    const alice = await FlightClient.connect(boundedUrl, { basic: { username: 'alice', password: 'pw-a' } });
    const bob = await FlightClient.connect(boundedUrl, { basic: { username: 'bob', password: 'pw-b' } });
    const anon = await FlightClient.connect(openUrl);
    try {
      const mine: string[] = [];
      for (let i = 0; i < 3; i++) mine.push((await alice.doActionJson<any>('begin', { table: 'txncaller' })).transaction);
      await expect(alice.doActionJson('begin', { table: 'txncaller' })).rejects.toMatchObject({
        code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/for user 'alice' \(3, the limit per caller is 3\)/),
      });
      // another user still begins; alice again once she ended one
      const theirs = (await bob.doActionJson<any>('begin', { table: 'txncaller' })).transaction;
      await alice.doActionJson('rollback', { transaction: mine.pop() });
      mine.push((await alice.doActionJson<any>('begin', { table: 'txncaller' })).transaction);
      for (const transaction of [...mine, theirs]) await (transaction === theirs ? bob : alice).doActionJson('rollback', { transaction });
      // each static token is its own caller (all were one, 'token'), and a user named like one is another
      const teamA = await FlightClient.connect(boundedUrl, { token: 'team-a' });
      const teamB = await FlightClient.connect(boundedUrl, { token: 'team-b' });
      const lookalike = await FlightClient.connect(boundedUrl, { basic: { username: 'token 1', password: 'pw-t' } });
      try {
        const a = [];
        for (let i = 0; i < 3; i++) a.push((await teamA.doActionJson<any>('begin', { table: 'txncaller' })).transaction);
        await expect(teamA.doActionJson('begin', { table: 'txncaller' })).rejects.toMatchObject({
          code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/for static token 1 \(3, the limit per caller is 3\)/),
        });
        const b = (await teamB.doActionJson<any>('begin', { table: 'txncaller' })).transaction;
        const l = (await lookalike.doActionJson<any>('begin', { table: 'txncaller' })).transaction;
        for (const transaction of a) await teamA.doActionJson('rollback', { transaction });
        await teamB.doActionJson('rollback', { transaction: b });
        await lookalike.doActionJson('rollback', { transaction: l });
      } finally {
        for (const c of [teamA, teamB, lookalike]) c.close();
      }
      // without auth the caller is the client's host
      await anon.doActionJson('begin', { table: 'txncaller' });
      await anon.doActionJson('begin', { table: 'txncaller' });
      await expect(anon.doActionJson('begin', { table: 'txncaller' })).rejects.toMatchObject({
        code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/for host 127\.0\.0\.1 /),
      });
    } finally {
      for (const c of [alice, bob, anon]) c.close();
      await bounded.close(1000);
      await open.close(1000);
    }
  });

  it('a transaction in mode overwrite replaces the whole table with what its concurrent streams staged, in one commit', async () => {
    const t = await freshTable('txnover', false);
    await t.write(rows(Array.from({ length: 100 }, (_, i) => i)));
    const before = await t.history();
    const filesOf = async () => (await t.scan()).splits.flatMap((s) => s.files.map((f) => f.path));
    const oldFiles = await filesOf();
    const r = await py('txn', url, { table: 'txnover', begin: { mode: 'overwrite' }, workers: 2, rows: 30, start: 1000, columns: COLUMNS, end: 'commit', expectedRows: 60 });
    expect(r.error, JSON.stringify(r)).toBeUndefined();
    expect(r.commit).toMatchObject({ rows: 60, streams: 2 });
    const ids = Array.from((await t.toArrow()).getChild('id')!.toArray() as BigInt64Array, Number).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => 1000 + i));
    const history = await t.history();
    expect(history.length).toBe(before.length + 2); // one commit: one new version per partition
    expect(history.filter((h) => !before.some((b) => b.partitionDesc === h.partitionDesc && b.version === h.version)).map((h) => h.commitOp)).toEqual(['UpdateCommit', 'UpdateCommit']);
    // The table's files are the two streams' (one per stream and partition); the replaced ones are no longer part of it.
    const now = await filesOf();
    expect(now).toHaveLength(4);
    expect(now.filter((f) => oldFiles.includes(f))).toEqual([]);
  });

  it('overwrite with replaceWhere replaces only the chosen partition; nothing staged empties it; bad requests commit nothing', async () => {
    const t = await freshTable('txnwhere');
    await t.write(rows(Array.from({ length: 20 }, (_, i) => i)));
    const client = await FlightClient.connect(url);
    const dateOf = (tbl: Table) => Array.from({ length: tbl.numRows }, (_, i) => [Number(tbl.getChild('id')!.get(i)), tbl.getChild('date')!.get(i)]);
    try {
      const begun = await client.doActionJson<any>('begin', { table: 'txnwhere', mode: 'overwrite', replaceWhere: "date = '2024-02-01'" });
      expect(begun).toMatchObject({ mode: 'overwrite', replaces: ['date=2024-02-01'] });
      const even = [100, 102, 104];
      await client.doPut({ cmd: { table: 'txnwhere', transaction: begun.transaction } }, rows(even));
      expect((await t.toArrow()).numRows).toBe(20); // staged: invisible
      expect(await client.doActionJson<any>('commit', { transaction: begun.transaction, expectedRows: 3 })).toMatchObject({ rows: 3, streams: 1 });
      const after = dateOf(await t.toArrow()).sort((a, b) => (a[0] as number) - (b[0] as number));
      expect(after).toEqual([...Array.from({ length: 10 }, (_, k) => [2 * k + 1, '2024-02-02']), ...even.map((i) => [i, '2024-02-01'])]);

      // Rows outside the replaced partitions poison the transaction: the commit refuses and rolls back.
      const outside = await client.doActionJson<any>('begin', { table: 'txnwhere', mode: 'overwrite', replacePartitions: ['date=2024-02-01'] });
      await expect(client.doPut({ cmd: { table: 'txnwhere', transaction: outside.transaction } }, rows([200, 201]))).rejects.toMatchObject({ message: expect.stringMatching(/date=2024-02-02.*outside the partitions being replaced/) });
      await expect(client.doActionJson('commit', { transaction: outside.transaction })).rejects.toMatchObject({ kind: 'Aborted' });
      // A stream of an overwrite transaction gives no mode of its own.
      const moded = await client.doActionJson<any>('begin', { table: 'txnwhere', mode: 'overwrite' });
      await expect(client.doPut({ cmd: { table: 'txnwhere', transaction: moded.transaction, mode: 'upsert' } }, rows([300]))).rejects.toMatchObject({ message: expect.stringMatching(/overwrite/) });
      await client.doActionJson('rollback', { transaction: moded.transaction });
      // Refused at begin: a selection without mode overwrite, a non-range column, a bad mode.
      await expect(client.doActionJson('begin', { table: 'txnwhere', replaceWhere: "date = 'x'" })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/"mode": "overwrite"/) });
      await expect(client.doActionJson('begin', { table: 'txnwhere', mode: 'overwrite', replaceWhere: 'score > 1' })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/'score'/) });
      await expect(client.doActionJson('begin', { table: 'txnwhere', mode: 'replace' })).rejects.toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/"overwrite"/) });
      expect(dateOf(await t.toArrow()).length).toBe(13);

      // An overwrite of a partition that gets no rows empties it (an empty DataFrame overwritten).
      const empty = await client.doActionJson<any>('begin', { table: 'txnwhere', mode: 'overwrite', replacePartitions: { date: '2024-02-02' } });
      expect(await client.doActionJson<any>('commit', { transaction: empty.transaction, expectedRows: 0 })).toMatchObject({ rows: 0, streams: 0 });
      expect(dateOf(await t.toArrow()).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(even.map((i) => [i, '2024-02-01']));
    } finally {
      client.close();
    }
  });
});
