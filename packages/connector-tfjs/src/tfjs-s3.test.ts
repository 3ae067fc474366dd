import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { LakeSoulTable } from '@lakesoul-ts/io';
import { createImageExecutor, images, tfjsDataset } from './index.js';
import { createImageTable, createTabularTable, openTestLakehouse } from './test-support/tables.js';

// Tables and their image files on the real S3-compatible server of the test environment (moto).
function s3Env(): Record<string, string> {
  const endpoint = process.env.LAKESOUL_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('LAKESOUL_TEST_S3_ENDPOINT is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...), which starts the moto S3 server');
  return {
    AWS_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
  };
}

let env: Awaited<ReturnType<typeof openTestLakehouse>>;
let images_: { table: LakeSoulTable; bytesById: Map<number, Uint8Array> };
const bucket = `tfjs-${Date.now().toString(36)}-${process.pid}`;

beforeAll(async () => {
  const e = s3Env();
  // moto accepts a plain bucket-creating PUT (no SDK needed here).
  const res = await fetch(`${e.AWS_ENDPOINT}/${bucket}`, { method: 'PUT' });
  if (!res.ok) throw new Error(`cannot create bucket ${bucket} on ${e.AWS_ENDPOINT}: HTTP ${res.status}`);
  env = await openTestLakehouse({ warehouse: `s3://${bucket}/warehouse`, stores: { env: e } });
  images_ = await createImageTable(env.lakehouse, 'shapes_s3', { dates: ['a', 'b'], perDate: 8, size: 12, filesPerDate: 2 });
});
afterAll(async () => env?.close());

it('streams image bytes referenced from an S3 table, decoded exactly', async () => {
  expect(images_.table.info.path.startsWith(`s3://${bucket}/`)).toBe(true);
  const pipeline = images.resize(8, 8).scale(1 / 255);
  const ds = await tfjsDataset(images_.table, { tf, batchSize: 5, transform: pipeline, decode: { decoder: 'js' }, features: { img: 'image_path', id: { column: 'id', dtype: 'int32' } }, shuffle: { seed: 3 } });
  const ex = await createImageExecutor({ decoder: 'js' });
  const seen: number[] = [];
  const it2 = await ds.iterator();
  for (let r = await it2.next(); !r.done; r = await it2.next()) {
    const el = r.value as { img: tf.Tensor; id: tf.Tensor };
    const ids = Array.from(el.id.dataSync());
    const px = el.img.dataSync();
    for (let k = 0; k < ids.length; k++) {
      const want = await ex.run(pipeline, images_.bytesById.get(ids[k])!.slice(), 0);
      expect(Array.from(px.subarray(k * 192, (k + 1) * 192))).toEqual(Array.from(want.data));
    }
    seen.push(...ids);
    tf.dispose([el.img, el.id]);
  }
  expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
});

it('shards and resumes a tabular S3 table exactly', async () => {
  const { table, total } = await createTabularTable(env.lakehouse, 'rows_s3', [
    { date: 'a', rows: 5 },
    { date: 'b', rows: 7 },
    { date: 'a', rows: 3 },
    { date: 'b', rows: 4 },
  ]);
  const o = { tf, batchSize: 3, features: { id: { column: 'id', dtype: 'int32' as const } }, shuffle: { seed: 8, bufferSize: 4 } };
  const ids = async (ds: Awaited<ReturnType<typeof tfjsDataset>>, batches = Infinity) => {
    const out: number[] = [];
    const it2 = await ds.iterator();
    for (let n = 0; n < batches; n++) {
      const r = await it2.next();
      if (r.done) break;
      out.push(...(r.value as { id: tf.Tensor }).id.dataSync());
      tf.dispose(Object.values(r.value as object) as tf.Tensor[]);
    }
    return out;
  };
  const r0 = await ids(await tfjsDataset(table, { ...o, rank: 0, worldSize: 2 }));
  const r1 = await ids(await tfjsDataset(table, { ...o, rank: 1, worldSize: 2 }));
  expect([...r0, ...r1].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  const full = await ids(await tfjsDataset(table, o));
  const a = await tfjsDataset(table, o);
  const head = await ids(a, 2);
  const rest = await ids(await tfjsDataset(table, { ...o, resumeFrom: a.getState() }));
  expect([...head, ...rest]).toEqual(full);
});
