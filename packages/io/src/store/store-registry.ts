/**
 * Maps location URIs to object stores, creating and caching one store per bucket / memory name.
 */
import { LakeSoulError, optionNames, refuseNonBooleanOptions, refuseUnknownOptions } from '@lakesoul-ts/meta';
import type { ObjectStore } from '../types.js';
import { LocalStore } from './local-store.js';
import type { LocalStoreOptions } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import { S3_STORE_OPTIONS, S3Store, checkS3Sizes, s3OptionsFromEnv } from './s3-store.js';
import type { S3StoreOptions } from './s3-store.js';
import { formatUri, parseUri } from './store-uri.js';

/** Options of the {@link StoreRegistry} constructor. */
export interface StoreRegistryOptions {
  /** Options of the LocalStore the registry creates for `file://` (e.g. `{ fsync: true }`). */
  local?: Omit<LocalStoreOptions, 'root'>;
  /** Options of every S3Store the registry creates (over the values read from `env`). */
  s3?: Partial<Omit<S3StoreOptions, 'bucket'>>;
  /** Environment for S3 settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT); default `process.env`, read when a store is created. */
  env?: Record<string, string | undefined>;
  /** Applied once to every store the registry creates (not to registered ones), e.g. a latency wrapper. */
  wrap?: (store: ObjectStore, baseUri: string) => ObjectStore;
}

const STORE_REGISTRY_OPTIONS = optionNames<StoreRegistryOptions>({ local: true, s3: true, env: true, wrap: true });
const LOCAL_OPTIONS = optionNames<NonNullable<StoreRegistryOptions['local']>>({ fsync: true });
/** An S3Store's options but its bucket, which the registry takes from each location. */
const S3_OPTIONS = S3_STORE_OPTIONS.filter((k) => k !== 'bucket');

/** A store and the key of a location inside it. */
export interface ResolvedLocation {
  store: ObjectStore;
  key: string;
  /** URI of the store's root (`file:///`, `s3://bucket/`, `memory://name/`, or a registered base). */
  baseUri: string;
}

interface Registered {
  scheme: string;
  authority: string;
  /** Key prefix segments of the registered base. */
  segments: string[];
  baseUri: string;
  store: ObjectStore;
}

/**
 * Resolves `file:///abs/path` (one LocalStore rooted at `/`), `s3://bucket/key` (one S3Store per
 * bucket, cached so every read of a bucket shares one client) and `memory://name/key` (one
 * MemoryStore per name). `register(baseUri, store)` overrides a location and everything below it
 * (the longest registered base wins); keys are then relative to that base.
 */
export class StoreRegistry {
  private readonly options: StoreRegistryOptions;
  private readonly cache = new Map<string, ObjectStore>();
  private readonly registered: Registered[] = [];

  constructor(options: StoreRegistryOptions = {}) {
    // a misspelled key (`{ s3: { endpiont } }`, `{ S3: ... }`) sent the data to another server
    refuseUnknownOptions(options, STORE_REGISTRY_OPTIONS, 'stores');
    refuseUnknownOptions(options.local, LOCAL_OPTIONS, 'stores.local');
    refuseUnknownOptions(options.s3, S3_OPTIONS, 'stores.s3');
    if (options.s3) checkS3Sizes(options.s3, 'stores.s3');
    refuseNonBooleanOptions(options.local, ['fsync'], 'stores.local');
    refuseNonBooleanOptions(options.s3, ['forcePathStyle'], 'stores.s3');
    this.options = options;
  }

  /**
   * Uses `store` for `baseUri` and every location below it (segment-wise: `s3://b/t` does not cover
   * `s3://b/t2`). Keys passed to the store are relative to `baseUri`.
   */
  register(baseUri: string, store: ObjectStore): this {
    const p = parseUri(baseUri);
    const segments = p.key.split('/').filter((s) => s !== '');
    const normalized = formatUri({ ...p, key: segments.length ? segments.join('/') + '/' : '' });
    const i = this.registered.findIndex((r) => r.baseUri === normalized);
    if (i >= 0) this.registered.splice(i, 1);
    this.registered.push({ scheme: p.scheme, authority: p.authority, segments, baseUri: normalized, store });
    this.registered.sort((a, b) => b.segments.length - a.segments.length);
    return this;
  }

  /**
   * The store and key of a location.
   * @throws LakeSoulError InvalidArgument for relative paths, unknown schemes and URIs naming a
   * directory root rather than an object key.
   */
  resolve(uri: string): ResolvedLocation {
    const p = parseUri(uri);
    const segments = p.key.split('/').filter((s) => s !== '');
    for (const r of this.registered) {
      if (r.scheme !== p.scheme || r.authority !== p.authority) continue;
      if (r.segments.length > segments.length) continue;
      if (r.segments.every((s, i) => segments[i] === s)) {
        return { store: r.store, key: segments.slice(r.segments.length).join('/'), baseUri: r.baseUri };
      }
    }
    const key = segments.join('/');
    switch (p.scheme) {
      case 'file':
        return { store: this.cached('file:///', () => new LocalStore({ ...this.options.local, root: '/' })), key, baseUri: 'file:///' };
      case 's3': {
        const base = `s3://${p.authority}/`;
        return {
          store: this.cached(base, () => new S3Store({ ...s3OptionsFromEnv(this.options.env ?? process.env), ...this.options.s3, bucket: p.authority })),
          key,
          baseUri: base,
        };
      }
      case 'memory': {
        const base = `memory://${p.authority}/`;
        return { store: this.cached(base, () => new MemoryStore({ name: p.authority })), key, baseUri: base };
      }
      default:
        throw new LakeSoulError('InvalidArgument', `unsupported storage scheme '${p.scheme}' in '${uri}': expected file://, s3:// or memory://, or register a store for it`, {
          code: 'UNSUPPORTED_SCHEME',
          context: { file: uri },
        });
    }
  }

  /**
   * Options from which another thread builds a registry (`new StoreRegistry(options)`) resolving
   * `uris` to the same objects, or null when it cannot: `wrap` or a registered store would be involved,
   * a `memory://` store lives in this thread only, or the S3 options hold a client object. S3 settings
   * read from the environment are resolved here, so the other thread needs none.
   */
  portableOptions(uris: Iterable<string>): StoreRegistryOptions | null {
    if (this.options.wrap) return null;
    let s3 = false;
    for (const uri of uris) {
      const p = parseUri(uri);
      if (p.scheme !== 'file' && p.scheme !== 's3') return null;
      if (this.registered.some((r) => r.scheme === p.scheme && r.authority === p.authority)) return null;
      s3 ||= p.scheme === 's3';
    }
    const out: StoreRegistryOptions = { env: {} };
    if (this.options.local) out.local = { ...this.options.local };
    if (s3) {
      if (this.options.s3?.client) return null;
      out.s3 = { ...s3OptionsFromEnv(this.options.env ?? process.env), ...this.options.s3 };
    }
    return out;
  }

  /** The store of a location (same as `resolve(uri).store`). */
  storeFor(uri: string): ObjectStore {
    return this.resolve(uri).store;
  }

  private cached(base: string, make: () => ObjectStore): ObjectStore {
    let s = this.cache.get(base);
    if (!s) {
      s = make();
      if (this.options.wrap) s = this.options.wrap(s, base);
      this.cache.set(base, s);
    }
    return s;
  }
}
