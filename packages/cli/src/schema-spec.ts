/**
 * Schemas on the command line: `id:int64!,name:utf8,ts:timestamp(us,UTC),emb:fixed_size_list<float32,4>`.
 * A trailing `!` makes a field non-nullable. Also accepts JSON: Arrow-Java schema JSON (`{"fields":[...]}`)
 * or a list of `{ "name", "type", "nullable" }` with the same type names.
 */
// Arrow's submodules, not its root: see arrow-schema-json.ts.
import {
  Binary, Bool, DataType, DateDay, Decimal, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8,
  LargeBinary, LargeUtf8, List, Struct, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow/type';
import { TimeUnit } from 'apache-arrow/enum';
import { Field, Schema } from 'apache-arrow/schema';
import { LakeSoulError, arrowSchemaFromJson } from '@lakesoul-ts/meta';

const simple: Record<string, () => DataType> = {
  bool: () => new Bool(), boolean: () => new Bool(),
  int8: () => new Int8(), int16: () => new Int16(), int32: () => new Int32(), int: () => new Int32(),
  int64: () => new Int64(), long: () => new Int64(), bigint: () => new Int64(),
  uint8: () => new Uint8(), uint16: () => new Uint16(), uint32: () => new Uint32(), uint64: () => new Uint64(),
  float32: () => new Float32(), float: () => new Float32(), float64: () => new Float64(), double: () => new Float64(),
  utf8: () => new Utf8(), string: () => new Utf8(), large_utf8: () => new LargeUtf8(),
  binary: () => new Binary(), large_binary: () => new LargeBinary(),
  date32: () => new DateDay(), date: () => new DateDay(),
};
const units: Record<string, TimeUnit> = { s: TimeUnit.SECOND, ms: TimeUnit.MILLISECOND, us: TimeUnit.MICROSECOND, ns: TimeUnit.NANOSECOND };

/** Names the CLI accepts for types, for help texts. */
export const TYPE_NAMES =
  'bool, int8..int64, uint8..uint64, float32, float64, utf8 (string), large_utf8, binary, large_binary, date32 (date), ' +
  'timestamp(us[,TZ]), decimal(P,S), list<T>, fixed_size_list<T,N>, struct<name:T[!],...>';

/** What a column name of the `name:type` syntax may hold, and the way to give others. */
const NAME_HINT = " (a name here is letters, digits, '_', '.' and '-', not starting with a digit; give other names in a JSON schema: --schema @file.json)";

class SpecParser {
  pos = 0;
  constructor(readonly text: string) {}
  fail(msg: string): never {
    throw new LakeSoulError('InvalidArgument', `schema '${this.text}': ${msg} at position ${this.pos + 1}. Types: ${TYPE_NAMES}`, { code: 'BAD_SCHEMA_SPEC' });
  }
  ws() { while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++; }
  peek() { this.ws(); return this.text[this.pos]; }
  eat(ch: string) { if (this.peek() !== ch) this.fail(`expected '${ch}'`); this.pos++; }
  ident(): string {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_.\-]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }
  /** A column name: letters and digits of any script (`név`, `名前`), `_`, `.` and `-`, not starting with a digit. */
  columnName(): string {
    this.ws();
    const m = /^[\p{L}\p{M}_][\p{L}\p{M}\p{N}_.\-]*/u.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected a column name${NAME_HINT}`);
    this.pos += m[0].length;
    return m[0];
  }
  int(): number {
    this.ws();
    const m = /^\d+/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
  type(): DataType {
    const name = this.ident().toLowerCase();
    if (simple[name]) return simple[name]!();
    if (name === 'timestamp') {
      let unit = TimeUnit.MICROSECOND;
      let tz: string | null = null;
      if (this.peek() === '(') {
        this.pos++;
        const u = this.ident().toLowerCase();
        if (units[u] === undefined) this.fail(`unknown time unit '${u}' (s, ms, us, ns)`);
        unit = units[u]!;
        if (this.peek() === ',') {
          this.pos++;
          this.ws();
          const m = /^[^)]+/.exec(this.text.slice(this.pos));
          if (!m || m[0].trim() === '') this.fail("expected a time zone after ',' (UTC, +08:00, Asia/Shanghai; none: timestamp(us))");
          tz = m[0].trim();
          this.pos += m[0].length;
        }
        this.eat(')');
      }
      return new Timestamp(unit, tz);
    }
    if (name === 'decimal') {
      this.eat('('); const p = this.int(); this.eat(','); const s = this.int(); this.eat(')');
      return new Decimal(s, p, 128);
    }
    if (name === 'list') {
      this.eat('<'); const t = this.type(); this.eat('>');
      return new List(new Field('item', t, true));
    }
    if (name === 'struct') {
      // as `table describe` prints it: struct<name:type[!],...>
      this.eat('<');
      const fields = [this.field()];
      while (this.peek() === ',') { this.pos++; fields.push(this.field()); }
      this.eat('>');
      const seen = new Set<string>();
      for (const f of fields) {
        if (seen.has(f.name)) this.fail(`struct field '${f.name}' appears twice`);
        seen.add(f.name);
      }
      return new Struct(fields);
    }
    if (name === 'fixed_size_list') {
      this.eat('<'); const t = this.type(); this.eat(','); const n = this.int(); this.eat('>');
      return new FixedSizeList(n, new Field('item', t, true));
    }
    return this.fail(`unknown type '${name}'`);
  }
  field(): Field {
    const name = this.columnName();
    if (this.peek() !== ':') this.fail(`expected ':' after column name '${name}'${NAME_HINT}`);
    this.pos++;
    const type = this.type();
    let nullable = true;
    if (this.peek() === '!') { this.pos++; nullable = false; }
    return new Field(name, type, nullable);
  }
  schema(): Schema {
    const fields: Field[] = [this.field()];
    while (this.peek() === ',') { this.pos++; fields.push(this.field()); }
    this.ws();
    if (this.pos !== this.text.length) this.fail('unexpected text');
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f.name)) throw new LakeSoulError('InvalidArgument', `schema '${this.text}': column '${f.name}' appears twice`, { context: { column: f.name } });
      seen.add(f.name);
    }
    return new Schema(fields);
  }
}

/** Parse one type name (`int64`, `list<float32>`, ...). */
export function parseTypeSpec(text: string): DataType {
  const p = new SpecParser(text);
  const t = p.type();
  p.ws();
  if (p.pos !== text.length) p.fail('unexpected text');
  return t;
}

/** Parse a schema given as `name:type[!],...` or as JSON (see module doc). */
export function parseSchemaSpec(text: string): Schema {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return arrowSchemaFromJson(trimmed);
  if (trimmed.startsWith('[')) {
    let list: { name: string; type: string; nullable?: boolean }[];
    try { list = JSON.parse(trimmed); } catch (e) {
      throw new LakeSoulError('InvalidArgument', `schema JSON is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    return new Schema(list.map((f, i) => {
      if (typeof f?.name !== 'string' || typeof f?.type !== 'string') {
        throw new LakeSoulError('InvalidArgument', `schema JSON entry ${i}: needs string "name" and "type"`);
      }
      return new Field(f.name, parseTypeSpec(f.type), f.nullable ?? true);
    }));
  }
  return new SpecParser(trimmed).schema();
}

/** Render a type the way {@link parseTypeSpec} reads it. */
export function formatType(t: DataType): string {
  if (t instanceof Timestamp) {
    const u = Object.entries(units).find(([, v]) => v === t.unit)![0];
    return t.timezone ? `timestamp(${u},${t.timezone})` : `timestamp(${u})`;
  }
  if (t instanceof Decimal) return `decimal(${t.precision},${t.scale})`;
  if (t instanceof FixedSizeList) return `fixed_size_list<${formatType(t.children[0]!.type)},${t.listSize}>`;
  if (t instanceof List) return `list<${formatType(t.children[0]!.type)}>`;
  if (DataType.isStruct(t)) return `struct<${t.children.map((c) => `${c.name}:${formatType(c.type)}${c.nullable ? '' : '!'}`).join(',')}>`;
  const s = String(t).toLowerCase();
  const map: Record<string, string> = { utf8: 'utf8', largeutf8: 'large_utf8', largebinary: 'large_binary', 'date32<day>': 'date32', float32: 'float32', float64: 'float64' };
  return map[s] ?? s;
}
