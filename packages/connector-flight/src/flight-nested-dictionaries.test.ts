/**
 * DoPut of dictionary-encoded columns nested in other types, from pyarrow.flight and from the
 * FlightClient, into tables whose columns are of the dictionaries' value types (a list<utf8> column
 * written as list<dictionary<utf8>>): the rows read back are those sent. The FlightClient did not send
 * the dictionaries in a dictionary's values (dictionary<list<dictionary<utf8>>>: "refers to a
 * dictionary that was never sent"). A dictionary whose values are themselves dictionary-encoded, which
 * an Arrow IPC schema cannot express, is refused naming its column: the FlightClient before sending
 * anything (it sent a schema the server could not decode, "Unrecognized type"), the server when pyarrow
 * sends one (pyarrow drops the inner level of the schema and sends the inner indices as the values).
 * PGlite catalog, local disk, a real server, pyarrow from the test environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Dictionary, Field, Int32, Int64, List, Schema, Struct, Table, Utf8, makeVector, vectorFromArray, type DataType, type RecordBatch } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { startFlightFixture, type FlightFixture } from './test-support/flight-fixture.js';

const utf8List = () => new List(new Field('item', new Utf8(), true));
/** Column `x` of each table; the tables are made per case (see `table`). */
const COLUMN_TYPES: Record<string, () => DataType> = {
  list: utf8List,
  struct: () => new Struct([new Field('a', new Utf8(), true)]),
  utf8: () => new Utf8(),
};

/** pyarrow writes `kind` into `table` with expectedRows; prints {"put": reply} or {"error": message}. */
const PY_DOPUT = String.raw`
import sys, json, pyarrow as pa, pyarrow.flight as fl
url, table, kind = sys.argv[1], sys.argv[2], sys.argv[3]
def lists(values, offsets, indices):
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values)))
def batch(x, start):
    return pa.record_batch({'id': pa.array(range(start, start + len(x)), pa.int64()), 'x': x})
options = None
if kind in ('list', 'list-deltas'):
    first = lists(['a', 'b', 'c'], [0, 2, 3, 3, 5], [0, 1, 0, 1, 2])
    second = lists(['a', 'b', 'c', 'd'], [0, 1, 3], [3, 1, 0]) if kind == 'list-deltas' else lists(['d', 'e'], [0, 1, 3], [0, 1, 0])
    batches = [batch(first, 0), batch(second, 4)]
    if kind == 'list-deltas':
        options = fl.FlightCallOptions(write_options=pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True))
elif kind == 'struct':
    batches = [batch(pa.StructArray.from_arrays([pa.array(['p', 'q', None, 'p']).dictionary_encode()], names=['a']), 0)]
elif kind == 'dictionary-of-lists':
    values = pa.ListArray.from_arrays(pa.array([0, 2, 3], pa.int32()), pa.array(['a', 'b', 'c']).dictionary_encode())
    batches = [batch(pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 1], pa.int32()), values), 0)]
elif kind == 'dictionary-of-dictionaries':
    batches = [batch(pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()), pa.array(['m', 'n']).dictionary_encode()), 0)]
rows = sum(b.num_rows for b in batches)
try:
    client = fl.FlightClient(url)
    descriptor = fl.FlightDescriptor.for_command(json.dumps({'table': table, 'expectedRows': rows}).encode())
    writer, reader = client.do_put(descriptor, batches[0].schema, **({'options': options} if options else {}))
    for b in batches:
        writer.write_batch(b)
    writer.done_writing()
    reply = reader.read()
    writer.close()
    print(json.dumps({'put': json.loads(reply.to_pybytes())}))
except pa.ArrowException as e:
    print(json.dumps({'error': str(e)}))
`;

let fixture: FlightFixture;
let python: string;
let tables = 0;

beforeAll(async () => {
  const py = process.env.LAKESOUL_TEST_PYTHON;
  if (!py) throw new Error('LAKESOUL_TEST_PYTHON is not set: run the tests via `node scripts/test-env.mjs -- vitest run ...` (it provides the Python venv with pyarrow)');
  python = py;
  fixture = await startFlightFixture('flight-nested-dictionaries', async () => undefined);
});

afterAll(() => fixture?.close());

/** A new table of `id` and `x` (of the value type of the nested dictionaries written into it). */
async function table(column: keyof typeof COLUMN_TYPES): Promise<string> {
  const name = `t${tables++}_${column}`;
  await fixture.lakehouse.createTable(name, new Schema([new Field('id', new Int64(), false), new Field('x', COLUMN_TYPES[column](), true)]));
  return name;
}

/** Column `x` of `name` as read back through Flight, by id. */
async function readBack(name: string): Promise<unknown[]> {
  const t = await fixture.client.readAll(await fixture.client.getFlightInfo({ path: [name] }));
  return t.toArray().map((r) => ({ id: Number(r.id), x: JSON.parse(JSON.stringify(r.x)) })).sort((a, b) => a.id - b.id).map((r) => r.x);
}

async function pyarrowPut(name: string, kind: string): Promise<{ put?: { rows: number }; error?: string }> {
  const { stdout } = await promisify(execFile)(python, ['-c', PY_DOPUT, fixture.url, name, kind], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('DoPut from pyarrow.flight of nested dictionary-encoded columns', () => {
  it.each([
    ['list<dictionary<utf8>>, the second batch\'s dictionary a replacement', 'list', 'list', [['a', 'b'], ['a'], [], ['b', 'c'], ['d'], ['e', 'd']]],
    ['list<dictionary<utf8>>, the second batch\'s dictionary a delta', 'list-deltas', 'list', [['a', 'b'], ['a'], [], ['b', 'c'], ['d'], ['b', 'a']]],
    ['struct<a: dictionary<utf8>>', 'struct', 'struct', [{ a: 'p' }, { a: 'q' }, { a: null }, { a: 'p' }]],
    ['dictionary<list<dictionary<utf8>>>', 'dictionary-of-lists', 'list', [['a', 'b'], ['c'], null, ['c']]],
  ] as const)('%s into a column of the values\' type is stored as sent', async (_what, kind, column, expected) => {
    const name = await table(column);
    const r = await pyarrowPut(name, kind);
    expect(r.error).toBeUndefined();
    expect(r.put?.rows).toBe(expected.length);
    expect(await readBack(name)).toEqual(expected);
  });

  it('dictionary<dictionary<utf8>> is refused naming the column, nothing committed', async () => {
    const name = await table('utf8');
    const r = await pyarrowPut(name, 'dictionary-of-dictionaries');
    expect(r.error).toMatch(new RegExp(`DoPut into default\\.${name}: dictionary batch of dictionary \\d+ \\(column 'x', Utf8 values\\) has 2 buffers, but the stream's schema \\(1 column\\) needs 3 \\(were the values of 'x' dictionary-encoded themselves\\? An Arrow IPC schema cannot say so, and pyarrow sends their indices as the values: send them decoded\\)`));
    expect(await readBack(name)).toEqual([]);
  });
});

describe('FlightClient.doPut of nested dictionary-encoded columns', () => {
  const dict = () => new Dictionary(new Utf8(), new Int32());
  const listOf = (t: DataType) => new List(new Field('item', t, true));
  /** Batches of `id` and `x`, each built on its own (other dictionary ids than the first batch's schema). */
  const batches = (type: () => DataType, ...parts: unknown[][]): RecordBatch[] => {
    let id = 0;
    return parts.map((values) => new Table({ id: makeVector(BigInt64Array.from(values, () => BigInt(id++))), x: vectorFromArray(values, type()) }).batches[0] as RecordBatch);
  };

  it.each([
    ['list<dictionary<utf8>>', 'list', () => listOf(dict()), [[['a', 'b'], ['a'], []], [['z'], null]]],
    ['struct<a: dictionary<utf8>>', 'struct', () => new Struct([new Field('a', dict(), true)]), [[{ a: 'p' }, { a: null }], [{ a: 'q' }]]],
    ['dictionary<list<dictionary<utf8>>> (its inner dictionaries were not sent)', 'list', () => new Dictionary(listOf(dict()), new Int32()), [[['a', 'b'], ['c'], ['a', 'b']], [['x'], ['c']]]],
  ] as [string, keyof typeof COLUMN_TYPES, () => DataType, unknown[][]][])('%s into a column of the values\' type is stored as sent', async (_what, column, type, parts) => {
    const name = await table(column);
    const r = await fixture.client.doPut({ cmd: { table: name } }, batches(type, ...parts));
    expect(r.json).toMatchObject({ rows: parts.flat().length });
    expect(await readBack(name)).toEqual(parts.flat());
  });

  it('dictionary<dictionary<utf8>> is refused before anything is sent, naming the column', async () => {
    const name = await table('utf8');
    const calls = fixture.server.stats.doPutCalls;
    const e = await fixture.client.doPut({ cmd: { table: name } }, batches(() => new Dictionary(dict(), new Int32()), ['m', 'n'])).then(() => null, (err: unknown) => err);
    expect(LakeSoulError.is(e), String(e)).toBe(true);
    expect(e).toMatchObject({ kind: 'Unsupported', code: 'UNSUPPORTED_COLUMN_TYPE', message: expect.stringMatching(/^column 'x' is Dictionary<Int32, Dictionary<Int32, Utf8>>: a dictionary whose values are themselves dictionary-encoded cannot travel/) });
    expect(fixture.server.stats.doPutCalls).toBe(calls);
    expect(await readBack(name)).toEqual([]);
  });
});
