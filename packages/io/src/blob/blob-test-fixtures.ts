/**
 * Test-only fixtures (not exported from the package): generated PNG images and reference batches.
 */
import pngjs from 'pngjs';
import { Int32, RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import type { GetOptions, ObjectStore } from '../types.js';
import { confinedReaderOf } from '../store/index.js';
import type { ConfinedReader } from '../store/index.js';

/** A PNG of `w` x `h` pixels whose content depends on `seed` (real, decodable PNG bytes). */
export function makePng(seed: number, w: number, h: number): Uint8Array {
  const png = new pngjs.PNG({ width: w, height: h });
  let x = (seed * 2654435761) >>> 0 || 7;
  for (let i = 0; i < w * h; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    png.data[i * 4] = x & 0xff;
    png.data[i * 4 + 1] = (x >>> 8) & 0xff;
    png.data[i * 4 + 2] = ((i % w) * 255) / w;
    png.data[i * 4 + 3] = 255;
  }
  return new Uint8Array(pngjs.PNG.sync.write(png));
}

/** Decodes a PNG, returning its size and first pixel (to check bytes are real images). */
export function decodePng(bytes: Uint8Array): { width: number; height: number; first: number[] } {
  const p = pngjs.PNG.sync.read(Buffer.from(bytes));
  return { width: p.width, height: p.height, first: [...p.data.subarray(0, 4)] };
}

/** Splits a table of columns into record batches of `size` rows. */
export function batchesOf(columns: Record<string, (string | number | null)[]>, size: number, types: Record<string, 'utf8' | 'int32'>): RecordBatch[] {
  const n = Object.values(columns)[0].length;
  const out: RecordBatch[] = [];
  for (let s = 0; s < n; s += size) {
    const vecs: Record<string, Vector> = {};
    for (const [k, v] of Object.entries(columns)) vecs[k] = types[k] === 'int32' ? vectorFromArray(v.slice(s, s + size) as number[], new Int32()) : vectorFromArray(v.slice(s, s + size) as (string | null)[], new Utf8());
    out.push(...new Table(vecs).batches);
  }
  return out;
}

/** Async iterable over batches (like a scan). */
export async function* asAsync<T>(items: T[], onPull?: (i: number) => void): AsyncGenerator<T> {
  let i = 0;
  for (const it of items) {
    onPull?.(i++);
    yield it;
  }
}

/** Instrumented store: records every key read and the bytes of concurrently running gets. */
export function trackingStore(inner: ObjectStore, sizeOf: (key: string) => number | undefined, delayMs = 0) {
  const stats = { keys: [] as string[], gets: 0, heads: 0, inFlightBytes: 0, peakInFlightBytes: 0, inFlight: 0, peakInFlight: 0, bytesReturned: 0, aborted: 0 };
  const tracked = async (path: string, o: GetOptions | undefined, read: () => Promise<Uint8Array>): Promise<Uint8Array> => {
      stats.keys.push(path);
      stats.gets++;
      const expected = o?.range && 'length' in o.range && o.range.length !== undefined ? o.range.length : (sizeOf(path) ?? 0);
      stats.inFlight++;
      stats.inFlightBytes += expected;
      stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
      stats.peakInFlightBytes = Math.max(stats.peakInFlightBytes, stats.inFlightBytes);
      try {
        if (delayMs > 0) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, delayMs);
            o?.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              stats.aborted++;
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
            }, { once: true });
          });
        }
        const b = await read();
        stats.bytesReturned += b.length;
        return b;
      } finally {
        stats.inFlight--;
        stats.inFlightBytes -= expected;
      }
  };
  const store: ObjectStore = {
    description: inner.description,
    get: (path: string, o?: GetOptions) => tracked(path, o, () => inner.get(path, o)),
    put: (p, d, o) => inner.put(p, d, o),
    async head(p, o) {
      stats.keys.push(p);
      stats.heads++;
      return inner.head(p, o);
    },
    delete: (p, o) => inner.delete(p, o),
    list: (p, o) => inner.list(p, o),
  };
  // a local store keeps its confined reads (the resolver refuses local stores without them)
  const confined = confinedReaderOf(inner);
  if (confined) {
    Object.assign(store, {
      getConfined: (path, within, o) => tracked(path, o, () => confined.getConfined(path, within, o)),
      async headConfined(p, within, o) {
        stats.keys.push(p);
        stats.heads++;
        return confined.headConfined(p, within, o);
      },
    } satisfies ConfinedReader);
  }
  return { store, stats };
}
