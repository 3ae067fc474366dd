import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Int32, Int64, Utf8, makeTable, vectorFromArray, type Table } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse, LocalStore, StoreRegistry, toFileUri, type LakeSoulTable } from '@lakesoul-ts/io';
import { images, tfjsDataset } from './index.js';
import { createImageTable, shapePng } from './test-support/tables.js';

let dir: string;
let lakehouse: Lakehouse;
let table: LakeSoulTable;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dir = mkdtempSync(join(tmpdir(), 'lakesoul-tfjs-confine-'));
  const wh = join(dir, 'warehouse');
  mkdirSync(join(dir, 'outside'), { recursive: true });
  // a decodable image outside the table: the read must not get its bytes
  writeFileSync(join(dir, 'outside', 'secret.png'), shapePng(1, 16, 0));
  // the store registered for the warehouse, the way the bypass used it
  const stores = new StoreRegistry().register(toFileUri(wh) + '/', new LocalStore({ root: wh }));
  lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, stores, warehouse: toFileUri(wh) });
  ({ table } = await createImageTable(lakehouse, 'shapes', { dates: ['2024-08-09'], perDate: 6, size: 16 }));
  const tableDir = '/' + new URL(table.info.path).pathname.replace(/^\/+/, '');
  symlinkSync(join(dir, 'outside', 'secret.png'), join(tableDir, 'images', 'evil.png'));
  await table.write(
    makeTable({
      id: vectorFromArray([1000n], new Int64()),
      image_path: vectorFromArray(['images/evil.png'], new Utf8()),
      label: vectorFromArray([1], new Int32()),
      date: vectorFromArray(['2024-08-10'], new Utf8()),
    } as never) as unknown as Table,
  );
});
afterAll(async () => {
  await lakehouse?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tfjsDataset over a blob column with a symlink leading out of the table', () => {
  it('decodes the images inside the table', async () => {
    const ds = await tfjsDataset(table, { tf, partitions: { date: '2024-08-09' }, batchSize: 6, transform: images.resize(8, 8), decode: { decoder: 'js' } });
    const it = await ds.iterator();
    const r = await it.next();
    const img = Object.values(r.value as Record<string, tf.Tensor>).find((v) => v.shape.length === 4)!;
    expect(img.shape).toEqual([6, 8, 8, 3]);
    tf.dispose(r.value as tf.TensorContainer);
    await ds.close();
  });

  it('refuses the link (BLOB_OUTSIDE_ROOTS naming the reference) instead of decoding the outside file', async () => {
    const ds = await tfjsDataset(table, { tf, partitions: { date: '2024-08-10' }, batchSize: 1, transform: images.resize(8, 8), decode: { decoder: 'js' } });
    const it = await ds.iterator();
    const e = await it.next().then(
      (r) => r,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LakeSoulError);
    const le = e as LakeSoulError;
    expect(le.kind).toBe('PermissionDenied');
    expect(le.code).toBe('BLOB_OUTSIDE_ROOTS');
    expect(le.message).toContain('images/evil.png');
    expect(le.message).toContain('lakesoul_blob_roots');
    await ds.close();
  });
});
