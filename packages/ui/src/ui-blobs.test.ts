/**
 * The UI's blob reads with bounded memory: a rows page over blobs past the thumbnail limit reads none
 * of them (only their size and first bytes), the thumbnails of a page are made within the byte budget,
 * and a download is read in chunks as its consumer takes them (the API's body, and the HTTP answer:
 * its first bytes arrive while the rest of the object is still unread), within a process-wide budget.
 * Bytes are counted at the store (the local store's reads, patched on the instance), not timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, linkSync, mkdtempSync, openSync, writeSync, ftruncateSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binary, Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { BlobFetcher, Lakehouse, StoreRegistry, joinUri, toFileUri, type LakeSoulTable, type ObjectStore } from '@lakesoul-ts/io';
import { UiApi, type BlobDownload } from './ui-api.js';
import { startUi } from './ui-server.js';
import { drawPng } from './ui-fixtures.js';
import { MAX_DECODE_BYTES, SNIFF_HEAD_BYTES } from './ui-images.js';
import { ByteBudget, REMOTE_VERIFY_EVERY, blobChunks, openBlob, type OpenedBlob } from './ui-blobs.js';

const MiB = 2 ** 20;
let lake: Lakehouse;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-ui-blobs-'));
  lake = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: toFileUri(join(dir, 'warehouse')) });
});

afterAll(async () => {
  await lake?.close();
});

type Reader = (...a: unknown[]) => Promise<Uint8Array>;

/**
 * Counts the bytes the store of `t`'s files returns for keys ending in one of `suffixes` (whole and
 * ranged reads, confined or not), and lets a test hold a read back (`gate`). Undo with `restore`.
 */
function countReads(t: LakeSoulTable, suffixes: string[]) {
  const { store } = lake.stores.resolve(joinUri(t.info.path, 'x'));
  const patched = store as unknown as Record<'get' | 'getConfined', Reader>;
  const originals = { get: patched.get, getConfined: patched.getConfined };
  const counter = {
    bytes: 0,
    reads: 0,
    /** When set, a read whose range starts at or after this offset waits until the gate opens. */
    gateFrom: null as number | null,
    /** Opens the gate (until the next `closeGate`). */
    open: () => {},
    closeGate: () => { opened = new Promise<void>((res) => { counter.open = res; }); },
    restore: () => Object.assign(patched, originals),
  };
  let opened: Promise<void> = Promise.resolve();
  counter.closeGate();
  for (const m of ['get', 'getConfined'] as const) {
    patched[m] = async function (this: ObjectStore, ...a: unknown[]) {
      if (!suffixes.some((s) => String(a[0]).endsWith(s))) return originals[m].apply(this, a);
      const options = (m === 'get' ? a[1] : a[2]) as { range?: { offset?: number } } | undefined;
      if (counter.gateFrom !== null && (options?.range?.offset ?? 0) >= counter.gateFrom) await opened;
      const bytes = await originals[m].apply(this, a);
      counter.bytes += bytes.length;
      counter.reads++;
      return bytes;
    };
  }
  return counter;
}

/** Writes a file of `size` bytes holding `head` first, the rest a hole (sparse: no disk used). */
function sparseFile(path: string, head: Uint8Array, size: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** `n` bytes of a pattern that differs at every offset a chunk boundary could shift. */
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 11)) % 251;
  return b;
}

async function blobTable(name: string): Promise<LakeSoulTable> {
  const schema = new Schema([new Field('id', new Int64(), false), new Field('path', new Utf8(), true)]);
  return lake.createTable(name, schema, { primaryKeys: ['id'], hashBucketNum: 1, blobColumns: ['path'] });
}

async function writeRows(t: LakeSoulTable, paths: string[]): Promise<void> {
  await t.write(new Table({ id: vectorFromArray(paths.map((_, i) => BigInt(i)), new Int64()), path: vectorFromArray(paths, new Utf8()) }));
}

const localPath = (t: LakeSoulTable, file: string) => fileURLToPath(joinUri(t.info.path, file));

describe('thumbnails', () => {
  it('a rows page over blobs past the thumbnail limit reads only their size and first bytes, and answers as before', async () => {
    const big = ['big0.png', 'big1.png', 'big2.png', 'big3.png', 'big4.png'];
    const paths = [...big, 'small.png', 'doc.pdf'];
    const t = await blobTable('bigblobs');
    const png = new Uint8Array(await drawPng(0, 3, 40));
    const bigSize = MAX_DECODE_BYTES + 4 * MiB;
    // five distinct references to one sparse 36 MiB "PNG" (hard links), a small PNG, a 3 MiB PDF
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'small.png'));
    await store.put(key, png);
    sparseFile(localPath(t, 'big0.png'), png.subarray(0, 64), bigSize);
    for (const b of big.slice(1)) linkSync(localPath(t, 'big0.png'), localPath(t, b));
    sparseFile(localPath(t, 'doc.pdf'), new TextEncoder().encode('%PDF-1.7\n'), 3 * MiB);
    await writeRows(t, paths);
    const api = new UiApi(lake);
    const counted = countReads(t, paths);
    try {
      const page = await api.rows({ namespace: 'default', table: 'bigblobs' }, 0, 25);
      const note = `larger than ${MAX_DECODE_BYTES} bytes: no thumbnail`;
      expect(page.previews.path!.slice(0, 5)).toEqual(big.map(() => ({ kind: 'file', type: 'image/png', size: bigSize, note })));
      expect(page.previews.path![5]).toMatchObject({ kind: 'image', type: 'image/png', size: png.length, width: 40, height: 40 });
      expect(page.previews.path![6]).toEqual({ kind: 'file', type: 'application/pdf', size: 3 * MiB });
      // the small image whole, and the first bytes of each other blob: none of the 36 MiB objects
      expect(counted.bytes).toBe(png.length + 6 * SNIFF_HEAD_BYTES);
      // the only blob held for decoding was the small one
      expect(api.memory().thumbnails).toMatchObject({ held: 0, peak: png.length, waiting: 0 });
    } finally {
      counted.restore();
    }
  });

  it('the thumbnails of one page are made within the byte budget (here: one image at a time)', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `img${i}.png`);
    const t = await blobTable('budgeted');
    const pngs = await Promise.all(paths.map((_, i) => drawPng(i % 3, i + 1, 40 + i)));
    for (const [i, p] of paths.entries()) {
      const { store, key } = lake.stores.resolve(joinUri(t.info.path, p));
      await store.put(key, new Uint8Array(pngs[i]!));
    }
    await writeRows(t, paths);
    const largest = Math.max(...pngs.map((p) => p.length));
    const api = new UiApi(lake, { thumbnailBytes: largest });
    const page = await api.rows({ namespace: 'default', table: 'budgeted' }, 0, 25);
    expect(page.previews.path!.map((p) => p.kind)).toEqual(paths.map(() => 'image'));
    expect(page.previews.path!.map((p) => (p.kind === 'image' ? p.width : 0))).toEqual(paths.map((_, i) => 40 + i));
    const { held, peak, limit } = api.memory().thumbnails;
    expect(held).toBe(0);
    expect(peak).toBeLessThanOrEqual(limit);
    expect(peak).toBeGreaterThan(0);
  });

  it('refuses a misspelt limit', () => {
    expect(() => new UiApi(lake, { thumbnailByte: 1 } as never)).toThrow(/unknown option 'thumbnailByte' \(did you mean 'thumbnailBytes'\?\)/);
  });
});

describe('downloads', () => {
  let t: LakeSoulTable;
  const size = 6 * MiB + 12_345;
  const bytes = pattern(size);
  const view = { namespace: 'default', table: 'downloads' };

  beforeAll(async () => {
    t = await blobTable('downloads');
    const { store, key } = lake.stores.resolve(joinUri(t.info.path, 'stream.bin'));
    await store.put(key, bytes);
    await writeRows(t, ['stream.bin']);
  });

  const collect = async (body: AsyncIterable<Uint8Array>) => {
    const parts: Uint8Array[] = [];
    for await (const c of body) parts.push(c);
    return Buffer.concat(parts);
  };

  it('the body is read one chunk at a time, as it is consumed, within the process-wide budget', async () => {
    const api = new UiApi(lake, { downloadBytes: MiB, downloadChunkBytes: MiB });
    const counted = countReads(t, ['stream.bin']);
    try {
      const a: BlobDownload = await api.blobStream(view, 0, 'path', 'original');
      expect(a).toMatchObject({ type: 'application/octet-stream', size, fileName: 'stream.bin' });
      // opened: its size and first bytes only
      expect(counted.bytes).toBe(SNIFF_HEAD_BYTES);
      const ia = a.body[Symbol.asyncIterator]();
      const first = await ia.next();
      expect(first.value).toHaveLength(MiB);
      expect(counted.bytes).toBe(SNIFF_HEAD_BYTES + MiB);
      expect(api.memory().downloads).toMatchObject({ held: MiB, waiting: 0 });
      // a second download waits for the budget while the first one's chunk is held
      const b = await api.blobStream(view, 0, 'path', 'original');
      const ib = b.body[Symbol.asyncIterator]();
      const bFirst = ib.next();
      expect(api.memory().downloads).toMatchObject({ held: MiB, waiting: 1 });
      expect(counted.bytes).toBe(2 * SNIFF_HEAD_BYTES + MiB);
      // asking for the first download's next chunk gives its chunk back: the second one goes first (in order)
      const aSecond = ia.next();
      expect((await bFirst).value).toHaveLength(MiB);
      await ib.return!(undefined);
      const rest: Uint8Array[] = [first.value as Uint8Array];
      for (let r = await aSecond; !r.done; r = await ia.next()) rest.push(r.value);
      expect(Buffer.compare(Buffer.concat(rest), Buffer.from(bytes))).toBe(0);
      expect(api.memory().downloads).toMatchObject({ held: 0, peak: MiB, waiting: 0 });
    } finally {
      counted.restore();
    }
  });

  it('a binary column value and the full view of a browser image come out whole and equal', async () => {
    const api = new UiApi(lake, { downloadChunkBytes: 100 });
    const png = new Uint8Array(await drawPng(1, 2, 30));
    const pt = await blobTable('download_png');
    const { store, key } = lake.stores.resolve(joinUri(pt.info.path, 'p.png'));
    await store.put(key, png);
    await writeRows(pt, ['p.png']);
    const full = await api.blobStream({ namespace: 'default', table: 'download_png' }, 0, 'path', 'full');
    expect(full).toMatchObject({ type: 'image/png', size: png.length });
    expect(Buffer.compare(await collect(full.body), Buffer.from(png))).toBe(0);
    await expect(api.blobStream(view, 0, 'path', 'full')).rejects.toMatchObject({ kind: 'Unsupported', code: 'UI_NOT_IMAGE' });
    const schema = new Schema([new Field('id', new Int64(), false), new Field('bytes', new Binary(), true)]);
    const inline = await lake.createTable('download_inline', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    const value = pattern(1_000);
    await inline.write(new Table({ id: vectorFromArray([1n], new Int64()), bytes: vectorFromArray([value], new Binary()) }));
    const got = await api.blobStream({ namespace: 'default', table: 'download_inline' }, 0, 'bytes', 'original');
    expect(got).toMatchObject({ size: 1_000, fileName: 'bytes-1' });
    expect(Buffer.compare(await collect(got.body), Buffer.from(value))).toBe(0);
    await expect(api.blobStream({ namespace: 'default', table: 'download_png' }, 1, 'path', 'original')).rejects.toMatchObject({ kind: 'NotFound', code: 'UI_NO_ROW' });
  });

  it('over HTTP, the first bytes arrive while the rest of the object is unread; a client that leaves gives its chunk back', async () => {
    const ui = await startUi({ lakehouse: lake, port: 0, limits: { downloadBytes: MiB, downloadChunkBytes: MiB } });
    const counted = countReads(t, ['stream.bin']);
    const path = '/api/blob?table=downloads&row=0&column=path';
    try {
      counted.gateFrom = MiB;
      const received = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; readWhenFirstChunkArrived: number }>((res, rej) => {
        const r = request({ host: '127.0.0.1', port: ui.port, path }, (resp) => {
          const parts: Buffer[] = [];
          let got = 0;
          let readWhenFirstChunkArrived = -1;
          resp.on('data', (d: Buffer) => {
            parts.push(d);
            got += d.length;
            if (readWhenFirstChunkArrived < 0 && got >= MiB) {
              // the server's read of the second chunk is held back: the client has the first one anyway
              readWhenFirstChunkArrived = counted.bytes;
              counted.open();
            }
          });
          resp.on('end', () => res({ status: resp.statusCode!, headers: resp.headers, body: Buffer.concat(parts), readWhenFirstChunkArrived }));
        });
        r.on('error', rej);
        r.end();
      });
      expect(received.status).toBe(200);
      expect(received.headers).toMatchObject({ 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-blob-type': 'application/octet-stream' });
      expect(received.readWhenFirstChunkArrived).toBe(SNIFF_HEAD_BYTES + MiB);
      expect(Buffer.compare(received.body, Buffer.from(bytes))).toBe(0);

      // HEAD: the headers, from the object's size and first bytes
      counted.gateFrom = null;
      counted.bytes = 0;
      const head = await new Promise<{ status: number; length: unknown }>((res, rej) => {
        const r = request({ host: '127.0.0.1', port: ui.port, path, method: 'HEAD' }, (resp) => { resp.resume(); resp.on('end', () => res({ status: resp.statusCode!, length: resp.headers['content-length'] })); });
        r.on('error', rej);
        r.end();
      });
      expect(head).toEqual({ status: 200, length: String(size) });
      expect(counted.bytes).toBe(SNIFF_HEAD_BYTES);

      // a client that leaves after the first chunk: the budget (one chunk in all) is free for the next
      // download (were the chunk held for ever, that download would never end)
      counted.closeGate();
      counted.gateFrom = MiB;
      await new Promise<void>((res, rej) => {
        const r = request({ host: '127.0.0.1', port: ui.port, path }, (resp) => {
          let got = 0;
          resp.on('data', (d: Buffer) => {
            got += d.length;
            if (got >= MiB) { r.destroy(); res(); }
          });
        });
        r.on('error', (e) => { if (!r.destroyed) rej(e); });
        r.end();
      });
      counted.open();
      counted.gateFrom = null;
      const again = await fetch(`${ui.url}${path.slice(1)}`);
      expect(Buffer.compare(Buffer.from(await again.arrayBuffer()), Buffer.from(bytes))).toBe(0);
    } finally {
      counted.restore();
      await ui.close();
    }
  }, 30_000);
});

describe('a blob that changes while it is downloaded', () => {
  const KiB = 1024;
  const size = 512 * KiB;
  const chunk = 64 * KiB;
  let t: LakeSoulTable;

  beforeAll(async () => {
    t = await blobTable('changing');
    await writeRows(t, ['same.bin', 'steady.bin']);
  });

  /**
   * Writes `file` as `size` bytes of `byte`, dated in the past: a file system stamps a write with a
   * coarse clock (a few ms), so an overwrite right after the first write could keep its time.
   */
  const writeOld = (file: string, byte: number) => {
    writeFileSync(localPath(t, file), Buffer.alloc(size, byte));
    utimesSync(localPath(t, file), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
  };

  /**
   * GETs row `row`'s blob over HTTP; the server's reads past the first chunk wait until the client
   * has the first chunk and `atFirstChunk` ran. Resolves with what the client got, however it ended.
   */
  async function download(row: number, file: string, atFirstChunk: () => void) {
    const ui = await startUi({ lakehouse: lake, port: 0, limits: { downloadBytes: 2 * chunk, downloadChunkBytes: chunk } });
    const counted = countReads(t, [file]);
    counted.gateFrom = chunk;
    try {
      return await new Promise<{ status: number; length: unknown; body: Buffer; complete: boolean }>((res, rej) => {
        const r = request({ host: '127.0.0.1', port: ui.port, path: `/api/blob?table=changing&row=${row}&column=path` }, (resp) => {
          const parts: Buffer[] = [];
          let got = 0;
          let changed = false;
          const done = (complete: boolean) => res({ status: resp.statusCode!, length: resp.headers['content-length'], body: Buffer.concat(parts), complete });
          resp.on('data', (d: Buffer) => {
            parts.push(d);
            got += d.length;
            if (!changed && got >= chunk) {
              changed = true;
              atFirstChunk();
              counted.open();
            }
          });
          resp.on('end', () => done(resp.complete));
          resp.on('aborted', () => done(false));
          resp.on('error', () => done(false));
        });
        r.on('error', rej);
        r.end();
      });
    } finally {
      counted.restore();
      await ui.close();
    }
  }

  it('an object overwritten (same size) after the first chunk was sent is never sent complete: the connection ends short', async () => {
    writeOld('same.bin', 0x41);
    const got = await download(0, 'same.bin', () => writeFileSync(localPath(t, 'same.bin'), Buffer.alloc(size, 0x5a)));
    expect(got.status).toBe(200);
    expect(got.length).toBe(String(size));
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeLessThan(size);
    // what did arrive is of the version the download started with
    expect(got.body.every((b) => b === 0x41)).toBe(true);
  });

  it('an object nothing changes is sent whole and byte-identical', async () => {
    const bytes = Buffer.from(pattern(size));
    writeFileSync(localPath(t, 'steady.bin'), bytes);
    const got = await download(1, 'steady.bin', () => {});
    expect(got).toMatchObject({ status: 200, length: String(size), complete: true });
    expect(Buffer.compare(got.body, bytes)).toBe(0);
  });

  it('through the API: a local object is checked before each chunk, so the chunk read after the change fails', async () => {
    writeOld('same.bin', 0x41);
    const api = new UiApi(lake, { downloadChunkBytes: chunk });
    const d = await api.blobStream({ namespace: 'default', table: 'changing' }, 0, 'path', 'original');
    const it = d.body[Symbol.asyncIterator]();
    expect(Buffer.from((await it.next()).value as Uint8Array).every((b) => b === 0x41)).toBe(true);
    writeFileSync(localPath(t, 'same.bin'), Buffer.alloc(size, 0x5a));
    await expect(it.next()).rejects.toMatchObject({ kind: 'Io', code: 'UI_BLOB_CHANGED' });
    expect(await it.next()).toMatchObject({ done: true });
    expect(api.memory().downloads.held).toBe(0);
  });
});

describe('a blob on S3 that changes while it is downloaded', () => {
  const endpoint = () => {
    const e = process.env.LAKESOUL_TEST_S3_ENDPOINT;
    if (!e) throw new Error('LAKESOUL_TEST_S3_ENDPOINT is not set: run via node scripts/test-env.mjs -- vitest run ..., which starts the moto S3 server');
    return e;
  };
  const bucket = `ui-blobs-${Date.now().toString(36)}-${process.pid}`;
  let stores: StoreRegistry;

  beforeAll(async () => {
    // moto creates a bucket on a plain PUT
    const res = await fetch(`${endpoint()}/${bucket}`, { method: 'PUT' });
    if (!res.ok) throw new Error(`cannot create bucket ${bucket}: HTTP ${res.status}`);
    stores = new StoreRegistry({ env: { AWS_ENDPOINT: endpoint(), AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' } });
  });

  it('the ranged reads of a download are checked against the ETag it opened: a PUT between them fails the last chunk', async () => {
    const uri = `s3://${bucket}/t/same.bin`;
    const { store, key } = stores.resolve(uri);
    const fetcher = new BlobFetcher({ stores, tablePath: `s3://${bucket}/t`, onMissing: 'null' });
    const chunk = 1000;
    const collect = async (blob: OpenedBlob, between: () => Promise<void>) => {
      const parts: Uint8Array[] = [];
      const it = blobChunks(blob, new ByteBudget(chunk), chunk);
      parts.push((await it.next()).value as Uint8Array);
      await between();
      for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
      return Buffer.concat(parts);
    };

    await store.put(key, new Uint8Array(3 * chunk).fill(0x41));
    const steady = await openBlob(fetcher, uri);
    expect(steady).toMatchObject({ size: 3 * chunk, verifyEvery: REMOTE_VERIFY_EVERY });
    expect(await collect(steady!, async () => {})).toEqual(Buffer.alloc(3 * chunk, 0x41));

    const changing = await openBlob(fetcher, uri);
    await expect(collect(changing!, () => store.put(key, new Uint8Array(3 * chunk).fill(0x5a)))).rejects.toMatchObject({ kind: 'Io', code: 'UI_BLOB_CHANGED' });
  });
});

describe('openBlob ranges', () => {
  it('refuses a range starting or reaching past the end of its object (BLOB_RANGE_OUT_OF_BOUNDS), as the table read does', async () => {
    const stores = new StoreRegistry();
    await stores.resolve('memory://ui-ranges/t/a.bin').store.put('t/a.bin', new TextEncoder().encode('ABCD'));
    const fetcher = new BlobFetcher({ stores, tablePath: 'memory://ui-ranges/t', onMissing: 'null' });
    // these opened an empty blob
    for (const v of [{ path: 'a.bin', offset: 100 }, { path: 'a.bin', offset: 10, length: 0 }, { path: 'a.bin', offset: 4 }, { path: 'a.bin', offset: 3, length: 5 }]) {
      const e = await openBlob(fetcher, v).then(() => null, (x: { code?: string; kind?: string }) => x);
      expect(e?.kind, JSON.stringify(v)).toBe('InvalidArgument');
      expect(e?.code, JSON.stringify(v)).toBe('BLOB_RANGE_OUT_OF_BOUNDS');
    }
    const inside = await openBlob(fetcher, { path: 'a.bin', offset: 1, length: 2 });
    expect(inside?.size).toBe(2);
    expect(Buffer.from(await inside!.read(0, 2)).toString()).toBe('BC');
    const tail = await openBlob(fetcher, { path: 'a.bin', offset: 3 });
    expect(tail?.size).toBe(1);
    expect((await openBlob(fetcher, { path: 'a.bin', offset: 4, length: 0 }))?.size).toBe(0);
  });
});

describe('blobChunks', () => {
  /** A remote-like blob of `chunks` one-byte chunks (chunk i holds i) whose version check fails while `failing()` says so. */
  function remoteBlob(chunks: number, failing: () => boolean) {
    const calls = { verify: 0, reads: 0 };
    const blob: OpenedBlob = {
      size: chunks,
      verifyEvery: REMOTE_VERIFY_EVERY,
      read: async (offset, length) => { calls.reads++; return new Uint8Array(length).fill(offset); },
      verify: async () => {
        calls.verify++;
        if (failing()) throw Object.assign(new Error('changed'), { code: 'UI_BLOB_CHANGED' });
      },
    };
    return { blob, calls };
  }

  it('checks a remote object every REMOTE_VERIFY_EVERY chunks and before its last one, and holds the last chunk back when it changed', async () => {
    const n = 2 * REMOTE_VERIFY_EVERY + 3;
    const steady = remoteBlob(n, () => false);
    const all: number[] = [];
    for await (const c of blobChunks(steady.blob, new ByteBudget(1), 1)) all.push(...c);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(steady.calls.verify).toBe(3);

    // one ranged read is one version: a single-chunk object needs no check
    const single = remoteBlob(1, () => true);
    const one: number[] = [];
    for await (const c of blobChunks(single.blob, new ByteBudget(1), 1)) one.push(...c);
    expect(one).toEqual([0]);
    expect(single.calls.verify).toBe(0);

    // changed after the last mid-way check: every chunk but the last comes out, then the iteration fails
    let changed = false;
    const late = remoteBlob(3, () => changed);
    const budget = new ByteBudget(1);
    const it = blobChunks(late.blob, budget, 1);
    expect((await it.next()).value).toEqual(new Uint8Array([0]));
    changed = true;
    expect((await it.next()).value).toEqual(new Uint8Array([1]));
    await expect(it.next()).rejects.toMatchObject({ code: 'UI_BLOB_CHANGED' });
    expect(late.calls).toEqual({ verify: 1, reads: 3 });
    expect(budget.state.held).toBe(0);
  });
});

describe('ByteBudget', () => {
  it('serves requests in order, grants an oversized one alone, and lets a waiter leave on abort', async () => {
    const budget = new ByteBudget(10);
    const r1 = await budget.acquire(6);
    const order: string[] = [];
    const p2 = budget.acquire(6).then((r) => { order.push('six'); return r; });
    // a small request behind a waiting one waits its turn (no starvation of the larger one)
    const p3 = budget.acquire(1).then((r) => { order.push('one'); return r; });
    const leave = new AbortController();
    const p4 = budget.acquire(1, leave.signal);
    expect(budget.state).toMatchObject({ held: 6, waiting: 3 });
    leave.abort();
    await expect(p4).rejects.toMatchObject({ kind: 'Aborted' });
    r1();
    r1();
    const [r2, r3] = await Promise.all([p2, p3]);
    expect(order).toEqual(['six', 'one']);
    expect(budget.state).toMatchObject({ held: 7, waiting: 0 });
    r2();
    r3();
    const huge = await budget.acquire(50);
    expect(budget.state).toMatchObject({ held: 50, peak: 50 });
    huge();
    expect(budget.state.held).toBe(0);
    expect(() => new ByteBudget(0)).toThrow(/positive integer/);
  });
});
