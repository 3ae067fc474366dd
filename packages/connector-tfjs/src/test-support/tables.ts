/**
 * Test fixtures (not part of the package build): a real Lakehouse (embedded PGlite catalog, or the
 * PostgreSQL of LAKESOUL_TEST_PG_URL) with local-disk storage, and tables with known contents.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float32, Int32, Int64, List, Schema, Utf8, vectorFromArray, makeTable, type Table } from 'apache-arrow';
import { Lakehouse, joinUri, toFileUri, type LakeSoulTable, type StoreRegistryOptions } from '@lakesoul-ts/io';
import { PNG } from 'pngjs';

/** A lakehouse in a temp dir; `close()` removes it. */
export async function openTestLakehouse(options: { pgUrl?: string; warehouse?: string; stores?: StoreRegistryOptions } = {}): Promise<{ lakehouse: Lakehouse; dir: string; pgSchema: string | null; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-tfjs-'));
  const pgSchema = options.pgUrl ? `tfjs_${process.pid}_${Date.now()}` : null;
  const lakehouse = await Lakehouse.open({
    catalog: options.pgUrl ? { url: options.pgUrl, schema: pgSchema! } : { dataDir: join(dir, 'catalog') },
    warehouse: options.warehouse ?? toFileUri(join(dir, 'warehouse')),
    stores: options.stores,
  });
  return {
    lakehouse,
    dir,
    pgSchema,
    async close() {
      await lakehouse.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const tabularSchema = new Schema([
  new Field('id', new Int64(), false),
  new Field('x', new Float32(), false),
  new Field('v', new List(new Field('item', new Float32(), true)), false),
  new Field('label', new Int32(), false),
  new Field('date', new Utf8(), false),
]);

/** Rows `ids` with x = id / 10, v = [id, -id, 0.5], label = id % 3, in partition `date`. */
export function tabularRows(ids: number[], date: string): Table {
  return makeTable({
    id: vectorFromArray(ids.map(BigInt), new Int64()),
    x: vectorFromArray(ids.map((i) => i / 10), new Float32()),
    v: vectorFromArray(ids.map((i) => [i, -i, 0.5]), new List(new Field('item', new Float32(), true))),
    label: vectorFromArray(ids.map((i) => i % 3), new Int32()),
    date: vectorFromArray(ids.map(() => date), new Utf8()),
  } as never) as unknown as Table;
}

/**
 * A non-PK table partitioned by date whose files (= splits) have the given row counts, written one
 * append per file; ids run 0..total-1 in file order.
 */
export async function createTabularTable(lakehouse: Lakehouse, name: string, files: { date: string; rows: number }[]): Promise<{ table: LakeSoulTable; total: number }> {
  const table = await lakehouse.createTable(name, tabularSchema, { rangePartitions: ['date'] });
  let next = 0;
  for (const f of files) {
    const ids = Array.from({ length: f.rows }, (_, i) => next + i);
    next += f.rows;
    await table.write(tabularRows(ids, f.date), { mode: 'append' });
  }
  return { table, total: next };
}

/** A solid-colour square PNG with a coloured shape: label 0 = red square, 1 = green bar, 2 = blue cross. */
export function shapePng(label: number, size: number, jitter: number): Uint8Array {
  const png = new PNG({ width: size, height: size });
  const d = png.data;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const c = Math.floor(size / 2);
      const on =
        label === 0 ? Math.abs(x - c - jitter) < size / 4 && Math.abs(y - c) < size / 4 : label === 1 ? Math.abs(y - c - jitter) < size / 8 : Math.abs(x - c - jitter) < size / 10 || Math.abs(y - c) < size / 10;
      d[i] = on && label === 0 ? 220 : 20;
      d[i + 1] = on && label === 1 ? 220 : 20;
      d[i + 2] = on && label === 2 ? 220 : 20;
      d[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

export const imageSchema = new Schema([new Field('id', new Int64(), false), new Field('image_path', new Utf8(), false), new Field('label', new Int32(), false), new Field('date', new Utf8(), false)]);



/**
 * A table of labelled shape images partitioned by date, with `image_path` a blob column holding paths
 * relative to the table (PNG files written next to the data). Labels cycle 0, 1, 2.
 */
export async function createImageTable(
  lakehouse: Lakehouse,
  name: string,
  options: { dates: string[]; perDate: number; size: number; filesPerDate?: number },
): Promise<{ table: LakeSoulTable; total: number; bytesById: Map<number, Uint8Array> }> {
  const table = await lakehouse.createTable(name, imageSchema, { rangePartitions: ['date'], blobColumns: ['image_path'] });
  const bytesById = new Map<number, Uint8Array>();
  let id = 0;
  const filesPerDate = options.filesPerDate ?? 1;
  for (const date of options.dates) {
    for (let f = 0; f < filesPerDate; f++) {
      const n = Math.ceil(options.perDate / filesPerDate);
      const ids: number[] = [];
      for (let k = 0; k < n && ids.length + f * n < options.perDate; k++) ids.push(id++);
      const paths = ids.map((i) => {
        const bytes = shapePng(i % 3, options.size, (i % 5) - 2);
        bytesById.set(i, bytes);
        return `images/${i}.png`;
      });
      // Image files live under the table location, on whatever store backs it (disk or S3).
      for (const [k, rel] of paths.entries()) {
        const { store, key } = lakehouse.stores.resolve(joinUri(table.info.path, rel));
        await store.put(key, bytesById.get(ids[k])!);
      }
      await table.write(
        makeTable({
          id: vectorFromArray(ids.map(BigInt), new Int64()),
          image_path: vectorFromArray(paths, new Utf8()),
          label: vectorFromArray(ids.map((i) => i % 3), new Int32()),
          date: vectorFromArray(ids.map(() => date), new Utf8()),
        } as never) as unknown as Table,
        { mode: 'append' },
      );
    }
  }
  return { table, total: id, bytesById };
}
