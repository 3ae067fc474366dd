import { describe, expect, it } from 'vitest';
import { Int64, Schema, Field, Utf8, Float64, Timestamp, TimeUnit, DateDay, Bool } from 'apache-arrow';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, readJsonl } from './csv-reader.js';
import { formatOfExtension } from './file-formats.js';
import { inferSchema, rowsToBatch } from './records-to-arrow.js';

async function all(chunks: string[]) {
  const out = [];
  for await (const r of parseCsv(chunks, { name: 't.csv' })) out.push(r);
  return out;
}

describe('CSV parser', () => {
  it('handles quotes, escaped quotes, embedded newlines and CRLF, across chunk boundaries', async () => {
    const text = 'a,b,c\r\n1,"x ""q"" y",\r\n2,"multi\nline",""\n3,plain,z';
    for (const size of [1, 2, 3, 5, 1000]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const recs = await all(chunks);
      expect(recs.map((r) => r.fields)).toEqual([['a', 'b', 'c'], ['1', 'x "q" y', ''], ['2', 'multi\nline', ''], ['3', 'plain', 'z']]);
      expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 5]);
      expect(recs[1]!.quoted).toEqual([false, true, false]);
      expect(recs[2]!.quoted).toEqual([false, true, true]);
    }
  });
  it('takes a long field whole, quoted or not, across many chunks', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024 + 3);
    const text = `a,b\n1,${big}\n2,"${big}""${big}"\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
    const recs = await all(chunks);
    expect(recs.map((r) => r.fields.map((f) => f.length))).toEqual([[1, 1], [1, big.length], [1, 2 * big.length + 1]]);
    expect(recs[2]!.fields[1]!.charAt(big.length)).toBe('"');
  });
  it('reports an unterminated quote with its line', async () => {
    await expect(all(['a\n1\n"open'])).rejects.toThrow(/t\.csv:3: unterminated quoted field/);
  });
});

describe('records to Arrow', () => {
  it('converts text to typed columns', () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('s', new Utf8(), true), new Field('x', new Float64(), true),
      new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true), new Field('d', new DateDay(), true), new Field('b', new Bool(), true)]);
    const b = rowsToBatch(schema, [['9007199254740993', 'a', '1.5', '2024-01-01T00:00:01Z', '2024-01-02', 'true'], ['2', null, null, null, null, null]],
      [{ file: 'f', line: 2 }, { file: 'f', line: 3 }], true);
    expect(b.getChild('id')!.get(0)).toBe(9007199254740993n);
    expect(b.getChild('x')!.get(0)).toBe(1.5);
    expect(b.getChild('ts')!.get(0)).toBe(Date.UTC(2024, 0, 1, 0, 0, 1));
    expect(b.getChild('b')!.get(0)).toBe(true);
    expect(b.getChild('s')!.get(1)).toBeNull();
  });
  it('names file, line and column on bad values and nulls in non-nullable columns', () => {
    const schema = new Schema([new Field('id', new Int64(), false), new Field('x', new Float64(), true)]);
    expect(() => rowsToBatch(schema, [['1', '2'], ['2', 'abc']], [{ file: 'f.csv', line: 2 }, { file: 'f.csv', line: 3 }], true))
      .toThrow(/f\.csv:3: column 'x': "abc" is not a number/);
    expect(() => rowsToBatch(schema, [[null, '2']], [{ file: 'f.csv', line: 7 }], true)).toThrow(/f\.csv:7: column 'id': null in a non-nullable column/);
  });
  it('infers types from samples', () => {
    const s = inferSchema(['i', 'f', 's', 'd', 'ts', 'b'], [['1', '1.5', 'x', '2024-01-01', '2024-01-01T10:00:00Z', 'true'], ['2', '3', 'y', '2024-01-02', '2024-01-01 10:00:00', 'false']], true);
    expect(s.fields.map((f) => String(f.type))).toEqual(['Int64', 'Float64', 'Utf8', 'Date32<DAY>', 'Timestamp<MICROSECOND, UTC>', 'Bool']);
  });
});

describe('decimal output', () => {
  it('formats unscaled values with their scale', async () => {
    const { formatDecimal } = await import('./output-format.js');
    expect(formatDecimal(1990n, 2)).toBe('19.90');
    expect(formatDecimal(-5n, 2)).toBe('-0.05');
    expect(formatDecimal(7n, 0)).toBe('7');
  });
});

describe('readJsonl', () => {
  const file = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-json-'));
    writeFileSync(join(dir, 'x.json'), text);
    return join(dir, 'x.json');
  };
  const read = async (path: string) => { const out = []; for await (const r of readJsonl(path)) out.push(r); return out; };

  it('reads one JSON array of objects (what scan --format json writes), with the line each starts on', async () => {
    expect(await read(file('[\n{"id":1,"s":"a,]}\\"["},\n{"id":2,"l":[1,[2]],"o":{"k":{}}}\n]\n'))).toEqual([
      { line: 2, value: { id: 1, s: 'a,]}"[' } }, { line: 3, value: { id: 2, l: [1, [2]], o: { k: {} } } },
    ]);
    expect(await read(file('  [ ]  '))).toEqual([]);
    expect(await read(file('[{"a":\n1},{"a":12345678901234567890}]'))).toEqual([{ line: 1, value: { a: 1 } }, { line: 2, value: { a: 12345678901234567890n } }]);
  });

  it('reads an array longer than a read chunk (elements across chunk ends)', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => ({ id: i, s: `row ${i} ${'x'.repeat(i % 50)}` }));
    const got = await read(file(`[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`));
    expect(got.length).toBe(rows.length);
    expect(got.every((r, i) => r.line === i + 2 && r.value.id === i && r.value.s === rows[i]!.s)).toBe(true);
  });

  it('still reads JSON lines, and names the line of what is not valid in an array', async () => {
    expect(await read(file('{"a":1}\n\n{"a":2}\n'))).toEqual([{ line: 1, value: { a: 1 } }, { line: 3, value: { a: 2 } }]);
    await expect(read(file('[\n{"a":1},\n2\n]'))).rejects.toThrow(/x\.json:3: each element of the array must be a JSON object/);
    await expect(read(file('[\n{"a":1},\n]'))).rejects.toThrow(/x\.json:3: not valid JSON \(a ',' before '\]'/);
    await expect(read(file('[\n{"a":1}\n{"a":2}]'))).rejects.toThrow(/x\.json:3: not valid JSON \(expected ',' or '\]'\)/);
    await expect(read(file('[\n{"a":1},\n{"a":'))).rejects.toThrow(/x\.json:3: not valid JSON \(the array is not closed/);
    await expect(read(file('[{"a":1}] x'))).rejects.toThrow(/x\.json:1: not valid JSON \(text after the array's closing '\]'\)/);
    await expect(read(file('[{"a":}]'))).rejects.toThrow(/x\.json:1: not valid JSON \(/);
  });

  it('skips a byte-order mark before JSON lines, as before an array (the first line was not valid JSON)', async () => {
    expect(await read(file('\uFEFF{"a":1}\n{"a":2}\n'))).toEqual([{ line: 1, value: { a: 1 } }, { line: 2, value: { a: 2 } }]);
    expect(await read(file('\uFEFF[{"a":1}]'))).toEqual([{ line: 1, value: { a: 1 } }]);
    // inside a value it is text
    expect(await read(file('{"s":"\uFEFFx"}'))).toEqual([{ line: 1, value: { s: '\uFEFFx' } }]);
  });
});

describe('formatOfExtension', () => {
  it('reads the extension whatever its case, with the usual aliases', () => {
    expect(['O.CSV', 'o.JSONL', 'x.Parquet', 'a.tsv', 'b.NDJSON', 'c.json', 'd.PQ', './v1.2/x', 'noext', 'x.constructor'].map(formatOfExtension))
      .toEqual(['csv', 'jsonl', 'parquet', 'tsv', 'jsonl', 'json', 'parquet', undefined, undefined, undefined]);
  });
});

describe('JSON lines', () => {
  it('lines longer than a read chunk, blank lines and a last line without a newline keep their records and line numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-jsonl-'));
    const long = 'x'.repeat(3 * 1024 * 1024 + 17); // spans several chunks of the file reader
    const file = join(dir, 'long.jsonl');
    writeFileSync(file, `{"id":1,"s":"a"}\n\n{"id":2,"s":"${long}"}\r\n{"id":3,"s":"${long}b"}\n{"id":4}`);
    const got: Array<[number, unknown, number]> = [];
    for await (const r of readJsonl(file)) got.push([r.line, r.value.id, typeof r.value.s === 'string' ? r.value.s.length : -1]);
    expect(got).toEqual([[1, 1, 1], [3, 2, long.length], [4, 3, long.length + 1], [5, 4, -1]]);
  });
});
