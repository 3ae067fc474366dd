/**
 * In-memory backend of {@link ObjectStore}, for tests and ephemeral tables.
 */
import type { GetOptions, ObjectMeta, ObjectStore, PutOptions, StoreCallOptions } from '../types.js';
import { throwIfAborted } from '@lakesoul-ts/meta';
import { checkKey, checkPrefix, notFoundError, resolveRange, validateRange } from './store-errors.js';

/** Options of the {@link MemoryStore} constructor. */
export interface MemoryStoreOptions {
  /** Name used in descriptions and URIs (`memory://<name>/`); default `default`. */
  name?: string;
}

interface Entry {
  data: Uint8Array;
  lastModified: Date;
  etag: string;
}

/**
 * Objects held in a Map. `put` copies its input and swaps the entry in one step (atomic); `get`
 * returns a copy, so callers cannot change stored bytes.
 */
export class MemoryStore implements ObjectStore {
  readonly description: string;
  private readonly objects = new Map<string, Entry>();
  private counter = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.description = `memory://${options.name ?? 'default'}/`;
  }

  /** Number of stored objects. */
  get size(): number {
    return this.objects.size;
  }

  async get(path: string, options: GetOptions = {}): Promise<Uint8Array> {
    checkKey(path, this.description);
    const uri = this.description + path;
    if (options.range) validateRange(options.range, uri);
    throwIfAborted(options.signal, `get ${uri}`);
    const e = this.objects.get(path);
    if (!e) throw notFoundError(uri);
    const [start, end] = options.range ? resolveRange(options.range, e.data.length, uri) : [0, e.data.length];
    return e.data.slice(start, end);
  }

  async put(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    checkKey(path, this.description);
    const uri = this.description + path;
    throwIfAborted(options.signal, `put ${uri}`);
    let bytes: Uint8Array;
    if (data instanceof Uint8Array) {
      bytes = new Uint8Array(data); // a copy: a Node Buffer's slice() is a view of the caller's memory
    } else {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const c of data) {
        throwIfAborted(options.signal, `put ${uri}`);
        chunks.push(new Uint8Array(c));
        total += c.length;
      }
      bytes = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        bytes.set(c, off);
        off += c.length;
      }
    }
    throwIfAborted(options.signal, `put ${uri}`);
    this.objects.set(path, { data: bytes, lastModified: new Date(), etag: `m${++this.counter}` });
  }

  async head(path: string, options: StoreCallOptions = {}): Promise<ObjectMeta> {
    checkKey(path, this.description);
    const uri = this.description + path;
    throwIfAborted(options.signal, `head ${uri}`);
    const e = this.objects.get(path);
    if (!e) throw notFoundError(uri);
    return { path, size: e.data.length, lastModified: e.lastModified, etag: e.etag };
  }

  async delete(path: string, options: StoreCallOptions = {}): Promise<void> {
    checkKey(path, this.description);
    throwIfAborted(options.signal, `delete ${this.description + path}`);
    this.objects.delete(path);
  }

  async *list(prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectMeta> {
    checkPrefix(prefix, this.description);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      throwIfAborted(options.signal, `list ${this.description + prefix}`);
      const e = this.objects.get(key);
      if (e) yield { path: key, size: e.data.length, lastModified: e.lastModified, etag: e.etag };
    }
  }
}
