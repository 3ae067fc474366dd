/**
 * Tables and Arrow data -> Danfo DataFrames. Conversion follows docs/dataframes.md; dtypes are always
 * passed to Danfo explicitly (its inference would read `"123"` strings as int32 and nullable booleans
 * as float32).
 */
import { util } from 'apache-arrow';
import type { RecordBatch, Table } from 'apache-arrow';
import { abortedErrorFor, LakeSoulError, refuseUnknownOptions, throwIfAborted } from '@lakesoul-ts/meta';
import { SCAN_OPTIONS, type ScanOptions, type ScanPlan } from '@lakesoul-ts/io';
import { decodeRows, planDecode } from './arrow-decoder.js';
import type { DecodePlan } from './arrow-decoder.js';
import { loadDanfo } from './danfo-loader.js';
import type { DanfoConvertOptions, DanfoIncrementalOptions, DanfoModule, DanfoReadOptions, DanfoTable, FrameOf, ReadDataFrameOptions } from './danfo-options.js';

const CONVERT_KEYS = ['dfd', 'int64', 'timestamps', 'dates', 'decimals', 'numericNulls', 'binary', 'nested', 'onWarning'] as const;

const READ_OPTIONS: readonly string[] = [...SCAN_OPTIONS, ...CONVERT_KEYS, 'onResetPartitions'];

type ResetPartitionsCallback = DanfoIncrementalOptions['onResetPartitions'];

function split(options: ReadDataFrameOptions, table: DanfoTable): { scan: ScanOptions; convert: DanfoConvertOptions; dfd?: DanfoModule; onReset: ResetPartitionsCallback } {
  refuseUnknownOptions(options, READ_OPTIONS, `reading table "${table.info.name}" into a DataFrame`);
  const scan: Record<string, unknown> = { ...options };
  for (const k of CONVERT_KEYS) delete scan[k];
  delete scan.onResetPartitions;
  const { dfd, onResetPartitions: onReset, ...convert } = options;
  if (onReset !== undefined && typeof onReset !== 'function') {
    throw new LakeSoulError('InvalidArgument', `${readingInto(table.info.name)}: onResetPartitions must be a function receiving the list of partitions to replace, got ${typeof onReset}`, {
      code: 'INVALID_OPTION_VALUE', context: { table: table.info.name, option: 'onResetPartitions' },
    });
  }
  return { scan: scan as ScanOptions, convert, dfd, onReset };
}

/** Partitions a refusal names before it says how many more there are. */
const RESET_PARTITIONS_SHOWN = 10;

/**
 * An incremental read's reset partitions (rewritten or dropped within the range: their rows are each
 * partition's whole state at the range's end, not changes) go to `onReset`; without it, a read that
 * has any is refused naming them, as the CLI warns and the Spark source refuses (docs/flight.md):
 * a frame applied as upserts would keep the rows those partitions lost.
 */
async function takeResetPartitions(plan: ScanPlan, scan: ScanOptions, onReset: ResetPartitionsCallback, table: DanfoTable): Promise<void> {
  if (scan.incremental === undefined) return;
  const reset = plan.toJSON().resetPartitions ?? [];
  if (onReset) {
    await onReset([...reset]);
    return;
  }
  if (reset.length === 0) return;
  const name = table.info.name;
  const shown = reset.slice(0, RESET_PARTITIONS_SHOWN).join(', ') + (reset.length > RESET_PARTITIONS_SHOWN ? ` and ${reset.length - RESET_PARTITIONS_SHOWN} more` : '');
  throw new LakeSoulError('InvalidArgument',
    `${readingInto(name)}: the incremental range rewrote (update, delete, overwrite) or dropped ${reset.length === 1 ? 'partition' : `${reset.length} partitions`} ${shown}. ` +
    'Their rows in the frame would be each partition\'s whole state at the range\'s end (none when dropped), not changes: applied as upserts, the rows those partitions lost would stay. ' +
    'Pass onResetPartitions: (partitions) => { ... } to receive the list and replace what you hold of those partitions (docs/dataframes.md, incremental reads)',
    { code: 'RESET_PARTITIONS_NOT_ACKNOWLEDGED', context: { table: name, namespace: table.info.namespace, partitions: reset } });
}

/**
 * Frames built with `numericNulls: 'nan'`: their float columns' nulls are NaN, which `writeDataFrame`
 * writes as NaN unless told `nan: 'null'` (it warns when given such a frame without `nan`). Frames
 * Danfo derives from them (`query`, `fillNa`, ...) are other objects and are not recognised.
 */
const nanNullFrames = new WeakSet<object>();

/** Whether `df` is a frame the connector built with `numericNulls: 'nan'` (see {@link nanNullFrames}). */
export function readWithNanNulls(df: object): boolean {
  return nanNullFrames.has(df);
}

function frame<M extends DanfoModule>(dfd: M, rows: unknown[][], decoded: Pick<DecodePlan, 'names' | 'dtypes'>, convert: DanfoConvertOptions): FrameOf<M> {
  const df = new dfd.DataFrame(rows, { columns: decoded.names, dtypes: decoded.dtypes }) as FrameOf<M>;
  if (convert.numericNulls === 'nan') nanNullFrames.add(df as object);
  return df;
}

/** What an aborted read is called in its error: `reading table "t" into a DataFrame`. */
const readingInto = (table: string): string => `reading table "${table}" into a DataFrame`;

/**
 * Convert an Arrow Table or RecordBatch to a Danfo DataFrame (types per docs/dataframes.md).
 * Throws a `LakeSoulError` naming the column and row for a value with no exact JS form (e.g. an int64
 * beyond 2^53 under the default `int64: 'error'`).
 */
export async function toDataFrame<M extends DanfoModule = DanfoModule>(
  input: Table | RecordBatch,
  options: DanfoReadOptions & { dfd?: M } = {},
): Promise<FrameOf<M>> {
  if (!util.isArrowTable(input) && !util.isArrowRecordBatch(input)) {
    throw new LakeSoulError('InvalidArgument', 'toDataFrame expects an Arrow Table or RecordBatch', { code: 'INVALID_INPUT' });
  }
  const { dfd, ...convert } = options;
  const mod = (await loadDanfo(dfd)) as M;
  const plan = planDecode(input.schema, convert);
  const rows: unknown[][] = [];
  decodeRows(input, plan, rows);
  return frame(mod, rows, plan, convert);
}

/**
 * Read a table (any scan: partitions, columns, filter, version/timestamp, incremental range) into one
 * DataFrame. Dropped binary columns are reported through `onWarning`.
 */
export async function readDataFrame<M extends DanfoModule = DanfoModule>(
  table: DanfoTable,
  options: ReadDataFrameOptions & { dfd?: M } = {},
): Promise<FrameOf<M>> {
  const { scan, convert, dfd, onReset } = split(options, table);
  const name = table.info.name;
  throwIfAborted(scan.signal, readingInto(name), { table: name });
  const mod = (await loadDanfo(dfd)) as M;
  const plan = await table.scan(scan);
  await takeResetPartitions(plan, scan, onReset, table);
  const context = { table: name, namespace: table.info.namespace, tableColumns: table.info.schema.fields.map((f) => f.name) };
  const decodePlan = planDecode(plan.schema, convert, context);
  const rows: unknown[][] = [];
  try {
    for await (const batch of plan.read({ signal: scan.signal, batchSize: scan.batchSize, prefetchBytes: scan.prefetchBytes })) {
      throwIfAborted(scan.signal, readingInto(name), { table: name });
      decodeRows(batch, decodePlan, rows, rows.length, context);
    }
  } catch (e) {
    throw abortedErrorFor(e, scan.signal, readingInto(name), { table: name });
  }
  return frame(mod, rows, decodePlan, convert);
}

/**
 * Read a table as a stream of DataFrames, one per Arrow batch (`batchSize` rows, default 8192), for
 * tables larger than memory. Stopping early (`break`) stops the scan and its prefetch.
 */
export async function* streamDataFrames<M extends DanfoModule = DanfoModule>(
  table: DanfoTable,
  options: ReadDataFrameOptions & { dfd?: M } = {},
): AsyncGenerator<FrameOf<M>, void, undefined> {
  const { scan, convert, dfd, onReset } = split(options, table);
  const name = table.info.name;
  throwIfAborted(scan.signal, readingInto(name), { table: name });
  const mod = (await loadDanfo(dfd)) as M;
  const plan = await table.scan(scan);
  await takeResetPartitions(plan, scan, onReset, table);
  const context = { table: name, namespace: table.info.namespace, tableColumns: table.info.schema.fields.map((f) => f.name) };
  const decodePlan = planDecode(plan.schema, convert, context);
  let rowBase = 0;
  const batches = plan.read({ signal: scan.signal, batchSize: scan.batchSize, prefetchBytes: scan.prefetchBytes })[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = await batches.next();
        throwIfAborted(scan.signal, readingInto(name), { table: name });
      } catch (e) {
        throw abortedErrorFor(e, scan.signal, readingInto(name), { table: name });
      }
      if (next.done) return;
      const rows: unknown[][] = [];
      decodeRows(next.value, decodePlan, rows, rowBase, context);
      rowBase += rows.length;
      yield frame(mod, rows, decodePlan, convert);
    }
  } finally {
    // Stopping early (break, return, error) stops the scan and its prefetch.
    await batches.return?.();
  }
}
