// The schema evolution rules, change by change (the catalog applies them in one transaction).
import { describe, expect, it } from 'vitest';
import { Field, Float32, Float64, Int16, Int32, Int64, Schema, Uint64, Utf8 } from 'apache-arrow';
import { checkSchemaEvolution } from './schema-evolution.js';
import { LakeSoulError } from './errors.js';

const base = new Schema([new Field('id', new Int64(), false), new Field('n', new Int32(), true), new Field('w', new Float32(), true)]);
const with_ = (...fields: Field[]) => new Schema(fields);

describe('checkSchemaEvolution', () => {
  it('allows nullable columns at the end and signed-int / float widening', () => {
    expect(checkSchemaEvolution('t', base, base)).toEqual({ added: [], widened: [] });
    const r = checkSchemaEvolution('t', base, with_(base.fields[0], new Field('n', new Int64(), true), new Field('w', new Float64(), true), new Field('s', new Utf8(), true)));
    expect(r.added.map((f) => f.name)).toEqual(['s']);
    expect(r.widened.map((f) => `${f.name}:${f.type}`)).toEqual(['n:Int64', 'w:Float64']);
  });

  const refused: [string, Schema, RegExp][] = [
    ['drop', with_(base.fields[0], base.fields[1]), /column 'w' would be dropped/],
    ['rename', with_(base.fields[0], new Field('m', new Int32(), true), base.fields[2]), /column 'n' would become 'm'/],
    ['reorder', with_(base.fields[1], base.fields[0], base.fields[2]), /column 'id' would become 'n'/],
    ['narrow', with_(base.fields[0], new Field('n', new Int16(), true), base.fields[2]), /cannot change type from Int32 to Int16/],
    ['unsigned', with_(base.fields[0], new Field('n', new Uint64(), true), base.fields[2]), /cannot change type from Int32 to Uint64/],
    ['float to int', with_(base.fields[0], base.fields[1], new Field('w', new Int64(), true)), /cannot change type from Float32 to Int64/],
    ['nullability', with_(base.fields[0], new Field('n', new Int32(), false), base.fields[2]), /column 'n' would change nullability/],
    ['non-nullable new column', with_(...base.fields, new Field('s', new Utf8(), false)), /column 's' is new and must be nullable/],
    ['duplicate', with_(...base.fields, new Field('n', new Utf8(), true)), /column 'n' appears twice/],
    ['comma in a new name', with_(...base.fields, new Field('a,b', new Utf8(), true)), /column 'a,b' contains ','/],
    ['empty new name', with_(...base.fields, new Field('', new Utf8(), true)), /column '' is empty/],
    ['line break in a new name', with_(...base.fields, new Field('a\nb', new Utf8(), true)), /column 'a\nb' contains control characters/],
    ['escape in a new name', with_(...base.fields, new Field('\u001b[31mred', new Utf8(), true)), /contains control characters \(a line break, tab or escape: reads through the CLI and Flight could never select the column\)/],
  ];
  it.each(refused)('refuses: %s', (_what, next, re) => {
    try {
      checkSchemaEvolution('ns.t', base, next);
    } catch (e) {
      expect(LakeSoulError.is(e, 'SchemaMismatch')).toBe(true);
      expect((e as LakeSoulError).code).toBe('SCHEMA_EVOLUTION_REFUSED');
      expect((e as LakeSoulError).message).toMatch(/table 'ns\.t'/);
      expect((e as LakeSoulError).message).toMatch(re);
      return;
    }
    throw new Error('expected a refusal');
  });
});
