import { Writable } from 'node:stream';
import { Field, Int64, List, Schema, Struct, Utf8, Int32, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { decodeParquet } from '@lakesoul-ts/io';
import { writeParquetStream } from './parquet-export.js';

/** A sink keeping what is written. */
function sink(): { stream: NodeJS.WritableStream; bytes: () => Uint8Array } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(chunk, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } });
  return { stream: w, bytes: () => new Uint8Array(Buffer.concat(chunks)) };
}

async function* none(): AsyncIterable<RecordBatch> {}

describe('writeParquetStream', () => {
  it('writes an empty file with the schema when a table with list and struct columns has no rows', async () => {
    const schema = new Schema([
      new Field('id', new Int64(), false),
      new Field('tags', new List(new Field('item', new Utf8(), true)), true),
      new Field('s', new Struct([new Field('a', new Int32(), true), new Field('l', new List(new Field('item', new Int32(), true)), true)]), true),
    ]);
    const out = sink();
    const n = await writeParquetStream(none(), schema, out.stream, 'lz.parquet');
    expect(n).toBeGreaterThan(0);
    const table = await decodeParquet(out.bytes());
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'tags', 's']);
    expect(String(table.schema.fields[1].type)).toMatch(/List<Utf8>/);
    expect(String(table.schema.fields[2].type)).toMatch(/Struct/);
  });
});
