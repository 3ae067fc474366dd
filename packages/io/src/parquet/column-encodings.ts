/**
 * Per-column Parquet encoding choices for the writer: dictionary encoding only where it pays.
 *
 * parquet-wasm (arrow-rs) dictionary-encodes every column by default and falls back to plain only
 * once a dictionary page passes 1 MiB, so a column of unique values (a primary key, a measurement)
 * pays for a dictionary page that repeats the data plus the index pages. Such columns are written
 * without a dictionary, and integers and byte arrays then use the delta encodings (sorted keys and
 * shared prefixes cost almost nothing). These encodings are part of the Parquet format and read by
 * arrow-rs (LakeSoul's native IO, the `lakesoul` wheel), pyarrow, DuckDB and Spark >= 3.3.
 *
 * Compression is chosen per column too. The codec (zstd by default) compresses each data page on its
 * own, and its cost is paid per page on every write and every read; a column of bit-packed deltas
 * or of high-entropy floats gains a few percent from it (measured on 250k rows: sorted int64 keys
 * 2.4% at 2.4x the encode time; uniform random doubles 3.7% at 6x the encode and 5x the decode
 * time). Integer columns written DELTA_BINARY_PACKED are left uncompressed, and PLAIN floats when a
 * run of their values does not deflate by at least {@link MIN_COMPRESSION_GAIN}. Uncompressed column
 * chunks are plain Parquet, read by every reader.
 */
import { deflateRawSync } from 'node:zlib';
import { type Data, type Table, Type } from 'apache-arrow';
import { hashBytes } from '../arrow/data-access.js';

/** Rows sampled per column to estimate how many distinct values it holds. */
export const ENCODING_SAMPLE_ROWS = 4096;
/**
 * A column whose sample is at least this share of distinct values is written without a dictionary
 * (at 0.95 a 4Ki-row sample means about 40Ki or more distinct values: past what one 1 MiB
 * dictionary page holds for 8-byte values, and at most a few rows per value in a file of 256Ki).
 */
export const DICTIONARY_DISTINCT_SHARE = 0.95;

/** The encoding chosen for one top-level column. */
export interface ColumnEncodingChoice {
  column: string;
  /** false: no dictionary page. */
  dictionary: boolean;
  /** The value encoding used without a dictionary (undefined: the writer's default, PLAIN). */
  encoding?: 'DELTA_BINARY_PACKED' | 'DELTA_BYTE_ARRAY';
  /** false: the column's pages are written uncompressed, whatever the file's codec. */
  compressed?: boolean;
}

/** Share of its size a float column's sample must lose to deflate for the column to be compressed. */
export const MIN_COMPRESSION_GAIN = 0.1;

/**
 * Whether the values of a fixed-width column compress: one contiguous run of up to
 * {@link ENCODING_SAMPLE_ROWS} values (pages compress runs of neighbouring values, so a strided
 * sample would understate it) from the middle of its largest chunk, deflated at the fastest level.
 */
function valuesCompress(chunks: readonly Data[]): boolean {
  const d = chunks.reduce((a, b) => (b.length > a.length ? b : a));
  const vals = d.values as ArrayBufferView & { length: number };
  const width = vals.byteLength / Math.max(1, vals.length);
  const n = Math.min(d.length, ENCODING_SAMPLE_ROWS);
  if (n === 0) return true;
  const start = (d.length - n) >> 1;
  const bytes = new Uint8Array(vals.buffer, vals.byteOffset + start * width, n * width);
  return deflateRawSync(bytes, { level: 1 }).length <= bytes.length * (1 - MIN_COMPRESSION_GAIN);
}

/**
 * Value encoding of a column written without a dictionary (by Arrow type): undefined for PLAIN
 * (floating point), null for a type whose encoding is left to the writer.
 */
function plainEncodingOf(typeId: Type): ColumnEncodingChoice['encoding'] | null {
  switch (typeId) {
    // Unique floats (measurements, scores) gain nothing from a dictionary either: PLAIN is smaller,
    // and a selective read of a few pages does not have to decode a 1 MiB dictionary page first.
    case Type.Float:
      return undefined;
    // physical INT32 / INT64
    case Type.Int:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
      return 'DELTA_BINARY_PACKED';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      return 'DELTA_BYTE_ARRAY';
    default:
      return null;
  }
}

/**
 * Number of distinct non-null values among `want` rows sampled evenly from `chunks`, and the rows
 * sampled (byte values by their hash: an estimate, a collision lowers the count).
 */
function sampleDistinct(chunks: readonly Data[], want: number): { distinct: number; sampled: number } {
  const total = chunks.reduce((s, d) => s + d.length, 0);
  const step = Math.max(1, Math.ceil(total / want));
  const keys = new Float64Array(Math.min(total, want));
  let sampled = 0;
  let base = 0;
  let next = 0;
  for (const d of chunks) {
    const bm = d.nullBitmap;
    const hasNulls = bm !== undefined && bm.length > 0 && d.nullCount > 0;
    const byteArray = d.typeId === Type.Utf8 || d.typeId === Type.Binary || d.typeId === Type.LargeUtf8 || d.typeId === Type.LargeBinary;
    // values and offsets of an Arrow Data start at its offset already; the validity bitmap does not
    const vals = d.values as ArrayLike<number> & ArrayBufferView;
    // 8-byte values are keyed by hi * 2^32 + lo (lo signed): a distinct number per value below 2^53;
    // beyond, a collision only lowers the estimate
    const wide = vals instanceof BigInt64Array || vals instanceof BigUint64Array ? new Int32Array(vals.buffer, vals.byteOffset, 2 * d.length) : null;
    const offsets = byteArray ? (d.valueOffsets as ArrayLike<number | bigint>) : null;
    for (; next < base + d.length; next += step) {
      const i = next - base;
      const pos = d.offset + i;
      if (hasNulls && (bm![pos >> 3] & (1 << (pos & 7))) === 0) continue;
      if (sampled === keys.length) break;
      if (offsets !== null) keys[sampled++] = hashBytes(vals as unknown as Uint8Array, Number(offsets[i]), Number(offsets[i + 1]));
      else if (wide !== null) keys[sampled++] = wide[2 * i + 1] * 4294967296 + wide[2 * i];
      else keys[sampled++] = vals[i];
    }
    base += d.length;
  }
  // distinct keys: sort the sample (no hashing, no allocation per value) and count changes
  const sorted = keys.subarray(0, sampled).sort();
  let distinct = sampled > 0 ? 1 : 0;
  for (let i = 1; i < sampled; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return { distinct, sampled };
}

/**
 * Per top-level column of `table`: whether a dictionary pays (judged from a sample of
 * {@link ENCODING_SAMPLE_ROWS} rows) and, when it does not, the value encoding to use and whether
 * its pages are compressed. Integer-like, floating-point and byte-array columns are judged; other
 * columns keep the writer's defaults.
 */
export function chooseColumnEncodings(table: Table): ColumnEncodingChoice[] {
  const out: ColumnEncodingChoice[] = [];
  if (table.numRows === 0) return out;
  table.schema.fields.forEach((field, k) => {
    const encoding = plainEncodingOf(field.type.typeId);
    if (encoding === null) return;
    const chunks = table.batches.map((b) => b.data.children[k] as Data);
    const { distinct, sampled } = sampleDistinct(chunks, ENCODING_SAMPLE_ROWS);
    if (sampled === 0 || distinct < sampled * DICTIONARY_DISTINCT_SHARE) return;
    const choice: ColumnEncodingChoice = encoding === undefined ? { column: field.name, dictionary: false } : { column: field.name, dictionary: false, encoding };
    if (encoding === 'DELTA_BINARY_PACKED' || (encoding === undefined && !valuesCompress(chunks))) choice.compressed = false;
    out.push(choice);
  });
  return out;
}
