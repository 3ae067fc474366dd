import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry, joinUri, toFileUri } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { Lakehouse } from '../table/index.js';
import { blobColumnsOf } from './blob-columns.js';
import { makePng } from './blob-test-fixtures.js';

const N = 240;

for (const storage of ['local disk', 'S3 (moto)'] as const) {
  describe(`a partitioned table of ${N} images read through scan({ blobs }) on ${storage}`, () => {
    let catalog: Catalog;
    let lh: Lakehouse;
    let dir: string | undefined;
    let bucket: string | undefined;
    const images: Uint8Array[] = [];

    beforeAll(async () => {
      catalog = await Catalog.open({ dataDir: ':memory:' });
      let warehouse: string;
      let stores: StoreRegistry;
      if (storage === 'local disk') {
        dir = mkdtempSync(join(tmpdir(), 'lakesoul-blob-table-'));
        warehouse = toFileUri(dir);
        stores = new StoreRegistry();
      } else {
        bucket = await createTestBucket('blobtable');
        warehouse = `s3://${bucket}/wh`;
        stores = new StoreRegistry({ env: testS3Env() });
      }
      lh = await Lakehouse.open({ catalog, stores, warehouse });
      for (let i = 0; i < N; i++) images.push(makePng(5000 + i, 5 + (i % 13), 4 + (i % 7)));
    });
    afterAll(async () => {
      await catalog?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (bucket) await deleteTestBucket(bucket);
    });

    it('round-trips bytes exactly and in order, with partitions filtered and columns projected', async () => {
      const schema = new Schema([
        new Field('id', new Int32(), false),
        new Field('split', new Utf8(), false),
        new Field('label', new Utf8(), true),
        new Field('image', new Utf8(), true, new Map([['lakesoul.blob', 'true']])),
      ]);
      const t = await lh.createTable('imgs', schema, { rangePartitions: ['split'] });
      // the field metadata survives the catalog round trip
      expect(blobColumnsOf((await lh.table('imgs')).info)).toEqual(['image']);
      const { store, key } = lh.stores.resolve(joinUri(t.info.path, 'files', 'x'));
      const base = key.slice(0, -'files/x'.length);
      await Promise.all(images.map((b, i) => store.put(`${base}files/${i % 4}/img${i}.png`, b)));
      const ids = images.map((_, i) => i);
      const split = (i: number) => (i % 5 === 0 ? 'test' : 'train');
      // two appends, so a partition has several files in order
      for (const part of [ids.slice(0, N / 2), ids.slice(N / 2)]) {
        await t.write(new Table({
          id: vectorFromArray(part, new Int32()),
          split: vectorFromArray(part.map(split), new Utf8()),
          label: vectorFromArray(part.map((i) => `l${i % 3}`), new Utf8()),
          image: vectorFromArray(part.map((i) => (i % 37 === 36 ? null : `files/${i % 4}/img${i}.png`)), new Utf8()),
        }));
      }
      for (const s of ['train', 'test']) {
        const out = await t.toArrow({ partitions: { split: s }, columns: ['id', 'image'], blobs: { columns: ['image'], concurrency: 6, maxBytesInFlight: 4096 } });
        expect(out.schema.fields.map((f) => f.name)).toEqual(['id', 'image', 'image__bytes']);
        const want = ids.filter((i) => split(i) === s);
        const got = out.toArray().map((r) => ({ id: r.id as number, bytes: r.image__bytes as Uint8Array | null }));
        expect(got.map((r) => r.id)).toEqual(want); // append order within the partition
        for (const r of got) {
          if (r.id % 37 === 36) expect(r.bytes).toBeNull();
          else expect(Buffer.from(r.bytes!).equals(Buffer.from(images[r.id])), `id ${r.id}`).toBe(true);
        }
      }
      // a missing file: NotFound naming the row (no primary key: its index) and the path, or null
      await t.write(new Table({
        id: vectorFromArray([9999], new Int32()),
        split: vectorFromArray(['test'], new Utf8()),
        label: vectorFromArray(['x'], new Utf8()),
        image: vectorFromArray(['files/none.png'], new Utf8()),
      }));
      const e = await t.toArrow({ partitions: { split: 'test' }, blobs: ['image'] }).catch((x) => x);
      expect(LakeSoulError.is(e, 'NotFound')).toBe(true);
      expect(e.message).toContain('files/none.png');
      expect(e.message).toMatch(/row \d+/);
      const nulls = await t.toArrow({ partitions: { split: 'test' }, blobs: { columns: ['image'], onMissing: 'null' } });
      expect(nulls.toArray().find((r) => r.id === 9999)!.image__bytes).toBeNull();
    });
  });
}
