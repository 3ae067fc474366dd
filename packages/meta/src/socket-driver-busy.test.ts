/**
 * A {@link SocketDriver} whose server does not answer at once. PGlite runs a statement without
 * returning to the event loop, so a server busy with a long one answers no ping meanwhile: it was
 * told "stopped or hung ... kill -9" after 15 s although it was working. And a connection the driver
 * ended itself (a ping unanswered, a frame it refused) left `close()` waiting for ever for an event
 * already past: the CLI's `history` exited with code 13 (an unsettled top-level await), printing nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serveCatalog, SocketDriver } from './catalog-server.js';
import type { SqlDriver } from './sql-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'socket-driver-busy-'));
const children: ChildProcess[] = [];
const servers: Server[] = [];

/**
 * A child process speaking the catalog server's frames: it answers pings at once, and a query after
 * `holdMs` during which its event loop is blocked, spinning the CPU (`busy`) or asleep (`asleep`).
 */
async function blockingServer(name: string, mode: 'busy' | 'asleep', holdMs: number): Promise<{ socket: string; pid: number }> {
  const socket = join(dir, `${name}.sock`);
  const code = `import { createServer } from 'node:net'; import { serialize, deserialize } from 'node:v8';
    const send = (s, v) => { const b = serialize(v); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); s.write(Buffer.concat([h, b])); };
    createServer((s) => { let buf = Buffer.alloc(0); s.on('data', (c) => { buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) { const n = buf.readUInt32BE(0); const req = deserialize(buf.subarray(4, 4 + n)); buf = buf.subarray(4 + n);
        if (req.op === 'query') {
          const until = Date.now() + ${holdMs};
          if (${JSON.stringify(mode)} === 'busy') { while (Date.now() < until) {} } else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
          send(s, { id: req.id, rows: [{ x: 1 }], rowCount: 1 });
        } else send(s, { id: req.id });
      } }); s.on('error', () => {}); }).listen(${JSON.stringify(socket)}, () => console.log('ready'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => { if (String(d).includes('ready')) res(); });
    child.on('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  return { socket, pid: child.pid! };
}

/** Resolves with 'settled' when `p` settles within `ms`, else 'pending'. */
function settles(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((res) => setTimeout(() => res('pending'), ms))]);
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('SocketDriver and a server that does not answer at once', () => {
  // The driver tells a busy server from a hung one by the CPU time /proc reports for it (Linux, as
  // here and in CI); without /proc it has no such measure and these cases do not apply.
  it.runIf(existsSync('/proc/self/stat'))('waits for a server busy with a long statement (it uses CPU) instead of calling it hung', async () => {
    const server = await blockingServer('busy', 'busy', 2500);
    const driver = await SocketDriver.connect(server.socket, 'busy test', { pid: server.pid, socket: server.socket });
    driver.pingEveryMs = 100;
    driver.pingTimeoutMs = 400;
    try {
      expect((await driver.query('SELECT 1')).rows).toEqual([{ x: 1 }]);
      expect((await driver.query('SELECT 1')).rows).toEqual([{ x: 1 }]);
    } finally {
      expect(await settles(driver.close(), 2000)).toBe('settled');
    }
  }, 20_000);

  // (needs /proc, as above)
  it.runIf(existsSync('/proc/self/stat'))('gives up a server that answers no ping and uses no CPU, and close() then returns', async () => {
    const server = await blockingServer('asleep', 'asleep', 5000);
    const driver = await SocketDriver.connect(server.socket, 'asleep test', { pid: server.pid, socket: server.socket });
    driver.pingEveryMs = 100;
    driver.pingTimeoutMs = 400;
    await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE', context: { serverUnresponsive: true, pid: server.pid } });
    await new Promise((r) => setTimeout(r, 100)); // the socket's 'close' is past
    expect(await settles(driver.close(), 2000)).toBe('settled');
  }, 20_000);

  it('a reply frame over the limit fails the call saying so, and close() then returns', async () => {
    const socket = join(dir, 'big.sock');
    const server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => { const h = Buffer.alloc(4); h.writeUInt32BE(0xffff_fff0); s.write(h); });
    });
    servers.push(server);
    await new Promise<void>((res) => server.listen(socket, res));
    const driver = await SocketDriver.connect(socket, 'big test');
    await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'CATALOG_PROTOCOL_VIOLATION', message: expect.stringMatching(/a frame of 4294967280 bytes, over the 268435456/) });
    await new Promise((r) => setTimeout(r, 100));
    expect(await settles(driver.close(), 2000)).toBe('settled');
  });

  it('a server whose result is over the frame limit replies an error saying so (it sent a frame the client refused, ending the connection)', async () => {
    const socket = join(dir, 'served.sock');
    const huge = 'x'.repeat(257 * 2 ** 20);
    const driver = { kind: 'pglite', capabilities: { concurrentTransactions: false, multiProcess: true, listenNotify: false },
      query: async (text: string) => ({ rows: [{ v: text === 'big' ? huge : 'small' }], rowCount: 1 }) } as unknown as SqlDriver;
    const served = await serveCatalog(driver, { socket, release: () => {} });
    const client = await SocketDriver.connect(socket, 'served test');
    try {
      await expect(client.query('big')).rejects.toMatchObject({ code: 'CATALOG_REPLY_TOO_LARGE', message: expect.stringMatching(/result of the statement is 258 MB, over the 256 MB a reply may hold/) });
      expect((await client.query('small')).rows).toEqual([{ v: 'small' }]); // the connection stays
    } finally {
      await client.close();
      await served.close();
    }
  }, 20_000);
});
