import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, Field, FixedSizeList, Int32, Int64, List, Map_, Schema, Struct, Table, Utf8 } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { checkSchemaDepth, checkSchemaSize, MAX_NESTING_DEPTH } from '../arrow/validate-data.js';
import { encodeParquet } from '../parquet/parquet-codec.js';
import { Lakehouse } from './lakehouse.js';

// A column nested past what arrow-rs's Arrow IPC reader takes (the FlatBuffers verifier's depth of 64)
// was accepted by createTable, then every write failed Internal "DepthLimitReached", on both codecs:
// the table was left unwritable. 60 levels encode; 61 do not (list and struct levels count alike).

/** `depth` levels alternating list and struct<a: int32, l: ...> around int32, as a type and a value. */
function nested(depth: number): { type: DataType; value: unknown } {
  let type: DataType = new Int32();
  let value: unknown = 42;
  for (let d = 0; d < depth; d++) {
    if (d % 2 === 0) {
      type = new List(new Field('item', type, true));
      value = [value];
    } else {
      type = new Struct([new Field('a', new Int32(), true), new Field('l', type, true)]);
      value = { a: d, l: value };
    }
  }
  return { type, value };
}

const schemaOf = (type: DataType) => new Schema([new Field('id', new Int64(), false), new Field('n', type, true)]);

const limitError = (column: string) => expect.objectContaining({
  kind: 'InvalidArgument',
  code: 'LIMIT_EXCEEDED',
  message: expect.stringContaining(`column '${column}' nests ${MAX_NESTING_DEPTH + 1} levels of list, struct or map types, over the limit of ${MAX_NESTING_DEPTH}`),
});

describe('checkSchemaDepth', () => {
  it('counts each list, struct and fixed-size list level once and a map twice', () => {
    let list: DataType = new Int32();
    let fixed: DataType = new Int32();
    let struct: DataType = new Int32();
    for (let d = 0; d < MAX_NESTING_DEPTH; d++) {
      list = new List(new Field('item', list, true));
      fixed = new FixedSizeList(1, new Field('item', fixed, true));
      struct = new Struct([new Field('x', new Int32(), true), new Field('s', struct, true)]);
    }
    let map: DataType = new Int32();
    for (let d = 0; d < MAX_NESTING_DEPTH / 2; d++) map = new Map_(new Field('entries', new Struct<any>([new Field('key', new Utf8(), false), new Field('value', map, true)]), false));
    for (const t of [list, fixed, struct, map, nested(MAX_NESTING_DEPTH).type]) {
      expect(() => checkSchemaDepth(schemaOf(t), 'x')).not.toThrow();
      expect(() => checkSchemaSize(schemaOf(t), 'x')).not.toThrow();
    }
    const deeper = [
      new List(new Field('item', list, true)),
      new FixedSizeList(1, new Field('item', fixed, true)),
      new Struct([new Field('s', struct, true)]),
      // one more map is two more levels; a list around the maps one
      new List(new Field('item', map, true)),
      nested(MAX_NESTING_DEPTH + 1).type,
    ];
    for (const t of deeper) {
      expect(() => checkSchemaDepth(schemaOf(t), 'DoPut into default.t')).toThrow(/^DoPut into default\.t: column 'n' nests 61 levels .* over the limit of 60/);
      expect(() => checkSchemaSize(schemaOf(t), 'x')).toThrow(/over the limit of 60/);
    }
  });

  it('is what the Parquet codec takes: 60 levels encode, 61 are refused before the codec (not Internal DepthLimitReached)', () => {
    expect(encodeParquet(new Table(schemaOf(nested(MAX_NESTING_DEPTH).type))).length).toBeGreaterThan(0);
    let err: unknown;
    try {
      encodeParquet(new Table(schemaOf(nested(MAX_NESTING_DEPTH + 1).type)), { file: 'f.parquet' });
    } catch (e) {
      err = e;
    }
    expect(err).toEqual(limitError('n'));
    expect((err as Error).message).toMatch(/^could not encode Parquet file 'f\.parquet': /);
  });
});

describe('tables with deeply nested columns', () => {
  let lh: Lakehouse;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lakesoul-nesting-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(dir).href });
  });
  afterAll(() => lh.close());

  const tableNames = async () => (await lh.listTables()).map((t) => t.name);

  it('a column of 60 levels is written, read back and compacted', async () => {
    const { type, value } = nested(MAX_NESTING_DEPTH);
    const t = await lh.createTable('deep60', schemaOf(type), { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write([{ id: 1, n: value }, { id: 2, n: null }]);
    await t.write([{ id: 2, n: value }]);
    await t.compact();
    const got = await t.toArrow();
    const ids = [...got.getChild('id')!.toArray()];
    const n = got.getChild('n')!;
    for (const id of [1n, 2n]) expect(JSON.stringify(n.get(ids.indexOf(id))?.toJSON())).toBe(JSON.stringify(value));
  });

  it('createTable from a Schema refuses a column of 61 levels, naming it and the limit; no table is created', async () => {
    await expect(lh.createTable('deep61', schemaOf(nested(MAX_NESTING_DEPTH + 1).type), { primaryKeys: ['id'] })).rejects.toEqual(limitError('n'));
    await expect(lh.createTable('deep61', schemaOf(nested(MAX_NESTING_DEPTH + 1).type), { primaryKeys: ['id'] })).rejects.toThrow(/^create table 'default\.deep61': column 'n'/);
    expect(await tableNames()).not.toContain('deep61');
  });

  it('createTable from data refuses it before writing: no table, no file', async () => {
    const { value } = nested(MAX_NESTING_DEPTH + 1);
    await expect(lh.createTable('deep61rows', [{ id: 1, n: value }], { primaryKeys: ['id'] })).rejects.toEqual(limitError('n'));
    expect(await tableNames()).not.toContain('deep61rows');
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('deep61rows'))).toEqual([]);
  });

  it('a schema-merging write adding it is refused (LIMIT_EXCEEDED, not Internal); the table keeps its schema and stays writable', async () => {
    const t = await lh.createTable('merged', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    const { value } = nested(MAX_NESTING_DEPTH + 1);
    await expect(t.write([{ id: 1, n: value }], { schemaMode: 'merge' })).rejects.toEqual(limitError('n'));
    const again = await lh.table('merged');
    expect(again.info.schema.fields.map((f) => f.name)).toEqual(['id']);
    await again.write([{ id: 2 }]);
    expect((await again.toArrow()).numRows).toBe(1);
  });

  it('addColumns refuses it (the column could never be written); the schema stays as it was', async () => {
    const t = await lh.createTable('added', new Schema([new Field('id', new Int64(), false)]), { primaryKeys: ['id'], hashBucketNum: 1 });
    const deep = new Field('n', nested(MAX_NESTING_DEPTH + 1).type, true);
    await expect(t.addColumns([deep])).rejects.toEqual(limitError('n'));
    await expect(t.addColumns([deep])).rejects.toThrow(/^add columns to table 'default\.added': column 'n'/);
    expect((await lh.table('added')).info.schema.fields.map((f) => f.name)).toEqual(['id']);
    await t.addColumns([new Field('m', nested(MAX_NESTING_DEPTH).type, true)]);
    expect((await lh.table('added')).info.schema.fields.map((f) => f.name)).toEqual(['id', 'm']);
  });

  it('the error is a LakeSoulError', async () => {
    const e = await lh.createTable('deep61e', schemaOf(nested(MAX_NESTING_DEPTH + 1).type)).catch((x: unknown) => x);
    expect(LakeSoulError.hasCode(e, 'LIMIT_EXCEEDED')).toBe(true);
    expect((e as LakeSoulError).context).toMatchObject({ column: 'n' });
  });
});
