/**
 * Local-filesystem backend of {@link ObjectStore}: keys are paths below `root`.
 */
import { randomBytes } from 'node:crypto';
import { close as closeCb, constants as fsConstants, fstat as fstatCb, open as openCb, read as readCb, readlinkSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, open, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { LakeSoulError, madeDirectoryEntries, makeDirectory, refuseNonBooleanOptions, throwIfAborted } from '@lakesoul-ts/meta';
import type { GetOptions, ObjectMeta, ObjectStore, PutOptions, StoreCallOptions } from '../types.js';
import { nativeFiles, type NativeFiles } from '../native/native-files.js';
import { checkKey, checkPrefix, mapFsError, resolveRange, validateRange } from './store-errors.js';

/** Options of the {@link LocalStore} constructor. */
export interface LocalStoreOptions {
  /** Directory that keys are relative to (default `/`). */
  root?: string;
  /**
   * Flush a put's bytes to disk (fsync) before the rename makes it visible, and the directory's entry
   * after it, so that an object a catalog commit refers to survives a power loss (default true).
   * Without it a power cut a few seconds after a commit left the catalog pointing at empty or missing
   * data files, and the table unreadable. `false` saves a few ms per put where the files are
   * expendable (the rename alone keeps puts atomic for readers and survives process crashes).
   */
  fsync?: boolean;
}

/**
 * Capability of stores over a real filesystem: reads confined to directories of the store, checked on
 * the file actually opened (so neither a symlink in place before the call nor one swapped in during it
 * can lead a read outside). {@link LocalStore} implements it and the wrappers of `store-wrappers.ts`
 * forward it; use {@link confinedReaderOf} to find it on a store.
 */
export interface ConfinedReader {
  /**
   * Like `head`, but only for a regular file whose real location (after every symlink) lies inside one
   * of `within`: key prefixes of this store (`''` is the store's root) or absolute directories
   * (starting with `/`, for allowed locations outside the store that a symlink in it may lead to),
   * each taken at its real location.
   * @throws LakeSoulError PermissionDenied, code `PATH_OUTSIDE_ROOT` (context `realPath`), when the file
   * opened lies elsewhere; NotFound when it does not exist.
   */
  headConfined(path: string, within: readonly string[], options?: StoreCallOptions): Promise<ObjectMeta>;
  /** Like `get`, confined as {@link ConfinedReader.headConfined}: no byte of a file outside `within` is returned. */
  getConfined(path: string, within: readonly string[], options?: GetOptions): Promise<Uint8Array>;
}

/** The store's {@link ConfinedReader} capability, or undefined when it has none (it is then no local store, or a wrapper that drops it). */
export function confinedReaderOf(store: ObjectStore): (ObjectStore & ConfinedReader) | undefined {
  const s = store as Partial<ConfinedReader>;
  return typeof s.getConfined === 'function' && typeof s.headConfined === 'function' ? (store as ObjectStore & ConfinedReader) : undefined;
}

/**
 * Capability of stores that read several byte ranges of one object in one call, cheaper than a `get`
 * per range: {@link LocalStore} opens the file once for all of them. {@link readRanges} uses it when
 * a store has it; find it with {@link rangeReaderOf}. Wrappers that must see each request (latency,
 * counting) simply do not offer it.
 */
export interface RangeReader {
  /**
   * The bytes of each of `ranges` of the object at `path`, in the order given; each is clamped at the
   * object's end like {@link ObjectStore.get}'s range (its bytes past the end are not returned).
   * @throws LakeSoulError NotFound when the object does not exist; InvalidArgument for a bad range.
   */
  getRanges(path: string, ranges: readonly { offset: number; length: number }[], options?: StoreCallOptions): Promise<Uint8Array[]>;
}

/** The store's {@link RangeReader} capability, or undefined when it has none. */
export function rangeReaderOf(store: ObjectStore): (ObjectStore & RangeReader) | undefined {
  return typeof (store as Partial<RangeReader>).getRanges === 'function' ? (store as ObjectStore & RangeReader) : undefined;
}

/**
 * Opens for reading without side effects on special files: O_NONBLOCK so that a FIFO does not block the
 * open (it is refused as not a regular file right after), O_NOCTTY so that a terminal is never adopted.
 */
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOCTTY ?? 0);

/**
 * Linux's O_PATH (Node does not export it; 010000000 on x86 and Arm): a descriptor that names a file
 * without opening it, so a device, a FIFO or a socket behind a symlink is not opened, and its driver
 * sees nothing, before a confined read has checked where it lies.
 */
const O_PATH = process.platform === 'linux' ? 0o10000000 : 0;

// Reads go through plain descriptors and the callback API: a FileHandle costs a promise wrapper and
// a GC-tracked object per call, which showed up in loaders that read one small object per sample.
const openFd = promisify(openCb);
const fstatFd = promisify(fstatCb);
const readFd = promisify(readCb);
const closeFd = promisify(closeCb);

/** Whether `/proc/self/fd/N` names the open files (Linux): learned on first use. */
let procFdWorks: boolean | undefined;

/**
 * The real path of the file open as `fd`, opened from `file`. On Linux the kernel's own name of the
 * descriptor (`/proc/self/fd/N`), read synchronously: procfs answers from the kernel's memory, with no
 * file-system I/O, so this never waits on a disk or a network mount (and saves a thread-pool round
 * trip per read). Elsewhere `realpath(file)`, accepted only if the entry at that real path (not
 * following a final symlink) is the very file open (same device and inode), so that a link swapped
 * between the open and the realpath is detected; returns null when it cannot be established.
 */
async function openedRealPath(fd: number, file: string): Promise<string | null> {
  if (procFdWorks !== false) {
    try {
      const p = readlinkSync(`/proc/self/fd/${fd}`);
      procFdWorks = true;
      return p.startsWith('/') ? p : null;
    } catch (e) {
      if (procFdWorks === true) throw e;
      procFdWorks = false;
    }
  }
  try {
    const real = await realpath(file);
    const [opened, entry] = await Promise.all([fstatFd(fd), lstat(real)]);
    return opened.dev === entry.dev && opened.ino === entry.ino ? real : null;
  } catch {
    return null;
  }
}

/** Temp files of in-progress puts carry this marker; `list` skips them. */
const TEMP_MARKER = '.lakesoul-tmp-';
/** This process's part of temp names (with a counter: a random name per put cost ~20 us of the main thread). */
const TEMP_TAG = randomBytes(6).toString('hex');
let tempSeq = 0;

/** A temp file's path beside `file`, unique to this process and call (puts open it exclusively). */
function tempPath(file: string): string {
  return join(dirname(file), `${TEMP_MARKER}${TEMP_TAG}-${(++tempSeq).toString(36)}`);
}
const READ_CHUNK = 8 * 1024 * 1024;

/**
 * Objects as files below a root directory. `put` writes a temp file in the target directory (flushed
 * with fsync unless `fsync: false`) and renames it over the target, so readers see the old object or the new
 * one, never a partial file (a `fresh` put writes in place). Parent directories are created as needed.
 * Where the native Parquet addon is built, a put of bytes creates, writes, flushes and closes its file
 * in one task on the addon's file threads ({@link NativeFiles}); streams, and every put without the
 * addon, use Node's `fs`. `list` walks directories recursively.
 */
export class LocalStore implements ObjectStore, ConfinedReader, RangeReader {
  /** Absolute root directory. */
  readonly root: string;
  readonly description: string;
  private readonly fsync: boolean;

  constructor(options: LocalStoreOptions = {}) {
    refuseNonBooleanOptions(options, ['fsync'], 'LocalStore');
    this.root = resolvePath(options.root ?? '/');
    this.fsync = options.fsync ?? true;
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
    let fd: number | undefined;
    try {
      fd = await openFd(file, READ_FLAGS);
      return await readOpened(fd, await regularFile(fd), uri, options);
    } catch (e) {
      throw mapFsError(e, uri, 'get');
    } finally {
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
    }
  }

  async getRanges(path: string, ranges: readonly { offset: number; length: number }[], options: StoreCallOptions = {}): Promise<Uint8Array[]> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    for (const r of ranges) validateRange(r, uri);
    throwIfAborted(options.signal, `get ${uri}`);
    let fd: number | undefined;
    try {
      // One open and one stat for every range; the reads themselves run side by side on the thread pool.
      fd = await openFd(file, READ_FLAGS);
      const st = await regularFile(fd);
      const at = fd;
      return await Promise.all(ranges.map((range) => readOpened(at, st, uri, { range, signal: options.signal })));
    } catch (e) {
      throw mapFsError(e, uri, 'get');
    } finally {
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
    }
  }

  async headConfined(path: string, within: readonly string[], options: StoreCallOptions = {}): Promise<ObjectMeta> {
    return this.withConfined(path, within, 'head', options.signal, async (_fd, st) => ({ path, size: st.size, lastModified: st.mtime, etag: `${st.mtimeMs.toString(16)}-${st.size.toString(16)}` }));
  }

  async getConfined(path: string, within: readonly string[], options: GetOptions = {}): Promise<Uint8Array> {
    if (options.range) validateRange(options.range, this.uri(path));
    return this.withConfined(path, within, 'get', options.signal, (fd, st, uri) => readOpened(fd!, st, uri, options));
  }

  /**
   * Opens `path` (following symlinks, as any open does), then checks where the opened descriptor really
   * lies before anything is read from it: open first, verify what was opened. Checking a path and then
   * opening it separately would let a symlink swapped in between win the race. On Linux the first open
   * is an O_PATH one, which opens nothing: only a regular file found inside is then opened for
   * reading, through `/proc/self/fd` (the very file checked), so a link to a device or a FIFO outside
   * the roots is refused without its driver seeing an open. A head needs no read, and no second open.
   */
  private async withConfined<T>(path: string, within: readonly string[], op: string, signal: AbortSignal | undefined, use: (fd: number | undefined, st: Stats, uri: string) => Promise<T>): Promise<T> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    if (within.length === 0) throw new LakeSoulError('InvalidArgument', `${op} ${uri}: a confined read needs at least one directory to confine it to`, { context: { file: uri } });
    for (const w of within) if (w !== '' && !w.startsWith('/')) checkPrefix(w, this.description);
    throwIfAborted(signal, `${op} ${uri}`);
    let fd: number | undefined;
    try {
      // The roots' real locations are looked up while the file opens; both are needed for the check.
      const rootsReady = Promise.all(
        within.map((w) =>
          realpath(w.startsWith('/') ? w : w === '' ? this.root : join(this.root, w)).catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null; // nothing can lie inside a missing root
            throw e;
          }),
        ),
      );
      rootsReady.catch(() => undefined); // awaited below unless the open fails first
      const pathOnly = O_PATH !== 0 && procFdWorks !== false;
      fd = await openFd(file, pathOnly ? O_PATH : READ_FLAGS);
      const roots = await rootsReady;
      const real = await openedRealPath(fd, file);
      const inside = real !== null && roots.some((r) => r !== null && (r === '/' || real === r || real.startsWith(r + '/')));
      if (!inside) {
        const where = real === null ? 'a location that could not be established (it changed while being opened)' : real;
        throw new LakeSoulError('PermissionDenied', `${op} ${uri}: the file opened lies at ${where}, outside ${within.map((w) => (w.startsWith('/') ? w : this.description + w)).join(', ')}`, {
          code: 'PATH_OUTSIDE_ROOT',
          context: { file: uri, realPath: real ?? '' },
        });
      }
      const st = await regularFile(fd);
      if (!pathOnly || op === 'head') return await use(pathOnly ? undefined : fd, st, uri);
      let readFd: number | undefined;
      try {
        // without /proc (learned in this very check) the path is opened again, and must be the file checked
        readFd = await openFd(procFdWorks ? `/proc/self/fd/${fd}` : file, READ_FLAGS);
        if (!procFdWorks) {
          const again = await fstatFd(readFd);
          if (again.dev !== st.dev || again.ino !== st.ino) throw new LakeSoulError('PermissionDenied', `${op} ${uri}: the file changed while being opened; not read`, { code: 'PATH_OUTSIDE_ROOT', context: { file: uri } });
        }
        return await use(readFd, st, uri);
      } finally {
        if (readFd !== undefined) await closeFd(readFd).catch(() => undefined);
      }
    } catch (e) {
      throw mapFsError(e, uri, op);
    } finally {
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
    }
  }

  async put(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<void> {
    const file = this.localPath(path);
    const uri = this.uri(path);
    throwIfAborted(options.signal, `put ${uri}`);
    let fh: FileHandle | undefined;
    let written: string | undefined; // the file this put created, removed if it fails
    try {
      // a fresh key is written in place (no reader looks before the put returns); one that exists after
      // all is replaced by a rename, as any other put
      let target = options.fresh === true ? file : tempPath(file);
      // The directory is made only when the open finds it missing: a write's files mostly land in
      // directories that exist (a table's, its partitions'), and making it first cost a failed mkdir
      // and a stat per put, two thread-pool round trips.
      let made: string | undefined;
      let madeDirectory = false;
      // bytes at hand: created, written, flushed and closed by one native task where the addon is built
      const bytes = data instanceof Uint8Array ? data : null;
      const native = bytes ? nativeFiles() : null;
      for (;;) {
        try {
          if (native && bytes) await native.createFile(target, bytes, this.fsync);
          else fh = await open(target, 'wx');
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' && !madeDirectory) {
            made = await makeDirectory(dirname(file));
            madeDirectory = true;
          } else if (code === 'EEXIST' && target === file) {
            target = tempPath(file);
          } else {
            throw e;
          }
        }
      }
      written = target;
      if (fh !== undefined) {
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
      }
      throwIfAborted(options.signal, `put ${uri}`);
      if (target !== file) await rename(target, file);
      written = undefined;
      if (this.fsync) {
        // the file's entry, and the entries of the directories this put made (a new partition's)
        await Promise.all([dirname(file), ...madeDirectoryEntries(made, dirname(file))].map(syncDirectoryAfter));
      }
    } catch (e) {
      await fh?.close().catch(() => undefined);
      if (written !== undefined) await rm(written, { force: true }).catch(() => undefined);
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
      if (!st.isFile()) throw notRegularError(st);
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

  list(prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectMeta> {
    return this.listFrom(prefix, options, false);
  }

  /**
   * The temp files of puts under `prefix` (which `list` leaves out): those of a process killed while
   * writing stay behind, and `cleanup` deletes them as orphans once they are older than its window.
   */
  listTemporary(prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectMeta> {
    return this.listFrom(prefix, options, true);
  }

  /**
   * Removes the empty directories at and below the directory `dirKey` (`''`: those below the store's
   * root, which stays), deepest first, except those `keep` names (keys, no trailing slash) and
   * everything below them.
   * Symbolic links are not followed. A directory that is not empty, or that a writer fills meanwhile,
   * stays (`rmdir` removes empty directories only). For a purged table's partition directories.
   * @returns how many directories were removed.
   */
  async removeEmptyDirectories(dirKey: string, keep: (key: string) => boolean = () => false, options: StoreCallOptions = {}): Promise<number> {
    if (dirKey !== '') checkKey(dirKey, this.description);
    let removed = 0;
    const visit = async (key: string): Promise<boolean> => {
      throwIfAborted(options.signal, `remove empty directories under ${this.uri(dirKey)}`);
      if (key !== '' && keep(key)) return false;
      const dir = key === '' ? this.root : join(this.root, key);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return false;
        throw mapFsError(e, this.uri(key), 'list');
      }
      let empty = true;
      for (const ent of entries) {
        const child = key === '' ? ent.name : `${key}/${ent.name}`;
        if (!ent.isDirectory() || !(await visit(child))) empty = false;
      }
      if (!empty || key === '') return false;
      try {
        await rmdir(dir);
        removed++;
        return true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
        throw mapFsError(e, this.uri(key), 'delete');
      }
    };
    await visit(dirKey);
    return removed;
  }

  private async *listFrom(prefix: string, options: StoreCallOptions, temporary: boolean): AsyncGenerator<ObjectMeta> {
    checkPrefix(prefix, this.description);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    throwIfAborted(options.signal, `list ${this.uri(prefix)}`);
    yield* this.walk(dirKey, prefix, options.signal, temporary);
  }

  private async *walk(dirKey: string, prefix: string, signal: AbortSignal | undefined, temporary: boolean): AsyncGenerator<ObjectMeta> {
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
    // A directory's files are stat'ed synchronously, STAT_BATCH between two turns of the event loop:
    // the stat of a cached inode takes microseconds, and a thread-pool round trip per file cost far
    // more (48 files: 0.2 ms against 0.3-2 ms alone; cleanup's listing beside its catalog reads
    // 1.2-6 ms against 3-7 ms with 16 stats in flight).
    const statFile = (key: string): ObjectMeta | null => {
      try {
        const st = statSync(join(this.root, key));
        return { path: key, size: st.size, lastModified: st.mtime, etag: `${st.mtimeMs.toString(16)}-${st.size.toString(16)}` };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted while listing
        throw mapFsError(e, this.uri(key), 'list');
      }
    };
    let statted = 0;
    for (const ent of entries) {
      throwIfAborted(signal, `list ${this.uri(prefix)}`);
      const key = dirKey === '' ? ent.name : `${dirKey}/${ent.name}`;
      // the marker names files only (a put's temporary file): a directory of that name is walked like any
      // other (a range column `.lakesoul-tmp-c` hid its partitions from cleanup and purge)
      if (!ent.isDirectory() && ent.name.startsWith(TEMP_MARKER) !== temporary) continue;
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
        yield* this.walk(key, prefix, signal, temporary);
      } else if (isFile && key.startsWith(prefix)) {
        if (++statted % STAT_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
        const m = statFile(key);
        if (m !== null) yield m;
      }
    }
  }
}

/** Files a listing stats between two turns of the event loop. */
const STAT_BATCH = 256;

/** The stats of the file open as `fd`; refused (as not found, saying what is there) unless it is a regular file. */
async function regularFile(fd: number): Promise<Stats> {
  const st = await fstatFd(fd);
  if (!st.isFile()) throw notRegularError(st);
  return st;
}

/** The error of a path holding something other than a regular file (mapped to not found). */
function notRegularError(st: Stats): Error {
  const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket'
    : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'a special file';
  return Object.assign(new Error(`not a file: ${what}`), { code: 'EISDIR', notRegular: what });
}

/**
 * Reads the regular file open as `fd` (of stats `st`), whole or `options.range` of it, into the buffer
 * `options.into` gives, else into one that is not zeroed first: every byte returned was read, and a
 * file that shrank meanwhile gives a fresh copy of the bytes read, so no unread memory is reachable
 * from the result.
 */
async function readOpened(fd: number, st: Stats, uri: string, options: GetOptions): Promise<Uint8Array> {
  const { range, signal, into } = options;
  const [start, end] = range ? resolveRange(range, st.size, uri) : [0, st.size];
  const n = end - start;
  let out: Uint8Array;
  if (into) {
    const given = into(n);
    if (!(given instanceof Uint8Array) || given.length < n) throw new TypeError(`the buffer given for its ${n} bytes holds ${given instanceof Uint8Array ? given.length : 'no'} bytes`);
    out = given.length === n ? given : given.subarray(0, n);
  } else out = new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
  let filled = 0;
  while (filled < out.length) {
    throwIfAborted(signal, `get ${uri}`);
    const want = Math.min(READ_CHUNK, out.length - filled);
    const { bytesRead } = await readFd(fd, out, filled, want, start + filled);
    if (bytesRead === 0) break; // file shrank concurrently
    filled += bytesRead;
  }
  return filled === out.length ? out : out.slice(0, filled);
}

/** Directory flushes per directory: the one running, and the one queued to start after it. */
const directorySyncs = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

/**
 * Flushes `dir`'s entries once every rename into it made so far is among them: by a flush that starts
 * after this call. The puts of a write land in a few directories at once (a table's buckets share
 * one), and each flushed the directory for itself; now the puts that arrive while a flush runs share
 * the next one (the running one may have started before their rename).
 */
function syncDirectoryAfter(dir: string): Promise<void> {
  let s = directorySyncs.get(dir);
  if (s === undefined) directorySyncs.set(dir, (s = { running: null, queued: null }));
  const state = s;
  if (state.queued) return state.queued;
  const start = (): Promise<void> => {
    const p = syncDirectory(dir).finally(() => {
      if (state.running === p) state.running = null;
      if (!state.running && !state.queued && directorySyncs.get(dir) === state) directorySyncs.delete(dir);
    });
    state.running = p;
    return p;
  };
  if (!state.running) return start();
  state.queued = state.running.catch(() => undefined).then(() => {
    state.queued = null;
    return start();
  });
  return state.queued;
}

/** Flushes a directory's entries (a rename into it) to disk; a file system that cannot sync a directory is left as is. */
async function syncDirectory(dir: string): Promise<void> {
  const native = nativeFiles();
  if (native) return native.syncDirectory(dir);
  const fh = await open(dir, 'r');
  try {
    await fh.sync().catch(() => {});
  } finally {
    await fh.close();
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
