/**
 * The SQL that Flight SQL statements may hold here: one query shape, mapped onto the read command of
 * plain Flight (so it goes through the same checks and the same planner):
 *
 * ```
 * SELECT * | col [, col ...] FROM [catalog.][namespace.]table
 *   [WHERE <filter>] [FOR VERSION AS OF n | FOR TIMESTAMP AS OF '<ISO-8601>'] [LIMIT n] [;]
 * ```
 *
 * Keywords are case-insensitive; identifiers are `[A-Za-z_][A-Za-z0-9_$]*` or "double quoted" (""
 * escapes a quote), compared as written (not folded to upper or lower case); `<filter>` is the filter
 * grammar of the io package (docs/tables.md). There are no parameters (`?`, `$1`, `:name`): values are
 * written as literals. Anything else is an `InvalidArgument` error that says what is supported.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { DEFAULT_NAMESPACE, readCommandFromObject, type FlightReadCommand } from '../flight-command.js';
import { MAX_COMMAND_BYTES, MAX_LIST_ENTRIES, QUOTE_CHARS, limitError, quote } from '../flight-limits.js';

/** The one catalog this server exposes to Flight SQL clients; namespaces are its schemas. */
export const FLIGHT_SQL_CATALOG = 'lakesoul';

/** The statement subset, as error messages and docs state it. */
export const SUPPORTED_SQL = `SELECT * | col, ... FROM [namespace.]table [WHERE <filter>] [FOR VERSION AS OF n | FOR TIMESTAMP AS OF '<ISO-8601>'] [LIMIT n]`;

/** A parsed statement: the read it asks for, and its row limit. */
export interface SqlSelect {
  read: FlightReadCommand;
  limit?: number;
}

const IDENT = String.raw`(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]*")`;
const TRAVEL = String.raw`FOR\s+(VERSION|TIMESTAMP)\s+AS\s+OF\s+(\d+|'[^']*')`;
/**
 * `SELECT ... FROM name [FOR ... AS OF ...]`, anchored at the start; as in SQL, the space between
 * words may be left out next to `*` and a quote (`SELECT*FROM t`). The clauses after it are found by
 * {@link tailClauses} without a regular expression: a lazy `WHERE (.+?)` followed by optional clauses
 * and `\s*;?\s*$` backtracks over runs of whitespace (a 7 KB statement took 45 s, in the server's
 * thread).
 */
const HEAD_RE = new RegExp(
  String.raw`^\s*SELECT(?:\s+|(?=[*"]))(\*|${IDENT}(?:\s*,\s*${IDENT})*)(?:\s+|(?<=[*"]))FROM(?:\s+|(?="))(${IDENT}(?:\s*\.\s*${IDENT}){0,2})(?:\s+${TRAVEL})?`,
  'isd',
);
/** A time-travel clause exactly at `lastIndex`. */
const TRAVEL_AT = new RegExp(TRAVEL, 'iyd');

/** A [start, end) span of the statement. */
type Span = readonly [number, number];

/** What follows the head: the spans of the filter, a time-travel clause (kind, value) and the limit. */
interface TailClauses { where?: Span; travel?: { kind: Span; value: Span }; limit?: Span }

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
/** Whether a keyword may follow `c` with no space between: SQL words end at a closing quote or parenthesis too. */
const endsWord = (c: string | undefined): boolean => isSpace(c) || c === ')' || c === "'" || c === '"';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * The clauses of `masked` from `from` on: `[WHERE <filter>] [FOR ... AS OF ...] [LIMIT n] [;]`, each
 * after whitespace (or a closing quote or parenthesis), taken off the end one by one (every step a scan, so the time is linear); null when
 * the rest is not of that form.
 */
function tailClauses(masked: string, from: number): TailClauses | null {
  const out: TailClauses = {};
  let end = masked.length;
  const trimEnd = () => { while (end > from && isSpace(masked[end - 1])) end--; };
  trimEnd();
  if (end > from && masked[end - 1] === ';') { end--; trimEnd(); }
  // LIMIT n
  let digits = end;
  while (digits > from && isDigit(masked[digits - 1])) digits--;
  if (digits < end) {
    let keywordEnd = digits;
    while (keywordEnd > from && isSpace(masked[keywordEnd - 1])) keywordEnd--;
    const keyword = keywordEnd - 5;
    if (keywordEnd < digits && keyword > from && masked.slice(keyword, keywordEnd).toUpperCase() === 'LIMIT' && endsWord(masked[keyword - 1])) {
      out.limit = [digits, end];
      end = keyword;
      trimEnd();
    }
  }
  // FOR VERSION|TIMESTAMP AS OF value: its only possible start is the last FOR (quoted text is masked)
  const at = from + masked.slice(from, end).toUpperCase().lastIndexOf('FOR');
  if (at > from && endsWord(masked[at - 1])) {
    TRAVEL_AT.lastIndex = at;
    const m = TRAVEL_AT.exec(masked);
    if (m && at + m[0].length === end) {
      out.travel = { kind: m.indices![1]!, value: m.indices![2]! };
      end = at;
      trimEnd();
    }
  }
  if (end === from) return out;
  // WHERE <filter>
  let w = from;
  while (w < end && isSpace(masked[w])) w++;
  if ((w === from && masked[from - 1] !== '"') || masked.slice(w, w + 5).toUpperCase() !== 'WHERE' || !(isSpace(masked[w + 5]) || '("\''.includes(masked[w + 5] ?? 'x'))) return null;
  let filter = w + 5;
  while (filter < end && isSpace(masked[filter])) filter++;
  if (filter === end) return null;
  out.where = [filter, end];
  return out;
}

/**
 * The statement with the contents of quoted strings and identifiers replaced by `_` (same length), so
 * that keywords inside them are not seen as clauses; the quotes themselves stay.
 */
function mask(sql: string): string {
  const out = sql.split('');
  let quoteChar: string | null = null;
  for (let i = 0; i < out.length; i++) {
    const c = sql[i]!;
    if (quoteChar === null) {
      if (c === "'" || c === '"') quoteChar = c;
      continue;
    }
    if (c === quoteChar) {
      if (sql[i + 1] === quoteChar) {
        out[i] = '_';
        out[i + 1] = '_';
        i++;
        continue;
      }
      quoteChar = null;
      continue;
    }
    out[i] = '_';
  }
  if (quoteChar !== null) throw unsupported(sql, `unterminated ${quoteChar === "'" ? 'string literal' : 'quoted identifier'}`);
  return out.join('');
}

function unsupported(sql: string, why: string): LakeSoulError {
  return new LakeSoulError('InvalidArgument', `unsupported Flight SQL statement (${why}): this server answers only ${SUPPORTED_SQL}, got ${quote(sql)}`, {
    code: 'FLIGHT_SQL_UNSUPPORTED_STATEMENT',
  });
}

function unquoteIdent(text: string): string {
  const t = text.trim();
  return t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

/**
 * A query parameter placeholder outside quoted text: `?`, `$1` (a `$` and digits that do not continue
 * a name: `a$1` is a column) or `:name` (not after another `:`). Searched in the masked statement.
 */
const PARAMETER_RE = /\?|(?<![A-Za-z0-9_$])\$\d+|(?<!:):[A-Za-z_][A-Za-z0-9_]*/;

/** Splits `original` at the positions of `sep` found in `masked` (outside quotes). */
function splitOutside(original: string, masked: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] === sep) {
      parts.push(original.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(original.slice(start));
  return parts;
}

/** The text of group `g` of `m` (matched on the masked statement) in the original statement. */
function groupText(original: string, m: RegExpExecArray, g: number): string | undefined {
  const at = m.indices?.[g];
  return at ? original.slice(at[0], at[1]) : undefined;
}

/** Parses a Flight SQL statement of the supported subset into a read command and a limit. */
export function parseSqlSelect(sql: string): SqlSelect {
  if (Buffer.byteLength(sql, 'utf8') > MAX_COMMAND_BYTES) throw limitError(`Flight SQL statement (${Buffer.byteLength(sql, 'utf8')} bytes)`, `of ${MAX_COMMAND_BYTES} bytes`);
  if (sql.includes('\0')) throw unsupported(sql, 'NUL character');
  const masked = mask(sql);
  const param = PARAMETER_RE.exec(masked);
  if (param) {
    throw unsupported(sql, `query parameters are not supported (${param[0]} at character ${param.index + 1}): `
      + "write the values into the statement as literals, e.g. WHERE id = 42 AND kind = 'click'");
  }
  const m = HEAD_RE.exec(masked);
  const tail = m ? tailClauses(masked, m[0].length) : null;
  if (!m || !tail) {
    const first = /^\s*(\w+)/.exec(masked)?.[1]?.toUpperCase();
    throw unsupported(sql, first && first !== 'SELECT' ? `${first.length > QUOTE_CHARS ? quote(first) : first} statements are not served` : 'not of the supported form');
  }
  const text = (span: Span | undefined) => (span ? sql.slice(span[0], span[1]) : undefined);
  const colsText = groupText(sql, m, 1)!;
  const columns = colsText.trim() === '*' ? undefined : splitOutside(colsText, m[1]!, ',').map(unquoteIdent);
  if (columns && columns.length > MAX_LIST_ENTRIES) {
    throw limitError(`the column list of a Flight SQL statement (${columns.length} columns)`, `of ${MAX_LIST_ENTRIES} columns (SQL_MAX_COLUMNS_IN_SELECT; SELECT * reads every column)`);
  }
  const nameParts = splitOutside(groupText(sql, m, 2)!, m[2]!, '.').map(unquoteIdent);
  if (nameParts.length === 3 && nameParts[0] !== FLIGHT_SQL_CATALOG) {
    throw new LakeSoulError('NotFound', `catalog ${quote(nameParts[0])} does not exist: the only catalog is ${quote(FLIGHT_SQL_CATALOG)} (write namespace.table)`, { code: 'FLIGHT_SQL_NO_CATALOG' });
  }
  const table = nameParts.at(-1)!;
  const namespace = nameParts.length >= 2 ? nameParts.at(-2)! : DEFAULT_NAMESPACE;
  if (m[3] !== undefined && tail.travel) throw unsupported(sql, 'more than one FOR ... AS OF clause');
  const travelKind = (m[3] ?? text(tail.travel?.kind))?.toUpperCase();
  const travelValue = m[3] !== undefined ? groupText(sql, m, 4) : text(tail.travel?.value);
  const cmd: Record<string, unknown> = { table, namespace };
  if (columns) cmd.columns = columns;
  const filter = text(tail.where);
  if (filter !== undefined) cmd.filter = filter.trim();
  if (travelKind === 'VERSION') {
    if (!/^\d+$/.test(travelValue!)) throw unsupported(sql, `FOR VERSION AS OF needs an integer, got ${quote(travelValue)}`);
    // the range check after this one quotes a version number; one past 2^53 would be shown rounded
    if (!Number.isSafeInteger(Number(travelValue))) throw unsupported(sql, `FOR VERSION AS OF ${travelValue!.slice(0, 64)} is out of range: a version is an integer from 0 to 2147483647`);
    cmd.version = Number(travelValue);
  } else if (travelKind === 'TIMESTAMP') {
    if (!travelValue!.startsWith("'")) throw unsupported(sql, `FOR TIMESTAMP AS OF needs a quoted ISO-8601 date-time, got ${quote(travelValue)}`);
    cmd.timestamp = travelValue!.slice(1, -1);
  }
  let limit: number | undefined;
  const limitText = text(tail.limit);
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!Number.isSafeInteger(limit)) throw unsupported(sql, `LIMIT ${limitText} is not a safe integer`);
  }
  // The same checks as a JSON read command of plain Flight (not its size: as JSON, a statement under
  // its own limit could exceed it, and was refused as a 'read command' no client sent).
  const read = readCommandFromObject(cmd);
  return limit === undefined ? { read } : { read, limit };
}

/**
 * The error of a statement's read said in SQL terms: a `VERSION_NEEDS_PARTITION` refusal (a version
 * read of a range-partitioned table selecting several partitions) names what works in SQL, not the
 * `partitions` option and `--partition` flag it names elsewhere, which a statement cannot give (a
 * WHERE filters rows; it does not choose the partition a version number belongs to). Other errors
 * are returned as they are. `rangePartitions`: the table's range partition columns, when known.
 */
export function sqlReadError(e: unknown, read: FlightReadCommand, rangePartitions: readonly string[] = []): unknown {
  if (!LakeSoulError.hasCode(e, 'VERSION_NEEDS_PARTITION') || read.version === undefined) return e;
  const selected = /selects (\d+) partitions \(e\.g\. ([^)]*)\)/.exec(e.message);
  const many = selected ? `this table has ${selected[1]} partitions (e.g. ${selected[2]})` : 'this table has several partitions';
  const partitions = rangePartitions.length ? `{${rangePartitions.map((c) => `${JSON.stringify(c)}: "..."`).join(', ')}}` : '{...}';
  const command = `{"table": ${JSON.stringify(read.table)}, "namespace": ${JSON.stringify(read.namespace)}, "partitions": ${partitions}, "version": ${read.version}}`;
  return new LakeSoulError('InvalidArgument',
    `FOR VERSION AS OF ${read.version} on table ${quote(`${read.namespace}.${read.table}`)}: versions are numbered per partition and ${many}; `
    + 'SQL cannot name the partition a version belongs to (a WHERE clause filters rows, it does not choose the partition). '
    + "Read the table as of a time instead: FOR TIMESTAMP AS OF '<ISO-8601>' (a commit's time + 1 ms; DoAction \"history\" lists them), "
    + `or one partition's version with a plain Flight read command: ${command}`,
    { code: 'VERSION_NEEDS_PARTITION', context: { ...e.context }, cause: e });
}
