/**
 * One blob reference, from a row's value to its bytes: parse, resolve inside the allowed roots, pick
 * the store (confined for local files), then HEAD or GET. {@link resolveBlobs} runs every row of a
 * batch through it; a consumer that wants each object's own buffer (no batch-wide Binary column, no
 * copy) calls it per row (see `ScanPlan.blobFetcher`).
 */
import { DataType } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { BlobValueFetcher, ObjectStore } from '../types.js';
import { confinedReaderOf } from '../store/index.js';
import type { ConfinedReader, StoreRegistry } from '../store/index.js';
import { BlobRoots, denied, parseBlobReferenceString } from './blob-reference.js';
import type { BlobReference, BlobRootsOptions, ResolvedBlobReference } from './blob-reference.js';

/** Options of {@link BlobFetcher}: where references may point, and the stores to read them from. */
export interface BlobFetcherOptions extends BlobRootsOptions {
  /** Stores to read from; one store (one client) per bucket/root is reused for every reference. */
  stores: StoreRegistry;
  /** Missing object: 'error' (default) or `null` from {@link BlobFetcher.get}. */
  onMissing?: 'error' | 'null';
}

/**
 * A reference ready to read. `confined` is set for every `file:` reference: the local store reads it
 * only if the file it opens lies inside `within` (see `ConfinedReader`).
 */
export type BlobTarget = ResolvedBlobReference & {
  /** The store holding the object. */
  store: ObjectStore;
  /** The object's key in `store`. */
  key: string;
  /** For `file:` references: the confined reader and the real directories the file must lie in. */
  confined?: { reader: ConfinedReader; within: string[] };
  /** The reference as written in the row (with its range), for messages. */
  original: string;
};

/** Resolves blob references inside their roots and reads them; errors name the reference. */
export class BlobFetcher implements BlobValueFetcher {
  /** Where references may point. */
  readonly roots: BlobRoots;
  private readonly confinements = new Map<string, string[]>();

  /** @param options The roots and the stores (see {@link BlobFetcherOptions}). */
  constructor(private readonly options: BlobFetcherOptions) {
    this.roots = new BlobRoots(options);
  }

  /** See {@link BlobValueFetcher.fetch}. */
  async fetch(value: unknown, signal?: AbortSignal, into?: (size: number) => Uint8Array): Promise<Uint8Array | null> {
    const ref = blobReferenceOf(value);
    return ref === null ? null : this.get(this.target(ref), signal, into);
  }

  /**
   * The readable target of `ref`.
   * @throws LakeSoulError PermissionDenied (`BLOB_OUTSIDE_ROOTS`, `BLOB_STORE_NOT_CONFINED`) before any read.
   */
  target(ref: BlobReference): BlobTarget {
    const original = describeReference(ref);
    const resolved = this.roots.resolve(ref);
    const loc = this.options.stores.resolve(resolved.uri);
    const t: BlobTarget = { ...resolved, store: loc.store, key: loc.key, original };
    if (resolved.parsed.scheme === 'file') t.confined = this.confinementOf(loc.store, loc.baseUri, ref.path);
    return t;
  }

  /**
   * The bytes `t` will hold: its range's length, else the object's size (HEAD) minus its offset.
   * @throws LakeSoulError InvalidArgument (`BLOB_RANGE_OUT_OF_BOUNDS`) when `t`'s range does not lie
   *   inside the object (see `checkBlobRange`), or the store's error.
   */
  async size(t: BlobTarget, signal?: AbortSignal): Promise<number> {
    const size = await this.objectSize(t, signal);
    checkBlobRange(t, size);
    return t.offset !== undefined ? (t.length ?? size - t.offset) : size;
  }

  /**
   * Refuses `t`'s range when it does not lie inside an object of `size` bytes (its HEAD's size): see
   * `checkBlobRange`.
   * @throws LakeSoulError InvalidArgument (`BLOB_RANGE_OUT_OF_BOUNDS`).
   */
  checkRange(t: BlobTarget, size: number): void {
    checkBlobRange(t, size);
  }

  /** The whole object's size (HEAD, confined for local files). */
  private async objectSize(t: BlobTarget, signal?: AbortSignal): Promise<number> {
    try {
      const meta = t.confined ? await t.confined.reader.headConfined(t.key, t.confined.within, { signal }) : await t.store.head(t.key, { signal });
      return meta.size;
    } catch (e) {
      throw this.readError(t, e);
    }
  }

  /**
   * The object's bytes (its own buffer, as the store returned it), or null for a missing object with
   * `onMissing: 'null'`. `into`: see `GetOptions.into`.
   * @throws LakeSoulError NotFound, PermissionDenied (a link out of the roots), InvalidArgument
   *   (`BLOB_RANGE_OUT_OF_BOUNDS`), or the store's error.
   */
  async get(t: BlobTarget, signal?: AbortSignal, into?: (size: number) => Uint8Array): Promise<Uint8Array | null> {
    let bytes: Uint8Array;
    try {
      const range = t.offset !== undefined ? { offset: t.offset, length: t.length } : undefined;
      bytes = t.confined ? await t.confined.reader.getConfined(t.key, t.confined.within, { range, signal, into }) : await t.store.get(t.key, { range, signal, into });
    } catch (e) {
      const le = this.readError(t, e);
      if (le.kind === 'NotFound' && this.options.onMissing === 'null' && !signal?.aborted) return null;
      throw le;
    }
    if (t.length !== undefined && bytes.length !== t.length) {
      throw new LakeSoulError('InvalidArgument', `byte range [${t.offset}, ${t.offset! + t.length}) of ${t.uri} lies beyond the end of the object (got ${bytes.length} of ${t.length} bytes)`, {
        code: 'BLOB_RANGE_OUT_OF_BOUNDS',
        context: { file: t.uri, reference: t.original },
      });
    }
    // stores clamp a range to the object: no byte can mean an offset at or past its end (a HEAD, only
    // for such a read, tells it from an empty range inside the object)
    if (bytes.length === 0 && t.offset !== undefined && t.offset > 0) {
      let size: number;
      try {
        size = await this.objectSize(t, signal);
      } catch (e) {
        const le = asBlobError(e);
        if (le.kind === 'NotFound' && this.options.onMissing === 'null' && !signal?.aborted) return null;
        throw le;
      }
      checkBlobRange(t, size);
    }
    return bytes;
  }

  /** A store error as a LakeSoulError; a confined read refused for a link out becomes `BLOB_OUTSIDE_ROOTS`. */
  private readError(t: BlobTarget, e: unknown): LakeSoulError {
    const le = asBlobError(e);
    if (!LakeSoulError.hasCode(le, 'PATH_OUTSIDE_ROOT')) return le;
    const real = String(le.context.realPath ?? '');
    const allowed = this.roots.allowed.join(', ');
    return denied(t.original, real ? `it resolves (through a symbolic link) to ${real}, outside the allowed roots (${allowed})` : `the file opened could not be placed inside the allowed roots (${allowed})`, real ? { realPath: real } : {});
  }

  /** Every local read goes through the store's confined read, whichever store the registry gives. */
  private confinementOf(store: ObjectStore, baseUri: string, reference: string): { reader: ConfinedReader; within: string[] } {
    const reader = confinedReaderOf(store);
    if (!reader) {
      throw new LakeSoulError(
        'PermissionDenied',
        `blob reference '${reference}' refused: the store for ${baseUri} (${store.description}) cannot confine reads to the allowed roots (it offers no getConfined/headConfined); register a LocalStore there, or make the wrapper forward those methods`,
        { code: 'BLOB_STORE_NOT_CONFINED', context: { reference, file: baseUri } },
      );
    }
    let within = this.confinements.get(baseUri);
    if (!within) this.confinements.set(baseUri, (within = this.roots.localConfinement(baseUri)));
    return { reader, within };
  }
}

/**
 * Refuses a byte range of a reference that does not lie inside its object of `size` bytes: an offset
 * past the end (`{ offset: 10, length: 0 }` of a 4-byte object), a length reaching past it, or an
 * open-ended range (no length) starting at the end or beyond (`{ offset: 4 }` of 4 bytes names no
 * byte of it: an HTTP server answers 416). An open range from offset 0 is the whole object, even an
 * empty one; an empty range (`length` 0) inside the object or at its end is allowed.
 * @throws LakeSoulError InvalidArgument (code `BLOB_RANGE_OUT_OF_BOUNDS`) naming the reference and the
 *   object's URI and size (`context.file`, `context.reference`).
 */
export function checkBlobRange(t: { offset?: number; length?: number; uri: string; original?: string }, size: number): void {
  const offset = t.offset;
  if (offset === undefined) return;
  const past = t.length !== undefined ? offset + t.length > size : offset > 0 && offset >= size;
  if (!past) return;
  const range = t.length !== undefined ? `[${offset}, ${offset + t.length})` : `[${offset}, end)`;
  const ref = t.original !== undefined ? `blob reference '${t.original}': ` : '';
  throw new LakeSoulError('InvalidArgument', `${ref}byte range ${range} of ${t.uri} lies beyond the end of the object (it holds ${size} bytes)`, {
    code: 'BLOB_RANGE_OUT_OF_BOUNDS',
    context: { file: t.uri, ...(t.original !== undefined ? { reference: t.original } : {}) },
  });
}

/** `path`, or `path [offset, +length)` for a ranged reference. */
export function describeReference(ref: BlobReference): string {
  return ref.offset !== undefined ? `${ref.path} [${ref.offset}, +${ref.length ?? 'end'})` : ref.path;
}

/** Any error as a LakeSoulError (unexpected ones as `Internal`, keeping the cause). */
export function asBlobError(e: unknown): LakeSoulError {
  if (e instanceof LakeSoulError) return e;
  return new LakeSoulError('Internal', `unexpected error while reading a blob: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/**
 * A reference from a cell's value: a string (URI or relative path, optionally `#bytes=START-END`), or
 * a `{ path, offset, length }` object (a struct row); null for a null value or path.
 * @throws LakeSoulError InvalidArgument (`BLOB_BAD_REFERENCE`) for a negative or unsafe offset/length.
 */
export function blobReferenceOf(value: unknown): BlobReference | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return parseBlobReferenceString(value);
  const v = value as { path?: unknown; offset?: unknown; length?: unknown };
  if (typeof v.path !== 'string') return null;
  const ref: BlobReference = { path: v.path };
  if (v.offset !== null && v.offset !== undefined) ref.offset = toSafeInt(v.offset, 'offset', v.path);
  if (v.length !== null && v.length !== undefined) {
    ref.offset ??= 0;
    ref.length = toSafeInt(v.length, 'length', v.path);
  }
  return ref;
}

/** Returns a reader of row `i`'s reference (null for a null value) of a string or struct column. */
export function blobReferenceReader(vec: Vector): (i: number) => BlobReference | null {
  const t = vec.type as DataType;
  if (DataType.isStruct(t)) {
    const path = vec.getChild('path')!;
    const off = vec.getChild('offset');
    const len = vec.getChild('length');
    return (i) => (vec.isValid(i) ? blobReferenceOf({ path: path.get(i), offset: off?.get(i), length: len?.get(i) }) : null);
  }
  return (i) => blobReferenceOf(vec.get(i));
}

/** A non-negative safe integer from a number or bigint cell, else `BLOB_BAD_REFERENCE`. */
export function toSafeInt(v: unknown, what: string, path: string): number {
  const n = typeof v === 'bigint' ? Number(v) : (v as number);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new LakeSoulError('InvalidArgument', `invalid ${what} ${String(v)} in blob reference to '${path}'`, { code: 'BLOB_BAD_REFERENCE' });
  }
  return n;
}
