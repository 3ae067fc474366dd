/**
 * The Spark source's filter translation (clients/python lakesoul_ts.spark.filter_text): every Spark
 * filter it pushes selects, through the Flight server, exactly the rows Spark's own semantics select
 * (computed here in JS); those it cannot translate exactly are left to Spark. Embedded PGlite catalog
 * and local disk (e2e/spark-source.test.ts covers PostgreSQL + S3); no Spark session is started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bool, DateDay, Field, Float64, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Lakehouse } from '@lakesoul-ts/io';
import { createFlightServer, type FlightServer } from '@lakesoul-ts/connector-flight';
import { sparkPython } from './interop/spark-env.js';

const DRIVER = resolve(__dirname, 'python/spark_filters.py');

interface Row { id: number; label: string | null; score: number | null; flag: boolean | null; day: string }
const labels = ["it's", '50%_off', '50%_on', '5000', 'a_b', 'axb', 'plain', null, 'Plain', '', 'back\\slash'];
const data: Row[] = Array.from({ length: 40 }, (_, k) => {
  const id = k - 10;
  return {
    id,
    label: labels[k % labels.length],
    score: k % 6 === 0 ? null : (k % 8) / 8,
    flag: k % 5 === 0 ? null : k % 2 === 0,
    day: `2024-01-0${1 + (k % 3)}`,
  };
});

/** Spark's semantics of each case (a NULL comparison keeps the row out). */
const cases: { name: string; filter: unknown[]; want: ((r: Row) => boolean) | null }[] = [
  { name: 'EqualTo text with a quote', filter: ['EqualTo', 'label', "it's"], want: (r) => r.label === "it's" },
  { name: 'StringStartsWith with % and _', filter: ['StringStartsWith', 'label', '50%_'], want: (r) => r.label?.startsWith('50%_') ?? false },
  { name: 'StringContains _', filter: ['StringContains', 'label', '_b'], want: (r) => r.label?.includes('_b') ?? false },
  { name: 'StringEndsWith a backslash word', filter: ['StringEndsWith', 'label', '\\slash'], want: (r) => r.label?.endsWith('\\slash') ?? false },
  { name: 'EqualTo empty string', filter: ['EqualTo', 'label', ''], want: (r) => r.label === '' },
  { name: 'In ints', filter: ['In', 'id', [-7, 0, 5, 99]], want: (r) => [-7, 0, 5, 99].includes(r.id) },
  { name: 'LessThan a negative int', filter: ['LessThan', 'id', -3], want: (r) => r.id < -3 },
  { name: 'GreaterThanOrEqual float', filter: ['GreaterThanOrEqual', 'score', 0.25], want: (r) => r.score !== null && r.score >= 0.25 },
  { name: 'LessThanOrEqual float', filter: ['LessThanOrEqual', 'score', 0.125], want: (r) => r.score !== null && r.score <= 0.125 },
  { name: 'IsNull', filter: ['IsNull', 'score', null], want: (r) => r.score === null },
  { name: 'IsNotNull', filter: ['IsNotNull', 'label', null], want: (r) => r.label !== null },
  { name: 'EqualTo boolean', filter: ['EqualTo', 'flag', true], want: (r) => r.flag === true },
  { name: 'EqualNullSafe int', filter: ['EqualNullSafe', 'id', 3], want: (r) => r.id === 3 },
  { name: 'EqualNullSafe NULL: left to Spark', filter: ['EqualNullSafe', 'id', null], want: null },
  { name: 'Not: left to Spark', filter: ['Not', 'id', ['EqualTo', 'id', 1]], want: null },
  { name: 'nested column: left to Spark', filter: ['EqualTo', ['s', 'x'], 1], want: null },
  { name: 'NaN: left to Spark', filter: ['GreaterThan', 'score', { float: 'nan' }], want: null },
];

let dir: string;
let lake: Lakehouse;
let server: FlightServer;
let answers: { name: string; text: string | null; ids?: number[] }[];

beforeAll(async () => {
  const py = await sparkPython();
  dir = mkdtempSync(join(tmpdir(), 'spark-filters-'));
  lake = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: pathToFileURL(join(dir, 'warehouse')).href });
  const schema = new Schema([
    new Field('id', new Int64(), false), new Field('label', new Utf8(), true), new Field('score', new Float64(), true),
    new Field('flag', new Bool(), true), new Field('day', new Utf8(), false), new Field('d', new DateDay(), true),
  ]);
  const t = await lake.createTable('filters', schema, { rangePartitions: ['day'] });
  await t.write(new Table(schema, {
    id: makeVector(BigInt64Array.from(data, (r) => BigInt(r.id))),
    label: vectorFromArray(data.map((r) => r.label), new Utf8()),
    score: vectorFromArray(data.map((r) => r.score), new Float64()),
    flag: vectorFromArray(data.map((r) => r.flag), new Bool()),
    day: vectorFromArray(data.map((r) => r.day), new Utf8()),
    d: vectorFromArray(data.map((r) => new Date(`${r.day}T00:00:00Z`)), new DateDay()),
  } as any));
  server = createFlightServer({ lakehouse: lake, ticketSecret: 'spark-filters-ticket-secret-0123' });
  const uri = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  const all = [...cases, { name: 'GreaterThan date32', filter: ['GreaterThan', 'd', { date: '2024-01-02' }], want: (r: Row) => r.day > '2024-01-02' }];
  answers = await new Promise((res, rej) => execFile(py, [DRIVER, uri, JSON.stringify({ table: 'filters', cases: all.map(({ name, filter }) => ({ name, filter })) })],
    { timeout: 120_000, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      try { res(JSON.parse(stdout.trim().split('\n').at(-1)!)); } catch { rej(new Error(`spark_filters.py failed: ${error?.message}\n${stdout}\n${stderr}`)); }
    }));
  cases.push(all.at(-1)!);
}, 300_000);

afterAll(async () => {
  await server?.close(1000);
  await lake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Spark filters pushed by the lakesoul_ts source select exactly what Spark would', () => {
  it('every translated filter, read through Flight, selects the rows of Spark semantics; the rest are not pushed', () => {
    expect(answers.map((a) => a.name)).toEqual(cases.map((c) => c.name));
    for (const [i, c] of cases.entries()) {
      const a = answers[i];
      if (c.want === null) {
        expect(a.text, c.name).toBeNull();
        continue;
      }
      expect(a.text, c.name).not.toBeNull();
      expect(a.ids, `${c.name}: ${a.text}`).toEqual(data.filter(c.want!).map((r) => r.id).sort((x, y) => x - y));
    }
  });
});
