/**
 * The type-support table (packages/meta/src/type-support.ts) against every dispatch site: each site
 * is exercised with a column of each type, and what it does (works exactly, or refuses) must be what
 * the table claims. docs/types.md is generated from the table and must match it
 * (`UPDATE_TYPES_DOC=1 npx vitest run e2e/type-support.test.ts` rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Field, RecordBatch, Schema, Struct, Table, Type, makeData, makeVector, vectorFromArray, type Data, type DataType, type Dictionary } from 'apache-arrow';
import {
  ARROW_TYPE_SUPPORT, LakeSoulError, TYPE_CAPABILITIES, arrowSchemaFromJson, arrowSchemaToJson, checkRangePartitionType, type ArrowTypeSupport, type TypeCapability,
} from '@lakesoul-ts/meta';
import { batchToFlightData, decodeFlightData, schemaToFlightData } from '@lakesoul-ts/connector-flight';
import { encodeColumn, plainValues } from '../packages/io/src/arrow/value-codec.js';
import { castData } from '../packages/io/src/arrow/cast-data.js';
import { concatBatches, takeRows } from '../packages/io/src/arrow/take-rows.js';
import { compareKeyValues, keyColumn } from '../packages/io/src/arrow/pk-compare.js';
import { computeBuckets } from '../packages/io/src/hash/spark-murmur3.js';
import { decodeParquet, encodeParquet } from '../packages/io/src/parquet/parquet-codec.js';
import { constantColumn, rangeCellReader, rangeValueText } from '../packages/io/src/table/partition-values.js';
import { filterBatch } from '../packages/io/src/filter/filter-eval.js';
import { normalizeFilter } from '../packages/io/src/filter/filter-parse.js';
import { arrowToColumns } from '../packages/connector-danfo/src/arrow-decoder.js';
import { columnsToArrow } from '../packages/connector-danfo/src/arrow-encoder.js';
import { cellValue } from '../packages/cli/src/output-format.js';
import { rowsToBatch } from '../packages/cli/src/records-to-arrow.js';
import { batchRowsJson } from '../packages/ui/src/ui-values.js';

const DOC = new URL('../docs/types.md', import.meta.url);

/** Values comparable with toEqual: bigints as text, bytes as arrays, nested values recursively. */
function canon(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return [...v];
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
  return v;
}

const valuesOf = (data: Data | readonly Data[]): unknown[] => canon((Array.isArray(data) ? data : [data]).flatMap((d) => plainValues(d))) as unknown[];

/** A one-column batch `c` of the row's type holding its samples (dictionaries: built from their values). */
function sampleBatch(row: ArrowTypeSupport): RecordBatch {
  const type = row.type();
  const data = type.typeId === Type.Dictionary ? dictionaryData(type, row.samples) : built(row.samples, type);
  const schema = new Schema([new Field('c', type, true)]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: data.length, nullCount: 0, children: [data] }));
}

/** The samples as Arrow data: through io's value codec, or Arrow's own builder for the types the codec refuses. */
function built(samples: readonly unknown[], type: DataType): Data {
  try {
    return encodeColumn(samples, type, { column: 'c' });
  } catch {
    return vectorFromArray(samples as unknown[], type).data[0];
  }
}

function dictionaryData(type: DataType, samples: readonly unknown[]): Data {
  const dict = type as Dictionary;
  const values = encodeColumn(samples, dict.dictionary, { column: 'c' });
  const indices = encodeColumn(samples.map((_, i) => i), dict.indices, { column: 'c' });
  return makeData({ type: dict, length: samples.length, nullCount: 0, data: indices.values as Int32Array, dictionary: makeVector(values) });
}

/** The literal of a `c = literal` filter selecting sample 1. */
function literalOf(row: ArrowTypeSupport): unknown {
  const v = row.samples[1];
  return v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v;
}

/** The sample column's values as io's value codec reads them (the form every probe compares with). */
const expected = (batch: RecordBatch): unknown[] => valuesOf(batch.getChildAt(0)!.data[0]);

type Probe = (row: ArrowTypeSupport, batch: RecordBatch) => Promise<void> | void;

/** What each capability means, as calls of the sites that implement it; a probe throws when the site refuses or changes a value. */
const PROBES: Record<TypeCapability, Probe> = {
  async write(row, batch) {
    const schema = arrowSchemaFromJson(arrowSchemaToJson(batch.schema));
    expect(String(schema.fields[0].type)).toBe(String(batch.schema.fields[0].type));
    const col = batch.getChildAt(0)!.data[0];
    expect(valuesOf(castData(col, col.type, { column: 'c' }))).toEqual(expected(batch));
    // as a table read does: the file's column cast to the table's type (timestamp[s] is stored as [ms])
    const back = await decodeParquet(encodeParquet(new Table([batch])));
    expect(valuesOf(back.getChildAt(0)!.data.map((d) => castData(d, batch.schema.fields[0].type, { column: 'c' })))).toEqual(expected(batch));
    expect(valuesOf(takeRows(batch, [2, 0]).getChildAt(0)!.data[0])).toEqual([expected(batch)[2], expected(batch)[0]]);
    expect(valuesOf(concatBatches([batch, batch]).getChildAt(0)!.data[0])).toEqual([...expected(batch), ...expected(batch)]);
  },
  pk(_row, batch) {
    const k = keyColumn(batch.getChildAt(0)!.data[0], 'c');
    expect(compareKeyValues(k, 0, k, 1)).toBeLessThan(0);
    expect(compareKeyValues(k, 1, k, 0)).toBeGreaterThan(0);
    expect(compareKeyValues(k, 1, k, 1)).toBe(0);
  },
  partition(row, batch) {
    const type = batch.schema.fields[0].type;
    // as createTable and the writer do: refuse the type, or turn the Arrow value into partition_desc
    // text; then the scan's constant column back
    checkRangePartitionType('t', 'c', type);
    const text = rangeValueText(rangeCellReader(batch.getChildAt(0)!)(1), type);
    expect(typeof text).toBe('string');
    expect(valuesOf(constantColumn(type, text, 1, 'c').data[0])).toEqual([expected(batch)[1]]);
  },
  filter(row, batch) {
    const out = filterBatch(batch, normalizeFilter({ op: '=', column: 'c', value: literalOf(row) as never }, batch.schema));
    const want = expected(batch).filter((v) => JSON.stringify(v) === JSON.stringify(expected(batch)[1]));
    expect(valuesOf(out.getChildAt(0)!.data[0])).toEqual(want);
  },
  hash(_row, batch) {
    const a = computeBuckets(batch, ['c'], 16);
    expect([...a]).toEqual([...computeBuckets(batch, ['c'], 16)]);
    for (const b of a) expect(b).toBeGreaterThanOrEqual(0);
  },
  danfo(row, batch) {
    // binary columns travel as base64 text (without the option they are dropped, with a warning)
    const cols = arrowToColumns(batch, { binary: 'base64' });
    const back = columnsToArrow({ c: cols.columns[0] }, batch.schema);
    expect(valuesOf(back.getChildAt(0)!.data)).toEqual(expected(batch));
  },
  cli(row, batch) {
    const col = batch.getChildAt(0)!.data[0];
    const printed = row.samples.map((_, i) => JSON.parse(JSON.stringify(cellValue(col, i), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))));
    const back = rowsToBatch(batch.schema, printed.map((v) => [v]), printed.map((_, i) => ({ file: 'sample.jsonl', line: i + 1 })), false);
    expect(valuesOf(back.getChildAt(0)!.data[0])).toEqual(expected(batch));
  },
  async flight(row, batch) {
    const messages = [schemaToFlightData(batch.schema), ...batchToFlightData(batch)];
    const decoded = await decodeFlightData((async function* () { yield* messages; })());
    expect(String(decoded.schema.fields[0].type)).toBe(String(batch.schema.fields[0].type));
    const got: Data[] = [];
    for await (const b of decoded.batches) got.push(...b.getChildAt(0)!.data);
    expect(valuesOf(got)).toEqual(expected(batch));
  },
  ui(_row, batch) {
    // as the rows view reads them (ui-api.ts)
    const cells = batchRowsJson(batch, batch.schema).map((r) => JSON.stringify(r[0]));
    const values = expected(batch).map((v) => JSON.stringify(v));
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) if (values[i] !== values[j]) expect(cells[i], `rows ${i} and ${j}`).not.toBe(cells[j]);
    }
  },
};

/** Runs a probe: true when the site handled the type exactly, else the reason. */
async function outcome(row: ArrowTypeSupport, capability: TypeCapability): Promise<true | string> {
  try {
    await PROBES[capability](row, sampleBatch(row));
    return true;
  } catch (e) {
    return (e as Error)?.message?.split('\n')[0] ?? String(e);
  }
}

/** docs/types.md as the table says it. */
export function renderTypesDoc(): string {
  const head = `| type | ${TYPE_CAPABILITIES.map((c) => c.title).join(' | ')} | notes |`;
  const rule = `|---|${TYPE_CAPABILITIES.map(() => ':-:').join('|')}|---|`;
  const rows = ARROW_TYPE_SUPPORT.map((r) => `| \`${r.name}\` | ${TYPE_CAPABILITIES.map((c) => (r.supported[c.capability] ? 'yes' : '—')).join(' | ')} | ${r.note ?? ''} |`);
  const legend = TYPE_CAPABILITIES.map((c) => `- **${c.title}**: ${c.meaning}.`);
  return [
    '# Supported Arrow types',
    '',
    'Generated from `packages/meta/src/type-support.ts` (`ARROW_TYPE_SUPPORT`) by `e2e/type-support.test.ts`, which',
    'also runs every site named below with a column of each type and fails when a site and the table',
    'disagree. Do not edit by hand: change the table, then run',
    '`UPDATE_TYPES_DOC=1 node scripts/test-env.mjs -- npx vitest run e2e/type-support.test.ts`.',
    '',
    'A type marked — does not work there: most sites refuse it with an error naming the column (kind',
    '`Unsupported`, `SchemaMismatch` or `InvalidArgument`); the notes name the places that do not refuse it',
    'clearly yet (each a bug to fix, then to mark here).',
    '',
    head,
    rule,
    ...rows,
    '',
    ...legend,
    '',
  ].join('\n');
}

describe('type support: the table and every dispatch site agree', () => {
  for (const row of ARROW_TYPE_SUPPORT) {
    it(`${row.name}: ${TYPE_CAPABILITIES.map((c) => `${c.capability}=${row.supported[c.capability] ? 'yes' : 'no'}`).join(' ')}`, async () => {
      const disagree: string[] = [];
      for (const { capability } of TYPE_CAPABILITIES) {
        const got = await outcome(row, capability);
        const claimed = row.supported[capability];
        if (claimed && got !== true) disagree.push(`${capability}: the table says supported, the site failed: ${got}`);
        if (!claimed && got === true) disagree.push(`${capability}: the table says unsupported, but the site handled it exactly (mark it supported)`);
      }
      expect(disagree, `type ${row.name}`).toEqual([]);
    });
  }

  it('a type the table marks unpartitionable is refused as a range partition column: Unsupported, naming table and column', () => {
    for (const row of ARROW_TYPE_SUPPORT) {
      const check = () => checkRangePartitionType('db.t', 'c', row.type());
      if (row.supported.partition) {
        expect(check, row.name).not.toThrow();
        continue;
      }
      let error: unknown;
      try {
        check();
      } catch (e) {
        error = e;
      }
      expect(LakeSoulError.is(error, 'Unsupported'), `${row.name}: ${String(error)}`).toBe(true);
      expect((error as LakeSoulError).context, row.name).toMatchObject({ table: 'db.t', column: 'c' });
      expect((error as LakeSoulError).message, row.name).toMatch(/table 'db\.t': column 'c' of type .* cannot be a range partition column/);
    }
  });

  it('docs/types.md is generated from the table', () => {
    const want = renderTypesDoc();
    if (process.env.UPDATE_TYPES_DOC) writeFileSync(DOC, want);
    expect(readFileSync(DOC, 'utf8'), 'docs/types.md is out of date: run with UPDATE_TYPES_DOC=1').toBe(want);
  });
});
