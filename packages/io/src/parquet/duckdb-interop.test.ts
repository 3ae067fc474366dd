/**
 * Independent-reader checks: DuckDB (its own Parquet implementation) reads files written by
 * encodeParquet with the same values, and files DuckDB writes (snappy and zstd, sorted by PK) decode,
 * expose statistics, and merge correctly with our code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DateDay, Field, Float64, Int32, Int64, Schema, Table, TimeUnit, Timestamp, Utf8, RecordBatch } from 'apache-arrow';
import { castTableToSchema, decodeParquet, encodeParquet, readParquetFooter } from './index.js';
import { mergeSortedSources } from '../merge/index.js';
import { plainRows, sampleAllTypesTable } from '../arrow/sample-tables.js';

let dir: string;
let db: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-duckdb-'));
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});

afterAll(() => {
  conn?.closeSync();
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function decimalText(words: Uint32Array, i: number, scale: number): string {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[4 * i + k]);
  v = BigInt.asIntN(128, v);
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
}

describe('DuckDB reads files written by encodeParquet', () => {
  it.each(['zstd', 'snappy'] as const)('every column type has the same values (%s)', async (compression) => {
    const t = sampleAllTypesTable(700, 11, true);
    const path = join(dir, `ours-${compression}.parquet`);
    writeFileSync(path, encodeParquet(t, { compression, rowGroupSize: 200 }));
    const reader = await conn.runAndReadAll(`
      SELECT id, b, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, s, ls, hex(bin), hex(lbin), CAST(d AS VARCHAR),
             epoch_us(ts_s), epoch_us(ts_ms), epoch_us(ts_us), epoch_ns(ts_ns), epoch_us(ts_us_utc), epoch_us(ts_ms_sh),
             CAST(dec AS VARCHAR), CAST(dec38 AS VARCHAR), lst, st, emb
      FROM read_parquet('${path}') ORDER BY id`);
    const got = reader.getRowsJS();
    expect(got).toHaveLength(700);
    const order = Array.from({ length: 700 }, (_, i) => i).sort((a, b) => Number((t.getChild('id')!.get(a) as bigint) - (t.getChild('id')!.get(b) as bigint)));
    const rows = plainRows(t);
    const names = t.schema.fields.map((f) => f.name);
    const col = (name: string) => names.indexOf(name);
    const data = (name: string) => t.getChild(name)!.data[0];
    for (let r = 0; r < 700; r++) {
      const i = order[r];
      const row = rows[i];
      const g = got[r] as any[];
      const num = (v: any) => (v === null ? null : typeof v === 'bigint' ? v : Number(v));
      expect(g[0]).toBe(row[col('id')]);
      expect(g[1]).toBe(row[col('b')]);
      for (const [k, name] of [[2, 'i8'], [3, 'i16'], [4, 'i32'], [6, 'u8'], [7, 'u16'], [8, 'u32'], [10, 'f32'], [11, 'f64']] as const) {
        expect(num(g[k]), name).toBe(row[col(name)]);
      }
      expect(g[5] === null ? null : BigInt(g[5]), 'i64').toBe(row[col('i64')]);
      expect(g[9] === null ? null : BigInt(g[9]), 'u64').toBe(row[col('u64')]);
      expect(g[12]).toBe(row[col('s')]);
      expect(g[13]).toBe(row[col('ls')]);
      expect(g[14]).toBe(row[col('bin')] === null ? null : hex(Uint8Array.from(row[col('bin')] as number[])));
      expect(g[15]).toBe(row[col('lbin')] === null ? null : hex(Uint8Array.from(row[col('lbin')] as number[])));
      const days = data('d');
      expect(g[16]).toBe(days.getValid(i) ? new Date((days.values as Int32Array)[i] * 86400000).toISOString().slice(0, 10) : null);
      const ts = (name: string, toUs: (v: bigint) => bigint) => {
        const d = data(name);
        return d.getValid(i) ? toUs((d.values as BigInt64Array)[i]) : null;
      };
      const big = (v: any) => (v === null ? null : BigInt(v));
      expect(big(g[17]), 'ts_s').toBe(ts('ts_s', (v) => v * 1_000_000n));
      expect(big(g[18]), 'ts_ms').toBe(ts('ts_ms', (v) => v * 1000n));
      expect(big(g[19]), 'ts_us').toBe(ts('ts_us', (v) => v));
      expect(big(g[20]), 'ts_ns').toBe(ts('ts_ns', (v) => v));
      expect(big(g[21]), 'ts_us_utc').toBe(ts('ts_us_utc', (v) => v));
      expect(big(g[22]), 'ts_ms_sh').toBe(ts('ts_ms_sh', (v) => v * 1000n));
      const dec = data('dec');
      expect(g[23], 'dec').toBe(dec.getValid(i) ? decimalText(dec.values as Uint32Array, i, 3) : null);
      const dec38 = data('dec38');
      expect(g[24], 'dec38').toBe(dec38.getValid(i) ? decimalText(dec38.values as Uint32Array, i, 5) : null);
      expect(g[25], 'lst').toEqual(row[col('lst')]);
      expect(g[26], 'st').toEqual(row[col('st')]);
      expect(g[27], 'emb').toEqual(row[col('emb')]);
    }
  });
});

describe('files written by DuckDB decode and merge', () => {
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('name', new Utf8(), true),
    new Field('score', new Float64(), true),
    new Field('n', new Int32(), true),
    new Field('d', new DateDay(), true),
    new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
  ]);

  it.each(['snappy', 'zstd'] as const)('base + partial upsert layers (%s) merge like SQL says', async (codec) => {
    const base = join(dir, `duck-base-${codec}.parquet`);
    const upd = join(dir, `duck-upd-${codec}.parquet`);
    const upd2 = join(dir, `duck-upd2-${codec}.parquet`);
    await conn.run(`CREATE OR REPLACE TABLE base AS SELECT i::BIGINT AS id, 'name-' || i AS name, i / 7.0 AS score,
        (i % 100)::SMALLINT AS n, DATE '2024-01-01' + (i % 30)::INTEGER AS d,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(i * 1000003) AS ts
      FROM range(0, 20000) t(i)`);
    // updates: every 3rd key, keys beyond the base, duplicates inside the file (last wins), some nulls
    await conn.run(`CREATE OR REPLACE TABLE upd AS SELECT id, seq, CASE WHEN id % 5 = 0 THEN NULL ELSE 'upd-' || id || '-' || seq END AS name,
        (id * 2 + seq)::DOUBLE AS score
      FROM (SELECT (i * 3)::BIGINT AS id, s AS seq FROM range(0, 8000) t(i), range(0, 2) u(s) WHERE s = 0 OR i % 4 = 0)`);
    await conn.run(`CREATE OR REPLACE TABLE upd2 AS SELECT (i * 5 + 1)::BIGINT AS id, (i % 7)::INTEGER AS n FROM range(0, 5000) t(i)`);
    await conn.run(`COPY (SELECT * FROM base ORDER BY id) TO '${base}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 4096)`);
    await conn.run(`COPY (SELECT id, name, score FROM upd ORDER BY id, seq) TO '${upd}' (FORMAT parquet, COMPRESSION ${codec})`);
    await conn.run(`COPY (SELECT * FROM upd2 ORDER BY id) TO '${upd2}' (FORMAT parquet, COMPRESSION ${codec})`);

    const baseBytes = new Uint8Array(readFileSync(base));
    const footer = await readParquetFooter(baseBytes, baseBytes.length, { file: base });
    expect(footer.numRows).toBe(20000);
    expect(footer.rowGroups.length).toBeGreaterThan(1);
    expect(footer.rowGroups[0].columns.id.min).toBe(0n);
    expect(footer.rowGroups[footer.rowGroups.length - 1].columns.id.max).toBe(19999n);
    expect(footer.rowGroups[0].columns.name.min).toBe('name-0');

    const files: [string, string[]][] = [
      [base, ['id', 'name', 'score', 'n', 'd', 'ts']],
      [upd, ['id', 'name', 'score']],
      [upd2, ['id', 'n']],
    ];
    const sources = await Promise.all(
      files.map(async ([path, cols]) => {
        const bytes = new Uint8Array(readFileSync(path));
        const sub = new Schema(schema.fields.filter((f) => cols.includes(f.name)));
        const t = castTableToSchema(await decodeParquet(bytes, { columns: cols, file: path, batchSize: 3000 }), sub, { file: path });
        return { batches: (async function* () { yield* t.batches as RecordBatch[]; })(), existCols: cols };
      }),
    );
    const out: RecordBatch[] = [];
    for await (const b of mergeSortedSources(sources, { primaryKeys: ['id'], outputSchema: schema, batchSize: 5000 })) out.push(b);
    const merged = new Table(out);
    // expected, computed by DuckDB: newest file that has a column wins; last row inside a file wins
    const want = (await conn.runAndReadAll(`
      WITH u AS (SELECT id, name, score FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY seq DESC) AS rn FROM upd) WHERE rn = 1),
      keys AS (SELECT id FROM base UNION SELECT id FROM u UNION SELECT id FROM upd2)
      SELECT k.id, CASE WHEN u.id IS NOT NULL THEN u.name ELSE b.name END,
             CASE WHEN u.id IS NOT NULL THEN u.score ELSE b.score END,
             CASE WHEN u2.id IS NOT NULL THEN u2.n ELSE b.n END,
             CAST(b.d AS VARCHAR), epoch_us(b.ts)
      FROM keys k LEFT JOIN base b ON b.id = k.id LEFT JOIN u ON u.id = k.id LEFT JOIN upd2 u2 ON u2.id = k.id
      ORDER BY k.id`)).getRowsJS();
    expect(merged.numRows).toBe(want.length);
    const got = plainRows(merged);
    const dd = merged.getChild('d')!;
    const ts = merged.getChild('ts')!;
    for (let r = 0; r < want.length; r++) {
      const w = want[r] as any[];
      const g = got[r];
      expect(g[0]).toBe(BigInt(w[0]));
      expect(g[1]).toBe(w[1]);
      expect(g[2]).toBe(w[2] === null ? null : Number(w[2]));
      expect(g[3]).toBe(w[3] === null ? null : Number(w[3]));
      expect(dd.isValid(r) ? new Date((dd.data.length === 1 ? (dd.data[0].values as Int32Array)[r] : (dd.get(r) as number) / 86400000) * 86400000).toISOString().slice(0, 10) : null).toBe(w[4]);
      expect(ts.isValid(r) ? g[5] : null).toBe(w[5] === null ? null : BigInt(w[5]));
    }
  });
});
