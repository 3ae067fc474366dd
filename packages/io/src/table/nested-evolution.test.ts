/**
 * A `schemaMode: 'merge'` write whose data held a wider float inside a nested column (a float64 in a
 * `list<float32>`, also as a large or fixed-size list) rounded it into the narrower type, while the
 * same top-level column was widened; a new struct field was refused as `SCHEMA_MISMATCH`. Both are
 * evolutions the table does not make, refused as such (`SCHEMA_EVOLUTION_REFUSED`, naming the field).
 * Integers are left to the conversion, which refuses those that do not fit (a review found int64
 * lists of small values refused in merge mode where strict mode took them).
 */
import { describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Float32, Float64, Int32, Int64, LargeList, List, Map_, Schema, Struct, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { LakeSoulError, nestedEvolutionProblem } from '@lakesoul-ts/meta';
import { plainRows, useTempLakehouse } from './temp-lakehouse-fixture.js';

const listOf = (t: Float32 | Float64 | Int32 | Int64, name = 'item') => new List(new Field(name, t, true));
const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('v', listOf(new Float32()), true),
  new Field('st', new Struct([new Field('x', new Int32(), true)]), true),
  new Field('f', new Float32(), true),
]);
const data = (s: Schema, row: Record<string, unknown>) =>
  new Table(s, Object.fromEntries(s.fields.map((f) => [f.name, vectorFromArray([row[f.name]], f.type)])));

describe('nestedEvolutionProblem', () => {
  const with_ = (name: string, type: Float32 | Float64 | Int32 | Int64 | List | LargeList | FixedSizeList | Struct | Map_) => new Schema([new Field('id', new Int64(), false), new Field(name, type, true)]);
  it('names a wider float or a new field inside a nested column, lists of every kind', () => {
    expect(nestedEvolutionProblem(schema, with_('v', listOf(new Float64())))?.column).toBe('v.item');
    expect(nestedEvolutionProblem(schema, with_('v', new LargeList(new Field('item', new Float64(), true))))?.column).toBe('v.item');
    expect(nestedEvolutionProblem(schema, with_('v', new FixedSizeList(2, new Field('item', new Float64(), true))))?.column).toBe('v.item');
    expect(nestedEvolutionProblem(with_('v', new FixedSizeList(2, new Field('item', new Float32(), true))), with_('v', listOf(new Float64())))?.column).toBe('v.item');
    expect(nestedEvolutionProblem(schema, with_('st', new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)])))?.column).toBe('st.y');
    const map = (v: Float32 | Float64) => new Map_(new Field('entries', new Struct<{ key: Utf8; value: Float32 | Float64 }>([new Field('key', new Utf8(), false), new Field('value', v, true)]), false));
    expect(nestedEvolutionProblem(new Schema([new Field('m', map(new Float32()), true)]), new Schema([new Field('m', map(new Float64()), true)]))?.column).toBe('m.entries.value');
  });
  it('leaves what the value conversion takes: another item name, integers, narrower numbers, a subset of fields, top-level widening', () => {
    expect(nestedEvolutionProblem(schema, with_('st', new Struct([new Field('x', new Int64(), true)])))).toBeNull();
    expect(nestedEvolutionProblem(with_('v', listOf(new Int32())), with_('v', listOf(new Int64())))).toBeNull();
    expect(nestedEvolutionProblem(schema, with_('v', listOf(new Float32(), 'element')))).toBeNull();
    expect(nestedEvolutionProblem(with_('v', listOf(new Int64())), with_('v', listOf(new Int32())))).toBeNull();
    expect(nestedEvolutionProblem(schema, with_('st', new Struct([])))).toBeNull();
    expect(nestedEvolutionProblem(schema, with_('f', new Float64()))).toBeNull();
    expect(nestedEvolutionProblem(schema, with_('new', listOf(new Float64())))).toBeNull();
  });
});

describe("schemaMode 'merge' inside nested columns", () => {
  const h = useTempLakehouse('lakesoul-nested-evolution-');
  it('refuses a wider number or a new struct field, commits nothing, changes no schema', async () => {
    const t = await h.lh.createTable('nested_ev', schema, { primaryKeys: ['id'], hashBucketNum: 1 });
    await t.write(data(schema, { id: 1n, v: [1.5], st: { x: 1 }, f: 1.5 }));
    const cases: [Field, unknown, string][] = [
      [new Field('v', listOf(new Float64()), true), [0.1], "column 'v.item' is Float64 in the data but Float32 in the table"],
      [new Field('v', new LargeList(new Field('item', new Float64(), true)), true), [0.1], "column 'v.item' is Float64 in the data but Float32 in the table"],
      [new Field('st', new Struct([new Field('x', new Int32(), true), new Field('b', new Utf8(), true)]), true), { x: 2, b: 'new' }, "column 'st.b' is not a field of the table's Struct<{x:Int32}>"],
    ];
    for (const [field, value, message] of cases) {
      const s = new Schema([new Field('id', new Int64(), false), field]);
      const e = await t.write(data(s, { id: 2n, [field.name]: value }), { schemaMode: 'merge' }).then(() => null, (x: unknown) => x);
      expect(LakeSoulError.hasCode(e, 'SCHEMA_EVOLUTION_REFUSED'), String(e)).toBe(true);
      expect((e as Error).message).toContain(`schema change of table 'nested_ev' refused: ${message}`);
    }
    // an int64 in the int32 field: taken when it fits, refused by the conversion when it does not
    const ints = new Schema([new Field('id', new Int64(), false), new Field('st', new Struct([new Field('x', new Int64(), true)]), true)]);
    const big = await t.write(data(ints, { id: 2n, st: { x: 5_000_000_000n } }), { schemaMode: 'merge' }).then(() => null, (x: unknown) => x);
    expect((big as Error).message).toContain("column 'st.x' of table 'nested_ev': value 5000000000 does not fit Int32");
    expect((await t.history()).length).toBe(1);
    expect(String(t.schema)).toBe(String(schema));
    expect(plainRows(await t.toArrow())).toEqual([{ id: 1, v: [1.5], st: { x: 1 }, f: 1.5 }]);
    // the top-level float64 still widens its column, in the same write as a nested value of the table's type
    const s = new Schema([new Field('id', new Int64(), false), new Field('v', listOf(new Float32()), true), new Field('f', new Float64(), true)]);
    await t.write(data(s, { id: 3n, v: [2.5], f: 0.1 }), { schemaMode: 'merge' });
    await t.write(data(ints, { id: 4n, st: { x: 7n } }), { schemaMode: 'merge' });
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64', 'v:List<Float32>', 'st:Struct<{x:Int32}>', 'f:Float64']);
    expect(plainRows(await t.toArrow())).toEqual([{ id: 1, v: [1.5], st: { x: 1 }, f: 1.5 }, { id: 3, v: [2.5], st: null, f: 0.1 }, { id: 4, v: null, st: { x: 7 }, f: null }]);
  });
});
