/**
 * Arrow IPC <-> Flight framing. An IPC stream is a sequence of encapsulated messages
 * (`0xFFFFFFFF`, int32 metadata length, flatbuffer `Message` padded to 8, body); a FlightData carries
 * one of them, the flatbuffer in `data_header` and the body in `data_body`. The schema travels first
 * with an empty body, then dictionary batches (if any) and record batches.
 */
import {
  type Data,
  DataType,
  Message,
  MessageHeader,
  MetadataVersion,
  Type,
  UnionMode,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Schema,
  Table,
  Vector,
  Dictionary,
  type Field,
} from 'apache-arrow';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { DictionaryBatch, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { LakeSoulError, throwIfAborted } from '@lakesoul-ts/meta';
import { batchWithKnownNullCounts, checkSchemaSize, validateRecordBatch } from '@lakesoul-ts/io';
import type { FlightDataMessage, FlightDescriptorMessage } from './flight-proto.js';
import type { FrameAllocator } from './frame-buffers.js';

/** Default bound on one FlightData message: the 4 MiB default receive limit of gRPC clients. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Room kept below the bound for the protobuf envelope (tags, lengths, descriptor, metadata). */
const ENVELOPE_SLACK = 16 * 1024;

const CONTINUATION = 0xffffffff;

/** One IPC message: the flatbuffer header and the body bytes. */
export interface IpcMessageParts {
  header: Uint8Array;
  body: Uint8Array;
  headerType: MessageHeader;
}

/** Splits the bytes of an IPC stream into its messages (views into `bytes`, no copy). Stops at EOS. */
export function splitIpcStream(bytes: Uint8Array): IpcMessageParts[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: IpcMessageParts[] = [];
  let pos = 0;
  while (pos + 4 <= bytes.byteLength) {
    let len = view.getInt32(pos, true);
    pos += 4;
    if (len === -1) {
      // continuation marker (>= 0.15 format); the real length follows
      if (pos + 4 > bytes.byteLength) break;
      len = view.getInt32(pos, true);
      pos += 4;
    }
    if (len === 0) break; // end-of-stream
    const header = bytes.subarray(pos, pos + len);
    pos += len;
    const message = Message.decode(header);
    const bodyLength = Number(message.bodyLength);
    const body = bytes.subarray(pos, pos + bodyLength);
    pos += bodyLength;
    out.push({ header, body, headerType: message.headerType });
  }
  return out;
}

/** The encapsulated IPC schema message of `schema` (FlightInfo.schema, SchemaResult.schema). */
export function schemaToIpcMessage(schema: Schema): Uint8Array {
  checkIpcExpressible(schema);
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  const bytes = writer.finish().toUint8Array(true);
  const parts = splitIpcStream(bytes);
  const first = parts[0];
  if (!first || first.headerType !== MessageHeader.Schema) throw new LakeSoulError('Internal', 'Arrow IPC writer did not produce a schema message');
  return encapsulate(first.header, first.body);
}

/** Decodes an encapsulated IPC schema message (also accepts a bare flatbuffer `Message`). */
export function schemaFromIpcMessage(bytes: Uint8Array): Schema {
  if (bytes.byteLength === 0) throw new LakeSoulError('InvalidArgument', 'empty Arrow schema message');
  let header = bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength >= 8 && view.getUint32(0, true) === CONTINUATION) {
    header = bytes.subarray(8, 8 + view.getInt32(4, true));
  }
  try {
    const message = Message.decode(aligned(header));
    if (!message.isSchema()) throw new Error(`message type ${MessageHeader[message.headerType]} is not a Schema`);
    return message.header();
  } catch (e) {
    throw new LakeSoulError('InvalidArgument', `invalid Arrow IPC schema message: ${(e as Error).message}`, { cause: e });
  }
}

/** `0xFFFFFFFF`, padded length, header padded to 8, body: one encapsulated IPC message. */
export function encapsulate(header: Uint8Array, body: Uint8Array): Uint8Array {
  const padded = (header.byteLength + 7) & ~7;
  const out = new Uint8Array(8 + padded + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setInt32(4, padded, true);
  out.set(header, 8);
  out.set(body, 8 + padded);
  return out;
}

function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // a copy (a Buffer's slice() is a view)
}

/** Options of {@link recordBatchesToFlightData}. */
export interface EncodeOptions {
  /** Bound on one FlightData message in bytes (default 4 MiB); larger batches are split by rows. */
  maxMessageBytes?: number;
  /**
   * A single row that alone is over `maxMessageBytes` is still sent, in one message of up to this
   * many bytes (default `maxMessageBytes`: such a row is an error). The server sets it to the
   * largest message it receives, so a row a DoPut could write can be read back.
   */
  maxRowMessageBytes?: number;
  /** What to raise, named in the error of a single row over the bound (default: maxMessageBytes and the client's receive limit). */
  rowBoundHint?: string;
  /** Descriptor to put on the first message (DoPut). */
  descriptor?: FlightDescriptorMessage;
  /** Stops the encoding between batches. */
  signal?: AbortSignal;
}

/**
 * Encodes the IPC messages of one batch on its own (its dictionaries, with the ids of its own schema,
 * then the record batch; the schema is dropped). A stream of several batches numbers dictionaries by
 * its schema instead ({@link recordBatchesToFlightData}).
 */
function encodeBatch(batch: RecordBatch): IpcMessageParts[] {
  const bytes = RecordBatchStreamWriter.writeAll([batchWithKnownNullCounts(batch)]).toUint8Array(true);
  return splitIpcStream(bytes).filter((m) => m.headerType !== MessageHeader.Schema);
}

function messageSize(parts: IpcMessageParts[]): number {
  let max = 0;
  for (const p of parts) max = Math.max(max, p.header.byteLength + p.body.byteLength);
  return max;
}

/**
 * Encodes `batch` into IPC messages of at most `limit` bytes each, splitting it by rows when needed.
 * A single row that does not fit is an error naming its size and the bound.
 */
export function encodeBatchBounded(batch: RecordBatch, limit: number, what = 'batch', row: RowBound = { limit }): IpcMessageParts[][] {
  const parts = encodeBatch(batch);
  const size = messageSize(parts);
  if (size <= limit || (batch.numRows === 1 && size <= row.limit)) return [parts];
  return rowPieces(batch, size, limit, what, row).flatMap((piece) => encodeBatchBounded(piece, limit, what, row));
}

/** The bound of a message holding a single row (at least the message bound), and what to raise past it. */
interface RowBound {
  limit: number;
  hint?: string;
}

const DEFAULT_ROW_BOUND_HINT = "raise maxMessageBytes (and the client's max receive message length)";

/** The {@link RowBound} of `options` (`limit`: the message bound, envelope slack taken off). */
function rowBoundOf(options: Pick<EncodeOptions, 'maxRowMessageBytes' | 'rowBoundHint'>, limit: number): RowBound {
  const rowLimit = options.maxRowMessageBytes === undefined ? limit : Math.max(limit, options.maxRowMessageBytes - ENVELOPE_SLACK);
  return { limit: rowLimit, hint: options.rowBoundHint };
}

/**
 * `batch` (of `size` encoded bytes, over `limit`) cut by rows into pieces expected to fit, with some
 * margin for uneven row sizes. A single row is an error naming its size and the bound.
 */
function rowPieces(batch: RecordBatch, size: number, limit: number, what: string, row: RowBound = { limit }): RecordBatch[] {
  if (batch.numRows <= 1) {
    const bound = row.limit > limit ? `the bound of a single-row Flight message, ${row.limit} bytes` : `the Flight message bound of ${limit} bytes`;
    throw new LakeSoulError('InvalidArgument', `a single row of ${what} encodes to ${size} bytes, over ${bound}; ${row.hint ?? DEFAULT_ROW_BOUND_HINT}`, {
      code: 'ROW_OVER_MESSAGE_BOUND',
      context: { bytes: size, bound: row.limit },
    });
  }
  const pieces = Math.min(batch.numRows, Math.max(2, Math.ceil((size / limit) * 1.2)));
  const step = Math.ceil(batch.numRows / pieces);
  const out: RecordBatch[] = [];
  for (let begin = 0; begin < batch.numRows; begin += step) out.push(batch.slice(begin, Math.min(batch.numRows, begin + step)));
  return out;
}

function toFlightData(p: { header: Uint8Array; body: Uint8Array }, descriptor?: FlightDescriptorMessage): FlightDataMessage {
  return {
    flight_descriptor: descriptor ?? null,
    data_header: Buffer.from(p.header.buffer, p.header.byteOffset, p.header.byteLength),
    app_metadata: Buffer.alloc(0),
    data_body: Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength),
  };
}

/** The FlightData message carrying `schema` (empty body). */
export function schemaToFlightData(schema: Schema, descriptor?: FlightDescriptorMessage): FlightDataMessage {
  const encapsulated = schemaToIpcMessage(schema);
  const len = new DataView(encapsulated.buffer, encapsulated.byteOffset).getInt32(4, true);
  return toFlightData({ header: encapsulated.subarray(8, 8 + len), body: new Uint8Array(0) }, descriptor);
}

/** FlightData messages for one batch, each within `maxMessageBytes`. */
export function batchToFlightData(batch: RecordBatch, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES, what?: string): FlightDataMessage[] {
  const limit = Math.max(1024, maxMessageBytes - ENVELOPE_SLACK);
  return encodeBatchBounded(batch, limit, what).flat().map((p) => toFlightData(p));
}

/**
 * The FlightData stream of `schema` + `batches`: the schema message first (carrying the descriptor
 * when given), then each batch split to fit `maxMessageBytes`. Lazy: pulls one batch at a time.
 */
export async function* recordBatchesToFlightData(
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  options: EncodeOptions = {},
): AsyncGenerator<FlightDataMessage> {
  yield schemaToFlightData(schema, options.descriptor);
  const limit = Math.max(1024, (options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) - ENVELOPE_SLACK);
  const row = rowBoundOf(options, limit);
  const dictionaries = schema.fields.some((f) => hasDictionary(f.type)) ? new StreamDictionaries(schema) : null;
  for await (const batch of batches) {
    throwIfAborted(options.signal, 'encoding a Flight stream');
    if (batch.numRows === 0) continue;
    if (dictionaries) for (const p of dictionaries.messages(batch, limit, row)) yield toFlightData(p);
    for (const p of recordBatchBounded(batch, limit, 'batch', row)) yield toFlightData(p);
  }
}

/**
 * The record batch message of `batch` (its dictionary columns' indices only: their values travel in
 * dictionary batches), split by rows into messages of at most `limit` bytes.
 */
function recordBatchBounded(batch: RecordBatch, limit: number, what: string, row: RowBound): IpcMessageParts[] {
  const assembled = VectorAssembler.assemble(batchWithKnownNullCounts(batch));
  const header = Message.encode(Message.from(new RecordBatchHeader(batch.numRows, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts), assembled.byteLength));
  const size = header.byteLength + assembled.byteLength;
  if (size <= limit || (batch.numRows === 1 && size <= row.limit)) return [{ header, body: assembledBody(assembled), headerType: MessageHeader.RecordBatch }];
  return rowPieces(batch, size, limit, what, row).flatMap((piece) => recordBatchBounded(piece, limit, what, row));
}

/** The body bytes of assembled buffers: each at its region's offset, zeros between (Arrow's 8-byte padding). */
function assembledBody(assembled: VectorAssembler): Uint8Array {
  const body = new Uint8Array(assembled.byteLength);
  assembled.buffers.forEach((b, i) => body.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), assembled.bufferRegions[i].offset));
  return body;
}

/**
 * The dictionaries of one IPC stream, numbered by its schema's dictionary ids (each dictionary-typed
 * field carries its own id, also one nested in a list, a struct or a dictionary's values). Batches
 * built separately (two `tableFromArrays` tables) have dictionaries of other ids than the schema's,
 * which a reader cannot resolve: each batch's dictionary goes out under the id of the schema's field
 * at its place, as a replacement when it is another dictionary than the one sent last, as a delta
 * when it extends it (Arrow JS grows a dictionary by chunks), and not again when it is the same. The
 * dictionaries in a dictionary's values (`dictionary<list<dictionary<utf8>>>`) go out before the
 * chunk of values that uses them: a reader resolves them when it loads that chunk.
 */
class StreamDictionaries {
  /** Per id: the chunks the reader holds (those sent since the last replacement, in order). */
  private readonly sent = new Map<number, Data[]>();

  constructor(private readonly schema: Schema) {}

  /** The dictionary batch messages to send before `batch` (none when its dictionaries went out already). */
  messages(batch: RecordBatch, limit: number, row: RowBound): IpcMessageParts[] {
    const out: IpcMessageParts[] = [];
    const fields = this.schema.fields;
    const columns = batch.data.children;
    if (columns.length !== fields.length) {
      throw new LakeSoulError('SchemaMismatch', `a batch of ${columns.length} column${columns.length === 1 ? '' : 's'} does not match the stream's schema, which has ${fields.length}`, {
        context: { columns: columns.length, expected: fields.length },
      });
    }
    fields.forEach((f, i) => this.walk(f.type, columns[i], `'${f.name}'`, out, limit, row));
    return out;
  }

  /** Sends the dictionaries of `data`, which is at `path` where the schema has a field of `type`. */
  private walk(type: DataType, data: Data, path: string, out: IpcMessageParts[], limit: number, row: RowBound): void {
    const dictionary = DataType.isDictionary(type);
    if (dictionary !== DataType.isDictionary(data.type) || (!dictionary && (type.children ?? []).length !== data.children.length)) {
      throw new LakeSoulError('SchemaMismatch', `column ${path} of a batch is ${data.type}, which does not match the stream's schema (${type})`, {
        context: { column: path },
      });
    }
    if (dictionary) {
      this.send(type as Dictionary, data.dictionary, path, out, limit, row);
      return;
    }
    (type.children ?? []).forEach((f: Field, i: number) => this.walk(f.type, data.children[i], `${path}.${f.name}`, out, limit, row));
  }

  /** Sends what the reader lacks of `dictionary`, under `type`'s id, after the dictionaries in its values. */
  private send(type: Dictionary, dictionary: Vector | undefined, path: string, out: IpcMessageParts[], limit: number, row: RowBound): void {
    const chunks = dictionary?.data ?? [];
    if (chunks.length === 0) return;
    const id = type.id;
    const held = this.sent.get(id) ?? [];
    const shared = sharedPrefix(held, chunks);
    // the reader holds all of this dictionary (a builder's earlier batch after a later one):
    // its indices resolve in what was sent, which stays as it is
    if (shared === chunks.length) return;
    // what the reader holds is the start of this dictionary: the rest as deltas; else a replacement
    const from = shared === held.length ? shared : 0;
    const nested = hasDictionary(type.dictionary);
    for (let c = from; c < chunks.length; c++) {
      if (nested) this.walk(type.dictionary, chunks[c], `${path} (dictionary values)`, out, limit, row);
      out.push(...dictionaryBounded(chunks[c], id, c > 0, limit, row));
    }
    this.sent.set(id, [...chunks]);
  }
}

/**
 * Refuses a schema with a dictionary whose values are themselves dictionary-encoded
 * (`Dictionary<Int32, Dictionary<Int32, Utf8>>`): an IPC field has one dictionary encoding, so its
 * schema message cannot say so (Arrow JS writes an invalid type; pyarrow drops the inner level, and
 * its dictionary batches then carry the inner indices as the values). Dictionaries inside the values'
 * children (`Dictionary<Int32, List<Dictionary<Int32, Utf8>>>`) are fine.
 */
function checkIpcExpressible(schema: Schema): void {
  const walk = (type: DataType, path: string): void => {
    if (DataType.isDictionary(type)) {
      const values = (type as Dictionary).dictionary;
      if (DataType.isDictionary(values)) {
        throw new LakeSoulError('Unsupported', `column ${path} is ${type}: a dictionary whose values are themselves dictionary-encoded cannot travel in an Arrow IPC stream (its schema cannot express it); send the values decoded, as ${new Dictionary(values.dictionary, (type as Dictionary).indices)} or ${values.dictionary}`, {
          code: 'UNSUPPORTED_COLUMN_TYPE',
          context: { column: path },
        });
      }
      walk(values, `${path} (dictionary values)`);
      return;
    }
    for (const f of type.children ?? []) walk(f.type, `${path}.${f.name}`);
  };
  for (const f of schema.fields) walk(f.type, `'${f.name}'`);
}

/** How many chunks `a` and `b` share from their start (the same Data objects). */
function sharedPrefix(a: readonly Data[], b: readonly Data[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/**
 * The dictionary batch message of `chunk` under `id` (`isDelta`: it extends the dictionary sent
 * before), split into a first message and deltas of at most `limit` bytes when larger.
 */
function dictionaryBounded(chunk: Data, id: number, isDelta: boolean, limit: number, row: RowBound): IpcMessageParts[] {
  const assembled = VectorAssembler.assemble(new Vector([chunk]));
  const data = new RecordBatchHeader(chunk.length, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts);
  const header = Message.encode(Message.from(new DictionaryBatch(data, id, isDelta), assembled.byteLength));
  const size = header.byteLength + assembled.byteLength;
  if (size <= limit || (chunk.length === 1 && size <= row.limit)) return [{ header, body: assembledBody(assembled), headerType: MessageHeader.DictionaryBatch }];
  if (chunk.length <= 1) {
    throw new LakeSoulError('InvalidArgument', `a single value of dictionary ${id} encodes to ${size} bytes, over the Flight message bound of ${row.limit} bytes; ${row.hint ?? DEFAULT_ROW_BOUND_HINT}`, {
      code: 'ROW_OVER_MESSAGE_BOUND',
      context: { bytes: size, bound: row.limit },
    });
  }
  const pieces = Math.min(chunk.length, Math.max(2, Math.ceil((size / limit) * 1.2)));
  const step = Math.ceil(chunk.length / pieces);
  const out: IpcMessageParts[] = [];
  for (let begin = 0; begin < chunk.length; begin += step) {
    out.push(...dictionaryBounded(chunk.slice(begin, Math.min(chunk.length, begin + step) - begin), id, isDelta || begin > 0, limit, row));
  }
  return out;
}

/**
 * The FlightData stream of `schema` + `batches` as serialized protobuf messages (what a server writes
 * with {@link withPreEncodedFlightData}): the same messages as {@link recordBatchesToFlightData}
 * (no descriptor), but each batch's buffers are copied once, straight into its message, and its size
 * is known before any copy (a batch over the bound is split by rows without being encoded first).
 */
export async function* recordBatchesToFlightFrames(
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  options: FrameEncodeOptions = {},
): AsyncGenerator<Buffer> {
  const buffers = options.buffers ?? NEW_BUFFERS;
  const header = schemaToIpcMessage(schema);
  yield serializeFlightData(buffers, header.subarray(8, 8 + new DataView(header.buffer, header.byteOffset).getInt32(4, true)), 0, [], []);
  const limit = Math.max(1024, (options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) - ENVELOPE_SLACK);
  const row = rowBoundOf(options, limit);
  const plain = !schema.fields.some((f) => hasDictionary(f.type));
  const dictionaries = plain ? null : new StreamDictionaries(schema);
  for await (const batch of batches) {
    options.signal?.throwIfAborted();
    if (batch.numRows === 0) continue;
    if (dictionaries) {
      for (const p of dictionaries.messages(batch, limit, row)) yield serializeFlightData(p.header.byteLength + p.body.byteLength > limit ? NEW_BUFFERS : buffers, p.header, p.body.byteLength, [p.body], [{ offset: 0 }]);
    }
    yield* batchFrames(buffers, batch, limit, 'batch', row);
  }
}

/** Options of {@link recordBatchesToFlightFrames}. */
export interface FrameEncodeOptions extends Omit<EncodeOptions, 'descriptor'> {
  /**
   * Memory of the messages (default: a new Buffer each). With a `FrameBuffers`, a message's buffer
   * may be released to it once the message has been sent.
   */
  buffers?: FrameAllocator;
}

/** Each message in a Buffer of its own. */
const NEW_BUFFERS: FrameAllocator = { take: (size) => Buffer.allocUnsafe(size) };

/** True when `type` or a type nested in it is dictionary-encoded (its dictionaries travel in their own messages). */
function hasDictionary(type: DataType): boolean {
  return DataType.isDictionary(type) || (type.children ?? []).some((c: Field) => hasDictionary(c.type));
}

/** The serialized FlightData of `batch` (no dictionaries), split by rows into messages of at most `limit` bytes. */
function* batchFrames(buffers: FrameAllocator, batch: RecordBatch, limit: number, what = 'batch', row: RowBound = { limit }): Generator<Buffer> {
  const assembled = VectorAssembler.assemble(batch);
  const bodyLength = assembled.byteLength;
  const header = Message.encode(Message.from(new RecordBatchHeader(batch.numRows, assembled.nodes, assembled.bufferRegions, null, assembled.variadicBufferCounts), bodyLength));
  const size = header.byteLength + bodyLength;
  if (size <= limit) yield serializeFlightData(buffers, header, bodyLength, assembled.buffers, assembled.bufferRegions);
  // a single row over the message bound, within the single-row bound: one message of its own memory (not pooled)
  else if (batch.numRows === 1 && size <= row.limit) yield serializeFlightData(NEW_BUFFERS, header, bodyLength, assembled.buffers, assembled.bufferRegions);
  else for (const piece of rowPieces(batch, size, limit, what, row)) yield* batchFrames(buffers, piece, limit, what, row);
}

/** Protobuf key of FlightData.data_header (field 2, length-delimited). */
const DATA_HEADER_KEY = (2 << 3) | 2;
/** Protobuf key of FlightData.data_body (field 1000, length-delimited) as its two varint bytes. */
const DATA_BODY_KEY = [(((1000 << 3) | 2) & 0x7f) | 0x80, ((1000 << 3) | 2) >> 7] as const;

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) { out[at++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
  out[at++] = n;
  return at;
}

/**
 * One FlightData message serialized into memory from `memory`: `data_header` = `header`, `data_body` =
 * `bodyLength` bytes holding each of `buffers` at its region's offset, zeros between (Arrow's 8-byte
 * padding). Every byte is written (the memory may hold an earlier message).
 */
function serializeFlightData(memory: FrameAllocator, header: Uint8Array, bodyLength: number, buffers: readonly ArrayBufferView[], regions: readonly { offset: number }[]): Buffer {
  const bodyPart = bodyLength === 0 ? 0 : 2 + varintLength(bodyLength) + bodyLength;
  const out = memory.take(1 + varintLength(header.byteLength) + header.byteLength + bodyPart);
  out[0] = DATA_HEADER_KEY;
  let at = writeVarint(out, 1, header.byteLength);
  out.set(header, at);
  at += header.byteLength;
  if (bodyLength === 0) return out;
  out[at++] = DATA_BODY_KEY[0];
  out[at++] = DATA_BODY_KEY[1];
  at = writeVarint(out, at, bodyLength);
  const body = at;
  let end = body;
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i];
    const start = body + regions[i].offset;
    if (start > end) out.fill(0, end, start);
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), start);
    end = start + b.byteLength;
  }
  out.fill(0, end, body + bodyLength);
  return out;
}

/**
 * Turns FlightData messages back into the bytes of an IPC stream (aligned copies, one per message),
 * for Arrow JS's reader. Each FlightData carries one whole IPC message: a body shorter than its header
 * declares is refused at once (`where` names the stream), never completed with the next message's
 * bytes (a cut last message of a stream that does not end waited for them forever); a longer one is
 * cut to the declared length.
 *
 * A message goes out in three chunks: its prefix and header but the header's last byte, that byte,
 * and its body. Arrow JS's byte reader fetches the next chunk when a read takes exactly what it holds
 * (`size < bufferLength` in `fromAsyncIterable`), so with one chunk per message it pulled a message
 * ahead: a batch was decoded only once the next message had arrived, and the last batch of a stream
 * that stays open never came out. With this split, the reads of the header and the body each end
 * where a fetched chunk ends, and the next message is fetched only when the reader asks for it.
 */
export async function* flightDataToIpcBytes(messages: AsyncIterable<FlightDataMessage>, where = 'Flight stream'): AsyncGenerator<Uint8Array> {
  let index = 0;
  for await (const m of messages) {
    index++;
    const header = m.data_header ?? Buffer.alloc(0);
    if (header.byteLength === 0) continue; // app_metadata-only message
    const body = declaredBody(header, m.data_body ?? Buffer.alloc(0), index, where);
    const bytes = encapsulate(header, body);
    const headerEnd = bytes.byteLength - body.byteLength;
    yield bytes.subarray(0, headerEnd - 1);
    yield bytes.subarray(headerEnd - 1, headerEnd);
    if (body.byteLength > 0) yield bytes.subarray(headerEnd);
  }
  // explicit end-of-stream so the reader finishes cleanly
  const eos = new Uint8Array(8);
  new DataView(eos.buffer).setUint32(0, CONTINUATION, true);
  yield eos;
}

/**
 * `body` cut to the length the IPC `header` declares; an error naming the message (its 1-based
 * `index` in the stream) and both lengths when it is shorter. A header that does not decode is left
 * to the reader, which reports it.
 */
function declaredBody(header: Uint8Array, body: Uint8Array, index: number, where: string): Uint8Array {
  let message: Message;
  try {
    message = Message.decode(aligned(header));
  } catch {
    return body;
  }
  const declared = Number(message.bodyLength);
  if (body.byteLength >= declared) return body.byteLength === declared ? body : body.subarray(0, declared);
  const what = message.isRecordBatch() ? `a record batch of ${message.header().length} rows`
    : message.isDictionaryBatch() ? `a dictionary batch of dictionary ${message.header().id}` : MessageHeader[message.headerType];
  throw new LakeSoulError('InvalidArgument', `${where}: invalid Arrow IPC stream: FlightData message ${index} (${what}) was cut: its header declares a body of ${declared} bytes, it carries ${body.byteLength} (the sender or the connection cut it)`, {
    code: 'INVALID_ARROW_DATA',
    context: { message: index, declaredBodyBytes: declared, bodyBytes: body.byteLength },
  });
}

/** Field nodes and buffers an IPC record batch of `types` carries (buffers null: a type not known here). */
export function expectedBatchLayout(types: readonly DataType[], version: MetadataVersion = MetadataVersion.V5): { nodes: number; buffers: number | null } {
  let nodes = 0;
  let buffers: number | null = 0;
  const walk = (t: DataType): void => {
    nodes++;
    const own = (n: number) => { if (buffers !== null) buffers += n; };
    switch (t.typeId) {
      case Type.Dictionary: own(2); return; // validity, indices: the values travel in dictionary batches
      case Type.Null: return;
      case Type.Bool: case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time: case Type.Timestamp:
      case Type.Interval: case Type.Duration: case Type.FixedSizeBinary:
        own(2); return;
      case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary: own(3); return;
      case Type.Utf8View: case Type.BinaryView: own(2); return; // plus the variadic buffers the header counts
      case Type.List: case Type.LargeList: case Type.Map: own(2); break;
      case Type.FixedSizeList: case Type.Struct: own(1); break;
      case Type.Union: own(((t as unknown as { mode: UnionMode }).mode === UnionMode.Dense ? 2 : 1) + (version < MetadataVersion.V5 ? 1 : 0)); break;
      default: buffers = null;
    }
    for (const c of t.children ?? []) walk(c.type);
  };
  types.forEach(walk);
  return { nodes, buffers };
}

/**
 * Passes `messages` on, refusing a record or dictionary batch whose field nodes or buffers do not
 * match the stream's schema (Arrow JS's reader drops extra ones silently and fails on missing ones
 * with a TypeError): INVALID_ARGUMENT naming the batch and both counts.
 */
async function* checkBatchLayouts(messages: AsyncIterable<FlightDataMessage>, where: string): AsyncGenerator<FlightDataMessage> {
  let schema: Schema | undefined;
  let columns = new Map<number, string[]>();
  let batches = 0;
  for await (const m of messages) {
    const header = m.data_header;
    if (header && header.byteLength > 0) {
      let message: Message | undefined;
      try {
        message = Message.decode(aligned(header));
      } catch {
        // the reader reports what it cannot decode
      }
      if (message?.isSchema()) {
        schema = message.header();
        columns = dictionaryColumns(schema);
      } else if (schema && message?.isRecordBatch()) {
        batches++;
        checkLayout(message.header(), schema.fields.map((f) => f.type), message.version, `record batch ${batches} (${message.header().length} rows)`, where);
      } else if (schema && message?.isDictionaryBatch()) {
        const dictionary = message.header();
        const id = Number(dictionary.id);
        const type = schema.dictionaries.get(id);
        if (!type) {
          // Arrow JS's reader failed on it with "Vector constructor expects an Array of Data instances"
          const declared = [...columns].map(([k, paths]) => `${paths.join(', ')} (dictionary ${k})`).join('; ') || 'none';
          throw new LakeSoulError('InvalidArgument', `${where}: the stream sends dictionary ${id}, which its schema does not declare (its dictionary-encoded columns: ${declared}). `
            + 'Each dictionary goes under the id the schema gives its column (Arrow JS batches built separately carry ids of their own: '
            + "this package's FlightClient and recordBatchesToFlightData send them under the schema's)", {
            code: 'INVALID_ARROW_DATA',
            context: { dictionary: id },
          });
        }
        const named = columns.get(id)?.join(', ') ?? '?';
        checkLayout(dictionary.data, [type], message.version, `dictionary batch of dictionary ${id} (column ${named}, ${type} values)`, where,
          ` (were the values of ${named} dictionary-encoded themselves? An Arrow IPC schema cannot say so, and pyarrow sends their indices as the values: send them decoded)`);
      }
    }
    yield m;
  }
}

/**
 * Refuses `batch` (`what`, of the stream `where`) when its field nodes or buffers are not those of
 * `types`; `hint` ends the message of a dictionary batch.
 */
function checkLayout(batch: RecordBatchHeader, types: DataType[], version: MetadataVersion, what: string, where: string, hint = ''): void {
  const expected = expectedBatchLayout(types, version);
  const columns = `${types.length} column${types.length === 1 ? '' : 's'}`;
  if (batch.nodes.length !== expected.nodes) {
    throw new LakeSoulError('InvalidArgument', `${where}: ${what} has ${batch.nodes.length} field nodes, but the stream's schema (${columns}) needs ${expected.nodes}${hint}: nothing was committed`, {
      code: 'INVALID_ARROW_DATA',
    });
  }
  if (expected.buffers === null) return;
  const buffers = expected.buffers + (batch.variadicBufferCounts ?? []).reduce((n, c) => n + Number(c), 0);
  if (batch.buffers.length !== buffers) {
    throw new LakeSoulError('InvalidArgument', `${where}: ${what} has ${batch.buffers.length} buffers, but the stream's schema (${columns}) needs ${buffers}${hint}: nothing was committed`, {
      code: 'INVALID_ARROW_DATA',
    });
  }
}

/** The columns of `schema` of each dictionary id, as errors name them (`'tags'.item`, `'s'.a`). */
function dictionaryColumns(schema: Schema): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const walk = (type: DataType, path: string): void => {
    if (DataType.isDictionary(type)) {
      const id = (type as Dictionary).id;
      out.set(id, [...(out.get(id) ?? []), path]);
      walk((type as Dictionary).dictionary, `${path} (dictionary values)`);
      return;
    }
    for (const f of type.children ?? []) walk(f.type, `${path}.${f.name}`);
  };
  for (const f of schema.fields) walk(f.type, `'${f.name}'`);
  return out;
}

/** A decoded FlightData stream: its schema and the batches (read lazily). */
export interface DecodedFlightStream {
  schema: Schema;
  batches: AsyncIterable<RecordBatch>;
}

/**
 * Decodes a FlightData stream: waits for the schema message, then yields record batches as they
 * arrive (dictionary batches are applied by the reader). The stream must start with a schema.
 */
export async function decodeFlightData(messages: AsyncIterable<FlightDataMessage>, where = 'Flight stream'): Promise<DecodedFlightStream> {
  const reader = await RecordBatchReader.from(flightDataToIpcBytes(checkBatchLayouts(messages, where), where));
  await reader.open();
  const schema = reader.schema;
  if (!schema) throw new LakeSoulError('InvalidArgument', 'Flight stream ended before its schema message');
  // a client's schema and batches are checked before anything is built from them: Arrow JS's reader
  // takes lengths, offsets and dictionary indices as given (validate-data.ts in io)
  checkSchemaSize(schema, where);
  return {
    schema,
    batches: (async function* () {
      // the Arrow JS reader reports a schema-only stream as one empty batch: drop empty batches
      const batches = (reader as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<RecordBatch>;
        try {
          next = await batches.next();
        } catch (e) {
          // the reader's own refusals (a length no typed array can have...) are the client's bad input
          if (LakeSoulError.is(e)) throw e;
          throw new LakeSoulError('InvalidArgument', `${where}: invalid Arrow IPC stream: ${(e as Error)?.message ?? e}`, { code: 'INVALID_ARROW_DATA', cause: e });
        }
        if (next.done) return;
        if (next.value.numRows === 0) continue;
        validateRecordBatch(next.value, where);
        yield next.value;
      }
    })(),
  };
}

/** Collects batches into a Table with `schema` (also for zero batches). */
export function batchesToTable(schema: Schema, batches: RecordBatch[]): Table {
  return batches.length ? new Table(batches) : new Table(schema);
}
