// One training rank in its own process that opens the table itself through a PostgreSQL catalog
// (used by two-process.test.ts): every rank plans the same pinned snapshot and reads its shard.
// Runs against the built packages (dist).
//
//   node train-rank-pg.mjs <pgUrl> <pgSchema> <warehouseUri> <table> <version> <rank> <worldSize> <epochs> <out.json>
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Lakehouse } from '@lakesoul-ts/io';
import { tfjsDataset } from '../../dist/index.js'; // this package, built

const [url, schema, warehouse, tableName, version, rankArg, worldArg, epochsArg, outFile] = process.argv.slice(2);
const rank = Number(rankArg);
const epochs = Number(epochsArg);
const seen = {};
const lakehouse = await Lakehouse.open({ catalog: { url, schema }, warehouse });
try {
  const ds = await tfjsDataset(
    { lakehouse, table: tableName },
    {
      tf,
      snapshot: { version: Number(version) },
      rank,
      worldSize: Number(worldArg),
      equalize: 'pad',
      batchSize: 4,
      features: ['x', 'v'],
      labels: { column: 'label', oneHot: 3 },
      shuffle: { seed: 5, bufferSize: 8 },
      transform: (row, ctx) => {
        (seen[ctx.epoch] ??= []).push(Number(row.id));
        return row;
      },
    },
  );
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
  const history = await model.fitDataset(ds, { epochs, verbose: 0 });
  writeFileSync(outFile, JSON.stringify({ pid: process.pid, rank, seen, losses: history.history.loss, samplesPerEpoch: ds.samplesPerEpoch, versions: ds.plan.partitionVersions }));
} finally {
  await lakehouse.close();
}
