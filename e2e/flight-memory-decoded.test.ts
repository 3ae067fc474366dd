/**
 * Bounded server memory when the data decodes to far more than its files (docs/flight.md "Memory"):
 * strings of ~90 characters with 100 distinct values, dictionary-encoded, take 25 KB of Parquet per
 * 300k rows and 32 MB of Arrow. A DoGet reserves what its read will hold decoded,
 * estimated from the footers (io's `decodedRowGroupSizes`, `doget-memory.ts`); up to 2026-12-05 it
 * reserved 3 x the file's bytes plus its buffers, so a budget admitted several streams whose decoded
 * row groups alone were over it (`lakesoul-ts serve --memory-budget 128`, 50 pyarrow clients of a
 * 300k-row table of 75-character strings: the server peaked 734 MiB over its start).
 *
 * The table is named `blobs` for `flight-slow-clients.mjs`, which reads that table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkSlowClients } from './flight-slow-clients-run.js';
import { Field, Int64, Schema, Table, Utf8, makeVector, vectorFromArray, type Data } from 'apache-arrow';
import { Lakehouse, decodeParquet, decodedRowGroupSizes, readParquetFooter, type LakeSoulTable } from '@lakesoul-ts/io';
import { FlightClient, createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';

const MiB = 1024 * 1024;
const FILES = 2;
const ROWS_PER_FILE = 300_000; // one row group per file
const BUDGET = 64 * MiB;
const CLIENTS = 50;
/** The default `maxBufferedBytes` and `maxMessageBytes` a DoGet reserves besides its data. */
const BUFFERED = 8 * MiB;
const MESSAGE = 4 * MiB;
/**
 * What the server's RSS may grow by over the budget (from its RSS after one DoGet): the garbage V8
 * keeps until its next full collection (it starts one when such memory has grown by ~64 MiB) and the
 * freed row groups (32 MB decoded here) the C allocator keeps for reuse on the threads that decoded
 * them. The growth measured, budget included: 47-130 MiB (2026-12-05); with the reservations of
 * before, 235-262 MiB.
 */
const RSS_MARGIN = 128 * MiB;

const schema = new Schema([new Field('id', new Int64(), false), new Field('label', new Utf8(), false)]);
const LABELS = Array.from({ length: 100 }, (_, i) => `label-${String(i).padStart(3, '0')}-${'x'.repeat(80 + (i % 10))}`);

let dir: string;
let lakehouse: Lakehouse;
let table: LakeSoulTable;
let server: FlightServer;
let url: string;
/** Arrow bytes of one file decoded (measured). */
let decodedPerFile = 0;
/** The server's RSS once it has served one DoGet (its decoder and channel warm): what the tests' peaks are measured from. */
let baseline = 0;

/** Bytes of the Arrow buffers of `data` and its children. */
function arrowBytes(data: Data): number {
  let n = 0;
  for (const b of [data.values, data.valueOffsets, data.nullBitmap] as (ArrayBufferView | undefined)[]) n += b?.byteLength ?? 0;
  for (const c of data.children) n += arrowBytes(c);
  return n;
}

function python(): string {
  const p = process.env.LAKESOUL_TEST_PYTHON;
  if (!p) throw new Error('LAKESOUL_TEST_PYTHON is not set: run via node scripts/test-env.mjs -- npx vitest run --project js e2e/flight-memory-decoded.test.ts');
  return p;
}

beforeAll(async () => {
  python();
  dir = mkdtempSync(join(tmpdir(), 'flight-mem-decoded-'));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  table = await lakehouse.createTable('blobs', schema);
  for (let f = 0; f < FILES; f++) {
    const ids = Array.from({ length: ROWS_PER_FILE }, (_, i) => f * ROWS_PER_FILE + i);
    await table.write(new Table(schema, {
      id: makeVector(BigInt64Array.from(ids, BigInt)),
      label: vectorFromArray(ids.map((i) => LABELS[(i * 7) % LABELS.length]), new Utf8()),
    } as any), { rowGroupSize: ROWS_PER_FILE });
  }
  server = createFlightServer({ lakehouse, ticketSecret: 'e2e-flight-memory-decoded-0123456789', memoryBudgetBytes: BUDGET, maxConcurrentStreams: CLIENTS,
    // Small batches: a paused client's buffers cannot swallow a whole split, so a slow client stays slow.
    batchSize: 1000 });
  url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  // one DoGet warms the decoder and the channel; then the baseline the tests' peaks are measured from
  const client = await FlightClient.connect(url);
  try {
    const info = await client.getFlightInfo({ path: ['blobs'] });
    let rows = 0;
    for await (const b of client.doGet(info.endpoints[0])) rows += b.numRows;
    expect(rows).toBe(ROWS_PER_FILE);
  } finally {
    client.close();
  }
  await new Promise((r) => setTimeout(r, 200));
  baseline = process.memoryUsage().rss;
});

afterAll(async () => {
  await server?.close(2000);
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Samples this process's RSS every 20 ms while `fn` runs: its peak over {@link baseline}. */
async function rssGrowth(fn: () => Promise<void>): Promise<number> {
  expect(baseline).toBeGreaterThan(0);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    await fn();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().rss) - baseline;
}

describe('Flight server memory, data that decodes to far more than its files', () => {
  it('estimates a file\'s decoded size from its footer, and a DoGet reserves at least that', async () => {
    const plan = await table.scan();
    expect(plan.splits).toHaveLength(FILES);
    const file = plan.splits[0].files[0];
    const path = fileURLToPath(file.path.startsWith('file:') ? file.path : `file://${file.path}`);
    const bytes = new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(path)));
    const footer = await readParquetFooter(bytes, bytes.length);
    expect(footer.rowGroups).toHaveLength(1);
    const decoded = await decodeParquet(bytes);
    decodedPerFile = decoded.batches.reduce((n, b) => n + arrowBytes(b.data), 0);
    const [estimate] = decodedRowGroupSizes(footer);
    console.log(`flight memory (decoded): a file of ${bytes.length} bytes decodes to ${decodedPerFile} bytes of Arrow, estimated ${estimate.decodedBytes}`);
    // the point of the finding: the file is a small fraction of its data
    expect(decodedPerFile).toBeGreaterThan(20 * bytes.length);
    expect(estimate.decodedBytes).toBeGreaterThanOrEqual(decodedPerFile);
    expect(estimate.decodedBytes).toBeLessThan(decodedPerFile * 1.1);
    // the DoGet of beforeAll: its reservation covered the row group decoded, the messages buffered and the one being written
    expect(server.stats.doGetCalls).toBe(1);
    expect(server.stats.peakDoGetReservationBytes).toBeGreaterThanOrEqual(decodedPerFile + BUFFERED + MESSAGE);
  });

  it(`admits no more paused streams than their decoded data fits in the budget (${CLIENTS} slow clients)`, async () => {
    expect(decodedPerFile).toBeGreaterThan(0);
    let started = 0;
    let holding = 0;
    const grown = await rssGrowth(async () => {
      let child: ChildProcess | undefined;
      try {
        const slow = forkSlowClients();
        child = slow.child;
        const reply = slow.reply;
        child.send({ url, clients: CLIENTS });
        started = (await reply()).started ?? 0;
        expect(started).toBeGreaterThan(0);
        // The paused streams hold their decoded row group: those holding a reservation must fit in the
        // budget with it. Up to 2026-12-05 each reserved 3 x its ~0.5 MB file + 16 MiB, and three
        // streams of ~30 MB decoded each ran at once in 64 MiB.
        holding = server.stats.activeStreams - server.stats.waitingStreams;
        expect(holding).toBeGreaterThan(0);
        expect(holding * (decodedPerFile + BUFFERED)).toBeLessThanOrEqual(BUDGET);
        expect(server.stats.peakReservedBytes).toBeLessThanOrEqual(BUDGET);
        child.send({ resume: true });
        const { counts } = await reply();
        expect(counts).toEqual(Array.from({ length: CLIENTS }, () => ROWS_PER_FILE));
      } finally {
        child?.kill();
      }
    });
    console.log(`flight memory (decoded): ${CLIENTS} slow clients, budget ${BUDGET / MiB} MiB, ${started} started, ${holding} held a reservation, RSS peak ${(grown / MiB).toFixed(0)} MiB over the baseline (${(baseline / MiB).toFixed(0)} MiB), peak reserved ${(server.stats.peakReservedBytes / MiB).toFixed(0)} MiB, one DoGet's reservation ${(server.stats.peakDoGetReservationBytes / MiB).toFixed(0)} MiB`);
    expect(grown).toBeLessThan(BUDGET + RSS_MARGIN);
    expect(server.stats.activeStreams).toBe(0);
  });

  it(`keeps the server's RSS under budget + ${RSS_MARGIN / MiB} MiB with ${CLIENTS} pyarrow clients reading at full speed`, async () => {
    // 5 processes x 10 threads, each reading every endpoint twice (the finding's load, scaled to the test)
    const script = [
      'import pyarrow.flight as fl, json, sys',
      'from concurrent.futures import ThreadPoolExecutor',
      'url = sys.argv[1]',
      'def work(k):',
      '    c = fl.FlightClient(url); rows = 0',
      '    for _ in range(2):',
      '        info = c.get_flight_info(fl.FlightDescriptor.for_path("blobs"))',
      '        ep = info.endpoints[k % len(info.endpoints)]',
      '        rows += c.do_get(ep.ticket).read_all().num_rows',
      '    c.close(); return rows',
      'with ThreadPoolExecutor(10) as p: print(json.dumps(sorted(set(p.map(work, range(10))))))',
    ].join('\n');
    const outs: string[] = [];
    const grown = await rssGrowth(async () => {
      await Promise.all(Array.from({ length: 5 }, () => new Promise<void>((resolve, reject) => {
        const p = spawn(python(), ['-c', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? (outs.push(out.trim()), resolve()) : reject(new Error(`pyarrow clients exited ${code}: ${out}`))));
      })));
    });
    expect(outs).toEqual(Array.from({ length: 5 }, () => JSON.stringify([2 * ROWS_PER_FILE])));
    console.log(`flight memory (decoded): ${CLIENTS} pyarrow clients, budget ${BUDGET / MiB} MiB, RSS peak ${(grown / MiB).toFixed(0)} MiB over the baseline (${(baseline / MiB).toFixed(0)} MiB), peak reserved ${(server.stats.peakReservedBytes / MiB).toFixed(0)} MiB, streams on DoGet workers ${server.stats.doGetOnWorkers}`);
    expect(server.stats.peakReservedBytes).toBeLessThanOrEqual(BUDGET);
    expect(grown).toBeLessThan(BUDGET + RSS_MARGIN);
  });
});
