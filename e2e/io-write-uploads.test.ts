/**
 * How a write uploads its files: many small files at a time (a write of many partitions pays the
 * store's latency per file once per 16 files, not once per 2), large files few at a time (bounded
 * bytes in flight), and an upload that fails leaves nothing: no commit, no file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { Binary, Field, Int64, Schema, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse, MAX_UPLOADS_IN_FLIGHT, UPLOAD_BYTES_IN_FLIGHT, type ObjectStore } from '@lakesoul-ts/io';
import { mapS3Error } from '../packages/io/src/store/store-errors.js';

/** Puts under way, the most at once, their bytes at most, and the largest one; deletes asked for. */
interface PutLog { running: number; maxRunning: number; bytes: number; maxBytes: number; largest: number; count: number; deletes: number }

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A lakehouse whose data file puts take `delayMs` more, are logged, and fail at put number `failAt` (with `failure`'s error). */
async function openLogged(delayMs: number, failAt = 0, failure = (key: string): unknown => new LakeSoulError('Io', `put ${key} failed: injected`, { retryable: true })): Promise<{ lh: Lakehouse; log: PutLog; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'write-uploads-'));
  dirs.push(dir);
  const log: PutLog = { running: 0, maxRunning: 0, bytes: 0, maxBytes: 0, largest: 0, count: 0, deletes: 0 };
  const wrap = (store: ObjectStore): ObjectStore => new Proxy(store, {
    get(target, prop, receiver) {
      const own = Reflect.get(target, prop, receiver) as ((...a: unknown[]) => Promise<void>) | undefined;
      if ((prop === 'delete' || prop === 'deleteMany') && own !== undefined) {
        const call = own;
        return (...a: unknown[]) => {
          log.deletes++;
          return call.apply(target, a);
        };
      }
      if (prop !== 'put') return Reflect.get(target, prop, receiver);
      return async (key: string, data: Uint8Array, o?: unknown) => {
        if (!key.endsWith('.parquet')) return target.put(key, data, o as never);
        const n = ++log.count;
        log.running++;
        log.bytes += data.byteLength;
        log.maxRunning = Math.max(log.maxRunning, log.running);
        log.maxBytes = Math.max(log.maxBytes, log.bytes);
        log.largest = Math.max(log.largest, data.byteLength);
        try {
          await new Promise((r) => setTimeout(r, delayMs));
          if (n === failAt) throw failure(key);
          return await target.put(key, data, o as never);
        } finally {
          log.running--;
          log.bytes -= data.byteLength;
        }
      };
    },
  });
  const lh = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'wh')}`, stores: { wrap } });
  return { lh, log, dir };
}

const parquetFiles = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));

describe('write uploads', () => {
  const schema = new Schema([new Field('id', new Int64(), false), new Field('day', new Utf8(), false)]);
  const rowsIn = (n: number) => new Table(schema, {
    id: makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i))),
    day: vectorFromArray(Array.from({ length: n }, (_, i) => `d${i}`), new Utf8()),
  });

  it('uploads the small files of a write of many partitions many at a time, at most MAX_UPLOADS_IN_FLIGHT', async () => {
    const { lh, log } = await openLogged(20);
    try {
      const t = await lh.createTable('many', schema, { primaryKeys: ['id'], rangePartitions: ['day'], hashBucketNum: 1 });
      const started = performance.now();
      await t.write(rowsIn(80));
      const ms = performance.now() - started;
      expect(log.count).toBe(80);
      // two at a time (as before) would have taken 80 / 2 x 20 ms = 800 ms of latency alone
      expect(log.maxRunning).toBeGreaterThanOrEqual(8);
      expect(log.maxRunning).toBeLessThanOrEqual(MAX_UPLOADS_IN_FLIGHT);
      console.info(`[write-uploads] 80 partitions, 20 ms per put: ${ms.toFixed(0)} ms, ${log.maxRunning} puts at once`);
      expect((await t.toArrow()).numRows).toBe(80);
    } finally {
      await lh.close();
    }
  });

  it('keeps the bytes of large uploads in flight under UPLOAD_BYTES_IN_FLIGHT (one file alone when larger)', async () => {
    const { lh, log } = await openLogged(50);
    try {
      const wide = new Schema([new Field('id', new Int64(), false), new Field('day', new Utf8(), false), new Field('blob', new Binary(), false)]);
      const t = await lh.createTable('wide', wide, { rangePartitions: ['day'] });
      // 6 partitions of ~12 MiB of incompressible bytes: two fit under the bound at once, three do not
      const parts = 6;
      const perPart = 12;
      const blobs = Array.from({ length: parts * perPart }, () => randomFillSync(new Uint8Array(1 << 20)));
      await t.write(new Table(wide, {
        id: makeVector(BigInt64Array.from(blobs, (_, i) => BigInt(i))),
        day: vectorFromArray(blobs.map((_, i) => `d${i % parts}`), new Utf8()),
        blob: vectorFromArray(blobs, new Binary()),
      }));
      expect(log.count).toBe(parts);
      expect(log.largest).toBeGreaterThan(perPart << 20);
      expect(log.maxBytes).toBeLessThanOrEqual(UPLOAD_BYTES_IN_FLIGHT);
      expect(log.maxRunning).toBe(2);
      expect((await t.toArrow({ columns: ['id'] })).numRows).toBe(parts * perPart);
    } finally {
      await lh.close();
    }
  });

  it('a failed upload among many in flight fails the write: nothing is committed and no file stays', async () => {
    const { lh, log, dir } = await openLogged(10, 25);
    try {
      const t = await lh.createTable('failing', schema, { primaryKeys: ['id'], rangePartitions: ['day'], hashBucketNum: 1 });
      const err = await t.write(rowsIn(60)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LakeSoulError);
      expect((err as Error).message).toMatch(/failed: injected/);
      expect(log.count).toBeGreaterThanOrEqual(25);
      expect(log.running).toBe(0); // every upload in flight ended before the write returned
      expect(await lh.catalog.listPartitions(t.info.tableId)).toEqual([]);
      expect(parquetFiles(join(dir, 'wh'))).toEqual([]);
      expect(log.deletes).toBeGreaterThan(0);
      // the table takes the next write
      await t.write(rowsIn(10));
      expect((await t.toArrow()).numRows).toBe(10);
    } finally {
      await lh.close();
    }
  });

  it('an upload the store never answered (timed out after its attempts) fails the write without deleting: each delete would wait as long again', async () => {
    // the error an S3 store gives when the endpoint takes the connection and sends nothing back
    const timedOut = (key: string) => mapS3Error(Object.assign(new Error('Connection timed out after 30000 ms'), { name: 'TimeoutError' }), `s3://b/${key}`, 'put');
    const { lh, log, dir } = await openLogged(10, 25, timedOut);
    try {
      const t = await lh.createTable('silent', schema, { primaryKeys: ['id'], rangePartitions: ['day'], hashBucketNum: 1 });
      const err = await t.write(rowsIn(60)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LakeSoulError);
      expect((err as Error).message).toMatch(/sent nothing back in time/);
      expect(log.running).toBe(0);
      expect(await lh.catalog.listPartitions(t.info.tableId)).toEqual([]);
      expect(log.deletes, 'no delete sent to a store that did not answer').toBe(0);
      // what it uploaded stays for cleanup(), which takes it as orphans
      expect(parquetFiles(join(dir, 'wh')).length).toBeGreaterThan(0);
      const report = await t.cleanup({ orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, dryRun: false });
      expect(report.deleted).toBeGreaterThan(0);
      expect(parquetFiles(join(dir, 'wh'))).toEqual([]);
    } finally {
      await lh.close();
    }
  });
});
