/**
 * The stages of {@link tfjsDataset} that run before any data is read: the options checked, the scan
 * planned (image column, row counts from Parquet footers, this reader's shard, the column mapping),
 * and the position a `resumeFrom` state continues from.
 */
import { LakeSoulError, arrowSchemaFromJson, optionNames, refuseNonBooleanOptions, refuseUnknownOptions } from '@lakesoul-ts/meta';
import { BLOB_COLUMNS_PROPERTY, blobColumnsOf, partitionMayMatch, type ScanOptions, type ScanPlan, type ScanPlanJSON, type Split } from '@lakesoul-ts/io';
import { isBinaryType } from './arrow-rows.js';
import { invalid, resolveMapping, type ResolvedMapping } from './dataset-mapping.js';
import { ImagePipeline } from './image-pipeline.js';
import { assignShards, equalizedSampleCount, shardIndex, type EqualizeMode } from './shard-assign.js';
import type { RowTransform, ScannableTable, TfjsDatasetOptions, TfjsDatasetSource } from './tfjs-dataset.js';

/** The options of a dataset, checked, with their defaults. */
export interface DatasetSettings {
  batchSize: number;
  readBatchSize: number;
  equalize: EqualizeMode;
  rank: number;
  worldSize: number;
  workersPerRank: number;
  worker: number;
  /** This reader's global shard, of `numShards`. */
  shard: number;
  numShards: number;
  shuffle: { seed: number; bufferSize: number } | null;
  pipeline: ImagePipeline | undefined;
  rowHook: RowTransform | undefined;
}

/** The names of {@link TfjsDatasetOptions}, checked complete by the compiler. */
const DATASET_OPTIONS = optionNames<TfjsDatasetOptions>({
  partitions: true, columns: true, filter: true, snapshot: true, readBatchSize: true, batchSize: true, dropRemainder: true,
  features: true, labels: true, image: true, transform: true, batchTransform: true, decode: true, tf: true, rank: true,
  worldSize: true, workersPerRank: true, worker: true, equalize: true, shuffle: true, epoch: true, resumeFrom: true, signal: true,
});

/** The names of `snapshot`, `shuffle` and `decode`'s objects: a misspelled one was ignored (a misspelled `version` read the latest data). */
const SNAPSHOT_OPTIONS = ['version', 'timestamp'];
const SHUFFLE_OPTIONS = optionNames<NonNullable<TfjsDatasetOptions['shuffle']>>({ seed: true, bufferSize: true });
const DECODE_OPTIONS = optionNames<NonNullable<TfjsDatasetOptions['decode']>>({ decoder: true, workers: true, concurrency: true, resize: true, executor: true });

/** Checks `options` (before any catalog or storage access). */
export function validateOptions(options: TfjsDatasetOptions): DatasetSettings {
  refuseUnknownOptions(options, DATASET_OPTIONS, 'tfjsDataset');
  refuseUnknownOptions(options.snapshot, SNAPSHOT_OPTIONS, 'tfjsDataset snapshot');
  refuseUnknownOptions(options.shuffle, SHUFFLE_OPTIONS, 'tfjsDataset shuffle');
  refuseUnknownOptions(options.decode, DECODE_OPTIONS, 'tfjsDataset decode');
  // `dropRemainder: 'false'` dropped each epoch's last, smaller batch
  refuseNonBooleanOptions(options, ['dropRemainder'], 'tfjsDataset');
  if (options.snapshot) {
    const given = SNAPSHOT_OPTIONS.filter((k) => (options.snapshot as Record<string, unknown>)[k] !== undefined);
    // {} (or { timestamp: undefined }) read the latest version: not what a pinned run asked for
    if (given.length !== 1) throw invalid(`snapshot takes one of version or timestamp, got ${given.length === 0 ? 'neither' : 'both'}: leave snapshot out to read the latest version`, { snapshot: given });
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid(`batchSize must be a positive integer, got ${batchSize}`);
  const equalize: EqualizeMode = options.equalize ?? 'none';
  if (!['pad', 'drop', 'none'].includes(equalize)) throw invalid(`equalize must be 'pad', 'drop' or 'none', got ${String(equalize)}`);
  // null (a JSON config's "worker": null) is not "left out": it became worker 0, the shard of another reader
  for (const k of ['rank', 'worldSize', 'workersPerRank', 'worker'] as const) {
    if (options[k] === null) throw invalid(`${k} is null: give an integer, or leave ${k} out`, { [k]: null }, 'BAD_SHARD_OPTION');
  }
  if ((options.rank === undefined) !== (options.worldSize === undefined)) {
    throw invalid('rank and worldSize go together: give both (sharded) or neither (one reader)', { rank: options.rank, worldSize: options.worldSize }, 'BAD_SHARD_OPTION');
  }
  if ((options.workersPerRank !== undefined || options.worker !== undefined) && options.rank === undefined) {
    throw invalid('workersPerRank/worker need rank and worldSize', {}, 'BAD_SHARD_OPTION');
  }
  // never guessed either: every worker of a rank read worker 0's shard
  if (options.workersPerRank !== undefined && options.workersPerRank > 1 && options.worker === undefined) {
    throw invalid(`workersPerRank ${options.workersPerRank} needs worker (0..${options.workersPerRank - 1}): which of the rank's readers this one is`, {}, 'BAD_SHARD_OPTION');
  }
  const rank = options.rank ?? 0;
  const worldSize = options.worldSize ?? 1;
  const workersPerRank = options.workersPerRank ?? 1;
  const worker = options.worker ?? 0;
  const { shard, numShards } = shardIndex({ rank, worldSize, workersPerRank, worker });
  const shuffle = options.shuffle;
  if (shuffle) {
    if (!Number.isInteger(shuffle.seed)) throw invalid(`shuffle.seed must be an integer, got ${shuffle.seed}`);
    if (shuffle.bufferSize !== undefined && (!Number.isInteger(shuffle.bufferSize) || shuffle.bufferSize < 1)) throw invalid(`shuffle.bufferSize must be a positive integer, got ${shuffle.bufferSize}`);
  }
  return {
    batchSize,
    readBatchSize: options.readBatchSize ?? 1024,
    equalize,
    rank,
    worldSize,
    workersPerRank,
    worker,
    shard,
    numShards,
    shuffle: shuffle ? { seed: shuffle.seed, bufferSize: shuffle.bufferSize ?? 1024 } : null,
    pipeline: options.image ?? (options.transform instanceof ImagePipeline ? options.transform : undefined),
    rowHook: typeof options.transform === 'function' ? options.transform : undefined,
  };
}

/** A planned dataset: the scan, this reader's shard of it, and how its rows become tensors. */
export interface PlannedDataset {
  plan: ScanPlan;
  planJSON: ScanPlanJSON;
  tableName: string;
  /** The reference column the image pipeline decodes (null without one). */
  imageColumn: string | null;
  /** The image column is a binary column holding the image bytes themselves (no reference to fetch). */
  inlineImage: boolean;
  shardSplits: Split[];
  /** Samples per epoch when equalizing (else null). */
  target: number | null;
  /** Split row counts are exact (no primary key, no filter): positions can be computed without data. */
  exactCounts: boolean;
  samplesPerEpoch: number | null;
  mapping: ResolvedMapping;
  /** The columns materialized per row. */
  readColumns: string[];
}

/** Plans the scan of `source` for `options`; row counts come from Parquet footers when missing. */
export async function planDataset(source: TfjsDatasetSource, options: TfjsDatasetOptions, settings: DatasetSettings): Promise<PlannedDataset> {
  const { pipeline, rowHook } = settings;
  const scanOptions = scanOptionsOf(options, settings.readBatchSize);
  let table: TfjsDatasetSource = source;
  let imageColumn: string | null = pipeline?.column ?? null;
  if (pipeline && imageColumn === null && isScannable(source)) imageColumn = declaredImageColumn(source.info);
  if ((options.columns !== undefined || pipeline) && 'lakehouse' in source) {
    table = await source.lakehouse.table(source.table, source.namespace);
    if (pipeline && imageColumn === null) imageColumn = declaredImageColumn(table.info);
  }
  // a binary image column holds the bytes themselves: nothing to fetch
  if (pipeline && imageColumn !== null && !isBinaryColumn(isScannable(table) ? table.info?.schema : undefined, imageColumn)) scanOptions.blobs = [imageColumn];
  if (options.columns !== undefined) scanOptions.columns = columnsToScan(options, imageColumn, isScannable(table) ? table.info?.schema : undefined);
  let plan = await resolvePlan(table, scanOptions);
  let planJSON = plan.toJSON();
  const blobs = planJSON.blobs?.columns ?? [];
  const binaries = plan.schema.fields.filter((f) => isBinaryType(f.type) && !f.name.endsWith('__bytes')).map((f) => f.name);
  if (pipeline && imageColumn === null) {
    // no reference column: the one binary column, when there is exactly one, holds the images
    if (blobs.length === 1) imageColumn = blobs[0];
    else if (blobs.length === 0 && binaries.length === 1) imageColumn = binaries[0];
    else throw invalid(`image pipeline: say which column to decode (a reference column, or a binary column of image bytes) with images....on('<column>') (plan blob columns: [${blobs.join(', ')}]; binary columns: [${binaries.join(', ')}])`, {}, 'IMAGE_COLUMN_REQUIRED');
  }
  const inlineImage = pipeline !== undefined && imageColumn !== null && binaries.includes(imageColumn);
  if (pipeline && imageColumn !== null && !inlineImage && !blobs.includes(imageColumn)) {
    throw invalid(`image column ${imageColumn} is not read as bytes by the plan (plan blob columns: [${blobs.join(', ')}]); plan with blobs: ['${imageColumn}']`, { column: imageColumn }, 'IMAGE_COLUMN_NOT_READ');
  }
  const tableName = planJSON.splits[0]?.tableName ?? (isScannable(table) ? table.info?.name : undefined) ?? ('table' in source && typeof source.table === 'string' ? source.table : '(plan)');
  // Row counts come from Parquet footers (ranged reads, no data pages): they balance the shards and
  // tell samplesPerEpoch before any data is read.
  if (planJSON.splits.some((s) => s.rowCount === null)) {
    plan = await plan.withRowCounts({ signal: options.signal });
    planJSON = plan.toJSON();
  }
  const shards = assignShards(plan.splits, settings.numShards);
  const shardSplits = shards[settings.shard];
  const target = equalizedSampleCount(shards, settings.equalize);
  const exactCounts = planJSON.primaryKeys.length === 0 && planJSON.filter === null && shardSplits.every((s) => s.rowCount !== null);
  const samplesPerEpoch = target ?? (exactCounts ? shardSplits.reduce((a, s) => a + (s.rowCount as number), 0) : null);
  const mapping = resolveMapping(plan.schema, options, imageColumn, tableName, rowHook !== undefined);
  // Without a row hook only the mapped columns are materialized per row; a hook sees every column.
  const readColumns = rowHook
    ? plan.schema.fields.map((f) => f.name)
    : [...new Set([...mapping.features.map((f) => f.column), ...(mapping.label ? [mapping.label.column] : []), ...(imageColumn ? [imageColumn, `${imageColumn}__bytes`] : [])])];
  return { plan, planJSON, tableName, imageColumn, inlineImage, shardSplits, target, exactCounts, samplesPerEpoch, mapping, readColumns };
}

/** The epoch and position `options` start from (`resumeFrom` checked against this reader and plan). */
export function resumePosition(options: TfjsDatasetOptions, s: DatasetSettings, p: PlannedDataset): { epoch: number; consumed: number } {
  const epoch = options.epoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw invalid(`epoch must be a non-negative integer, got ${epoch}`);
  const r = options.resumeFrom;
  if (!r) return { epoch, consumed: 0 };
  checkStateShape(r, p.tableName);
  const tableId = planTableId(p.planJSON);
  if (r.tableId !== undefined && tableId !== undefined && r.tableId !== tableId) {
    throw new LakeSoulError('Conflict', `resumeFrom: the state was saved reading another table (table id ${r.tableId}) than ${p.tableName} (table id ${tableId}); a state resumes only the table it was read from (one dropped and created again under its name is another table): start this table at epoch 0, or resume the table the state came from`, {
      code: 'RESUME_MISMATCH',
      context: { table: p.tableName },
    });
  }
  const mismatch = (what: string, was: unknown, now: unknown) =>
    new LakeSoulError('Conflict', `resumeFrom: ${what} was ${JSON.stringify(was)}, this reader has ${JSON.stringify(now)}; resume with the same ${what}`, { code: 'RESUME_MISMATCH', context: { table: p.tableName } });
  // At an epoch boundary nothing of the epoch was delivered: the next epoch is the same for any reader
  // given its shard, so a run may continue on more or fewer ranks (each rank resumes from any rank's state).
  const atEpochStart = r.samplesConsumed === 0;
  if (!atEpochStart && (r.rank !== s.rank || r.worldSize !== s.worldSize || r.workersPerRank !== s.workersPerRank || r.worker !== s.worker)) {
    throw new LakeSoulError('Conflict', `resumeFrom: sharding [rank, worldSize, workersPerRank, worker] was ${JSON.stringify([r.rank, r.worldSize, r.workersPerRank, r.worker])}, this reader has ${JSON.stringify([s.rank, s.worldSize, s.workersPerRank, s.worker])}; ` +
      `resume mid-epoch with the same sharding, or change it at an epoch boundary: from a state saved there (samplesConsumed 0), or with epoch: ${r.epoch + 1} and no resumeFrom (the rest of epoch ${r.epoch} is then skipped)`,
    { code: 'RESUME_MISMATCH', context: { table: p.tableName } });
  }
  if ((r.seed ?? null) !== (s.shuffle?.seed ?? null)) throw mismatch('shuffle seed', r.seed, s.shuffle?.seed ?? null);
  // states of earlier versions lack these: not checked then
  if (r.bufferSize !== undefined && r.bufferSize !== (s.shuffle?.bufferSize ?? null)) throw mismatch('shuffle bufferSize', r.bufferSize, s.shuffle?.bufferSize ?? null);
  if (r.equalize !== undefined && r.equalize !== s.equalize) throw mismatch('equalize', r.equalize, s.equalize);
  if (r.selection !== undefined && r.selection !== selectionOf(options)) throw mismatch('selection (partitions and filter)', JSON.parse(r.selection), JSON.parse(selectionOf(options)));
  // the filter the plan applies: a planned source's own (its `filter` option is ignored), so a plan
  // with another filter over the same versions was accepted and yielded other rows
  if (r.planFilter !== undefined && r.planFilter !== planFilterOf(p.planJSON)) throw mismatch('plan filter', JSON.parse(r.planFilter), JSON.parse(planFilterOf(p.planJSON)));
  const now = p.planJSON.partitionVersions;
  // Plans list the partitions their filter can match; plans before that listed every partition, and
  // a state saved from one names partitions the filter leaves out, which gave the read no row.
  const { filter, rangePartitions, tableSchemaJson } = p.planJSON;
  const schema = filter !== null && rangePartitions.length > 0 ? arrowSchemaFromJson(tableSchemaJson) : null;
  for (const k of new Set([...Object.keys(now), ...Object.keys(r.tableVersions)])) {
    if (now[k] === undefined && schema !== null && !partitionMayMatch(filter!, k, schema)) continue;
    if (now[k] !== r.tableVersions[k]) {
      throw new LakeSoulError('Conflict', `resumeFrom: partition ${k} of ${p.tableName} was read at version ${r.tableVersions[k] ?? 'none'}, the plan now has ${now[k] ?? 'none'}; resume from the same plan JSON (ds.plan, saved with the state), or pin the read: snapshot: { version } (a table of one partition) or snapshot: { timestamp } (a time when the state's versions were the latest)`, {
        code: 'RESUME_VERSION_MISMATCH',
        context: { table: p.tableName, partition: k },
      });
    }
  }
  if (!Number.isInteger(r.epoch) || r.epoch < 0 || !Number.isInteger(r.samplesConsumed) || r.samplesConsumed < 0) throw invalid('resumeFrom: bad epoch/samplesConsumed');
  // A position past the end of the epoch is no position in it: the first iteration yielded all of the
  // next epoch and the difference was lost without a word. Where the count is known up front
  // ('pad' / 'drop', or exact split row counts) it is refused here; otherwise the epoch stream refuses
  // it once the epoch ends short of it (epoch-stream.ts). The end itself is a position: the next epoch.
  if (p.samplesPerEpoch !== null && r.samplesConsumed > p.samplesPerEpoch) {
    throw invalid(
      `resumeFrom: position ${r.samplesConsumed} (samplesConsumed) is past the end of epoch ${r.epoch}, which holds ${p.samplesPerEpoch} samples on this reader (shard ${s.shard} of ${p.tableName}${s.equalize === 'none' ? '' : `, equalize '${s.equalize}'`}); resume from a state this reader's getState() saved, or with samplesConsumed 0 and epoch ${r.epoch + 1} for the next epoch`,
      { table: p.tableName, epoch: r.epoch, samplesConsumed: r.samplesConsumed, samplesPerEpoch: p.samplesPerEpoch, shard: s.shard },
      'RESUME_PAST_END',
    );
  }
  return { epoch: r.epoch, consumed: r.samplesConsumed };
}

/** The `table_id` of the table a plan reads (its splits carry it); undefined for a plan with no split. */
export function planTableId(plan: ScanPlanJSON): string | undefined {
  return plan.splits.find((s) => typeof s.tableId === 'string')?.tableId;
}

/**
 * Refuses a `resumeFrom` that is no state `getState()` returns (edited, truncated, another program's),
 * naming the field: its checks below failed on it with a TypeError or a SyntaxError, or said
 * "was read at version 0, the plan now has 0" of a version edited into the string "0".
 */
function checkStateShape(r: unknown, table: string): void {
  const bad = (field: string, want: string, got: unknown) =>
    invalid(`resumeFrom${field === '' ? '' : `.${field}`} must be ${want}, got ${got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 64) ?? String(got)}: resume from a state getState() returned (saved as JSON as it is)`, { table, field: field === '' ? 'resumeFrom' : `resumeFrom.${field}` });
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw bad('', 'an object', r);
  const o = r as Record<string, unknown>;
  const versions = o.tableVersions;
  if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) throw bad('tableVersions', 'an object of partition versions', versions);
  for (const [k, v] of Object.entries(versions)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad(`tableVersions[${JSON.stringify(k)}]`, 'a non-negative integer', v);
  }
  for (const f of ['epoch', 'samplesConsumed', 'rank', 'worldSize', 'workersPerRank', 'worker']) {
    if (!Number.isSafeInteger(o[f]) || (o[f] as number) < 0) throw bad(f, 'a non-negative integer', o[f]);
  }
  if (o.seed !== null && typeof o.seed !== 'number') throw bad('seed', 'a number or null', o.seed);
  for (const f of ['selection', 'planFilter']) {
    if (o[f] === undefined) continue;
    try {
      if (typeof o[f] !== 'string') throw new Error();
      JSON.parse(o[f] as string);
    } catch {
      throw bad(f, 'a JSON text', o[f]);
    }
  }
  if (o.tableId !== undefined && typeof o.tableId !== 'string') throw bad('tableId', 'a string', o.tableId);
}

function scanOptionsOf(options: TfjsDatasetOptions, readBatchSize: number): ScanOptions {
  const scan: ScanOptions = { batchSize: readBatchSize, signal: options.signal };
  if (options.partitions !== undefined) scan.partitions = options.partitions;
  if (options.filter !== undefined) scan.filter = options.filter;
  if (options.snapshot) {
    if ('version' in options.snapshot) scan.version = options.snapshot.version;
    else scan.timestamp = options.snapshot.timestamp;
  }
  return scan;
}

/**
 * `options.columns` plus every column the image, labels and features need: those of the table's
 * schema when it is known (a label or feature a transform adds is not scanned; an unknown one is
 * refused by the mapping, with its reason).
 */
function columnsToScan(options: TfjsDatasetOptions, imageColumn: string | null, schema: { fields: { name: string }[] } | undefined): string[] {
  const want = new Set(options.columns);
  const known = schema ? new Set(schema.fields.map((f) => f.name)) : null;
  const addCol = (c: string | undefined) => c !== undefined && (known === null || known.has(c)) && want.add(c);
  if (imageColumn) addCol(imageColumn);
  if (typeof options.labels === 'string') addCol(options.labels);
  else if (options.labels) addCol(options.labels.column);
  const feats = options.features;
  if (typeof feats === 'string') addCol(feats);
  else if (Array.isArray(feats)) feats.forEach(addCol);
  else if (feats) Object.values(feats).forEach((v) => addCol(typeof v === 'string' ? v : v.column));
  return [...want];
}

/** Whether `column` of `schema` (when known) is a binary column. */
function isBinaryColumn(schema: { fields: readonly { name: string; type: unknown }[] } | undefined, column: string): boolean {
  const f = schema?.fields.find((x) => x.name === column);
  return f !== undefined && isBinaryType(f.type as Parameters<typeof isBinaryType>[0]);
}

function isScannable(s: unknown): s is ScannableTable {
  return typeof (s as ScannableTable)?.scan === 'function';
}

async function resolvePlan(source: TfjsDatasetSource, scan: ScanOptions): Promise<ScanPlan> {
  if ('plan' in source && source.plan) return source.plan;
  if ('planJSON' in source) return source.open(source.planJSON);
  let table: ScannableTable;
  if (isScannable(source)) table = source;
  else if ('lakehouse' in source) table = await source.lakehouse.table(source.table, source.namespace);
  else throw new LakeSoulError('InvalidArgument', 'tfjsDataset: source must be a table, { lakehouse, table }, { plan } or { planJSON, open }');
  return table.scan(scan);
}

/** The table's only declared blob column (io's rule: property, then field metadata), else null. */
function declaredImageColumn(info: ScannableTable['info']): string | null {
  if (!info) return null;
  const cols = info.schema
    ? blobColumnsOf({ schema: info.schema, properties: info.properties, name: info.name })
    : (info.properties?.[BLOB_COLUMNS_PROPERTY] ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  return cols.length === 1 ? cols[0] : null;
}

/** The scan selection of `options` (partitions and filter) as JSON, recorded in resume states. */
export function selectionOf(options: Pick<TfjsDatasetOptions, 'partitions' | 'filter'>): string {
  return JSON.stringify({ partitions: options.partitions ?? null, filter: options.filter ?? null }, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** The filter `plan` applies (normalized, JSON-safe in plan JSON) as JSON, recorded in resume states. */
export function planFilterOf(plan: Pick<ScanPlanJSON, 'filter'>): string {
  return JSON.stringify(plan.filter ?? null);
}
