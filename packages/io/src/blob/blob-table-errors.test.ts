/**
 * A missing blob read through a table (`read({ blobs })`): every row before the failing row is
 * delivered first, in order, then the error naming the column, the row and the reference
 * (docs/blobs.md, "An error is thrown at its row's position").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { Catalog, LakeSoulError, abortedError } from '@lakesoul-ts/meta';
import { StoreRegistry, joinUri, toFileUri } from '../store/index.js';
import { Lakehouse, rebatch, type LakeSoulTable } from '../table/index.js';
import { batchesOf } from './blob-test-fixtures.js';
import type { ScanOptions } from '../types.js';

describe('a missing blob in a table read: the rows before it first, then the error', () => {
  let catalog: Catalog;
  let lh: Lakehouse;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    catalog = await Catalog.open({ dataDir: ':memory:' });
    dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-errors-'));
    lh = await Lakehouse.open({ catalog, stores: new StoreRegistry(), warehouse: toFileUri(dir) });
  });
  afterAll(async () => {
    await catalog?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const schema = new Schema([new Field('id', new Int32(), false), new Field('ref', new Utf8(), true)]);
  const bytesOf = (id: number) => new Uint8Array([id & 0xff, (id >> 8) & 0xff, 7, 7]);

  /** A table whose rows `id` reference `objs/<id>.bin`; every object but those of `missing` is stored. */
  async function table(opts: { pk: boolean }, writes: number[][], missing: number[]): Promise<LakeSoulTable> {
    const t = await lh.createTable(`t${n++}`, schema, opts.pk ? { primaryKeys: ['id'], hashBucketNum: 1 } : {});
    const { store, key } = lh.stores.resolve(joinUri(t.info.path, 'objs', 'x'));
    const base = key.slice(0, -'x'.length);
    for (const ids of writes) {
      await Promise.all(ids.filter((i) => !missing.includes(i)).map((i) => store.put(`${base}${i}.bin`, bytesOf(i))));
      await t.write(new Table({ id: vectorFromArray(ids, new Int32()), ref: vectorFromArray(ids.map((i) => `objs/${i}.bin`), new Utf8()) }));
    }
    return t;
  }

  /** The rows a read delivers (id and bytes) and the error it ends with. */
  async function readAll(t: LakeSoulTable, options: ScanOptions): Promise<{ ids: number[]; error: unknown }> {
    const ids: number[] = [];
    try {
      for await (const b of t.read(options)) {
        for (const r of (b as RecordBatch).toArray()) {
          const id = r.id as number;
          expect(Buffer.from(r.ref__bytes as Uint8Array).equals(Buffer.from(bytesOf(id))), `bytes of id ${id}`).toBe(true);
          ids.push(id);
        }
      }
    } catch (e) {
      return { ids, error: e };
    }
    return { ids, error: undefined };
  }

  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  function expectMissing(error: unknown, row: string, id: number): void {
    expect(LakeSoulError.is(error, 'NotFound'), String(error)).toBe(true);
    const e = error as LakeSoulError;
    expect(e.message).toContain(`blob column 'ref', ${row}:`);
    expect(e.context).toMatchObject({ column: 'ref', reference: `objs/${id}.bin` });
    expect(String(e.context?.file)).toContain(`objs/${id}.bin`);
  }

  it('non-PK table, one split: the 29 rows before row 29 are delivered (as a slice), then the error', async () => {
    const t = await table({ pk: false }, [range(0, 50)], [29]);
    for (const batchSize of [undefined, 8, 29, 30]) {
      const r = await readAll(t, { blobs: ['ref'], batchSize });
      expect(r.ids, `batchSize ${batchSize}`).toEqual(range(0, 29));
      expectMissing(r.error, 'row 29', 29);
    }
    // a small byte bound and low concurrency (the rows before come out in several slices)
    const r = await readAll(t, { blobs: { columns: ['ref'], concurrency: 2, maxBytesInFlight: 12 } });
    expect(r.ids).toEqual(range(0, 29));
    expectMissing(r.error, 'row 29', 29);
    // the first row missing: nothing before it
    const first = await table({ pk: false }, [range(0, 10)], [0]);
    const f = await readAll(first, { blobs: ['ref'] });
    expect(f.ids).toEqual([]);
    expectMissing(f.error, 'row 0', 0);
  });

  it('PK table, one split: the keys before id=4 are delivered, then the error naming id=4', async () => {
    const t = await table({ pk: true }, [[7, 2, 4, 0, 9, 1, 3, 8, 6, 5]], [4]);
    const r = await readAll(t, { blobs: ['ref'] });
    expect(r.ids).toEqual([0, 1, 2, 3]); // merge order: by key
    expectMissing(r.error, 'id=4', 4);
    // two files merged in the split: the upserted rows before id=4 still come first
    const t2 = await table({ pk: true }, [range(0, 6), [1, 3, 4, 5]], [4]);
    const r2 = await readAll(t2, { blobs: ['ref'], batchSize: 2 });
    expect(r2.ids).toEqual([0, 1, 2, 3]);
    expectMissing(r2.error, 'id=4', 4);
  });

  it('non-PK table, missing object in the second split: the first split, then its rows before the failing one', async () => {
    const t = await table({ pk: false }, [range(0, 20), range(20, 50)], [35]);
    const plan = await t.scan({ blobs: ['ref'] });
    expect(plan.splits.length).toBe(2);
    for (const batchSize of [undefined, 7]) {
      const r = await readAll(t, { blobs: ['ref'], batchSize });
      expect(r.ids, `batchSize ${batchSize}`).toEqual(range(0, 35));
      // rows are numbered within their split's stream
      expectMissing(r.error, 'row 15', 35);
    }
  });

  it('PK table, missing object in the second split: every row of the first split and the keys before it', async () => {
    const t = await lh.createTable(`t${n++}`, new Schema([...schema.fields, new Field('part', new Utf8(), false)]), {
      primaryKeys: ['id'],
      rangePartitions: ['part'],
      hashBucketNum: 1,
    });
    const { store, key } = lh.stores.resolve(joinUri(t.info.path, 'objs', 'x'));
    const base = key.slice(0, -'x'.length);
    const ids = range(0, 24);
    await Promise.all(ids.filter((i) => i !== 17).map((i) => store.put(`${base}${i}.bin`, bytesOf(i))));
    await t.write(new Table({
      id: vectorFromArray(ids, new Int32()),
      ref: vectorFromArray(ids.map((i) => `objs/${i}.bin`), new Utf8()),
      part: vectorFromArray(ids.map((i) => (i % 2 === 0 ? 'a' : 'b')), new Utf8()),
    }));
    const plan = await t.scan({ blobs: ['ref'] });
    expect(plan.splits.map((s) => s.partitionDesc)).toEqual(['part=a', 'part=b']);
    const r = await readAll(t, { blobs: ['ref'] });
    // split order: part=a (the even keys), then part=b up to id=17
    expect(r.ids).toEqual([...ids.filter((i) => i % 2 === 0), 1, 3, 5, 7, 9, 11, 13, 15]);
    expectMissing(r.error, 'id=17', 17);
  });

  it("toArrow({ blobs }) throws the same error; onMissing: 'null' gives null bytes and every row", async () => {
    const t = await table({ pk: false }, [range(0, 20), range(20, 50)], [29, 35]);
    const e = await t.toArrow({ blobs: ['ref'] }).catch((x: unknown) => x);
    expectMissing(e, 'row 9', 29);
    const out = await t.toArrow({ blobs: { columns: ['ref'], onMissing: 'null' } });
    const rows = out.toArray();
    expect(rows.map((r) => r.id)).toEqual(range(0, 50));
    for (const r of rows) {
      if (r.id === 29 || r.id === 35) expect(r.ref__bytes).toBeNull();
      else expect(Buffer.from(r.ref__bytes as Uint8Array).equals(Buffer.from(bytesOf(r.id as number)))).toBe(true);
    }
  });

  it('an early return after the rows before the error stops the read without the error', async () => {
    const t = await table({ pk: false }, [range(0, 50)], [29]);
    const got: number[] = [];
    for await (const b of t.read({ blobs: ['ref'], batchSize: 10 })) {
      for (const r of b.toArray()) got.push(r.id as number);
      if (got.length >= 20) break;
    }
    expect(got).toEqual(range(0, 20));
  });
});

describe('rebatch: rows gathered before an input error', () => {
  const ids = (bs: RecordBatch[]) => bs.flatMap((b) => b.toArray().map((r) => r.id as number));
  /** Batches of ids [0, n) in batches of `size`, then `error` thrown; records whether it was closed. */
  function failing(n: number, size: number, error: unknown) {
    const state = { pulled: 0, closed: false };
    const batches = batchesOf({ id: Array.from({ length: n }, (_, i) => i) }, size, { id: 'int32' });
    const it: AsyncIterable<RecordBatch> = {
      async *[Symbol.asyncIterator]() {
        try {
          for (const b of batches) {
            state.pulled++;
            yield b;
          }
          throw error;
        } finally {
          state.closed = true;
        }
      },
    };
    return { it, state };
  }

  it('delivers the gathered rows, then throws the error', async () => {
    const err = new LakeSoulError('NotFound', 'gone');
    const { it } = failing(5, 2, err); // 2+2+1 rows, each below half of 100: all gathered
    const got: RecordBatch[] = [];
    const e = await (async () => {
      for await (const b of rebatch(it, 100)) got.push(b);
    })().catch((x: unknown) => x);
    expect(e).toBe(err);
    expect(got.length).toBe(1);
    expect(ids(got)).toEqual([0, 1, 2, 3, 4]);
  });

  it('an abort is thrown at once, without the gathered rows', async () => {
    const err = abortedError('read');
    const { it } = failing(5, 2, err);
    const got: RecordBatch[] = [];
    const e = await (async () => {
      for await (const b of rebatch(it, 100)) got.push(b);
    })().catch((x: unknown) => x);
    expect(e).toBe(err);
    expect(got).toEqual([]);
  });

  it('an early return closes the input; returning at the last batch before an error ends without it', async () => {
    const a = failing(40, 10, new Error('late'));
    for await (const b of rebatch(a.it, 10)) {
      expect(b.numRows).toBe(10);
      break;
    }
    expect(a.state.closed).toBe(true);
    expect(a.state.pulled).toBe(1);
    const b = failing(3, 1, new LakeSoulError('NotFound', 'gone'));
    const got: RecordBatch[] = [];
    for await (const x of rebatch(b.it, 100)) {
      got.push(x);
      break;
    }
    expect(ids(got)).toEqual([0, 1, 2]);
  });
});
