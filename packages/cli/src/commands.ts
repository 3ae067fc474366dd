/**
 * The `lakesoul-ts` command tree. Each command opens the lakehouse from the resolved configuration
 * (see cli-config.ts), does its work, prints to stdout (data) and stderr (progress, notes), and closes.
 */
import { readFile, stat } from 'node:fs/promises';
import { accessSync, constants as fsConstants, lstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { RecordBatch } from 'apache-arrow';
// Arrow's schema module, not the package root, which loads all of Arrow JS (146 files): the metadata commands need no more
import { Schema } from 'apache-arrow/schema';
import { CATALOG_SERVER_FILE, LakeSoulError, MAX_QUOTED_INPUT, quoteInput, arrowSchemaToJson, decodePartitionValue, flushDirectorySync, locationKey, madeDirectoryEntries, pathWithin, makeDirectory, NO_PARTITION_DESC, catalogServerAlive, readCatalogServerInfo, startingCatalogServer } from '@lakesoul-ts/meta';
import type { CleanupProgress, ImportImagesResult, LakeSoulTable, ScanOptions } from '@lakesoul-ts/io';
import { openContext, openCatalogContext, exitCodeOf, messageOf, shareEmbeddedCatalog, ExitCode, SIGNAL_EXIT_CODES, type CliContext, type CatalogContext } from './cli-context.js';
import { resolveCliConfig, type GlobalFlags } from './cli-config.js';
import { parseSchemaSpec, formatType, TYPE_NAMES } from './schema-spec.js';
import { RowPrinter, OUTPUT_FORMATS, claimOutputFailureReport, displayWidth, isOutputFailure, type OutputFormat } from './row-printer.js';
import { checkPartitionsExist, explainReadError, explainFilterError } from './scan-errors.js';
import { checkServeExposure } from './serve-exposure.js';
import { CATALOG_SERVER_ROLE, catalogServerIdleSeconds, parseIdleSeconds, runCatalogServer, serverFileCorrupt, stopCatalogServer } from './catalog-daemon.js';
import { restoreCatalogImage } from './catalog-image.js';
import { checkRelocatedFilesPresent } from './relocate-check.js';
import { expectCommand, homeRelocated } from './home-location.js';
import { cliName, setInvocation, shellWord } from './cli-name.js';
import { startProgress, formatBytes, type Progress } from './progress.js';
import type { InputFormat } from './table-input.js';
import { formatOfExtension } from './file-formats.js';

/** Streams a command writes to (injectable for tests). */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** What `import -` reads (default: the process's standard input). */
  stdin?: NodeJS.ReadableStream;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** `1 row`, `2 rows`. */
/**
 * A command's work that SIGINT, SIGTERM or SIGHUP stops cleanly: the first signal aborts `signal` (the
 * work cleans up as after an error), a second runs `forceCleanup` and exits at once; `error` makes the
 * error the command ends with, which exits 128 + the signal's number. `end` removes the handlers.
 */
class SignalStop {
  private readonly controller = new AbortController();
  /** The signal that arrived first, if any. */
  received: NodeJS.Signals | undefined;
  private readonly handler = (sig: NodeJS.Signals): void => {
    if (this.received) {
      this.forceCleanup?.();
      process.exit(SIGNAL_EXIT_CODES[sig as keyof typeof SIGNAL_EXIT_CODES] ?? 1);
    }
    this.received = sig;
    // on a terminal the note starts a line of its own after the echoed ^C; in a log, no empty line
    const tty = (this.io.stderr as { isTTY?: boolean }).isTTY === true;
    this.io.stderr.write(`${tty ? '\n' : ''}${sig}: stopping ${this.what} (again to stop at once)...\n`);
    this.controller.abort();
  };

  constructor(private readonly io: CliIO, private readonly what: string, private readonly forceCleanup?: () => void) {
    for (const sig of Object.keys(SIGNAL_EXIT_CODES)) process.on(sig, this.handler);
  }

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error that ends the command (code `INTERRUPTED`, exiting as the signal would). */
  error(table: string, message: string): LakeSoulError {
    return new LakeSoulError('Aborted', message, {
      code: 'INTERRUPTED', context: { table, exitCode: SIGNAL_EXIT_CODES[this.received as keyof typeof SIGNAL_EXIT_CODES] ?? 1 },
    });
  }

  end(): void {
    for (const sig of Object.keys(SIGNAL_EXIT_CODES)) process.off(sig, this.handler);
  }
}

/** A primary-key table's `hashBucketNum` property that is no bucket count, as `table list` and `describe` show it. */
function invalidBuckets(stored: string | undefined): string {
  return stored === undefined ? 'invalid (no hashBucketNum)' : `invalid (hashBucketNum ${quoteInput(stored)})`;
}

/** LAKESOUL_FLIGHT_TOKENS (`a,b`, white space around each allowed), or undefined when unset. */
function envTokens(): string[] | undefined {
  const v = process.env.LAKESOUL_FLIGHT_TOKENS;
  return v === undefined || v === '' ? undefined : v.split(',').map((t) => t.trim());
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

function parsePartitionFlags(values: string[] | undefined): Record<string, string | null> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string | null> = {};
  // a partition as `history` prints it (`x=0.1,d=2024-01-02`) is its column=value pairs (a range
  // value holds no comma: the catalog refuses one)
  const pairs = values.flatMap((v) => (v.split(',').every((p) => p.indexOf('=') > 0) ? v.split(',') : [v]));
  for (const v of pairs) {
    const i = v.indexOf('=');
    if (i <= 0) throw new LakeSoulError('InvalidArgument', `--partition '${v}': expected column=value`);
    const column = v.slice(0, i);
    if (column in out) {
      throw new LakeSoulError('InvalidArgument', `--partition names '${column}' twice ('${out[column]}' and '${v.slice(i + 1)}'): it selects the partitions with all the values given, one per range column; run the command once per partition`, { context: { column } });
    }
    // the catalog's spellings of null and '' (as history prints them) are those values
    out[column] = decodePartitionValue(v.slice(i + 1));
  }
  return out;
}

/** Largest epoch millisecond a JavaScript Date holds. */
const MAX_EPOCH_MS = 8.64e15;

/** `YYYY-MM-DD`, optionally with a time (`T` or a space) and an offset (`Z`, `+01:00`); no offset means UTC. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)([zZ]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** `+01`, `+0100` or `+01:00` as Date.parse reads it reliably: `+01:00`. */
function isoOffset(offset: string): string {
  const digits = offset.slice(1).replace(':', '').padEnd(4, '0');
  return `${offset[0]}${digits.slice(0, 2)}:${digits.slice(2)}`;
}

/**
 * Epoch milliseconds of a time flag. A fraction of a millisecond (ISO's `.1234`) rounds `up` for
 * `--timestamp` and `--incremental` bounds, as the JS API and Flight round them (bounds compare as
 * `commit time < t`: `t` and its round-up select the same commits; Date.parse truncated, so a position
 * of `T + 0.4` read the commit at `T` again), and `down` for `cleanup --retain-since` (as the API).
 */
function parseTime(v: string, flag: string, round: 'up' | 'down' = 'up'): number {
  const bad = (why: string) => new LakeSoulError('InvalidArgument', `${flag} '${v}': ${why}`);
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (!(n <= MAX_EPOCH_MS)) throw bad(`beyond the last time a date can hold (${MAX_EPOCH_MS} ms)`);
    return n;
  }
  // ISO 8601 only, and a time without an offset is UTC, as filters, Flight and `history` read it:
  // Date.parse took '2026-12-06T09:40' as the machine's local time, so --timestamp, --incremental
  // and cleanup --retain-since (which deletes) meant another instant under another TZ
  const iso = ISO_TIME.exec(v.trim());
  if (!iso) throw bad('expected epoch milliseconds or an ISO 8601 date or time such as 2026-12-06, 2026-12-06T09:40:00 (UTC) or 2026-12-06T10:40:00+01:00');
  const [, date, time, offset] = iso;
  const ms = Date.parse(time === undefined ? `${date}T00:00:00Z` : `${date}T${time}${offset === undefined || offset === 'z' || offset === 'Z' ? 'Z' : isoOffset(offset)}`);
  if (Number.isNaN(ms)) throw bad('not a valid date or time');
  // Date.parse rolls a day past the month's end over (2024-02-30 became March 1st)
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(v.trim());
  // (setUTCFullYear, not Date.UTC, which takes years 0-99 for 1900-1999)
  if (ymd && new Date(new Date(0).setUTCFullYear(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3]))).getUTCMonth() !== Number(ymd[2]) - 1) {
    throw bad(`day ${ymd[3]} is not in month ${ymd[1]}-${ymd[2]}`);
  }
  // Date.parse keeps whole milliseconds, rounded down (also before 1970): a sub-millisecond rest rounds up
  const subMs = time === undefined ? '' : (/\.\d{3}(\d+)$/.exec(time)?.[1] ?? '');
  return round === 'up' && /[1-9]/.test(subMs) ? ms + 1 : ms;
}

/** Orders text by UTF-16 code units (as the catalog lists), the same under every locale: not localeCompare. */
function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An option parser for an integer from `min` to `max` (commander names the option in its error). */
function intOption(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !(n >= min && n <= max)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

/** The `--delimiter` parser: one character (`\\t` for a tab), not a quote or a line break. */
function delimiterOption(v: string): string {
  const c = v === '\\t' ? '\t' : v;
  if ([...c].length !== 1 || c === '"' || c === '\n' || c === '\r') throw new InvalidArgumentError('expected one character other than a quote or a line break (\\t for a tab).');
  return c;
}

/** An option parser for a number of seconds (0 or more). */
function secondsOption(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number of seconds (0 or more).');
  return n;
}

/** A number of seconds above 0 (a lifetime or a wait that 0 would make useless). */
function positiveSecondsOption(v: string): number {
  const n = secondsOption(v);
  if (n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0.');
  return n;
}

/** Scan flags shared by scan, head and export. */
function addScanOptions(cmd: Command): Command {
  return cmd
    .option('-p, --partition <col=value>', 'only this range-partition value (repeatable)', collect)
    .option('-c, --columns <a,b,...>', 'columns to output', (v: string) => v.split(','))
    .option('-w, --filter <expr>', `row filter, e.g. "label = 'cat' and score >= 0.5"`)
    .addOption(new Option('--where <expr>', 'the same as --filter (as SQL spells it)').hideHelp())
    .option('--version <n>', 'read the partition version n (time travel)', intOption(0, 2 ** 31 - 1))
    .option('--timestamp <time>', 'read as of a time (ISO 8601 or epoch ms; strict <)')
    .option('--incremental <start..end>', 'changes committed in [start, end) (ISO or epoch ms); keeps CDC deletes');
}

/** `--limit <n>` of scan, head and export: a non-negative integer, or undefined when not given. */
function limitFrom(o: Record<string, unknown>): number | undefined {
  if (o.limit === undefined) return undefined;
  const limit = Number(o.limit);
  if (String(o.limit).trim() === '' || !Number.isInteger(limit) || limit < 0) throw new LakeSoulError('InvalidArgument', `--limit must be a non-negative integer, not '${o.limit}'`);
  return limit;
}

/**
 * The names `--columns` gives, each as the table names a column: a name as written when the table has
 * it (a column may be named with spaces at its ends, as CSV headers and exports keep them), else
 * without the spaces around it (`--columns 'id, kind'`).
 */
function columnNames(given: string[], table: LakeSoulTable): string[] {
  const names = new Set(table.schema.fields.map((f) => f.name));
  return given.map((c) => (names.has(c) ? c : c.trim())).filter((c) => c !== '');
}

function scanOptionsFrom(o: Record<string, unknown>, table: LakeSoulTable): ScanOptions {
  const opts: ScanOptions = {};
  const parts = parsePartitionFlags(o.partition as string[] | undefined);
  if (parts) opts.partitions = parts;
  if (o.columns) {
    const columns = columnNames(o.columns as string[], table);
    if (columns.length === 0) throw new LakeSoulError('InvalidArgument', `--columns '${(o.columns as string[]).join(',')}': name the columns to output, separated by commas`);
    // the table, csv and json outputs would disagree on it (two columns, or one key)
    const twice = columns.find((c, i) => columns.indexOf(c) !== i);
    if (twice !== undefined) throw new LakeSoulError('InvalidArgument', `--columns '${columns.join(',')}': column '${twice}' is named twice: name each column once`, { context: { column: twice } });
    opts.columns = columns;
  }
  if (o.filter !== undefined && o.where !== undefined) throw new LakeSoulError('InvalidArgument', '--where is --filter by another name: give one of them');
  const filter = o.filter ?? o.where;
  if (filter) opts.filter = filter as string;
  const chosen = ['version', 'timestamp', 'incremental'].filter((k) => o[k] !== undefined);
  if (chosen.length > 1) throw new LakeSoulError('InvalidArgument', `choose one of --version, --timestamp, --incremental (got ${chosen.join(', ')})`);
  if (o.version !== undefined) {
    if (!Number.isInteger(o.version) || (o.version as number) < 0) throw new LakeSoulError('InvalidArgument', `--version must be a non-negative integer`);
    opts.version = o.version as number;
  }
  if (o.timestamp !== undefined) opts.timestamp = parseTime(o.timestamp as string, '--timestamp');
  if (o.incremental !== undefined) {
    const parts = String(o.incremental).split('..');
    const [a, b] = parts;
    if (parts.length !== 2 || !a || !b) {
      const why = parts.length > 2 ? `'..' appears ${parts.length - 1} times, and one range has one` : 'both times are needed';
      throw new LakeSoulError('InvalidArgument', `--incremental '${o.incremental}': expected start..end (two times joined by '..', e.g. 2026-12-06T09:00:00Z..2026-12-06T10:00:00Z): ${why}`, { context: { option: '--incremental' } });
    }
    const start = parseTime(a, '--incremental');
    const end = parseTime(b, '--incremental');
    opts.incremental = { start, end };
    // (the scan refuses it too; said here in the flag's words)
    const now = Date.now();
    if (end > now) {
      throw new LakeSoulError('InvalidArgument', `--incremental '${o.incremental}': the end ${new Date(end).toISOString()} is later than now (${new Date(now).toISOString()}). ` +
        'Commits made from now until then would be missed: this read cannot see them, and a next range starting at that end leaves them out. End the range at the current time or earlier, and start the next range there', {
        code: 'INCREMENTAL_END_IN_FUTURE', context: { option: '--incremental' },
      });
    }
  }
  return opts;
}

async function withContext(program: Command, io: CliIO, fn: (ctx: CliContext) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const ctx = await openContext(program.opts<GlobalFlags>(), io, signal);
  try { await fn(ctx); } catch (e) { throw await missingNamespace(ctx.lakehouse.catalog, e); } finally { await ctx.lakehouse.close(); }
}

/** Runs a metadata command on the catalog alone (the table API and its dependencies stay unloaded). */
async function withCatalog(program: Command, fn: (ctx: CatalogContext) => Promise<void>): Promise<void> {
  const ctx = await openCatalogContext(program.opts<GlobalFlags>());
  try { await fn(ctx); } catch (e) { throw await missingNamespace(ctx.catalog, e); } finally { await ctx.catalog.close(); }
}

/**
 * A table not found in a namespace that does not exist either: the error says so and points to `ns
 * list` (the hint `table list -n <ns>` it got otherwise failed itself, the namespace not being found).
 * A table of that name in other namespaces: the error names them and the `-n` to give (the hint
 * listed the one namespace where the table is not). Other errors, and errors that carry their own
 * hint (`(see: …`), are returned as they are.
 */
async function missingNamespace(catalog: CatalogContext['catalog'], e: unknown): Promise<unknown> {
  if (!(e instanceof LakeSoulError) || e.code !== 'TABLE_NOT_FOUND' || e.message.includes('(see: ')) return e;
  const namespace = e.context.namespace;
  // (the context holds at most MAX_QUOTED_INPUT characters of the name: a longer one cannot be looked up)
  if (typeof namespace !== 'string' || namespace === '' || namespace.length >= MAX_QUOTED_INPUT) return e;
  const exists = await catalog.getNamespace(namespace).then(() => true, (n: unknown) => {
    if (LakeSoulError.hasCode(n, 'NAMESPACE_NOT_FOUND')) return false;
    return true; // cannot tell: the original error stands
  });
  if (exists) return (await inOtherNamespaces(catalog, e)) ?? e;
  return new LakeSoulError('NotFound', `${e.message}: there is no namespace ${quoteInput(namespace)} (see: ${cliName()} ns list; ${cliName()} table list lists the tables of every namespace)`, {
    code: 'NAMESPACE_NOT_FOUND', context: e.context, cause: e,
  });
}

/**
 * `e` (a table not found in its namespace) naming the other namespaces that have a table of that name
 * and the `-n` that reaches it; undefined when none has (or the catalog cannot tell).
 */
async function inOtherNamespaces(catalog: CatalogContext['catalog'], e: LakeSoulError): Promise<LakeSoulError | undefined> {
  const { namespace, table } = e.context;
  if (typeof namespace !== 'string' || typeof table !== 'string' || !table.startsWith(`${namespace}.`)) return undefined;
  const name = table.slice(namespace.length + 1);
  const others = await catalog.listTables().then((ts) => ts.filter((t) => t.name === name && t.namespace !== namespace).map((t) => t.namespace), () => []);
  if (others.length === 0) return undefined;
  const where = others.length === 1 ? `namespace ${quoteInput(others[0]!)} has a table of that name` : `namespaces ${others.map((n) => quoteInput(n)).join(', ')} have a table of that name`;
  const first = others[0]!;
  return new LakeSoulError('NotFound', `table '${table}' not found; ${where}: add \`-n ${shellWord(first)}\` (see: ${cliName()} table list -n ${shellWord(first)})`, {
    code: 'TABLE_NOT_FOUND', context: { ...e.context, namespaces: others }, cause: e,
  });
}

async function openTable(ctx: CliContext, name: string, ns?: string): Promise<LakeSoulTable> {
  return ctx.lakehouse.table(name, ns ?? 'default');
}

function describeSchema(schema: Schema, t: LakeSoulTable['info']): string {
  // padded by the columns a name takes on a terminal (CJK names take two a character), as `scan` pads
  const w = Math.max(...schema.fields.map((f) => displayWidth(f.name)));
  return schema.fields.map((f) => {
    const tags = [
      t.primaryKeys.includes(f.name) ? 'primary key' : '',
      t.rangePartitions.includes(f.name) ? 'range partition' : '',
      t.cdcColumn === f.name ? 'cdc' : '',
      f.metadata.get('lakesoul.blob') === 'true' || (t.properties.lakesoul_blob_columns ?? '').split(',').includes(f.name) ? 'blob reference' : '',
    ].filter(Boolean);
    return `  ${f.name}${' '.repeat(w - displayWidth(f.name))}  ${formatType(f.type)}${f.nullable ? '' : ' not null'}${tags.length ? `  (${tags.join(', ')})` : ''}`;
  }).join('\n');
}

/** The `--format` option of a printing command. */
function formatOption(defaultFormat: OutputFormat = 'table'): Option {
  return new Option('--format <fmt>', 'output format').choices(OUTPUT_FORMATS as string[]).default(defaultFormat);
}

/** Prints a small result (metadata rows) in the chosen format. */
async function printRecords(out: NodeJS.WritableStream, format: OutputFormat, columns: string[], rows: unknown[][]): Promise<void> {
  const printer = new RowPrinter(out, format, Number.POSITIVE_INFINITY);
  await printer.writeRows(columns, rows);
  await printer.end(columns);
}

/**
 * Groups partition versions into commits, oldest first: a commit writes all its partitions' versions
 * with one commit time (one catalog transaction), so versions sharing time and op are one commit.
 */
function commitsOf<V extends { partitionDesc: string; version: number; commitOp: string; timestamp: number }>(versions: V[]): V[][] {
  const sorted = [...versions].sort((a, b) => a.timestamp - b.timestamp || codeUnitOrder(a.commitOp, b.commitOp) || codeUnitOrder(a.partitionDesc, b.partitionDesc));
  const commits: V[][] = [];
  for (const v of sorted) {
    const last = commits.at(-1)?.[0];
    if (last && last.timestamp === v.timestamp && last.commitOp === v.commitOp) commits.at(-1)!.push(v);
    else commits.push([v]);
  }
  return commits;
}

/**
 * `--status`/`--stop` on a catalog directory this user cannot read (another user's home: PGlite keeps
 * it 0700) said "no catalog server" while one ran: say whose it is instead.
 */
function refuseUnreadableCatalogDir(dataDir: string): void {
  try {
    accessSync(dataDir, fsConstants.R_OK | fsConstants.X_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    // the owner of the nearest directory this user can look at (the catalog's, or its home's)
    let owner: number | undefined;
    for (let d = dataDir; owner === undefined && dirname(d) !== d; d = dirname(d)) {
      try { owner = statSync(d).uid; } catch { /* not visible from here: its parent */ }
    }
    throw new LakeSoulError('PermissionDenied', `cannot read the embedded catalog ${dataDir} (${(e as NodeJS.ErrnoException).code}): it belongs to ${owner === undefined ? 'another user' : `user id ${owner}`}, and its catalog server (if any) is theirs to query or stop; run the command as that user`, {
      code: 'CATALOG_DIR_UNREADABLE', context: { dataDir },
    });
  }
}

/** A partition as people read it: the unpartitioned marker `-5` is shown as `(unpartitioned)`. */
function showPartition(desc: string): string {
  const name = partitionName(desc);
  // in a line of partitions separated by spaces or commas, a value with spaces, a comma-space or a
  // quote would run into the next (`p= @0` read as the empty value): such a description is quoted
  return name !== desc || !/[\s"]|, /.test(desc) ? name : JSON.stringify(desc);
}

/** A partition description as it is (for JSON and table cells, which quote themselves), `(unpartitioned)` for `-5`. */
function partitionName(desc: string): string {
  return desc === NO_PARTITION_DESC ? '(unpartitioned)' : desc;
}

/**
 * Warns on stderr of the partitions an incremental read found rewritten (an UpdateCommit: update,
 * delete, overwrite) or dropped within its range: their rows are the partition's whole state at the
 * range's end (none when dropped), for a consumer to replace what it holds of them, not to apply as
 * changes. Printed under --quiet too: without it the increment cannot be applied right.
 */
function warnResetPartitions(plan: { toJSON(): { resetPartitions?: string[] } }, incremental: boolean, note: (s: string) => void): void {
  if (!incremental) return;
  const reset = plan.toJSON().resetPartitions ?? [];
  if (reset.length > VERSIONS_SHOWN) {
    // one line naming them all (a consumer needs every one), not the same sentence thousands of times
    note(`warning: ${reset.length} partitions were rewritten or dropped within the range: their rows here are their whole state at the range's end (none when dropped); replace what you hold of them rather than applying them as changes. They are (JSON): ${JSON.stringify(reset.map(partitionName))}`);
    return;
  }
  for (const p of reset) {
    note(`warning: partition ${showPartition(p)} was rewritten or dropped within the range: its rows here are its whole state at the range's end (none when it was dropped); replace what you hold of it rather than applying them as changes`);
  }
}

/** Partition versions listed in a text line before the rest are summarized ({@link showVersions}). */
const VERSIONS_SHOWN = 10;

/**
 * Partition versions written by a commit, for a text line: `p@v` each, separated by `sep`; past
 * {@link VERSIONS_SHOWN} partitions the first ones and `... and N more partitions (versions a..b)`
 * (an import touching 3,000 partitions printed a 40 KB line). The json/jsonl/csv outputs list all.
 */
function showVersions(versions: Iterable<readonly [partition: string, version: number]>, sep = ' ', quote = true): string {
  const all = [...versions];
  const shown = all.slice(0, VERSIONS_SHOWN).map(([p, v]) => `${quote ? showPartition(p) : partitionName(p)}@${v}`).join(sep);
  const rest = all.slice(VERSIONS_SHOWN).map(([, v]) => v);
  if (rest.length === 0) return shown;
  const low = rest.reduce((a, b) => Math.min(a, b));
  const hi = rest.reduce((a, b) => Math.max(a, b));
  return `${shown}${sep}... and ${count(rest.length, 'more partition')} (${low === hi ? `version ${low}` : `versions ${low}..${hi}`})`;
}

/** A scan's or export's progress bar ({@link startScanProgress}). */
interface ScanProgress extends Progress {
  /** The read has ended (every row read, or `--limit` reached): the bar ends at 100%. */
  readEnded(): void;
}

/**
 * The progress bar of a scan or export on a terminal (none under `quiet` or when stderr is not one):
 * rows output against the rows the plan's files hold (their footers). Reading yields fewer when it
 * merges rows by primary key (a bucket of several files), filters them or drops CDC deletes: the
 * total is then an upper bound, which the label says (`at most N rows`), and {@link ScanProgress.readEnded}
 * sets the total to the rows output, so that a finished read ends at 100% (it ended at 25% for a
 * table upserted four times, near 0% with a selective filter).
 */
async function startScanProgress(label: string, t: LakeSoulTable, plan: Awaited<ReturnType<LakeSoulTable['scan']>>,
  o: { filtered: boolean; limit: number | undefined; quiet: boolean }): Promise<ScanProgress> {
  let total: number | undefined;
  let exact = false;
  if (!o.quiet && process.stderr.isTTY) {
    const counted = await plan.withRowCounts();
    total = counted.splits.reduce((n, s) => n + (s.rowCount ?? 0), 0);
    exact = !o.filtered && !t.info.cdcColumn && counted.splits.every((s) => s.rowCount !== null && (s.bucket === null || s.files.length <= 1));
    if (o.limit !== undefined) total = Math.min(total, o.limit);
  }
  // rows only: a scan writes no files, and an export's bytes are known at its end (they showed '0 B | 0 files' throughout)
  const progress = startProgress({ label: exact || !total ? label : `${label} (at most ${total} rows)`, unit: 'rows', quiet: o.quiet, total, show: ['rows'] });
  let rows = 0;
  return {
    tick(u) { rows += u.rows ?? 0; progress.tick(u); },
    setTotal: (n) => progress.setTotal(n),
    readEnded: () => progress.setTotal(rows),
    stop: () => progress.stop(),
  };
}

/** The CLI's version, from its package.json. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** What every group of commands shares: the program (its global flags), the output and the `--quiet` flag. */
interface ProgramParts {
  program: Command;
  io: CliIO;
  /** Writes a line to stdout (results). */
  out: (s: string) => void;
  /** Writes a line to stderr (notes). */
  note: (s: string) => void;
  /** True under `--quiet`. */
  quiet: () => boolean;
}

/** Build the command tree. `io` receives the output; errors propagate to {@link run}. */
export function buildProgram(io: CliIO): Command {
  const out = (s: string) => io.stdout.write(s + '\n');
  const note = (s: string) => io.stderr.write(s + '\n');
  const program = new Command('lakesoul-ts')
    .description('A lakehouse for TypeScript speaking the LakeSoul table protocol.\n' +
      'Catalog: embedded PGlite in ./.lakesoul by default; PostgreSQL with --catalog or LAKESOUL_PG_URL.')
    .option('--catalog <url|dir>', 'postgres:// or jdbc:postgresql:// URL, or a directory for the embedded catalog')
    .option('--pg-user <name>', 'PostgreSQL user (else LAKESOUL_PG_USERNAME)')
    .option('--pg-password <secret>', 'PostgreSQL password (else LAKESOUL_PG_PASSWORD)')
    .option('--warehouse <uri>', 'root URI for new tables (file:///..., s3://bucket/prefix); default file://<home>/warehouse')
    .option('--home <dir>', 'directory of the embedded defaults (default ./.lakesoul)')
    .option('--config <file>', 'JSON config file (default ./lakesoul-ts.json when present)')
    .option('-q, --quiet', 'no progress bars or notes')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  program.addHelpText('after', `
  -V, --version (before any command) prints the version of lakesoul-ts.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 invalid input, 5 conflict (retry).

Examples:
  $ lakesoul-ts init
  $ lakesoul-ts table create events --schema "id:int64!,date:date32!,kind:utf8,score:float64" --partition-by date --primary-key id --buckets 4
  $ lakesoul-ts import events events.csv --mode upsert
  $ lakesoul-ts scan events --partition date=2024-01-01 --filter "score > 0.5" --format jsonl
  $ lakesoul-ts history events
  $ LAKESOUL_PG_URL=jdbc:postgresql://localhost:5432/lakesoul LAKESOUL_PG_USERNAME=lakesoul LAKESOUL_PG_PASSWORD=... lakesoul-ts table list`);
  const quiet = () => Boolean(program.opts<GlobalFlags>().quiet);

  program.command('init')
    .description('create the catalog schema (idempotent) and the warehouse directory (an s3:// one: checks the bucket is reachable); prints where they are')
    .action(async () => {
      // the warehouse is checked as tables will be made in it (`table create` refused a warehouse with
      // '?', '#' or a '%' escape that init had made), before the catalog or any directory is made
      const { storedLocation } = await import('@lakesoul-ts/io');
      storedLocation(resolveCliConfig(program.opts<GlobalFlags>()).warehouse.replace(/\/+$/, ''), 'warehouse', 'INVALID_WAREHOUSE');
      await withCatalog(program, (ctx) => initAction(ctx));
    });
  const initAction = async (ctx: CatalogContext): Promise<void> => {
      if (ctx.config.warehouse.startsWith('file://')) {
        const warehouse = fileURLToPath(ctx.config.warehouse);
        // a new warehouse's entry (and a new home's) on disk: tables' files are flushed below it
        for (const d of madeDirectoryEntries(await makeDirectory(warehouse), warehouse)) flushDirectorySync(d);
      } else {
        await checkWarehouseReachable(ctx.config.warehouse);
      }
      out(`catalog:   ${ctx.config.describe}`);
      out(`warehouse: ${ctx.config.warehouse}`);
  };

  const parts: ProgramParts = { program, io, out, note, quiet };
  addNamespaceCommands(parts);
  addTableCommands(parts);
  addRelocateCommand(parts);
  addImportExportCommands(parts);
  addScanCommands(parts);
  addMaintenanceCommands(parts);
  addServerCommands(parts);
  addExamples(program);
  refuseRepeatedOptions(program);
  return program;
}

/**
 * Makes `cmd` and its subcommands refuse an option that takes a value given twice, a usage error
 * (exit 2): commander kept the last value, so `--primary-key id --primary-key d` made `d` alone the
 * key and rows merged. The repeatable options (those that collect their values: `--partition`,
 * `--property`, `--token`, `--user`) still repeat; an option taking a list says to give one list.
 */
function refuseRepeatedOptions(cmd: Command): void {
  for (const option of cmd.options) {
    if (!(option.required || option.optional) || option.parseArg === collect) continue;
    let first: string | undefined;
    cmd.on(`option:${option.name()}`, (val: string | undefined) => {
      if (first === undefined) {
        first = val ?? '';
        return;
      }
      const flag = option.long ?? option.short ?? option.name();
      const how = option.parseArg === list ? `it takes one comma-separated list: ${flag} ${[first, val ?? ''].join(',')}` : 'give it once';
      cmd.error(`error: option '${option.flags}' given twice ('${first}' and '${val ?? ''}'): ${how}`, { exitCode: ExitCode.usage });
    });
  }
  for (const sub of cmd.commands) refuseRepeatedOptions(sub);
}

/**
 * The output format of a command whose `--json` is `--format <implied>`: `--json` with a `--format`
 * that says another is refused as a usage error (exit 2; `history --json --format csv` printed JSON
 * lines), with one that says the same taken.
 */
function jsonOrFormat(cmd: Command, o: { json?: boolean; format: OutputFormat }, implied: OutputFormat): OutputFormat {
  if (!o.json) return o.format;
  if (cmd.getOptionValueSource('format') === 'cli' && o.format !== implied) {
    cmd.error(`error: --json is --format ${implied}, and --format ${o.format} says another format: give one of them`, { exitCode: ExitCode.usage });
  }
  return implied;
}

/**
 * Lists one entry under an object-store warehouse, so that `init` fails now, naming the bucket or the
 * refusal, when the bucket is missing or the credentials do not reach it (not at the first write).
 */
async function checkWarehouseReachable(warehouse: string): Promise<void> {
  const { StoreRegistry } = await import('@lakesoul-ts/io');
  const { store, key } = new StoreRegistry().resolve(warehouse);
  try {
    for await (const _ of store.list(key ? `${key}/` : '')) break;
  } finally {
    (store as { destroy?: () => void }).destroy?.();
  }
}

/** Adds `ns create|list|drop`. */
function addNamespaceCommands({ program, io, out, note }: ProgramParts): void {
  // ---- namespaces
  const ns = program.command('ns').description('namespaces: create, list, drop');
  ns.command('create <name>').description('create a namespace')
    .option('--comment <text>', 'comment').option('--if-not-exists', 'no error when it exists')
    .action((name: string, o) => withCatalog(program, async (ctx) => {
      // an existing namespace is left as it is: say so (it printed "created" either way), as
      // `table create --if-not-exists` does
      const existing = await ctx.catalog.createNamespace(name, { comment: o.comment }).then(() => undefined, async (e: unknown) => {
        if (!o.ifNotExists || !LakeSoulError.is(e, 'AlreadyExists')) throw e;
        return ctx.catalog.getNamespace(name);
      });
      if (!existing) return out(`namespace '${name}' created`);
      out(`namespace '${name}' already exists: left as it is (--if-not-exists)`);
      if (o.comment !== undefined && (existing.comment ?? '') !== o.comment) {
        note(`warning: namespace '${name}' exists with another comment: it has ${JSON.stringify(existing.comment ?? '')}, the request ${JSON.stringify(o.comment)}`);
      }
    }));
  ns.command('list').description('list namespaces').addOption(formatOption())
    .action((o) => withCatalog(program, async (ctx) => {
      const rows = (await ctx.catalog.listNamespaces()).map((n) => [n.name, n.comment ?? '']);
      await printRecords(io.stdout, o.format, ['namespace', 'comment'], rows);
    }));
  ns.command('drop <name>').description('drop a namespace (refuses a non-empty one unless --cascade)')
    .option('--cascade', 'also drop its tables (metadata only)')
    .action((name: string, o) => withCatalog(program, async (ctx) => {
      await ctx.catalog.dropNamespace(name, { cascade: o.cascade }).catch((e: unknown) => {
        // the library's wording names its option (`cascade: true`); a person types the flag
        if (!(e instanceof LakeSoulError) || e.code !== 'NAMESPACE_NOT_EMPTY') throw e;
        throw new LakeSoulError(e.kind, `${e.message.replace(/;? ?(drop them first )?or pass cascade$/, '')}; drop its tables first, or add --cascade to drop them with it (metadata only: their data files stay; \`${cliName()} table drop <table> -n ${shellWord(name)} --purge\` deletes a table's files)`, {
          code: e.code, context: e.context, cause: e,
        });
      });
      out(`namespace '${name}' dropped`);
    }));
}

/** The schema `table create` asks for: `--schema` (a spec or `@file`), or inferred from `--from`. */
async function createSchemaOf(name: string, o: { schema?: string; from?: string; format?: string; primaryKey?: string[] }, io: CliIO): Promise<Schema> {
  let schema: Schema;
  if (o.schema && o.from) throw new LakeSoulError('InvalidArgument', 'give either --schema or --from, not both');
  if (o.schema) {
    const spec = String(o.schema);
    schema = parseSchemaSpec(spec.startsWith('@') ? await readFile(spec.slice(1), 'utf8').catch(() => {
      throw new LakeSoulError('NotFound', `schema file not found: ${spec.slice(1)}`, { context: { file: spec.slice(1) } });
    }) : spec);
    // `--schema ""` is refused as no schema; a file of no colums (`[]`) made a table no row can be read from
    if (schema.fields.length === 0) {
      throw new LakeSoulError('InvalidArgument', `table create ${name}: ${spec.startsWith('@') ? `the schema file ${spec.slice(1)} lists no column` : 'the schema has no column'}: a schema is needed: --schema "id:int64!,..." or --from <file>`, {
        code: 'EMPTY_SCHEMA', context: spec.startsWith('@') ? { file: spec.slice(1) } : {},
      });
    }
  } else if (o.from) {
    const { inferFileSchema, detectFormat, seekableInput } = await import('./table-input.js');
    const from = String(o.from);
    // a missing file or a folder as import says it (it was Node's `ENOENT: ... stat`, exit 1)
    if (from !== '-') {
      const st = await stat(from).catch(() => undefined);
      if (!st) throw inputNotFound(from, []);
      if (st.isDirectory()) {
        throw new LakeSoulError('InvalidArgument', `${from} is a folder: --from takes one CSV, JSONL or Parquet file to infer the schema from`, {
          code: 'INPUT_IS_FOLDER', context: { file: from, table: name },
        });
      }
    }
    const format = detectFormat(from, o.format);
    // standard input and pipes as import takes them (a Parquet footer needs a seekable file)
    const input = await seekableInput(from, io.stdin ?? process.stdin);
    let inferred: Schema;
    try {
      inferred = await inferFileSchema(input.path, format, undefined, o.format === 'tsv' || /\.tsv$/i.test(from) ? '\t' : undefined);
    } catch (e) {
      // a copy of standard input is named as what it is (as import does), not by its temporary file
      if (!input.spooled || !(e instanceof LakeSoulError) || !e.message.includes(input.path)) throw e;
      const shown = from === '-' ? 'standard input' : from;
      throw new LakeSoulError(e.kind, e.message.split(input.path).join(shown), { code: e.code, retryable: e.retryable, context: { ...e.context, file: shown }, cause: e });
    } finally {
      await input.dispose();
    }
    // as the table API does for a schema inferred from data (createTable(name, rows, { primaryKeys })):
    // primary-key columns not null, every other column nullable (later writes may hold nulls)
    const keys = (o.primaryKey as string[] | undefined) ?? [];
    schema = new Schema(inferred.fields.map((f) => f.clone({ nullable: !keys.includes(f.name) })), inferred.metadata);
  } else {
    throw new LakeSoulError('InvalidArgument', `table create ${name}: a schema is needed: --schema "id:int64!,..." or --from <file>`);
  }
  return schema;
}

/** Adds `table create|list|describe|drop`. */
function addTableCommands({ program, io, out, note, quiet }: ProgramParts): void {
  // ---- tables
  const table = program.command('table').description('tables: create, list, describe, drop');
  table.command('create <name>')
    .description(`create a table. Schema: --schema "col:type[!],..." (! = not null), --schema @file.json, or --from <data file>.\nTypes: ${TYPE_NAMES}`)
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-s, --schema <spec|@file>', 'schema spec or @file (Arrow-Java JSON or [{name,type,nullable}])')
    .option('--from <file>', 'infer the schema from a CSV, JSONL or Parquet file (- for standard input)')
    .addOption(new Option('-f, --format <fmt>', 'format of the --from file (default: from the extension)').choices(['csv', 'tsv', 'jsonl', 'json', 'parquet']))
    .option('--partition-by <cols>', 'range-partition columns', list)
    .option('--primary-key <cols>', 'primary-key columns (enables upserts and merge-on-read)', list)
    .option('--buckets <n>', 'hash buckets for primary-key tables (power of two)', intOption(1, 2 ** 30))
    .option('--cdc-column <col>', 'CDC change column (utf8: insert|update|delete)')
    .option('--blob-columns <cols>', 'columns that reference files (read as bytes)', list)
    .option('--property <k=v>', 'table property (repeatable)', collect)
    .option('--path <uri>', 'table location (default <warehouse>/<namespace>/<name>)')
    .option('--if-not-exists', 'no error when it exists')
    .addHelpText('after', '\nExample:\n  $ lakesoul-ts table create images --schema "id:int64!,date:date32!,label:utf8,image_path:utf8" --partition-by date --primary-key id --blob-columns image_path')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      const schema = await createSchemaOf(name, o, io);
      const properties: Record<string, string> = {};
      for (const p of (o.property as string[] | undefined) ?? []) {
        const i = p.indexOf('=');
        if (i <= 0) throw new LakeSoulError('InvalidArgument', `--property '${p}': expected key=value`);
        properties[p.slice(0, i)] = p.slice(i + 1);
      }
      if (o.buckets !== undefined && !(o.primaryKey as string[] | undefined)?.length) {
        throw new LakeSoulError('InvalidArgument', `table create ${name}: --buckets needs --primary-key (rows are bucketed by the hash of their key)`);
      }
      const path = o.path === undefined ? undefined : tablePathArg(String(o.path));
      // An existing table is left as it is: say so (it printed "created" with the old schema), and what
      // of the request it does not have. Also when another create wins the race after this look:
      // the create itself is made without ifNotExists, so a lost race is TABLE_EXISTS, not "created".
      const existing = async (): Promise<boolean> => {
        const table = await openTable(ctx, name, o.namespace).catch((e: unknown) => {
          if (LakeSoulError.hasCode(e, 'TABLE_NOT_FOUND')) return undefined;
          throw e;
        });
        if (!table) return false;
        const info = table.info;
        out(`table '${info.namespace}.${info.name}' already exists at ${info.path}: left as it is (--if-not-exists)`);
        out(describeSchema(info.schema, info));
        for (const d of requestDifferences(info, schema, { primaryKeys: o.primaryKey, rangePartitions: o.partitionBy, buckets: o.buckets, cdcColumn: o.cdcColumn, path })) {
          note(`warning: table '${info.namespace}.${info.name}' exists with ${d}`);
        }
        return true;
      };
      if (o.ifNotExists && await existing()) return;
      // an object store is reached first, as init does: a missing bucket was found only by the first
      // import, after the table was registered in a shared catalog
      const location: string = path ?? ctx.config.warehouse;
      if (!/^file:/i.test(location) && !location.startsWith('/')) await checkWarehouseReachable(location);
      let t: LakeSoulTable;
      try {
        t = await ctx.lakehouse.createTable(name, schema, {
          namespace: o.namespace, rangePartitions: o.partitionBy, primaryKeys: o.primaryKey, hashBucketNum: o.buckets,
          cdcColumn: o.cdcColumn, blobColumns: o.blobColumns, properties, path,
        });
      } catch (e) {
        if (o.ifNotExists && LakeSoulError.hasCode(e, 'TABLE_EXISTS') && await existing()) return;
        throw e;
      }
      out(`table '${t.info.namespace}.${t.info.name}' created at ${t.info.path}`);
      out(describeSchema(t.info.schema, t.info));
    }));
  table.command('list').description('list tables').option('-n, --namespace <ns>', 'only this namespace').addOption(formatOption())
    .action((o) => withCatalog(program, async (ctx) => {
      const tables = await ctx.catalog.listTables(o.namespace);
      const structured = o.format !== 'table';
      const rows = tables.map((t) => [t.namespace, t.name,
        structured ? t.primaryKeys : t.primaryKeys.join(',') || '-', structured ? t.rangePartitions : t.rangePartitions.join(',') || '-',
        // a primary-key table's hashBucketNum that is no count (listed, not readable): shown as invalid, not -1
        t.primaryKeys.length === 0 ? (structured ? null : '-') : !(t.hashBucketNum > 0) ? (structured ? null : invalidBuckets(t.properties.hashBucketNum))
          : structured ? t.hashBucketNum : String(t.hashBucketNum), t.path]);
      if (rows.length === 0 && o.format === 'table') {
        // a mistyped --home or LAKESOUL_TS_HOME makes a new lakehouse: say so, it looked like the tables were gone
        note(ctx.createdCatalog ? `no tables: this command made a new, empty lakehouse (${ctx.config.describe}); check --home or LAKESOUL_TS_HOME if you expected tables` : 'no tables');
        return;
      }
      await printRecords(io.stdout, o.format, ['namespace', 'table', 'primary key', 'partitions', 'buckets', 'path'], rows);
      // listed like the others, but describe/scan/export then fail: say which on stderr (parsers of
      // stdout see the same records as before)
      const unreadable = tables.filter((t) => t.unsupported !== undefined);
      if (unreadable.length > 0 && !quiet()) {
        const named = unreadable.slice(0, 5).map((t) => `${t.namespace}.${t.name}`).join(', ');
        note(`note: ${unreadable.length} of these tables cannot be read by this version (${named}${unreadable.length > 5 ? ', ...' : ''}); \`${cliName()} table describe <table>\` says why; \`table drop\` still works`);
      }
    }));
  table.command('describe <name>').description('schema, keys, partitions, properties and latest versions')
    .option('-n, --namespace <ns>', 'namespace', 'default').option('--json', 'the same as --format json')
    .addOption(formatOption())
    .addHelpText('after', '\nFormats: table (for people); json / jsonl (the catalog row, schema and partitions as one object);\ncsv (one line per column: name, type, nullable, roles).')
    .hook('preAction', (cmd) => { jsonOrFormat(cmd, cmd.opts(), 'json'); }) // before the catalog is opened
    .action((name: string, o, cmd: Command) => withCatalog(program, async (ctx) => {
      // the entry as `table list` gives it: a table this version cannot read (its schema does not
      // decode, or a primary-key table's hashBucketNum is no count) is described, saying why
      const t = { info: await ctx.catalog.getTableEntry(name, o.namespace) };
      const badBuckets = t.info.primaryKeys.length > 0 && !(t.info.hashBucketNum > 0);
      const undecoded = t.info.unsupported !== undefined && t.info.schema.fields.length === 0;
      const parts = await ctx.catalog.listPartitions(t.info.tableId);
      const format = jsonOrFormat(cmd, o, 'json');
      if (format === 'json' || format === 'jsonl') {
        const doc = {
          ...t.info, schema: undecoded ? null : JSON.parse(arrowSchemaToJson(t.info.schema)), schemaJson: undecoded ? t.info.schemaJson : undefined,
          hashBucketNum: badBuckets ? null : t.info.hashBucketNum, partitions: parts,
        };
        out(format === 'json' ? JSON.stringify(doc, null, 2) : JSON.stringify(doc));
        return;
      }
      if (format === 'csv') {
        await printRecords(io.stdout, 'csv', ['column', 'type', 'nullable', 'roles'], t.info.schema.fields.map((f) => [f.name, formatType(f.type), f.nullable, [
          t.info.primaryKeys.includes(f.name) ? 'primary key' : '', t.info.rangePartitions.includes(f.name) ? 'range partition' : '',
          t.info.cdcColumn === f.name ? 'cdc' : '',
        ].filter(Boolean).join(';')]));
        return;
      }
      out(`table ${t.info.namespace}.${t.info.name}  (${t.info.tableId})`);
      out(`path        ${t.info.path}`);
      if (t.info.unsupported !== undefined) out(`not readable: ${t.info.unsupported}`);
      out(`primary key ${t.info.primaryKeys.join(', ') || '(none)'}${!t.info.primaryKeys.length ? '' : badBuckets ? `, buckets ${invalidBuckets(t.info.properties.hashBucketNum)}` : `, ${t.info.hashBucketNum} buckets`}`);
      out(`partitions  ${t.info.rangePartitions.join(', ') || '(none)'}`);
      out('schema');
      out(undecoded ? '  (not decoded: see above)' : describeSchema(t.info.schema, t.info));
      out('properties');
      for (const [k, v] of Object.entries(t.info.properties)) out(`  ${k} = ${v}`);
      out(`partitions (${parts.length})`);
      for (const p of parts) out(`  ${showPartition(p.partitionDesc)}  version ${p.version}  ${p.commitOp}  ${new Date(p.timestamp).toISOString()}`);
    }));
  table.command('drop <name>').description('drop a table (metadata; data files too with --purge)')
    .option('-n, --namespace <ns>', 'namespace', 'default').option('--purge', 'also delete the data files')
    .action((name: string, o) => {
      // Ctrl-C during a purge: the files go first, the table last, so it stays until they are gone
      const stop = o.purge ? new SignalStop(io, `the purge of ${name}`) : undefined;
      return withContext(program, io, async (ctx) => {
        const bars = deletionBars(`drop ${name}`, true, quiet());
        await ctx.lakehouse.dropTable(name, { namespace: o.namespace, purge: o.purge, signal: stop?.signal, onProgress: bars.onProgress })
          .catch(async (e: unknown) => {
            if (!stop?.received || !LakeSoulError.is(e)) throw e;
            // the library's purge error says what was deleted; before its deletes, the table tells
            if (typeof e.context.deleted === 'number') throw stop.error(name, `${e.message} (interrupted by ${stop.received})`);
            const left = await ctx.lakehouse.table(name, o.namespace).then(() => true, () => false);
            throw stop.error(name, left
              ? `drop of ${o.namespace}.${name} interrupted by ${stop.received}: the table is still there (some of its files may be deleted); run \`${cliName()} table drop ${shellWord(name)}${o.namespace === 'default' ? '' : ` -n ${shellWord(o.namespace)}`} --purge\` again to finish`
              : `drop of ${o.namespace}.${name} interrupted by ${stop.received} after the table was dropped`);
          })
          .finally(() => bars.stop());
        out(`table '${o.namespace}.${name}' dropped${o.purge ? ' and its data files deleted' : ''}`);
      }).finally(() => stop?.end());
    });
}

/**
 * A location argument: URIs as given (Hadoop's `file:/dir` too), local paths made absolute (the catalog
 * stores them as `file://` + the path).
 */
function locationArg(arg: string): string {
  return /^[a-z][a-z0-9+.-]*:\//i.test(arg) ? arg : resolve(arg);
}

/**
 * `table create --path`: a local path made absolute against the working directory (as --home and
 * --warehouse are); a path with a `..` segment, or the root directory, refused naming the flag.
 */
function tablePathArg(arg: string): string {
  const uri = /^[a-z][a-z0-9+.-]*:\//i.test(arg);
  const pathPart = uri ? arg.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/[?#].*$/, '') : arg;
  if (pathPart.split(/[\\/]/).includes('..')) {
    throw new LakeSoulError('InvalidArgument', `--path '${arg}' has a '..' segment: give the table's directory without it${uri ? '' : ` (${resolve(arg)})`}`, { code: 'INVALID_TABLE_PATH', context: { path: arg } });
  }
  const location = uri ? arg : resolve(arg);
  const local = uri ? (/^file:/i.test(arg) ? pathPart : undefined) : location;
  if (local !== undefined && /^\/*$/.test(local)) {
    throw new LakeSoulError('InvalidArgument', `--path '${arg}' is the root directory: a table needs a directory of its own (everything under a table's path is the table's: cleanup deletes what no commit names there)`, { code: 'INVALID_TABLE_PATH', context: { path: arg } });
  }
  return location;
}

/** What `table create --if-not-exists` asked for that the existing table `info` does not have, as phrases. */
function requestDifferences(info: LakeSoulTable['info'], schema: Schema, o: { primaryKeys?: string[]; rangePartitions?: string[]; buckets?: number; cdcColumn?: string; path?: string }): string[] {
  const pk = o.primaryKeys ?? [];
  // primary-key columns are made not null on create: a spec without `!` on them asks for what the table has
  const columns = (s: Schema, keys: string[]) => s.fields.map((f) => `${f.name}:${formatType(f.type)}${f.nullable && !keys.includes(f.name) ? '' : '!'}`).join(',');
  const has = columns(info.schema, info.primaryKeys);
  const asked = columns(schema, pk);
  const out: string[] = [];
  if (has !== asked) out.push(`another schema: it has "${has}", the request "${asked}"`);
  const keys = (k: string[]) => (k.length ? k.join(',') : '(none)');
  if (keys(info.primaryKeys) !== keys(pk)) out.push(`another primary key: ${keys(info.primaryKeys)}, the request ${keys(pk)}`);
  if (keys(info.rangePartitions) !== keys(o.rangePartitions ?? [])) out.push(`other range partitions: ${keys(info.rangePartitions)}, the request ${keys(o.rangePartitions ?? [])}`);
  if (o.buckets !== undefined && info.primaryKeys.length > 0 && info.hashBucketNum !== o.buckets) out.push(`${info.hashBucketNum} buckets, the request ${o.buckets}`);
  if (o.cdcColumn !== undefined && info.cdcColumn !== o.cdcColumn) out.push(`CDC column ${info.cdcColumn ?? '(none)'}, the request ${o.cdcColumn}`);
  if (o.path !== undefined && info.path !== o.path.replace(/\/+$/, '') && info.path !== `file://${o.path.replace(/\/+$/, '')}`) out.push(`path ${info.path}, the request ${o.path}`);
  return out;
}

/** Adds `relocate`: rewrites the catalog's paths of tables whose files were moved. */
function addRelocateCommand({ program, out, note }: ProgramParts): void {
  // every command: which one runs, for the check of a copied or moved home (home-location.ts), which
  // refuses writes there until `relocate` moves its tables
  program.hook('preAction', (root, action) => expectCommand(root.opts(), action, note));
  program.command('relocate <from> <to>')
    .description('after moving tables\' files (a home or warehouse moved, copied to S3): point every table at or below <from> to the same place below <to>')
    .option('--dry-run', 'print what would change, change nothing')
    .addHelpText('after', `
The catalog keeps each table's path and every file's path as absolute locations (as LakeSoul does),
so tables stay behind when their directory moves. Locations are directories (made absolute) or URIs
(file:///…, s3://bucket/prefix). One transaction: all tables move or none. Move the files first.

Examples:
  $ mv ~/old/home ~/new/home
  $ lakesoul-ts --home ~/new/home relocate ~/old/home/warehouse ~/new/home/warehouse
  $ lakesoul-ts relocate s3://old-bucket/warehouse s3://new-bucket/warehouse --dry-run`)
    .action((fromArg: string, toArg: string, o: { dryRun?: boolean }) => withCatalog(program, async (ctx) => {
      const from = locationArg(fromArg);
      const to = locationArg(toArg);
      const local = to.startsWith('/') || to.startsWith('file:');
      if (local && !o.dryRun) {
        const st = statSync(locationKey(to), { throwIfNoEntry: false });
        if (!st?.isDirectory()) {
          throw new LakeSoulError('NotFound', `relocate: ${to} is not a directory: move the tables' files there first (nothing was changed)`, { context: { to } });
        }
      }
      // an object store has no directories: each table's new location must hold its files
      const planned = await ctx.catalog.relocateTables(from, to, { dryRun: true });
      if (!local && !o.dryRun) await checkRelocatedFilesPresent(ctx.catalog, planned);
      // a table at or around this home's warehouse made every later create there refused (its
      // default path lay inside that table's)
      // and so did one at or around a namespace's directory, for the creates in that namespace
      const warehouse = ctx.config.warehouse.replace(/(.)\/+$/, '$1');
      const root = warehouse.startsWith('/') ? `file://${warehouse}` : warehouse;
      const spaces = (await ctx.catalog.listNamespaces()).map((n) => ({ what: `the directory of namespace '${n.name}'`, path: `${root}/${n.name}` }));
      for (const dir of [{ what: "this home's warehouse", path: root }, ...spaces]) {
        const around = planned.tables.find((t) => pathWithin(dir.path, t.to));
        if (!around) continue;
        throw new LakeSoulError('AlreadyExists', `relocate: table '${around.name}' would move to ${around.to}, at or around ${dir.what} (${dir.path}): every table created in it would lie inside that table's path. Move the table's files into a directory of its own below it (nothing was changed)`, {
          code: 'TABLE_PATH_OVERLAP', context: { path: around.to },
        });
      }
      const r = o.dryRun ? planned : await ctx.catalog.relocateTables(from, to);
      if (!o.dryRun) await homeRelocated(ctx.catalog, ctx.config);
      for (const t of r.tables) out(`${t.name}: ${t.from} -> ${t.to}`);
      out(`${o.dryRun ? 'would relocate' : 'relocated'} ${r.tables.length} table${r.tables.length === 1 ? '' : 's'} (${r.files} file path${r.files === 1 ? '' : 's'} in ${r.commits} commit${r.commits === 1 ? '' : 's'})`);
    }));
}

/**
 * The error of an input file (`import`, `table create --from`) that does not exist: exit 3, saying
 * where a relative name was looked for, and `notes`.
 */
function inputNotFound(file: string, notes: string[]): LakeSoulError {
  const all = [isAbsolute(file) ? '' : `looked in ${process.cwd()}`, ...notes].filter(Boolean);
  return new LakeSoulError('NotFound', `input file not found: ${file}${all.length ? ` (${all.join('; ')})` : ''}`, { code: 'INPUT_NOT_FOUND', context: { file } });
}

/**
 * A write's refusal of an input's data (a Parquet column whose type does not convert: `column 'v' of
 * table 't': cannot convert Int64 to Utf8`) naming the input as the readers' errors do (`file:line:`),
 * with the same kind, code and so exit code. Errors that name it already, and others (I/O, conflicts),
 * are returned as they are.
 */
function namingInput(e: unknown, shown: string): unknown {
  if (!LakeSoulError.is(e) || (e.kind !== 'SchemaMismatch' && e.kind !== 'InvalidArgument') || e.context.file !== undefined || e.message.startsWith(shown)) return e;
  // a column type that does not convert: what to do about it
  const hint = /: cannot convert \S+ to \S+$/.test(e.message) ? ` (write the file's column with the table's type, or import the file into a table made from it: \`${cliName()} table create <name> --from ${shown === 'standard input' ? '<file>' : shellWord(shown)}\`)` : '';
  return new LakeSoulError(e.kind, `${shown}: ${e.message}${hint}`, { code: e.code, retryable: e.retryable, context: { ...e.context, file: shown }, cause: e });
}

/** Checks every input of an import before the first is imported (each file is its own commit). */
async function checkImportInputs(name: string, files: string[], format: string | undefined): Promise<void> {
  if (files.filter((f) => f === '-').length > 1) throw new LakeSoulError('InvalidArgument', 'standard input (-) can be imported once per command');
  for (const file of files) {
    if (file === '-') {
      if (!format) throw new LakeSoulError('InvalidArgument', 'to import standard input (-), give its --format csv|tsv|jsonl|json|parquet');
      continue;
    }
    const st = await stat(file).catch(() => undefined);
    // every file is checked before the first is imported (each file is its own commit)
    // no `table` in the context: the table-list hint would send the user after the wrong thing
    if (!st) throw inputNotFound(file, files.length > 1 ? ['nothing was imported'] : []);
    if (st.isDirectory()) {
      throw new LakeSoulError('InvalidArgument', `${file} is a folder: to import the images in it (one sub-folder per label) use \`${cliName()} import ${shellWord(name)} ${shellWord(file)} --format images\`; to import data files, name the files`, {
        code: 'INPUT_IS_FOLDER', context: { file, table: name },
      });
    }
  }
}

/** `import --format images`: each folder (`<folder>/<label>/<image>`) in one commit, into a table made when missing. */
function importImageFolders({ program, io, out, quiet }: Omit<ProgramParts, 'note'>, name: string, files: string[], o: { namespace: string; copy?: boolean }): Promise<void> {
  // Ctrl-C stops between steps: nothing of the folder being imported is committed (copies already
  // made stay under the table path, named by their relative path: a new run keeps those whose size
  // and modification time still match their source's)
  const stop = new SignalStop(io, 'the import');
  return withContext(program, io, async (ctx) => {
    let imported = 0;
    for (const dir of files) {
      if (stop.signal.aborted) break;
      const st = await stat(dir).catch(() => undefined);
      if (!st?.isDirectory()) {
        throw new LakeSoulError(st ? 'InvalidArgument' : 'NotFound', `${dir} is ${st ? 'not a folder' : 'not found'}: --format images imports a folder laid out as <folder>/<label>/<image>`, { context: { file: dir } });
      }
      const progress = startProgress({ label: `import ${dir}`, unit: 'files', quiet: quiet(), show: o.copy ? ['bytes', 'files'] : ['files'] });
      let shown = { files: 0, bytes: 0 };
      let r: ImportImagesResult;
      try {
        const { importImages, toFileUri } = await import('@lakesoul-ts/io');
        r = await importImages(ctx.lakehouse, name, { folder: toFileUri(resolve(dir)) }, {
          namespace: o.namespace, mode: o.copy ? 'copy' : 'reference', signal: stop.signal,
          onProgress: (p) => {
            progress.tick({ files: p.files - shown.files, bytes: p.bytesCopied - shown.bytes });
            shown = { files: p.files, bytes: p.bytesCopied };
          },
        })
          .catch((e: unknown) => {
            if (!stop.signal.aborted || (LakeSoulError.is(e) && e.kind !== 'Aborted')) throw e;
            throw stop.error(name, `import of ${dir} into ${name} interrupted by ${stop.received}: nothing of it was committed${o.copy ? ' (the images copied so far stay under the table path; importing the folder again reuses them)' : ''}`);
          });
        imported++;
      } finally { progress.stop(); }
      // after the bar is gone: printed before, the bar's last frame was drawn over it
      out(`imported ${count(r.rows, 'image')} from ${dir} into ${r.table.info.namespace}.${r.table.info.name}${o.copy ? ' (copied under the table path)' : ' (referenced in place)'}`);
    }
    if (stop.signal.aborted) {
      // a signal while the catalog opened, or between two folders
      throw stop.error(name, imported === 0 ? `import into ${name} interrupted by ${stop.received} before any folder was imported: nothing was committed`
        : `import into ${name} interrupted by ${stop.received} after its last commit: the ${count(imported, 'folder')} printed above ${imported === 1 ? 'was' : 'were'} imported, the rest not`);
    }
  }, stop.signal).catch((e: unknown) => {
    // stopped while waiting for the catalog (another process held it)
    if (stop.signal.aborted && LakeSoulError.is(e) && e.kind === 'Aborted' && e.code !== 'INTERRUPTED') {
      throw stop.error(name, `import into ${name} interrupted by ${stop.received} while waiting for the catalog: nothing was committed`);
    }
    throw e;
  }).finally(() => stop.end());
}

/** Adds `import` and `export`. */
function addImportExportCommands({ program, io, out, note, quiet }: ProgramParts): void {
  // ---- import / export
  program.command('import <table> <files...>')
    .description('import CSV, JSONL or Parquet files into a table (- reads standard input, with --format), or an image folder (--format images; creates the table when missing)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('-f, --format <fmt>', 'input format (default: from the extension; json: JSON lines or one array of objects)').choices(['csv', 'tsv', 'jsonl', 'json', 'parquet', 'images']))
    .addOption(new Option('-m, --mode <mode>', 'append, or upsert for primary-key tables').choices(['append', 'upsert']))
    .option('--delimiter <c>', 'CSV delimiter, one character (\\t: tab; default: tab for .tsv files, else comma)', delimiterOption)
    .option('--batch-rows <n>', 'rows per batch', intOption(1, 2 ** 24), 65536)
    .option('--copy', 'images: copy the files under the table path instead of referencing them in place')
    .addHelpText('after', '\nExamples:\n  $ lakesoul-ts import events day1.csv day2.csv --mode upsert\n  $ zcat day3.jsonl.gz | lakesoul-ts import events - --format jsonl\n  $ lakesoul-ts import pets ./photos --format images    # <root>/<label>/<file>')
    .action(async (name: string, files: string[], o) => {
      if (o.format === 'images') return importImageFolders({ program, io, out, quiet }, name, files, o);
      await checkImportInputs(name, files, o.format);
      // Standard input and pipes are copied to temporary files (read twice, a pipe is empty the second
      // time) before the catalog is opened: `export ... - | import ... -` on one home waits for nothing.
      const { detectFormat, readInput, seekableInput } = await import('./table-input.js');
      const formats: InputFormat[] = files.map((file) => detectFormat(file, o.format));
      const inputs: Awaited<ReturnType<typeof seekableInput>>[] = [];
      // Ctrl-C (or SIGTERM/SIGHUP) stops the import: the write in progress is aborted, which deletes
      // the files it uploaded, and the copies of standard input are removed, then the process exits
      // 128 + the signal (it exited at once, leaving both behind). A second signal exits at once.
      const stop = new SignalStop(io, 'the import', () => { for (const i of inputs) i.disposeSync(); });
      const committed: string[] = []; // inputs whose commit landed
      try {
        for (const file of files) {
          if (stop.signal.aborted) break;
          inputs.push(await seekableInput(file, io.stdin ?? process.stdin, stop.signal).catch((e: unknown) => {
            throw stop.received ? interruptedError(file === '-' ? 'standard input' : file) : e;
          }));
        }
        if (stop.received) throw interruptedError(files.includes('-') ? 'standard input' : files.length === 1 ? files[0]! : 'the files');
        await withContext(program, io, async (ctx) => {
          const t = await openTable(ctx, name, o.namespace).catch(async (e: unknown) => {
            if (!(e instanceof LakeSoulError && e.code === 'TABLE_NOT_FOUND')) throw e;
            // the table is in another namespace: importing into a new one here would split the data
            const elsewhere = await inOtherNamespaces(ctx.lakehouse.catalog, e);
            if (elsewhere) throw elsewhere;
            // a data file does not say the primary key, partitions or buckets: the table is made first
            const ns = o.namespace === 'default' ? '' : ` -n ${shellWord(o.namespace)}`;
            const fmt = o.format === undefined ? '' : ` --format ${o.format}`;
            throw new LakeSoulError('NotFound', `${e.message}; create it first: \`${cliName()} table create ${shellWord(name)}${ns} --from ${shellWord(files[0]!)}${fmt}\` takes its schema from the file (add --primary-key, --partition-by, --buckets as wanted) (see: ${cliName()} table create --help)`, {
              code: e.code, context: e.context, cause: e,
            });
          });
          for (const [k, file] of files.entries()) {
            const input = inputs[k]!;
            const fmt = formats[k]!;
            const shown = file === '-' ? 'standard input' : file;
            const size = (await stat(input.path).catch(() => undefined))?.size;
            const progress = startProgress({ label: `import ${shown}`, unit: 'bytes', quiet: quiet(), total: size });
            let rows = 0;
            let last = 0;
            // JSON numbers, booleans, arrays and objects stored as their JSON text in text columns, per column
            const asText = new Map<string, { n: number; first: number }>();
            const batches = (async function* () {
              try {
                for await (const b of readInput(input.path, fmt, t.info.schema, {
                  batchRows: o.batchRows, delimiter: o.delimiter ?? (o.format === 'tsv' || /\.tsv$/i.test(file) ? '\t' : ','), signal: stop.signal, roles: t.info,
                  onBytes: (n) => { progress.tick({ bytes: n - last }); last = n; },
                  onJsonText: (column, at) => { const c = asText.get(column); if (c) c.n++; else asText.set(column, { n: 1, first: at.line }); },
                })) { rows += b.numRows; progress.tick({ rows: b.numRows }); yield b; }
              } catch (e) {
                // a copy of standard input is named as what it is, not by the temporary file (deleted by then)
                if (!input.spooled || !(e instanceof LakeSoulError) || !e.message.includes(input.path)) throw e;
                throw new LakeSoulError(e.kind, e.message.split(input.path).join(shown), { code: e.code, retryable: e.retryable, context: { ...e.context, file: shown }, cause: e });
              }
            })();
            try {
              if (stop.signal.aborted) throw interruptedError(shown);
              // a write that rejects committed nothing (one whose commit outcome is unknown, a Catalog
              // error, says so itself); the reader's AbortError is not a LakeSoulError
              const res = await t.write(batches, { mode: o.mode, signal: stop.signal }).catch((e: unknown) => {
                throw stop.signal.aborted && !(LakeSoulError.is(e) && e.kind !== 'Aborted') ? interruptedError(shown) : namingInput(e, shown);
              });
              committed.push(shown);
              progress.tick({ files: res.files.length });
              progress.stop();
              out(res.versions.size === 0
                ? `imported ${count(rows, 'row')} from ${shown} into ${t.info.namespace}.${t.info.name}: nothing to commit (${rows === 0 ? 'the file has no rows' : 'no file was written'})`
                : `imported ${count(rows, 'row')} from ${shown} into ${t.info.namespace}.${t.info.name}: ${count(res.files.length, 'file')}, versions ${showVersions(res.versions)}`);
              for (const [column, { n, first }] of asText) {
                note(`note: column '${column}' (utf8): ${n === 1 ? '1 value that is not a JSON string was stored as its' : `${n} values that are not JSON strings were stored as their`} JSON text (first at ${shown}:${first})`);
              }
            } catch (e) { progress.stop(); throw committed.length > 0 && !LakeSoulError.hasCode(e, 'INTERRUPTED') ? failedAfterCommits(e, files.slice(committed.length).map((f) => (f === '-' ? 'standard input' : f))) : e; }
          }
        }, stop.signal).catch((e: unknown) => {
          // stopped while waiting for the catalog (another process held it)
          throw stop.signal.aborted && LakeSoulError.is(e) && e.kind === 'Aborted' && e.code !== 'INTERRUPTED' ? interruptedError(files.length === 1 ? (files[0] === '-' ? 'standard input' : files[0]!) : 'the files') : e;
        });
        // the signal came after the last commit: everything printed above is in the table
        if (stop.received) throw interruptedError(null);
      } finally {
        stop.end();
        await Promise.all(inputs.map((i) => i.dispose()));
      }
      /**
       * The error of an input after others were committed: it says which are in the table, so that a
       * retry (a script's, on the exit code) imports only the rest, not the committed ones twice.
       */
      function failedAfterCommits(e: unknown, rest: string[]): LakeSoulError {
        const message = `${(e as Error)?.message ?? String(e)}; committed before it: ${committed.join(', ')} (as printed above): import only ${rest.join(', ')} again`;
        return LakeSoulError.is(e)
          ? new LakeSoulError(e.kind, message, { code: e.code, retryable: e.retryable, context: { ...e.context, committed: [...committed] }, cause: e })
          : new LakeSoulError('Io', message, { context: { committed: [...committed] }, cause: e });
      }
      /** The error of an import a signal stopped, before `what` was committed (null: after the last commit). */
      function interruptedError(what: string | null): LakeSoulError {
        const before = committed.length === 0 ? '' : `; committed before it: ${committed.join(', ')} (as printed above)`;
        return stop.error(name, what === null
          ? `import into ${name} interrupted by ${stop.received ?? 'a signal'} after its last commit: everything printed above was imported (do not import it again)`
          : `import of ${what} into ${name} interrupted by ${stop.received ?? 'a signal'}: nothing of it was committed, and the files it had written were deleted${before}`);
      }
    });
  addExportCommand({ program, io, out, quiet });
}

/** Adds `export`. */
function addExportCommand({ program, io, out, quiet }: Omit<ProgramParts, 'note'>): void {
  addScanOptions(program.command('export <table> <output>')
    .description('export a table (or a partition, snapshot or increment of it) to Parquet, CSV, JSONL or JSON (one array, as scan --format json); <output> - writes to stdout (with --format). ' +
      'The file is written under a temporary name and replaces <output> only when complete'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('-f, --format <fmt>', 'output format (default: from the extension, any case: .parquet/.pq, .csv, .jsonl/.ndjson, .json)').choices(['parquet', 'csv', 'jsonl', 'json']))
    .option('--limit <n>', 'export the first n rows (as scan --limit prints them)')
    .action(async (name: string, output: string, o) => {
      const { writeOutputFile, withWriteStream, isStandardOutput, outputTarget, partialName, refuseDirectory, replacesOnCompletion } = await import('./output-file.js');
      // '-' or a path that is this process's stdout: the rows go to io.stdout, and the summary to stderr
      const toStdout = output === '-' || isStandardOutput(output);
      // Ctrl-C (SIGTERM, SIGHUP) stops the read, which ends the write: the temporary file is removed,
      // <output> is left as it was, and the command says so and exits 130 (143, 129). A second signal
      // removes the temporary file and exits at once. (It exited 130 silently.)
      const replacing = !toStdout && replacesOnCompletion(output);
      // (the file a symbolic link names is the one replaced, its temporary file beside it)
      const target = replacing ? outputTarget(output) : output;
      const existed = replacing && lstatSync(target, { throwIfNoEntry: false }) !== undefined;
      const stop = new SignalStop(io, `the export of ${name}`, () => { if (replacing) rmSync(partialName(target), { force: true }); });
      let rows = 0;
      const interrupted = (cause?: unknown) => Object.assign(stop.error(name, replacing
        ? `export of ${name} to ${output} interrupted by ${stop.received}: nothing was written to ${output} (${existed ? 'the earlier file is left as it was' : 'it was not created'}; no temporary file is left)`
        : `export of ${name} to ${toStdout ? 'stdout' : output} interrupted by ${stop.received} after ${count(rows, 'row')}: the output is incomplete`), cause === undefined ? {} : { cause });
      return withContext(program, io, async (ctx) => {
        if (stop.signal.aborted) throw interrupted();
        const t = await openTable(ctx, name, o.namespace);
        // (a directory without an extension was refused as a format not told by the extension)
        if (!toStdout) refuseDirectory(output);
        const fmt: string | undefined = o.format ?? (output === '-' ? undefined : formatOfExtension(output));
        if (fmt === 'tsv') throw new LakeSoulError('InvalidArgument', `cannot export to ${output}: export writes CSV with commas, not tabs (name the file .csv, or give --format csv)`);
        if (fmt === undefined) {
          throw new LakeSoulError('InvalidArgument', output === '-' ? 'to export to stdout (-), give --format parquet|csv|jsonl|json' : `cannot tell the format of ${output} from its extension (.parquet, .pq, .csv, .jsonl, .ndjson, .json): use --format parquet|csv|jsonl|json`);
        }
        const say = toStdout ? (s: string) => io.stderr.write(s + '\n') : out;
        const scanOpts = scanOptionsFrom(o, t);
        const limit = limitFrom(o);
        await checkPartitionsExist(t, scanOpts);
        const plan = await t.scan(scanOpts).catch((e) => { throw explainFilterError(e, scanOpts.filter); });
        warnResetPartitions(plan, scanOpts.incremental !== undefined, (line) => io.stderr.write(line + '\n'));
        if (stop.signal.aborted) throw interrupted();
        const progress = await startScanProgress(`export ${name}`, t, plan, { filtered: scanOpts.filter !== undefined, limit, quiet: quiet() });
        const counted = (async function* () {
          try {
            // --limit: the first n rows, as scan --limit prints them (reading stops there)
            if (limit === 0) return;
            for await (const b of plan.read({ signal: stop.signal })) {
              const take = limit === undefined ? b : b.slice(0, Math.min(b.numRows, limit - rows));
              rows += take.numRows;
              progress.tick({ rows: take.numRows });
              yield take;
              if (limit !== undefined && rows >= limit) break;
            }
            progress.readEnded();
          } catch (e) { throw await explainReadError(e, t, plan); }
        })();
        const writeTo = async (sink: NodeJS.WritableStream): Promise<void> => {
          if (fmt === 'parquet') {
            const { writeParquetStream } = await import('./parquet-export.js');
            const bytes = await writeParquetStream(counted, plan.schema, sink, output);
            progress.tick({ bytes, files: 1 });
          } else {
            const { BatchPrinter } = await import('./output-format.js');
            const printer = new BatchPrinter(sink, fmt as OutputFormat);
            for await (const b of counted) await printer.write(b);
            await printer.end(plan.schema);
            progress.tick({ files: 1 });
          }
        };
        try {
          // a failed or interrupted export leaves a file at `output` as it was
          if (toStdout) await writeTo(io.stdout);
          else await writeOutputFile(output, (file) => withWriteStream(file, writeTo), { signal: stop.signal });
        } catch (e) {
          // whatever the stopped read made the write fail with (the Parquet encoder wraps it)
          throw stop.signal.aborted ? interrupted(e) : e;
        } finally { progress.stop(); }
        say(`exported ${count(rows, 'row')} to ${output === '-' ? 'stdout' : output}`);
        // the signal came after the file was complete: it is there, whole
        if (stop.received) throw stop.error(name, `export of ${name} interrupted by ${stop.received} after it completed: ${toStdout ? 'stdout has' : `${output} holds`} all ${count(rows, 'row')}`);
      }, stop.signal).catch((e: unknown) => {
        // stopped while the catalog opened (or waiting for another process holding it)
        throw stop.signal.aborted && LakeSoulError.is(e) && e.kind === 'Aborted' && e.code !== 'INTERRUPTED' ? interrupted(e) : e;
      }).finally(() => stop.end());
    });
}

/** Adds `scan` and `head`. */
function addScanCommands({ program, io, note, quiet }: ProgramParts): void {
  // ---- scan / head
  const scanAction = (limitDefault?: number) => (name: string, o: Record<string, unknown>) => withContext(program, io, async (ctx) => {
    const t = await openTable(ctx, name, o.namespace as string);
    const scanOpts = scanOptionsFrom(o, t);
    await checkPartitionsExist(t, scanOpts);
    const plan = await t.scan(scanOpts).catch((e) => { throw explainFilterError(e, scanOpts.filter); });
    warnResetPartitions(plan, scanOpts.incremental !== undefined, note);
    const limit = limitFrom(o) ?? limitDefault;
    const format = (o.format as OutputFormat) ?? 'table';
    const { BatchPrinter } = await import('./output-format.js');
    const printer = new BatchPrinter(io.stdout, format);
    // stdout carries the rows: a bar on stderr is useful only when stdout is not the same terminal.
    const progress = await startScanProgress(`scan ${name}`, t, plan,
      { filtered: scanOpts.filter !== undefined, limit, quiet: quiet() || (io.stdout as NodeJS.WriteStream).isTTY === true });
    let rows = 0;
    try {
      if (limit !== 0) {
        for await (const b of plan.read()) {
          const take = limit === undefined ? b : b.slice(0, Math.min(b.numRows, limit - rows));
          await printer.write(take);
          rows += take.numRows;
          progress.tick({ rows: take.numRows });
          if (limit !== undefined && rows >= limit) break;
        }
      }
      progress.readEnded();
    } catch (e) {
      throw await explainReadError(e, t, plan);
    } finally { progress.stop(); }
    await printer.end(plan.schema);
    if (format === 'table' && !quiet()) note(`(${rows} row${rows === 1 ? '' : 's'})`);
  });
  addScanOptions(program.command('scan <table>').description('print rows (merged on read) as a table, JSON, JSONL or CSV'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(formatOption())
    .option('--limit <n>', 'stop after n rows')
    .addHelpText('after', `\nExamples:\n  $ lakesoul-ts scan events --partition date=2024-01-01 --columns id,kind\n  $ lakesoul-ts scan events --partition date=2024-01-01 --version 0 --format jsonl\n  $ lakesoul-ts scan events --incremental 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z`)
    .action(scanAction());
  addScanOptions(program.command('head <table>').description('print the first rows'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-l, --limit <n>', 'rows', '10')
    .addOption(formatOption())
    .action(scanAction(10));
}

/** Adds `history`, `compact` and `cleanup`. */
function addMaintenanceCommands({ program, io, out, note, quiet }: ProgramParts): void {
  // ---- history / maintenance
  program.command('history <table>').description('commits, one line each: time, op, the partition versions it wrote, files and rows (before merge) of those partitions')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-p, --partition <col=value>', 'only this partition: its values (repeatable), or its partition_desc as history prints it', collect)
    .option('--json', 'the same as --format jsonl')
    .option('--limit <n>', 'the newest n commits (0: all)', intOption(0, 2 ** 31), 100)
    .addOption(formatOption())
    .addHelpText('after', '\nA commit writes one new version of each partition it touches (LakeSoul numbers versions per partition).\n' +
      '--format csv writes one line per partition version (time, op, partition, version, files, rows), each field one value.\n' +
      'Read one partition at a version with `scan <table> -p <partition> --version <n>`,\nor the whole table as of a commit with `scan <table> --timestamp <time + 1 ms>`.')
    .hook('preAction', (cmd) => { jsonOrFormat(cmd, cmd.opts(), 'jsonl'); }) // before the catalog is opened
    .action((name: string, o, cmd: Command) => withCatalog(program, async ({ catalog }) => {
      // The catalog and the files' footers are all it reads: the light entry point of io keeps the
      // reading machinery (Arrow, Parquet decoding, merge) unloaded.
      const { StoreRegistry, countFileRows } = await import('@lakesoul-ts/io/footers');
      const stores = new StoreRegistry();
      const t = await catalog.getTable(name, o.namespace);
      const format = jsonOrFormat(cmd, o, 'jsonl');
      const printer = new RowPrinter(io.stdout, format, Number.POSITIVE_INFINITY);
      // csv: one line per partition a commit wrote (its version, files and rows), so that every field
      // is one value a spreadsheet or a csv reader takes as it is; the versions of a commit joined in
      // one field by spaces could not be told apart (a partition value may hold spaces)
      const columns = format === 'csv' ? ['time', 'op', 'partition', 'version', 'files', 'rows'] : ['time', 'op', 'versions', 'files', 'rows'];
      // Consecutive snapshots share most files: each file's footer is read once, and a file whose rows
      // cannot be counted is tried once (path -> why, as the rows column shows it).
      const rowCounts = new Map<string, number>();
      const unreadable = new Map<string, string>();
      // the partition named by its values (`x=1e21` is the partition stored as x=1000000000000000000000),
      // one that does not exist an error listing some that do (exit 3), not an empty history
      let scope: { partitionDesc?: string } = {};
      const partitions = parsePartitionFlags(o.partition);
      if (partitions) {
        const matched = await checkPartitionsExist({ info: t, catalog }, { partitions });
        if (matched.length > 1) {
          throw new LakeSoulError('InvalidArgument', `--partition ${o.partition.join(' ')} selects ${count(matched.length, 'partition')} of table '${t.namespace}.${t.name}' (${matched.slice(0, 3).map((p) => p.partitionDesc).join(', ')}${matched.length > 3 ? ', ...' : ''}): history shows one, so give a value for each range column (${t.rangePartitions.join(', ')})`, {
            context: { table: `${t.namespace}.${t.name}` },
          });
        }
        scope = { partitionDesc: matched[0]!.partitionDesc };
      }
      const limit: number = o.limit;
      // the versions without their snapshots (each lists every commit in force: quadratic in commits,
      // 4,801 commits took 71 s and 2.9 GB, and over the catalog server's frame limit failed)
      const commits = commitsOf(await catalog.historySummary(t.tableId, { ...scope, ...(limit > 0 ? { commits: limit } : {}) }));
      if (limit > 0 && commits.length >= limit) {
        const total = await catalog.commitCount(t.tableId, scope);
        if (total > commits.length) io.stderr.write(`the newest ${commits.length} of ${total} commits (--limit 0 shows all)\n`);
      }
      // The files of the versions of up to 100 commits at a time, from one catalog read (a read per
      // version, each loading every commit in force, made a 1,000-commit history take 76 s).
      const CHUNK = 100;
      for (let at = 0; at < commits.length; at += CHUNK) {
        const chunk = commits.slice(at, at + CHUNK);
        const snapshots = await catalog.versionSnapshots(t.tableId, chunk.flat());
        let k = 0;
        for (const commit of chunk) {
          // files and rows of each partition version of the commit (rows: a string saying why unknown)
          const counted: { files: number; rows: number | string }[] = [];
          for (const p of snapshots.slice(k, (k += commit.length))) {
            const known = p.files.map((f) => unreadable.get(f.path)).find((why) => why !== undefined);
            let rows: number | string;
            if (known !== undefined) rows = known;
            else {
              try {
                rows = await countFileRows(stores, p.files, rowCounts);
              } catch (e) {
                rows = unreadableFile(e, unreadable, note);
              }
            }
            counted.push({ files: p.files.length, rows });
          }
          const time = new Date(commit[0]!.timestamp).toISOString();
          if (format === 'csv') {
            await printer.writeRows(columns, commit.map((v, i) => [time, v.commitOp, v.partitionDesc, v.version, counted[i]!.files, counted[i]!.rows]));
            continue;
          }
          const files = counted.reduce((n, c) => n + c.files, 0);
          const unknown = counted.find((c) => typeof c.rows === 'string')?.rows; // why its rows are unknown
          const rows = counted.reduce((n, c) => n + (typeof c.rows === 'number' ? c.rows : 0), 0);
          const versions = format === 'json' || format === 'jsonl'
            ? commit.map((v) => ({ partition: v.partitionDesc, version: v.version }))
            : showVersions(commit.map((v) => [v.partitionDesc, v.version] as const), ', ', false);
          const rowsShown = unknown === undefined ? rows : format === 'json' || format === 'jsonl' ? null : unknown;
          await printer.writeRows(columns, [[time, commit[0]!.commitOp, versions, files, rowsShown]]);
        }
      }
      await printer.end(columns);
      // a table never written to: the header alone read as a failure to list them
      if (commits.length === 0 && format === 'table' && !quiet()) {
        note(`no commits yet: ${scope.partitionDesc === undefined ? `table '${t.namespace}.${t.name}'` : `partition ${showPartition(scope.partitionDesc)}`} has not been written to (\`${cliName()} import ${shellWord(name)}${o.namespace === 'default' ? '' : ` -n ${shellWord(o.namespace)}`} <file>\` adds rows)`);
      }
    }));
  addCompactCommand({ program, io, out, note, quiet });
  program.command('cleanup <table>').description('delete data files no longer referenced (dry run unless --execute)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--retain-since <time>', 'keep the files of every version in force at or after this time (ISO or epoch ms; default: 7 days ago)')
    .option('--orphan-window <minutes>', 'only delete unreferenced files older than this (they may be a write in flight; default 24 h, as the library)', (v) => (/^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN), 1440)
    .option('--execute', 'really delete (default is a dry run)')
    .option('--assume-no-writes', 'no write to the table is running anywhere: lets --execute take an --orphan-window under 1 minute')
    .option('--verbose', 'list every file (table format); json/jsonl/csv always list them')
    .addOption(formatOption())
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      if (!Number.isFinite(o.orphanWindow) || o.orphanWindow < 0) throw new LakeSoulError('InvalidArgument', `--orphan-window must be a number of minutes >= 0 (digits, e.g. 1440 for 24 h)`);
      const t = await openTable(ctx, name, o.namespace);
      const bars = deletionBars(`cleanup ${name}`, o.execute === true, quiet());
      const report = await t.cleanup({
        retainSince: o.retainSince ? parseTime(o.retainSince, '--retain-since', 'down') : undefined,
        orphanSafetyWindowMs: o.orphanWindow * 60_000, assumeNoWritesInFlight: o.assumeNoWrites === true, dryRun: !o.execute, onProgress: bars.onProgress,
      }).catch((e: unknown) => {
        // the library's refusal of a short window, said in the CLI's words (its flags)
        if (!LakeSoulError.hasCode(e, 'ORPHAN_WINDOW_TOO_SHORT')) throw e;
        throw new LakeSoulError('InvalidArgument', `cleanup ${name} --execute: an --orphan-window of ${o.orphanWindow} minutes is under 1, and would delete the files of writes to the table still running (one under a second would then commit files that are gone). Nothing was deleted. ` +
          `If no write to the table is running anywhere, add --assume-no-writes; otherwise keep the window above the longest write (default 1440, 24 h)`, { code: 'ORPHAN_WINDOW_TOO_SHORT', cause: e });
      }).finally(() => bars.stop());
      const abandoned = report.abandonedCommits === 0 ? null
        : `${count(report.abandonedCommits, 'abandoned commit row')} (uncommitted, older than --orphan-window) ${o.execute ? 'deleted from' : 'would be deleted from'} the catalog`;
      if (o.format !== 'table') {
        await printRecords(io.stdout, o.format, ['action', 'path', 'reason', 'bytes'],
          report.files.map((f) => [o.execute ? 'deleted' : 'would delete', f.path, f.reason, f.size]));
        if (abandoned && !quiet()) note(abandoned);
        return;
      }
      if (o.verbose) for (const f of report.files) out(`${o.execute ? 'deleted' : 'would delete'}  ${f.path}  (${f.reason}, ${formatBytes(f.size)})`);
      const byReason = new Map<string, { n: number; bytes: number }>();
      for (const f of report.files) {
        const r = byReason.get(f.reason) ?? { n: 0, bytes: 0 };
        r.n++; r.bytes += f.size;
        byReason.set(f.reason, r);
      }
      const reasons = [...byReason].map(([reason, r]) => `${r.n} ${reason} (${formatBytes(r.bytes)})`).join(', ');
      out(`${report.files.length} file(s), ${formatBytes(report.bytes)} ${o.execute ? 'deleted' : 'would be deleted'}${reasons ? `: ${reasons}` : ''}`);
      if (abandoned) out(abandoned);
      out(`versions in force at or after ${new Date(report.retainSince).toISOString()} keep their files`);
      if (!o.execute && (report.files.length > 0 || abandoned)) out(`dry run: run again with --execute to delete them${o.verbose ? '' : ' (--verbose lists them)'}`);
    }));
}

/**
 * Why `history` cannot count the rows of a version, from the error counting them: its files were
 * deleted by `cleanup` ('cleaned up'), or one is not Parquet ('vortex': LakeSoul 4.0's default format,
 * 'not parquet'), said once on stderr. The commit is listed either way; other errors are thrown.
 */
function unreadableFile(e: unknown, unreadable: Map<string, string>, note: (s: string) => void): string {
  const file = LakeSoulError.is(e) && typeof e.context.file === 'string' ? e.context.file : undefined;
  let why: string;
  if (LakeSoulError.hasCode(e, 'OBJECT_NOT_FOUND')) why = 'cleaned up';
  else if ((LakeSoulError.is(e, 'Unsupported') && e.code === 'UNSUPPORTED_FILE_FORMAT') || LakeSoulError.hasCode(e, 'BUCKET_NOT_FOUND')) {
    // a lost bucket leaves the commit log readable: it is where a person looks for what happened
    why = LakeSoulError.hasCode(e, 'BUCKET_NOT_FOUND') ? 'no bucket' : /\.vortex$/i.test(file ?? '') ? 'vortex' : 'not parquet';
    if (![...unreadable.values()].some((w) => w === why)) {
      note(`note: rows shown as '${why}' (null in json) are unknown: history counts rows from Parquet footers, and ${(e as Error).message}`);
    }
  } else throw e;
  if (file !== undefined) unreadable.set(file, why);
  return why;
}

/** Adds `compact` (between `history` and `cleanup` in the help). */
function addCompactCommand({ program, io, out, quiet }: ProgramParts): void {
  program.command('compact <table>').description('merge each partition (or one) into one sorted file per bucket')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-p, --partition <col=value>', 'only this partition (repeatable)', collect)
    .addOption(formatOption())
    .action((name: string, o) => {
      // Ctrl-C (SIGTERM, SIGHUP) stops compaction as it stops an import: the rewrite is aborted, which
      // deletes the files it had written (it exited at once and left them for cleanup as orphans), and
      // the command exits 130 (143, 129) saying so. A second signal exits at once.
      const stop = new SignalStop(io, `the compaction of ${name}`);
      let committed = false;
      const interrupted = () => stop.error(name, committed
        ? `compaction of ${name} interrupted by ${stop.received} after its commit: the compaction printed above is in the table`
        : `compaction of ${name} interrupted by ${stop.received}: nothing was committed, and the files it had written were deleted`);
      return withContext(program, io, async (ctx) => {
        if (stop.signal.aborted) throw interrupted();
        const t = await openTable(ctx, name, o.namespace);
        const partitions = parsePartitionFlags(o.partition);
        await checkPartitionsExist(t, { partitions });
        // The bar starts with compaction's first report, which carries the totals (the input files of
        // every bucket/partition to rewrite); it advances as each one is written.
        let progress: Progress | undefined;
        const done = { rows: 0, bytes: 0, files: 0 };
        if (stop.signal.aborted) throw interrupted();
        const res = await t.compact({
          partitions,
          signal: stop.signal,
          onProgress: (p) => {
            if (p.filesTotal === 0) return;
            progress ??= startProgress({ label: `compact ${name}`, unit: 'bytes', quiet: quiet(), total: p.bytesTotal });
            progress.tick({ rows: p.rowsRead - done.rows, bytes: p.bytesDone - done.bytes, files: p.filesDone - done.files });
            Object.assign(done, { rows: p.rowsRead, bytes: p.bytesDone, files: p.filesDone });
          },
        }).catch((e: unknown) => {
          // a compaction that rejects committed nothing (an unknown commit outcome says so itself)
          throw stop.signal.aborted && !(LakeSoulError.is(e) && e.kind !== 'Aborted') ? interrupted() : e;
        }).finally(() => progress?.stop());
        committed = res.versions.size > 0;
        const versions = [...res.versions].map(([p, v]) => ({ partition: p, version: v }));
        // partitions another writer changed while they were compacted: not committed (protocol §2)
        const dropped = res.dropped.length === 0 ? '' : `${count(res.dropped.length, 'partition')} changed by another writer while compacting, left as they were (${res.dropped.slice(0, 10).map(showPartition).join(', ')}${res.dropped.length > 10 ? ', ...' : ''}): run compact again`;
        if (o.format === 'table') {
          if (versions.length === 0 && dropped === '') out(`nothing to compact in ${name}: ${partitions ? 'the selected partitions are' : 'every partition is'} already one file per bucket, with every column`);
          else if (versions.length > 0) out(`compacted ${name}: ${count(res.removed.length, 'file')} into ${res.added.length}; versions ${showVersions(res.versions)}`);
          if (dropped !== '') out(`${versions.length === 0 ? `nothing compacted in ${name}: ` : ''}${dropped}`);
        } else if (o.format === 'csv') {
          // one line per partition compacted (its new version) or dropped (no version): a partition
          // value may hold spaces, so a list joined in one field could not be split back
          const lines: unknown[][] = [
            ...versions.map((v) => [name, res.removed.length, res.added.length, v.partition, v.version, 'compacted']),
            ...res.dropped.map((p) => [name, res.removed.length, res.added.length, p, null, 'dropped']),
          ];
          // the file counts are the whole compaction's, repeated on each line (named so: summing them
          // over the lines would count them again)
          await printRecords(io.stdout, o.format, ['table', 'total_files_removed', 'total_files_added', 'partition', 'version', 'outcome'],
            lines.length > 0 ? lines : [[name, res.removed.length, res.added.length, null, null, 'nothing to compact']]);
        } else {
          await printRecords(io.stdout, o.format, ['table', 'files_removed', 'files_added', 'versions', 'dropped'],
            [[name, res.removed.length, res.added.length, versions, res.dropped]]);
        }
        if (stop.received) throw interrupted();
      }, stop.signal).catch((e: unknown) => {
        // stopped while waiting for the catalog (another process held it)
        throw stop.signal.aborted && LakeSoulError.is(e) && e.kind === 'Aborted' && e.code !== 'INTERRUPTED' ? interrupted() : e;
      }).finally(() => stop.end());
    });
}

/**
 * The progress bars of work that lists a table's objects and deletes some (`cleanup`, `table drop
 * --purge`): the listing's, shown once 1,000 objects are listed (a big table's listing on S3 takes a
 * while), then the deletes' when there are some and `deleting` is set (not in a dry run).
 */
function deletionBars(label: string, deleting: boolean, quiet: boolean): { onProgress: (p: CleanupProgress) => void; stop: () => void } {
  let listingBar: Progress | undefined;
  let deletingBar: Progress | undefined;
  const shown = { listed: 0, files: 0, bytes: 0 };
  return {
    onProgress(p) {
      if (!p.listed) {
        listingBar ??= startProgress({ label: `${label}: listing`, unit: 'files', quiet });
        listingBar.tick({ files: p.filesListed - shown.listed });
        shown.listed = p.filesListed;
        return;
      }
      listingBar?.stop();
      listingBar = undefined;
      if (!deleting || p.filesToDelete === 0) return;
      deletingBar ??= startProgress({ label, unit: 'files', quiet, total: p.filesToDelete });
      deletingBar.tick({ files: p.filesDeleted - shown.files, bytes: p.bytesDeleted - shown.bytes });
      Object.assign(shown, { files: p.filesDeleted, bytes: p.bytesDeleted });
    },
    stop() { listingBar?.stop(); deletingBar?.stop(); },
  };
}

/** Adds `serve` (Flight), `ui` and `demo`. */
function addServerCommands({ program, io, out, note, quiet }: ProgramParts): void {
  // ---- serve
  program.command('serve').description('serve the tables over Arrow Flight (gRPC) until interrupted; binds 127.0.0.1 (this machine only) without auth by default')
    .option('--host <host>', 'address to bind; anything but loopback needs --token or --user (or --insecure-no-auth)', '127.0.0.1')
    .option('--insecure-no-auth', 'allow a non-loopback --host without --token/--user: anyone who can reach the port reads and writes every table')
    .option('--port <port>', 'port (0 = any free port)', intOption(0, 65535), 8815)
    .option('--token <token>', 'require this bearer token (repeatable; or env LAKESOUL_FLIGHT_TOKENS=a,b)', collect)
    .option('--user <name:password>', 'accept Basic login via Handshake for this user (repeatable)', collect)
    .option('--ticket-secret <secret>', 'HMAC secret for tickets, shared by replicas (else env LAKESOUL_FLIGHT_SECRET, else random)')
    .option('--ticket-ttl <seconds>', 'ticket lifetime', positiveSecondsOption, 3600)
    .option('--drain <seconds>', 'on SIGINT/SIGTERM, how long running calls may finish', secondsOption, 10)
    .option('--memory-budget <MiB>', 'memory the DoGet/DoPut streams may reserve at once; more wait in line (docs/flight.md "Memory")', intOption(16, 1024 * 1024), 1024)
    .option('--max-streams <n>', 'DoGet/DoPut streams running or waiting at once; one more is refused (retry later)', intOption(1, 100_000), 64)
    .option('--memory-wait <seconds>', 'how long a stream waits in line for memory before it is refused (retry later)', positiveSecondsOption, 60)
    .option('--max-message-size <MiB>', 'largest gRPC message received (one DoPut batch), and so the largest single row a DoGet sends', intOption(1, 2047), 64)
    .option('--max-connections-per-host <n>', 'connections one client address holds open at once; one more is closed as it is accepted', intOption(1, 1_000_000), 256)
    .option('--max-connections <n>', 'connections all clients hold open at once', intOption(1, 1_000_000), 4096)
    .option('--connection-idle <seconds>', 'close a connection with no call running for this long (clients connect again)', positiveSecondsOption, 60)
    .action((o) => withContext(program, io, async (ctx) => {
      // grpc-js logs some failures on stderr itself ("E No address added out of total 1 resolved" on a
      // port in use) before the error the command reports: its log is off unless GRPC_VERBOSITY asks
      // for it (read when grpc-js loads)
      if (!process.env.GRPC_VERBOSITY) process.env.GRPC_VERBOSITY = 'NONE';
      const { createFlightServer } = await import('@lakesoul-ts/connector-flight');
      const tokens = o.token ?? (envTokens());
      const users: Record<string, string> | undefined = o.user ? {} : undefined;
      for (const u of (o.user as string[] | undefined) ?? []) {
        const i = u.indexOf(':');
        if (i <= 0) throw new LakeSoulError('InvalidArgument', `--user '${u}': expected name:password`);
        users![u.slice(0, i)] = u.slice(i + 1);
      }
      const exposure = checkServeExposure({ host: o.host, tokens: tokens?.length ?? 0, users: Object.keys(users ?? {}).length, insecureNoAuth: Boolean(o.insecureNoAuth) });
      if (exposure.warning) note(`warning: ${exposure.warning}`);
      const secret: string | undefined = o.ticketSecret ?? process.env.LAKESOUL_FLIGHT_SECRET;
      if (secret !== undefined && Buffer.byteLength(secret) < 16) {
        throw new LakeSoulError('InvalidArgument', `${o.ticketSecret !== undefined ? '--ticket-secret' : 'LAKESOUL_FLIGHT_SECRET'} must be at least 16 bytes long (replicas share it to accept each other's tickets; leave it out for a random one)`);
      }
      const server = createFlightServer({
        lakehouse: ctx.lakehouse, tokens, users,
        ticketSecret: secret ?? randomBytes(32).toString('hex'), ticketTtlMs: o.ticketTtl * 1000,
        memoryBudgetBytes: o.memoryBudget * 1024 * 1024, maxConcurrentStreams: o.maxStreams, memoryWaitMs: o.memoryWait * 1000,
        maxReceiveMessageBytes: o.maxMessageSize * 1024 * 1024,
        maxConnectionsPerHost: o.maxConnectionsPerHost, maxConnections: o.maxConnections, connectionIdleMs: Math.min(Math.max(1, Math.round(o.connectionIdle * 1000)), 2 ** 31 - 1), // grpc-js: 2^31-1 ms and above never close
        startDoGetWorkersAtListen: true, // a server's first parallel read pays no worker start
      });
      // The first SIGINT/SIGTERM drains: running calls get `--drain` seconds, then are cancelled.
      // A second signal while draining stops at once. The handlers are in place before the address
      // is printed: a supervisor that signals as soon as it reads the line must not kill us outright.
      const stopped = new Promise<void>((res) => {
        const stop = (sig: NodeJS.Signals) => {
          note(`${sig}: shutting down (draining running calls for up to ${o.drain} s; again to stop now)...`);
          process.once('SIGINT', () => process.exit(130));
          process.once('SIGTERM', () => process.exit(143));
          res();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const port = await server.listen(o.port, o.host);
      // an IPv6 address is bracketed in a URI (grpc://[::1]:8815)
      const address = `grpc://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
      const unshare = await shareEmbeddedCatalog(ctx, `lakesoul-ts serve on ${address}`, note);
      out(`Arrow Flight on ${address}  (catalog: ${ctx.config.describe}; auth: ${exposure.auth})`);
      await stopped;
      try { await server.close(o.drain * 1000); } finally { await unshare(); }
      note('stopped');
    }));

  // ---- ui
  program.command('ui').description('browse the lakehouse in a local, read-only web UI until interrupted')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', intOption(0, 65535), 8816)
    .option('--token <token>', 'require this bearer token (repeatable; or env LAKESOUL_FLIGHT_TOKENS=a,b, as serve)', collect)
    .option('--insecure-no-auth', 'allow a non-loopback --host without a token (anyone who can reach it reads every table)')
    .action((o) => withContext(program, io, async (ctx) => {
      const { startUi } = await import('@lakesoul-ts/ui');
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new LakeSoulError('InvalidArgument', `--port must be 0..65535 (got ${o.port})`);
      const tokens: string[] | undefined = o.token ?? (envTokens());
      // as serve: a reachable address without a token is refused (it also answered DNS-rebinding pages)
      const exposure = checkServeExposure({ host: o.host, tokens: tokens?.length ?? 0, users: 0, insecureNoAuth: o.insecureNoAuth === true, command: 'ui' });
      const server = await startUi({ lakehouse: ctx.lakehouse, host: o.host, port: o.port, tokens, command: cliName() }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException)?.code !== 'EADDRINUSE') throw e;
        throw new LakeSoulError('Io', `ui cannot listen on ${o.host}:${o.port}: the port is in use (another \`${cliName()} ui\`?); choose another with --port (0: any free port)`, { code: 'PORT_IN_USE', cause: e });
      });
      const unshare = await shareEmbeddedCatalog(ctx, `lakesoul-ts ui on ${server.url}`, note);
      if (exposure.warning) note(`warning: ${exposure.warning}`);
      // Requests are short reads: the first SIGINT/SIGTERM closes the server and its connections at once.
      // The handlers come before the ready line: a script that stops the UI on seeing it killed the
      // process outright when the signal arrived between the two.
      const stopped = new Promise<NodeJS.Signals>((res) => {
        const stop = (s: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          res(s);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      out(`LakeSoul UI on ${server.url}  (catalog: ${ctx.config.describe}${tokens?.length ? ', token required: the page asks for it once per tab (' + server.url + '?token=<token> also works, but the browser keeps that address in its history)' : ''})`);
      const sig = await stopped;
      note(`${sig}: stopping the UI`);
      try { await server.close(); } finally { await unshare(); }
      note('stopped');
    }));

  program.command('catalog-server').description('keep the embedded catalog open for other commands (they start it in the background; see LAKESOUL_CATALOG_SERVER)')
    .option('--idle <seconds>', 'stop after this long without a client', (v) => parseIdleSeconds(v) ?? v, catalogServerIdleSeconds())
    .option('--stop', 'stop the running catalog server of this home')
    .option('--status', 'say whether a catalog server runs for this home')
    .action(async (o) => {
      const dataDir = resolveCliConfig(program.opts<GlobalFlags>()).catalog.dataDir;
      if (!dataDir) throw new LakeSoulError('InvalidArgument', 'catalog-server is for an embedded catalog; this configuration uses a PostgreSQL server, which other processes share already');
      if (o.status || o.stop) refuseUnreadableCatalogDir(dataDir);
      if (o.status) {
        // a corrupt server file: a running server writes its claim again within a second
        for (let i = 0; i < 30 && serverFileCorrupt(dataDir, 0); i++) await new Promise((res) => setTimeout(res, 50));
        if (serverFileCorrupt(dataDir, 0)) {
          out(`no catalog server for ${dataDir}: its server file ${join(dataDir, CATALOG_SERVER_FILE)} is corrupt (it names no process); the next command replaces it and starts one`);
          return;
        }
        const info = readCatalogServerInfo(dataDir);
        // the process a file names must be a catalog server (its start time, command line or socket):
        // a file without a start time could name any process that took the pid since
        const alive = info !== undefined && catalogServerAlive(info, dataDir);
        const starting = alive ? undefined : startingCatalogServer(dataDir);
        out(alive ? `catalog server for ${dataDir}: process ${info.pid} (${info.role ?? 'unknown'}), socket ${info.socket}`
          : starting !== undefined ? `catalog server for ${dataDir}: process ${starting} is starting`
            : `no catalog server for ${dataDir}${info ? ` (process ${info.pid}, which claimed it, is gone or is no catalog server; the next command takes the claim over)` : ''}`);
        return;
      }
      if (o.stop) {
        const pid = await stopCatalogServer(dataDir);
        out(pid === undefined ? `no catalog server for ${dataDir}` : `stopped the catalog server for ${dataDir} (process ${pid})`);
        return;
      }
      if (!(typeof o.idle === 'number' && o.idle > 0)) throw new LakeSoulError('InvalidArgument', `--idle must be a positive number of seconds (got ${quoteInput(String(o.idle))})`, { context: { option: '--idle' } });
      restoreCatalogImage(dataDir); // a new home starts from the shipped catalog image, as with any command
      await runCatalogServer(dataDir, { idleSeconds: o.idle, note: quiet() ? () => {} : note });
    });

  program.command('demo').description('the main job: build a multimodal table, upsert, time travel, train, summarize, serve Flight')
    .option('--dir <dir>', 'where to put the demo lakehouse (default: a fresh temp dir)')
    .option('--images <n>', 'images to generate', (v) => Number(v), 180)
    .option('--epochs <n>', 'training epochs', (v) => Number(v), 4)
    .action(async (o) => {
      const { runDemo } = await import('./demo.js');
      await runDemo({ dir: o.dir, images: o.images, epochs: o.epochs, quiet: quiet(), out, flags: program.opts<GlobalFlags>() });
    });
}


/** Examples shown by `--help` of the commands that do not list their own. */
const EXAMPLES: Record<string, string[]> = {
  init: ['lakesoul-ts init', 'lakesoul-ts --catalog postgres://lakesoul:secret@localhost:5432/lakesoul init'],
  'ns create': ['lakesoul-ts ns create analytics --comment "team analytics"'],
  'ns list': ['lakesoul-ts ns list', 'LAKESOUL_PG_URL=jdbc:postgresql://localhost:5432/lakesoul lakesoul-ts ns list'],
  'ns drop': ['lakesoul-ts ns drop analytics', 'lakesoul-ts ns drop analytics --cascade    # also drops its tables (metadata)'],
  'table list': ['lakesoul-ts table list', 'lakesoul-ts table list -n analytics'],
  'table describe': ['lakesoul-ts table describe events', 'lakesoul-ts table describe events --json'],
  'table drop': ['lakesoul-ts table drop events', 'lakesoul-ts table drop events --purge    # and delete its data files'],
  export: ['lakesoul-ts export events events.parquet', 'lakesoul-ts export events day1.csv --partition date=2024-01-01 --version 0',
    'lakesoul-ts export events sample.jsonl --limit 100    # the first 100 rows'],
  head: ['lakesoul-ts head events', 'lakesoul-ts head events -l 3 --format jsonl'],
  history: ['lakesoul-ts history events', 'lakesoul-ts history events --partition date=2024-01-01 --json'],
  compact: ['lakesoul-ts compact events', 'lakesoul-ts compact events --partition date=2024-01-01'],
  cleanup: ['lakesoul-ts cleanup events                       # dry run: lists what would go',
    'lakesoul-ts cleanup events --retain-since 2024-06-01T00:00:00Z --execute'],
  serve: ['lakesoul-ts serve --port 8815', 'lakesoul-ts serve --token s3cret --user alice:pw --ticket-secret "$SHARED_SECRET"',
    'python examples/flight_read_parallel.py grpc://127.0.0.1:8815 events --token s3cret'],
  ui: ['lakesoul-ts ui                       # then open http://127.0.0.1:8816/', 'lakesoul-ts ui --port 0 --token s3cret   # open the printed URL with ?token=s3cret'],
  'catalog-server': ['lakesoul-ts catalog-server --status', 'lakesoul-ts catalog-server --stop',
    'LAKESOUL_CATALOG_SERVER=off lakesoul-ts table list    # open the catalog in this command only'],
  demo: ['lakesoul-ts demo', 'lakesoul-ts demo --dir ./demo-lake --images 600 --epochs 6'],
};

function addExamples(cmd: Command, prefix = ''): void {
  for (const sub of cmd.commands) {
    const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
    const lines = EXAMPLES[path];
    if (lines) sub.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
    addExamples(sub, path);
  }
}

/**
 * The error message the CLI prints for `e` ({@link messageOf}), where the way out it names is this
 * CLI's own command: a background catalog server that stopped answering (suspended, hung) is stopped
 * with `<the command as typed here, with its --home> catalog-server --stop`, which the library's
 * message (`kill -CONT`, `kill -9` of its process) cannot name.
 */
export function errorMessage(e: unknown): string {
  const message = messageOf(e);
  if (!(e instanceof LakeSoulError) || e.context.serverUnresponsive !== true || e.context.role !== CATALOG_SERVER_ROLE) return message;
  const remedy = e.context.remedy;
  const pid = Number(e.context.pid);
  if (typeof remedy !== 'string' || !message.includes(remedy) || !Number.isInteger(pid)) return message;
  return message.replace(remedy, `If you suspended it (Ctrl-Z, SIGSTOP), resume it (fg, kill -CONT), e.g. \`kill -CONT ${pid}\`; otherwise stop it: ` +
    `\`${cliName()} catalog-server --stop\` (or \`kill -9 ${pid}\` when that does not stop it), and run the command again: the next command serves the catalog itself`);
}

/** Run the CLI with `argv` (without node and script). Returns the exit code; never calls process.exit. */
export async function run(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  setInvocation(argv);
  // `--version`/`-V` before any command prints the CLI's version; after a command, `--version <n>` is
  // that command's own option (time travel), which commander's built-in version flag would swallow.
  const first = argv.findIndex((a) => program.commands.some((c) => c.name() === a));
  const versionAt = argv.findIndex((a) => a === '--version' || a === '-V');
  if (versionAt >= 0 && (first < 0 || versionAt < first)) {
    io.stdout.write(`${cliVersion()}\n`);
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // `--help` and `help`: ok; help shown because no command was given (`lakesoul-ts`, `lakesoul-ts
      // table`), commander's 'commander.help' with exit code 1: a usage error
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.ok;
      // a value an option or argument cannot take (`--version -1`, `--format xml`): invalid input, as
      // the values checked by the commands themselves are (`--limit -1`, `--timestamp x`)
      if (e.code === 'commander.invalidArgument') return ExitCode.invalidInput;
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    // a reader that stopped early (`scan t | head -2`) closed the pipe: a quiet end, as main.ts's handler
    // of the stream's 'error' makes it, also when a write's rejection gets here first
    if ((e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return ExitCode.ok;
    // the stream's 'error' handler in main.ts may have said it already
    if (isOutputFailure(e) && !claimOutputFailureReport()) return exitCodeOf(e);
    io.stderr.write(`error: ${errorMessage(e)}\n`);
    if (process.env.LAKESOUL_DEBUG && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    return exitCodeOf(e);
  }
}

