import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';
import { CATALOG_SERVER_FILE, readCatalogServerInfo, SocketDriver } from './catalog-server.js';
import { PGLITE_LOCK_FILE } from './pglite-driver.js';

const schema = new Schema([new Field('id', new Int64(), false)]);

/** The tables another process sees through the directory's server, or undefined when nothing serves it. */
async function servedTables(dataDir: string): Promise<string[] | undefined> {
  const info = readCatalogServerInfo(dataDir);
  if (!info) return undefined;
  const d = await SocketDriver.connect(info.socket, dataDir, info);
  try {
    const r = await d.query<{ table_name: string }>('SELECT table_name FROM table_info ORDER BY table_name');
    return r.rows.map((x) => x.table_name);
  } finally {
    await d.close();
  }
}

describe('Catalog.open with share: true twice on one directory in one process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-share-twice-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the directory until the last catalog that asked for share closes (closing the first stopped it)', async () => {
    const dataDir = join(dir, 'twice');
    const first = await Catalog.open({ dataDir, env: {}, share: true });
    const second = await Catalog.open({ dataDir, env: {}, share: true });
    await first.createTable({ name: 'a', path: 'file:///tmp/a', schema });
    expect(await servedTables(dataDir)).toEqual(['a']);
    await first.close();
    // the second still holds the directory with share: still served, on the live PGlite
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(true);
    await second.createTable({ name: 'b', path: 'file:///tmp/b', schema });
    expect(await servedTables(dataDir)).toEqual(['a', 'b']);
    await second.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
    // and it can be shared again afterwards
    const again = await Catalog.open({ dataDir, env: {}, share: true });
    expect(await servedTables(dataDir)).toEqual(['a', 'b']);
    await again.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);
  });

  it('closing them in the other order, or a share-less catalog first, keeps it served while one with share is open', async () => {
    const dataDir = join(dir, 'orders');
    const first = await Catalog.open({ dataDir, env: {}, share: true });
    const second = await Catalog.open({ dataDir, env: {}, share: true });
    await second.close();
    expect(await servedTables(dataDir)).toEqual([]);
    await first.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);

    const plain = await Catalog.open({ dataDir, env: {} });
    const shared = await Catalog.open({ dataDir, env: {}, share: true });
    await plain.close();
    expect(await servedTables(dataDir)).toEqual([]);
    await shared.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);
  });

  it('opens concurrently with share: one server, kept until both close', async () => {
    const dataDir = join(dir, 'concurrent');
    await (await Catalog.open({ dataDir, env: {} })).close();
    const [a, b] = await Promise.all([Catalog.open({ dataDir, env: {}, share: true }), Catalog.open({ dataDir, env: {}, share: true })]);
    await a.close();
    expect(await servedTables(dataDir)).toEqual([]);
    await b.close();
    expect(existsSync(join(dataDir, CATALOG_SERVER_FILE))).toBe(false);
  });

  it('refuses a directory another process holds with CATALOG_LOCKED, retryable (as a served catalog\'s call says it)', async () => {
    const dataDir = join(dir, 'locked');
    mkdirSync(dataDir, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, PGLITE_LOCK_FILE), String(other.pid));
      await expect(Catalog.open({ dataDir, env: {}, lockWaitMs: 0 })).rejects.toMatchObject({ kind: 'Catalog', code: 'CATALOG_LOCKED', retryable: true, context: { pid: other.pid } });
      const waited = await Catalog.open({ dataDir, env: {}, lockWaitMs: 200, onLockWait: () => {} }).catch((x) => x);
      expect(waited).toMatchObject({ code: 'CATALOG_LOCKED', retryable: true });
      expect(waited.message).toContain('waited 0.2 s');
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
  });
});
