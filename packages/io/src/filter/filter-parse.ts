/**
 * Parsing and normalizing row filters: a small SQL-like expression language onto the JSON
 * {@link FilterExpr} AST of the io contract.
 *
 * Grammar (keywords case-insensitive):
 * ```
 * expr      := or
 * or        := and ('or' and)*
 * and       := unary ('and' unary)*
 * unary     := 'not' unary | '(' expr ')' | predicate
 * predicate := column cmp literal | literal cmp column | column cmp column
 *            | column ['not'] 'in' '(' literal (',' literal)* ')'
 *            | column ['not'] 'between' literal 'and' literal
 *            | column ['not'] 'like' 'pattern'
 *            | column 'is' ['not'] 'null'
 * cmp       := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 * literal   := 'text' ('' escapes a quote) | [-]number | true | false | null
 *            | TIMESTAMP 'YYYY-MM-DD[ T]hh:mm:ss[.fff][Z|±hh:mm]' | DATE 'YYYY-MM-DD'
 * column    := identifier ([A-Za-z_][A-Za-z0-9_$.]*, not a keyword) | "quoted identifier"
 * ```
 * A quoted identifier is SQL's delimited identifier, written as the Flight SQL statements of
 * connector-flight write theirs: any non-empty name between double quotes, `""` for a quote inside
 * (`"a b"`, `"a.b"`, `"and"`, `"名前"`, `"""q"""` for the name `"q"`), compared as written (no case
 * folding). An unquoted identifier is a keyword where one may stand (`and`, `or`, `not`, `in`, `is`,
 * `null`, `true`, `false`, `between`, `like`, and `date`/`timestamp` before a quoted literal); a
 * quoted one is always a column.
 * Integers beyond ±2^53 become bigint; a number with a fraction becomes the nearest double, and where
 * that double's shortest form is another decimal (`1234567.0123456788`, `9007199254740992.5`) its
 * comparison keeps the literal's text (`LiteralText`): decimal and integer columns compare
 * with the literal as written, float columns with the double. TIMESTAMP/DATE literals become `Date` (UTC unless an offset
 * is given), or for a timestamp with micro- or nanoseconds its text (a Date holds milliseconds only). `a BETWEEN x AND y` is `a >= x AND a <= y` (so statistics prune
 * it like the two comparisons); LIKE patterns use `%` and `_` (`\` escapes); an identifier on the
 * right of a comparison is a column (`a < b`), a quoted string a literal.
 */
import { Type, type Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Filter, FilterExpr, FilterValue } from '../types.js';
import { civilFromDays, daysFromCivil } from '../arrow/temporal-codec.js';
import { parseDecimal, sameDecimal, scaledDecimal } from './exact-decimal.js';

type Tok =
  | { t: 'id'; v: string; pos: number; quoted: boolean }
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number | bigint; pos: number; text: string; exact: boolean }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

/** Characters of a filter string: filters are written by people, 64 Ki leaves room for long IN lists. */
export const MAX_FILTER_LENGTH = 64 * 1024;
/** Nesting depth of a filter (parentheses, NOT, nested and/or of an AST): bounds the recursion of every pass over it. */
export const MAX_FILTER_DEPTH = 64;
/** Characters of filter input quoted in an error (a megabyte filter is never echoed). */
const QUOTE_CHARS = 120;

/** A short quote of filter input for error messages. */
function clip(text: string, max = QUOTE_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}

function tooDeep(): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `filter nesting exceeds the limit of depth ${MAX_FILTER_DEPTH}`, { code: 'LIMIT_EXCEEDED' });
}

/** A syntax error at `pos`; `hint`, after the (clipped) message, says how to write it instead. */
function syntax(text: string, pos: number, msg: string, hint = ''): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `filter syntax error at position ${pos}: ${clip(msg)}${hint ? `; ${hint}` : ''} (in: ${clip(text)})`, {
    code: 'FILTER_SYNTAX',
    context: { position: pos, filter: clip(text) },
  });
}

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) {
          throw c === "'"
            ? syntax(text, start, `unterminated string: the ' at position ${start} has no closing '`, `a ' inside a string is written ''`)
            : syntax(text, start, `unterminated quoted identifier: the " at position ${start} has no closing "`, `a " inside a column name is written ""`);
        }
        if (text[i] === c) {
          if (text[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i++];
      }
      if (c === '"' && v === '') throw syntax(text, start, 'empty quoted identifier "": a column name has at least one character');
      out.push(c === "'" ? { t: 'str', v, pos: start } : { t: 'id', v, pos: start, quoted: true });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      const s = m[0];
      i += s.length;
      const lit = numberLiteral(s);
      out.push({ t: 'num', v: lit.value, pos: start, text: s, exact: lit.exact });
      if (i < n && /[A-Za-z_]/.test(text[i])) throw syntax(text, i, `unexpected '${text[i]}' after number`);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$.]*/.exec(text.slice(i))!;
      i += m[0].length;
      out.push({ t: 'id', v: m[0], pos: start, quoted: false });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      out.push({ t: 'op', v: two === '<>' ? '!=' : two, pos: start });
      i += 2;
      continue;
    }
    if ('=<>(),-'.includes(c)) {
      out.push({ t: 'op', v: c, pos: start });
      i++;
      continue;
    }
    // a column name with other characters (a letter beyond ASCII, a space, '-') is written quoted
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    const hint = /[\p{L}\p{N}]/u.test(ch) ? `a column name with characters other than A-Z, a-z, 0-9, _, $ and . is written in double quotes ("${ch}...")` : '';
    throw syntax(text, start, `unexpected character '${ch}'`, hint);
  }
  out.push({ t: 'end', pos: n });
  return out;
}

const CMP = new Set(['=', '!=', '<', '<=', '>', '>=']);
const FLIP: Record<string, string> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** A comparison node with its literal's text when the value is not exactly it (see `LiteralText`). */
function withText(e: FilterExpr, text: string | undefined): FilterExpr {
  if (text !== undefined) (e as LiteralText).text = text;
  return e;
}

/**
 * Parse a TIMESTAMP literal body to a Date (UTC unless an offset is given); with non-zero digits
 * below the millisecond, which a Date cannot hold, to its checked text (compared exactly).
 */
/**
 * A number literal's value: an integer (`12`, also written `12.0` or `1.2e1`) beyond ±2^53 as a
 * bigint, so an int64 column compares with the literal as written (`9007199254740993.0` was the
 * double 9007199254740992 and matched that row); a fraction as the nearest double, with `exact`
 * false when that double's shortest form is another decimal (`1234567.0123456788` reads as the
 * double printed `1234567.0123456789`; at 2^53 and beyond doubles are whole numbers, so
 * `9007199254740992.5` is the double 9007199254740992): the comparison then keeps the literal's text
 * (`LiteralText`), which decimal and integer columns compare with exactly. A float column
 * compares with the double a bigint denotes (`floatLiteral` in filter-eval.ts), so `1e300` there is
 * the double 1e300.
 */
function numberLiteral(s: string): { value: number | bigint; exact: boolean } {
  const m = /^([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s)!;
  let digits = (m[1] + (m[2] ?? '')).replace(/^0+/, '');
  let exp = Number(m[3] ?? 0) - (m[2] ?? '').length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  const approx = Number(s);
  if (digits === '') return { value: 0, exact: true };
  if (exp >= 0) {
    // beyond any double's range it stays the number it is (Infinity), not a bigint of 400 digits
    if (digits.length + exp > 310) return { value: approx, exact: true };
    const b = BigInt(digits) * 10n ** BigInt(exp);
    return { value: b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b, exact: true };
  }
  return { value: approx, exact: sameDecimal(s, approx) };
}

/**
 * The text of a number literal a double does not hold exactly (see numberLiteral), kept on its
 * comparison: `text` on `=`, `!=`, `<`, `<=`, `>`, `>=` nodes, `texts` (null for the exact ones) on
 * `in` nodes. The value stays the nearest double, for float columns and for readers that do not know
 * the text; decimal and integer columns compare with the text's exact decimal.
 */
export interface LiteralText {
  text?: string;
  texts?: (string | null)[];
}

/** The largest epoch milliseconds a Date holds. */
const MAX_DATE_MS = 8.64e15;

function parseTimestamp(text: string, s: string, pos: number): Date | string {
  const m = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s.trim());
  if (m === null) throw syntax(text, pos, `invalid TIMESTAMP literal '${s}'`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', tz] = m;
  if (!isCivilDate(+y, +mo, +d) || +h > 23 || +mi > 59 || +sec > 59) throw syntax(text, pos, `invalid TIMESTAMP literal '${s}'`);
  // not Date.UTC, which takes years 0-99 for 1900-1999
  let ms = daysFromCivil(+y, +mo, +d) * 86_400_000 + ((+h * 60 + +mi) * 60 + +sec) * 1000 + Number((frac + '000').slice(0, 3));
  if (tz !== undefined && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    if (+digits.slice(0, 2) > 23 || +digits.slice(2) > 59) throw syntax(text, pos, `invalid TIMESTAMP literal '${s}': UTC offset ${tz} is beyond ±23:59 (hours 00-23, minutes 00-59)`);
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
  }
  // beyond the years a Date holds (±275,760) the text itself, compared exactly like sub-ms fractions
  return /[1-9]/.test(frac.slice(3)) || !(Math.abs(ms) <= MAX_DATE_MS) ? s.trim() : new Date(ms);
}

/** Whether y-m-d is a day of the proleptic Gregorian calendar (no 2024-02-30). */
function isCivilDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const [y2, m2, d2] = civilFromDays(daysFromCivil(y, m, d));
  return y2 === y && m2 === m && d2 === d;
}

function parseDate(text: string, s: string, pos: number): Date {
  const m = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (m === null || !isCivilDate(+m[1], +m[2], +m[3])) throw syntax(text, pos, `invalid DATE literal '${s}'`);
  const ms = daysFromCivil(+m[1], +m[2], +m[3]) * 86_400_000;
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw syntax(text, pos, `DATE literal '${s}' is beyond the years a filter date holds (-271821 to +275760)`);
  return new Date(ms);
}

class Parser {
  private i = 0;
  constructor(private readonly text: string, private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i];
  }
  private next(): Tok {
    return this.toks[this.i++];
  }
  private isKw(tok: Tok, kw: string): boolean {
    return tok.t === 'id' && !tok.quoted && tok.v.toLowerCase() === kw;
  }
  private describe(tok: Tok): string {
    switch (tok.t) {
      case 'end':
        return 'end of input';
      case 'str':
        return `'${tok.v}'`;
      case 'num':
        return tok.text.length > 40 ? `${tok.text.slice(0, 40)}…` : tok.text;
      case 'id':
        return tok.quoted ? quoteIdentifier(tok.v) : `'${tok.v}'`;
      default:
        return `'${tok.v}'`;
    }
  }
  private expectOp(op: string): void {
    const tok = this.next();
    if (tok.t !== 'op' || tok.v !== op) throw syntax(this.text, tok.pos, `expected '${op}', found ${this.describe(tok)}`);
  }

  parse(): FilterExpr {
    const e = this.or();
    const tok = this.peek();
    if (tok.t !== 'end') throw syntax(this.text, tok.pos, `unexpected ${this.describe(tok)}`);
    return e;
  }

  private or(): FilterExpr {
    const args = [this.and()];
    while (this.isKw(this.peek(), 'or')) {
      this.next();
      args.push(this.and());
    }
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private and(): FilterExpr {
    const args = [this.unary()];
    while (this.isKw(this.peek(), 'and')) {
      this.next();
      args.push(this.unary());
    }
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private depth = 0;

  private unary(): FilterExpr {
    const tok = this.peek();
    if (this.isKw(tok, 'not')) {
      this.next();
      if (++this.depth > MAX_FILTER_DEPTH) throw tooDeep();
      const arg = this.unary();
      this.depth--;
      return { op: 'not', arg };
    }
    if (tok.t === 'op' && tok.v === '(') {
      this.next();
      if (++this.depth > MAX_FILTER_DEPTH) throw tooDeep();
      const e = this.or();
      this.depth--;
      this.expectOp(')');
      return e;
    }
    return this.predicate();
  }

  private isLiteralStart(tok: Tok): boolean {
    if (tok.t === 'str' || tok.t === 'num') return true;
    if (tok.t === 'op' && tok.v === '-') return true;
    return ['true', 'false', 'null', 'timestamp', 'date'].some((k) => this.isKw(tok, k)) && !this.isColumnAfterKeyword(tok);
  }

  /** `date` / `timestamp` followed by an operator is a column named date. */
  private isColumnAfterKeyword(tok: Tok): boolean {
    if (!(this.isKw(tok, 'date') || this.isKw(tok, 'timestamp'))) return false;
    const after = this.toks[this.i + 1];
    return after.t !== 'str';
  }

  /** A literal, and a number literal's text where its value is not exactly it (see `LiteralText`). */
  private literalText(): { value: FilterValue; text?: string } {
    const tok = this.peek();
    if (tok.t === 'num') {
      this.next();
      return tok.exact ? { value: tok.v } : { value: tok.v, text: tok.text };
    }
    if (tok.t === 'op' && tok.v === '-') {
      this.next();
      const n = this.next();
      if (n.t !== 'num') throw syntax(this.text, n.pos, `expected a number after '-', found ${this.describe(n)}`);
      if (typeof n.v === 'bigint') {
        const neg = -n.v;
        return { value: neg >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(neg) : neg };
      }
      return n.exact ? { value: -n.v } : { value: -n.v, text: `-${n.text}` };
    }
    return { value: this.literal() };
  }

  private literal(): FilterValue {
    const first = this.peek();
    if (first.t === 'num' || (first.t === 'op' && first.v === '-')) return this.literalText().value;
    const tok = this.next();
    if (tok.t === 'str') return tok.v;
    if (this.isKw(tok, 'true')) return true;
    if (this.isKw(tok, 'false')) return false;
    if (this.isKw(tok, 'null')) return null;
    if (this.isKw(tok, 'timestamp') || this.isKw(tok, 'date')) {
      const s = this.next();
      if (s.t !== 'str') throw syntax(this.text, s.pos, `expected a quoted ${tok.t === 'id' ? tok.v.toUpperCase() : ''} literal, found ${this.describe(s)}`);
      return this.isKw(tok, 'date') ? parseDate(this.text, s.v, s.pos) : parseTimestamp(this.text, s.v, s.pos);
    }
    throw syntax(this.text, tok.pos, `expected a literal, found ${this.describe(tok)}`);
  }

  private column(): string {
    const tok = this.next();
    if (tok.t !== 'id') throw syntax(this.text, tok.pos, `expected a column name, found ${this.describe(tok)}`);
    if (!tok.quoted && ['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'between', 'like'].includes(tok.v.toLowerCase())) {
      throw syntax(this.text, tok.pos, `expected a column name, found keyword '${tok.v}'`);
    }
    return tok.v;
  }

  private predicate(): FilterExpr {
    const first = this.peek();
    if (this.isLiteralStart(first)) {
      const lit = this.literalText();
      const op = this.next();
      if (op.t !== 'op' || !CMP.has(op.v)) throw syntax(this.text, op.pos, `expected a comparison operator, found ${this.describe(op)}`);
      const column = this.column();
      return withText({ op: FLIP[op.v] as '=', column, value: lit.value }, lit.text);
    }
    const column = this.column();
    const tok = this.next();
    if (tok.t === 'op' && CMP.has(tok.v)) {
      const rhs = this.peek();
      if (rhs.t === 'id' && !this.isLiteralStart(rhs)) {
        return { op: 'compare', left: column, cmp: tok.v as '=', right: this.column() };
      }
      const lit = this.literalText();
      return withText({ op: tok.v as '=', column, value: lit.value }, lit.text);
    }
    if (this.isKw(tok, 'is')) {
      let not = false;
      if (this.isKw(this.peek(), 'not')) {
        this.next();
        not = true;
      }
      const n = this.next();
      if (!this.isKw(n, 'null')) throw syntax(this.text, n.pos, `expected NULL, found ${this.describe(n)}`);
      return { op: not ? 'isNotNull' : 'isNull', column };
    }
    let negate = false;
    let inTok = tok;
    if (this.isKw(tok, 'not')) {
      negate = true;
      inTok = this.next();
    }
    if (this.isKw(inTok, 'in')) {
      this.expectOp('(');
      const lits = [this.literalText()];
      for (;;) {
        const t = this.next();
        if (t.t === 'op' && t.v === ')') break;
        if (t.t !== 'op' || t.v !== ',') throw syntax(this.text, t.pos, `expected ',' or ')', found ${this.describe(t)}`);
        lits.push(this.literalText());
      }
      const e: FilterExpr = { op: 'in', column, values: lits.map((l) => l.value) };
      if (lits.some((l) => l.text !== undefined)) (e as LiteralText).texts = lits.map((l) => l.text ?? null);
      return negate ? { op: 'not', arg: e } : e;
    }
    if (this.isKw(inTok, 'between')) {
      const lo = this.literalText();
      const and = this.next();
      if (!this.isKw(and, 'and')) throw syntax(this.text, and.pos, `expected AND in BETWEEN, found ${this.describe(and)}`);
      const hi = this.literalText();
      const e: FilterExpr = { op: 'and', args: [withText({ op: '>=', column, value: lo.value }, lo.text), withText({ op: '<=', column, value: hi.value }, hi.text)] };
      return negate ? { op: 'not', arg: e } : e;
    }
    if (this.isKw(inTok, 'like')) {
      const p = this.next();
      if (p.t !== 'str') throw syntax(this.text, p.pos, `expected a quoted LIKE pattern, found ${this.describe(p)}`);
      const e: FilterExpr = { op: 'like', column, pattern: p.v };
      return negate ? { op: 'not', arg: e } : e;
    }
    // `first name = 'x'`: a name with a space is one quoted identifier
    const spaced = tok.t === 'id' && !tok.quoted ? `a column name with spaces is written in double quotes: ${clip(quoteIdentifier(`${column} ${tok.v}`), 40)}` : '';
    throw syntax(this.text, tok.pos, `expected a comparison, IN, BETWEEN, LIKE or IS after column '${column}', found ${this.describe(tok)}`, spaced);
  }
}

/**
 * Parse a SQL-like filter (grammar above). With `schema`, column names are checked: an unknown
 * column is InvalidArgument naming it. Syntax errors are InvalidArgument with the position.
 */
export function parseFilter(text: string, schema?: Schema): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new LakeSoulError('InvalidArgument', `filter of ${text.length} characters exceeds the limit of ${MAX_FILTER_LENGTH} characters`, { code: 'LIMIT_EXCEEDED' });
  }
  const expr = new Parser(text, tokenize(text)).parse();
  if (schema !== undefined) checkColumns(expr, schema);
  return expr;
}

const KEYWORDS = ['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'between', 'like', 'date', 'timestamp'];

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A column name as the grammar writes it: bare when it is an unquoted identifier and no keyword,
 * else double-quoted with `""` for a quote inside (`a b` -> `"a b"`, `and` -> `"and"`).
 */
function filterIdentifier(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_$.]*$/.test(name) && !KEYWORDS.includes(name.toLowerCase()) ? name : quoteIdentifier(name);
}

function checkColumns(expr: FilterExpr, schema: Schema): void {
  // the columns as a filter writes them: `a b, c` named three columns or two
  const columns = schema.fields.map((f) => filterIdentifier(f.name)).join(', ');
  const rights = new Set<string>();
  const walk = (e: FilterExpr): void => {
    if (e.op === 'and' || e.op === 'or') e.args.forEach(walk);
    else if (e.op === 'not') walk(e.arg);
    else if (e.op === 'compare') rights.add(e.right);
  };
  walk(expr);
  for (const c of filterColumns(expr)) {
    if (!schema.fields.some((f) => f.name === c) && rights.has(c)) {
      throw new LakeSoulError('InvalidArgument', `filter names unknown column '${c}' (columns: ${columns}); to compare with the text, quote it: '${c.replace(/'/g, "''")}'`, {
        code: 'FILTER_UNKNOWN_COLUMN',
        context: { column: c },
      });
    }
    if (!schema.fields.some((f) => f.name === c)) {
      throw new LakeSoulError('InvalidArgument', `filter names unknown column '${c}' (columns: ${columns})`, {
        code: 'FILTER_UNKNOWN_COLUMN',
        context: { column: c },
      });
    }
  }
}

/** Column names a filter reads, each once, in order of appearance. */
export function filterColumns(expr: FilterExpr): string[] {
  const out: string[] = [];
  const walk = (e: FilterExpr): void => {
    switch (e.op) {
      case 'and':
      case 'or':
        e.args.forEach(walk);
        return;
      case 'not':
        walk(e.arg);
        return;
      case 'compare':
        if (!out.includes(e.left)) out.push(e.left);
        if (!out.includes(e.right)) out.push(e.right);
        return;
      default:
        if (!out.includes(e.column)) out.push(e.column);
    }
  };
  walk(expr);
  return out;
}

/**
 * An IN list on an integer column without the literals kept as text that no integer equals
 * (`id IN (1.00000000000000001, 2)` is `id IN (2)`; a whole one becomes its integer): a scan cuts a
 * key IN list down per bucket by the literals' values alone, and 1.00000000000000001, whose double
 * is 1, would select the row 1 there. A list of only such literals keeps the first (one literal
 * selects one bucket, and the evaluator compares it as written).
 */
function integerIn(e: FilterExpr & { op: 'in' }): FilterExpr {
  const texts = (e as LiteralText).texts;
  if (texts === undefined) return e;
  const values: FilterValue[] = [];
  e.values.forEach((v, k) => {
    const t = texts[k];
    if (t === null) return void values.push(v);
    const s = scaledDecimal(parseDecimal(t)!, 0);
    if (s.beyond === undefined && !s.frac) values.push(s.floor >= BigInt(Number.MIN_SAFE_INTEGER) && s.floor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s.floor) : s.floor);
  });
  if (values.length > 0) return { op: 'in', column: e.column, values };
  const k = texts.findIndex((t) => t !== null);
  return { op: 'in', column: e.column, values: [e.values[k]], texts: [texts[k]] } as FilterExpr;
}

/** Whether `text` is a numeral whose nearest double is `value` (a literal's kept text, see `LiteralText`). */
function isTextOf(text: unknown, value: unknown): boolean {
  return typeof text === 'string' && typeof value === 'number' && text.length <= MAX_FILTER_LENGTH && parseDecimal(text) !== undefined && Number(text.trim()) === value;
}

function isValue(v: unknown): v is FilterValue {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v) || v instanceof Date;
}

/**
 * A filter given as text or AST, checked and simplified: text is parsed; an AST is validated (known
 * ops, column names, literal types); nested and/or are flattened and single-argument and/or unwrapped.
 * With `schema`, unknown columns are rejected. Errors are InvalidArgument.
 */
export function normalizeFilter(filter: Filter, schema?: Schema): FilterExpr {
  const expr = typeof filter === 'string' ? parseFilter(filter) : filter;
  const bad = (msg: string): LakeSoulError => new LakeSoulError('InvalidArgument', `invalid filter: ${clip(msg, 3 * QUOTE_CHARS)}`, { code: 'FILTER_INVALID' });
  const norm = (e: any, depth: number): FilterExpr => {
    if (depth > MAX_FILTER_DEPTH) throw tooDeep();
    if (e === null || typeof e !== 'object') throw bad(`expected an object, got ${String(e)}`);
    switch (e.op) {
      case 'and':
      case 'or': {
        if (!Array.isArray(e.args) || e.args.length === 0) throw bad(`'${e.op}' needs a non-empty args array`);
        const args: FilterExpr[] = [];
        for (const a of e.args.map((x: unknown) => norm(x, depth + 1))) {
          if (a.op === e.op) args.push(...(a as { args: FilterExpr[] }).args);
          else args.push(a);
        }
        return args.length === 1 ? args[0] : { op: e.op, args };
      }
      case 'not':
        return { op: 'not', arg: norm(e.arg, depth + 1) };
      case '=':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (typeof e.column !== 'string' || e.column === '') throw bad(`'${e.op}' needs a column name`);
        if (!isValue(e.value)) throw bad(`'${e.op}' on '${e.column}' has an unsupported value ${String(e.value)}`);
        if (e.text !== undefined) {
          if (!isTextOf(e.text, e.value)) throw bad(`'${e.op}' on '${e.column}' has a text that is not a numeral of its value ${String(e.value)}`);
          return { op: e.op, column: e.column, value: e.value, text: e.text } as FilterExpr;
        }
        return { op: e.op, column: e.column, value: e.value };
      case 'in': {
        if (typeof e.column !== 'string' || e.column === '') throw bad(`'in' needs a column name`);
        if (!Array.isArray(e.values) || e.values.length === 0 || !e.values.every(isValue)) throw bad(`'in' on '${e.column}' needs a non-empty values array`);
        const out: FilterExpr = { op: 'in', column: e.column, values: [...e.values] };
        if (e.texts !== undefined) {
          const texts: unknown = e.texts;
          if (!Array.isArray(texts) || texts.length !== e.values.length || !texts.every((t, k) => t === null || isTextOf(t, e.values[k]))) {
            throw bad(`'in' on '${e.column}' has texts that are not one numeral or null for each value`);
          }
          if (texts.some((t) => t !== null)) (out as LiteralText).texts = [...texts];
        }
        return schema?.fields.find((f) => f.name === e.column)?.type.typeId === Type.Int ? integerIn(out) : out;
      }
      case 'isNull':
      case 'isNotNull':
        if (typeof e.column !== 'string' || e.column === '') throw bad(`'${e.op}' needs a column name`);
        return { op: e.op, column: e.column };
      case 'like':
        if (typeof e.column !== 'string' || e.column === '') throw bad(`'like' needs a column name`);
        if (typeof e.pattern !== 'string') throw bad(`'like' on '${e.column}' needs a string pattern`);
        return { op: 'like', column: e.column, pattern: e.pattern };
      case 'compare':
        if (typeof e.left !== 'string' || e.left === '' || typeof e.right !== 'string' || e.right === '') throw bad(`'compare' needs left and right column names`);
        if (!['=', '!=', '<', '<=', '>', '>='].includes(e.cmp)) throw bad(`'compare' has an unknown operator '${String(e.cmp)}'`);
        return { op: 'compare', left: e.left, cmp: e.cmp, right: e.right };
      default:
        throw bad(`unknown op '${String(e.op)}'`);
    }
  };
  const out = norm(expr, 1);
  if (schema !== undefined) checkColumns(out, schema);
  return out;
}

/** True when the filter reads only primary-key columns (so it may prune files and row groups). */
export function isPkOnly(expr: FilterExpr, primaryKeys: readonly string[]): boolean {
  return primaryKeys.length > 0 && filterColumns(expr).every((c) => primaryKeys.includes(c));
}
