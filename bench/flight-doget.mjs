#!/usr/bin/env node
// DoGet throughput to the real pyarrow.flight client vs the in-process TS scan of the same table.
//
//   node bench/flight-doget.mjs [--rows 400000] [--buckets 4] [--repeat 11]
//
// Builds a PK table (2 range partitions x N buckets, merge-on-read over two writes) on an embedded
// catalog + local disk in a temp dir, starts a Flight server on 127.0.0.1, then measures:
//   - TS scan of one split (readSplit, in process)        vs  pyarrow do_get of that endpoint
//   - TS scan of the whole plan, splits in parallel        vs  pyarrow reading all endpoints in parallel
// and prints MB/s (Arrow in-memory bytes as pyarrow counts them) and the ratio Flight / in-process,
// each side the median of --repeat rounds after its first (pyarrow: one process and connection per
// case; its first round, a fresh process's first call, is printed apart). It also prints what one
// endpoint costs in CPU: the in-process read's, and a DoGet's on the server and in pyarrow, whose sum
// over the cores bounds the DoGet's time from below when the client runs on the same machine.
// Needs the packages built (pnpm build) and Python with pyarrow (LAKESOUL_TEST_PYTHON, or the test venv .venv, created when missing).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Binary, Field, Float64, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { createFlightServer } from '@lakesoul-ts/connector-flight';
import { ensureTestVenv } from '../scripts/python-envs.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg('rows', 400_000);
const BUCKETS = arg('buckets', 4);
const REPEAT = arg('repeat', 11);
// the test venv (pyarrow), created when missing
const python = process.env.LAKESOUL_TEST_PYTHON ?? ensureTestVenv();

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('date', new Utf8(), false),
  new Field('label', new Utf8(), true),
  new Field('score', new Float64(), true),
  new Field('payload', new Binary(), true),
]);
function batch(from, n, tag) {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  const payload = ids.map((i) => {
    const b = new Uint8Array(64);
    for (let k = 0; k < 64; k++) b[k] = (i * 31 + k) & 0xff;
    return b;
  });
  return new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => (i % 2 ? '2024-01-02' : '2024-01-01')), new Utf8()),
    label: vectorFromArray(ids.map((i) => `${tag}-${i}`), new Utf8()),
    score: makeVector(Float64Array.from(ids, (i) => i / 7)),
    payload: vectorFromArray(payload, new Binary()),
  });
}

function arrowBytes(batches) {
  let n = 0;
  for (const b of batches) for (const d of b.data.children) n += dataBytes(d);
  return n;
}
// the bytes of the rows `d` holds, as pyarrow's nbytes counts them: a slice (a batch taken from a
// longer source batch) shares its source's string bytes and validity bitmap, of which it holds a part
function dataBytes(d) {
  let n = 0;
  if (d.nullBitmap?.byteLength) n += Math.ceil(d.length / 8);
  if (d.valueOffsets) {
    n += d.valueOffsets.byteLength;
    if (d.values) n += Number(d.valueOffsets[d.length]) - Number(d.valueOffsets[0]);
  } else if (d.values) n += d.values.byteLength;
  for (const c of d.children ?? []) n += dataBytes(c);
  return n;
}

// The median of the warm rounds: the first round of either side (its first calls compile the read and
// serialization paths; pyarrow's also sets up its process) is left out when there are others.
const median = (xs) => {
  const warm = xs.length > 1 ? xs.slice(1) : xs;
  return [...warm].sort((a, b) => a - b)[Math.floor(warm.length / 2)];
};
const mbps = (bytes, s) => bytes / 1e6 / s;

const dir = mkdtempSync(join(tmpdir(), 'flight-bench-'));
let lakehouse;
let server;
try {
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const table = await lakehouse.createTable('bench', schema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: BUCKETS });
  const chunk = 100_000;
  await table.write((async function* () { for (let i = 0; i < ROWS; i += chunk) yield* batch(i, Math.min(chunk, ROWS - i), 'v1').batches; })(), { mode: 'upsert' });
  await table.write(batch(0, Math.floor(ROWS / 10), 'v2'), { mode: 'upsert' }); // merge-on-read over 2 files per split

  const plan = await table.scan();
  const splits = plan.splits;
  // in-process: one split, then all splits in parallel
  const tsOne = [];
  const tsAll = [];
  let oneBytes = 0;
  let allBytes = 0;
  let allRows = 0;
  let tsOneCpu = 0; // this process's CPU (all threads) in the one-split reads, microseconds
  for (let r = 0; r < REPEAT; r++) {
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const out = [];
    for await (const b of plan.readSplit(splits[0])) out.push(b);
    tsOne.push((performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    if (r > 0 || REPEAT === 1) tsOneCpu += cpu.user + cpu.system;
    oneBytes = arrowBytes(out);
    t0 = performance.now();
    const parts = await Promise.all(splits.map(async (s) => { const o = []; for await (const b of plan.readSplit(s)) o.push(b); return o; }));
    tsAll.push((performance.now() - t0) / 1000);
    allBytes = arrowBytes(parts.flat());
    allRows = parts.flat().reduce((n, b) => n + b.numRows, 0);
  }

  server = createFlightServer({ lakehouse, ticketSecret: 'bench-ticket-secret-0123456789' });
  const url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  const client = join(root, 'e2e/python/flight_client.py');
  const pyRead = async (args) => JSON.parse((await run(python, [client, 'read', url, JSON.stringify(args)], { maxBuffer: 1 << 26 })).stdout.trim().split('\n').at(-1));
  // One pyarrow process per case, reading REPEAT rounds on one connection: the median compares with the
  // in-process median (both warm); the first round, which also pays the Python process's first-call
  // set-up (and the server's first DoGet worker start), is printed as "first call".
  // the server's CPU per warm round: a call of REPEAT rounds less a call of one (its process start, its first round)
  const serverCpuOf = async (repeat) => {
    const cpu0 = process.cpuUsage();
    const result = await pyRead({ path: ['bench'], endpoint: 0, threads: 1, repeat });
    const cpu = process.cpuUsage(cpu0);
    return { result, ms: (cpu.user + cpu.system) / 1000 };
  };
  const single = REPEAT > 1 ? await serverCpuOf(1) : null;
  const { result: one, ms: serverAllMs } = await serverCpuOf(REPEAT);
  const all = await pyRead({ path: ['bench'], threads: splits.length, repeat: REPEAT });
  const flOne = one.round_seconds;
  const flAll = all.round_seconds;
  const pyOneBytes = one.bytes;
  const pyAllBytes = all.bytes;
  const pyRows = all.rows;
  if (pyRows !== allRows) throw new Error(`row count mismatch: Flight ${pyRows}, TS scan ${allRows}`);

  const rows = [
    ['one endpoint', median(tsOne), oneBytes, median(flOne), pyOneBytes],
    [`all ${splits.length} endpoints in parallel`, median(tsAll), allBytes, median(flAll), pyAllBytes],
  ];
  console.log(`flight-doget: ${allRows} rows, ${splits.length} splits, ${cpus().length} cores, Node ${process.version}, median of ${REPEAT}`);
  console.log('case                            | TS scan s | TS MB/s | Flight->pyarrow s | Flight MB/s | Flight/TS throughput');
  for (const [name, ts, tb, fl, fb] of rows) {
    // bytes: Arrow buffer bytes (TS) and pyarrow Table.nbytes (Flight) - the same data, counted each side
    console.log(`${name.padEnd(31)} | ${ts.toFixed(3).padStart(9)} | ${mbps(tb, ts).toFixed(1).padStart(7)} | ${fl.toFixed(3).padStart(17)} | ${mbps(fb, fl).toFixed(1).padStart(11)} | ${(ts / fl).toFixed(2)}`);
  }
  // scale-out: throughput of all endpoints at once over one endpoint (Flight), and the same for the in-process read
  const flightScale = mbps(pyAllBytes, median(flAll)) / mbps(pyOneBytes, median(flOne));
  const tsScale = mbps(allBytes, median(tsAll)) / mbps(oneBytes, median(tsOne));
  console.log(`first call (fresh pyarrow process): one endpoint ${one.seconds.toFixed(3)} s, all endpoints ${all.seconds.toFixed(3)} s`);
  console.log(`all endpoints / one endpoint throughput: Flight ${flightScale.toFixed(2)}x, in-process ${tsScale.toFixed(2)}x`);
  // What one endpoint costs in CPU on each side: with the client on the same machine, a DoGet cannot
  // take less than the server's and pyarrow's CPU spread over every core.
  const cores = cpus().length;
  const cpu = {
    inProcessMs: tsOneCpu / 1000 / Math.max(1, REPEAT - 1),
    serverMs: single ? (serverAllMs - single.ms) / (REPEAT - 1) : serverAllMs,
    pyarrowMs: 1000 * median(one.round_cpu_seconds),
  };
  const floorMs = (cpu.serverMs + cpu.pyarrowMs) / cores;
  console.log(`CPU per one-endpoint round: in-process read ${cpu.inProcessMs.toFixed(1)} ms; DoGet: server ${cpu.serverMs.toFixed(1)} ms + pyarrow ${cpu.pyarrowMs.toFixed(1)} ms, ` +
    `so at least ${floorMs.toFixed(1)} ms on ${cores} cores with none idle (0.9x of the in-process read: ${(1000 * median(tsOne) / 0.9).toFixed(1)} ms)`);
  console.log(JSON.stringify({ bench: 'flight-doget', flightScale, tsScale, cpu, doGetFloorMs: floorMs, firstCallSeconds: { one: one.seconds, all: all.seconds }, rows: allRows, splits: splits.length, results: rows.map(([name, ts, tb, fl, fb]) => ({ name, tsSeconds: ts, tsMBps: mbps(tb, ts), flightSeconds: fl, flightMBps: mbps(fb, fl), ratio: ts / fl })) }));
} finally {
  await server?.close(2000);
  await lakehouse?.close();
  rmSync(dir, { recursive: true, force: true });
}
