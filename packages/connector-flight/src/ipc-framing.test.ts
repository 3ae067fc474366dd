import { describe, expect, it } from 'vitest';
import {
  Binary, Dictionary, Field, Float32, Int32, Int64, List, RecordBatch, Schema, TimestampMicrosecond, Utf8,
  makeData, makeVector, vectorFromArray, Table, Struct,
} from 'apache-arrow';
import {
  batchToFlightData, decodeFlightData, recordBatchesToFlightData, recordBatchesToFlightFrames, schemaFromIpcMessage, schemaToIpcMessage,
} from './ipc-framing.js';
import { loadFlightProtocol, withPreEncodedFlightData, type FlightDataMessage } from './flight-proto.js';

function sampleTable(n: number): Table {
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n);
  const bins = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : Uint8Array.from({ length: (i % 50) + 1 }, (_, j) => (i + j) % 256)));
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('label', new Utf8(), true),
    new Field('image', new Binary(), true),
    new Field('score', new Float32(), true),
    new Field('ts', new TimestampMicrosecond('UTC'), true),
    new Field('emb', new List(new Field('item', new Float32(), true)), true),
    new Field('cat', new Dictionary(new Utf8(), new Int32()), true),
  ]);
  const label = vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `row-${i}-é`)), new Utf8());
  const image = vectorFromArray(bins, new Binary());
  const score = vectorFromArray(Array.from({ length: n }, (_, i) => i / 4), new Float32());
  const ts = vectorFromArray(Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i), new TimestampMicrosecond('UTC'));
  const emb = vectorFromArray(Array.from({ length: n }, (_, i) => [i, i + 0.5]), new List(new Field('item', new Float32(), true)));
  const cat = vectorFromArray(Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]), new Dictionary(new Utf8(), new Int32()));
  const id = makeVector(ids);
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [id, label, image, score, ts, emb, cat].map((v) => v.data[0]) });
  return new Table([new RecordBatch(schema, data)]);
}

async function* iter<T>(xs: Iterable<T>): AsyncGenerator<T> { for (const x of xs) yield x; }

/** Passes messages through the real protobuf codec, as the wire would. */
function viaWire(messages: FlightDataMessage[]): FlightDataMessage[] {
  const m = loadFlightProtocol().service.DoGet;
  return messages.map((x) => m.responseDeserialize(m.responseSerialize(x)) as FlightDataMessage);
}

describe('IPC framing', () => {
  it('round-trips mixed-type batches (binary, list, dictionary, timestamps) through FlightData', async () => {
    const table = sampleTable(1000);
    const msgs: FlightDataMessage[] = [];
    for await (const m of recordBatchesToFlightData(table.schema, table.batches)) msgs.push(m);
    expect(msgs[0].data_body.byteLength).toBe(0); // schema first, empty body
    const decoded = await decodeFlightData(iter(viaWire(msgs)));
    expect(decoded.schema.fields.map((f) => f.name)).toEqual(table.schema.fields.map((f) => f.name));
    const out: RecordBatch[] = [];
    for await (const b of decoded.batches) out.push(b);
    const back = new Table(out);
    expect(back.numRows).toBe(1000);
    for (const i of [0, 1, 7, 499, 999]) {
      const a = table.get(i)!.toJSON();
      const b = back.get(i)!.toJSON();
      expect(b.id).toBe(a.id);
      expect(b.label).toBe(a.label);
      expect(b.image === null ? null : Array.from(b.image as Uint8Array)).toEqual(a.image === null ? null : Array.from(a.image as Uint8Array));
      expect(b.cat).toBe(a.cat);
      expect(Array.from(b.emb as any)).toEqual(Array.from(a.emb as any));
      expect(b.ts).toBe(a.ts);
    }
  });

  it('splits a big batch by rows so every message stays under the bound', async () => {
    const n = 20_000;
    const big = new Table({ id: makeVector(Int32Array.from({ length: n }, (_, i) => i)), blob: vectorFromArray(Array.from({ length: n }, (_, i) => `x`.repeat(400) + i), new Utf8()) });
    const batch = big.batches[0];
    const limit = 1024 * 1024;
    const msgs = batchToFlightData(batch, limit);
    expect(msgs.length).toBeGreaterThan(7);
    const wire = loadFlightProtocol().service.DoGet;
    for (const m of msgs) expect(wire.responseSerialize(m).byteLength).toBeLessThanOrEqual(limit);
    const all = [(await first(recordBatchesToFlightData(big.schema, []))), ...msgs];
    const decoded = await decodeFlightData(iter(viaWire(all)));
    let rows = 0; let sum = 0;
    for await (const b of decoded.batches) {
      for (let i = 0; i < b.numRows; i++) expect(b.getChild('blob')!.get(i)).toBe('x'.repeat(400) + (rows + i));
      rows += b.numRows; for (const v of b.getChild('id')!) sum += v as number;
    }
    expect(rows).toBe(n);
    expect(sum).toBe((n * (n - 1)) / 2);
  });

  it('serializes frames byte-equal to the message objects through protobuf, sliced, split and with dictionaries', async () => {
    const wire = loadFlightProtocol().service.DoGet;
    const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => { const out: T[] = []; for await (const x of it) out.push(x); return out; };
    const table = sampleTable(3000);
    const noDict = table.select(['id', 'label', 'image', 'score', 'ts', 'emb']);
    const big = new Table({ id: makeVector(Int32Array.from({ length: 20_000 }, (_, i) => i)), blob: vectorFromArray(Array.from({ length: 20_000 }, (_, i) => (i % 9 === 0 ? null : 'x'.repeat(i % 400) + i)), new Utf8()) });
    const cases: [string, Table, number | undefined][] = [
      ['plain', noDict, undefined],
      ['sliced (bitmaps and offsets off the byte boundary)', new Table([noDict.batches[0].slice(3, 2711)]), undefined],
      ['dictionary column (its own messages)', table, undefined],
      ['split by rows', big, 256 * 1024],
    ];
    for (const [what, t, maxMessageBytes] of cases) {
      const frames = await collect(recordBatchesToFlightFrames(t.schema, t.batches, { maxMessageBytes }));
      const objects = await collect(recordBatchesToFlightData(t.schema, t.batches, { maxMessageBytes }));
      expect(frames.length, what).toBe(objects.length);
      if (maxMessageBytes !== undefined) expect(frames.length, what).toBeGreaterThan(8);
      for (let i = 0; i < frames.length; i++) {
        if (maxMessageBytes !== undefined) expect(frames[i].byteLength, `${what} message ${i}`).toBeLessThanOrEqual(maxMessageBytes);
        const got = wire.responseDeserialize(frames[i]) as FlightDataMessage;
        expect(Buffer.compare(got.data_header, objects[i].data_header), `${what} header ${i}`).toBe(0);
        expect(Buffer.compare(got.data_body, objects[i].data_body), `${what} body ${i}`).toBe(0);
      }
      // and they decode to the rows written
      const decoded = await decodeFlightData(iter(frames.map((f) => wire.responseDeserialize(f) as FlightDataMessage)));
      const back = new Table(await collect(decoded.batches));
      expect(back.numRows, what).toBe(t.numRows);
      const text = (row: unknown) => JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? String(v) : v));
      for (const r of [0, 1, 2, 3, 8, 9, Math.floor(t.numRows / 2), t.numRows - 1]) expect(text(back.get(r)), `${what} row ${r}`).toBe(text(t.get(r)));
    }
    // the DoGet serializer passes a frame through untouched and still serializes objects
    const served = withPreEncodedFlightData(loadFlightProtocol().service).DoGet;
    const frame = (await collect(recordBatchesToFlightFrames(noDict.schema, noDict.batches)))[1];
    expect(served.responseSerialize(frame)).toBe(frame);
    const object = (await collect(recordBatchesToFlightData(noDict.schema, noDict.batches)))[1];
    const reread = wire.responseDeserialize(served.responseSerialize(object)) as FlightDataMessage;
    expect(Buffer.compare(reread.data_body, object.data_body)).toBe(0);
    expect(reread.data_body.byteLength).toBeGreaterThan(1000);
  });

  it('refuses a single row larger than the bound, naming the bound', () => {
    const t = new Table({ s: vectorFromArray(['y'.repeat(300_000)], new Utf8()) });
    expect(() => batchToFlightData(t.batches[0], 100_000)).toThrow(/over the Flight message bound of/);
    return expect((async () => { for await (const _ of recordBatchesToFlightFrames(t.schema, t.batches, { maxMessageBytes: 100_000 })); })()).rejects.toThrow(/over the Flight message bound of/);
  });

  it('encodes and decodes the encapsulated schema message', () => {
    const schema = sampleTable(1).schema;
    const bytes = schemaToIpcMessage(schema);
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(0xffffffff);
    expect(bytes.byteLength % 8).toBe(0);
    const back = schemaFromIpcMessage(bytes);
    expect(back.fields.map((f) => String(f.type))).toEqual(schema.fields.map((f) => String(f.type)));
    expect(() => schemaFromIpcMessage(Buffer.from('garbage!garbage!'))).toThrow(/invalid Arrow IPC schema message/);
  });

  it('decodes a stream with a schema and no batches', async () => {
    const schema = sampleTable(1).schema;
    const decoded = await decodeFlightData(iter(viaWire([await first(recordBatchesToFlightData(schema, []))])));
    const out = [];
    for await (const b of decoded.batches) out.push(b);
    expect(out).toHaveLength(0);
    expect(decoded.schema.fields).toHaveLength(7);
  });
});

describe('decoding a stream that does not end', () => {
  /** The FlightData of `t` (schema, then one message per batch), then nothing: the source stays open. Records what was pulled. */
  function open(messages: FlightDataMessage[], pulled: string[]): AsyncIterable<FlightDataMessage> {
    return (async function* () {
      for (let i = 0; i < messages.length; i++) { pulled.push(`message ${i + 1}`); yield messages[i]; }
      pulled.push('waiting');
      await new Promise(() => {});
    })();
  }
  const batches = () => [0, 1, 2].map((k) => new Table({ x: makeVector(Int32Array.from({ length: 100 }, (_, i) => 100 * k + i)) }).batches[0]);
  const within = <T>(p: Promise<T>, ms = 1000) => Promise.race([p, new Promise<'hung'>((resolve) => { setTimeout(() => resolve('hung'), ms).unref(); })]);

  it('yields each batch before the next message is pulled (Arrow JS\'s reader read a message ahead: the last batch never came out)', async () => {
    const b = batches();
    const messages = viaWire(await collect(recordBatchesToFlightData(b[0].schema, b)));
    const pulled: string[] = [];
    const decoded = await decodeFlightData(open(messages, pulled));
    expect(pulled).toEqual(['message 1']);
    const it = decoded.batches[Symbol.asyncIterator]();
    for (let k = 0; k < 3; k++) {
      const next = await within(it.next());
      expect(next, `batch ${k + 1}`).not.toBe('hung');
      expect((next as IteratorResult<RecordBatch>).value.get(0).x).toBe(100 * k);
      expect(pulled.at(-1), `pulled for batch ${k + 1}`).toBe(`message ${k + 2}`);
    }
  });

  it('refuses a message whose body is shorter than its header declares at once (it waited for the next message\'s bytes), and cuts a longer one to its length', async () => {
    const b = batches();
    const messages = viaWire(await collect(recordBatchesToFlightData(b[0].schema, b)));
    const cut = { ...messages[2], data_body: messages[2].data_body.subarray(0, 24) };
    const decoded = await decodeFlightData(open([messages[0], messages[1], cut], []), 'DoPut into default.t');
    const it = decoded.batches[Symbol.asyncIterator]();
    expect(((await it.next()).value as RecordBatch).numRows).toBe(100);
    const e = await within(it.next().then(() => null, (err: unknown) => err));
    expect(e).toMatchObject({
      kind: 'InvalidArgument', code: 'INVALID_ARROW_DATA',
      message: expect.stringMatching(new RegExp(`^DoPut into default.t: invalid Arrow IPC stream: FlightData message 3 \\(a record batch of 100 rows\\) was cut: its header declares a body of ${messages[2].data_body.byteLength} bytes, it carries 24`)),
    });
    // padding after the declared body is not read as the next message
    const padded = messages.map((m, i) => (i === 0 ? m : { ...m, data_body: Buffer.concat([m.data_body, Buffer.alloc(16, 0xff)]) }));
    const whole = await decodeFlightData(iter(padded));
    expect((await collect(whole.batches)).map((x) => x.numRows)).toEqual([100, 100, 100]);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> { const out: T[] = []; for await (const x of it) out.push(x); return out; }
async function first<T>(it: AsyncIterable<T>): Promise<T> { for await (const x of it) return x; throw new Error('empty'); }
