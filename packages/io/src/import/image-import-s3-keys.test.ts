/**
 * An S3 folder holding a key with an empty segment (`pics/cat//d.png`) next to `pics/cat/d.png`, on
 * the real S3 server of the test environment. S3 keeps both keys as written, but every read of a blob
 * reference resolves the key without the empty segment: imported, the row of `cat//d.png` read the
 * bytes of `cat/d.png` without any error, and a copy import copied `cat/d.png` twice to one copy (a
 * hunt of blob columns found it). Such a key is refused at the listing now, naming it, before a table
 * is made or anything copied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { StoreRegistry } from '../store/index.js';
import { createTestBucket, deleteTestBucket, testS3Env } from '../store/s3-test-env.js';
import { Lakehouse } from '../table/index.js';
import { scanImageFolder } from '../blob/image-folder.js';
import { importImages } from './image-import.js';

describe('importImages from S3: keys a blob reference cannot name', () => {
  let bucket: string;
  let client: S3Client;
  let catalog: Catalog;
  let lh: Lakehouse;
  const env = testS3Env();

  beforeAll(async () => {
    bucket = await createTestBucket('odd-keys');
    client = new S3Client({ endpoint: env.AWS_ENDPOINT, region: env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    for (const key of ['pics/cat/a.png', 'pics/cat/d.png', 'pics/cat//d.png', 'plain/cat/a.png', 'plain/dog/b.png']) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `BYTES:${key}` }));
    }
    catalog = await Catalog.open({ dataDir: ':memory:' });
    lh = await Lakehouse.open({ catalog, stores: new StoreRegistry({ env }), warehouse: `s3://${bucket}/wh` });
  });
  afterAll(async () => {
    await catalog?.close();
    client?.destroy();
    if (bucket) await deleteTestBucket(bucket);
  });

  it.each(['reference', 'copy'] as const)('a %s import refuses the folder naming the key, and makes no table and no copy', async (mode) => {
    const e = await importImages(lh, `pics_${mode}`, { folder: `s3://${bucket}/pics` }, { mode }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toMatchObject({ kind: 'InvalidArgument', code: 'BLOB_BAD_REFERENCE', context: { file: `s3://${bucket}/pics/cat//d.png` } });
    expect((e as Error).message).toContain("empty segment ('//')");
    expect(await lh.table(`pics_${mode}`).catch((x: unknown) => (x as LakeSoulError).kind)).toBe('NotFound');
    const written = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'wh/' }));
    expect(written.Contents ?? []).toEqual([]);
  });

  it('scanImageFolder refuses it too; a folder without such a key imports, each row reading its own object', async () => {
    await expect(scanImageFolder(`s3://${bucket}/pics`, { stores: lh.stores })).rejects.toMatchObject({ code: 'BLOB_BAD_REFERENCE' });
    for (const mode of ['reference', 'copy'] as const) {
      const { table, rows } = await importImages(lh, `plain_${mode}`, { folder: `s3://${bucket}/plain` }, { mode });
      expect(rows).toBe(2);
      const read = (await table.toArrow({ blobs: ['path'] })).toArray().map((r) => [r.label, Buffer.from(r.path__bytes as Uint8Array).toString()]);
      expect(read.sort()).toEqual([['cat', 'BYTES:plain/cat/a.png'], ['dog', 'BYTES:plain/dog/b.png']]);
    }
  });
});
