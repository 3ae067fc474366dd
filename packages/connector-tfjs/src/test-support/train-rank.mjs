// One training rank in its own process (used by two-process.test.ts): reads its shard of a scan plan
// handed over as JSON (no catalog access), trains a small model with model.fitDataset and reports, per
// epoch, the ids it trained on. Runs against the built packages (dist).
//
//   node train-rank.mjs <plan.json> <rank> <worldSize> <epochs> <out.json>
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { scanPlanFromJSON, StoreRegistry } from '@lakesoul-ts/io';
import { tfjsDataset } from '../../dist/index.js'; // this package, built

const [planFile, rankArg, worldArg, epochsArg, outFile] = process.argv.slice(2);
const planJSON = JSON.parse(readFileSync(planFile, 'utf8'));
const rank = Number(rankArg);
const worldSize = Number(worldArg);
const epochs = Number(epochsArg);
const seen = {};
const stores = new StoreRegistry();
const ds = await tfjsDataset(
  { planJSON, open: (json) => scanPlanFromJSON(json, stores) },
  {
    tf,
    rank,
    worldSize,
    batchSize: 4,
    features: ['x', 'v'],
    labels: { column: 'label', oneHot: 3 },
    shuffle: { seed: 3, bufferSize: 8 },
    transform: (row, ctx) => {
      (seen[ctx.epoch] ??= []).push(Number(row.id));
      return row;
    },
  },
);
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
const history = await model.fitDataset(ds, { epochs, verbose: 0 });
writeFileSync(outFile, JSON.stringify({ pid: process.pid, rank, seen, losses: history.history.loss, state: ds.getState(), shardSplits: ds.shardSplits.map((s) => s.id) }));
