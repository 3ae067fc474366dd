/**
 * Dictionary-encoded columns in one Flight stream: dictionaries travel under the stream schema's ids
 * (batches built separately, two `tableFromArrays` tables, each have dictionaries of their own ids,
 * which the reader could not resolve: "Vector constructor expects an Array of Data instances"), as a
 * replacement when a batch's dictionary is another one, not again when it is the same, and split into
 * deltas when larger than the message bound. Both encoders (DoPut's messages, DoGet's frames).
 * Dictionaries nested in lists, structs and in a dictionary's values (whose dictionaries were not
 * sent: "refers to a dictionary that was never sent"); a dictionary of dictionaries, which an IPC
 * schema cannot express, refused naming its column; a stream sending a dictionary its schema does not
 * declare refused naming the schema's dictionary columns (Arrow JS's reader failed on it with "Vector
 * constructor expects an Array of Data instances").
 */
import { describe, expect, it } from 'vitest';
import { Dictionary, Field, Int32, List, Message, RecordBatch, Struct, Table, Utf8, makeBuilder, makeVector, tableFromArrays, vectorFromArray, type DataType } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { decodeFlightData, recordBatchesToFlightData, recordBatchesToFlightFrames } from './ipc-framing.js';
import { loadFlightProtocol, type FlightDataMessage } from './flight-proto.js';

async function* iter<T>(xs: Iterable<T>): AsyncGenerator<T> { for (const x of xs) yield x; }
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> { const out: T[] = []; for await (const x of it) out.push(x); return out; }

const wire = loadFlightProtocol().service.DoGet;

/** The messages of both encoders for `batches` under `schema` (frames decoded back to objects). */
async function encodings(batches: RecordBatch[], maxMessageBytes?: number): Promise<[string, FlightDataMessage[]][]> {
  const schema = batches[0].schema;
  const objects = await collect(recordBatchesToFlightData(schema, batches, { maxMessageBytes }));
  const frames = (await collect(recordBatchesToFlightFrames(schema, batches, { maxMessageBytes }))).map((f) => wire.responseDeserialize(f) as FlightDataMessage);
  return [['messages', objects.map((m) => wire.responseDeserialize(wire.responseSerialize(m)) as FlightDataMessage)], ['frames', frames]];
}

/** Dictionary batches of a stream: id and isDelta each. */
function dictionaryBatches(messages: FlightDataMessage[]): { id: number; isDelta: boolean }[] {
  return messages.map((m) => Message.decode(new Uint8Array(m.data_header))).filter((m) => m.isDictionaryBatch())
    .map((m) => { const d = m.header(); return { id: Number(d.id), isDelta: d.isDelta }; });
}

async function rows(messages: FlightDataMessage[]): Promise<unknown[]> {
  const decoded = await decodeFlightData(iter(messages));
  return new Table(await collect(decoded.batches)).toArray().map((r) => ({ ...r.toJSON(), id: Number(r.id) }));
}

describe('dictionaries in a Flight stream', () => {
  it('sends the dictionaries of separately built batches under the schema ids, as replacements', async () => {
    const mk = (k: number, v: number) => tableFromArrays({ id: new Int32Array([3 * k, 3 * k + 1, 3 * k + 2]), date: Array(3).fill(`2024-01-0${v}`), s: ['x', 'y', `s${k}`] });
    const a = mk(0, 7);
    const b = mk(1, 8);
    expect(String(a.schema.fields[1].type)).toMatch(/Dictionary/);
    const ids = a.schema.fields.filter((f) => f.type instanceof Dictionary).map((f) => (f.type as Dictionary).id);
    for (const [what, messages] of await encodings([...a.batches, ...b.batches])) {
      expect(await rows(messages), what).toEqual([
        { id: 0, date: '2024-01-07', s: 'x' }, { id: 1, date: '2024-01-07', s: 'y' }, { id: 2, date: '2024-01-07', s: 's0' },
        { id: 3, date: '2024-01-08', s: 'x' }, { id: 4, date: '2024-01-08', s: 'y' }, { id: 5, date: '2024-01-08', s: 's1' },
      ]);
      // every dictionary under an id of the schema; the second batch's replace the first's
      expect(dictionaryBatches(messages), what).toEqual([...ids, ...ids].map((id) => ({ id, isDelta: false })));
    }
  });

  it('does not send a dictionary again for batches sharing it', async () => {
    const cat = vectorFromArray(Array.from({ length: 3000 }, (_, i) => ['a', 'b', 'c'][i % 3]), new Dictionary(new Utf8(), new Int32()));
    const t = new Table({ cat });
    const batches = [t.batches[0].slice(0, 1000), t.batches[0].slice(1000, 2000), t.batches[0].slice(2000, 3000)];
    for (const [what, messages] of await encodings(batches)) {
      expect(dictionaryBatches(messages), what).toHaveLength(1);
      const back = (await rows(messages)) as { cat: string }[];
      expect(back.map((r) => r.cat), what).toEqual([...cat].map(String));
    }
  });

  it('splits a dictionary over the message bound into a first batch and deltas', async () => {
    const values = Array.from({ length: 20_000 }, (_, i) => `${'v'.repeat(40)}${i}`);
    const t = new Table({ cat: vectorFromArray(values, new Dictionary(new Utf8(), new Int32())) });
    const maxMessageBytes = 256 * 1024;
    for (const [what, messages] of await encodings(t.batches, maxMessageBytes)) {
      const dictionaries = dictionaryBatches(messages);
      expect(dictionaries.length, what).toBeGreaterThan(2);
      expect(dictionaries.map((d) => d.isDelta), what).toEqual([false, ...dictionaries.slice(1).map(() => true)]);
      for (const m of messages) expect(wire.responseSerialize(m).byteLength, what).toBeLessThanOrEqual(maxMessageBytes);
      expect(((await rows(messages)) as { cat: string }[]).map((r) => r.cat), what).toEqual(values);
    }
  });
});

describe('dictionaries of one builder, batches out of order', () => {
  it('resolves every batch: a shorter dictionary after a longer one sends nothing, a longer one only what the reader lacks, another one replaces', async () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const b = makeBuilder({ type, nullValues: [null] });
    const made: RecordBatch[] = [];
    for (const group of [['a', 'b'], ['c', 'd'], ['e', 'f']]) {
      for (const v of group) b.append(v);
      made.push(new Table({ cat: makeVector(b.flush()) }).batches[0]);
    }
    // chunks of the builder's dictionary each batch carries: 1, 2, 3 (each a prefix of the next)
    expect(made.map((x) => x.getChild('cat')!.data[0].dictionary!.data.length)).toEqual([1, 2, 3]);
    const other = new Table({ cat: vectorFromArray(['z', 'y'], type) }).batches[0];
    const order: RecordBatch[] = [made[1], made[0], made[2], other as RecordBatch, made[0]];
    const expected = order.flatMap((x) => [...x.getChild('cat')!]);
    for (const [what, messages] of await encodings(order)) {
      expect(((await rows(messages)) as { cat: string }[]).map((r) => r.cat), what).toEqual(expected);
      // [0,1] replace; batch 0: nothing; batch 2: its third chunk a delta; other: replace; batch 0 again: replace
      expect(dictionaryBatches(messages).map((d) => d.isDelta), what).toEqual([false, true, true, false, false]);
    }
  });
});

describe('nested dictionaries in a Flight stream', () => {
  const dict = () => new Dictionary(new Utf8(), new Int32());
  const listOf = (t: DataType) => new List(new Field('item', t, true));
  /** Two batches of column `x` of `type` (a new type each, as separately built tables have: other dictionary ids). */
  const twoBatches = (type: () => DataType, a: unknown[], b: unknown[]) => [a, b].map((values) => new Table({ x: vectorFromArray(values, type()) }).batches[0] as RecordBatch);
  const values = async (messages: FlightDataMessage[]) => new Table(await collect((await decodeFlightData(iter(messages))).batches)).toArray().map((r) => JSON.parse(JSON.stringify(r.x)));

  it.each([
    ['list<dictionary<utf8>>', () => listOf(dict()), [['a', 'b'], ['a'], [], null], [['z'], ['y', 'z']]],
    ['struct<a: dictionary<utf8>>', () => new Struct([new Field('a', dict(), true)]), [{ a: 'p' }, { a: null }, { a: 'q' }], [{ a: 'r' }, { a: 'p' }]],
    ['dictionary<list<dictionary<utf8>>>', () => new Dictionary(listOf(dict()), new Int32()), [['a', 'b'], ['c'], ['a', 'b'], null], [['x'], ['c'], ['x']]],
    ['list<struct<a: dictionary<utf8>, b: list<dictionary<utf8>>>>', () => listOf(new Struct([new Field('a', dict(), true), new Field('b', listOf(dict()), true)])),
      [[{ a: 'p', b: ['u', 'v'] }], [{ a: 'q', b: [] }, { a: null, b: ['u'] }]], [[{ a: 's', b: ['w'] }]]],
  ] as [string, () => DataType, unknown[], unknown[]][])('%s: batches built separately round-trip', async (_what, type, a, b) => {
    const batches = twoBatches(type, a, b);
    for (const [what, messages] of await encodings(batches)) expect(await values(messages), what).toEqual([...a, ...b]);
  });

  it('sends the dictionaries in a dictionary\'s values before the values that use them, each once', async () => {
    const batches = twoBatches(() => new Dictionary(listOf(dict()), new Int32()), [['a', 'b'], ['c'], ['a', 'b']], [['x'], ['c']]);
    const outer = batches[0].schema.fields[0].type as Dictionary;
    const inner = (outer.dictionary as List).children[0].type as Dictionary;
    for (const [what, messages] of await encodings(batches)) {
      expect(dictionaryBatches(messages).map((d) => d.id), what).toEqual([inner.id, outer.id, inner.id, outer.id]);
    }
  });

  it('refuses a dictionary whose values are dictionary-encoded (no IPC schema expresses it), naming the column, in both encoders', async () => {
    const t = new Table({ id: vectorFromArray([1, 2], new Int32()), tags: vectorFromArray([['m'], ['n']], listOf(new Dictionary(dict(), new Int32()))) });
    for (const encode of [recordBatchesToFlightData, recordBatchesToFlightFrames]) {
      const e = await collect(encode(t.schema, t.batches) as AsyncIterable<unknown>).then(() => null, (err: unknown) => err);
      expect(LakeSoulError.is(e), String(e)).toBe(true);
      expect(e).toMatchObject({
        kind: 'Unsupported', code: 'UNSUPPORTED_COLUMN_TYPE',
        message: "column 'tags'.item is Dictionary<Int32, Dictionary<Int32, Utf8>>: a dictionary whose values are themselves dictionary-encoded cannot travel in an Arrow IPC stream (its schema cannot express it); send the values decoded, as Dictionary<Int32, Utf8> or Utf8",
      });
    }
  });

  it('refuses a stream sending a dictionary its schema does not declare, naming the schema\'s dictionary columns', async () => {
    const mk = (k: number) => tableFromArrays({ s: ['x', 'y', `s${k}`] }).batches[0] as RecordBatch;
    const [a, b] = [mk(0), mk(1)];
    // what a writer sending each batch with its own ids sends: b's dictionary under an id the schema does not have
    const first = await collect(recordBatchesToFlightData(a.schema, [a]));
    const second = (await collect(recordBatchesToFlightData(b.schema, [b]))).slice(1);
    const e = await values([...first, ...second]).then(() => null, (err: unknown) => err);
    expect(e).toMatchObject({
      code: 'INVALID_ARROW_DATA',
      message: expect.stringMatching(new RegExp(`^Flight stream: the stream sends dictionary ${(b.schema.fields[0].type as Dictionary).id}, which its schema does not declare \\(its dictionary-encoded columns: 's' \\(dictionary ${(a.schema.fields[0].type as Dictionary).id}\\)\\)`)),
    });
  });
});
