/**
 * `lakesoul-ts ui` as a person starts it (the built CLI, stopped by SIGINT), and the UI's API over the
 * real PostgreSQL catalog and the moto S3 server: blobs on S3 become thumbnails, a reference into
 * another bucket is refused, history, time travel, diff and statistics answer as on PGlite.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lakehouse } from '@lakesoul-ts/io';
import { startUi, type UiServer } from '@lakesoul-ts/ui';
import { fillDemoLakehouse, SECRET_MARKER, type DemoLakehouse } from '../packages/ui/src/ui-fixtures.js';
import { freshBucket, testEnv, uniqueName } from './cli-env.js';

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js');

describe('lakesoul-ts ui (the built CLI)', () => {
  it('serves the page and the API, asks for the token when set, and stops on the first SIGINT', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-ui-cli-'));
    const p = spawn(process.execPath, [bin, '--home', home, 'ui', '--port', '0', '--token', 'tok-1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const url = await new Promise<string>((res, rej) => {
      p.stdout.on('data', (d) => { out += d; const m = /LakeSoul UI on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out); if (m) res(m[1]!); });
      p.on('exit', (c) => rej(new Error(`ui exited ${c}: ${err}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
    expect((await fetch(`${url}app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${url}api/namespaces`)).status).toBe(401);
    const ok = await fetch(`${url}api/namespaces`, { headers: { authorization: 'Bearer tok-1' } });
    expect(await ok.json()).toEqual([{ name: 'default', comment: '', tables: [] }]);
    // the commands the pages show reach this home (they said `lakesoul-ts scan ...`: the default home)
    const info = (await (await fetch(`${url}api/info`, { headers: { authorization: 'Bearer tok-1' } })).json()) as { command: string };
    expect(info.command.endsWith(` --home ${home}`), info.command).toBe(true);
    expect(info.command).toMatch(/^(node \S*bin\.js|pnpm lakesoul-ts|npx lakesoul-ts|lakesoul-ts) /);
    expect((await fetch(`${url}api/info`)).status).toBe(401);
    const started = Date.now();
    const code = await new Promise<number | null>((res) => { p.on('exit', res); p.kill('SIGINT'); });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toContain('SIGINT: stopping the UI');
  });
});

/** A GET of `url` with a given Host header (fetch does not let one set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((res, rej) => {
    const r = request(url, { headers: { host } }, (resp) => { resp.resume(); resp.on('end', () => res(resp.statusCode!)); });
    r.on('error', rej);
    r.end();
  });
}

describe('lakesoul-ts ui on every spelling of loopback', () => {
  it('keeps the DNS-rebinding Host check on (LOCALHOST, ::ffff:127.0.0.1), as on 127.0.0.1', async () => {
    for (const host of ['LOCALHOST', '::ffff:127.0.0.1', 'Localhost', '127.0.0.1']) {
      const home = mkdtempSync(join(tmpdir(), 'lakesoul-ui-host-'));
      const p = spawn(process.execPath, [bin, '--home', home, 'ui', '--port', '0', '--host', host], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAKESOUL_CATALOG_SERVER: 'off' } });
      let out = '';
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      const url = await new Promise<string>((res, rej) => {
        p.stdout.on('data', (d) => { out += d; const m = /LakeSoul UI on (http:\/\/\S+\/)/.exec(out); if (m) res(m[1]!); });
        p.on('exit', (c) => rej(new Error(`ui --host ${host} exited ${c}: ${err}`)));
      });
      try {
        const port = new URL(url).port;
        // started without a token: loopback, so the Host check must hold
        expect(await getWithHost(`${url}api/namespaces`, `attacker.example:${port}`), host).toBe(403);
        expect(await getWithHost(`${url}api/namespaces`, `localhost:${port}`), host).toBe(200);
        expect(await getWithHost(`${url}api/namespaces`, `[::ffff:7f00:1]:${port}`), host).toBe(200);
      } finally {
        await new Promise((res) => { p.on('exit', res); p.kill('SIGINT'); });
      }
    }
  });

  it('a port in use: one error that says so, no log line of a library before it', async () => {
    const taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res));
    const port = String((taken.address() as { port: number }).port);
    try {
      const home = mkdtempSync(join(tmpdir(), 'lakesoul-ui-port-'));
      const { GRPC_VERBOSITY: _, ...withoutGrpcVerbosity } = process.env;
      for (const command of ['ui', 'serve']) {
        const r = await new Promise<{ code: number | null; err: string }>((res) => {
          const p = spawn(process.execPath, [bin, '--home', home, command, '--port', port], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...withoutGrpcVerbosity, LAKESOUL_CATALOG_SERVER: 'off' } });
          let err = '';
          p.stderr.on('data', (d) => { err += d; });
          p.on('close', (code) => res({ code, err }));
        });
        expect(r.code, command).toBe(1);
        expect(r.err, command).toMatch(/^error: [^\n]*127\.0\.0\.1:\d+[^\n]*\n$/);
      }
    } finally {
      taken.close();
    }
  });
});

describe('the UI API over PostgreSQL + S3 (moto)', () => {
  let lake: DemoLakehouse;
  let lakehouse: Lakehouse;
  let ui: UiServer;
  let ns: string;
  const get = async (path: string, params: Record<string, string | number>) => {
    const q = new URLSearchParams(Object.entries({ ns, table: 'images', ...params }).map(([k, v]) => [k, String(v)]));
    const r = await fetch(`${ui.url}api/${path}?${q}`);
    return { status: r.status, body: await r.text() };
  };

  beforeAll(async () => {
    const pgUrl = testEnv('LAKESOUL_TEST_PG_URL');
    const endpoint = testEnv('LAKESOUL_TEST_S3_ENDPOINT');
    const bucket = await freshBucket('ui-tables');
    const other = await freshBucket('ui-outside');
    lakehouse = await Lakehouse.open({
      catalog: { url: pgUrl },
      stores: { s3: { endpoint, region: 'us-east-1', forcePathStyle: true } },
      warehouse: `s3://${bucket}/warehouse`,
    });
    ns = uniqueName('ui');
    lake = await fillDemoLakehouse(lakehouse, { namespace: ns, outside: `s3://${other}/outside` });
    ui = await startUi({ lakehouse, port: 0 });
  });

  afterAll(async () => {
    await ui?.close();
    await lakehouse?.close();
  });

  it('pages rows with thumbnails of S3 blobs; the reference into another bucket is refused', async () => {
    const r = await get('rows', { offset: 0, limit: 50 });
    expect(r.status).toBe(200);
    const page = JSON.parse(r.body);
    expect(page.rows).toHaveLength(42);
    const previews = page.previews.image_path as Array<{ kind: string; code?: string; type?: string; width?: number }>;
    const ids = page.rows.map((row: unknown[]) => row[0]);
    expect(previews[ids.indexOf(lake.refusedId)]).toMatchObject({ kind: 'refused', code: 'BLOB_OUTSIDE_ROOTS' });
    expect(previews[ids.indexOf(lake.audioId)]).toMatchObject({ kind: 'file', type: 'audio/wav', size: 844 });
    expect(previews.filter((p) => p.kind === 'image' && p.width === 48)).toHaveLength(40);
    const refused = await get('blob', { filter: `id = ${lake.refusedId}`, row: 0, column: 'image_path' });
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain(SECRET_MARKER);
    expect(JSON.parse(refused.body).error).toMatchObject({ kind: 'PermissionDenied', code: 'BLOB_OUTSIDE_ROOTS' });
    const full = await fetch(`${ui.url}api/blob?${new URLSearchParams({ ns, table: 'images', filter: 'id = 4', row: '0', column: 'image_path', mode: 'full' })}`);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await full.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });

  it('history, time travel, diff and statistics', async () => {
    const h = JSON.parse((await get('history', {})).body);
    expect(h.commits.map((c: { timestamp: number }) => c.timestamp)).toEqual([...lake.commits].reverse());
    const old = JSON.parse((await get('rows', { at: lake.commits[0]!, offset: 0, limit: 50 })).body);
    expect(old.rows).toHaveLength(40);
    const d = JSON.parse((await get('diff', { from: lake.commits[0]!, to: lake.commits[3]! })).body);
    expect(d.counts).toEqual({ added: 4, changed: 5, deleted: 2, unchanged: 0 });
    expect(d.partitions).toEqual({ 'date=2024-05-01': 'reset', 'date=2024-05-02': 'incremental' });
    const s = JSON.parse((await get('stats', { column: 'label', at: lake.commits[1]! })).body);
    expect(s.values).toEqual([{ value: 'disc', count: 15 }, { value: 'square', count: 13 }, { value: 'stripes', count: 12 }]);
    const bad = await get('rows', { filter: 'nosuch = 1', offset: 0, limit: 10 });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toMatch(/nosuch/);
  });
});
