#!/usr/bin/env node
// Spark (local[2]) through the lakesoul_ts data source vs one pyarrow client, over the same Flight server.
//
//   node bench/spark-flight.mjs [--rows 4000000] [--commits 8]
//
// Builds a table without primary keys (id int64, date utf8 (4 range partitions), score float64) on an
// embedded catalog + local disk, written in `commits` commits, so it has 4 x commits files = endpoints.
// Then (bench/spark_flight.py, in the PySpark venv of the Spark tests):
//   - read: one pyarrow client reading every endpoint with 2 threads  vs  Spark local[2] reading the
//     table through the source (one task per endpoint) into the noop sink;
//   - write: Spark local[2] writing the same number of generated rows (8 tasks, one transaction)
//     vs one pyarrow DoPut of those rows (expectedRows).
// Prints seconds and the ratios Spark / pyarrow (time: above 1 = Spark slower). Needs the packages
// built and the PySpark venv (node_modules/.cache/lakesoul-interop/spark-venv: created on first use by
// scripts/python-envs.mjs, shared with the Spark tests).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Field, Float64, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { createFlightServer } from '@lakesoul-ts/connector-flight';
import { ensureSparkVenv } from '../scripts/python-envs.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg('rows', 4_000_000);
const COMMITS = arg('commits', 8);
// the PySpark venv of the Spark tests, created on first use (a ~430 MB download from PyPI)
const python = await ensureSparkVenv();

const schema = new Schema([new Field('id', new Int64(), false), new Field('date', new Utf8(), false), new Field('score', new Float64(), true)]);
function chunk(from, n) {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  return new Table(schema, {
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    date: vectorFromArray(ids.map((i) => `2024-01-0${(i % 4) + 1}`), new Utf8()),
    score: makeVector(Float64Array.from(ids, (i) => i / 7)),
  });
}

const dir = mkdtempSync(join(tmpdir(), 'spark-flight-bench-'));
let lakehouse;
let server;
try {
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  const table = await lakehouse.createTable('bench', schema, { rangePartitions: ['date'] });
  const per = Math.ceil(ROWS / COMMITS);
  for (let i = 0; i < ROWS; i += per) await table.write(chunk(i, Math.min(per, ROWS - i)));
  await lakehouse.createTable('sink_spark', schema, { rangePartitions: ['date'] });
  await lakehouse.createTable('sink_put', schema, { rangePartitions: ['date'] });

  server = createFlightServer({ lakehouse, ticketSecret: 'bench-ticket-secret-0123456789' });
  const uri = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  const args = { uri, table: 'bench', sinkSpark: 'sink_spark', sinkPut: 'sink_put', rows: ROWS, threads: 2 };
  const { stdout } = await run(python, [join(root, 'bench/spark_flight.py'), JSON.stringify(args)], {
    maxBuffer: 1 << 26, env: { ...process.env, PYSPARK_PYTHON: python, SPARK_LOCAL_IP: '127.0.0.1' },
  });
  const r = JSON.parse(stdout.trim().split('\n').at(-1));
  for (const name of ['sink_spark', 'sink_put']) {
    const n = (await (await lakehouse.table(name)).toArrow({ columns: ['id'] })).numRows;
    if (n !== ROWS) throw new Error(`${name} holds ${n} rows, expected ${ROWS}`);
  }
  console.log(`spark-flight: ${ROWS} rows, ${r.endpoints} endpoints, ${cpus().length} cores, Node ${process.version}`);
  console.log('case   | pyarrow s | Spark local[2] s | Spark / pyarrow (time)');
  console.log(`read   | ${r.pyarrowRead.toFixed(2).padStart(9)} | ${r.sparkRead.toFixed(2).padStart(16)} | ${(r.sparkRead / r.pyarrowRead).toFixed(2)}`);
  console.log(`write  | ${r.onePut.toFixed(2).padStart(9)} | ${r.sparkWrite.toFixed(2).padStart(16)} | ${(r.sparkWrite / r.onePut).toFixed(2)}`);
  console.log(JSON.stringify({ bench: 'spark-flight', rows: ROWS, endpoints: r.endpoints, ...r, readRatio: r.sparkRead / r.pyarrowRead, writeRatio: r.sparkWrite / r.onePut }));
} finally {
  await server?.close(2000);
  await lakehouse?.close();
  rmSync(dir, { recursive: true, force: true });
}
