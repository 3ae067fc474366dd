/**
 * Test and documentation fixtures (not exported from the package): a multimodal lakehouse with a
 * history worth looking at, generated on the spot. Images are PNGs drawn with sharp.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Float64, Int64, Schema, Field, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { Catalog, PGliteDriver, type SqlDriver } from '@lakesoul-ts/meta';
import { Lakehouse, joinUri, toFileUri, type LakeSoulTable } from '@lakesoul-ts/io';

/** Labels of the generated images, by shape. */
export const LABELS = ['disc', 'square', 'stripes'] as const;
/** Side of the generated images, in pixels. */
export const IMAGE_SIDE = 48;
/** Text inside the file outside every blob root: a response holding it leaked bytes. */
export const SECRET_MARKER = 'TOP-SECRET-MARKER-4471';
/**
 * Table and cell text that would run script or make elements if rendered as HTML. lakesoul-ts refuses
 * such a table name, but other engines writing the same catalog (Spark) do not, so the UI must cope.
 */
export const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">';
/** Cell text of the hostile table. */
export const HOSTILE_CELL = '<script>window.__pwned=2</script><b id="injected">bold</b>';

/** A PNG of a shape (0 disc, 1 square, 2 stripes) in colours picked by `seed`. */
export async function drawPng(shape: number, seed: number, side = IMAGE_SIDE): Promise<Buffer> {
  const rgb = Buffer.alloc(side * side * 3);
  const fg = [120 + ((seed * 53) % 135), 120 + ((seed * 97) % 135), 120 + ((seed * 31) % 135)];
  const bg = [(seed * 17) % 60, (seed * 29) % 60, (seed * 43) % 60];
  const c = side / 2;
  const r = side * 0.3;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const on = shape === 0 ? (x - c) ** 2 + (y - c) ** 2 <= r * r : shape === 1 ? Math.abs(x - c) <= r && Math.abs(y - c) <= r : Math.floor(y / 6) % 2 === 0;
      const col = on ? fg : bg;
      rgb.set(col, (y * side + x) * 3);
    }
  }
  return sharp(rgb, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

/** What {@link buildDemoLakehouse} made. */
export interface DemoLakehouse {
  lakehouse: Lakehouse;
  images: LakeSoulTable;
  /** Commit times of the images table, oldest first. */
  commits: number[];
  /** id of the row whose reference points outside the blob roots. */
  refusedId: number;
  /** id of the row whose blob is a WAV file (not an image). */
  audioId: number;
}

/** Options of {@link buildDemoLakehouse}. */
export interface DemoLakehouseOptions {
  /** Also create the table named {@link HOSTILE_NAME}. */
  hostile?: boolean;
  /** Namespace of the tables (default `default`). */
  namespace?: string;
  /** URI of a scratch location outside the table (default `<dir>/outside`): holds the file the refused reference names. */
  outside?: string;
  /** The catalog's SQL driver: with `hostile`, renames a table the way another engine could name it. */
  sql?: SqlDriver;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A lakehouse in `dir` (embedded PGlite catalog, local warehouse) with the tables of
 * {@link fillDemoLakehouse}.
 */
export async function buildDemoLakehouse(dir: string, options: DemoLakehouseOptions = {}): Promise<DemoLakehouse> {
  mkdirSync(dir, { recursive: true });
  const sql = await PGliteDriver.open({ dataDir: join(dir, 'catalog') });
  const catalog = new Catalog(sql);
  await catalog.bootstrap();
  const lakehouse = await Lakehouse.open({ catalog, ownCatalog: true, warehouse: toFileUri(join(dir, 'warehouse')) });
  return fillDemoLakehouse(lakehouse, { outside: toFileUri(join(dir, 'outside')), sql, ...options });
}

/**
 * Creates table `images` (id PK in 2 hash buckets, range-partitioned by date; image_path a blob
 * column; blobs stored through the lakehouse's stores under the table path) with four commits: the
 * first 40 rows; 5 labels corrected by a partial upsert; 4 rows added; 2 rows deleted. Row 39's
 * reference points outside the roots (at `outside`); row 38's blob is a WAV file. With `hostile`,
 * also a table named {@link HOSTILE_NAME} whose cells and properties hold HTML and script.
 */
export async function fillDemoLakehouse(lakehouse: Lakehouse, options: DemoLakehouseOptions & { outside: string }): Promise<DemoLakehouse> {
  const namespace = options.namespace ?? 'default';
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('date', new Utf8(), false),
    new Field('label', new Utf8(), true),
    new Field('score', new Float64(), true),
    new Field('image_path', new Utf8(), true),
  ]);
  const images = await lakehouse.createTable('images', schema, {
    namespace, primaryKeys: ['id'], rangePartitions: ['date'], hashBucketNum: 2, blobColumns: ['image_path'],
    properties: { description: 'generated shapes for the UI tests' },
  });
  const put = async (uri: string, bytes: Uint8Array) => {
    const { store, key } = lakehouse.stores.resolve(uri);
    await store.put(key, bytes);
  };
  const secretUri = joinUri(options.outside, 'secret.txt');
  await put(secretUri, new TextEncoder().encode(`${SECRET_MARKER}\n`));
  const n = 40;
  const ids: bigint[] = [], dates: string[] = [], labels: string[] = [], scores: number[] = [], paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const shape = i % 3;
    const file = `media/img_${String(i).padStart(3, '0')}.png`;
    await put(joinUri(images.info.path, file), await drawPng(shape, i + 1));
    ids.push(BigInt(i));
    dates.push(i < 24 ? '2024-05-01' : '2024-05-02');
    // Every 7th label is wrong at first (corrected by the second commit).
    labels.push(LABELS[i % 7 === 3 ? (shape + 1) % 3 : shape]!);
    scores.push(Math.round((0.3 + ((i * 37) % 70) / 100) * 1000) / 1000);
    paths.push(file);
  }
  const audioId = 38;
  const wav = Buffer.alloc(44 + 800);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + 800, 4); wav.write('WAVE', 8); wav.write('fmt ', 12); wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(8000, 24); wav.writeUInt32LE(8000, 28); wav.writeUInt16LE(1, 32); wav.writeUInt16LE(8, 34);
  wav.write('data', 36); wav.writeUInt32LE(800, 40);
  await put(joinUri(images.info.path, 'media', 'clip_038.wav'), wav);
  paths[audioId] = 'media/clip_038.wav';
  const refusedId = 39;
  paths[refusedId] = secretUri;
  const batch = (rows: { ids: bigint[]; dates: string[]; labels?: string[]; scores?: number[]; paths?: string[] }) => {
    const cols: Record<string, Vector> = {
      id: vectorFromArray(rows.ids, new Int64()),
      date: vectorFromArray(rows.dates, new Utf8()),
    };
    if (rows.labels) cols.label = vectorFromArray(rows.labels, new Utf8());
    if (rows.scores) cols.score = vectorFromArray(rows.scores, new Float64());
    if (rows.paths) cols.image_path = vectorFromArray(rows.paths, new Utf8());
    return new Table(cols);
  };
  const commits: number[] = [];
  const stamp = async (p: Promise<unknown>) => {
    await p;
    const h = await images.history();
    commits.push(Math.max(...h.map((x) => x.timestamp)));
    // Commits are told apart by their millisecond timestamps.
    await sleep(5);
  };
  await stamp(images.write(batch({ ids, dates, labels, scores, paths })));
  const fix = ids.filter((_, i) => i % 7 === 3 && i < 38);
  await stamp(images.write(batch({ ids: fix, dates: fix.map((i) => dates[Number(i)]!), labels: fix.map((i) => LABELS[Number(i) % 3]!) })));
  const add: number[] = [40, 41, 42, 43];
  for (const i of add) await put(joinUri(images.info.path, 'media', `img_${i}.png`), await drawPng(i % 3, i + 1));
  await stamp(images.write(batch({ ids: add.map(BigInt), dates: add.map(() => '2024-05-02'), labels: add.map((i) => LABELS[i % 3]!), scores: add.map((i) => (50 + i) / 100), paths: add.map((i) => `media/img_${i}.png`) })));
  await stamp(images.deleteByKeys([{ id: 1n, date: '2024-05-01' }, { id: 2n, date: '2024-05-01' }]));
  if (options.hostile) {
    if (!options.sql) throw new Error('a hostile table needs the catalog SQL driver (options.sql)');
    await lakehouse.catalog.createNamespace('hostile', { comment: HOSTILE_CELL, ifNotExists: true });
    const hs = new Schema([new Field('id', new Int64(), false), new Field(HOSTILE_NAME, new Utf8(), true)]);
    const t = await lakehouse.createTable('hostile_placeholder', hs, { namespace: 'hostile', primaryKeys: ['id'], hashBucketNum: 1, properties: { [HOSTILE_NAME]: HOSTILE_CELL } });
    await t.write(new Table({ id: vectorFromArray([1n, 2n], new Int64()), [HOSTILE_NAME]: vectorFromArray([HOSTILE_CELL, HOSTILE_NAME], new Utf8()) }));
    await options.sql.query('UPDATE table_info SET table_name = $1 WHERE table_id = $2', [HOSTILE_NAME, t.info.tableId]);
    await options.sql.query('UPDATE table_name_id SET table_name = $1 WHERE table_id = $2', [HOSTILE_NAME, t.info.tableId]);
  }
  return { lakehouse, images, commits, refusedId, audioId };
}
