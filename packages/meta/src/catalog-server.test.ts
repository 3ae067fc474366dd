import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import {
  CATALOG_SERVER_FILE, claimCatalogServer, openEmbeddedDriver, readCatalogServerInfo, serveCatalog, shareCatalogDirectory, SocketDriver,
  type CatalogServer,
} from './catalog-server.js';
import { LakeSoulError } from './errors.js';
import { PGliteDriver } from './pglite-driver.js';
import { ownProcessStart, processStartTime } from './process-alive.js';
import { runCatalogConformance } from './testing/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lakesoul-catalog-server-'));
  dirs.push(d);
  return d;
}

/** A directory's catalog opened here and served on a socket. */
async function served(): Promise<{ dir: string; driver: PGliteDriver; server: CatalogServer }> {
  const dir = tempDir();
  const claim = claimCatalogServer(dir)!;
  const driver = await PGliteDriver.open({ dataDir: dir });
  await new Catalog(driver).bootstrap();
  return { dir, driver, server: await serveCatalog(driver, claim) };
}

const shared = served();
afterAll(async () => {
  const { server, driver } = await shared;
  await server.close();
  await driver.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Every catalog rule, through the socket: values (bigints, dates, JSON) and errors (kinds, codes,
// retryable conflicts) must arrive exactly as the served driver produced them.
runCatalogConformance('PGlite served on a unix socket', async () => {
  const { server, dir } = await shared;
  return SocketDriver.connect(server.socket, dir);
});

describe('catalog server', () => {
  it('advertises itself in the directory and takes over a dead claim, not a live one', async () => {
    const { dir, server } = await shared;
    expect(readCatalogServerInfo(dir)).toEqual({ pid: process.pid, socket: server.socket, start: ownProcessStart(), dir: realpathSync(dir) });
    expect(claimCatalogServer(dir)).toBeUndefined();

    const other = tempDir();
    writeFileSync(join(other, CATALOG_SERVER_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, socket: '/nonexistent' }));
    const claim = claimCatalogServer(other)!;
    expect(readCatalogServerInfo(other)?.pid).toBe(process.pid);
    claim.release();
    expect(existsSync(join(other, CATALOG_SERVER_FILE))).toBe(false);
  });

  it('rolls back the open transaction of a client that goes away, and serves the next one', async () => {
    const { server, dir } = await shared;
    const a = await SocketDriver.connect(server.socket, dir);
    let inside!: () => void;
    const entered = new Promise<void>((res) => { inside = res; });
    const abandoned = a.transaction(async (tx) => {
      await tx.query("INSERT INTO namespace (namespace, properties, comment, domain) VALUES ('gone_ns', '{}'::json, '', 'public')");
      inside();
      await new Promise(() => {});
    });
    abandoned.catch(() => {});
    await entered;
    (a as unknown as { socket: { destroy(): void } }).socket.destroy();
    await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE', retryable: true });

    const b = await SocketDriver.connect(server.socket, dir);
    const r = await b.query<{ n: number }>("SELECT count(*)::int AS n FROM namespace WHERE namespace = 'gone_ns'");
    expect(r.rows[0].n).toBe(0);
    await b.close();
    await expect(b.query('SELECT 1')).rejects.toMatchObject({ code: 'DRIVER_CLOSED' });
  });

  it('keeps bigints, dates and bytes exact, and maps errors with their codes', async () => {
    const { server, dir } = await shared;
    const c = await SocketDriver.connect(server.socket, dir);
    const r = await c.query<{ b: bigint | string; t: Date; x: Uint8Array }>(
      "SELECT 9007199254740993::int8 AS b, TIMESTAMPTZ '2024-01-01 00:00:00.123+00' AS t, '\\x00ff10'::bytea AS x");
    expect(String(r.rows[0].b)).toBe('9007199254740993');
    expect(r.rows[0].t).toEqual(new Date('2024-01-01T00:00:00.123Z'));
    expect([...r.rows[0].x]).toEqual([0, 255, 16]);
    const err = await c.query('SELECT * FROM no_such_table').catch((e) => e);
    expect(err).toBeInstanceOf(LakeSoulError);
    expect(err).toMatchObject({ kind: 'Catalog', code: 'CATALOG_SCHEMA' });
    await c.close();
  });

  it('openEmbeddedDriver waits for a server that is starting, then goes through its socket', async () => {
    const dir = tempDir();
    // A "server" that claimed the directory but is not listening yet: the client waits for the socket.
    const claim = claimCatalogServer(dir)!;
    writeFileSync(join(dir, CATALOG_SERVER_FILE), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, CATALOG_SERVER_FILE), 'utf8')), pid: process.ppid, start: processStartTime(process.ppid) }));
    const opening = openEmbeddedDriver(dir, () => Promise.reject(new Error('must not open the directory itself')));
    await new Promise((res) => setTimeout(res, 300));
    const driver = await PGliteDriver.open({ dataDir: dir });
    const server = await serveCatalog(driver, claim);
    const client = await opening;
    expect(client).toBeInstanceOf(SocketDriver);
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.close();
    await server.close();
    await driver.close();
    rmSync(join(dir, CATALOG_SERVER_FILE)); // the claim was relabelled with another pid above
    // No server any more: the directory is opened directly.
    const direct = await openEmbeddedDriver(dir, () => PGliteDriver.open({ dataDir: dir }));
    expect(direct).toBeInstanceOf(PGliteDriver);
    await direct.close();
  });

  it('survives a client that does not speak the protocol, and a silent server fails calls instead of hanging them', async () => {
    const { server, dir } = await shared;
    for (const junk of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0, 0, 0, 3, 1, 2, 3]), Buffer.from([0xff, 0xff, 0xff, 0xff])]) {
      const s = createConnection(server.socket);
      await new Promise<void>((res) => s.on('connect', () => { s.write(junk); }).on('close', () => res()));
    }
    const ok = await SocketDriver.connect(server.socket, dir);
    expect((await ok.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
    await ok.close();

    const silentPath = join(tempDir(), 'silent.sock');
    const silent = createServer(() => { /* accepts, never answers */ });
    await new Promise<void>((res) => silent.listen(silentPath, () => res()));
    const client = await SocketDriver.connect(silentPath, 'silent');
    client.callTimeoutMs = 200;
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE', retryable: true, message: expect.stringMatching(/did not answer within 0\.2 s/) });
    await client.close();
    silent.close();
  });

  it('calls onIdle once no client has been connected for idleMs', async () => {
    const dir = tempDir();
    const driver = await PGliteDriver.open({ dataDir: dir });
    let idle = 0;
    const server = await serveCatalog(driver, claimCatalogServer(dir)!, { idleMs: 200, onIdle: () => { idle++; } });
    const c = await SocketDriver.connect(server.socket, dir);
    await new Promise((res) => setTimeout(res, 400));
    expect(idle).toBe(0);
    await c.close();
    await new Promise((res) => setTimeout(res, 500));
    expect(idle).toBe(1);
    await server.close();
    await driver.close();
    expect(readCatalogServerInfo(dir)).toBeUndefined();
  });

  it('rolls back a client transaction left without a statement, so that it stops the others only that long', async () => {
    const dir = tempDir();
    const driver = await PGliteDriver.open({ dataDir: dir });
    const server = await serveCatalog(driver, claimCatalogServer(dir)!, { transactionIdleMs: 300 });
    const stalled = await SocketDriver.connect(server.socket, dir);
    const other = await SocketDriver.connect(server.socket, dir);
    try {
      const t0 = Date.now();
      const held = stalled.transaction(async (tx) => {
        await tx.query('CREATE TABLE kept_out (a int)');
        await new Promise((res) => setTimeout(res, 1500)); // a client stopped inside its transaction
        await tx.query('SELECT 1');
      });
      const heldOutcome = held.catch((e) => e);
      await new Promise((res) => setTimeout(res, 50));
      // waits for the stalled transaction, then runs once it is rolled back
      expect((await other.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'kept_out'")).rows).toEqual([{ n: 0 }]);
      expect(Date.now() - t0).toBeLessThan(1200);
      const e = await heldOutcome;
      expect(e).toBeInstanceOf(LakeSoulError);
      expect(e).toMatchObject({ code: 'CATALOG_TRANSACTION_EXPIRED', message: expect.stringContaining('300 ms without a statement') });
      // the connection still works
      expect((await stalled.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      // a transaction that keeps issuing statements is not cut short
      await stalled.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) {
          await tx.query('SELECT 1');
          await new Promise((res) => setTimeout(res, 150));
        }
      });
    } finally {
      await stalled.close();
      await other.close();
      await server.close();
      await driver.close();
    }
  });

  it('reads a large frame sent in small pieces in linear time', async () => {
    const { server } = await shared;
    const big = 'x'.repeat(48 * 2 ** 20);
    const body = serialize({ id: 1, op: 'query', text: 'SELECT length($1::text) AS n', params: [big] });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    const frame = Buffer.concat([head, body]);
    const socket = createConnection(server.socket);
    await new Promise((res) => socket.once('connect', res));
    const reply = new Promise<Buffer>((res) => {
      let got = Buffer.alloc(0);
      socket.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) res(got.subarray(4, 4 + got.readUInt32BE(0)));
      });
    });
    const t0 = Date.now();
    for (let at = 0; at < frame.length; at += 16 * 1024) {
      if (!socket.write(frame.subarray(at, at + 16 * 1024))) await new Promise((res) => socket.once('drain', res));
    }
    expect(deserialize(await reply)).toMatchObject({ id: 1, rows: [{ n: big.length }] });
    expect(Date.now() - t0).toBeLessThan(20_000); // joined on every piece: minutes
    socket.destroy();
  }, 60_000);

  it('shareCatalogDirectory waits claimWaitMs for a live claim to go; a socket path too long for an address moves to /tmp', async () => {
    const dir = tempDir();
    const driver = await PGliteDriver.open({ dataDir: dir });
    try {
      const held = claimCatalogServer(dir, 'a server on its way out')!;
      const t0 = Date.now();
      expect(await shareCatalogDirectory(driver, dir, 'x', { claimWaitMs: 200 })).toBeUndefined();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
      expect(readCatalogServerInfo(dir)?.role).toBe('a server on its way out');

      setTimeout(() => held.release(), 100);
      const server = (await shareCatalogDirectory(driver, dir, 'the sharer', { claimWaitMs: 5000 }))!;
      expect(readCatalogServerInfo(dir)).toEqual({ pid: process.pid, socket: server.socket, role: 'the sharer', start: ownProcessStart(), dir: realpathSync(dir) });
      const c = await SocketDriver.connect(server.socket, dir);
      expect((await c.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c.close();
      await server.close();
      expect(readCatalogServerInfo(dir)).toBeUndefined();

      // a temporary directory too long for a socket address: libuv would cut the path short (outside
      // the private directory); the socket goes under /tmp instead, in a private directory
      const longTmp = join(dir, 'x'.repeat(120));
      mkdirSync(longTmp);
      const origTmp = process.env.TMPDIR;
      process.env.TMPDIR = longTmp;
      let viaLong: CatalogServer;
      try {
        viaLong = (await shareCatalogDirectory(driver, dir, 'y'))!;
      } finally {
        if (origTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = origTmp;
      }
      expect(Buffer.byteLength(viaLong.socket)).toBeLessThanOrEqual(103);
      expect(existsSync(viaLong.socket)).toBe(true);
      expect(statSync(dirname(viaLong.socket)).mode & 0o777).toBe(0o700);
      const c2 = await SocketDriver.connect(viaLong.socket, dir);
      expect((await c2.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c2.close();
      await viaLong.close();
      expect(readCatalogServerInfo(dir)).toBeUndefined();
    } finally {
      await driver.close();
    }
  });
});
