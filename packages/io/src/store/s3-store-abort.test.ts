/**
 * Aborted and failed multipart puts settle their upload before they reject: nothing is left in the
 * bucket (no object, no unfinished multipart upload) once put() has rejected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { patternBytes } from '../testing/index.js';
import { S3Store } from './s3-store.js';
import { createTestBucket, deleteTestBucket, testS3Env } from './s3-test-env.js';

const MiB = 1024 * 1024;

describe('S3Store multipart put: abort and failure leave nothing behind', () => {
  let bucket: string;
  let store: S3Store;
  /** Command name -> what to do when the client sends it (once). */
  const onSend = new Map<string, () => void>();
  beforeAll(async () => {
    bucket = await createTestBucket('s3abort');
    store = S3Store.fromEnv(bucket, testS3Env(), { partSize: 5 * MiB, multipartThreshold: 5 * MiB, maxAttempts: 1 });
    store.client.middlewareStack.add(
      (next, ctx) => async (args) => {
        const hook = onSend.get(ctx.commandName as string);
        if (hook) {
          onSend.delete(ctx.commandName as string);
          hook();
        }
        return next(args);
      },
      { step: 'initialize', name: 'testHooks' },
    );
  });
  afterAll(async () => {
    store?.destroy();
    if (bucket) await deleteTestBucket(bucket);
  });

  const uploadsOf = async (key: string) => ((await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).filter((u) => u.Key === key).length;
  const exists = (key: string) => store.head(key).then(() => true, (e: unknown) => (LakeSoulError.hasCode(e, 'OBJECT_NOT_FOUND') ? false : Promise.reject(e)));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('an abort while CompleteMultipartUpload is on its way: the object it made is deleted before put rejects', async () => {
    const key = 'race/complete.bin';
    const ac = new AbortController();
    onSend.set('CompleteMultipartUploadCommand', () => ac.abort(new Error('stop')));
    const e = await store.put(key, patternBytes(20 * MiB, 1), { signal: ac.signal }).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'Aborted', code: 'ABORTED', context: { file: `s3://${bucket}/${key}` } });
    expect((e as Error).message).toBe(`put s3://${bucket}/${key}: aborted`);
    expect(await exists(key), 'no object right after the rejection').toBe(false);
    await sleep(1000);
    expect(await exists(key), 'nor later (lib-storage completed it in the background)').toBe(false);
    expect(await uploadsOf(key)).toBe(0);
  });

  it('an abort during UploadPart: the multipart upload is aborted before put rejects (byte array and stream)', async () => {
    for (const kind of ['bytes', 'stream'] as const) {
      const key = `race/part-${kind}.bin`;
      const ac = new AbortController();
      onSend.set('UploadPartCommand', () => setTimeout(() => ac.abort(new Error('stop')), 5));
      async function* chunks() {
        for (let i = 0; i < 20; i++) yield patternBytes(MiB, i);
      }
      const e = await store.put(key, kind === 'bytes' ? patternBytes(20 * MiB, 2) : chunks(), { signal: ac.signal }).catch((x: unknown) => x);
      expect(e, kind).toMatchObject({ kind: 'Aborted', code: 'ABORTED' });
      // what a CLI does after an interrupted command is exit: nothing may be left to do by then
      expect(await uploadsOf(key), kind).toBe(0);
      expect(await exists(key), kind).toBe(false);
    }
  });

  it('a streamed put whose source stalls, then is aborted, ends and aborts its upload', async () => {
    const key = 'race/stalled.bin';
    const ac = new AbortController();
    let stalled!: () => void;
    const stalledAt = new Promise<void>((r) => (stalled = r));
    async function* chunks() {
      for (let i = 0; i < 3; i++) yield patternBytes(4 * MiB, i); // 12 MiB: two parts sent
      stalled();
      await new Promise(() => undefined); // never yields again
    }
    const t0 = Date.now();
    const put = store.put(key, chunks(), { signal: ac.signal }).catch((x: unknown) => x);
    await stalledAt;
    await sleep(300);
    ac.abort(new Error('stop'));
    const e = await put;
    expect(e).toMatchObject({ kind: 'Aborted', code: 'ABORTED' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await uploadsOf(key)).toBe(0);
    expect(await exists(key)).toBe(false);
  });

  it('a source that fails: its error, the upload aborted first', async () => {
    const key = 'race/throws.bin';
    async function* chunks() {
      yield patternBytes(6 * MiB, 1);
      yield patternBytes(6 * MiB, 2);
      throw new Error('source broke');
    }
    const e = await store.put(key, chunks()).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'Io', message: expect.stringContaining('source broke') });
    expect(await uploadsOf(key)).toBe(0);
  });

  it('says so when the upload cannot be aborted (the server is not reached)', async () => {
    const key = 'race/unabortable.bin';
    const ac = new AbortController();
    onSend.set('UploadPartCommand', () => setTimeout(() => ac.abort(new Error('stop')), 5));
    const refuse = (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
      if (ctx.commandName === 'AbortMultipartUploadCommand') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      return next(args);
    };
    store.client.middlewareStack.add(refuse as never, { step: 'initialize', name: 'refuseAbort' });
    let e: unknown;
    try {
      e = await store.put(key, patternBytes(20 * MiB, 3), { signal: ac.signal }).catch((x: unknown) => x);
    } finally {
      store.client.middlewareStack.remove('refuseAbort');
    }
    expect(e).toMatchObject({ kind: 'Aborted', code: 'ABORTED' });
    expect((e as Error).message).toMatch(new RegExp(`^put s3://${bucket}/race/unabortable\\.bin: aborted; its multipart upload \\S+ could not be aborted \\(.*ECONNREFUSED.*\\): its parts stay in the bucket, invisible to list and cleanup\\(\\), until an S3 lifecycle rule \\(AbortIncompleteMultipartUpload\\) removes them$`));
    expect(await uploadsOf(key)).toBe(1);
  });

  it('still uploads in parallel parts, and small streams in one PutObject', async () => {
    const sent: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const count = (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
      sent.push(ctx.commandName ?? '');
      if (ctx.commandName !== 'UploadPartCommand') return next(args);
      peak = Math.max(peak, ++inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    };
    store.client.middlewareStack.add(count as never, { step: 'initialize', name: 'countParts' });
    try {
      const big = patternBytes(23 * MiB, 4);
      await store.put('ok/big.bin', big);
      expect(Buffer.from(await store.get('ok/big.bin')).equals(Buffer.from(big))).toBe(true);
      expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(5);
      expect(peak).toBe(4);
      sent.length = 0;
      async function* small() {
        yield patternBytes(1000, 1);
        yield patternBytes(1000, 2);
      }
      await store.put('ok/small.bin', small());
      async function* none() {}
      await store.put('ok/empty.bin', none());
      expect(sent).toEqual(['PutObjectCommand', 'PutObjectCommand']);
      expect((await store.head('ok/small.bin')).size).toBe(2000);
      expect((await store.head('ok/empty.bin')).size).toBe(0);
    } finally {
      store.client.middlewareStack.remove('countParts');
    }
  });
});
