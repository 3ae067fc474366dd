import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '@lakesoul-ts/io';
import { inferType, rowsToBatch } from './records-to-arrow.js';

describe('rowsToBatch (JSONL values)', () => {
  const schema = new Schema([new Field('id', new Int64(), true), new Field('op', new Utf8(), true)]);
  const at = [{ file: 'f.jsonl', line: 1 }, { file: 'f.jsonl', line: 2 }];

  it('stores a JSON number, boolean or array in a utf8 column as its JSON text, reporting each', () => {
    const seen: string[] = [];
    const b = rowsToBatch(schema, [[1, parseJsonExact('123456789012345678901234')], [2, [true, null]]], at, false, undefined, (c, o) => seen.push(`${c}@${o.line}`));
    expect(b.getChild('op')!.toArray()).toEqual(['123456789012345678901234', '[true,null]']);
    expect(seen).toEqual(['op@1', 'op@2']);
  });

  it('checks the JSON text of a non-string value in the CDC column as it is stored', () => {
    expect(() => rowsToBatch(schema, [[1, 'insert'], [2, 7]], at, false, { primaryKeys: [], rangePartitions: [], cdcColumn: 'op' }))
      .toThrow(/f\.jsonl:2: CDC column 'op' holds "7": expected 'insert', 'update' or 'delete'/);
  });

  it('refuses a record without a CDC value (null, or the key missing) naming its line: it was stored as null', () => {
    for (const missing of [null, undefined]) {
      expect(() => rowsToBatch(schema, [[1, 'insert'], [2, missing]], at, false, { primaryKeys: [], rangePartitions: [], cdcColumn: 'op' }))
        .toThrow(/^f\.jsonl:2: CDC column 'op' has no value: expected 'insert', 'update' or 'delete' \(a file without the column writes 'insert'\)$/);
    }
  });
});

describe('inferType: a type only when the import reads every sample into it', () => {
  const text = (vals: string[]) => String(inferType(vals, true));
  const json = (lines: string[]) => String(inferType(lines.map((l) => parseJsonExact(l)), false));

  it('makes integers beyond int64 utf8, never a float64 that rounds them', () => {
    expect(text(['18446744073709551615', '12345678901234567891'])).toBe('Utf8');
    expect(text(['1', '-9223372036854775809'])).toBe('Utf8');
    expect(json(['18446744073709551615', '1'])).toBe('Utf8');
    expect(json(['[18446744073709551615]'])).toBe('Utf8');
    // within int64: still int64, and decimals still float64
    expect(text(['9223372036854775807', '-9223372036854775808'])).toBe('Int64');
    expect(text(['1.5', '2'])).toBe('Float64');
    expect(json(['9223372036854775807', '1'])).toBe('Int64');
  });

  it('makes hex, binary and octal spellings, 1e400, zero dates and hour 25 utf8', () => {
    expect(text(['0x52908400098527886E0F7030069857D2E4169EE7', '0xde'])).toBe('Utf8');
    expect(json(['"0x52908400098527886E0F7030069857D2E4169EE7"'])).toBe('Utf8');
    expect(text(['0b101'])).toBe('Utf8');
    expect(text(['0o17'])).toBe('Utf8');
    expect(text(['1e400', '1'])).toBe('Utf8');
    expect(text(['2024-01-05', '0000-00-00'])).toBe('Utf8');
    expect(text(['2024-01-05 10:00:00', '0000-00-00 00:00:00'])).toBe('Utf8');
    expect(text(['2024-01-05T25:00:00'])).toBe('Utf8');
    // what the import reads stays typed
    expect(text(['1e3', '2.5'])).toBe('Float64');
    expect(text(['2024-01-05', '2024-02-29'])).toBe('Date32<DAY>');
    expect(text(['2024-01-05 10:00:00', '2024-01-05T23:59:59Z'])).toMatch(/^Timestamp<MICROSECOND, UTC>$/);
  });

  it('makes decimals with more digits than a double keeps utf8 (12345678901234567.89 was imported as 12345678901234568)', () => {
    expect(text(['1', '12345678901234567.89'])).toBe('Utf8');
    expect(text(['0.12345678901234567890'])).toBe('Utf8');
    expect(text(['9999999999999999999999999999.9999999999'])).toBe('Utf8');
    expect(json(['12345678901234567.89', '1.5'])).toBe('Utf8');
    // what a double holds as written stays float64: trailing zeros, exponents, 17 digits
    expect(text(['1.50', '0.1', '-2.5e-3', '1e21', '1E+3', '.5', '5.'])).toBe('Float64');
    expect(text(['0.30000000000000004', '1.7976931348623157e308', '5e-324'])).toBe('Float64');
    expect(json(['1.5', '0.1'])).toBe('Float64');
  });

  it('makes JSON numbers written with a fraction or an exponent float64, whole or not (1.0 was inferred int64, and a later 1.5 refused)', () => {
    const spelled = (lines: string[]) => String(inferType(lines.map((l) => parseJsonExact(l, { wholeFloats: true })), false));
    expect(spelled(['1.0', '2.0'])).toBe('Float64');
    expect(spelled(['1', '2e3'])).toBe('Float64');
    expect(spelled(['[1.0, 2]'])).toBe('List<Float64>');
    expect(spelled(['{"a": 3.0}'])).toBe('Struct<{a:Float64}>');
    expect(spelled(['1', '2'])).toBe('Int64');
    expect(spelled(['1e21'])).toBe('Float64');
    expect(spelled(['12345678901234567.0'])).toBe('Utf8'); // more digits than a double keeps, as before
  });

  it('makes a JSON -0 float64, whose sign an int64 column would drop (-0.0 was inferred int64 and imported as 0)', () => {
    expect(json(['1', '-0.0', '2'])).toBe('Float64');
    expect(json(['[1, -0]'])).toBe('List<Float64>');
    expect(json(['{"f": -0.0}'])).toBe('Struct<{f:Float64}>');
    // 0 is a whole number
    expect(json(['1', '0', '2'])).toBe('Int64');
  });

  it('makes numbers written with a leading zero utf8: codes whose zeros a number drops (02134 was imported as 2134)', () => {
    expect(text(['12345', '02134'])).toBe('Utf8');
    expect(text(['007'])).toBe('Utf8');
    expect(text(['-01', '5'])).toBe('Utf8');
    expect(text(['1.5', '007.5'])).toBe('Utf8');
    expect(json(['"02134"', '"12345"'])).toBe('Utf8');
    // a zero alone, or before a decimal point, is a number
    expect(text(['0', '10', '-0'])).toBe('Int64');
    // dates and times of years below 1000 are no codes
    expect(text(['2024-01-01', '0001-01-01'])).toBe('Date32<DAY>');
    expect(text(['0001-01-01T00:00:00Z', '2024-01-01T00:00:00Z'])).toMatch(/^Timestamp<MICROSECOND, UTC>$/);
    expect(text(['00', '0012.50', '-05e3'])).toBe('Utf8');
    expect(text(['0.5', '0', '1e-3'])).toBe('Float64');
    expect(json(['0', '1'])).toBe('Int64');
  });
});

describe('rowsToBatch: a JSON integer that does not fit an integer column', () => {
  it('names it as written, without the JavaScript bigint suffix', () => {
    const schema = new Schema([new Field('n', new Int64(), true)]);
    expect(() => rowsToBatch(schema, [[parseJsonExact('18446744073709551615')]], [{ file: 'f.jsonl', line: 3 }], false))
      .toThrow(/^f\.jsonl:3: column 'n': 18446744073709551615 does not fit Int64 /);
  });
});
