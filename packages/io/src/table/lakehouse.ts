/**
 * Entry point of the table API: a catalog plus a store registry plus a warehouse root for new tables.
 */
import { resolve as resolvePath, sep } from 'node:path';
import { DataType, Field, RecordBatch, Schema, Table, type Dictionary } from 'apache-arrow';
import { Catalog, LakeSoulError, locationKey, normalizeTablePath, optionNames, pathWithin, refuseNonBooleanOptions, refuseOptionValue, refuseUnknownOptions, validateNamespaceName, validateTableName, type CreateTableOptions, type TableInfo } from '@lakesoul-ts/meta';
import { StoreRegistry, type StoreRegistryOptions } from '../store/index.js';
import { deleteGroupSize, deleteObjects, joinUri, toFileUri } from '../store/index.js';
import { LakeSoulTable } from './lakesoul-table.js';
import { inferSchema } from '../arrow/index.js';
import { foreignArrowError } from '../arrow/foreign-arrow.js';
import { ownedFileFilter, removeEmptyTableDirectories, tableListings, withNativeSpellings, writtenByTables, type CleanupProgress } from './table-maintenance.js';
import { partitionDirName, storedLocation } from './data-file-paths.js';
import { checkColumnTypes } from './column-types.js';
import { checkBlobDeclarations } from '../blob/blob-columns.js';
import { CREATING_PROPERTY, abandonedFiles, beginCreating, creatingMarker, deleteAbandonedFiles, endCreating, inspectCreating } from './create-marker.js';
import { deleteUrisBestEffort } from './table-context.js';

/** An object of a table's directory a purge may delete: its URI, its key in the store, its size. */
interface TableFile { uri: string; key: string; size: number }

/** Options of {@link Catalog.open} (whatever the catalog accepts). */
export type CatalogOpenOptions = NonNullable<Parameters<typeof Catalog.open>[0]>;

/** Options of {@link Lakehouse.open}. */
export interface LakehouseOpenOptions {
  /**
   * An open catalog, or options to open one. A catalog the lakehouse opens itself is closed by
   * {@link Lakehouse.close}; a passed-in one stays open (its caller closes it) unless `ownCatalog`.
   */
  catalog?: Catalog | CatalogOpenOptions;
  /** Close a passed-in `catalog` in {@link Lakehouse.close} too (hand over its ownership). Default false. */
  ownCatalog?: boolean;
  /** A registry, or options to create one. */
  stores?: StoreRegistry | StoreRegistryOptions;
  /**
   * URI root for new tables without an explicit path (default `file://<cwd>/.lakesoul/warehouse`). A
   * local path, absolute or relative to the working directory, is taken as that directory's `file://` URI.
   */
  warehouse?: string;
}

/**
 * `warehouse` as a URI: a scheme kept, a local path resolved against the working directory; `~` is
 * refused (nothing expands it); the location as it is stored ({@link storedLocation}: a URL's `%XX`
 * decoded; a local path taken as written, refused where its stored text would name another directory).
 */
function warehouseUri(warehouse: string | undefined): string {
  // a local path is checked as the directory it names: made a `file://` URI first, its `%41` was decoded (tables went to `A`)
  const local = (path: string) => storedLocation(sep === '/' ? path : toFileUri(path), 'warehouse', 'INVALID_WAREHOUSE');
  if (warehouse === undefined) return local(resolvePath('.lakesoul/warehouse'));
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(warehouse)) return storedLocation(warehouse.replace(/\/+$/, ''), 'warehouse', 'INVALID_WAREHOUSE');
  if (warehouse === '' || warehouse.startsWith('~')) {
    throw new LakeSoulError('InvalidArgument', `warehouse '${warehouse}' is not a location: give a URI (file:///abs/path, s3://bucket/prefix) or a local path${warehouse.startsWith('~') ? ' (~ is not expanded: write the home directory out)' : ''}`, {
      code: 'INVALID_WAREHOUSE', context: { warehouse },
    });
  }
  return local(resolvePath(warehouse));
}

/**
 * An empty object that stands for a directory in an object store: `dir/` (the S3 console's, s3a's)
 * or `dir_$folder$` (Hadoop's s3n). `rel` is the key below the table's path ('' for the path's own).
 */
function isDirectoryMarker(rel: string, size: number): boolean {
  return size === 0 && (rel === '' || rel.endsWith('/') || rel.endsWith('_$folder$'));
}

/** Options of {@link Lakehouse.createTable}. */
export interface LakehouseCreateTableOptions {
  namespace?: string;
  rangePartitions?: string[];
  primaryKeys?: string[];
  /** Power of two (default 4 for PK tables). */
  hashBucketNum?: number;
  /** CDC change column (usually `rowKinds`); must be a utf8 column of the schema. */
  cdcColumn?: string;
  properties?: Record<string, string | number | boolean>;
  /** Table URI (default `<warehouse>/<namespace>/<name>`). */
  path?: string;
  /** Return the existing table instead of failing when the name exists. */
  ifNotExists?: boolean;
  signal?: AbortSignal;
  /** Columns holding file references (stored as the `lakesoul_blob_columns` property). */
  blobColumns?: string[];
  /** When the schema is inferred from plain objects: the type of integral numbers (default int64). */
  integers?: 'int64' | 'int32';
}

/** What a table can be created from: a schema, or data whose schema is inferred. */
export type TableSource = Schema | Table | RecordBatch | readonly Record<string, unknown>[];

/** Options of {@link Lakehouse.dropTable}. */
export interface DropTableOptions {
  namespace?: string;
  /** Also delete the table's data files (every object under the table path). Default false. */
  purge?: boolean;
  signal?: AbortSignal;
  /**
   * With `purge`: called every 1,000 objects listed, once the listing ended (the files to delete
   * known), and after each group of deletes (4,000 objects on S3, 500 elsewhere).
   */
  onProgress?: (progress: PurgeProgress) => void;
}

/**
 * What a {@link Lakehouse.dropTable} with `purge` has done so far ({@link DropTableOptions.onProgress}):
 * the fields of {@link CleanupProgress}; a purge deletes on a best-effort basis, so a file it could
 * not delete stays, counted as gone through.
 */
export type PurgeProgress = CleanupProgress;

/** Options of `Lakehouse.open`. */
export const LAKEHOUSE_OPEN_OPTIONS = optionNames<LakehouseOpenOptions>({ catalog: true, ownCatalog: true, stores: true, warehouse: true });

/** Options of `Lakehouse.createTable` and `openOrCreate`. */
export const CREATE_TABLE_OPTIONS = optionNames<LakehouseCreateTableOptions>({
  namespace: true, rangePartitions: true, primaryKeys: true, hashBucketNum: true, cdcColumn: true, properties: true, path: true,
  ifNotExists: true, signal: true, blobColumns: true, integers: true,
});

/** The values of {@link LakehouseCreateTableOptions.integers}. */
const INTEGER_TYPES = ['int64', 'int32'] as const;

/** Options of `Lakehouse.dropTable`. */
export const DROP_TABLE_OPTIONS = optionNames<DropTableOptions>({ namespace: true, purge: true, signal: true, onProgress: true });

/**
 * Refuses createTable's list options given as anything but arrays of names, and properties given as
 * anything but an object: a string was taken letter by letter (`primaryKeys: 'id'` as the keys `i` and
 * `d`), `properties: 'a=b'` stored as `{"0":"a","1":"=","2":"b"}`.
 */
function checkCreateOptionShapes(table: string, options: LakehouseCreateTableOptions): void {
  for (const k of ['primaryKeys', 'rangePartitions', 'blobColumns'] as const) {
    const v: unknown = options[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((c) => typeof c === 'string'))) {
      throw new LakeSoulError('InvalidArgument', `create table '${table}': ${k} must be an array of column names, got ${typeof v === 'string' ? `a string: give ['${v}']` : JSON.stringify(v)}`, { code: 'INVALID_OPTION_VALUE', context: { table, option: k } });
    }
  }
  if (options.properties !== undefined && (options.properties === null || typeof options.properties !== 'object' || Array.isArray(options.properties))) {
    throw new LakeSoulError('InvalidArgument', `create table '${table}': properties must be an object of names to values, got ${JSON.stringify(options.properties)}`, { code: 'INVALID_OPTION_VALUE', context: { table, option: 'properties' } });
  }
}

/** A catalog and stores: creates, opens, lists and drops tables. */
export class Lakehouse {
  private constructor(
    /** The catalog. */
    readonly catalog: Catalog,
    /** The store registry. */
    readonly stores: StoreRegistry,
    /** Root URI of new tables. */
    readonly warehouse: string,
    private readonly ownsCatalog: boolean,
  ) {}

  /** Opens a lakehouse (a PGlite catalog in `./.lakesoul/catalog` unless configured otherwise). */
  static async open(options: LakehouseOpenOptions = {}): Promise<Lakehouse> {
    refuseUnknownOptions(options, LAKEHOUSE_OPEN_OPTIONS, 'Lakehouse.open');
    refuseNonBooleanOptions(options, ['ownCatalog'], 'Lakehouse.open');
    const warehouse = warehouseUri(options.warehouse); // before anything is opened
    const owns = !(options.catalog instanceof Catalog) || options.ownCatalog === true;
    const stores = options.stores instanceof StoreRegistry ? options.stores : new StoreRegistry(options.stores ?? {}); // checked before the catalog opens
    const catalog = options.catalog instanceof Catalog ? options.catalog : await Catalog.open(options.catalog as CatalogOpenOptions);
    return new Lakehouse(catalog, stores, warehouse, owns);
  }

  /**
   * Creates a table (its catalog entry, and its namespace when missing). From a Schema no files are written (a dictionary-encoded column is stored as its values' type).
   * From data (an Arrow Table/RecordBatch, or an array of plain objects) the schema is
   * inferred (Arrow: its types, dictionaries decoded; objects: see the arrow area's `inferSchema`,
   * integers int64 unless `integers: 'int32'`), primary-key columns become non-nullable and all others
   * nullable, and the data
   * is written as the first commit; when that write fails the table is not created either. With
   * `ifNotExists` an existing table is returned as it is (its schema is not compared and the data is
   * NOT written).
   */
  async createTable(name: string, source: TableSource, options: LakehouseCreateTableOptions = {}): Promise<LakeSoulTable> {
    refuseUnknownOptions(options, CREATE_TABLE_OPTIONS, `createTable '${name}'`);
    refuseNonBooleanOptions(options, ['ifNotExists'], `createTable '${name}'`);
    checkCreateOptionShapes(`${options.namespace ?? 'default'}.${name}`, options);
    refuseOptionValue(options.integers, INTEGER_TYPES, 'integers', `createTable '${name}'`);
    const foreign = foreignArrowError(source, `table '${name}': createTable's schema or data`, name);
    if (foreign) throw foreign;
    // a Schema taken from Arrow data (`tableFromArrays(...).schema`) has dictionary strings: their values' type is stored
    if (source instanceof Schema) return this.createFromSchema(name, decodedDictionaries(source), options);
    return this.createFromData(name, source, options, 1);
  }

  /** {@link createTable} from data; `round` counts the tries after meeting tables that went meanwhile. */
  private async createFromData(name: string, source: Exclude<TableSource, Schema>, options: LakehouseCreateTableOptions, round: number): Promise<LakeSoulTable> {
    const namespace = options.namespace ?? 'default';
    // A table left by a create from data whose process was killed before the first commit is
    // created again in its place (its files deleted); one still being created is refused.
    const existing = await this.findTable(name, namespace, options.signal);
    const met = existing ? await this.settle(existing, options.signal) : 'gone';
    if (met === 'table' && options.ifNotExists) return existing!;
    const schema = schemaOfData(name, source, options);
    // marked as being created by this process until the first commit (see create-marker.ts), and
    // known here as running before its row exists: another call of this process meeting the row
    // while the files of the create it replaces are deleted must not take it for abandoned
    const marker = creatingMarker();
    beginCreating(marker);
    let table: LakeSoulTable;
    try {
      // created here, or not at all: the table dropped again below must be the one this call made
      table = await this.createFromSchema(name, schema, { ...options, ifNotExists: false }, marker, met === 'abandoned' ? existing!.info : undefined);
    } catch (e) {
      endCreating(marker);
      if (LakeSoulError.hasCode(e, 'REPLACED_TABLE_GONE')) {
        if (round < 3) return this.createFromData(name, source, options, round + 1);
        // other creates kept making the table again meanwhile: theirs is being created now
        throw new LakeSoulError('Conflict', `table '${namespace}.${name}' is being created by another call meanwhile (an abandoned create of it was made again three times while this call tried); retry`, {
          code: 'TABLE_BEING_CREATED', retryable: true, cause: e, context: { table: `${namespace}.${name}`, namespace },
        });
      }
      if (options.ifNotExists && LakeSoulError.hasCode(e, 'TABLE_EXISTS')) {
        const other = await this.findTable(name, namespace, options.signal);
        // created concurrently: taken when its data is in (or it is no create from data)
        if (other && await this.settle(other, options.signal) === 'table') return other;
        if (round < 3) return this.createFromData(name, source, options, round + 1);
      }
      throw e;
    }
    try {
      await table.write(source as Table | RecordBatch | Record<string, unknown>[], { signal: options.signal });
    } catch (e) {
      // The write committed nothing; nor does the create: a second try does not find an empty table
      // (which `ifNotExists` would return without writing). Kept if another writer committed to it.
      try {
        if (await this.catalog.dropTableIfEmpty(table.info.tableId)) {
          // No commit landed, nor can one now (the row is gone): what the write left under the path
          // (a commit it could not tell the outcome of keeps its files for cleanup) is an orphan no
          // cleanup can reach any more, and a second try was refused TABLE_PATH_NOT_EMPTY for it.
          await deleteAbandonedFiles(this.catalog, this.stores, table.info);
        }
      } catch (dropError) {
        // dropped meanwhile (by another call): nothing is left to drop, the write's own error says it
        if (LakeSoulError.is(dropError, 'NotFound')) throw e;
        const what = `table '${table.info.namespace}.${name}'`;
        throw new LakeSoulError(LakeSoulError.is(e) ? e.kind : 'Io', `${(e as Error)?.message ?? e}; the empty ${what} it created could not be dropped again (${(dropError as Error)?.message ?? dropError}): drop it before trying again`, {
          cause: e, context: { table: `${table.info.namespace}.${name}` },
        });
      }
      throw e;
    } finally {
      endCreating(marker);
    }
    // The data is in: the marker goes. Best effort: left (catalog unreachable), it is harmless, as a
    // table with a commit is never taken for an abandoned create.
    try {
      table.info = await this.catalog.updateTableProperties(table.info.tableId, { [CREATING_PROPERTY]: null });
    } catch {
      // kept
    }
    return table;
  }

  /**
   * Opens the table when it exists, else creates it from `source` (see {@link createTable}; data is
   * written only when the table is created). From data, a table whose create from data was
   * abandoned (its process killed before the data was committed) is created again, with the data;
   * one another process is creating from data right now is refused (Conflict
   * `TABLE_BEING_CREATED`, retryable), not returned empty.
   */
  async openOrCreate(name: string, source: TableSource, options: Omit<LakehouseCreateTableOptions, 'ifNotExists'> = {}): Promise<LakeSoulTable> {
    refuseUnknownOptions(options, CREATE_TABLE_OPTIONS.filter((k) => k !== 'ifNotExists'), `openOrCreate '${name}'`);
    checkCreateOptionShapes(`${options.namespace ?? 'default'}.${name}`, options);
    refuseOptionValue(options.integers, INTEGER_TYPES, 'integers', `openOrCreate '${name}'`);
    const namespace = options.namespace ?? 'default';
    const fromData = !(source instanceof Schema);
    const existing = await this.findTable(name, namespace, options.signal);
    if (existing && (!fromData || await this.settled(existing, options.signal))) return existing;
    // A few rounds: the table another call created meanwhile can be gone again when it is opened
    // (an abandoned create settled by a third call), or be an abandoned create this call settles.
    for (let round = 1; ; round++) {
      try {
        return await this.createTable(name, source, options);
      } catch (e) {
        // Created concurrently: open it (from data: once its data is in).
        if (!LakeSoulError.is(e, 'AlreadyExists') || round === 3) throw e;
        const created = await this.findTable(name, namespace, options.signal);
        if (created && (!fromData || await this.settled(created, options.signal))) return created;
      }
    }
  }

  /** Whether `t`, met by a create from data, is a table to take as it is (see {@link settle}). */
  private async settled(t: LakeSoulTable, signal?: AbortSignal): Promise<boolean> {
    return await this.settle(t, signal) === 'table';
  }

  /**
   * What `t`, met by a create from data, is ({@link inspectCreating}): a table to take as it is, an
   * abandoned create to make again in its place, or gone. A create marker left on a table whose data
   * is in (its creator committed and has not removed it yet, or was killed in between) is removed,
   * from the catalog and from `t.info` (best effort: harmless when left).
   */
  private async settle(t: LakeSoulTable, signal?: AbortSignal): Promise<'table' | 'abandoned' | 'gone'> {
    const state = await inspectCreating(this.catalog, t.info, signal);
    if (state === 'table' && t.info.properties[CREATING_PROPERTY] !== undefined) {
      try {
        t.info = await this.catalog.updateTableProperties(t.info.tableId, { [CREATING_PROPERTY]: null }, { signal });
      } catch {
        // kept: a table with a commit is never taken for an abandoned create
      }
    }
    return state;
  }

  private async findTable(name: string, namespace: string, signal?: AbortSignal): Promise<LakeSoulTable | null> {
    try {
      return await this.table(name, namespace, { signal });
    } catch (e) {
      if (LakeSoulError.is(e, 'NotFound')) return null;
      throw e;
    }
  }

  /** `creating`: the value of the create-from-data marker property (see create-marker.ts) to store with the table. */
  /**
   * Creates the catalog row (see {@link createTable}). `creating`: the create marker of a create
   * from data; `replacing`: an abandoned create of the name, made again in its place.
   */
  private async createFromSchema(name: string, schema: Schema, options: LakehouseCreateTableOptions, creating?: string, replacing?: TableInfo): Promise<LakeSoulTable> {
    const namespace = options.namespace ?? 'default';
    // Before the names become path segments: `/` or `..` would make the path another directory.
    validateNamespaceName(namespace);
    validateTableName(name);
    if (schema.fields.length === 0) throw new LakeSoulError('InvalidArgument', `create table '${namespace}.${name}': the schema has no columns: give at least one`, { code: 'EMPTY_SCHEMA', context: { table: `${namespace}.${name}` } });
    const path = options.path === undefined ? joinUri(this.warehouse, namespace, name) : storedLocation(options.path.replace(/\/+$/, ''), `create table '${namespace}.${name}': path`, 'INVALID_TABLE_PATH');
    // `ifNotExists` on an existing table: returned, files and all, its path not looked at
    const exists = options.ifNotExists === true && await this.findTable(name, namespace, options.signal) !== null;
    checkColumnTypes(`${namespace}.${name}`, schema, options.primaryKeys);
    // a range column's name is part of every partition directory: one too long for it fails at create, not at every write
    for (const c of options.rangePartitions ?? []) partitionDirName(c, '');
    if (options.path !== undefined) await this.checkNotNamespaceDir(namespace, `${namespace}.${name}`, `create table '${namespace}.${name}'`, path, options.signal);
    const properties: Record<string, string | number | boolean> = { ...(options.properties ?? {}) };
    if (CREATING_PROPERTY in properties) {
      throw new LakeSoulError('InvalidArgument', `create table '${namespace}.${name}': property '${CREATING_PROPERTY}' is set by a create from data while its first write runs, not by hand`, {
        context: { table: `${namespace}.${name}`, property: CREATING_PROPERTY },
      });
    }
    if (creating !== undefined) properties[CREATING_PROPERTY] = creating;
    if (options.blobColumns && options.blobColumns.length > 0) {
      for (const c of options.blobColumns) {
        if (!schema.fields.some((f) => f.name === c)) {
          throw new LakeSoulError('InvalidArgument', `blob column '${c}' is not in the schema of table '${name}'`, { context: { table: name, column: c } });
        }
      }
      properties['lakesoul_blob_columns'] = options.blobColumns.join(',');
    }
    // blob columns of a reference type, lakesoul_blob_roots a list of absolute URIs
    checkBlobDeclarations({ name: `${namespace}.${name}`, schema, properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)])) });
    const create: CreateTableOptions = {
      name,
      namespace,
      path,
      schema,
      rangePartitions: options.rangePartitions,
      primaryKeys: options.primaryKeys,
      hashBucketNum: options.hashBucketNum,
      cdcColumn: options.cdcColumn,
      properties,
    };
    // A namespace other than 'default' is created on first use.
    if (namespace !== 'default') await this.catalog.createNamespace(namespace, { ifNotExists: true, signal: options.signal });
    if (replacing && normalizeTablePath(path) === replacing.path) return this.replaceAbandoned(create, replacing, options.signal);
    if (replacing) {
      // at another path: the abandoned create is dropped (while still without commit) and its files
      // deleted before the new table is made
      if (await this.catalog.dropTableIfEmpty(replacing.tableId, { signal: options.signal }).catch(() => false)) {
        await deleteAbandonedFiles(this.catalog, this.stores, replacing, options.signal);
      }
    }
    // The path must hold no files (the default path too: a table dropped without `purge` leaves its
    // files there, which the new table would take as its orphans). Looked at BEFORE the catalog row
    // exists: once it does, a concurrent create with `ifNotExists` gets this table and may stage
    // files in it, which a look afterwards took for foreign ones, and then dropped the table the
    // other call was writing. What the look finds is thrown after the catalog's own checks, whose
    // errors (a path that is or holds another table) say more.
    const notEmpty = exists ? undefined : await this.checkPathEmpty(name, namespace, path, options.path === undefined, options.signal).then(() => undefined, (e: unknown) => ({ e }));
    let info: TableInfo;
    try {
      // never `ifNotExists` here: a table the catalog returned could not be told from one this call created
      info = await this.catalog.createTable({ ...create, signal: options.signal });
    } catch (e) {
      if (options.ifNotExists && LakeSoulError.hasCode(e, 'TABLE_EXISTS')) {
        // created meanwhile by another call (which checked its path): taken as it is
        const other = await this.findTable(name, namespace, options.signal);
        if (other) return other;
      }
      throw e;
    }
    if (notEmpty) {
      // the row is this call's own: nobody else can have written to it unless it was taken by name
      // in the instant since, so only an empty table is dropped
      await this.catalog.dropTableIfEmpty(info.tableId).catch(() => {});
      throw notEmpty.e;
    }
    return new LakeSoulTable(this.catalog, this.stores, info);
  }

  /**
   * Makes a table again in the place of its abandoned create at the same path: the files that
   * create's write left are listed while its row stands, the new row replaces the old in one catalog
   * transaction (only while the old has no commit), and then the listed files, none of which the new
   * table can have written, are deleted. The path is not required empty: what it holds is the
   * abandoned create's (its own create found it empty), or files written into it since, which a
   * commit to it could no longer name (its row is gone) and the new table's cleanup takes as orphans.
   */
  private async replaceAbandoned(create: CreateTableOptions, replacing: TableInfo, signal?: AbortSignal): Promise<LakeSoulTable> {
    const files = await abandonedFiles(this.catalog, this.stores, replacing, signal);
    const info = await this.catalog.createTable({ ...create, replaceEmptyTable: replacing.tableId, signal });
    await deleteUrisBestEffort(this.stores, files);
    return new LakeSoulTable(this.catalog, this.stores, info);
  }

  /**
   * An explicit table path must not be, or contain, the warehouse root or a namespace directory
   * (`<warehouse>/<namespace>`): its cleanup would then walk the tables created there by default.
   */
  private async checkNotNamespaceDir(namespace: string, table: string, what: string, path: string, signal?: AbortSignal, outcome = ''): Promise<void> {
    const namespaces = (await this.catalog.listNamespaces({ signal })).map((n) => n.name);
    if (!namespaces.includes(namespace)) namespaces.push(namespace);
    for (const dir of [this.warehouse, ...namespaces.map((n) => joinUri(this.warehouse, n))]) {
      if (pathWithin(dir, path)) {
        throw new LakeSoulError('InvalidArgument', `${what}: path '${path}' is or contains ${dir === this.warehouse ? 'the warehouse root' : 'the namespace directory'} '${dir}', where other tables live${outcome}`, {
          code: 'TABLE_PATH_OVERLAP', context: { table, namespace, path },
        });
      }
    }
  }

  /**
   * A table's path must hold no files yet: everything under a table's path is the table's (`cleanup`
   * deletes what no commit names there, `dropTable` with `purge` all of it), so a table made on a
   * directory of one's own files, or on the files a table dropped without `purge` left at its
   * default path, would delete them.
   */
  private async checkPathEmpty(name: string, namespace: string, path: string, byDefault: boolean, signal?: AbortSignal): Promise<void> {
    const { store, key } = this.stores.resolve(path);
    for await (const m of store.list(key ? `${key}/` : '', { signal })) {
      const file = key ? m.path.slice(key.length + 1) : m.path;
      const what = byDefault
        ? `its default path '${path}' already holds files ('${file}'...), left by a table of that name dropped without purge or put there by hand: everything under a table's path is the table's (cleanup would delete them as orphans), so delete them, move them away, or give the table another path`
        : `path '${path}' already holds files ('${file}'...): everything under a table's path is the table's (cleanup deletes files no commit names there, drop with purge all of them), so give a new or empty directory; a blob column can reference files where they are, by URI`;
      throw new LakeSoulError('InvalidArgument', `create table '${namespace}.${name}': ${what}`, {
        code: 'TABLE_PATH_NOT_EMPTY', context: { table: `${namespace}.${name}`, namespace, path, file },
      });
    }
  }

  /** Opens a table by name. @throws LakeSoulError NotFound */
  async table(name: string, namespace = 'default', options: { signal?: AbortSignal } = {}): Promise<LakeSoulTable> {
    const info = await this.catalog.getTable(name, namespace, options);
    return new LakeSoulTable(this.catalog, this.stores, info);
  }

  /** Opens a table by its path URI. @throws LakeSoulError NotFound */
  async tableByPath(uri: string, options: { signal?: AbortSignal } = {}): Promise<LakeSoulTable> {
    const info = await this.catalog.getTableByPath(uri.replace(/\/+$/, ''), options);
    return new LakeSoulTable(this.catalog, this.stores, info);
  }

  /** Tables of a namespace (every namespace when omitted). */
  async listTables(namespace?: string, options: { signal?: AbortSignal } = {}): Promise<TableInfo[]> {
    return this.catalog.listTables(namespace, options);
  }

  /**
   * Drops a table from the catalog; with `purge`, also deletes its data files: every object under
   * the table path and every file its commits named there, except files under another table's path
   * or named by another table's commits (those are never deleted; files outside the table path
   * neither). A purge deletes the files before it drops the catalog rows: one that fails or is
   * interrupted leaves the table, and running it again finishes it. Returns the files dropped (with
   * `purge`: the files deleted).
   */
  async dropTable(name: string, options: DropTableOptions = {}): Promise<{ files: string[] }> {
    refuseUnknownOptions(options, DROP_TABLE_OPTIONS, `dropTable '${name}'`);
    // `purge: 'false'` deleted the table's files
    refuseNonBooleanOptions(options, ['purge'], `dropTable '${name}'`);
    const namespace = options.namespace ?? 'default';
    // the entry as listTables gives it: a table whose schema this project cannot decode is dropped too
    const info = await this.catalog.getTableEntry(name, namespace, { signal: options.signal });
    if (!options.purge) {
      const dropped = await this.catalog.dropTable(info.tableId, { signal: options.signal });
      return { files: [...(dropped?.files ?? [])] };
    }
    // Files first, the catalog rows last: a purge that fails or is interrupted leaves the table in
    // the catalog (its files partly deleted), and running it again finishes it. (Dropped first, an
    // interrupted purge left files no command could delete: the table was gone, and a table created
    // again at the path was refused for the files there.)
    const progress: PurgeProgress = { filesListed: 0, listed: false, filesToDelete: 0, bytesToDelete: 0, filesDeleted: 0, bytesDeleted: 0 };
    const report = () => options.onProgress?.({ ...progress });
    // the check's listing is the first pass's
    const { isTableFile, files: listed } = await this.checkPurgeable(info, options.signal, () => { if (++progress.filesListed % 1000 === 0) report(); });
    const owned = await ownedFileFilter(this.catalog, info, options.signal);
    const { store, key: prefix } = this.stores.resolve(info.path);
    const deleted: string[] = [];
    // What is deleted is what the listing finds (a file the catalog names but the listing does not is
    // gone already), the local store's temp files of puts a killed writer left included.
    const purge = async (files: TableFile[], dropped: boolean): Promise<void> => {
      const found = files.filter((f) => owned(f.uri));
      if (dropped && found.length === 0) return;
      Object.assign(progress, { listed: true, filesToDelete: progress.filesToDelete + found.length, bytesToDelete: progress.bytesToDelete + found.reduce((n, f) => n + f.size, 0) });
      report();
      const group = deleteGroupSize(store);
      for (let i = 0; i < found.length; i += group) {
        const some = found.slice(i, i + group);
        try {
          await deleteObjects(store, some.map((f) => f.key), { signal: options.signal });
        } catch (e) {
          const done = deleted.length + (LakeSoulError.is(e) && typeof e.context.deleted === 'number' ? e.context.deleted : 0);
          const cause = e instanceof Error ? e.message : String(e);
          throw new LakeSoulError(LakeSoulError.is(e) ? e.kind : 'Io', `drop table '${namespace}.${name}' with purge: ${cause}; ${done} of its files were deleted${dropped
            ? ' and the table is dropped: delete the rest of its directory yourself'
            : `, the table was not dropped: run the drop again${LakeSoulError.is(e, 'Aborted') ? ' to finish it' : ' once that is fixed'}`}`, {
            code: LakeSoulError.is(e) ? e.code : 'IO', retryable: LakeSoulError.is(e) && e.retryable, cause: e,
            context: { table: `${namespace}.${name}`, namespace, path: info.path, file: LakeSoulError.is(e) ? e.context.file : undefined, deleted: done },
          });
        }
        deleted.push(...some.map((f) => f.uri));
        Object.assign(progress, { filesDeleted: progress.filesDeleted + some.length, bytesDeleted: progress.bytesDeleted + some.reduce((n, f) => n + f.size, 0) });
        report();
      }
    };
    await purge(listed, false);
    await this.catalog.dropTable(info.tableId, { signal: options.signal }).catch((e: unknown) => {
      if (!(e instanceof LakeSoulError) || e.kind === 'NotFound') throw e;
      throw new LakeSoulError(e.kind, `drop table '${namespace}.${name}' with purge: its files were deleted (${deleted.length}), but removing it from the catalog failed: ${e.message}. The table stays in the catalog without its data: run the drop again to finish it`, {
        code: e.code, retryable: e.retryable, cause: e, context: { ...e.context, table: `${namespace}.${name}`, namespace, path: info.path, deleted: deleted.length },
      });
    });
    // what writers committed while the files went, now that none can commit (a file that appeared
    // since the check and is not the table's stays)
    const since: TableFile[] = [];
    for (const { metas, temporary } of tableListings(store, prefix, options.signal)) {
      for await (const m of metas) {
        const uri = `${info.path}/${m.path.slice(prefix.length + 1)}`;
        if (isTableFile(uri, temporary)) since.push({ uri, key: m.path, size: m.size });
      }
    }
    await purge(since, true);
    await removeEmptyTableDirectories(store, info.path, prefix, owned, options.signal);
    return { files: deleted };
  }

  /**
   * Checks, before a drop with `purge` changes anything, that the table's path is a table's
   * directory: not the root of a file system or bucket, not (nor holding) the warehouse root or a
   * namespace directory, and holding only what a table holds (see `writtenByTables`, the
   * files its commits name, temp files of a killed writer). A catalog row written elsewhere (another
   * engine, a mistake) can name any directory: purging a home directory deleted everything in it.
   * Returns the predicate of the table's files (by URI; `temporary` for the local store's temp files)
   * and the table's files it listed (`onListed` is called per object listed).
   * @throws LakeSoulError InvalidArgument (`TABLE_PATH_OVERLAP`, `PURGE_FOREIGN_FILES`), nothing dropped.
   */
  private async checkPurgeable(info: TableInfo, signal: AbortSignal | undefined, onListed: () => void): Promise<{ isTableFile: (uri: string, temporary: boolean) => boolean; files: TableFile[] }> {
    const what = `drop table '${info.namespace}.${info.name}' with purge`;
    const { store, key: prefix } = this.stores.resolve(info.path);
    const context = { table: `${info.namespace}.${info.name}`, namespace: info.namespace, path: info.path };
    if (!prefix) {
      throw new LakeSoulError('InvalidArgument', `${what}: the table's path '${info.path}' is the root of its file system or bucket: nothing was dropped or deleted; drop it without purge`, {
        code: 'TABLE_PATH_OVERLAP', context,
      });
    }
    await this.checkNotNamespaceDir(info.namespace, context.table, what, info.path, signal, ': nothing was dropped or deleted; drop it without purge');
    const sets = await this.catalog.tableFileSets(info.tableId, Date.now(), { signal });
    const named = withNativeSpellings([...sets.committed, ...sets.referenced]);
    const isTableFile = (uri: string, temporary: boolean): boolean => {
      return writtenByTables(uri.slice(info.path.length + 1), temporary) || named.has(locationKey(uri));
    };
    const foreign: string[] = [];
    const files: TableFile[] = [];
    let count = 0;
    for (const { metas, temporary } of tableListings(store, prefix, signal)) {
      for await (const m of metas) {
        onListed();
        const uri = `${info.path}/${m.path.slice(prefix.length + 1)}`;
        if (isTableFile(uri, temporary)) files.push({ uri, key: m.path, size: m.size });
        else if (isDirectoryMarker(m.path.slice(prefix.length + 1), m.size)) continue; // neither the table's nor someone's: left as it is
        else if (++count <= 3) foreign.push(m.path.slice(prefix.length + 1));
      }
    }
    if (count > 0) {
      throw new LakeSoulError('InvalidArgument', `${what}: its path '${info.path}' holds ${count} file${count === 1 ? '' : 's'} no table writes (${foreign.map((f) => `'${f}'`).join(', ')}${count > 3 ? ', ...' : ''}), so it may not be the table's own directory: nothing was dropped or deleted. Move ${count === 1 ? 'that file' : 'those files'} away and purge again, or drop the table without purge and delete what you choose yourself`, {
        code: 'PURGE_FOREIGN_FILES', context: { ...context, file: foreign[0], files: count },
      });
    }
    return { isTableFile, files };
  }

  /**
   * Closes the catalog when the lakehouse owns it (it opened it, or `ownCatalog` was set). Idempotent.
   * Calls in flight are not waited for: a write whose commit comes after close() fails with
   * `DRIVER_CLOSED` and deletes its data files first (nothing reached the catalog); the stores stay open.
   */
  async close(): Promise<void> {
    if (this.ownsCatalog) await this.catalog.close();
  }

  /** `await using lake = await Lakehouse.open()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The schema of data a table is created from (see {@link Lakehouse.createTable}). */
/** `schema` with each dictionary-encoded column as its value type: LakeSoul stores the values' type. */
function decodedDictionaries(schema: Schema): Schema {
  if (!schema.fields.some((f) => DataType.isDictionary(f.type))) return schema;
  return new Schema(
    schema.fields.map((f) => {
      const type = DataType.isDictionary(f.type) ? (f.type as Dictionary).dictionary : f.type;
      return new Field(f.name, type, f.nullable, f.metadata);
    }),
    schema.metadata,
  );
}

function schemaOfData(name: string, source: Exclude<TableSource, Schema>, options: LakehouseCreateTableOptions): Schema {
  const pks = options.primaryKeys ?? [];
  let schema: Schema;
  if (source instanceof Table || source instanceof RecordBatch) {
    schema = decodedDictionaries(source.schema);
  } else if (Array.isArray(source)) {
    if (source.length === 0) {
      throw new LakeSoulError('InvalidArgument', `cannot infer the schema of table '${name}' from no rows: give a Schema`, { context: { table: name } });
    }
    schema = inferSchema(source, { integers: options.integers, table: name });
  } else {
    const hint = source !== null && typeof source === 'object' && 'schema' in source
      ? ` (got an object with a 'schema' key: pass the Schema itself, createTable(name, schema, { primaryKeys, ... }))`
      : '';
    throw new LakeSoulError('InvalidArgument', `table '${name}': createTable takes a Schema, an Arrow Table or RecordBatch, or an array of objects${hint}`, { context: { table: name } });
  }
  for (const k of pks) {
    if (!schema.fields.some((f) => f.name === k)) {
      throw new LakeSoulError('InvalidArgument', `primary-key column '${k}' is not in the data of table '${name}'`, { context: { table: name, column: k } });
    }
  }
  // Primary keys are non-null; every other column nullable, whatever the source said (later writes may hold nulls).
  return new Schema(schema.fields.map((f) => f.clone({ nullable: !pks.includes(f.name) })), schema.metadata);
}
