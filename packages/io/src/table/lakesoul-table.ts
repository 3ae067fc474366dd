/**
 * One LakeSoul table: writes, scans, deletes, compaction, cleanup and history, bound to a catalog and a
 * store registry (see {@link Lakehouse}).
 */
import { RecordBatch, Schema, Table, Utf8, type Data, type DataType, type Field, type Vector } from 'apache-arrow';
import {
  LakeSoulError,
  decodePartitionDesc,
  encodePartitionDesc,
  hasRangeTextVariants,
  isNullRangeText,
  partitionDescKey,
  locationKey,
  optionNames,
  refuseNonBooleanOptions,
  refuseOptionValue,
  refuseUnknownOptions,
  type Catalog,
  type CommitResult,
  type PartitionSnapshot,
  type PartitionVersion,
  type HistoryOptions,
  type SnapshotOptions,
  type TableInfo,
} from '@lakesoul-ts/meta';
import type { Filter, ObjectMeta, ScanOptions, ScanPlan, WriteInput, WriteResult } from '../types.js';
import { deleteGroupSize, deleteObjects, type StoreRegistry } from '../store/index.js';
import { cellReader, checkSchemaDepth, concatBatches, encodeColumn, gatherData, makeBatch, nullColumn, projectBatch, recordsToBatch, takeRows, validateAgainstSchema } from '../arrow/index.js';
import { computeBuckets } from '../hash/index.js';
import { bucketRuleOf } from './bucket-rule.js';
import { checkFilter, evaluateFilter, normalizeFilter } from '../filter/index.js';
import { planOverwrite, rerunnableRebase, samePartitionOf, writeTable, type TableWriteOptions } from './table-writer.js';
import { commitStagedWrites, discardStagedWrites, stageWrite, type CommitStagedOptions, type OverwritePlan, type StageOptions, type StagedWrite } from './table-staging.js';
import { buildScanPlan } from './scan-plan.js';
import {
  CLEANUP_OPTIONS, COMMIT_STAGED_OPTIONS, COMPACT_OPTIONS, HISTORY_OPTIONS, PLAN_OVERWRITE_OPTIONS, SCAN_OPTIONS, SNAPSHOT_OPTIONS,
  STAGE_OPTIONS, WRITE_MODES, WRITE_OPTIONS,
} from './option-names.js';
import {
  BLOB_COPY_DIR,
  rewritePartitions,
  compactionPolicy,
  ownedFileFilter,
  DEFAULT_ORPHAN_SAFETY_WINDOW_MS,
  MIN_ORPHAN_SAFETY_WINDOW_MS,
  DEFAULT_RETENTION_MS,
  tableListings,
  withNativeSpellings,
  type CleanupFile,
  type CleanupOptions,
  type CleanupReport,
  type CompactOptions,
  type RewriteResult,
} from './table-maintenance.js';
import type { TableContext } from './table-context.js';
import { canonicalPartitionSelection, constantVector, rangeEqualities, rangeFilterMatch, rangeValueText } from './partition-values.js';

/** Options of delete operations. */
export interface DeleteOptions {
  signal?: AbortSignal;
}

/** Result of {@link LakeSoulTable.update}: the commit and how many rows it changed. */
export interface UpdateResult extends CommitResult {
  /** Rows the predicate selected (each rewritten with the new values). */
  rows: number;
}

/** Result of a delete: the commit and how many rows it removed (when known). */
export interface DeleteResult extends CommitResult {
  /** Rows removed; for CDC tables the number of delete markers written. */
  rows: number;
}

/**
 * A point in time given as epoch milliseconds or a `Date`, as a whole millisecond (commit times are
 * whole ms): `up` for bounds compared as `commit time < t` (a fraction rounds up, so the same commits
 * match), `down` for `retainSince` (`commit time <= t`). Anything else is refused naming the option
 * (NaN, an invalid Date or a string reached the catalog as a PostgreSQL cast error).
 */
function toMs(t: unknown, option: string, table: string, round: 'up' | 'down'): number {
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    const shown = t instanceof Date ? 'an invalid Date' : typeof t === 'string' ? `the string '${t.length > 64 ? `${t.slice(0, 64)}…` : t}'`
      // (String(0n) is '0', which read as if 0 were refused)
      : typeof t === 'bigint' ? `the bigint ${t}n (give Number(value))` : String(t);
    throw new LakeSoulError('InvalidArgument', `${option} of table '${table}': expected epoch milliseconds (a finite number) or a valid Date, got ${shown}`, {
      context: { table, option },
    });
  }
  // the range of JS Dates, as the CLI and Flight bound it (beyond it the catalog's bigint overflowed)
  if (Math.abs(ms) > MAX_TIME_MS) {
    throw new LakeSoulError('InvalidArgument', `${option} of table '${table}': ${ms} is out of range (epoch milliseconds from -8.64e15 to 8.64e15, the range of a Date)`, {
      context: { table, option },
    });
  }
  return round === 'up' ? Math.ceil(ms) : Math.floor(ms);
}

/** The largest epoch milliseconds a `Date` holds (±100,000,000 days). */
const MAX_TIME_MS = 8.64e15;

/** The keys of a scan's `incremental` option. */
/**
 * Snapshot options of a rewrite (update, delete, compaction) that read the table's schema just before:
 * when the snapshot finds another one (a merge write widened or added columns in between), the rewrite
 * fails as its commit would, a retryable Conflict SCHEMA_CHANGED, instead of decoding the new files
 * with the old schema (a SCHEMA_MISMATCH naming a healthy file).
 */
function sameSchemaSnapshot(info: TableInfo, what: string, snap: SnapshotOptions): SnapshotOptions {
  return {
    ...snap,
    onTableInfo: (t) => {
      if (t.schemaJson === info.schemaJson) return;
      throw new LakeSoulError('Conflict', `${what} of table '${info.namespace}.${info.name}': the table's schema changed while it read the table (another writer's merge write or schema change); nothing was committed. Run it again: the table's schema is read anew`, {
        code: 'SCHEMA_CHANGED', retryable: true, context: { table: `${info.namespace}.${info.name}` },
      });
    },
  };
}

/** Times deleteByKeys makes a CDC table's delete markers anew after another writer changed the schema. */
const SCHEMA_CHANGE_ATTEMPTS = 3;
const INCREMENTAL_KEYS = optionNames<NonNullable<ScanOptions['incremental']>>({ start: true, end: true });

/**
 * The `[start, end)` of an incremental scan in whole milliseconds (rounded up, as {@link toMs}).
 * Refused: anything but an object `{ start, end }` (`null`, `false` or `0` read as "not incremental"
 * and silently scanned a snapshot), an unknown key (a misspelt `end` was ignored), and an `end` later
 * than `now`: commits made between the read and that end would belong to no window (this read does
 * not see them, and the next one, starting at `end`, skips them). No clock slack is allowed.
 */
function incrementalRange(inc: unknown, table: string, now: number): { start: number; end: number } {
  if (inc === null || typeof inc !== 'object' || Array.isArray(inc) || inc instanceof Date) {
    const shown = typeof inc === 'bigint' ? `${inc}n` : Array.isArray(inc) ? 'an array' : inc instanceof Date ? 'a Date' : typeof inc === 'string' ? `the string '${inc.slice(0, 64)}'` : String(inc);
    throw new LakeSoulError('InvalidArgument', `scan incremental of table '${table}': expected { start, end } (epoch milliseconds or Dates, [start, end)), got ${shown}; leave the option out for a snapshot read`, {
      context: { table, option: 'incremental' },
    });
  }
  refuseUnknownOptions(inc, INCREMENTAL_KEYS, `scan incremental of table '${table}'`);
  const range = inc as { start: unknown; end: unknown };
  const start = toMs(range.start, 'scan incremental.start', table, 'up');
  const end = toMs(range.end, 'scan incremental.end', table, 'up');
  if (end > now) {
    throw new LakeSoulError('InvalidArgument',
      `scan incremental.end of table '${table}': ${end} (${new Date(end).toISOString()}) is later than now (${now}, ${new Date(now).toISOString()}). ` +
      'Commits made from now until that end would be missed: this read cannot see them, and the next range, starting at that end, leaves them out. ' +
      'End the range at the current time or earlier (Date.now() when the read starts) and start the next range there',
      { code: 'INCREMENTAL_END_IN_FUTURE', context: { table, option: 'incremental.end' } });
  }
  return { start, end };
}

/** Key text of a PK tuple, comparable between user input and stored rows. */
function keyText(values: unknown[]): string {
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : typeof v === 'bigint' ? `${v}` : v instanceof Date ? v.getTime() : typeof v === 'number' ? `${v}` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)));
}

/** Options of `deleteByKeys`, `deleteWhere`, `update` and `dropPartitions`. */
export const DELETE_OPTIONS = optionNames<DeleteOptions>({ signal: true });

/** A LakeSoul table bound to a catalog and stores. Obtain it from {@link Lakehouse}. */
export class LakeSoulTable {
  /** The catalog entry (re-read by {@link refresh}, by every scan and at the start of every write). */
  info: TableInfo;

  constructor(
    /** Catalog holding the table. */
    readonly catalog: Catalog,
    /** Store registry resolving the table's URIs. */
    readonly stores: StoreRegistry,
    info: TableInfo,
  ) {
    this.info = info;
  }

  private get ctx(): TableContext {
    return { catalog: this.catalog, stores: this.stores, info: this.info };
  }

  /** `namespace.name`, as errors name the table. */
  private get qualifiedName(): string {
    return `${this.info.namespace}.${this.info.name}`;
  }

  /** `partitions` with range values given as JS values written as partition_desc holds them (see canonicalPartitionSelection). */
  private selection<T>(partitions: T): T {
    return canonicalPartitionSelection(partitions, this.info.schema.fields, this.info.rangePartitions);
  }

  /** `options` with `replacePartitions` given as range values made canonical (see {@link selection}). */
  private withReplaceSelection<T extends { replacePartitions?: TableWriteOptions['replacePartitions'] }>(options: T): T {
    return options.replacePartitions === undefined ? options : { ...options, replacePartitions: this.selection(options.replacePartitions) };
  }

  /** Refuses a misspelt option key of a call on this table (`verb`: 'write into', 'scan of'). */
  private checkOptions(options: unknown, known: readonly string[], verb: string): void {
    refuseUnknownOptions(options, known, `${verb} table '${this.qualifiedName}'`);
  }

  /** The table name. */
  get name(): string {
    return this.info.name;
  }

  /** The table's Arrow schema (data, range and CDC columns), as of this object's last scan, write or {@link refresh}. */
  get schema(): Schema {
    return this.info.schema;
  }

  /**
   * The catalog entry as it is now (this object's is refreshed): a write or rewrite works under the
   * table's current schema, not the one this object was opened with (files written under that would
   * leave out a column added since, or round values to a type widened since; the commit checks too).
   */
  private async currentInfo(signal?: AbortSignal): Promise<TableInfo> {
    this.info = await this.catalog.getTableById(this.info.tableId, { signal });
    return this.info;
  }

  /** Re-reads the catalog entry (schema, properties). */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<this> {
    this.info = await this.catalog.getTable(this.info.name, this.info.namespace, options);
    return this;
  }

  /**
   * Writes data in one commit (AppendCommit for tables without primary keys, MergeCommit for
   * upserts, UpdateCommit for `mode: 'overwrite'`). Validates every batch first: a bad batch commits
   * nothing and leaves no files. A subset of columns (PK and range columns required) is a partial
   * upsert. With `schemaMode: 'merge'` new columns are added to the table (see TableWriteOptions);
   * this object's schema is refreshed afterwards.
   */
  async write(input: WriteInput, options: TableWriteOptions = {}): Promise<WriteResult> {
    this.checkOptions(options, WRITE_OPTIONS, 'write into');
    refuseOptionValue(options.mode, WRITE_MODES, 'mode', `write into table '${this.qualifiedName}'`);
    // under the table's schema of now: a column another writer added or widened is this write's too
    await this.currentInfo(options.signal);
    try {
      return await writeTable(this.ctx, input, this.withReplaceSelection(options));
    } finally {
      // (a failure here would hide the write's own error; the next call re-reads anyway)
      if (options.schemaMode === 'merge') await this.currentInfo(options.signal).catch(() => undefined);
    }
  }

  /**
   * Adds nullable columns at the end of the schema (LakeSoul-compatible evolution: files written
   * before read them as null). One catalog update; no data file is touched.
   * @throws LakeSoulError SchemaMismatch `SCHEMA_EVOLUTION_REFUSED` (a non-nullable or existing column).
   */
  async addColumns(fields: Field[] | Schema, options: { signal?: AbortSignal } = {}): Promise<this> {
    const add = fields instanceof Schema ? fields.fields : fields;
    // a column no codec can write would leave the table unwritable (every write and compaction refused)
    checkSchemaDepth(new Schema(add), `add columns to table '${this.qualifiedName}'`);
    this.info = await this.catalog.evolveTableSchema(this.info.tableId, (cur) => new Schema([...cur.fields, ...add], cur.metadata), options);
    return this;
  }

  /**
   * Widens column types (int8/16/32 -> a wider signed int, float32 -> float64; not key or range
   * columns). Old files are cast exactly on read. One catalog update; no data file is touched.
   * @throws LakeSoulError SchemaMismatch `SCHEMA_EVOLUTION_REFUSED` for any other change.
   */
  async widenColumns(types: Record<string, DataType>, options: { signal?: AbortSignal } = {}): Promise<this> {
    this.info = await this.catalog.evolveTableSchema(
      this.info.tableId,
      (cur) => {
        // against the schema of now (a column another writer added is there, though not in this object's)
        for (const c of Object.keys(types)) {
          if (!cur.fields.some((f) => f.name === c)) {
            throw new LakeSoulError('SchemaMismatch', `column '${c}' is not in the schema of table '${this.qualifiedName}'`, { code: 'UNKNOWN_COLUMN', context: { table: this.qualifiedName, column: c } });
          }
        }
        return new Schema(cur.fields.map((f) => (types[f.name] ? f.clone({ type: types[f.name] }) : f)), cur.metadata);
      },
      options,
    );
    return this;
  }

  /**
   * Writes data files like {@link write} but commits nothing: the result is committed later by
   * {@link commitStaged} (possibly together with other staged writes, as one commit) or deleted by
   * {@link discardStaged}. Readers see nothing of a staged write before its commit.
   */
  async stage(input: WriteInput, options: StageOptions = {}): Promise<StagedWrite> {
    this.checkOptions(options, STAGE_OPTIONS, 'stage into');
    refuseOptionValue(options.mode, WRITE_MODES, 'mode', `stage into table '${this.qualifiedName}'`);
    await this.currentInfo(options.signal);
    return stageWrite(this.ctx, input, this.withReplaceSelection(options));
  }

  /**
   * Plans an overwrite whose data is staged later, possibly by several writers: reads the partitions
   * it replaces now (all, or those chosen by `replacePartitions` / `replaceWhere`, as in
   * `write(..., { mode: 'overwrite' })`). Stage with `stage(input, { overwrite: plan })`, commit with
   * `commitStaged(staged, { overwrite: plan })`: one UpdateCommit, which empties a replaced partition
   * that got no rows.
   */
  async planOverwrite(options: Pick<TableWriteOptions, 'replacePartitions' | 'replaceWhere' | 'signal'> = {}): Promise<OverwritePlan> {
    this.checkOptions(options, PLAN_OVERWRITE_OPTIONS, 'planOverwrite of');
    return planOverwrite(this.ctx, this.withReplaceSelection(options));
  }

  /**
   * Commits staged writes of this table as one catalog commit (all appends, all upserts, or all
   * staged under the overwrite plan given), their files in the given order. A commit that surely
   * failed deletes their files.
   */
  async commitStaged(staged: StagedWrite[], options: CommitStagedOptions = {}): Promise<WriteResult> {
    this.checkOptions(options, COMMIT_STAGED_OPTIONS, 'commitStaged of');
    try {
      return await commitStagedWrites(this.ctx, staged, options);
    } finally {
      // a staged merge-mode write changes the schema in its commit
      if (staged.some((s) => s?.schema?.evolve)) await this.currentInfo(options.signal).catch(() => undefined);
    }
  }

  /** Deletes the files of staged writes that will not be committed (best effort). */
  discardStaged(staged: StagedWrite[]): Promise<void> {
    return discardStagedWrites(this.ctx, staged);
  }

  /**
   * Plans a scan: resolves the snapshot in the catalog (latest, `version`, `timestamp` or
   * `incremental`) and returns its splits. Reading the plan needs only the stores. The plan reads
   * with the table's schema of now (re-read beside the snapshot; this object's {@link schema} is
   * refreshed), whatever version it reads: columns another writer widened or added since this object
   * was opened read at their new types, older files' values cast or null.
   * @throws LakeSoulError InvalidArgument for a `timestamp` or `incremental` bound that is not epoch
   *   milliseconds within ±8.64e15 (a `Date`'s range), naming the option and the table; for an
   *   `incremental` that is not `{ start, end }` (`UNKNOWN_OPTION` for another key); for an
   *   `incremental.end` later than now (`INCREMENTAL_END_IN_FUTURE`: the commits until then would be missed).
   */
  async scan(options: ScanOptions = {}): Promise<ScanPlan> {
    this.checkOptions(options, SCAN_OPTIONS, 'scan of');
    const modes = [options.version !== undefined, options.timestamp !== undefined, options.incremental !== undefined].filter(Boolean).length;
    if (modes > 1) {
      throw new LakeSoulError('InvalidArgument', `scan of table '${this.info.name}': give at most one of version, timestamp, incremental`, {
        context: { table: this.info.name },
      });
    }
    const snap: SnapshotOptions = { signal: options.signal };
    if (options.partitions !== undefined) snap.partitions = this.selection(options.partitions);
    if (options.version !== undefined) {
      await this.checkVersionScope(options);
      snap.version = options.version;
    }
    const name = `${this.info.namespace}.${this.info.name}`;
    if (options.timestamp !== undefined) snap.timestamp = toMs(options.timestamp, 'scan timestamp', name, 'up');
    if (options.incremental !== undefined) snap.incremental = incrementalRange(options.incremental, name, Date.now());
    // The table entry of now, which the snapshot read looks up first: another writer may have
    // widened or added columns since this object read it, and files written since hold them (read
    // with the old schema, a widened float narrowed, a widened int was refused, an added column
    // unknown). Older versions read with it too: the catalog keeps one schema, and LakeSoul reads
    // every version with the current one.
    let info = this.info;
    // The filter's range conditions select partitions in the catalog, with the table's schema of now.
    let match: ((desc: string) => boolean) | undefined;
    const filtered = options.filter !== undefined && options.filter !== null;
    if (filtered && snap.partitions === undefined && this.info.rangePartitions.length > 0) {
      // range columns and their types never change; a filter naming a column this object does not
      // know yet (another writer added it) is parsed with the schema of now below
      let pinned: Record<string, string> | undefined;
      try {
        pinned = rangeEqualities(normalizeFilter(options.filter!, this.info.schema), this.info);
      } catch {
        pinned = undefined;
      }
      if (pinned) snap.partitions = pinned;
    }
    const snapshot = await this.catalog.getSnapshot(this.info.tableId, {
      ...snap,
      onTableInfo: (t) => {
        info = t;
        if (filtered) match = rangeFilterMatch(normalizeFilter(options.filter!, t.schema), t);
      },
      ...(filtered ? { partitionMatch: (d: string) => match?.(d) ?? true } : {}),
    });
    this.info = info;
    return buildScanPlan(info, snapshot, options, this.stores);
  }

  /**
   * LakeSoul numbers versions per partition: version n of one partition says nothing about another.
   * A version is therefore only meaningful for a scan that selects one partition (or an unpartitioned
   * table); otherwise the scan would silently mix partitions that happen to have a version n.
   * @throws LakeSoulError InvalidArgument (code `VERSION_NEEDS_PARTITION`) naming what to use instead.
   */
  private async checkVersionScope(options: ScanOptions): Promise<void> {
    const info = this.info;
    if (info.rangePartitions.length === 0) return;
    const parts = await this.catalog.listPartitions(info.tableId, this.selection(options.partitions), { signal: options.signal });
    if (parts.length <= 1) return;
    const qname = `${info.namespace}.${info.name}`;
    throw new LakeSoulError('InvalidArgument',
      `scan of table '${qname}' at version ${options.version}: versions are per partition and this scan selects ${parts.length} partitions ` +
      `(e.g. ${parts.slice(0, 3).map((p) => p.partitionDesc).join(', ')}). Select one partition (partitions: { ${info.rangePartitions.map((c) => `${c}: ...`).join(', ')} }; ` +
      `CLI: --partition ${info.rangePartitions.map((c) => `${c}=...`).join(' --partition ')}) or read the whole table as of a time ` +
      `(timestamp: the commit time from history() + 1 ms; CLI: --timestamp)`,
      { code: 'VERSION_NEEDS_PARTITION', context: { table: qname, version: options.version } });
  }

  /** Scans and streams the batches (see {@link scan}). */
  read(options: ScanOptions = {}): AsyncIterable<RecordBatch> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const plan = await self.scan(options);
        try {
          yield* plan.read({ batchSize: options.batchSize, prefetchBytes: options.prefetchBytes, signal: options.signal });
        } catch (e) {
          throw await self.droppedDuringRead(e);
        }
      },
    };
  }

  /** Scans into one Arrow table. */
  async toArrow(options: ScanOptions = {}): Promise<Table> {
    const plan = await this.scan(options);
    const batches: RecordBatch[] = [];
    try {
      for await (const b of plan.read({ batchSize: options.batchSize, prefetchBytes: options.prefetchBytes, signal: options.signal })) batches.push(b);
    } catch (e) {
      throw await this.droppedDuringRead(e);
    }
    return batches.length > 0 ? new Table(batches) : new Table(plan.schema);
  }

  /**
   * A data file missing in a read of this table whose catalog row is gone: the table was dropped
   * with its files while the read ran (the plan's own message, which knows no catalog, sent the
   * reader to cleanup's retention). Other errors, and a table still there, as they are.
   */
  private async droppedDuringRead(e: unknown): Promise<unknown> {
    if (!LakeSoulError.hasCode(e, 'OBJECT_NOT_FOUND')) return e;
    const { tableId, namespace, name } = this.info;
    try {
      await this.catalog.getTableById(tableId);
      return e;
    } catch (lookup) {
      if (!LakeSoulError.hasCode(lookup, 'TABLE_NOT_FOUND')) return e;
      const qname = `${namespace}.${name}`;
      return new LakeSoulError('NotFound', `table '${qname}' was dropped while this read ran (its data file ${String((e as LakeSoulError).context.file ?? '')} was deleted with it): open the table again if it was created anew`, {
        code: 'TABLE_NOT_FOUND', context: { table: qname, tableId, file: (e as LakeSoulError).context.file }, cause: e,
      });
    }
  }

  /** The table's commit history (partition versions). */
  async history(options: HistoryOptions = {}): Promise<PartitionVersion[]> {
    this.checkOptions(options, HISTORY_OPTIONS, 'history of');
    return this.catalog.history(this.info.tableId, options);
  }

  /** The latest snapshot of the selected partitions. */
  async snapshot(options: SnapshotOptions = {}): Promise<PartitionSnapshot[]> {
    this.checkOptions(options, SNAPSHOT_OPTIONS, 'snapshot of');
    return this.catalog.getSnapshot(this.info.tableId, options.partitions === undefined ? options : { ...options, partitions: this.selection(options.partitions) });
  }

  /**
   * Normalizes delete keys to one batch of the PK (and any given range) columns, typed per schema,
   * with which range values each key gives: an Arrow column gives its value in every row (null: the
   * null partition); an object gives the range columns it has as own properties not `undefined`
   * (`null`: the null partition).
   */
  private keysBatch(keys: Table | RecordBatch | Record<string, unknown>[]): { batch: RecordBatch; given: RangeGiven } | null {
    const info = this.info;
    const wanted = (names: string[]) => info.schema.fields.filter((f) => names.includes(f.name) && (info.primaryKeys.includes(f.name) || info.rangePartitions.includes(f.name)));
    let batch: RecordBatch;
    let given: RangeGiven;
    if (keys instanceof Table || keys instanceof RecordBatch) {
      const b = keys instanceof Table ? (keys.batches.length === 1 ? keys.batches[0] : concatBatches(keys.batches, keys.schema)) : keys;
      for (const k of info.primaryKeys) {
        if (!b.getChild(k)) throw new LakeSoulError('InvalidArgument', `delete keys of table '${info.name}' lack primary-key column '${k}'`, { context: { table: info.name, column: k } });
      }
      const names = b.schema.fields.map((f) => f.name);
      batch = projectBatch(b, wanted(names).map((f) => f.name));
      given = (c) => batch.schema.fields.some((f) => f.name === c);
    } else {
      if (!Array.isArray(keys)) throw new LakeSoulError('InvalidArgument', `delete keys of table '${info.name}' must be a Table, a RecordBatch or an array of objects`);
      if (keys.length === 0) return null;
      const present = new Set<string>();
      for (const r of keys) for (const k of Object.keys(r)) present.add(k);
      const fields = wanted([...present]);
      const rows = keys;
      given = (c, i) => Object.prototype.hasOwnProperty.call(rows[i], c) && rows[i]![c] !== undefined;
      for (const k of info.primaryKeys) {
        if (!present.has(k)) throw new LakeSoulError('InvalidArgument', `delete keys of table '${info.name}' lack primary-key column '${k}'`, { context: { table: info.name, column: k } });
      }
      // The value codec: JS numbers, strings and Dates convert exactly to the key columns' types.
      const keySchema = new Schema(fields.map((f) => (info.rangePartitions.includes(f.name) ? f.clone({ nullable: true }) : f)));
      try {
        batch = recordsToBatch(keys, keySchema, { table: info.name, strict: false });
      } catch (e) {
        if (LakeSoulError.is(e)) e.message = `delete keys: ${e.message}`;
        throw e;
      }
    }
    // Conform to the table's types (the bucket hash depends on them); range values may be null
    // (the null partition, or, where `given` says the key has no value, every partition).
    const sub = new Schema(
      info.schema.fields
        .filter((f) => batch.schema.fields.some((x) => x.name === f.name))
        .map((f) => (info.rangePartitions.includes(f.name) ? f.clone({ nullable: true }) : f)),
    );
    return { batch: validateAgainstSchema(batch, sub, { primaryKeys: info.primaryKeys, tableName: info.name }), given };
  }

  /**
   * Deletes rows by primary key. CDC tables: one MergeCommit of delete markers (the CDC column set to
   * 'delete', every nullable non-key column null, so that a later partial upsert of the key reads
   * null in the columns it leaves out; non-nullable columns are left out of the markers, as every
   * later write must give them); other PK tables: an UpdateCommit rewriting the affected buckets
   * without the keys.
   * Keys without range columns match in every partition; a key giving a range column null matches
   * only in the null partition (of that column).
   */
  async deleteByKeys(keys: Table | RecordBatch | Record<string, unknown>[], options: DeleteOptions = {}): Promise<DeleteResult> {
    this.checkOptions(options, DELETE_OPTIONS, 'deleteByKeys of');
    let info = await this.currentInfo(options.signal);
    if (info.primaryKeys.length === 0) {
      throw new LakeSoulError('InvalidArgument', `table '${info.name}' has no primary key: use deleteWhere()`, { context: { table: info.name } });
    }
    const keyed = this.keysBatch(keys);
    if (!keyed || keyed.batch.numRows === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, rows: 0 };
    const kb = keyed.batch;
    const matcher = new KeyMatcher(info.primaryKeys, info.rangePartitions, kb, keyed.given);
    if (info.cdcColumn) {
      let target = projectBatch(kb, kb.schema.fields.map((f) => f.name).filter((c) => info.primaryKeys.includes(c)));
      let exact = matcher.exactRows();
      if (exact.length > 0) {
        // a key named in a partition the table does not have (or dropped: a DeleteCommit) is in no
        // row: its marker made that partition (listed, in the history, and `version` reads then
        // needed a partition), or brought a dropped one back
        const same = await samePartitionOf(this.ctx, options.signal, { nulls: true });
        const partitions = await this.ctx.catalog.listPartitions(info.tableId, undefined, { signal: options.signal });
        const existing = new Set(partitions.filter((p) => p.commitOp !== 'DeleteCommit').map((p) => p.partitionDesc));
        exact = matcher.exactRowsIn((d) => existing.has(same === null ? d : same(d)));
      }
      if (info.rangePartitions.length > 0) {
        // Keys with every range value name their partition; the others match wherever they exist.
        const found: RecordBatch[] = [];
        if (exact.length > 0) found.push(projectBatch(takeRows(kb, Int32Array.from(exact)), this.keyAndRangeColumns()));
        if (matcher.hasWildcards) {
          for await (const b of this.read({ columns: this.keyAndRangeColumns(), signal: options.signal })) {
            const rows = matcher.wildcardMatches(b);
            if (rows.length > 0) found.push(takeRows(b, Int32Array.from(rows)));
          }
        }
        if (found.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0, rows: 0 };
        target = concatBatches(found);
      }
      // Every column of the schema, in its order: the key and range values, null in the other
      // nullable columns, 'delete' in the CDC column. A marker leaving a column out would let a
      // later partial upsert of the key take that column from the newest file having it, the
      // pre-delete one: the deleted value would come back. A non-nullable column cannot hold null
      // (the file would break its declared type for every reader) and stays out: every later write
      // of the key must give it.
      // The commit checks that the schema is still the one the markers were made from (a column
      // another writer added meanwhile would be missing from them); when it changed, the markers are
      // made again from the new schema (the keys stay: key and range columns never change).
      const keyCols = new Set(this.keyAndRangeColumns());
      for (let attempt = 1; ; attempt++) {
        const vectors: Record<string, Vector> = {};
        for (const f of info.schema.fields) {
          if (keyCols.has(f.name)) vectors[f.name] = target.getChild(f.name)!;
          else if (f.name === info.cdcColumn) vectors[f.name] = constantVector(new Utf8(), 'delete', target.numRows);
          else if (f.nullable) vectors[f.name] = nullColumn(f, target.numRows);
        }
        try {
          const r = await writeTable(this.ctx, new Table(vectors), { mode: 'upsert', signal: options.signal }, { allowMissingColumns: true, readWith: info.schema });
          return { versions: r.versions, commitIds: r.commitIds, retries: r.retries + attempt - 1, rows: r.rows };
        } catch (e) {
          if (!LakeSoulError.hasCode(e, 'SCHEMA_CHANGED') || attempt >= SCHEMA_CHANGE_ATTEMPTS) throw e;
          info = await this.currentInfo(options.signal);
        }
      }
    }
    // Non-CDC: rewrite the buckets holding the keys, in the partitions they may be in.
    const buckets = new Set<number>();
    const bk = computeBuckets(kb, info.primaryKeys, info.hashBucketNum, bucketRuleOf(info));
    for (let i = 0; i < kb.numRows; i++) buckets.add(Number(bk[i]));
    const snap: SnapshotOptions = { signal: options.signal };
    if (info.rangePartitions.length > 0 && !matcher.hasWildcards) {
      // Each value's partitions: one text per value, or (floats, dates, timestamps, and a null of a
      // column that is not text: LakeSoul's Python engine writes it `k=NULL`) every partition whose
      // text names the same values, which another engine may have made beside this project's
      const typeOf = (c: string) => info.schema.fields.find((f) => f.name === c)?.type;
      const descs = matcher.partitionDescs();
      const variants = descs.some((d) => decodePartitionDesc(d).some(([c, v]) => {
        const type = typeOf(c);
        return type !== undefined && (hasRangeTextVariants(type) || (v === null && isNullRangeText(type, 'NULL')));
      }));
      if (!variants) snap.partitions = descs;
      else {
        const wanted = new Set(descs.map((d) => partitionDescKey(d, typeOf)));
        snap.partitionMatch = (d) => wanted.has(partitionDescKey(d, typeOf));
      }
    }
    const snapshot = await this.catalog.getSnapshot(info.tableId, sameSchemaSnapshot(info, 'delete', snap));
    const r = await rewritePartitions(this.ctx, 'UpdateCommit', snapshot, {
      always: false,
      units: (_p, splits) => splits.map((split) => ({ split, rewrite: split.bucket !== null && buckets.has(split.bucket) })),
      keep: (b) => {
        const hit = matcher.matches(b);
        const rows: number[] = [];
        for (let i = 0; i < b.numRows; i++) if (!hit[i]) rows.push(i);
        return rows.length === b.numRows ? b : takeRows(b, Int32Array.from(rows));
      },
    }, options.signal);
    return { versions: r.versions, commitIds: r.commitIds, retries: r.retries, rows: r.rowsRemoved };
  }

  private keyAndRangeColumns(): string[] {
    const info = this.info;
    return info.schema.fields.map((f) => f.name).filter((c) => info.primaryKeys.includes(c) || info.rangePartitions.includes(c));
  }

  /** Deletes every row matching `filter` (evaluated on merged rows) with one UpdateCommit rewrite. */
  async deleteWhere(filter: Filter, options: DeleteOptions = {}): Promise<DeleteResult> {
    this.checkOptions(options, DELETE_OPTIONS, 'deleteWhere of');
    const info = await this.currentInfo(options.signal);
    const expr = normalizeFilter(filter, info.schema);
    checkFilter(expr, info.schema);
    const snapshot = await this.catalog.getSnapshot(info.tableId, sameSchemaSnapshot(info, 'deleteWhere', { signal: options.signal, partitionMatch: rangeFilterMatch(expr, info) }));
    const r = await rewritePartitions(this.ctx, 'UpdateCommit', snapshot, {
      always: false,
      keep: (b) => {
        // Keep rows for which the predicate is false or unknown (SQL: only TRUE deletes).
        const hit = evaluateFilter(expr, b);
        const rows: number[] = [];
        for (let i = 0; i < b.numRows; i++) if (hit[i] !== 1) rows.push(i);
        return rows.length === b.numRows ? b : takeRows(b, Int32Array.from(rows));
      },
    }, options.signal);
    return { versions: r.versions, commitIds: r.commitIds, retries: r.retries, rows: r.rowsRemoved };
  }

  /**
   * Sets columns to literal values in every row matching `where` (null: every row), evaluated on
   * merged rows, with one UpdateCommit rewriting the affected files (PK tables: buckets) of the
   * affected partitions. Values convert exactly to the column types (the value codec). Primary-key,
   * range-partition and CDC columns cannot be set (they decide where a row lives).
   * @throws LakeSoulError InvalidArgument naming the column; Conflict when another update,
   *   compaction or delete committed to a partition meanwhile (nothing is committed).
   */
  async update(where: Filter | null, set: Record<string, unknown>, options: DeleteOptions = {}): Promise<UpdateResult> {
    this.checkOptions(options, DELETE_OPTIONS, 'update of');
    const info = await this.currentInfo(options.signal);
    const names = Object.keys(set);
    if (names.length === 0) throw new LakeSoulError('InvalidArgument', `update of table '${info.name}': nothing to set`, { context: { table: info.name } });
    const literals = new Map<number, Data>();
    for (const c of names) {
      const idx = info.schema.fields.findIndex((f) => f.name === c);
      if (idx < 0) {
        throw new LakeSoulError('SchemaMismatch', `update of table '${info.name}': column '${c}' is not in the schema`, { code: 'UNKNOWN_COLUMN', context: { table: info.name, column: c } });
      }
      const why = info.primaryKeys.includes(c) ? 'a primary-key column' : info.rangePartitions.includes(c) ? 'a range-partition column' : c === info.cdcColumn ? 'the CDC column' : null;
      if (why) throw new LakeSoulError('InvalidArgument', `update of table '${info.name}': column '${c}' is ${why} and cannot be updated (delete and write the rows instead)`, { context: { table: info.name, column: c } });
      const f = info.schema.fields[idx];
      const v = set[c];
      if ((v === null || v === undefined) && !f.nullable) {
        throw new LakeSoulError('InvalidArgument', `update of table '${info.name}': column '${c}' is not nullable`, { context: { table: info.name, column: c } });
      }
      literals.set(idx, encodeColumn([v ?? null], f.type, { column: c, table: info.name }));
    }
    const expr = where === null ? null : normalizeFilter(where, info.schema);
    if (expr !== null) checkFilter(expr, info.schema);
    const snapshot = await this.catalog.getSnapshot(info.tableId, sameSchemaSnapshot(info, 'update', { signal: options.signal, partitionMatch: rangeFilterMatch(expr, info) }));
    const r = await rewritePartitions(this.ctx, 'UpdateCommit', snapshot, {
      always: false,
      update: (b) => {
        const hit = expr === null ? null : evaluateFilter(expr, b);
        let changed = 0;
        const src = new Uint8Array(b.numRows);
        const rows = new Int32Array(b.numRows);
        for (let i = 0; i < b.numRows; i++) {
          if (hit === null || hit[i] === 1) {
            src[i] = 1;
            changed++;
          } else rows[i] = i;
        }
        if (changed === 0) return { batch: b, changed };
        const children = b.schema.fields.map((f, k) => {
          const col = b.data.children[k] as Data;
          const tableIdx = info.schema.fields.findIndex((x) => x.name === f.name);
          const lit = literals.get(tableIdx);
          return lit ? gatherData(f.type, [col, lit], src, rows) : col;
        });
        return { batch: makeBatch(b.schema, children, b.numRows), changed };
      },
    }, options.signal);
    return { versions: r.versions, commitIds: r.commitIds, retries: r.retries, rows: r.rowsChanged };
  }

  /**
   * Drops whole partitions (DeleteCommit per partition): `partitions` lists descriptions
   * (`'date=2024-01-01'`) or gives range values (`{ date: '2024-01-01' }`, every partition with them).
   * Nothing, or an object without values, is refused: as a filter it would name every partition.
   */
  async dropPartitions(partitions: string[] | Record<string, string | number | null>, options: DeleteOptions = {}): Promise<CommitResult> {
    this.checkOptions(options, DELETE_OPTIONS, 'dropPartitions of');
    const info = this.info;
    const qname = `${info.namespace}.${info.name}`;
    if (partitions === undefined || partitions === null || (!Array.isArray(partitions) && typeof partitions === 'object' && Object.keys(partitions).length === 0 && info.rangePartitions.length > 0)) {
      throw new LakeSoulError('InvalidArgument', `dropPartitions on table '${qname}' names no partition (it would drop every one): give descriptions such as '${info.rangePartitions.map((c) => `${c}=<value>`).join(',')}', or range values such as { ${info.rangePartitions[0]}: <value> }; to drop them all, list them (the table's snapshot names each)`, {
        code: 'INVALID_PARTITION', context: { table: qname },
      });
    }
    const latest = await this.catalog.listPartitions(info.tableId, this.selection(partitions), { signal: options.signal });
    const descs = latest.filter((p) => p.commitOp !== 'DeleteCommit').map((p) => p.partitionDesc);
    if (descs.length === 0) return { versions: new Map(), commitIds: new Map(), retries: 0 };
    // a write landing between the listing and the commit: running the drop again lists it anew
    return this.catalog.commit({
      tableId: info.tableId,
      op: 'DeleteCommit',
      partitions: descs.map((partitionDesc) => ({ partitionDesc, files: [] })),
      signal: options.signal,
    }).catch((e: unknown) => { throw rerunnableRebase(e); });
  }

  /**
   * Compacts partitions (or one bucket) into one sorted file per bucket with a CompactionCommit;
   * reads before and after are identical.
   */
  async compact(options: CompactOptions = {}): Promise<RewriteResult> {
    this.checkOptions(options, COMPACT_OPTIONS, 'compact of');
    await this.currentInfo(options.signal);
    const policy = compactionPolicy(this.ctx, options);
    const snap: SnapshotOptions = { signal: options.signal };
    if (options.partitions !== undefined) snap.partitions = this.selection(options.partitions);
    const snapshot = await this.catalog.getSnapshot(this.info.tableId, sameSchemaSnapshot(this.info, 'compaction', snap));
    return rewritePartitions(this.ctx, 'CompactionCommit', snapshot, policy, options.signal, options.onProgress);
  }

  /**
   * Removes data files no version valid at or after `retainSince` references, and orphan files under
   * the table path that no commit references and that are older than the safety window. Dry run by
   * default: the report lists what would go. Never listed: files under another table's path or named
   * by another table's commits (`ownedFileFilter`).
   */
  async cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    this.checkOptions(options, CLEANUP_OPTIONS, 'cleanup of');
    // `dryRun: 'false'` was a dry run, reported as `dryRun: 'false'`
    refuseNonBooleanOptions(options, ['dryRun', 'assumeNoWritesInFlight'], `cleanup of table '${this.qualifiedName}'`);
    const info = this.info;
    const signal = options.signal;
    const dryRun = options.dryRun ?? true;
    const retainSince = options.retainSince === undefined ? Date.now() - DEFAULT_RETENTION_MS : toMs(options.retainSince, 'cleanup retainSince', `${info.namespace}.${info.name}`, 'down');
    const window = options.orphanSafetyWindowMs ?? DEFAULT_ORPHAN_SAFETY_WINDOW_MS;
    // '' or true was taken as 0 (every file of a write in flight an orphan), NaN failed in SQL
    if (typeof window !== 'number' || !Number.isFinite(window) || window < 0) {
      const shown = typeof window === 'string' ? `the string '${String(window).slice(0, 64)}'` : String(window);
      throw new LakeSoulError('InvalidArgument', `cleanup of table '${info.namespace}.${info.name}': orphanSafetyWindowMs must be a number of milliseconds >= 0, got ${shown}`, {
        context: { table: `${info.namespace}.${info.name}`, option: 'orphanSafetyWindowMs' },
      });
    }
    // A window of 0 beside a short write in flight deleted its file before its commit, which then
    // reported success for a version no read could open: deleting that close needs the caller's word.
    if (!dryRun && window < MIN_ORPHAN_SAFETY_WINDOW_MS && options.assumeNoWritesInFlight !== true) {
      throw new LakeSoulError('InvalidArgument',
        `cleanup of table '${info.namespace}.${info.name}': an orphan safety window of ${window} ms (orphanSafetyWindowMs) is under one minute, and would delete the files of writes to the table still running ` +
        `(a write under a second is not checked before its commit, which would then name deleted files). Nothing was deleted. If no write to the table is running anywhere, pass assumeNoWritesInFlight: true; otherwise keep the window above the longest write (default 24 h)`, {
          code: 'ORPHAN_WINDOW_TOO_SHORT', context: { table: `${info.namespace}.${info.name}`, option: 'orphanSafetyWindowMs' },
        });
    }
    // Also under the spelling LakeSoul's native IO reads (the wheel stores raw paths with `?`, `#`,
    // tabs... but writes the files where URL parsing puts them): such live files are not orphans.
    const { store, key: prefix } = this.stores.resolve(info.path);
    // The catalog reads and the listing run at the same time. A file listed but unknown to the
    // catalog reads (written meanwhile) is an orphan, deleted only past the safety window.
    const base = info.path;
    const now = Date.now();
    type Listed = ObjectMeta & { temporary: boolean };
    // What a listed file is to cleanup, once the catalog's file sets are known: null to keep it.
    let classify: ((m: Listed) => CleanupFile | null) | null = null;
    // What other tables claim under this path (it reads every other table's commits: 2-3 ms at 1,600
    // commits on a local PostgreSQL), read only once there is something to delete: from the first
    // such file listed, on the catalog's connection while the listing goes on (after the listing, it
    // added its time to every cleanup; read beside the first catalog read, it waited for a new
    // connection, 8-10 ms, when the pool had one idle).
    let ownedRead: Promise<(uri: string) => boolean> | null = null;
    const readOwned = (): Promise<(uri: string) => boolean> => {
      if (!ownedRead) {
        ownedRead = ownedFileFilter(this.catalog, info, signal);
        ownedRead.catch(() => {}); // awaited below: failing meanwhile is not an unhandled rejection
      }
      return ownedRead;
    };
    // the table's files, then the local store's temp files of puts a killed process left (never
    // committed, never listed), as listed so far
    const found: [Listed[], Listed[]] = [[], []];
    const progress = { filesListed: 0, listed: false, filesToDelete: 0, bytesToDelete: 0, filesDeleted: 0, bytesDeleted: 0 };
    const report = () => options.onProgress?.({ ...progress });
    const collect = async (metas: AsyncIterable<ObjectMeta>, temporary: boolean): Promise<void> => {
      for await (const m of metas) {
        const e = { ...m, temporary };
        found[temporary ? 1 : 0].push(e);
        if (classify && !ownedRead && classify(e)) void readOwned();
        if (++progress.filesListed % 1000 === 0) report();
      }
    };
    const listing = Promise.all(tableListings(store, prefix, signal).map((l) => collect(l.metas, l.temporary))).then(() => found.flat());
    listing.catch(() => {}); // awaited below: failing meanwhile is not an unhandled rejection
    // The committed files and those still referenced, from one snapshot of the catalog: read apart,
    // a commit landing between the reads could make its new file "committed but unreferenced",
    // deleted as expired: the newest data of the table.
    const sets = await this.catalog.tableFileSets(info.tableId, retainSince, { signal });
    const referenced = withNativeSpellings(sets.referenced);
    const committed = withNativeSpellings(sets.committed);
    classify = (m) => {
      const rel = prefix ? m.path.slice(prefix.length + 1) : m.path;
      const uri = `${base}/${rel}`;
      const pastWindow = now - m.lastModified.getTime() >= window;
      if (m.temporary) return pastWindow ? { path: uri, size: m.size, reason: 'orphan' } : null;
      // copies of imported blobs are rows' data, whatever their names (`_blobs/emb.parquet`)
      if (!/\.(parquet|vortex)$/i.test(rel) || rel.startsWith(`${BLOB_COPY_DIR}/`)) return null;
      // Live files are never touched, whatever their commit rows say (LakeSoul-Python leaves its
      // commit rows committed=false while partition_info references them).
      if (referenced.has(locationKey(uri))) return null;
      if (committed.has(locationKey(uri))) return { path: uri, size: m.size, reason: 'expired' };
      return pastWindow ? { path: uri, size: m.size, reason: 'orphan' } : null;
    };
    if (found.some((list) => list.some((m) => classify!(m) !== null))) void readOwned();
    const listed = await listing;
    const candidates = listed.map(classify).filter((f): f is CleanupFile => f !== null);
    const owned = candidates.length === 0 ? () => true : await readOwned();
    let files = candidates.filter((f) => owned(f.path));
    if (!dryRun && files.some((f) => f.reason === 'orphan')) {
      // A commit landing since the catalog read above names files that were orphans then (written
      // longer ago than the window: a slow upload, a long compaction): read again just before the
      // deletes, or cleanup deleted the files of an acknowledged commit. What is left is a commit
      // landing in the moment between this read and the deletes.
      const again = await this.catalog.tableFileSets(info.tableId, retainSince, { signal });
      const live = [withNativeSpellings(again.referenced), withNativeSpellings(again.committed)];
      files = files.filter((f) => f.reason !== 'orphan' || !live.some((set) => set.has(locationKey(f.path))));
    }
    Object.assign(progress, { listed: true, filesToDelete: files.length, bytesToDelete: files.reduce((n, f) => n + f.size, 0) });
    report();
    // Abandoned commit rows go (or are counted) while the files are deleted: the catalog's connection
    // is idle by then. Their files are orphans, older than the window too (written before the rows).
    const abandoned = this.catalog.purgeAbandonedCommits(info.tableId, now - window, { dryRun, signal });
    abandoned.catch(() => {}); // awaited below: failing meanwhile is not an unhandled rejection
    const table = `${info.namespace}.${info.name}`;
    // A failure as a LakeSoulError of the same kind naming the table, `what` saying what failed.
    const failed = (e: unknown, what: (le: LakeSoulError) => string, context: Record<string, unknown> = {}): LakeSoulError => {
      const le = LakeSoulError.is(e) ? e : new LakeSoulError('Io', String((e as Error)?.message ?? e), { cause: e });
      return new LakeSoulError(le.kind, `cleanup of table '${table}': ${what(le)}: ${le.message}`, {
        code: le.code, retryable: le.retryable, cause: e, context: { ...le.context, ...context, table },
      });
    };
    let deleted = 0;
    if (!dryRun) {
      // S3: 1,000 keys a request, 4 requests at once; elsewhere 10 deletes at a time. The first
      // failure starts no more. In groups (deleteGroupSize), to report progress between them.
      const group = deleteGroupSize(store);
      for (let i = 0; i < files.length; i += group) {
        const some = files.slice(i, i + group);
        try {
          await deleteObjects(store, some.map((f) => (prefix ? `${prefix}/${f.path.slice(base.length + 1)}` : f.path.slice(base.length + 1))), { signal });
        } catch (e) {
          await abandoned.catch(() => {}); // settled before the error reports, whatever became of it
          const done = deleted + Number((LakeSoulError.is(e) ? e.context.deleted : 0) ?? 0);
          throw failed(e, (le) => `deleting ${le.context.file ?? 'its files'} failed after ${done} of ${files.length} files were deleted (nothing else was started; run cleanup again)`, { deleted: done });
        }
        deleted += some.length;
        Object.assign(progress, { filesDeleted: deleted, bytesDeleted: progress.bytesDeleted + some.reduce((n, f) => n + f.size, 0) });
        report();
      }
    }
    const abandonedCommits = await abandoned.catch((e: unknown) => {
      throw failed(e, () => `${dryRun ? 'counting' : `${deleted} files were deleted, but deleting`} its abandoned commit rows failed (run cleanup again)`);
    });
    return { dryRun, retainSince, files, bytes: files.reduce((s, f) => s + f.size, 0), deleted, abandonedCommits };
  }
}

/** Whether delete key `i` gives a value (possibly null) for range column `c`. */
type RangeGiven = (c: string, i: number) => boolean;

/**
 * Matches rows against delete keys: a key with every range value (null included: the null
 * partition) matches only in that partition; a key without some range values matches the primary
 * key in every partition whose values equal the range values it does give.
 */
class KeyMatcher {
  private readonly exact = new Set<string>();
  /** Primary key text -> per key: the key text of each given range value, undefined where not given. */
  private readonly wild = new Map<string, (string | undefined)[][]>();
  private readonly exactIdx: number[] = [];
  /** The partition of each exact row (parallel to `exactIdx`). */
  private readonly exactDescs: string[] = [];
  private readonly descs = new Set<string>();

  constructor(
    private readonly pks: string[],
    private readonly ranges: string[],
    kb: RecordBatch,
    given: RangeGiven,
  ) {
    const pkV = pks.map((c) => cellReader(kb.getChild(c)!));
    const rV = ranges.map((c) => { const v = kb.getChild(c); return v ? cellReader(v) : null; });
    const types = ranges.map((c) => kb.schema.fields.find((f) => f.name === c)?.type);
    for (let i = 0; i < kb.numRows; i++) {
      const pk = pkV.map((v) => v(i));
      const has = ranges.map((c, k) => rV[k] !== null && given(c, i));
      const rv = rV.map((v, k) => (v && has[k] ? v(i) : null));
      if (ranges.length > 0 && has.every(Boolean)) {
        this.exact.add(keyText([...rv, ...pk]));
        this.exactIdx.push(i);
        const desc = encodePartitionDesc(ranges, rv.map((x, k) => rangeValueText(x, types[k]!)));
        this.exactDescs.push(desc);
        this.descs.add(desc);
      } else {
        const pkText = keyText(pk);
        const pattern = rv.map((x, k) => (has[k] ? keyText([x]) : undefined));
        const list = this.wild.get(pkText);
        if (list) list.push(pattern);
        else this.wild.set(pkText, [pattern]);
      }
    }
  }

  get hasWildcards(): boolean {
    return this.wild.size > 0;
  }

  exactRows(): number[] {
    return this.exactIdx;
  }

  /** The rows of {@link exactRows} whose partition `exists` (given its partition_desc). */
  exactRowsIn(exists: (desc: string) => boolean): number[] {
    return this.exactIdx.filter((_, k) => exists(this.exactDescs[k]!));
  }

  partitionDescs(): string[] {
    return [...this.descs];
  }

  /** Rows of `b` (with PK and range columns) matched by a wildcard key. */
  wildcardMatches(b: RecordBatch): number[] {
    const pkV = this.pks.map((c) => cellReader(b.getChild(c)!));
    const rV = this.ranges.map((c) => cellReader(b.getChild(c)!));
    const out: number[] = [];
    for (let i = 0; i < b.numRows; i++) if (this.wildMatch(keyText(pkV.map((v) => v(i))), rV, i)) out.push(i);
    return out;
  }

  /** Per row of `b`: whether some key matches it. */
  matches(b: RecordBatch): Uint8Array {
    const pkV = this.pks.map((c) => cellReader(b.getChild(c)!));
    const rV = this.ranges.map((c) => cellReader(b.getChild(c)!));
    const out = new Uint8Array(b.numRows);
    for (let i = 0; i < b.numRows; i++) {
      const pk = pkV.map((v) => v(i));
      if (this.wildMatch(keyText(pk), rV, i) || (this.exact.size > 0 && this.exact.has(keyText([...rV.map((v) => v(i)), ...pk])))) out[i] = 1;
    }
    return out;
  }

  private wildMatch(pkText: string, rV: ((i: number) => unknown)[], i: number): boolean {
    const patterns = this.wild.get(pkText);
    if (!patterns) return false;
    return patterns.some((p) => p.every((want, k) => want === undefined || want === keyText([rV[k]!(i)])));
  }
}

