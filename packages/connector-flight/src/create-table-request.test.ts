import { describe, expect, it } from 'vitest';
import { Field, Int64, Interval, IntervalUnit, Schema, Struct, Utf8 } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { arrowSchemaToJson } from '@lakesoul-ts/meta';
import { parseCreateTableRequest, parseTypeName } from './create-table-request.js';
import { schemaToIpcMessage } from './ipc-framing.js';

const body = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('create-table request', () => {
  it("refuses ifNotExists given as text (it was ignored: 'true' created nothing new and failed as existing)", () => {
    const schema = JSON.parse(arrowSchemaToJson(new Schema([new Field('id', new Int64(), false)])));
    expect(parseCreateTableRequest(body({ name: 't', schema, ifNotExists: true })).ifNotExists).toBe(true);
    expect(() => parseCreateTableRequest(body({ name: 't', schema, ifNotExists: 'true' }))).toThrow(/ifNotExists of table t must be true or false, got 'true'/);
  });

  it('refuses a month_day_nano interval column (Parquet cannot store it), top-level or nested, in every schema form: Unsupported naming the column', () => {
    const mdn = () => new Interval(IntervalUnit.MONTH_DAY_NANO);
    const top = new Schema([new Field('id', new Int64(), false), new Field('span', mdn(), true)]);
    const nested = new Schema([new Field('s', new Struct([new Field('span', mdn(), true)]), true)]);
    const forms: [string, Record<string, unknown>, string][] = [
      ['JSON', { schema: JSON.parse(arrowSchemaToJson(top)) }, 'span'],
      ['IPC', { schemaIpc: Buffer.from(schemaToIpcMessage(top)).toString('base64') }, 'span'],
      ['nested', { schemaIpc: Buffer.from(schemaToIpcMessage(nested)).toString('base64') }, 's.span'],
    ];
    for (const [what, b, column] of forms) {
      let error: unknown;
      try {
        parseCreateTableRequest(body({ name: 't', ...b }));
      } catch (e) {
        error = e;
      }
      expect(LakeSoulError.is(error, 'Unsupported'), `${what}: ${String(error)}`).toBe(true);
      expect((error as LakeSoulError).message, what).toMatch(new RegExp(`column '${column.replace('.', '\\.')}' of table t: type interval\\[month_day_nano\\] cannot be stored`));
      expect((error as LakeSoulError).context, what).toMatchObject({ column });
    }
    // the other interval units are written and read back (e2e/flight-findings.test.ts)
    for (const unit of [IntervalUnit.YEAR_MONTH, IntervalUnit.DAY_TIME]) {
      const ok = new Schema([new Field('span', new Interval(unit), true)]);
      expect(parseCreateTableRequest(body({ name: 't', schemaIpc: Buffer.from(schemaToIpcMessage(ok)).toString('base64') })).schema.fields[0].type.typeId).toBe(ok.fields[0].type.typeId);
    }
  });

  it('parses type names', () => {
    expect(String(parseTypeName('int64', 'c'))).toBe('Int64');
    expect(String(parseTypeName('string', 'c'))).toBe('Utf8');
    expect(String(parseTypeName('timestamp(us, UTC)', 'c'))).toBe('Timestamp<MICROSECOND, UTC>');
    expect(String(parseTypeName('timestamp[ms]', 'c'))).toBe('Timestamp<MILLISECOND>');
    expect(String(parseTypeName('list<float32>', 'c'))).toBe('List<Float32>');
    expect(() => parseTypeName('int128', 'c')).toThrow(/unknown type 'int128' for column 'c'/);
  });

  it('accepts a field list, Arrow-Java JSON and an IPC schema, with options', () => {
    const fromList = parseCreateTableRequest(body({ name: 't', schema: [{ name: 'id', type: 'int64', nullable: false }, { name: 's', type: 'utf8' }], primaryKeys: ['id'], hashBucketNum: 4, rangePartitions: 'date', properties: { a: 1 } }));
    expect(fromList).toMatchObject({ name: 't', namespace: 'default', primaryKeys: ['id'], hashBucketNum: 4, rangePartitions: ['date'], properties: { a: 1 } });
    expect(fromList.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([['id', 'Int64', false], ['s', 'Utf8', true]]);
    const schema = new Schema([new Field('id', new Int64(), false), new Field('name', new Utf8(), true)]);
    const fromJava = parseCreateTableRequest(body({ name: 't', namespace: 'ml', schema: JSON.parse(arrowSchemaToJson(schema)) }));
    expect(fromJava.namespace).toBe('ml');
    expect(fromJava.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Utf8']);
    const fromIpc = parseCreateTableRequest(body({ name: 't', schemaIpc: Buffer.from(schemaToIpcMessage(schema)).toString('base64') }));
    expect(fromIpc.schema.fields.map((f) => f.name)).toEqual(['id', 'name']);
  });

  it('refuses incomplete or malformed bodies', () => {
    expect(() => parseCreateTableRequest(Buffer.from('{'))).toThrow(/not JSON/);
    expect(() => parseCreateTableRequest(body({ schema: [] }))).toThrow(/"name"/);
    expect(() => parseCreateTableRequest(body({ name: 't' }))).toThrow(/needs "schema"/);
    expect(() => parseCreateTableRequest(body({ name: 't', schema: [{ name: 'x' }] }))).toThrow(/"name" and "type"/);
    expect(() => parseCreateTableRequest(body({ name: 't', schema: [{ name: 'x', type: 'int8' }], hashBucketNum: 1.5 }))).toThrow(/integer/);
  });

  it('refuses names and namespaces the catalog refuses, before reading the schema (issue 12 §2)', () => {
    for (const b of [{ name: '/' }, { name: 'victim/nested' }, { name: '..' }, { name: 'a\u0000' }, { name: 't', namespace: 'default/events' }, { name: 't', namespace: 7 }]) {
      expect(() => parseCreateTableRequest(body({ ...b, schema: [{ name: 'x', type: 'int128' }] }))).toThrow(/name .* allowed: letters and digits/);
    }
  });

  it('refuses blob roots from clients (they would widen what blob columns may read)', () => {
    const e = (() => { try { parseCreateTableRequest(body({ name: 't', schema: [{ name: 'p', type: 'utf8' }], properties: { lakesoul_blob_roots: 'file:///etc' } })); } catch (x) { return x; } })();
    expect(e).toMatchObject({ kind: 'PermissionDenied' });
    expect((e as Error).message).toMatch(/lakesoul_blob_roots.*table t/);
  });
});
