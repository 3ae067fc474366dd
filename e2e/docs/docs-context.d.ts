/**
 * The stated context of the code blocks fenced as ```ts fragment in README.md and docs/*.md: the
 * names such a block uses without defining them. Fragments are type-checked against these
 * declarations (e2e/docs-examples.test.ts); full blocks (plain ```ts) define everything they use and
 * also run.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type * as danfo from 'danfojs';
import type { Table as ArrowTable, RecordBatch } from 'apache-arrow';
import type { Catalog } from '@lakesoul-ts/meta';
import type { Lakehouse, LakeSoulTable, ObjectStore, StoreRegistry } from '@lakesoul-ts/io';
import type { TfjsDataset, TfjsDatasetOptions, TfjsDatasetSource } from '@lakesoul-ts/connector-tfjs';

declare global {
  /** An open lakehouse (`await Lakehouse.open()`). */
  const lake: Lakehouse;
  /** The same, under the name some guides use. */
  const lakehouse: Lakehouse;
  /** An open catalog. */
  const catalog: Catalog;
  /** A table of the lakehouse (any schema). */
  const table: LakeSoulTable;
  /** A table of sales (order_id, region, product, qty, amount). */
  const sales: LakeSoulTable;
  /** A DataFrame computed from `sales` (same columns). */
  const derived: danfo.DataFrame;
  /** A time in the past (epoch ms). */
  const yesterday: number;
  /** An Arrow table matching `table`'s schema. */
  const arrowTable: ArrowTable;
  /** Record batches. */
  const batches: AsyncIterable<RecordBatch>;
  /** A store of your own, and the registry it is registered in. */
  const myStore: ObjectStore;
  const stores: StoreRegistry;
  /** The rank of this process among `worldSize` training processes. */
  const rank: number;
  const worldSize: number;
  /** The tf instance the model uses, and the model. */
  const tf: typeof tfjs;
  const model: tfjs.LayersModel;
  /** A tfjs dataset over `table`, its source and the options it was made with. */
  const ds: TfjsDataset;
  const source: TfjsDatasetSource;
  const sameOptions: TfjsDatasetOptions;
  /** A table version (number) to pin. */
  const version: number;
}
export {};
