/**
 * The `lakesoul-ts` command tree. Each command opens the lakehouse from the resolved configuration
 * (see cli-config.ts), does its work, prints to stdout (data) and stderr (progress, notes), and closes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import { type RecordBatch, type Schema } from 'apache-arrow';
import { LakeSoulError, arrowSchemaToJson } from '@lakesoul-ts/meta';
import { encodeParquet, importImages, toFileUri, type LakeSoulTable, type ScanOptions } from '@lakesoul-ts/io';
import { openContext, exitCodeOf, messageOf, ExitCode, type CliContext } from './cli-context.js';
import type { GlobalFlags } from './cli-config.js';
import { parseSchemaSpec, formatType, TYPE_NAMES } from './schema-spec.js';
import { BatchPrinter, type OutputFormat } from './output-format.js';
import { startProgress, formatBytes } from './progress.js';
import { detectFormat, inferFileSchema, readInput, type InputFormat } from './table-input.js';

/** Streams a command writes to (injectable for tests). */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

function parsePartitionFlags(values: string[] | undefined): Record<string, string | null> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new LakeSoulError('InvalidArgument', `--partition '${v}': expected column=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function parseTime(v: string, flag: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new LakeSoulError('InvalidArgument', `${flag} '${v}': expected epoch milliseconds or an ISO 8601 time`);
  return ms;
}

/** Scan flags shared by scan, head and export. */
function addScanOptions(cmd: Command): Command {
  return cmd
    .option('-p, --partition <col=value>', 'only this range-partition value (repeatable)', collect)
    .option('-c, --columns <a,b,...>', 'columns to output', list)
    .option('-w, --filter <expr>', `row filter, e.g. "label = 'cat' and score >= 0.5"`)
    .option('--version <n>', 'read the partition version n (time travel)', (v) => Number(v))
    .option('--timestamp <time>', 'read as of a time (ISO 8601 or epoch ms; strict <)')
    .option('--incremental <start..end>', 'changes committed in [start, end) (ISO or epoch ms); keeps CDC deletes');
}

function scanOptionsFrom(o: Record<string, unknown>): ScanOptions {
  const opts: ScanOptions = {};
  const parts = parsePartitionFlags(o.partition as string[] | undefined);
  if (parts) opts.partitions = parts;
  if (o.columns) opts.columns = o.columns as string[];
  if (o.filter) opts.filter = o.filter as string;
  const chosen = ['version', 'timestamp', 'incremental'].filter((k) => o[k] !== undefined);
  if (chosen.length > 1) throw new LakeSoulError('InvalidArgument', `choose one of --version, --timestamp, --incremental (got ${chosen.join(', ')})`);
  if (o.version !== undefined) {
    if (!Number.isInteger(o.version) || (o.version as number) < 0) throw new LakeSoulError('InvalidArgument', `--version must be a non-negative integer`);
    opts.version = o.version as number;
  }
  if (o.timestamp !== undefined) opts.timestamp = parseTime(o.timestamp as string, '--timestamp');
  if (o.incremental !== undefined) {
    const [a, b] = String(o.incremental).split('..');
    if (!a || !b) throw new LakeSoulError('InvalidArgument', `--incremental '${o.incremental}': expected start..end`);
    opts.incremental = { start: parseTime(a, '--incremental'), end: parseTime(b, '--incremental') };
  }
  return opts;
}

async function withContext(program: Command, io: CliIO, fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  const ctx = await openContext(program.opts<GlobalFlags>(), io);
  try { await fn(ctx); } finally { await ctx.lakehouse.close(); }
}

async function openTable(ctx: CliContext, name: string, ns?: string): Promise<LakeSoulTable> {
  return ctx.lakehouse.table(name, ns ?? 'default');
}

function describeSchema(schema: Schema, t: LakeSoulTable['info']): string {
  const w = Math.max(...schema.fields.map((f) => f.name.length));
  return schema.fields.map((f) => {
    const tags = [
      t.primaryKeys.includes(f.name) ? 'primary key' : '',
      t.rangePartitions.includes(f.name) ? 'range partition' : '',
      t.cdcColumn === f.name ? 'cdc' : '',
      f.metadata.get('lakesoul.blob') === 'true' || (t.properties.lakesoul_blob_columns ?? '').split(',').includes(f.name) ? 'blob reference' : '',
    ].filter(Boolean);
    return `  ${f.name.padEnd(w)}  ${formatType(f.type)}${f.nullable ? '' : ' not null'}${tags.length ? `  (${tags.join(', ')})` : ''}`;
  }).join('\n');
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
Examples:
  $ lakesoul-ts init
  $ lakesoul-ts table create events --schema "id:int64!,date:date32!,kind:utf8,score:float64" --partition-by date --primary-key id --buckets 4
  $ lakesoul-ts import events events.csv --mode upsert
  $ lakesoul-ts scan events --partition date=2024-01-01 --filter "score > 0.5" --format jsonl
  $ lakesoul-ts history events
  $ LAKESOUL_PG_URL=jdbc:postgresql://localhost:5432/lakesoul LAKESOUL_PG_USERNAME=lakesoul LAKESOUL_PG_PASSWORD=... lakesoul-ts table list`);
  const quiet = () => Boolean(program.opts<GlobalFlags>().quiet);

  program.command('init')
    .description('create the catalog schema (idempotent) and the warehouse directory; prints where they are')
    .action(() => withContext(program, io, async (ctx) => {
      if (ctx.config.warehouse.startsWith('file://')) await mkdir(new URL(ctx.config.warehouse), { recursive: true });
      out(`catalog:   ${ctx.config.describe}`);
      out(`warehouse: ${ctx.config.warehouse}`);
    }));

  // ---- namespaces
  const ns = program.command('ns').description('namespaces: create, list, drop');
  ns.command('create <name>').description('create a namespace')
    .option('--comment <text>', 'comment').option('--if-not-exists', 'no error when it exists')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      await ctx.lakehouse.catalog.createNamespace(name, { comment: o.comment, ifNotExists: o.ifNotExists });
      out(`namespace '${name}' created`);
    }));
  ns.command('list').description('list namespaces').action(() => withContext(program, io, async (ctx) => {
    for (const n of await ctx.lakehouse.catalog.listNamespaces()) out(n.comment ? `${n.name}\t${n.comment}` : n.name);
  }));
  ns.command('drop <name>').description('drop a namespace (refuses a non-empty one unless --cascade)')
    .option('--cascade', 'also drop its tables (metadata only)')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      await ctx.lakehouse.catalog.dropNamespace(name, { cascade: o.cascade });
      out(`namespace '${name}' dropped`);
    }));

  // ---- tables
  const table = program.command('table').description('tables: create, list, describe, drop');
  table.command('create <name>')
    .description(`create a table. Schema: --schema "col:type[!],..." (! = not null), --schema @file.json, or --from <data file>.\nTypes: ${TYPE_NAMES}`)
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-s, --schema <spec|@file>', 'schema spec or @file (Arrow-Java JSON or [{name,type,nullable}])')
    .option('--from <file>', 'infer the schema from a CSV, JSONL or Parquet file')
    .option('--partition-by <cols>', 'range-partition columns', list)
    .option('--primary-key <cols>', 'primary-key columns (enables upserts and merge-on-read)', list)
    .option('--buckets <n>', 'hash buckets for primary-key tables (power of two)', (v) => Number(v))
    .option('--cdc-column <col>', 'CDC change column (utf8: insert|update|delete)')
    .option('--blob-columns <cols>', 'columns that reference files (read as bytes)', list)
    .option('--property <k=v>', 'table property (repeatable)', collect)
    .option('--path <uri>', 'table location (default <warehouse>/<namespace>/<name>)')
    .option('--if-not-exists', 'no error when it exists')
    .addHelpText('after', '\nExample:\n  $ lakesoul-ts table create images --schema "id:int64!,date:date32!,label:utf8,image_path:utf8" --partition-by date --primary-key id --blob-columns image_path')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      let schema: Schema;
      if (o.schema && o.from) throw new LakeSoulError('InvalidArgument', 'give either --schema or --from, not both');
      if (o.schema) {
        const spec = String(o.schema);
        schema = parseSchemaSpec(spec.startsWith('@') ? await readFile(spec.slice(1), 'utf8').catch(() => {
          throw new LakeSoulError('NotFound', `schema file not found: ${spec.slice(1)}`, { context: { file: spec.slice(1) } });
        }) : spec);
      } else if (o.from) {
        schema = await inferFileSchema(o.from, detectFormat(o.from));
      } else {
        throw new LakeSoulError('InvalidArgument', `table create ${name}: a schema is needed: --schema "id:int64!,..." or --from <file>`);
      }
      const properties: Record<string, string> = {};
      for (const p of (o.property as string[] | undefined) ?? []) {
        const i = p.indexOf('=');
        if (i <= 0) throw new LakeSoulError('InvalidArgument', `--property '${p}': expected key=value`);
        properties[p.slice(0, i)] = p.slice(i + 1);
      }
      const t = await ctx.lakehouse.createTable(name, schema, {
        namespace: o.namespace, rangePartitions: o.partitionBy, primaryKeys: o.primaryKey, hashBucketNum: o.buckets,
        cdcColumn: o.cdcColumn, blobColumns: o.blobColumns, properties, path: o.path, ifNotExists: o.ifNotExists,
      });
      out(`table '${t.info.namespace}.${t.info.name}' created at ${t.info.path}`);
      out(describeSchema(t.info.schema, t.info));
    }));
  table.command('list').description('list tables').option('-n, --namespace <ns>', 'only this namespace')
    .action((o) => withContext(program, io, async (ctx) => {
      const tables = await ctx.lakehouse.catalog.listTables(o.namespace);
      const printer = new BatchPrinter(io.stdout, 'table');
      const rows = tables.map((t) => [t.namespace, t.name, t.primaryKeys.join(',') || '-', t.rangePartitions.join(',') || '-', String(t.hashBucketNum), t.path]);
      printer.end();
      if (rows.length === 0) { note('no tables'); return; }
      const head = ['namespace', 'table', 'primary key', 'partitions', 'buckets', 'path'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      out(head.map((h, i) => h.padEnd(widths[i]!)).join('  ').trimEnd());
      for (const r of rows) out(r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
    }));
  table.command('describe <name>').description('schema, keys, partitions, properties and latest versions')
    .option('-n, --namespace <ns>', 'namespace', 'default').option('--json', 'print the catalog row as JSON')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      const t = await openTable(ctx, name, o.namespace);
      const parts = await ctx.lakehouse.catalog.listPartitions(t.info.tableId);
      if (o.json) {
        out(JSON.stringify({ ...t.info, schema: JSON.parse(arrowSchemaToJson(t.info.schema)), schemaJson: undefined, partitions: parts }, null, 2));
        return;
      }
      out(`table ${t.info.namespace}.${t.info.name}  (${t.info.tableId})`);
      out(`path        ${t.info.path}`);
      out(`primary key ${t.info.primaryKeys.join(', ') || '(none)'}${t.info.primaryKeys.length ? `, ${t.info.hashBucketNum} buckets` : ''}`);
      out(`partitions  ${t.info.rangePartitions.join(', ') || '(none)'}`);
      out('schema');
      out(describeSchema(t.info.schema, t.info));
      out('properties');
      for (const [k, v] of Object.entries(t.info.properties)) out(`  ${k} = ${v}`);
      out(`partitions (${parts.length})`);
      for (const p of parts) out(`  ${p.partitionDesc}  version ${p.version}  ${p.commitOp}  ${new Date(p.timestamp).toISOString()}`);
    }));
  table.command('drop <name>').description('drop a table (metadata; data files too with --purge)')
    .option('-n, --namespace <ns>', 'namespace', 'default').option('--purge', 'also delete the data files')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      await ctx.lakehouse.dropTable(name, { namespace: o.namespace, purge: o.purge });
      out(`table '${o.namespace}.${name}' dropped${o.purge ? ' and its data files deleted' : ''}`);
    }));

  // ---- import / export
  program.command('import <table> <files...>')
    .description('import CSV, JSONL or Parquet files into a table, or an image folder (--format images; creates the table when missing)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('-f, --format <fmt>', 'input format (default: from the extension)').choices(['csv', 'jsonl', 'parquet', 'images']))
    .addOption(new Option('-m, --mode <mode>', 'append, or upsert for primary-key tables').choices(['append', 'upsert']))
    .option('--delimiter <c>', 'CSV delimiter', ',')
    .option('--batch-rows <n>', 'rows per batch', (v) => Number(v), 65536)
    .option('--copy', 'images: copy the files under the table path instead of referencing them in place')
    .addHelpText('after', '\nExamples:\n  $ lakesoul-ts import events day1.csv day2.csv --mode upsert\n  $ lakesoul-ts import pets ./photos --format images    # <root>/<label>/<file>')
    .action((name: string, files: string[], o) => withContext(program, io, async (ctx) => {
      if (o.format === 'images') {
        for (const dir of files) {
          const progress = startProgress({ label: `import ${dir}`, unit: 'files', quiet: quiet() });
          try {
            const r = await importImages(ctx.lakehouse, name, { folder: toFileUri(resolve(dir)) }, { namespace: o.namespace, mode: o.copy ? 'copy' : 'reference' });
            progress.tick({ files: r.rows, bytes: r.bytesCopied });
            out(`imported ${r.rows} images from ${dir} into ${r.table.info.namespace}.${r.table.info.name}${o.copy ? ' (copied under the table path)' : ' (referenced in place)'}`);
          } finally { progress.stop(); }
        }
        return;
      }
      const t = await openTable(ctx, name, o.namespace);
      for (const file of files) {
        const fmt: InputFormat = detectFormat(file, o.format);
        const progress = startProgress({ label: `import ${file}`, unit: 'bytes', quiet: quiet() });
        let rows = 0;
        let last = 0;
        const batches = (async function* () {
          for await (const b of readInput(file, fmt, t.info.schema, {
            batchRows: o.batchRows, delimiter: o.delimiter === '\\t' ? '\t' : o.delimiter,
            onBytes: (n) => { progress.tick({ bytes: n - last }); last = n; },
          })) { rows += b.numRows; progress.tick({ rows: b.numRows }); yield b; }
        })();
        try {
          const res = await t.write(batches, { mode: o.mode });
          progress.tick({ files: res.files.length });
          progress.stop();
          out(`imported ${rows} rows from ${file} into ${t.info.namespace}.${t.info.name}: ${res.files.length} files, versions ${[...res.versions].map(([p, v]) => `${p}@${v}`).join(' ')}`);
        } catch (e) { progress.stop(); throw e; }
      }
    }));

  addScanOptions(program.command('export <table> <output>')
    .description('export a table (or a partition, snapshot or increment of it) to Parquet, CSV or JSONL'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('-f, --format <fmt>', 'output format (default: from the extension)').choices(['parquet', 'csv', 'jsonl']))
    .action((name: string, output: string, o) => withContext(program, io, async (ctx) => {
      const t = await openTable(ctx, name, o.namespace);
      const fmt = (o.format ?? output.split('.').pop()) as string;
      if (!['parquet', 'csv', 'jsonl'].includes(fmt)) throw new LakeSoulError('InvalidArgument', `cannot tell the format of ${output}: use --format parquet|csv|jsonl`);
      const plan = await t.scan(scanOptionsFrom(o));
      const progress = startProgress({ label: `export ${name}`, unit: 'rows', quiet: quiet() });
      let rows = 0;
      if (fmt === 'parquet') {
        const batches: RecordBatch[] = [];
        for await (const b of plan.read()) { batches.push(b); rows += b.numRows; progress.tick({ rows: b.numRows }); }
        const { Table } = await import('apache-arrow');
        const bytes = encodeParquet(batches.length ? new Table(batches) : new Table(plan.schema));
        await writeFile(output, bytes);
        progress.tick({ bytes: bytes.length, files: 1 });
      } else {
        const stream = createWriteStream(output);
        const printer = new BatchPrinter(stream, fmt as OutputFormat);
        for await (const b of plan.read()) { printer.write(b); rows += b.numRows; progress.tick({ rows: b.numRows }); }
        await new Promise<void>((res, rej) => stream.end((err?: Error | null) => (err ? rej(err) : res())));
        progress.tick({ files: 1 });
      }
      progress.stop();
      out(`exported ${rows} rows to ${output}`);
    }));

  // ---- scan / head
  const scanAction = (limitDefault?: number) => (name: string, o: Record<string, unknown>) => withContext(program, io, async (ctx) => {
    const t = await openTable(ctx, name, o.namespace as string);
    const plan = await t.scan(scanOptionsFrom(o));
    const limit = o.limit !== undefined ? Number(o.limit) : limitDefault;
    const printer = new BatchPrinter(io.stdout, (o.format as OutputFormat) ?? 'table');
    const progress = startProgress({ label: `scan ${name}`, unit: 'rows', quiet: quiet() || o.format === 'table' });
    let rows = 0;
    for await (const b of plan.read()) {
      const take = limit === undefined ? b : b.slice(0, Math.min(b.numRows, limit - rows));
      printer.write(take);
      rows += take.numRows;
      progress.tick({ rows: take.numRows });
      if (limit !== undefined && rows >= limit) break;
    }
    progress.stop();
    printer.end(plan.schema);
    if (o.format === 'table' || o.format === undefined) note(`(${rows} row${rows === 1 ? '' : 's'})`);
  });
  addScanOptions(program.command('scan <table>').description('print rows (merged on read) as a table, JSONL or CSV'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('--format <fmt>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'))
    .option('--limit <n>', 'stop after n rows')
    .addHelpText('after', `\nExamples:\n  $ lakesoul-ts scan events --partition date=2024-01-01 --columns id,kind\n  $ lakesoul-ts scan events --version 0 --format jsonl\n  $ lakesoul-ts scan events --incremental 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z`)
    .action(scanAction());
  addScanOptions(program.command('head <table>').description('print the first rows'))
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-l, --limit <n>', 'rows', '10')
    .addOption(new Option('--format <fmt>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'))
    .action(scanAction(10));

  // ---- history / maintenance
  program.command('history <table>').description('versions per partition: commit op, time, files and rows (rows before merge)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-p, --partition <desc>', 'only this partition_desc (e.g. date=2024-01-01)')
    .option('--json', 'JSONL output')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      const t = await openTable(ctx, name, o.namespace);
      const versions = await t.history(o.partition ? { partitionDesc: o.partition } : undefined);
      const rows: string[][] = [];
      for (const v of versions) {
        const plan = await (await t.scan({ partitions: [v.partitionDesc], version: v.version })).withRowCounts();
        const files = plan.splits.reduce((n, s) => n + s.files.length, 0);
        const count = plan.splits.reduce((n, s) => n + (s.rowCount ?? 0), 0);
        if (o.json) out(JSON.stringify({ partition: v.partitionDesc, version: v.version, op: v.commitOp, time: new Date(v.timestamp).toISOString(), files, rows: count }));
        else rows.push([v.partitionDesc, String(v.version), v.commitOp, new Date(v.timestamp).toISOString(), String(files), String(count)]);
      }
      if (o.json) return;
      const head = ['partition', 'version', 'op', 'time', 'files', 'rows'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      out(head.map((h, i) => h.padEnd(widths[i]!)).join('  ').trimEnd());
      for (const r of rows) out(r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
    }));
  program.command('compact <table>').description('merge each partition (or one) into one sorted file per bucket')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-p, --partition <col=value>', 'only this partition (repeatable)', collect)
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      const t = await openTable(ctx, name, o.namespace);
      const progress = startProgress({ label: `compact ${name}`, unit: 'files', quiet: quiet() });
      const res = await t.compact({ partitions: parsePartitionFlags(o.partition) });
      progress.tick({ files: res.added.length });
      progress.stop();
      out(`compacted ${name}: ${res.removed.length} files into ${res.added.length}; versions ${[...res.versions].map(([p, v]) => `${p}@${v}`).join(' ') || '(nothing to compact)'}`);
    }));
  program.command('cleanup <table>').description('delete data files no longer referenced (dry run unless --execute)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--retain-since <time>', 'keep the files of every version in force at or after this time (ISO or epoch ms; default: 7 days ago)')
    .option('--orphan-window <minutes>', 'only delete unreferenced files older than this', (v) => Number(v), 60)
    .option('--execute', 'really delete (default is a dry run)')
    .action((name: string, o) => withContext(program, io, async (ctx) => {
      const t = await openTable(ctx, name, o.namespace);
      const report = await t.cleanup({
        retainSince: o.retainSince ? parseTime(o.retainSince, '--retain-since') : undefined,
        orphanSafetyWindowMs: o.orphanWindow * 60_000, dryRun: !o.execute,
      });
      for (const f of report.files) out(`${o.execute ? 'deleted' : 'would delete'}  ${f.path}  (${f.reason}, ${formatBytes(f.size)})`);
      out(`${report.files.length} file(s), ${formatBytes(report.bytes)} ${o.execute ? 'deleted' : 'would be deleted; run again with --execute to delete them'}`);
    }));

  // ---- serve
  program.command('serve').description('serve the tables over Arrow Flight (gRPC) until interrupted')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', (v) => Number(v), 8815)
    .option('--token <token>', 'require this bearer token (repeatable; or env LAKESOUL_FLIGHT_TOKENS=a,b)', collect)
    .option('--user <name:password>', 'accept Basic login via Handshake for this user (repeatable)', collect)
    .option('--ticket-secret <secret>', 'HMAC secret for tickets, shared by replicas (else env LAKESOUL_FLIGHT_SECRET, else random)')
    .option('--ticket-ttl <seconds>', 'ticket lifetime', (v) => Number(v), 3600)
    .option('--drain <seconds>', 'on SIGINT/SIGTERM, how long running calls may finish', (v) => Number(v), 10)
    .action((o) => withContext(program, io, async (ctx) => {
      const { createFlightServer } = await import('@lakesoul-ts/connector-flight');
      const tokens = o.token ?? (process.env.LAKESOUL_FLIGHT_TOKENS ? process.env.LAKESOUL_FLIGHT_TOKENS.split(',') : undefined);
      const users: Record<string, string> | undefined = o.user ? {} : undefined;
      for (const u of (o.user as string[] | undefined) ?? []) {
        const i = u.indexOf(':');
        if (i <= 0) throw new LakeSoulError('InvalidArgument', `--user '${u}': expected name:password`);
        users![u.slice(0, i)] = u.slice(i + 1);
      }
      const server = createFlightServer({
        lakehouse: ctx.lakehouse, tokens, users,
        ticketSecret: o.ticketSecret ?? process.env.LAKESOUL_FLIGHT_SECRET ?? randomBytes(32).toString('hex'), ticketTtlMs: o.ticketTtl * 1000,
      });
      const port = await server.listen(o.port, o.host);
      out(`Arrow Flight on grpc://${o.host}:${port}  (catalog: ${ctx.config.describe}${tokens || users ? ', auth on' : ''})`);
      // The first SIGINT/SIGTERM drains: running calls get `--drain` seconds, then are cancelled.
      // A second signal while draining stops at once.
      await new Promise<void>((res) => {
        const stop = (sig: NodeJS.Signals) => {
          note(`${sig}: shutting down (draining running calls for up to ${o.drain} s; again to stop now)...`);
          process.once('SIGINT', () => process.exit(130));
          process.once('SIGTERM', () => process.exit(143));
          res();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close(o.drain * 1000);
      note('stopped');
    }));

  // ---- ui
  program.command('ui').description('browse the lakehouse in a local, read-only web UI until interrupted')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', (v) => Number(v), 8816)
    .option('--token <token>', 'require this bearer token (repeatable; or env LAKESOUL_FLIGHT_TOKENS=a,b, as serve)', collect)
    .action((o) => withContext(program, io, async (ctx) => {
      const { startUi } = await import('@lakesoul-ts/ui');
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new LakeSoulError('InvalidArgument', `--port must be 0..65535 (got ${o.port})`);
      const tokens: string[] | undefined = o.token ?? (process.env.LAKESOUL_FLIGHT_TOKENS ? process.env.LAKESOUL_FLIGHT_TOKENS.split(',') : undefined);
      const server = await startUi({ lakehouse: ctx.lakehouse, host: o.host, port: o.port, tokens });
      if (!tokens?.length && !/^(127\.|localhost$|::1$|\[::1\]$)/.test(o.host)) note(`warning: the UI listens on ${o.host} without a token: anyone who can reach it reads every table (add --token)`);
      out(`LakeSoul UI on ${server.url}  (catalog: ${ctx.config.describe}${tokens?.length ? ', token required: open ' + server.url + '?token=<token>' : ''})`);
      // Requests are short reads: the first SIGINT/SIGTERM closes the server and its connections at once.
      const sig = await new Promise<NodeJS.Signals>((res) => {
        const stop = (s: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          res(s);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      note(`${sig}: stopping the UI`);
      await server.close();
      note('stopped');
    }));

  program.command('demo').description('the main job: build a multimodal table, upsert, time travel, train, summarize, serve Flight')
    .option('--dir <dir>', 'where to put the demo lakehouse (default: a fresh temp dir)')
    .option('--images <n>', 'images to generate', (v) => Number(v), 180)
    .option('--epochs <n>', 'training epochs', (v) => Number(v), 4)
    .action(async (o) => {
      const { runDemo } = await import('./demo.js');
      await runDemo({ dir: o.dir, images: o.images, epochs: o.epochs, quiet: quiet(), out, flags: program.opts<GlobalFlags>() });
    });

  addExamples(program);
  return program;
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
  export: ['lakesoul-ts export events events.parquet', 'lakesoul-ts export events day1.csv --partition date=2024-01-01 --version 0'],
  head: ['lakesoul-ts head events', 'lakesoul-ts head events -l 3 --format jsonl'],
  history: ['lakesoul-ts history events', 'lakesoul-ts history events --partition date=2024-01-01 --json'],
  compact: ['lakesoul-ts compact events', 'lakesoul-ts compact events --partition date=2024-01-01'],
  cleanup: ['lakesoul-ts cleanup events                       # dry run: lists what would go',
    'lakesoul-ts cleanup events --retain-since 2024-06-01T00:00:00Z --execute'],
  serve: ['lakesoul-ts serve --port 8815', 'lakesoul-ts serve --token s3cret --user alice:pw --ticket-secret "$SHARED_SECRET"',
    'python examples/flight_read_parallel.py grpc://127.0.0.1:8815 events --token s3cret'],
  ui: ['lakesoul-ts ui                       # then open http://127.0.0.1:8816/', 'lakesoul-ts ui --port 0 --token s3cret   # open the printed URL with ?token=s3cret'],
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

/** Run the CLI with `argv` (without node and script). Returns the exit code; never calls process.exit. */
export async function run(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.ok;
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr.write(`error: ${messageOf(e)}\n`);
    if (process.env.LAKESOUL_DEBUG && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    return exitCodeOf(e);
  }
}

