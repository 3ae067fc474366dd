#!/usr/bin/env node
// Example: an analyst's round trip between a LakeSoul table and Danfo.js.
//   1. load orders into a table (primary key order_id, range-partitioned by region);
//   2. a correction arrives as an upsert (a later snapshot);
//   3. read the table into a DataFrame, groupby/describe it;
//   4. time-travel: compare the table before and after the correction (by timestamp, and one
//      partition by version);
//   5. derive a column (unit_price = amount / qty) and upsert it back (a partial upsert: key,
//      partition column and the derived column only).
// Run: pnpm build && node examples/danfo-analysis.mjs   (uses a temporary directory: embedded
// PGlite catalog + Parquet files on local disk)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as A from 'apache-arrow';
import * as dfd from 'danfojs';
import { Lakehouse } from '@lakesoul-ts/io';
import { readDataFrame, writeDataFrame } from '@lakesoul-ts/connector-danfo';

/** The table: a decimal amount, a zoned timestamp and a derived column filled later. */
export const schema = new A.Schema([
  new A.Field('order_id', new A.Int64(), false),
  new A.Field('region', new A.Utf8(), false),
  new A.Field('product', new A.Utf8(), true),
  new A.Field('qty', new A.Int32(), true),
  new A.Field('amount', new A.Decimal(2, 12, 128), true),
  new A.Field('ordered_at', new A.Timestamp(A.TimeUnit.MICROSECOND, 'Europe/Berlin'), true),
  new A.Field('unit_price', new A.Float64(), true),
]);

/** First load: 8 orders in two regions. */
export const orders = {
  order_id: [1, 2, 3, 4, 5, 6, 7, 8],
  region: ['eu', 'eu', 'eu', 'us', 'us', 'us', 'eu', 'us'],
  product: ['lamp', 'desk', 'lamp', 'chair', 'desk', 'lamp', 'chair', 'chair'],
  qty: [2, 1, 5, 4, 2, 1, 3, 6],
  amount: ['39.80', '249.00', '99.50', '316.00', '498.00', '19.90', '237.00', '474.00'],
  ordered_at: [
    '2024-01-15T09:30:00.000000+01:00', '2024-01-15T10:05:12.500000+01:00', '2024-01-16T14:00:00.000000+01:00',
    '2024-01-16T03:15:00.000000+01:00', '2024-01-17T18:45:00.000000+01:00', '2024-01-18T08:00:00.000001+01:00',
    '2024-07-02T12:00:00.000000+02:00', '2024-07-03T23:59:59.999999+02:00',
  ],
  unit_price: [null, null, null, null, null, null, null, null],
};

/** The correction: order 3 was 4 lamps, order 5 was cancelled to 1 desk, and a new order 9. */
export const corrections = {
  order_id: [3, 5, 9],
  region: ['eu', 'us', 'eu'],
  product: ['lamp', 'desk', 'desk'],
  qty: [4, 1, 2],
  amount: ['79.60', '249.00', '498.00'],
  ordered_at: ['2024-01-16T14:00:00.000000+01:00', '2024-01-17T18:45:00.000000+01:00', '2024-08-01T09:00:00.000000+02:00'],
  unit_price: [null, null, null],
};

const frame = (cols) => new dfd.DataFrame(cols);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rowsOf = (df) => df.values.map((r) => Object.fromEntries(df.columns.map((c, j) => [c, r[j]])));

/** Totals per product as a plain object { product: { qty, amount } } (for printing and checks). */
function totals(df) {
  const g = df.groupby(['product']).agg({ qty: 'sum', amount: 'sum' });
  return Object.fromEntries(g.values.map(([product, qty, amount]) => [product, { qty, amount: Math.round(amount * 100) / 100 }]));
}

/**
 * Runs the walkthrough. `root`: a directory to use (default: a fresh temporary one, removed after).
 * Returns what it computed, for the example's test.
 */
export async function main({ root, log = console.log } = {}) {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'danfo-analysis-')));
  const lake = await Lakehouse.open({
    catalog: { dataDir: join(dir, 'catalog'), env: {} },
    warehouse: pathToFileURL(join(dir, 'warehouse')).href,
  });
  try {
    const sales = await lake.createTable('sales', schema, { primaryKeys: ['order_id'], rangePartitions: ['region'], hashBucketNum: 2 });

    // 1-2. Two commits: the first load, then the correction as an upsert.
    await writeDataFrame(frame(orders), sales, { mode: 'upsert' });
    const afterFirstLoad = Date.now() + 1;
    await sleep(20);
    await writeDataFrame(frame(corrections), sales, { mode: 'upsert' });

    // 3. The latest snapshot as a DataFrame; decimals as numbers for arithmetic.
    const df = await readDataFrame(sales, { dfd, decimals: 'number' });
    log(`latest snapshot: ${df.shape[0]} orders; columns ${df.columns.join(', ')}`);
    log(df.sortValues('order_id').toString());
    log('describe():');
    log(df.drop({ columns: ['unit_price'] }).describe().toString()); // unit_price is all null until step 5
    const now = totals(df);
    log('per product now:', JSON.stringify(now));

    // 4. Time travel: the whole table before the correction (timestamp), one partition by version.
    const before = await readDataFrame(sales, { dfd, decimals: 'number', timestamp: afterFirstLoad });
    const then = totals(before);
    log('per product before the correction:', JSON.stringify(then));
    const changes = Object.keys({ ...now, ...then }).sort().map((p) => ({
      product: p,
      qty_before: then[p]?.qty ?? 0, qty_now: now[p]?.qty ?? 0,
      amount_delta: Math.round(((now[p]?.amount ?? 0) - (then[p]?.amount ?? 0)) * 100) / 100,
    }));
    log(new dfd.DataFrame(changes).toString());
    const euV0 = await readDataFrame(sales, { dfd, partitions: { region: 'eu' }, version: 0 });
    const euNow = await readDataFrame(sales, { dfd, partitions: { region: 'eu' } });
    log(`partition region=eu: ${euV0.shape[0]} orders at version 0, ${euNow.shape[0]} now`);

    // 5. Derived column, computed in Danfo, upserted back with only key + partition + new column.
    const unitPrice = df.column('amount').div(df.column('qty'));
    const derived = new dfd.DataFrame({
      order_id: df.column('order_id').values,
      region: df.column('region').values,
      unit_price: unitPrice.values.map((x) => Math.round(x * 100) / 100),
    });
    await writeDataFrame(derived, sales, { mode: 'upsert', missingColumns: 'partial' });
    const enriched = await readDataFrame(sales, { dfd });
    log('after upserting unit_price:');
    log(enriched.sortValues('order_id').toString());

    return {
      now,
      before: then,
      changes,
      euOrders: { v0: euV0.shape[0], now: euNow.shape[0] },
      enriched: rowsOf(enriched).sort((a, b) => a.order_id - b.order_id),
      history: await sales.history(),
    };
  } finally {
    await lake.close();
    if (!root) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
