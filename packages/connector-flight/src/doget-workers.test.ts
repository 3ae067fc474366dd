import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Field, Float64, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse, StoreRegistry, type ScanPlan, type ScanPlanJSON } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { doGetFrames, type DoGetRead } from './doget-read.js';
import { DoGetWorkers, doGetWorkerScript } from './doget-workers.js';
import { decodeFlightData } from './ipc-framing.js';
import { loadFlightProtocol, type FlightDataMessage } from './flight-proto.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true), new Field('score', new Float64(), true)]);
const rows = (ids: number[], tag: string) => new Table(schema, {
  id: makeVector(BigInt64Array.from(ids, BigInt)),
  name: vectorFromArray(ids.map((i) => (i % 13 === 0 ? null : `${tag}-${i}`)), new Utf8()),
  score: makeVector(Float64Array.from(ids, (i) => i / 3)),
} as any);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Rows of serialized FlightData, through the real protobuf decoder. */
async function rowsOf(frames: Buffer[]): Promise<number> {
  const wire = loadFlightProtocol().service.DoGet;
  const decoded = await decodeFlightData((async function* () { for (const f of frames) yield wire.responseDeserialize(f) as FlightDataMessage; })());
  let n = 0;
  for await (const b of decoded.batches) n += b.numRows;
  return n;
}

describe('DoGet workers', () => {
  let dir: string;
  let lakehouse: Lakehouse;
  let plan: ScanPlan;
  let workers: DoGetWorkers;
  const stores = new StoreRegistry();
  const signal = new AbortController().signal;
  const splitRead = (i: number, maxMessageBytes = 64 * 1024): DoGetRead => ({ plan: { ...plan.toJSON(), splits: [plan.splits[i]] } as ScanPlanJSON, maxMessageBytes });
  const portable = (read: DoGetRead) => stores.portableOptions(read.plan.splits.flatMap((s) => s.files.map((f) => f.path)))!;

  beforeAll(async () => {
    const script = doGetWorkerScript();
    if (!script) throw new Error('dist/doget-worker.js is missing: build @lakesoul-ts/connector-flight first (pnpm turbo run build)');
    dir = mkdtempSync(join(tmpdir(), 'doget-workers-'));
    lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
    const t = await lakehouse.createTable('t', schema, { primaryKeys: ['id'], hashBucketNum: 4 });
    await t.write(rows(Array.from({ length: 30_000 }, (_, i) => i), 'base'));
    await t.write(rows(Array.from({ length: 3000 }, (_, i) => i * 7), 'upd')); // merge-on-read over two files a split
    plan = await t.scan();
    workers = new DoGetWorkers(script, 2);
  });

  afterAll(async () => {
    await workers?.close();
    await lakehouse?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stream the same FlightData bytes as the server thread, split by split and for a LIMIT ticket', async () => {
    expect(plan.splits).toHaveLength(4);
    let total = 0;
    const reads: DoGetRead[] = [0, 1, 2, 3].map((i) => splitRead(i));
    reads.push({ plan: plan.toJSON(), limit: 12_345, maxMessageBytes: 64 * 1024 });
    // all at once: several streams share the two workers
    const onWorkers = await Promise.all(reads.map((r) => collect(workers.frames(r, portable(r), 128 * 1024, signal))));
    for (const [k, read] of reads.entries()) {
      const here = await collect(doGetFrames(read, stores, signal));
      expect(onWorkers[k].length, `read ${k}`).toBe(here.length);
      expect(here.length, `read ${k}: several messages at 64 KiB`).toBeGreaterThan(3);
      for (let i = 0; i < here.length; i++) expect(Buffer.compare(onWorkers[k][i], here[i]), `read ${k} message ${i}`).toBe(0);
      const n = await rowsOf(onWorkers[k]);
      if (read.limit === undefined) total += n;
      else expect(n).toBe(12_345);
    }
    expect(total).toBe(30_000);
    expect(workers.running).toBe(0);
  });

  it('cancel the read when the consumer stops early, and serve the next stream', async () => {
    const read = splitRead(0, 48 * 1024);
    let seen = 0;
    for await (const _ of workers.frames(read, portable(read), 96 * 1024, signal)) if (++seen === 2) break;
    expect(workers.running).toBe(0);
    const controller = new AbortController();
    const stream = workers.frames(read, portable(read), 96 * 1024, controller.signal);
    await stream.next();
    controller.abort(new LakeSoulError('Aborted', 'client went away'));
    await expect(stream.next()).rejects.toMatchObject({ kind: 'Aborted' });
    expect(workers.running).toBe(0);
    expect(await rowsOf(await collect(workers.frames(read, portable(read), 96 * 1024, signal)))).toBeGreaterThan(5000);
  });

  it('start in a `node --input-type=module -e` script (whose flag a worker file entry refuses)', async () => {
    const read = splitRead(0);
    const dist = (file: string) => JSON.stringify(new URL(`../dist/${file}`, import.meta.url).href);
    const code = `
      const { DoGetWorkers, doGetWorkerScript } = await import(${dist('doget-workers.js')});
      const workers = new DoGetWorkers(doGetWorkerScript(), 1);
      let bytes = 0;
      for await (const f of workers.frames(${JSON.stringify(read)}, ${JSON.stringify(portable(read))}, 128 * 1024, new AbortController().signal)) bytes += f.byteLength;
      await workers.close();
      console.log(bytes);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 });
    const here = await collect(doGetFrames(read, stores, signal));
    expect(Number(stdout.trim())).toBe(here.reduce((n, f) => n + f.byteLength, 0));
  });

  it("report a read's failure on the worker as the LakeSoulError it was (kind, file)", async () => {
    const read = splitRead(1);
    const gone = read.plan.splits[0].files[0].path;
    rmSync(fileURLToPath(gone));
    const error = await collect(workers.frames(read, portable(read), 128 * 1024, signal)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(LakeSoulError);
    expect(error).toMatchObject({ kind: 'NotFound', message: expect.stringContaining(gone.split('/').at(-1)!) });
    expect(workers.running).toBe(0);
  });

  it('start all their threads at once on startAll (a server at listen), which then serve the streams; none once closed', async () => {
    const local = new DoGetWorkers(doGetWorkerScript()!, 2);
    try {
      local.startAll();
      expect(local.threads).toBe(2);
      local.startAll();
      expect(local.threads).toBe(2);
      const reads = [2, 3].map((i) => splitRead(i));
      const got = await Promise.all(reads.map((r) => collect(local.frames(r, portable(r), 128 * 1024, signal))));
      expect(local.threads).toBe(2);
      for (let i = 0; i < reads.length; i++) expect(await rowsOf(got[i]!)).toBe(await rowsOf(await collect(doGetFrames(reads[i]!, stores, signal))));
    } finally {
      await local.close();
    }
    local.startAll();
    expect(local.threads).toBe(0);
  });

  it('fail the streams still running when closed', async () => {
    const local = new DoGetWorkers(doGetWorkerScript()!, 1);
    const read = splitRead(2, 48 * 1024);
    const stream = local.frames(read, portable(read), 96 * 1024, signal);
    await stream.next();
    await local.close();
    await expect(collect(stream)).rejects.toMatchObject({ kind: 'Aborted' });
    await expect(local.frames(read, portable(read), 96 * 1024, signal).next()).rejects.toMatchObject({ kind: 'Aborted' });
  });
});
