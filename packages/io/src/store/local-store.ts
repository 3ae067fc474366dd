/**
 * Local-filesystem backend of {@link ObjectStore}: keys are paths below `root`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { GetOptions, ObjectMeta, ObjectStore, PutOptions, StoreCallOptions } from '../types.js';
import { checkKey, checkPrefix, mapFsError, resolveRange, throwIfAborted, validateRange } from './store-errors.js';

/** Options of the {@link LocalStore} constructor. */
export interface LocalStoreOptions {
  /** Directory that keys are relative to (default `/`). */
  root?: string;
  /**
   * Flush a put's bytes to disk (fsync) before the rename makes it visible, so an object a catalog
   * commit refers to survives a power loss (default false: about 5 ms more per put on a typical
   * disk; the rename alone already makes puts atomic for readers and survives process crashes).
   */
  fsync?: boolean;
}

/** Temp files of in-progress puts carry this marker; `list` skips them. */
const TEMP_MARKER = '.lakesoul-tmp-';
const READ_CHUNK = 8 * 1024 * 1024;

/**
 * Objects as files below a root directory. `put` writes a temp file in the target directory (flushed
 * with fsync when asked) and renames it over the target, so readers see the old object or the new
 * one, never a partial file. Parent directories are created as needed. `list` walks directories
 * recursively.
 */
export class LocalStore implements ObjectStore {
  /** Absolute root directory. */
  readonly root: string;
  readonly description: string;
  private readonly fsync: boolean;

  constructor(options: LocalStoreOptions = {}) {
    this.root = resolvePath(options.root ?? '/');
    this.fsync = options.fsync ?? false;
    this.description = `file://${this.root === '/' ? '/' : this.root + '/'}`;
  }

  /** Absolute filesystem path of a key. */
  localPath(key: string): string {
    checkKey(key, this.description);
    return join(this.root, key);
  }

  private uri(key: string): string {
    return this.description + key;
  }

  async get(path: string, options: GetOptions = {}): Promise<Uint8Array> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    if (options.range) validateRange(options.range, uri);
    throwIfAborted(options.signal, `get ${uri}`);
    let fh: FileHandle | undefined;
    try {
      fh = await open(file, 'r');
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      const [start, end] = options.range ? resolveRange(options.range, st.size, uri) : [0, st.size];
      const out = new Uint8Array(end - start);
      let filled = 0;
      while (filled < out.length) {
        throwIfAborted(options.signal, `get ${uri}`);
        const want = Math.min(READ_CHUNK, out.length - filled);
        const { bytesRead } = await fh.read(out, filled, want, start + filled);
        if (bytesRead === 0) break; // file shrank concurrently
        filled += bytesRead;
      }
      return filled === out.length ? out : out.subarray(0, filled);
    } catch (e) {
      throw mapFsError(e, uri, 'get');
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  async put(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `put ${uri}`);
    const tmp = join(dirname(file), `${TEMP_MARKER}${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    try {
      await mkdir(dirname(file), { recursive: true });
      fh = await open(tmp, 'wx');
      if (data instanceof Uint8Array) {
        await writeAll(fh, data, options.signal, uri);
      } else {
        for await (const chunk of data) {
          await writeAll(fh, chunk, options.signal, uri);
        }
      }
      if (this.fsync) await fh.sync();
      await fh.close();
      fh = undefined;
      throwIfAborted(options.signal, `put ${uri}`);
      await rename(tmp, file);
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
        // a directory sits where the object goes, or a file where a parent directory goes
        throw new LakeSoulError('InvalidArgument', `put ${uri}: the path collides with an existing ${code === 'ENOTDIR' || code === 'EEXIST' ? 'file in its parent path' : 'directory'}`, { cause: e, context: { file: uri } });
      }
      throw mapFsError(e, uri, 'put');
    }
  }

  async head(path: string, options: StoreCallOptions = {}): Promise<ObjectMeta> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `head ${uri}`);
    try {
      const st = await stat(file);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      return { path, size: st.size, lastModified: st.mtime, etag: `${st.mtimeMs.toString(16)}-${st.size.toString(16)}` };
    } catch (e) {
      throw mapFsError(e, uri, 'head');
    }
  }

  async delete(path: string, options: StoreCallOptions = {}): Promise<void> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `delete ${uri}`);
    try {
      await unlink(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw mapFsError(e, uri, 'delete');
    }
  }

  async *list(prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectMeta> {
    checkPrefix(prefix, this.description);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    throwIfAborted(options.signal, `list ${this.uri(prefix)}`);
    yield* this.walk(dirKey, prefix, options.signal);
  }

  private async *walk(dirKey: string, prefix: string, signal: AbortSignal | undefined): AsyncGenerator<ObjectMeta> {
    const dir = dirKey === '' ? this.root : join(this.root, dirKey);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw mapFsError(e, this.uri(dirKey), 'list');
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      throwIfAborted(signal, `list ${this.uri(prefix)}`);
      if (ent.name.startsWith(TEMP_MARKER)) continue;
      const key = dirKey === '' ? ent.name : `${dirKey}/${ent.name}`;
      // Only descend where keys can still match the prefix.
      if (!(key.startsWith(prefix) || prefix.startsWith(key + '/'))) continue;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const st = await stat(join(this.root, key)).catch(() => undefined);
        isDir = false; // symlinked directories are not followed (no loops)
        isFile = st?.isFile() ?? false;
      }
      if (isDir) {
        yield* this.walk(key, prefix, signal);
      } else if (isFile && key.startsWith(prefix)) {
        try {
          const st = await stat(join(this.root, key));
          yield { path: key, size: st.size, lastModified: st.mtime, etag: `${st.mtimeMs.toString(16)}-${st.size.toString(16)}` };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted while listing
          throw mapFsError(e, this.uri(key), 'list');
        }
      }
    }
  }
}

async function writeAll(fh: FileHandle, data: Uint8Array, signal: AbortSignal | undefined, uri: string): Promise<void> {
  let off = 0;
  while (off < data.length) {
    throwIfAborted(signal, `put ${uri}`);
    const n = Math.min(READ_CHUNK, data.length - off);
    const { bytesWritten } = await fh.write(data, off, n);
    off += bytesWritten;
  }
}
