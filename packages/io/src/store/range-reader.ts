/**
 * Ranged reads of several byte ranges of one object, coalescing nearby ranges into fewer requests.
 */
import { LakeSoulError, throwIfAborted } from '@lakesoul-ts/meta';
import type { ByteRange, ObjectStore } from '../types.js';
import { validateRange } from './store-errors.js';
import { rangeReaderOf } from './local-store.js';

/** Options of {@link readRanges}. */
export interface ReadRangesOptions {
  /** Ranges separated by at most this many bytes are fetched in one request (default 1 MiB). */
  coalesceGap?: number;
  /** Upper bound on the size of one coalesced request (default 64 MiB); single larger ranges stay whole. */
  maxRequestSize?: number;
  signal?: AbortSignal;
}

/**
 * Reads `ranges` of the object at `path`, returning one byte array per range in the order given.
 * `{offset, length}` ranges are sorted and merged when the gap between them is at most `coalesceGap`
 * (overlaps included); the merged requests run in parallel. Open-ended and suffix ranges are fetched
 * on their own. Bytes past the end of the object are clamped like {@link ObjectStore.get}.
 */
export async function readRanges(store: ObjectStore, path: string, ranges: ByteRange[], options: ReadRangesOptions = {}): Promise<Uint8Array[]> {
  const gap = options.coalesceGap ?? 1024 * 1024;
  const maxReq = options.maxRequestSize ?? 64 * 1024 * 1024;
  if (!(gap >= 0)) throw new LakeSoulError('InvalidArgument', `coalesceGap must be >= 0 (got ${gap})`);
  throwIfAborted(options.signal, `read ranges of ${store.description}${path}`);
  for (const r of ranges) validateRange(r, `${store.description}${path}`);
  const out: Uint8Array[] = new Array(ranges.length);
  const bounded: { i: number; start: number; end: number }[] = [];
  const single: Promise<void>[] = [];
  ranges.forEach((r, i) => {
    if ('suffix' in r || r.length === undefined) {
      single.push(store.get(path, { range: r, signal: options.signal }).then((b) => void (out[i] = b)));
    } else {
      bounded.push({ i, start: r.offset, end: r.offset + r.length });
    }
  });
  bounded.sort((a, b) => a.start - b.start || a.end - b.end);
  const groups: { start: number; end: number; members: typeof bounded }[] = [];
  for (const r of bounded) {
    const g = groups[groups.length - 1];
    if (g && r.start <= g.end + gap && Math.max(g.end, r.end) - g.start <= maxReq) {
      g.end = Math.max(g.end, r.end);
      g.members.push(r);
    } else {
      groups.push({ start: r.start, end: r.end, members: [r] });
    }
  }
  const place = (g: (typeof groups)[number], bytes: Uint8Array) => {
    for (const m of g.members) {
      const s = Math.min(m.start - g.start, bytes.length);
      const e = Math.min(m.end - g.start, bytes.length);
      out[m.i] = bytes.subarray(s, e);
    }
  };
  const nonEmpty = groups.filter((g) => g.end > g.start);
  for (const g of groups) if (g.end === g.start) for (const m of g.members) out[m.i] = new Uint8Array(0);
  // A store that reads many ranges in one call (a local file opened once) gets them all at once.
  const many = nonEmpty.length > 1 ? rangeReaderOf(store) : undefined;
  const fetches = many
    ? [many.getRanges(path, nonEmpty.map((g) => ({ offset: g.start, length: g.end - g.start })), { signal: options.signal }).then((parts) => nonEmpty.forEach((g, k) => place(g, parts[k])))]
    : nonEmpty.map(async (g) => place(g, await store.get(path, { range: { offset: g.start, length: g.end - g.start }, signal: options.signal })));
  await Promise.all([...single, ...fetches]);
  return out;
}
