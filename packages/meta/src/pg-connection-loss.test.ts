import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PgDriver } from './pg-driver.js';
import { testFile } from './testing/index.js';
import { PgWireProxy, simpleQueryText, testPgUrl, type PgProxyLink } from './testing/pg-wire-proxy.js';

// A real PostgreSQL server behind a proxy that can lose a transaction's COMMIT, or the answer to it:
// what a restart, a failover or a network reset does at the worst moment.

type Fault = 'none' | 'lose-answer' | 'lose-commit' | 'delay-commit';

/** A PostgreSQL wire proxy that applies `fault` to the `nth` simple-query COMMIT after `arm`. */
class CommitFaultProxy extends PgWireProxy {
  private fault: Fault = 'none';
  private countdown = 0;
  /** After the next fault, new connections are refused (the server is down for a while). */
  refuseAfterFault = false;

  constructor() {
    super((msg, link) => this.onMessage(msg, link));
  }

  arm(fault: Fault, nth: number): void {
    this.fault = fault;
    this.countdown = nth;
  }

  private onMessage(msg: Buffer, link: PgProxyLink): boolean {
    const { client, up } = link;
    const isCommit = /^COMMIT\b/i.test(simpleQueryText(msg) ?? '');
    if (!isCommit || this.fault === 'none' || --this.countdown !== 0) return false;
    const fault = this.fault;
    this.fault = 'none';
    if (this.refuseAfterFault) this.refusing = true;
    if (fault === 'lose-commit') {
      client.destroy();
      up.destroy();
      return true;
    }
    if (fault === 'delay-commit') {
      // the client's connection drops at once; the COMMIT reaches the server later (a pooler, a
      // slow network): the transaction is still open, holding its locks, when the client asks
      link.answering = false;
      link.keepUpOnClientClose = true;
      client.destroy();
      setTimeout(() => up.write(msg, () => setTimeout(() => up.destroy(), 300)), 700);
      return true;
    }
    // the server gets the COMMIT and commits; its answer never reaches the client
    link.answering = false;
    up.write(msg);
    setTimeout(() => { client.destroy(); up.destroy(); }, 300);
    return true;
  }
}

describe('commits on PostgreSQL when the connection is lost', () => {
  const schema = `connloss_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const proxy = new CommitFaultProxy();
  let driver: PgDriver;
  let catalog: Catalog;

  beforeAll(async () => {
    await proxy.start();
    driver = await PgDriver.connect({ url: proxy.url(), schema });
    catalog = new Catalog(driver);
    await catalog.bootstrap();
  });
  afterAll(async () => {
    await catalog?.close();
    await proxy.stop();
    const c = new pg.Client({ connectionString: testPgUrl() });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  const newTable = (name: string) => catalog.createTable({
    name: `${name}_${randomUUID().slice(0, 8)}`, path: `file:///tmp/lakesoul-connloss/${name}`,
    schema: new Schema([new Field('id', new Int64(), true), new Field('v', new Utf8(), true)]),
  });
  const committedRows = async (tableId: string) =>
    Number((await driver.query<{ n: string }>('SELECT count(*)::text AS n FROM data_commit_info WHERE table_id = $1 AND committed', [tableId])).rows[0]!.n);

  it('a commit whose answer was lost is found committed: success, once (a retry appended the rows twice)', async () => {
    const t = await newTable('answer');
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] });
    proxy.arm('lose-answer', 2); // phase 1's COMMIT passes; phase 2's is applied, its answer lost
    const r = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'b')] }] });
    expect(r.versions).toEqual(new Map([['-5', 1]]));
    expect((await catalog.history(t.tableId)).map((v) => v.version)).toEqual([0, 1]);
    expect(await committedRows(t.tableId)).toBe(2);
    expect((await catalog.getSnapshot(t.tableId))[0]!.files.map((f) => f.path.replace(/.*part-|_\d+\.parquet$/g, ''))).toEqual(['a', 'b']);
  });

  it('a COMMIT lost before it reached the server committed nothing: the commit is made again', async () => {
    const t = await newTable('lost');
    proxy.arm('lose-commit', 2);
    const r = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] });
    expect(r.versions).toEqual(new Map([['-5', 0]]));
    expect(r.retries).toBe(1);
    expect((await catalog.history(t.tableId)).map((v) => v.version)).toEqual([0]);
    expect(await committedRows(t.tableId)).toBe(1);
  });

  it('a COMMIT still on its way when the client asks is waited for: the commit is found landed, not made twice', async () => {
    // asked at once, the catalog said "not committed" and the retry committed the files a second time
    for (const op of ['AppendCommit', 'UpdateCommit'] as const) {
      const t = await newTable(`delayed_${op}`);
      await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] });
      proxy.arm('delay-commit', 2);
      const files = op === 'UpdateCommit' ? [testFile(t, '-5', 'b'), testFile(t, '-5', 'a', { op: 'del' })] : [testFile(t, '-5', 'b')];
      const r = await catalog.commit({ tableId: t.tableId, op, partitions: [{ partitionDesc: '-5', files, readVersion: 0 }] });
      expect(r.versions, op).toEqual(new Map([['-5', 1]]));
      expect((await catalog.history(t.tableId)).map((v) => [v.version, v.commitOp]), op).toEqual([[0, 'AppendCommit'], [1, op]]);
      const snapshot = (await catalog.getSnapshot(t.tableId))[0]!;
      expect(new Set(snapshot.files.map((f) => f.commitId)).size, `${op}: each commit once in the snapshot`).toBe(snapshot.files.length);
      expect(await committedRows(t.tableId)).toBe(2);
    }
  });

  it('an abort while the commit waits to ask again whether it landed leaves its outcome unknown (not an abort: the writer deleted the files of a landed commit)', async () => {
    const t = await newTable('abort_outcome');
    await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] });
    proxy.refuseAfterFault = true;
    proxy.arm('lose-answer', 2); // phase 2's COMMIT applied, its answer lost, then the server unreachable
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('interrupted')), 1500); // most of those 1.5 s are the pauses between the questions
    try {
      const err = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'b')] }], signal: ac.signal })
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LakeSoulError);
      expect(err).toMatchObject({ code: 'COMMIT_OUTCOME_UNKNOWN', message: expect.stringMatching(/could not be asked whether it landed.*Its data files are kept/) });
    } finally {
      clearTimeout(timer);
      proxy.refuseAfterFault = false;
      proxy.refusing = false;
    }
    // it had landed: its rows stay, committed
    expect((await catalog.history(t.tableId)).map((v) => v.version)).toEqual([0, 1]);
    expect(await committedRows(t.tableId)).toBe(2);
  });

  it('a backend terminated inside a transaction fails that call, not the process', async () => {
    const admin = new pg.Client({ connectionString: testPgUrl() });
    await admin.connect();
    try {
      // Without an 'error' listener on the checked-out client, node-postgres's 'error' event ended the process.
      const e = await driver.transaction(async (tx) => {
        const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await new Promise((res) => setTimeout(res, 200));
        await tx.query('SELECT 1');
      }).then(() => null, (err: unknown) => err);
      expect(LakeSoulError.is(e, 'Catalog'), String(e)).toBe(true);
      expect((await driver.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await admin.end();
    }
  });
});

describe("a catalog's bootstrap on PostgreSQL when the connection is lost at its COMMIT", () => {
  const proxy = new CommitFaultProxy();
  const schemas: string[] = [];
  beforeAll(() => proxy.start());
  afterAll(async () => {
    await proxy.stop();
    const c = new pg.Client({ connectionString: testPgUrl() });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await c.end();
  });

  // A lost answer to the bootstrap's COMMIT failed the open as TRANSACTION_OUTCOME_UNKNOWN (not
  // retryable), although a second open worked: the bootstrap inspects the catalog again instead.
  for (const fault of ['lose-answer', 'lose-commit'] as const) {
    it(`${fault}: the open succeeds and the catalog is complete and usable`, async () => {
      const schema = `bootloss_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      schemas.push(schema);
      const driver = await PgDriver.connect({ url: proxy.url(), schema });
      const catalog = new Catalog(driver);
      try {
        proxy.arm(fault, 1); // the first COMMIT after this: the bootstrap's DDL transaction
        await catalog.bootstrap();
        const t = await catalog.createTable({
          name: `t_${randomUUID().slice(0, 8)}`, path: `file:///tmp/lakesoul-bootloss/${schema}`,
          schema: new Schema([new Field('id', new Int64(), true)]),
        });
        expect((await catalog.getTable(t.name, t.namespace)).tableId).toBe(t.tableId);
      } finally {
        await catalog.close();
      }
    });
  }
});
