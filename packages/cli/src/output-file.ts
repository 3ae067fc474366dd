/**
 * Files a command writes whole (`export`): written under a temporary name beside the target and
 * renamed over it once complete, so a failed or interrupted command leaves the target as it was (an
 * older export stays readable) and never a truncated file under its name.
 */
import { chmodSync, createWriteStream, fstatSync, lstatSync, readlinkSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { SIGNAL_EXIT_CODES } from './cli-context.js';

/** The temporary name `path` is written under: hidden, beside it (same file system), this process's. */
export function partialName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.part`);
}


/**
 * Whether {@link writeOutputFile} writes `path` under a temporary name and renames it over `path` once
 * complete: `path` does not exist or is a regular file (a symbolic link, device or pipe is written
 * through).
 */
export function replacesOnCompletion(path: string): boolean {
  const existing = lstatSync(outputTarget(path), { throwIfNoEntry: false });
  return !existing || existing.isFile();
}

/**
 * The file `path` names once its symbolic links are followed, when they lead to a regular file or
 * to nothing yet (a link to an export that is made anew), so that it is replaced there, the links
 * kept; `path` itself when it is no link, when it or a link leads through `/dev` or `/proc`
 * (`/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/3`: a descriptor the shell opened, maybe to a file it
 * appends to), or to a device or pipe: those are written through. Links are followed as the kernel
 * follows them (relative to the link's real directory). (A link to a regular file was written through, in
 * place: an interrupted export destroyed the earlier file it pointed to.)
 */
export function outputTarget(path: string): string {
  const special = (p: string) => /^\/(dev|proc)(\/|$)/.test(p);
  // `/dev/fd/3`, `/proc/self/fd/3`: a descriptor the shell opened (maybe to append), not a file to replace
  let at = followPath(process.cwd(), path);
  if (special(at) || special(dirname(at))) return path;
  for (let hops = 0; hops < 40; hops++) {
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st?.isSymbolicLink()) return (st && !st.isFile()) || hops === 0 ? path : at;
    const next = followPath(dirname(at), readlinkSync(at));
    if (special(next) || special(dirname(next))) return path;
    at = next;
  }
  return path; // a loop of links: the write fails on it, naming it
}

/**
 * `text` (a path, or a link's target) from directory `from`, as the kernel resolves it: each directory
 * on the way where it really is, so `..` leaves a linked directory for its real parent (`lnk/../x`
 * is beside where `lnk` points, not beside `lnk`; text normalized it to `x`). The last component is
 * not followed (it may be a link to look at); a part that does not exist stays as written.
 */
function followPath(from: string, text: string): string {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  let at = text.startsWith('/') ? '/' : real(resolve(from));
  const parts = text.split('/').filter((x) => x !== '' && x !== '.');
  parts.forEach((x, i) => {
    if (x === '..') at = dirname(real(at));
    else at = i < parts.length - 1 ? real(join(at, x)) : join(at, x);
  });
  return at;
}

/** Refuses (InvalidArgument, naming it) an output `path` that is a directory. */
export function refuseDirectory(path: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LakeSoulError('InvalidArgument', `${path} is a directory: give the file to write, e.g. ${join(path, 'export.parquet')}`, { context: { file: path } });
  }
}

/** Options of {@link writeOutputFile}. */
export interface WriteOutputFileOptions {
  /**
   * The caller's stop: given, the caller handles SIGINT/SIGTERM/SIGHUP itself (aborting this signal
   * makes `write` fail), and a write that completes after it was aborted does not replace `path`.
   */
  signal?: AbortSignal;
}

/**
 * Runs `write` on a temporary file beside `path`, then renames it over `path`. When `write` fails, or
 * the process gets SIGINT/SIGTERM/SIGHUP meanwhile, the temporary file is removed and `path` is left
 * as it was. Without `options.signal` a signal removes it and exits the process with 128 + its
 * number; with it, the caller's handler aborts the signal, `write` fails, the temporary file is
 * removed and the error is thrown (the caller says what happened). A symbolic link to a regular file
 * (or to none yet) is followed and its target replaced so; a `path` that exists and is not a regular
 * file (`/dev/stdout` and other links through `/dev` or `/proc`, a device, a named pipe) is written
 * directly; a directory is refused.
 */
export async function writeOutputFile<T>(named: string, write: (file: string) => Promise<T>, options: WriteOutputFileOptions = {}): Promise<T> {
  const path = outputTarget(named);
  const existing = lstatSync(path, { throwIfNoEntry: false });
  refuseDirectory(path);
  // a symbolic link (`/dev/stdout`, whose target may be a regular file the shell redirected to) or a
  // device or pipe is written through, never replaced
  if (existing && !existing.isFile()) return write(path);
  if (!existing && !statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory()) {
    throw new LakeSoulError('NotFound', `cannot write ${path}: its directory ${dirname(path)} does not exist`, { context: { file: path } });
  }
  const part = partialName(path);
  const remove = () => rmSync(part, { force: true });
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    remove();
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  const signals = options.signal ? [] : Object.keys(SIGNAL_EXIT_CODES) as (keyof typeof SIGNAL_EXIT_CODES)[];
  for (const s of signals) process.once(s, onSignal);
  try {
    const result = await write(part);
    // stopped just as the write completed: the caller reports an interrupted write, so nothing replaces `path`
    options.signal?.throwIfAborted();
    // the replaced file's permissions carry over (a 0600 export became 0644)
    if (existing) chmodSync(part, existing.mode & 0o7777);
    renameSync(part, path);
    return result;
  } catch (e) {
    remove();
    throw e;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/**
 * Whether `path` is this process's standard output (`/dev/stdout`, `/dev/fd/1`, or the file or pipe
 * it is redirected to): a command writing its result there says what it did on stderr instead.
 */
export function isStandardOutput(path: string): boolean {
  const target = statSync(path, { throwIfNoEntry: false });
  if (!target) return false;
  try {
    const stdout = fstatSync(1);
    return target.dev === stdout.dev && target.ino === stdout.ino;
  } catch {
    return false;
  }
}

/**
 * The file the user named for a file {@link writeOutputFile} writes under a temporary name
 * ({@link partialName}), or `file` itself.
 */
export function outputNameOf(file: string): string {
  const m = /^\.(.+)\.(\d+)\.part$/.exec(basename(file));
  return m && Number(m[2]) === process.pid ? join(dirname(file), m[1]!) : file;
}

/**
 * Opens `path` for writing (an error opening it is thrown here, not left to a stream event), runs
 * `write` on the stream, and resolves once everything is on disk. An error of the stream (a full
 * disk: ENOSPC, a failing device) rejects as an `Io` error naming the file (the file the user named,
 * not the temporary one); `write`'s next write fails with it (see `writeWithBackpressure`), so the
 * command stops instead of waiting for the stream.
 */
export async function withWriteStream<T>(path: string, write: (stream: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  const stream = createWriteStream(path);
  let failed: Error | undefined;
  stream.on('error', (e) => { failed ??= e; });
  try {
    await once(stream, 'open');
    const result = await write(stream);
    if (failed) throw failed;
    stream.end();
    await finished(stream);
    return result;
  } catch (e) {
    // the stream's error is set when it is destroyed, its 'error' event comes a tick later
    const streamError = failed ?? stream.errored ?? undefined;
    stream.destroy();
    if (streamError === undefined) throw e;
    const file = outputNameOf(path);
    throw new LakeSoulError('Io', `cannot write ${file}: ${streamError.message}`, { context: { file }, cause: streamError });
  }
}
