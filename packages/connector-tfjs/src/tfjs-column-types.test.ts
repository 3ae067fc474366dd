import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Date_, DateUnit, Decimal, Field, Float16, Float64, Int32, List, Schema, TimeMicrosecond, TimestampMicrosecond, Uint8, makeTable, vectorFromArray } from 'apache-arrow';
import type { Lakehouse, LakeSoulTable } from '@lakesoul-ts/io';
import { tfjsDataset } from './index.js';
import { decimalToNumber, halfToNumber } from './arrow-rows.js';
import { openTestLakehouse } from './test-support/tables.js';

// decimal(10, 2) words of an unscaled value: little-endian two's complement, 4 x 32 bits
const dec = (x: bigint) => new Uint32Array(BigInt64Array.of(x, x < 0n ? -1n : 0n).buffer);
const DEC = new Decimal(2, 10, 128);
const HALF_LIST = new List(new Field('item', new Float16(), false));
const BYTE_LIST = new List(new Field('item', new Uint8(), false));
const DEC_LIST = new List(new Field('item', DEC, false));

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let lakehouse: Lakehouse;
let table: LakeSoulTable;
let temporal: LakeSoulTable;

beforeAll(async () => {
  env = await openTestLakehouse();
  lakehouse = env.lakehouse;
  table = await lakehouse.createTable('types', new Schema([
    new Field('qty', new Float64(), false),
    new Field('price', DEC, false),
    new Field('h', new Float16(), false),
    new Field('hl', HALF_LIST, false),
    new Field('px', BYTE_LIST, false),
    new Field('dl', DEC_LIST, false),
    new Field('label', new Int32(), false),
  ]));
  await table.write(makeTable({
    qty: vectorFromArray([1, 2], new Float64()),
    price: vectorFromArray([dec(1250n), dec(-399n)], DEC),
    h: vectorFromArray([1.5, -2], new Float16()),
    hl: vectorFromArray([[1.5, 2], [3, 4]], HALF_LIST),
    px: vectorFromArray([[1, 2], [3, 255]], BYTE_LIST),
    dl: vectorFromArray([[dec(5n), dec(-150n)], [dec(0n), dec(100n)]], DEC_LIST),
    label: vectorFromArray([0, 1], new Int32()),
  } as never), { mode: 'append' });
  temporal = await lakehouse.createTable('temporal', new Schema([
    new Field('x', new Float64(), false),
    new Field('ts', new TimestampMicrosecond('UTC'), false),
    new Field('d', new Date_(DateUnit.DAY), false),
    new Field('tm', new TimeMicrosecond(), false),
  ]));
  await temporal.write(makeTable({
    x: vectorFromArray([1, 2], new Float64()),
    ts: vectorFromArray([1704067200000, 1704067260000], new TimestampMicrosecond('UTC')),
    d: vectorFromArray([new Date(0), new Date(86400000)], new Date_(DateUnit.DAY)),
    tm: vectorFromArray([1000n, 2000n], new TimeMicrosecond()),
  } as never), { mode: 'append' });
});
afterAll(async () => env?.close());

async function first(ds: Awaited<ReturnType<typeof tfjsDataset>>): Promise<Record<string, tf.Tensor>> {
  const r = await (await ds.iterator()).next();
  return r.value as Record<string, tf.Tensor>;
}

describe('column types to tensors', () => {
  it('decimal values become their numbers (not the 32-bit words), in default features, explicit features and labels', async () => {
    const ds = await tfjsDataset(table, { tf, features: ['qty', 'price'], labels: 'label', batchSize: 2 });
    const el = await first(ds);
    expect(el.xs.shape).toEqual([2, 2]);
    const xs = Array.from(el.xs.dataSync());
    expect(xs[0]).toBe(1);
    expect(xs[1]).toBeCloseTo(12.5, 5);
    expect(xs[3]).toBeCloseTo(-3.99, 5);
    tf.dispose(Object.values(el));
    const byLabel = await first(await tfjsDataset(table, { tf, features: 'qty', labels: 'price', batchSize: 2 }));
    expect(byLabel.ys.shape).toEqual([2, 1]);
    expect(byLabel.ys.dtype).toBe('float32');
    expect(Array.from(byLabel.ys.dataSync())).toEqual([12.5, Math.fround(-3.99)]);
    tf.dispose(Object.values(byLabel));
    const dict = await first(await tfjsDataset(table, { tf, features: ['price', 'dl'], batchSize: 2 }));
    expect(dict.price.shape).toEqual([2, 1]);
    expect(Array.from(dict.dl.dataSync())).toEqual([0.05, -1.5, 0, 1].map(Math.fround));
    tf.dispose(Object.values(dict));
  });

  it('default features include decimal, float16 and list<uint8> columns as numbers', async () => {
    const el = await first(await tfjsDataset(table, { tf, labels: 'label', batchSize: 2 }));
    // qty, price, h, hl[2], px[2], dl[2]
    expect(el.xs.shape).toEqual([2, 9]);
    expect(Array.from(el.xs.dataSync())).toEqual([1, 12.5, 1.5, 1.5, 2, 1, 2, 0.05, -1.5, 2, -3.99, -2, 3, 4, 3, 255, 0, 1].map(Math.fround));
    tf.dispose(Object.values(el));
  });

  it('float16 values become numbers (not half-float bits), scalar and list', async () => {
    const el = await first(await tfjsDataset(table, { tf, features: ['h', 'hl'], batchSize: 2 }));
    expect(Array.from(el.h.dataSync())).toEqual([1.5, -2]);
    expect(el.hl.shape).toEqual([2, 2]);
    expect(Array.from(el.hl.dataSync())).toEqual([1.5, 2, 3, 4]);
    tf.dispose(Object.values(el));
    const lab = await first(await tfjsDataset(table, { tf, features: 'qty', labels: 'h', batchSize: 2 }));
    expect(Array.from(lab.ys.dataSync())).toEqual([1.5, -2]);
    tf.dispose(Object.values(lab));
  });

  it('a list<uint8> column is a numeric list [B, n], not binary', async () => {
    const el = await first(await tfjsDataset(table, { tf, features: { px: { column: 'px', dtype: 'int32' } }, batchSize: 2 }));
    expect(el.px.shape).toEqual([2, 2]);
    expect(Array.from(el.px.dataSync())).toEqual([1, 2, 3, 255]);
    tf.dispose(Object.values(el));
  });

  it('timestamp, date and time features are refused when the dataset is made, naming the column', async () => {
    for (const c of ['ts', 'd', 'tm']) {
      await expect(tfjsDataset(temporal, { tf, features: ['x', c], batchSize: 2 })).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE', context: { column: c } });
    }
    // the default features leave them out
    const el = await first(await tfjsDataset(temporal, { tf, batchSize: 2 }));
    expect(Object.keys(el)).toEqual(['x']);
    tf.dispose(Object.values(el));
  });

  it('converts decimal words and half-float bits exactly', () => {
    expect(decimalToNumber(dec(1250n), 2)).toBe(12.5);
    expect(decimalToNumber(dec(-5n), 2)).toBe(-0.05);
    expect(decimalToNumber(dec(399n), 2)).toBe(3.99);
    expect(decimalToNumber(dec(7n), -3)).toBe(7000);
    expect(decimalToNumber(new Uint32Array(BigInt64Array.of(-(2n ** 63n), -1n).buffer), 0)).toBe(-(2 ** 63));
    expect(halfToNumber(0x3e00)).toBe(1.5);
    expect(halfToNumber(0xc000)).toBe(-2);
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(halfToNumber(0x7e00)).toBeNaN();
  });
});
