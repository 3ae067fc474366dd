import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';
import { PgDriver } from './pg-driver.js';
import { testFile } from './testing/index.js';

// A real PostgreSQL server behind a proxy that can lose a transaction's COMMIT, or the answer to it:
// what a restart, a failover or a network reset does at the worst moment.

function testUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

type Fault = 'none' | 'lose-answer' | 'lose-commit' | 'delay-commit';

/** A PostgreSQL wire proxy that applies `fault` to the `nth` simple-query COMMIT after `arm`. */
class CommitFaultProxy {
  private server!: Server;
  private fault: Fault = 'none';
  private countdown = 0;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
  }

  arm(fault: Fault, nth: number): void {
    this.fault = fault;
    this.countdown = nth;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private relay(client: Socket): void {
    const up = createConnection(this.upstream);
    let delayed = false; // a COMMIT on its way: the server side stays open after the client's closes
    for (const s of [client, up]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => { if (s === up || !delayed) { client.destroy(); up.destroy(); } this.sockets.delete(s); });
    }
    let answering = true;
    up.on('data', (d) => { if (answering) client.write(d); });
    let buf = Buffer.alloc(0);
    let started = false; // the startup message has no type byte
    client.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const head = started ? 5 : 4;
        if (buf.length < head) return;
        const len = started ? buf.readInt32BE(1) + 1 : buf.readInt32BE(0);
        if (buf.length < len) return;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        started = true;
        const isCommit = msg[0] === 0x51 && /^COMMIT\b/i.test(msg.subarray(5, len - 1).toString('utf8'));
        if (isCommit && this.fault !== 'none' && --this.countdown === 0) {
          const fault = this.fault;
          this.fault = 'none';
          if (fault === 'lose-commit') {
            client.destroy();
            up.destroy();
            return;
          }
          if (fault === 'delay-commit') {
            // the client's connection drops at once; the COMMIT reaches the server later (a pooler, a
            // slow network): the transaction is still open, holding its locks, when the client asks
            answering = false;
            delayed = true;
            client.destroy();
            setTimeout(() => up.write(msg, () => setTimeout(() => up.destroy(), 300)), 700);
            return;
          }
          // the server gets the COMMIT and commits; its answer never reaches the client
          answering = false;
          up.write(msg);
          setTimeout(() => { client.destroy(); up.destroy(); }, 300);
          return;
        }
        up.write(msg);
      }
    });
  }
}

describe('commits on PostgreSQL when the connection is lost', () => {
  const schema = `connloss_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = new URL(testUrl());
  const proxy = new CommitFaultProxy({ host: url.hostname, port: Number(url.port || 5432) });
  let driver: PgDriver;
  let catalog: Catalog;

  beforeAll(async () => {
    await proxy.start();
    const through = new URL(testUrl());
    through.hostname = '127.0.0.1';
    through.port = String(proxy.port);
    driver = await PgDriver.connect({ url: through.href, schema });
    catalog = new Catalog(driver);
    await catalog.bootstrap();
  });
  afterAll(async () => {
    await catalog?.close();
    await proxy.stop();
    const c = new pg.Client({ connectionString: testUrl() });
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

  it('a backend terminated inside a transaction fails that call, not the process', async () => {
    const admin = new pg.Client({ connectionString: testUrl() });
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
