/**
 * An AbortSignal given to a call on an embedded catalog that waits for another transaction: in this
 * process (PGliteDriver: PGlite runs one transaction at a time) and through a catalog server
 * (SocketDriver). The calls checked the signal only before they waited: an abort once a request was
 * sent (or queued on PGlite's lock) was ignored until the other transaction ended, the 15 s ping
 * failure or the 120 s call timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimCatalogServer, serveCatalog, SocketDriver, type CatalogServer } from './catalog-server.js';
import { expectAborted, settled } from './testing/abort-expect.js';
import { PGliteDriver } from './pglite-driver.js';

const dirs: string[] = [];
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** A transaction of `driver` held open until the returned `release` is called. */
async function holdTransaction(driver: { transaction: PGliteDriver['transaction'] }): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((res) => { release = res; });
  let begun!: () => void;
  const started = new Promise<void>((res) => { begun = res; });
  const done = driver.transaction(async (tx) => { await tx.query('SELECT 1'); begun(); await held; });
  await started;
  return { release, done };
}

const abortIn = (ms: number): AbortSignal => {
  const c = new AbortController();
  setTimeout(() => c.abort(new Error('user pressed Ctrl-C')), ms);
  return c.signal;
};

async function served(): Promise<{ dir: string; driver: PGliteDriver; server: CatalogServer }> {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-served-abort-'));
  dirs.push(dir);
  const claim = claimCatalogServer(dir)!;
  const driver = await PGliteDriver.open({ dataDir: dir });
  await driver.query('CREATE TABLE t (v int)');
  return { dir, driver, server: await serveCatalog(driver, claim) };
}

const shared = served();
afterAll(async () => {
  const { server, driver } = await shared;
  await server.close();
  await driver.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('aborting a call on an embedded catalog that waits for another transaction', () => {
  it('PGliteDriver: a statement waiting behind a transaction stops waiting at the abort, and never runs', async () => {
    const { driver } = await shared;
    const other = await holdTransaction(driver);
    try {
      const o = await settled(driver.query('INSERT INTO t VALUES (1)', [], { signal: abortIn(200) }), 1500);
      expectAborted(o.error);
      expect(o.after).toBeLessThan(1000);
      const t = await settled(driver.transaction(async () => {}, { signal: abortIn(200) }), 1500);
      expectAborted(t.error);
    } finally {
      other.release();
      await other.done;
    }
    await sleep(50);
    expect((await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE v = 1')).rows).toEqual([{ n: 0 }]);
  });

  it('SocketDriver: a query sent while another client holds a transaction stops waiting at the abort; its late reply answers no later call', async () => {
    const { server, dir } = await shared;
    const a = await SocketDriver.connect(server.socket, dir);
    const b = await SocketDriver.connect(server.socket, dir);
    try {
      const other = await holdTransaction(a);
      let o;
      try {
        o = await settled(b.query('SELECT 1 AS first', [], { signal: abortIn(200) }), 1500);
      } finally {
        other.release();
        await other.done;
      }
      expectAborted(o.error);
      expect(o.after).toBeLessThan(1000);
      // the server answers the aborted query after all: that reply must not be taken for this one's
      expect((await b.query('SELECT 2 AS second')).rows).toEqual([{ second: 2 }]);
      expect((await b.query('SELECT 3 AS third')).rows).toEqual([{ third: 3 }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('SocketDriver: a transaction whose BEGIN waits stops at the abort, and the transaction the server opens later is rolled back at once', async () => {
    const { server, dir } = await shared;
    const a = await SocketDriver.connect(server.socket, dir);
    const b = await SocketDriver.connect(server.socket, dir);
    const c = await SocketDriver.connect(server.socket, dir);
    try {
      const other = await holdTransaction(a);
      let ran = false;
      let o;
      try {
        o = await settled(b.transaction(async (tx) => { ran = true; await tx.query('INSERT INTO t VALUES (2)'); }, { signal: abortIn(200) }), 1500);
      } finally {
        other.release();
        await other.done;
      }
      expectAborted(o.error);
      expect(o.after).toBeLessThan(1000);
      expect(ran).toBe(false);
      // not left open (it would hold every other client until the server's transaction idle timeout)
      const next = await settled(c.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE v = 2')).rows), 3000);
      expect(next.error).toBeUndefined();
      expect(next.value).toEqual([{ n: 0 }]);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });
});

describe('aborting a statement of a transaction through a catalog server', () => {
  it('SocketDriver: the transaction stops at the abort and is rolled back, never committed, even when its callback swallows the abort', async () => {
    // a server speaking the catalog server's frames that opens transactions at once and never answers a statement
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-served-abort-'));
    dirs.push(dir);
    const socketPath = join(dir, 'fake.sock');
    const ops: string[] = [];
    const sockets = new Set<Socket>();
    const fake = createServer((s) => {
      sockets.add(s);
      const send = (v: unknown) => { const b = serialize(v); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); s.write(Buffer.concat([h, b])); };
      let buf = Buffer.alloc(0);
      s.on('error', () => {});
      s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const n = buf.readUInt32BE(0);
          const req = deserialize(buf.subarray(4, 4 + n)) as { id: number; op: string };
          buf = buf.subarray(4 + n);
          if (req.op === 'ping') { send({ id: req.id }); continue; }
          ops.push(req.op);
          if (req.op === 'begin') send({ id: req.id, tx: 1 });
          else if (req.op !== 'query') send({ id: req.id });
        }
      });
    });
    await new Promise<void>((res) => fake.listen(socketPath, res));
    const d = await SocketDriver.connect(socketPath, dir);
    try {
      const o = await settled(d.transaction(async (tx) => {
        try {
          await tx.query('INSERT INTO t VALUES (3)', [], { signal: abortIn(200) });
        } catch {
          // swallowed: the statement may still run on the server, so the transaction must not commit
        }
        return 'done';
      }), 1500);
      expectAborted(o.error);
      expect(o.after).toBeLessThan(1000);
      await sleep(100);
      expect(ops).toEqual(['begin', 'query', 'rollback']);
    } finally {
      await d.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => fake.close(() => res()));
    }
  });
});
