/**
 * Catalog-level interop with LakeSoul's own Python package (PyPI lakesoul 2.0.0): the schema this
 * project bootstraps is the one LakeSoul-Python works on (it creates none itself), and table entries
 * written by either side decode on the other: schema JSON, partitions, bucket count, namespaces.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Binary, Bool, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, Schema, TimeUnit, Timestamp, Type, Utf8,
} from 'apache-arrow';
import { Catalog } from '@lakesoul-ts/meta';
import { interopEnv, lakesoulPy, type InteropEnv } from './interop-env.js';

/** Type names of lakesoul_py.py, their Arrow-JS type, and pyarrow's rendering of it. */
const TYPES: [string, () => any, string][] = [
  ['bool', () => new Bool(), 'bool'],
  ['int8', () => new Int8(), 'int8'],
  ['int16', () => new Int16(), 'int16'],
  ['int32', () => new Int32(), 'int32'],
  ['int64', () => new Int64(), 'int64'],
  ['float32', () => new Float32(), 'float'],
  ['float64', () => new Float64(), 'double'],
  ['string', () => new Utf8(), 'string'],
  ['binary', () => new Binary(), 'binary'],
  ['date32', () => new DateDay(), 'date32[day]'],
  ['timestamp_us_utc', () => new Timestamp(TimeUnit.MICROSECOND, 'UTC'), 'timestamp[us, tz=UTC]'],
];

describe('catalog interop with LakeSoul-Python 2.0.0', () => {
  let env: InteropEnv;
  let catalog: Catalog;
  const suffix = randomBytes(4).toString('hex');

  beforeAll(async () => {
    env = interopEnv();
    catalog = await Catalog.open({ url: env.pgUrl });
  });
  afterAll(async () => {
    await catalog?.close();
  });

  it('runs the pinned wheel (lakesoul 2.0.0, Rust core 4.0.0) against the schema this project bootstraps', async () => {
    const v = await lakesoulPy(env, 'versions');
    expect(v.lakesoul).toBe('2.0.0');
    expect(v.core).toBe('4.0.0');
    expect(v.pyarrow).toBe('20.0.0');
    const ns = await lakesoulPy(env, 'namespaces');
    expect(ns.namespaces).toContain('default');
  });

  it('decodes a table LakeSoul-Python created, with every column type', async () => {
    const name = `interop_cat_py_${suffix}`;
    const schema = TYPES.map(([t]) => [`c_${t}`, t]);
    await lakesoulPy(env, 'create', {
      name, path: `file:///tmp/lakesoul-interop-${name}`, schema, partitionBy: ['c_date32', 'c_string'], primaryKeys: ['c_int64', 'c_binary'], hashBucketNum: 8,
    });
    const info = await catalog.getTable(name);
    expect(info.rangePartitions).toEqual(['c_date32', 'c_string']);
    expect(info.primaryKeys).toEqual(['c_int64', 'c_binary']);
    expect(info.hashBucketNum).toBe(8);
    expect(info.path).toBe(`file:///tmp/lakesoul-interop-${name}`);
    expect(info.schema.fields.map((f) => f.name)).toEqual(TYPES.map(([t]) => `c_${t}`));
    for (const [t, make] of TYPES) {
      const f = info.schema.fields.find((x) => x.name === `c_${t}`)!;
      const want = make();
      expect(f.type.typeId, `c_${t}`).toBe(want.typeId);
      expect(String(f.type), `c_${t}`).toBe(String(want));
      // LakeSoul-Python makes primary-key columns non-nullable.
      expect(f.nullable, `c_${t} nullable`).toBe(!['int64', 'binary'].includes(t));
    }
    const ts = info.schema.fields.find((f) => f.name === 'c_timestamp_us_utc')!.type as Timestamp;
    expect(ts.typeId).toBe(Type.Timestamp);
    expect(ts.unit).toBe(TimeUnit.MICROSECOND);
    expect(ts.timezone).toBe('UTC');
    // Upstream quirks this project must accept (docs/interop.md): a bare UUID as table_id and no
    // file_format property (the wheel picks the format per write).
    expect(info.tableId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(info.properties).toEqual({ hashBucketNum: '8' });
  });

  it('LakeSoul-Python loads a table this project created, with every column type, in another namespace', async () => {
    const ns = `interop_cat_ns_${suffix}`;
    await catalog.createNamespace(ns);
    const name = `interop_cat_ts_${suffix}`;
    const fields = TYPES.map(([t, make]) => new Field(`c_${t}`, make(), !['int32', 'string'].includes(t)));
    await catalog.createTable({
      name, namespace: ns, path: `file:///tmp/lakesoul-interop-${name}`, schema: new Schema(fields),
      rangePartitions: ['c_date32'], primaryKeys: ['c_int32', 'c_string'], hashBucketNum: 2,
    });
    const listed = await lakesoulPy(env, 'namespaces', { namespace: ns });
    expect(listed.namespaces).toContain(ns);
    expect(listed.tables).toEqual([name]);
    const d = await lakesoulPy(env, 'describe', { name, namespace: ns });
    expect(d.namespace).toBe(ns);
    expect(d.path).toBe(`file:///tmp/lakesoul-interop-${name}`);
    expect(d.partitionBy).toEqual(['c_date32']);
    expect(d.primaryKeys).toEqual(['c_int32', 'c_string']);
    expect(d.hashBucketNum).toBe(2);
    expect(d.properties.file_format).toBe('parquet');
    expect(d.schema).toEqual(TYPES.map(([t, , py]) => [`c_${t}`, py, !['int32', 'string'].includes(t)]));
  });
});
