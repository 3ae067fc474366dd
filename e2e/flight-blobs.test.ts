/**
 * Blob confinement through Flight: a table whose blob column references files through symlinks
 * leading out of the table (every shape of packages/io/src/blob/blob-confinement.test.ts), served by
 * createFlightServer and read with the real pyarrow.flight client and our TS client. Flight has no blob
 * path: a stream carries the reference strings as stored, never the bytes behind them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Field, Int32, Schema, Table, Utf8, tableFromIPC, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { Lakehouse, LocalStore, StoreRegistry, toFileUri } from '@lakesoul-ts/io';
import { FlightClient, createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';

const run = promisify(execFile);
const PY_CLIENT = join(resolve(__dirname, '..'), 'e2e/python/flight_client.py');
const SECRET_TEXT = 'FLIGHT-SECRET-OUTSIDE-THE-ROOTS';

function python(): string {
  const p = process.env.LAKESOUL_TEST_PYTHON;
  if (!p) throw new Error('LAKESOUL_TEST_PYTHON is not set: run via node scripts/test-env.mjs -- vitest run e2e/flight-blobs.test.ts');
  return p;
}

const REFS = ['links/passwd', 'links/secret', 'links/relative', 'links/chain1', 'links/outdir/secret.txt', 'links/root/etc/passwd', 'files/ok.txt'];

let dir: string;
let lakehouse: Lakehouse;
let server: FlightServer;
let url: string;

beforeAll(async () => {
  python();
  dir = mkdtempSync(join(tmpdir(), 'flight-blobs-'));
  const wh = join(dir, 'warehouse');
  const tdir = join(wh, 'default', 'refs');
  // the warehouse served by a registered LocalStore: the registration the bypass used
  const stores = new StoreRegistry().register(toFileUri(wh) + '/', new LocalStore({ root: wh }));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, stores, warehouse: toFileUri(wh) });
  // the table first (a table is made on an empty path), then the files its rows reference under it
  const t = await lakehouse.createTable('refs', new Schema([new Field('id', new Int32(), false), new Field('path', new Utf8(), true)]), { blobColumns: ['path'], path: toFileUri(tdir) });
  mkdirSync(join(tdir, 'links'), { recursive: true });
  mkdirSync(join(tdir, 'files'), { recursive: true });
  mkdirSync(join(dir, 'outside'), { recursive: true });
  writeFileSync(join(tdir, 'files', 'ok.txt'), 'inside');
  writeFileSync(join(dir, 'outside', 'secret.txt'), SECRET_TEXT);
  symlinkSync('/etc/passwd', join(tdir, 'links', 'passwd'));
  symlinkSync(join(dir, 'outside', 'secret.txt'), join(tdir, 'links', 'secret'));
  symlinkSync('../../../../outside/secret.txt', join(tdir, 'links', 'relative'));
  symlinkSync('chain2', join(tdir, 'links', 'chain1'));
  symlinkSync('secret', join(tdir, 'links', 'chain2'));
  symlinkSync(join(dir, 'outside'), join(tdir, 'links', 'outdir'));
  symlinkSync('/', join(tdir, 'links', 'root'));
  await t.write(new Table({ id: vectorFromArray(REFS.map((_, i) => i), new Int32()), path: vectorFromArray(REFS, new Utf8()) }));
  server = createFlightServer({ lakehouse, ticketSecret: 'flight-blobs-ticket-secret-0123456789' });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a blob column of symlinks leading out, read through Flight', () => {
  it('pyarrow.flight gets the reference strings only: no bytes column, no byte of any outside file', async () => {
    const out = join(dir, 'refs.arrow');
    const { stdout } = await run(python(), [PY_CLIENT, 'read', url, JSON.stringify({ path: ['default', 'refs'], out })], { timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.columns).toEqual(['id', 'path']);
    const raw = readFileSync(out);
    expect(raw.includes(Buffer.from(SECRET_TEXT))).toBe(false);
    expect(raw.includes(Buffer.from('root:x:0:0'))).toBe(false);
    const got = tableFromIPC(raw);
    expect(got.toArray().map((x) => x.path as string).sort()).toEqual([...REFS].sort());
    // a registered store covers file://: DoGet stays on the server's thread (its workers could not use it)
    expect(server.stats.doGetCalls).toBeGreaterThan(0);
    expect(server.stats.doGetOnWorkers).toBe(0);
  });

  it('our TS client: the same, on every endpoint', async () => {
    const client = await FlightClient.connect(url);
    try {
      const info = await client.getFlightInfo({ path: ['default', 'refs'] });
      const refs: string[] = [];
      for (const e of info.endpoints) {
        for await (const b of client.doGet(e) as AsyncIterable<RecordBatch>) {
          expect(b.schema.fields.map((f) => f.name)).toEqual(['id', 'path']);
          for (let i = 0; i < b.numRows; i++) refs.push(b.getChild('path')!.get(i) as string);
        }
      }
      expect(refs.sort()).toEqual([...REFS].sort());
    } finally {
      client.close();
    }
  });
});
