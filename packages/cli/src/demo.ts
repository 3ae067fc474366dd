/**
 * The main job (`lakesoul-ts demo`, `pnpm demo`): the whole system on embedded defaults, each step
 * printed. A multimodal table of generated labelled images is built, its noisy labels are corrected by a
 * partial-column upsert, history and time travel show both versions, a small CNN trains on one partition
 * through connector-tfjs, Danfo summarizes the table, and Arrow Flight serves it back, split by split.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Field, Int32, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog, LakeSoulError, makeDirectorySync } from '@lakesoul-ts/meta';
import { cliCommand, shellWord } from './cli-name.js';
import { Lakehouse, importHidingArgv, joinUri, toFileUri, type LakeSoulTable } from '@lakesoul-ts/io';
import type { GlobalFlags } from './cli-config.js';
import { SeededRandom } from '@lakesoul-ts/connector-tfjs';
import { DEMO_CLASSES, drawDemoImage } from './demo-images.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Directory for the demo's catalog and warehouse (default: the global `--home` when given, else a fresh temp dir). */
  dir?: string;
  /** Images to generate, split over two date partitions. */
  images?: number;
  epochs?: number;
  /** Pixel size of the generated (and trained) images. */
  size?: number;
  quiet?: boolean;
  out?: (line: string) => void;
  /** The run's global options: `--home` places the demo when `dir` is not given. */
  flags?: GlobalFlags;
}

/** The part of Danfo's DataFrame API the demo uses. */
interface DanfoGroupable {
  groupby(cols: string[]): { col(cols: string[]): { count(): { toString(): string } } };
}

/** What the demo measured, for tests. */
export interface DemoResult {
  rows: number;
  wrongLabelsBefore: number;
  wrongLabelsAfter: number;
  losses: number[];
  flightEndpoints: number;
  flightRows: number;
  seconds: number;
}

const DATES = ['2023-08-09', '2023-08-10'];

/** Run the demo end to end; returns its figures. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? ((s: string) => console.log(s));
  const started = Date.now();
  const n = options.images ?? 180;
  const size = options.size ?? 24;
  const epochs = options.epochs ?? 4;
  const dir = resolve(options.dir ?? options.flags?.home ?? mkdtempSync(join(tmpdir(), 'lakesoul-demo-')));
  makeDirectorySync(dir);
  let stepNo = 0;
  const step = (title: string) => out(`\n[${++stepNo}/7] ${title}  (+${((Date.now() - started) / 1000).toFixed(1)} s)`);

  step('Open the lakehouse on embedded defaults');
  const catalog = await Catalog.open({ dataDir: join(dir, 'catalog') });
  const lake = await Lakehouse.open({ catalog, warehouse: toFileUri(join(dir, 'warehouse')) });
  out(`  catalog: embedded PGlite in ${join(dir, 'catalog')}`);
  out(`  tables:  ${toFileUri(join(dir, 'warehouse'))}`);
  try {
    if ((await lake.listTables('default')).some((t) => t.name === 'images')) {
      throw new LakeSoulError('AlreadyExists', `${dir} already holds a table default.images (an earlier demo?): the demo builds its lakehouse from scratch; give it another directory (--dir) or remove that one first (rm -rf ${shellWord(dir)})`, {
        code: 'DEMO_DIR_IN_USE', context: { dir, table: 'default.images' },
      });
    }
    // ------------------------------------------------------------------------------------------
    step(`Build a multimodal table: ${n} generated PNG images, partitioned by date, labels with 15% noise`);
    const schema = new Schema([
      new Field('id', new Int64(), false),
      new Field('date', new Utf8(), false),
      new Field('label', new Utf8(), true),
      new Field('label_id', new Int32(), true),
      new Field('image_path', new Utf8(), true),
    ]);
    const table = await lake.createTable('images', schema, {
      rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 4, blobColumns: ['image_path'],
    });
    const prng = new SeededRandom(42);
    const rand = () => prng.next();
    const truth: number[] = [];
    const noisy: number[] = [];
    const paths: string[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % DEMO_CLASSES.length;
      const date = DATES[i % DATES.length]!;
      const rel = `images/${date}/${DEMO_CLASSES[label]}/${String(i).padStart(5, '0')}.png`;
      const { store, key } = lake.stores.resolve(joinUri(table.info.path, rel));
      await store.put(key, drawDemoImage(label, size, rand));
      truth.push(label);
      noisy.push(rand() < 0.15 ? (label + 1 + Math.floor(rand() * 2)) % DEMO_CLASSES.length : label);
      paths.push(rel);
    }
    const ids = truth.map((_, i) => BigInt(i));
    const w0 = await table.write(new Table({
      id: vectorFromArray(ids, new Int64()),
      date: vectorFromArray(ids.map((_, i) => DATES[i % DATES.length]!), new Utf8()),
      label: vectorFromArray(noisy.map((l) => DEMO_CLASSES[l]!), new Utf8()),
      label_id: vectorFromArray(noisy, new Int32()),
      image_path: vectorFromArray(paths, new Utf8()),
    }), { mode: 'upsert' });
    const wrongBefore = noisy.filter((l, i) => l !== truth[i]).length;
    out(`  wrote ${w0.rows} rows in ${w0.files.length} Parquet files (${[...w0.versions].map(([p, v]) => `${p}@v${v}`).join(', ')})`);
    out(`  image files stay where they are; rows reference them (image_path is a blob column)`);

    // ------------------------------------------------------------------------------------------
    step('Upsert corrected labels (partial-column upsert: id, label, label_id only)');
    const fix = truth.map((l, i) => ({ l, i })).filter(({ l, i }) => noisy[i] !== l);
    const cleanTs = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 5));
    const w1 = await table.write(new Table({
      id: vectorFromArray(fix.map(({ i }) => BigInt(i)), new Int64()),
      date: vectorFromArray(fix.map(({ i }) => DATES[i % DATES.length]!), new Utf8()),
      label: vectorFromArray(fix.map(({ l }) => DEMO_CLASSES[l]!), new Utf8()),
      label_id: vectorFromArray(fix.map(({ l }) => l), new Int32()),
    }), { mode: 'upsert' });
    out(`  corrected ${fix.length} labels (${[...w1.versions].map(([p, v]) => `${p}@v${v}`).join(', ')}); image_path and image files untouched`);

    // ------------------------------------------------------------------------------------------
    step('History and time travel');
    const history = await table.history();
    for (const h of history) out(`  ${h.partitionDesc.padEnd(16)} v${h.version}  ${h.commitOp.padEnd(12)} ${new Date(h.timestamp).toISOString()}`);
    const countWrong = (t: Table) => {
      const id = t.getChild('id')!;
      const lab = t.getChild('label_id')!;
      let wrong = 0;
      for (let r = 0; r < t.numRows; r++) if (lab.get(r) !== truth[Number(id.get(r))]) wrong++;
      return wrong;
    };
    // Versions are per partition: the table as of its first commit is read by time, just after the
    // version 0 of every partition.
    const firstCommit = Math.max(...history.filter((h) => h.version === 0).map((h) => h.timestamp));
    const v0 = await table.toArrow({ timestamp: firstCommit + 1, columns: ['id', 'label_id'] });
    const asOf = await table.toArrow({ timestamp: cleanTs, columns: ['id', 'label_id'] });
    const latest = await table.toArrow({ columns: ['id', 'label_id', 'image_path'] });
    out(`  first commit (version 0 of each partition): ${v0.numRows} rows, ${countWrong(v0)} wrong labels`);
    out(`  as of ${new Date(cleanTs).toISOString()} (before the fix): ${asOf.numRows} rows, ${countWrong(asOf)} wrong labels`);
    out(`  latest: ${latest.numRows} rows, ${countWrong(latest)} wrong labels; image_path kept for every row: ${latest.getChild('image_path')!.nullCount === 0}`);
    const wrongAfter = countWrong(latest);

    // ------------------------------------------------------------------------------------------
    step(`Train a small CNN on partition date=${DATES[0]} with connector-tfjs (image bytes prefetched with the scan)`);
    const losses = await train(table, size, epochs, out);

    // ------------------------------------------------------------------------------------------
    step('Summarize with Danfo.js');
    const { readDataFrame } = await import('@lakesoul-ts/connector-danfo');
    const df = await readDataFrame(table, { columns: ['date', 'label', 'id'] });
    const counts = (df as unknown as DanfoGroupable).groupby(['date', 'label']).col(['id']).count();
    for (const line of String(counts.toString()).split('\n')) out(`  ${line}`);

    // ------------------------------------------------------------------------------------------
    step('Serve over Arrow Flight and read every endpoint back in parallel');
    const { createFlightServer, FlightClient } = await import('@lakesoul-ts/connector-flight');
    const server = createFlightServer({ lakehouse: lake, ticketSecret: randomBytes(32) });
    const port = await server.listen(0, '127.0.0.1');
    let endpoints = 0;
    let flightRows = 0;
    try {
      const client = await FlightClient.connect(`grpc://127.0.0.1:${port}`);
      try {
        const info = await client.getFlightInfo({ path: ['default', 'images'] });
        endpoints = info.endpoints.length;
        const all = await client.readAll(info);
        flightRows = all.numRows;
        out(`  grpc://127.0.0.1:${port}: ${endpoints} endpoints (one per partition x bucket), ${flightRows} rows read in parallel`);
        out(`  from Python: pyarrow.flight.connect("grpc://127.0.0.1:${port}") — see docs/flight.md`);
      } finally { client.close(); }
    } finally { await server.close(); }

    const seconds = (Date.now() - started) / 1000;
    out(`\nDone in ${seconds.toFixed(1)} s. The lakehouse is in ${dir}`);
    out(`  try: ${cliCommand()} --home ${shellWord(dir)} history images`);
    return { rows: latest.numRows, wrongLabelsBefore: wrongBefore, wrongLabelsAfter: wrongAfter, losses, flightEndpoints: endpoints, flightRows, seconds };
  } finally {
    await lake.close();
  }
}

type Tf = typeof import('@tensorflow/tfjs');

/**
 * Native TensorFlow (@tensorflow/tfjs-node, whose addon `pnpm setup:native` builds) when it loads, else
 * tfjs's pure-JS cpu backend (tfjs-backend-wasm 4.22 lacks the Conv2D gradient kernels a CNN needs).
 */
async function loadTf(): Promise<{ tf: Tf; label: string }> {
  let why: string;
  try {
    // an optional peer, resolved at run time only, loaded with the command line hidden (the demo's own
    // --dir would be taken by its addon locator: training then ran on pure JS)
    const mod = (await importHidingArgv('@tensorflow/tfjs-node', import.meta.url)) as Tf & { default?: Tf };
    const tf = mod.default ?? mod;
    await tf.setBackend('tensorflow');
    await tf.ready();
    return { tf, label: 'tensorflow (native TensorFlow through @tensorflow/tfjs-node)' };
  } catch (e) {
    why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  }
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, label: `cpu (pure JS; native TensorFlow unavailable: ${why}; pnpm setup:native builds it)` };
}

async function train(table: LakeSoulTable, size: number, epochs: number, out: (s: string) => void): Promise<number[]> {
  const { tf, label } = await loadTf();
  out(`  backend: ${label}`);
  const { tfjsDataset, images } = await import('@lakesoul-ts/connector-tfjs');
  const ds = await tfjsDataset(table, {
    tf,
    partitions: { date: DATES[0]! },
    batchSize: 16,
    shuffle: { seed: 7, bufferSize: 256 },
    transform: images.resize(size, size).scale(1 / 255),
    labels: { column: 'label_id', oneHot: DEMO_CLASSES.length },
  });
  out(`  ${ds.samplesPerEpoch === null ? `${ds.shardSplits.length} splits` : `${ds.samplesPerEpoch} images`}, pinned to versions ${JSON.stringify(ds.plan.partitionVersions)}, decoder ${ds.imageDecoder}`);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: DEMO_CLASSES.length, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const losses: number[] = [];
  try {
    await model.fitDataset(ds as never, {
      epochs,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          losses.push(logs!.loss as number);
          out(`  epoch ${epoch + 1}/${epochs}: loss ${(logs!.loss as number).toFixed(4)}  accuracy ${(logs!.acc as number).toFixed(3)}`);
        },
      },
    });
  } finally {
    model.dispose();
    await ds.close();
  }
  return losses;
}
