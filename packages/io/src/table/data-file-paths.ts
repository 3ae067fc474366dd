/**
 * Data-file locations at the LakeSoul boundary: directory names this project writes, and how a path
 * stored in `file_ops` is turned into an object location the way LakeSoul's native IO (the Rust core of
 * the `lakesoul` wheel, Spark's and Flink's native readers) does it.
 *
 * LakeSoul's native IO parses every stored path as a URL (WHATWG rules, as the Rust `url` crate
 * applies them) and percent-decodes the URL's path. So a stored path is not read where its raw text
 * points when it holds a tab, newline or carriage return (removed), `?` or `#` (the rest becomes a query
 * or fragment), `%XX` (decoded), a backslash in a `file:` URL (a path separator), or `.`/`..`
 * segments (applied). The wheel itself writes to that parsed location while storing the raw text.
 */
import type { ObjectStore } from '../types.js';
import type { StoreRegistry } from '../store/index.js';
import { LakeSoulError, nativeDataFileUri } from '@lakesoul-ts/meta';

/**
 * Characters escaped in partition directory names: those that URL parsing changes or drops (`%`, `?`,
 * `#`, `\`, `/`, and the control characters, which include tab, newline and carriage return), and `~`,
 * the escape character itself. Everything else (spaces, non-ASCII letters, other punctuation)
 * survives URL parsing and percent-decoding unchanged.
 */
const UNSAFE_IN_DIR = /[\u0000-\u001f\u007f%?#\\/~]/gu;

/**
 * One `column=value` directory name of a partition, as this project writes it: characters URL parsing
 * would change are written `~HH` (uppercase hex of each UTF-8 byte; `?` is `~3F`, `~` is `~7E`), so the
 * name reads back unchanged through LakeSoul's native IO, and distinct values get distinct names. The
 * value itself lives in `partition_desc`; readers never parse it from the path.
 */
export function partitionDirName(column: string, value: string, maxBytes: number = MAX_DIR_NAME_BYTES): string {
  const name = `${escapeDirText(column)}=${escapeDirText(value)}`;
  const bytes = Buffer.byteLength(name);
  if (bytes > maxBytes) {
    const short = (text: string) => `${text.slice(0, 60)}${text.length > 60 ? '…' : ''}`;
    const columnBytes = Buffer.byteLength(`${escapeDirText(column)}=`);
    const what = columnBytes > maxBytes / 2
      ? `range partition column name '${short(column)}' is too long for a directory: '<name>=' takes ${columnBytes} bytes`
      : `range partition column '${column}' value '${short(value)}' is too long for a directory: '${column}=<value>' takes ${bytes} bytes`;
    const limit = maxBytes === MAX_DIR_NAME_BYTES ? 'one directory of the table path' : `an S3 object key holds at most ${MAX_S3_KEY_BYTES} bytes`;
    throw new LakeSoulError('InvalidArgument', `${what} (at most ${maxBytes} bytes, ${limit}; ` +
      'characters URL parsing changes, such as ? # % / \\ and control characters, are written as 3 bytes ~HH each)', {
      code: 'INVALID_PARTITION_VALUE', context: { column, bytes },
    });
  }
  return name;
}

/** The longest directory name file systems take (ext4, xfs, HDFS's default): one partition level. */
export const MAX_DIR_NAME_BYTES = 255;

/** The longest object key S3 takes (the whole key: table path, partition levels and file name). */
export const MAX_S3_KEY_BYTES = 1024;

/** Whether `uri` names an S3 location (`s3://`, `s3a://`, `s3n://`). */
function isS3(uri: string): boolean {
  return /^s3[an]?:\/\//i.test(uri);
}

/**
 * The longest partition directory name of a table at `tablePath`: a file system's directory name
 * limit (255 bytes), except on S3, whose keys have no directories: there the whole key (table path,
 * partition levels, file name) holds 1024 bytes, checked as a whole when a file is named. LakeSoul's
 * engines write partition names over 255 bytes to S3, and this project writes into their partitions.
 */
export function partitionDirNameLimit(tablePath: string): number {
  return isS3(tablePath) ? MAX_S3_KEY_BYTES : MAX_DIR_NAME_BYTES;
}

/**
 * Refuses a data file URI on S3 whose object key (after the bucket) exceeds {@link MAX_S3_KEY_BYTES}:
 * S3 would refuse its upload with a raw `KeyTooLongError`. Other schemes pass.
 * @throws LakeSoulError InvalidArgument `PATH_TOO_LONG` naming the partition and the key's length.
 */
export function checkS3KeyLength(uri: string, partitionDesc: string): void {
  if (!isS3(uri)) return;
  const key = uri.replace(/^s3[an]?:\/\/[^/]*\/+/i, '');
  const bytes = Buffer.byteLength(key);
  if (bytes <= MAX_S3_KEY_BYTES) return;
  const shown = partitionDesc.length > 120 ? `${partitionDesc.slice(0, 120)}…` : partitionDesc;
  throw new LakeSoulError('InvalidArgument', `the data file of partition '${shown}' would have an S3 object key of ${bytes} bytes (S3 keys hold at most ${MAX_S3_KEY_BYTES} bytes: the table path, every partition level and the file name): use shorter partition values`, {
    code: 'PATH_TOO_LONG', context: { partition: partitionDesc, bytes },
  });
}

function escapeDirText(text: string): string {
  return text.replace(UNSAFE_IN_DIR, (c) => [...Buffer.from(c, 'utf8')].map((b) => `~${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

export { nativeDataFileUri, storedLocation } from '@lakesoul-ts/meta';

/**
 * The store and key of a data file whose path is stored in `file_ops`. Where LakeSoul's native IO
 * would read another location than the raw text names ({@link nativeDataFileUri}), that location is
 * used when it exists (files the wheel wrote live there); otherwise the raw spelling (files written
 * by lakesoul-ts before its directory names were made URL-safe live there).
 * @throws LakeSoulError from the store's `head` other than NotFound.
 */
export async function locateDataFile(stores: StoreRegistry, stored: string, signal?: AbortSignal): Promise<{ store: ObjectStore; key: string }> {
  const native = nativeDataFileUri(stored);
  const raw = stores.resolve(stored);
  if (native === stored) return raw;
  const loc = stores.resolve(native);
  if (loc.store === raw.store && loc.key === raw.key) return raw;
  try {
    await loc.store.head(loc.key, { signal });
    return loc;
  } catch (e) {
    if (e instanceof LakeSoulError && e.kind === 'NotFound') return raw;
    throw e;
  }
}
