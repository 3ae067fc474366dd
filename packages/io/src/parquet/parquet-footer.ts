/**
 * Reading a Parquet footer (FileMetaData) with ranged reads, without parquet-wasm: row counts,
 * column names and per-row-group column statistics for row-group pruning.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { ByteRange } from '../types.js';
import { ThriftDecodeError, readThriftStruct, type ThriftStruct, type ThriftValue } from './thrift-compact.js';
import { utf8Text } from '../arrow/data-access.js';

/** A decoded statistics value (see {@link ParquetColumnStats}). */
export type StatValue = number | bigint | string | boolean | Date | Uint8Array;

/**
 * Statistics of one column chunk. min/max are decoded to JS values: int8..int32 and uint8..uint32 ->
 * number; int64/uint64 -> bigint; float/double -> number; utf8 -> string; other byte arrays ->
 * Uint8Array; bool -> boolean; date -> Date (UTC midnight); timestamps -> Date with min rounded
 * DOWN and max rounded UP to the millisecond (so the bounds stay valid bounds). Decimals, INT96,
 * float16 and undecodable values -> null (no pruning). `nullCount` is null when not written.
 */
export interface ParquetColumnStats {
  /**
   * The chunk's leaf: its path in the schema, top-level column first (`['id']`, `['st', 'x']`,
   * `['lst', 'list', 'element']`). A name may hold a '.' (`['a.b']`), so take the top-level column
   * as `path[0]`, never by splitting a dotted key.
   */
  path: string[];
  min: StatValue | null;
  max: StatValue | null;
  nullCount: number | null;
  /** Byte offset of the chunk's first page (dictionary page if any). */
  offset: number;
  compressedSize: number;
  /** Parquet physical type, e.g. INT64, BYTE_ARRAY. */
  physicalType: string;
  /** Byte offset of the first data page. */
  dataPageOffset: number;
  /** Byte offset of the dictionary page, or null without one. */
  dictionaryPageOffset: number | null;
  /** Values in the chunk (rows, for a flat column). */
  numValues: number;
  /** Where the chunk's OffsetIndex (page locations) is, when the writer wrote a page index. */
  offsetIndex: { offset: number; length: number } | null;
  /** Where the chunk's ColumnIndex (per-page min/max/null counts) is, when written. */
  columnIndex: { offset: number; length: number } | null;
}

/** One row group of a footer. */
export interface ParquetRowGroupInfo {
  numRows: number;
  /** Byte range of the whole row group's column chunks. */
  offset: number;
  compressedSize: number;
  /**
   * The chunks by column, for lookups by name: a top-level flat column under its name (`id`, `a.b`
   * for a column named so), a nested leaf under its path joined with '.' (`st.x`,
   * `lst.list.element`) unless that is the name of a top-level column (then only in `chunks`).
   */
  columns: Record<string, ParquetColumnStats>;
  /** Every column chunk of the row group, in file (schema leaf) order, each with its leaf's path. */
  chunks: ParquetColumnStats[];
}

/** A decoded Parquet footer. */
export interface ParquetFooter {
  numRows: number;
  /** Top-level column names in file order. */
  columns: string[];
  rowGroups: ParquetRowGroupInfo[];
  createdBy: string | null;
  keyValueMetadata: Record<string, string>;
  /** Size of the Thrift footer in bytes (without the 8-byte trailer). */
  footerLength: number;
  /** The Thrift-encoded FileMetaData (a view into the bytes it was decoded from). */
  metadata: Uint8Array;
}

/**
 * Schema leaves of decoded footers, for decoding page statistics later ({@link decodeColumnIndex}),
 * under the keys of {@link ParquetRowGroupInfo.columns}.
 */
const leavesOfFooter = new WeakMap<ParquetFooter, Map<string, Leaf>>();

/** Options of {@link readParquetFooter}. */
export interface ReadFooterOptions {
  /** File name for messages. */
  file?: string;
  signal?: AbortSignal;
}

const PHYSICAL = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1

/**
 * Why a `.vortex` file is refused, and what fixes it for the writer: LakeSoul's Python wheel writes
 * Vortex unless a write says `format="parquet"` (it stores no table-level format; docs/interop.md).
 */
const VORTEX_HINT = ' (Vortex files, the LakeSoul 4.0 default, are not supported: lakesoul-ts reads Parquet only; ' +
  'write the table\'s data as Parquet, with LakeSoul\'s Python wheel `write_arrow(..., format="parquet")`)';

/** The "unsupported file format" error for a file that is not Parquet. */
export function unsupportedFormat(file: string | undefined, detail: string): LakeSoulError {
  const name = file ?? '<bytes>';
  const vortex = /\.vortex$/i.test(name);
  return new LakeSoulError(
    'Unsupported',
    `unsupported file format: '${name}' is not a Parquet file${vortex ? VORTEX_HINT : ''} (${detail})`,
    { code: 'UNSUPPORTED_FILE_FORMAT', context: { file: name } },
  );
}

/**
 * Throw the unsupported-format error unless `bytes` starts and ends with the Parquet magic (only ends,
 * with `tailOnly`: `bytes` is the end of a file).
 */
export function assertParquetMagic(bytes: Uint8Array, file?: string, tailOnly = false): void {
  const n = bytes.length;
  if (/\.vortex$/i.test(file ?? '')) throw unsupportedFormat(file, 'Vortex file');
  if (n < (tailOnly ? 8 : 12)) throw unsupportedFormat(file, `only ${n} bytes`);
  for (let k = 0; k < 4; k++) {
    if ((!tailOnly && bytes[k] !== MAGIC[k]) || bytes[n - 4 + k] !== MAGIC[k]) throw unsupportedFormat(file, 'no PAR1 magic');
  }
}

interface Leaf {
  path: string[];
  physical: number;
  logical: ThriftStruct | null;
  converted: number | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a leading U+FEFF is part of a value

function num(v: ThriftValue | undefined): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
}

function str(v: ThriftValue | undefined): string {
  return v instanceof Uint8Array ? utf8Text(v) : '';
}

/** Decode a plain-encoded statistics value for `leaf`; null when not decodable or not comparable. */
function decodeStat(leaf: Leaf, raw: Uint8Array, bound: 'min' | 'max'): StatValue | null {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const lt = leaf.logical;
  const conv = leaf.converted;
  const isDecimal = (lt !== null && lt.has(5)) || conv === 5;
  if (isDecimal) return null;
  const intType = lt?.get(10) as ThriftStruct | undefined;
  const unsigned = (intType !== undefined && intType.get(2) === false) || (conv !== null && conv >= 11 && conv <= 14);
  const tsType = lt?.get(8) as ThriftStruct | undefined;
  const timestampUnit = tsType !== undefined ? unitOf(tsType.get(2) as ThriftStruct) : conv === 9 ? 1 : conv === 10 ? 1000 : conv === null ? 0 : 0;
  // timestampUnit: ticks per millisecond (1 = ms, 1000 = us, 1e6 = ns), 0 = not a timestamp
  const isDate = (lt !== null && lt.has(6)) || conv === 6;
  try {
    switch (leaf.physical) {
      case 0:
        return raw.length >= 1 ? raw[0] !== 0 : null;
      case 1: {
        if (raw.length < 4) return null;
        if (isDate) return new Date(dv.getInt32(0, true) * 86400000);
        return unsigned ? dv.getUint32(0, true) : dv.getInt32(0, true);
      }
      case 2: {
        if (raw.length < 8) return null;
        const v = unsigned ? dv.getBigUint64(0, true) : dv.getBigInt64(0, true);
        if (timestampUnit > 0) {
          const per = BigInt(timestampUnit);
          let ms = v / per;
          const rem = v % per;
          if (rem !== 0n) {
            if (bound === 'min' && v < 0n) ms -= 1n;
            if (bound === 'max' && v > 0n) ms += 1n;
          }
          return new Date(Number(ms));
        }
        return v;
      }
      case 4:
        return raw.length >= 4 ? dv.getFloat32(0, true) : null;
      case 5:
        return raw.length >= 8 ? dv.getFloat64(0, true) : null;
      case 6: {
        const isString = (lt !== null && (lt.has(1) || lt.has(4) || lt.has(12))) || conv === 0 || conv === 4 || conv === 19;
        if (isString) return utf8.decode(raw);
        return new Uint8Array(raw); // a copy (a Node Buffer's slice() would be a view of the footer)
      }
      default:
        return null;
    }
  } catch {
    return null; // e.g. a truncated multi-byte UTF-8 sequence
  }
}

function unitOf(u: ThriftStruct | undefined): number {
  if (u === undefined) return 0;
  if (u.has(1)) return 1;
  if (u.has(2)) return 1000;
  if (u.has(3)) return 1_000_000;
  return 0;
}

function leavesOf(schema: ThriftStruct[]): { leaves: Leaf[]; top: string[] } {
  const leaves: Leaf[] = [];
  const top: string[] = [];
  let i = 1; // element 0 is the root
  const walk = (prefix: string[], depth: number): void => {
    const el = schema[i++];
    if (el === undefined) throw new ThriftDecodeError('schema ends early');
    const name = str(el.get(4));
    if (depth === 0) top.push(name);
    const path = [...prefix, name];
    const children = num(el.get(5));
    if (el.has(5) && children >= 0 && !el.has(1)) {
      for (let c = 0; c < children; c++) walk(path, depth + 1);
    } else {
      leaves.push({
        path,
        physical: num(el.get(1)),
        logical: (el.get(10) as ThriftStruct | undefined) ?? null,
        converted: el.has(6) ? num(el.get(6)) : null,
      });
    }
  };
  const rootChildren = num(schema[0]?.get(5));
  for (let c = 0; c < rootChildren; c++) walk([], 0);
  return { leaves, top };
}

/**
 * The key of a leaf in {@link ParquetRowGroupInfo.columns}: a top-level column's name, or a nested
 * leaf's dotted path; null for a nested leaf whose dotted path is a top-level column's name.
 */
function columnKey(path: string[], top: ReadonlySet<string>): string | null {
  if (path.length === 1) return path[0];
  const dotted = path.join('.');
  return top.has(dotted) ? null : dotted;
}

/**
 * Whether a decoder reading the top-level `columns` of a file may read `chunk`: a chunk of one of
 * them (its leaf path starts with the column), and, for parquet-wasm, which picks leaves by their
 * dotted paths, a chunk whose dotted path is a column's name or starts with it and a '.' (the
 * column `s.x` of a file with a struct `s`, when `s` is read). Fetch these chunks of a file that
 * is decoded from a sparse copy.
 */
export function chunkReadWith(chunk: ParquetColumnStats, columns: readonly string[]): boolean {
  if (columns.includes(chunk.path[0])) return true;
  const dotted = chunk.path.join('.');
  return columns.some((c) => dotted === c || dotted.startsWith(`${c}.`));
}

function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/** Decode FileMetaData bytes (the Thrift footer without trailer). */
export function decodeFileMetaData(footer: Uint8Array, file?: string): ParquetFooter {
  try {
    const fm = readThriftStruct(footer);
    const schema = (fm.get(2) as ThriftStruct[] | undefined) ?? [];
    const { leaves, top } = leavesOf(schema);
    const topSet = new Set(top);
    const byKey = new Map<string, Leaf>();
    for (const l of leaves) {
      const k = columnKey(l.path, topSet);
      if (k !== null) byKey.set(k, l);
    }
    const rowGroups: ParquetRowGroupInfo[] = ((fm.get(4) as ThriftStruct[] | undefined) ?? []).map((rg) => {
      const columns: Record<string, ParquetColumnStats> = {};
      const chunks: ParquetColumnStats[] = [];
      let start = Infinity;
      let compressed = 0;
      ((rg.get(1) as ThriftStruct[] | undefined) ?? []).forEach((cc, index) => {
        const md = cc.get(3) as ThriftStruct | undefined;
        if (md === undefined) return;
        const path = ((md.get(3) as Uint8Array[] | undefined) ?? []).map((p) => str(p));
        // chunks come in leaf order; the path names the leaf when a writer's order differs
        const leaf = (leaves[index] !== undefined && samePath(leaves[index].path, path) ? leaves[index] : leaves.find((l) => samePath(l.path, path))) ??
          { path, physical: num(md.get(1)), logical: null, converted: null };
        const offset = md.has(11) ? num(md.get(11)) : num(md.get(9));
        const size = num(md.get(7));
        start = Math.min(start, offset);
        compressed += size;
        const st = md.get(12) as ThriftStruct | undefined;
        let min: StatValue | null = null;
        let max: StatValue | null = null;
        let nullCount: number | null = null;
        if (st !== undefined) {
          const minRaw = (st.get(6) ?? (leaf.physical !== 6 && leaf.physical !== 7 ? st.get(2) : undefined)) as Uint8Array | undefined;
          const maxRaw = (st.get(5) ?? (leaf.physical !== 6 && leaf.physical !== 7 ? st.get(1) : undefined)) as Uint8Array | undefined;
          if (minRaw !== undefined && maxRaw !== undefined) {
            min = decodeStat(leaf, minRaw, 'min');
            max = decodeStat(leaf, maxRaw, 'max');
            if (min === null || max === null) min = max = null;
          }
          if (st.has(3)) nullCount = num(st.get(3));
        }
        const range = (o: number, l: number) => (cc.has(o) && cc.has(l) ? { offset: num(cc.get(o)), length: num(cc.get(l)) } : null);
        const chunk: ParquetColumnStats = {
          path,
          min,
          max,
          nullCount,
          offset,
          compressedSize: size,
          physicalType: PHYSICAL[leaf.physical] ?? 'UNKNOWN',
          dataPageOffset: num(md.get(9)),
          dictionaryPageOffset: md.has(11) ? num(md.get(11)) : null,
          numValues: num(md.get(5)),
          offsetIndex: range(4, 5),
          columnIndex: range(6, 7),
        };
        chunks.push(chunk);
        const key = columnKey(path, topSet);
        if (key !== null) columns[key] = chunk;
      });
      return { numRows: num(rg.get(3)), offset: start === Infinity ? 0 : start, compressedSize: compressed, columns, chunks };
    });
    const kv: Record<string, string> = {};
    for (const e of (fm.get(5) as ThriftStruct[] | undefined) ?? []) kv[str(e.get(1))] = str(e.get(2));
    const out: ParquetFooter = {
      numRows: num(fm.get(3)),
      columns: top,
      rowGroups,
      createdBy: fm.has(6) ? str(fm.get(6)) : null,
      keyValueMetadata: kv,
      footerLength: footer.length,
      metadata: footer,
    };
    leavesOfFooter.set(out, byKey);
    return out;
  } catch (e) {
    // a field of another Thrift type than the format's makes the accessors throw TypeError
    if (e instanceof ThriftDecodeError || e instanceof RangeError || e instanceof TypeError) {
      throw new LakeSoulError('Io', `corrupt Parquet footer in '${file ?? '<bytes>'}': ${e.message}`, {
        code: 'CORRUPT_FILE',
        context: { file },
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Read and decode the footer of a Parquet file of `fileSize` bytes, from its bytes or through a
 * ranged-read function (two small reads: the 8-byte trailer, then the footer). A file that is not
 * Parquet (e.g. `.vortex`) is an Unsupported "unsupported file format" error naming the file.
 */
export async function readParquetFooter(
  source: Uint8Array | ((range: ByteRange) => Promise<Uint8Array>),
  fileSize: number,
  options: ReadFooterOptions = {},
): Promise<ParquetFooter> {
  const { file, signal } = options;
  if (/\.vortex$/i.test(file ?? '')) throw unsupportedFormat(file, 'Vortex file');
  if (fileSize < 12) throw unsupportedFormat(file, `only ${fileSize} bytes`);
  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    signal?.throwIfAborted();
    if (source instanceof Uint8Array) return source.subarray(offset, offset + length);
    const out = await source({ offset, length });
    if (out.length !== length) {
      throw new LakeSoulError('Io', `short read of '${file ?? '<file>'}': wanted ${length} bytes at ${offset}, got ${out.length}`, {
        context: { file },
      });
    }
    return out;
  };
  // one read of the tail usually covers the footer too
  const guess = Math.min(fileSize, 64 * 1024);
  const tail = await read(fileSize - guess, guess);
  const trailer = tail.subarray(tail.length - 8);
  for (let k = 0; k < 4; k++) {
    if (trailer[4 + k] !== MAGIC[k]) throw unsupportedFormat(file, 'no PAR1 magic at the end');
  }
  const len = new DataView(trailer.buffer, trailer.byteOffset, 8).getUint32(0, true);
  if (len + 12 > fileSize) {
    throw new LakeSoulError('Io', `corrupt Parquet footer in '${file ?? '<bytes>'}': footer length ${len} exceeds the file`, {
      code: 'CORRUPT_FILE',
      context: { file },
    });
  }
  const footer = len + 8 <= tail.length ? tail.subarray(tail.length - 8 - len, tail.length - 8) : await read(fileSize - 8 - len, len);
  return decodeFileMetaData(footer, file);
}

/** Location of one data page of a column chunk (from its OffsetIndex). */
export interface PageLocation {
  offset: number;
  compressedSize: number;
  /** Index within the row group of the page's first row. */
  firstRow: number;
}

/** Decodes a column chunk's OffsetIndex (the Thrift bytes at {@link ParquetColumnStats.offsetIndex}). */
export function decodeOffsetIndex(bytes: Uint8Array, file?: string): PageLocation[] {
  try {
    const oi = readThriftStruct(bytes);
    return ((oi.get(1) as ThriftStruct[] | undefined) ?? []).map((p) => ({ offset: num(p.get(1)), compressedSize: num(p.get(2)), firstRow: num(p.get(3)) }));
  } catch (e) {
    throw corruptIndex(e, file);
  }
}

/**
 * Decodes a column chunk's ColumnIndex into per-page statistics (same decoding as chunk statistics;
 * a page holding only nulls has no min/max). Null when its values cannot be decoded for this column.
 * `path` is the chunk's key in {@link ParquetRowGroupInfo.columns} (a top-level column's name).
 */
export function decodeColumnIndex(bytes: Uint8Array, footer: ParquetFooter, path: string, file?: string): Pick<ParquetColumnStats, 'min' | 'max' | 'nullCount'>[] | null {
  const leaf = leavesOfFooter.get(footer)?.get(path);
  if (leaf === undefined) return null;
  try {
    const ci = readThriftStruct(bytes);
    const nullPages = (ci.get(1) as boolean[] | undefined) ?? [];
    const mins = (ci.get(2) as Uint8Array[] | undefined) ?? [];
    const maxs = (ci.get(3) as Uint8Array[] | undefined) ?? [];
    const nulls = ci.get(5) as ThriftValue[] | undefined;
    return nullPages.map((allNull, i) => {
      const min = allNull ? null : decodeStat(leaf, mins[i], 'min');
      const max = allNull ? null : decodeStat(leaf, maxs[i], 'max');
      return { min: min === null || max === null ? null : min, max: min === null || max === null ? null : max, nullCount: nulls ? num(nulls[i]) : null };
    });
  } catch (e) {
    throw corruptIndex(e, file);
  }
}

function corruptIndex(e: unknown, file: string | undefined): unknown {
  if (!(e instanceof ThriftDecodeError || e instanceof RangeError)) return e;
  return new LakeSoulError('Io', `corrupt Parquet page index in '${file ?? '<bytes>'}': ${e.message}`, { code: 'CORRUPT_FILE', context: { file }, cause: e });
}
