/**
 * Creating a directory and its missing parents, as `mkdir -p` does, without Node's recursive
 * `mkdir` loop: where `mkdir` fails with ENOENT although the parent exists (a virtual filesystem such
 * as /proc), Node 20's `mkdir(dir, { recursive: true })` retries forever (`--home /proc/x` hung the
 * CLI at 100% CPU). Here every level is tried once more after its parent was made, then the error is
 * thrown.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The error of a level that cannot be made although its parent exists. */
function cannotCreate(dir: string, parent: string, cause: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${cause.message} (its parent ${parent} exists but does not take new directories)`, { cause });
  e.code = cause.code;
  e.syscall = 'mkdir';
  e.path = dir;
  return e;
}

function notDirectory(dir: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${dir}'`);
  e.code = 'ENOTDIR';
  e.syscall = 'mkdir';
  e.path = dir;
  return e;
}

/**
 * Makes `dir` and its missing parents (`mode` for the ones made, as `mkdirSync`'s). An existing
 * directory is fine; an existing file is ENOTDIR; every other failure is thrown as Node's error.
 * Returns the outermost directory this call made (its entry in its parent is new), or undefined when
 * `dir` was there already.
 */
export function makeDirectorySync(dir: string, mode?: number): string | undefined {
  try {
    mkdirSync(dir, { mode });
    return dir;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw notDirectory(dir);
      return undefined;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    const outer = makeDirectorySync(parent, mode);
    try {
      mkdirSync(dir, { mode });
      return outer ?? dir;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) return outer;
      throw (again as NodeJS.ErrnoException).code === 'ENOENT' ? cannotCreate(dir, parent, again as NodeJS.ErrnoException) : again;
    }
  }
}

/**
 * {@link makeDirectorySync} with the common cases asynchronous (the directory made, or already
 * there); missing parents, a few calls once per new directory, are made synchronously. Returns the
 * outermost directory made, or undefined.
 */
export async function makeDirectory(dir: string, mode?: number): Promise<string | undefined> {
  try {
    await mkdir(dir, { mode });
    return dir;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return makeDirectorySync(dir, mode);
    if (!(await stat(dir)).isDirectory()) throw notDirectory(dir);
    return undefined;
  }
}

/**
 * The directories whose entries changed when {@link makeDirectory} made `made` (its result: the
 * outermost directory it made, or undefined) on its way to `dir`: `made`'s parent and every made
 * directory above `dir`. A file put in `dir` survives a power loss once these and `dir` itself are
 * flushed ({@link flushDirectorySync}).
 */
export function madeDirectoryEntries(made: string | undefined, dir: string): string[] {
  if (made === undefined) return [];
  const out: string[] = [];
  for (let d = dirname(dir); d.length >= made.length && d !== dirname(d); d = dirname(d)) out.push(d);
  out.push(dirname(made));
  return out;
}

/**
 * Flushes a directory's entries to disk (`fsync` of the directory itself): a file created, renamed or
 * removed in it survives a power loss once this returns. Filesystems that cannot flush a directory
 * (EINVAL, EISDIR, ENOTSUP, EPERM, EACCES on open) are left as they are.
 */
export function flushDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (['EISDIR', 'EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Flushes every regular file below `dir` and then every directory (children before their parent),
 * so a tree written without flushing (a new embedded catalog: PGlite's initdb flushes nothing, or one
 * unpacked from an image) is on disk as a whole. A catalog of ~440 files takes 25-80 ms.
 */
export function flushDirectoryTreeSync(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      flushDirectoryTreeSync(path);
    } else if (entry.isFile()) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  flushDirectorySync(dir);
}
