/**
 * Interoperability with LakeSoul itself: the same tables, in the same PostgreSQL catalog and on the
 * same storage (local disk and the moto S3 server), written and read by LakeSoul's own Python package
 * (PyPI lakesoul 2.0.0, Rust core 4.0.0) and by this project. See docs/interop.md.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { Binary, Field, Float32, Float64, Int32, Int64, Schema, Table, TimeUnit, Timestamp, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { plainValues, recordsToBatch } from '../../packages/io/src/arrow/value-codec.js';
import { Catalog } from '@lakesoul-ts/meta';
import { Lakehouse, computeBuckets } from '@lakesoul-ts/io';
import {
  bucketOfFile, canonicalRows, interopEnv, lakesoulPy, readIpc, scratchDir, writeIpc, type InteropEnv,
} from './interop-env.js';
import { MergeModel, PK_COLUMNS, PK_SCHEMA_SPEC, makeRows, pkSchema, rowsToArrow, type Row } from './interop-rows.js';

/** Each scenario starts several LakeSoul-Python processes: allow for a loaded 2-core machine. */
const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, 600_000);

const ALL = PK_COLUMNS.map(([n]) => n) as string[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PyWrite {
  rows: number;
  files: { partition: string; path: string; size: number; existingColumns: string[]; rowCount: number }[];
}

/** Canonical rows of the expected model (built through the same Arrow path as what is compared). */
function expected(model: MergeModel): ReturnType<typeof canonicalRows> {
  return canonicalRows(rowsToArrow(model.toRows()), ALL);
}

for (const storage of ['local', 's3'] as const) {
  describe(`LakeSoul-Python 2.0.0 <-> lakesoul-ts on one catalog (${storage} storage)`, () => {
    let env: InteropEnv;
    let scratch: { dir: string; cleanup: () => void };
    let catalog: Catalog;
    let lake: Lakehouse;
    let warehouse: string;
    const suffix = randomBytes(4).toString('hex');
    const tname = (what: string) => `interop_${what}_${storage}_${suffix}`;

    /** LakeSoul-Python: write `rows` (optionally only `columns`) to a table, one commit. */
    async function pyWrite(name: string, rows: Partial<Row>[], namespace = 'default'): Promise<PyWrite> {
      const input = writeIpc(rowsToArrow(rows), join(scratch.dir, `${name}-${randomBytes(4).toString('hex')}.arrow`));
      return lakesoulPy<PyWrite>(env, 'write', { name, namespace, input });
    }

    /** LakeSoul-Python: the merged rows of a table. */
    async function pyScan(name: string, namespace = 'default'): Promise<Table> {
      const output = join(scratch.dir, `${name}-scan-${randomBytes(4).toString('hex')}.arrow`);
      await lakesoulPy(env, 'scan', { name, namespace, output });
      return readIpc(output);
    }

    /** LakeSoul-Python: create the PK test table (range partition region, PK id, 4 buckets). */
    async function pyCreate(name: string, namespace = 'default') {
      return lakesoulPy(env, 'create', {
        name, namespace, path: `${warehouse}/${namespace}/${name}`, schema: PK_SCHEMA_SPEC, partitionBy: ['region'], primaryKeys: ['id'], hashBucketNum: 4,
      });
    }

    beforeAll(async () => {
      env = interopEnv();
      scratch = scratchDir(storage);
      if (storage === 's3') {
        const bucket = `interop-${suffix}`;
        await lakesoulPy(env, 'make_bucket', { bucket });
        warehouse = `s3://${bucket}/warehouse`;
      } else {
        warehouse = pathToFileURL(join(scratch.dir, 'warehouse')).href.replace(/\/+$/, '');
      }
      catalog = await Catalog.open({ url: env.pgUrl });
      lake = await Lakehouse.open({
        catalog,
        warehouse,
        stores: { env: { ...process.env, AWS_ENDPOINT: env.s3Endpoint } },
      });
    });

    afterAll(async () => {
      await lake?.close();
      await catalog?.close();
      scratch?.cleanup();
    });

    it('1. a table LakeSoul-Python created and wrote (range partition + PK, 4 buckets, parquet) reads back merged in TS', async () => {
      const name = tname('pyw');
      const created = await pyCreate(name);
      expect(created.partitionBy).toEqual(['region']);
      expect(created.primaryKeys).toEqual(['id']);
      const model = new MergeModel();
      const batches = [
        makeRows([...Array(40).keys()], ['eu', 'us'], 1, 'b1'),
        makeRows([...Array(30).keys()].map((i) => i * 2), ['eu', 'us', 'apac'], 2, 'b2'),
        // a key twice in one batch: the later row wins on both sides
        [...makeRows([5, 7, 100, 101], ['eu'], 3, 'b3'), ...makeRows([5], ['eu'], 4, 'b3dup')],
      ];
      for (const b of batches) {
        const w = await pyWrite(name, b);
        expect(w.rows).toBe(b.length);
        for (const f of w.files) expect(f.path).toMatch(/_\d{4}\.parquet$/);
        model.upsert(b);
      }
      const py = await pyScan(name);
      expect(canonicalRows(py, ALL), 'LakeSoul-Python reads its own writes as the model says').toEqual(expected(model));

      const table = await lake.table(name);
      expect(table.info.primaryKeys).toEqual(['id']);
      expect(table.info.rangePartitions).toEqual(['region']);
      expect(table.info.hashBucketNum).toBe(4);
      const ts = await table.toArrow();
      expect(ts.numRows).toBe(model.toRows().length);
      expect(canonicalRows(ts, ALL)).toEqual(expected(model));
      // Partition pruning on a LakeSoul-written table.
      const eu = await table.toArrow({ partitions: { region: 'eu' } });
      expect(canonicalRows(eu, ALL)).toEqual(expected(model).filter((r) => r.region === 'eu'));
    });

    it('2. a table TS created, appended and upserted (full and partial columns) reads the same in LakeSoul-Python', async () => {
      const name = tname('tsw');
      const table = await lake.createTable(name, pkSchema(), { rangePartitions: ['region'], primaryKeys: ['id'], hashBucketNum: 4 });
      const model = new MergeModel();
      const base = makeRows([...Array(50).keys()], ['eu', 'us'], 11, 'base');
      await table.write(rowsToArrow(base), { mode: 'append' });
      model.upsert(base);
      const up1 = makeRows([...Array(25).keys()].map((i) => i * 3), ['eu', 'us', 'apac'], 12, 'up1');
      await table.write(rowsToArrow(up1), { mode: 'upsert' });
      model.upsert(up1);
      const partialCols: (keyof Row)[] = ['id', 'region', 'name', 'qty'];
      const up2 = makeRows([1, 2, 3, 4, 9, 200], ['eu', 'us'], 13, 'partial');
      await table.write(rowsToArrow(up2, partialCols), { mode: 'upsert' });
      model.upsert(up2, partialCols);
      const up3Cols: (keyof Row)[] = ['id', 'region', 'score', 'ts'];
      const up3 = makeRows([2, 3, 300], ['eu', 'us'], 14, 'partial2');
      await table.write(rowsToArrow(up3, up3Cols), { mode: 'upsert' });
      model.upsert(up3, up3Cols);

      const history = await table.history();
      expect(history.map((h) => h.commitOp)).toContain('MergeCommit');
      expect(history.filter((h) => h.commitOp === 'MergeCommit').length).toBeGreaterThanOrEqual(6);

      const ts = await table.toArrow();
      expect(canonicalRows(ts, ALL), 'TS reads its own writes as the model says').toEqual(expected(model));
      const py = await pyScan(name);
      expect(canonicalRows(py, ALL), 'LakeSoul-Python merges TS commits the same way').toEqual(expected(model));
    });

    it('3. mixed history: LakeSoul-Python base, TS upsert, LakeSoul-Python append; both agree, TS time travel follows the history', async () => {
      const name = tname('mixed');
      await pyCreate(name);
      const model = new MergeModel();
      const states: { at: number; model: MergeModel; py: ReturnType<typeof canonicalRows> }[] = [];
      const step = async () => {
        await sleep(15);
        const py = canonicalRows(await pyScan(name), ALL);
        states.push({ at: Date.now(), model: model.clone(), py });
        await sleep(15);
      };

      const pyPaths: string[] = [];
      const base = makeRows([...Array(60).keys()], ['eu', 'us'], 21, 'pybase');
      pyPaths.push(...(await pyWrite(name, base)).files.map((f) => f.path));
      model.upsert(base);
      await step();

      const table = await lake.table(name);
      const up = makeRows([...Array(30).keys()].map((i) => i * 2 + 1), ['eu', 'us', 'apac'], 22, 'tsup');
      const tsWrite = await table.write(rowsToArrow(up), { mode: 'upsert' });
      expect(tsWrite.rows).toBe(up.length);
      model.upsert(up);
      await step();

      const partialCols: (keyof Row)[] = ['id', 'region', 'flag', 'day'];
      const tsPartial = makeRows([1, 3, 5, 61], ['eu', 'us'], 23, 'tspartial');
      await table.write(rowsToArrow(tsPartial, partialCols), { mode: 'upsert' });
      model.upsert(tsPartial, partialCols);
      await step();

      const again = makeRows([...Array(20).keys()].map((i) => i * 5), ['us', 'apac'], 24, 'pyagain');
      pyPaths.push(...(await pyWrite(name, again)).files.map((f) => f.path));
      model.upsert(again);
      await step();

      // Latest: both readers return the model.
      const ts = await table.toArrow();
      expect(canonicalRows(ts, ALL)).toEqual(expected(model));
      expect(states.at(-1)!.py).toEqual(expected(model));

      // Every intermediate state, as LakeSoul-Python saw it then, is what TS time travel returns now.
      for (const [i, s] of states.entries()) {
        expect(s.py, `LakeSoul-Python after step ${i + 1}`).toEqual(expected(s.model));
        const past = await table.toArrow({ timestamp: s.at });
        expect(canonicalRows(past, ALL), `TS time travel to step ${i + 1}`).toEqual(s.py);
      }
      // By version: each partition's history replays the same states.
      const history = await table.history();
      const eu = history.filter((h) => h.partitionDesc === 'region=eu');
      expect(eu.length).toBeGreaterThanOrEqual(3);
      for (const h of eu) {
        const state = states.find((s) => s.at > h.timestamp)!;
        const atVersion = await table.toArrow({ version: h.version, partitions: ['region=eu'] });
        expect(canonicalRows(atVersion, ALL), `region=eu version ${h.version} (${h.commitOp})`).toEqual(state.py.filter((r) => r.region === 'eu'));
      }

      // 4. Bucketing of the files each side wrote in this table.
      const snapshot = await table.snapshot();
      const files = snapshot.flatMap((p) => p.files.map((f) => ({ ...f, partitionDesc: p.partitionDesc })));
      const tsPaths = new Set(tsWrite.files.map((f) => f.path));
      const tsFiles = files.filter((f) => tsPaths.has(f.path));
      expect(tsFiles.length).toBe(tsPaths.size);
      const live = new Set(files.map((f) => f.path));
      for (const p of pyPaths) expect(live.has(p), `LakeSoul-Python file ${p} is live in the TS snapshot`).toBe(true);
      // LakeSoul-Python's files, checked with the TS hash.
      const pyRowsPath = join(scratch.dir, `${name}-pyfiles.arrow`);
      await lakesoulPy(env, 'file_rows', { paths: pyPaths, output: pyRowsPath });
      const pyRows = readIpc(pyRowsPath);
      expect(pyRows.numRows).toBe(base.length + again.length);
      for (const batch of pyRows.batches) {
        const buckets = computeBuckets(batch, ['id'], 4);
        const file = batch.getChild('__file')!;
        for (let i = 0; i < batch.numRows; i++) {
          expect(buckets[i], `row id=${batch.getChild('id')!.get(i)} of ${file.get(i)}`).toBe(bucketOfFile(file.get(i)));
        }
      }
      // TS's files, checked with LakeSoul's own writer as the hash oracle.
      const tsRowsPath = join(scratch.dir, `${name}-tsfiles.arrow`);
      await lakesoulPy(env, 'file_rows', { paths: tsFiles.map((f) => f.path), output: tsRowsPath });
      const tsRows = readIpc(tsRowsPath);
      expect(tsRows.numRows).toBe(up.length);
      const oracleIn = writeIpc(new Table(tsRows.batches).select(['id', '__file']), join(scratch.dir, `${name}-oracle-in.arrow`));
      const oracleOut = join(scratch.dir, `${name}-oracle-out.arrow`);
      await lakesoulPy(env, 'bucket_oracle', { input: oracleIn, primaryKeys: ['id'], hashBucketNum: 4, workdir: join(scratch.dir, `${name}-oracle`), output: oracleOut });
      const oracle = readIpc(oracleOut);
      expect(oracle.numRows).toBe(up.length);
      for (let i = 0; i < oracle.numRows; i++) {
        const f = oracle.getChild('__file')!.get(i) as string;
        expect(oracle.getChild('__bucket')!.get(i), `row id=${oracle.getChild('id')!.get(i)} of ${f}`).toBe(bucketOfFile(f));
      }
    });

    it('6. TS maintenance on a LakeSoul-Python table (delete by key = UpdateCommit, compaction = CompactionCommit): LakeSoul-Python reads the result', async () => {
      const name = tname('maint');
      await pyCreate(name);
      const model = new MergeModel();
      for (const [seed, ids] of [[31, [...Array(40).keys()]], [32, [...Array(20).keys()].map((i) => i * 3)]] as const) {
        const rows = makeRows(ids as number[], ['eu', 'us'], seed, `m${seed}`);
        await pyWrite(name, rows);
        model.upsert(rows);
      }
      const table = await lake.table(name);
      const partial = makeRows([2, 4, 6, 8], ['eu', 'us'], 33, 'mp');
      await table.write(rowsToArrow(partial, ['id', 'region', 'name']), { mode: 'upsert' });
      model.upsert(partial, ['id', 'region', 'name']);

      const doomed = model.toRows().filter((r) => Number(r.id) % 7 === 0);
      expect(doomed.length).toBeGreaterThan(3);
      const del = await table.deleteByKeys(doomed.map((r) => ({ id: r.id, region: r.region })));
      expect(del.rows).toBe(doomed.length);
      const left = new MergeModel();
      const doomedKeys = new Set(doomed.map((r) => `${r.region}/${r.id}`));
      left.upsert(model.toRows().filter((r) => !doomedKeys.has(`${r.region}/${r.id}`)));
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(expected(left));
      expect(canonicalRows(await pyScan(name), ALL), 'LakeSoul-Python honours the UpdateCommit (del file ops)').toEqual(expected(left));

      await table.compact();
      const ops = (await table.history()).map((h) => h.commitOp);
      expect(ops).toContain('UpdateCommit');
      expect(ops).toContain('CompactionCommit');
      for (const p of await table.snapshot()) {
        const buckets = p.files.map((f) => f.bucket);
        expect(new Set(buckets).size, `${p.partitionDesc}: one compacted file per bucket`).toBe(buckets.length);
      }
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(expected(left));
      expect(canonicalRows(await pyScan(name), ALL), 'LakeSoul-Python reads the compacted table').toEqual(expected(left));

      // LakeSoul-Python keeps writing on top of the compacted snapshot.
      const after = makeRows([0, 1, 7, 14, 500], ['eu', 'us'], 34, 'after');
      await pyWrite(name, after);
      left.upsert(after);
      expect(canonicalRows(await table.toArrow(), ALL)).toEqual(expected(left));
      expect(canonicalRows(await pyScan(name), ALL)).toEqual(expected(left));
    });

    it('7. a Vortex file (the wheel\'s default format) is refused by the TS reader with an error naming the file', async () => {
      const name = tname('vortex');
      await pyCreate(name);
      const rows = makeRows([1, 2, 3], ['eu'], 41, 'vx');
      const input = writeIpc(rowsToArrow(rows), join(scratch.dir, `${name}.arrow`));
      const w = await lakesoulPy<PyWrite>(env, 'write', { name, input, format: 'vortex' });
      const vortex = w.files.map((f) => f.path);
      expect(vortex.length).toBeGreaterThan(0);
      for (const p of vortex) expect(p).toMatch(/\.vortex$/);
      // The wheel reads its own Vortex file ...
      expect(canonicalRows(await pyScan(name), ALL)).toEqual(expected(new MergeModel().upsert(rows)));
      // ... lakesoul-ts refuses it, naming the file, instead of returning wrong rows.
      const table = await lake.table(name);
      const err = await table.toArrow().then(() => null, (e: unknown) => e as Error & { kind?: string });
      expect(err).not.toBeNull();
      expect(err!.name).toBe('LakeSoulError');
      expect(err!.message).toMatch(/vortex/i);
      expect(vortex.some((p) => err!.message.includes(p.split('/').at(-1)!))).toBe(true);
    });

    it('8. TS cleanup never reports LakeSoul-Python\'s live files (whose commit rows stay committed=false) as orphans', async () => {
      const name = tname('cleanup');
      await pyCreate(name);
      const rows = makeRows([...Array(30).keys()], ['eu', 'us'], 51, 'cl');
      const w = await pyWrite(name, rows);
      const table = await lake.table(name);
      await table.write(rowsToArrow(makeRows([1, 2, 3], ['eu'], 52, 'cl2')), { mode: 'upsert' });
      const live = new Set((await table.snapshot()).flatMap((p) => p.files.map((f) => f.path)));
      for (const f of w.files) expect(live.has(f.path)).toBe(true);
      // Dry run (nothing is deleted); a zero safety window makes files of any age candidates, as they
      // would be with the default 24 h window a day after LakeSoul-Python wrote them.
      const report = await table.cleanup({ dryRun: true, orphanSafetyWindowMs: 0, retainSince: Date.now() });
      const wrongly = report.files.filter((f) => live.has(f.path)).map((f) => `${f.path} (${f.reason})`);
      expect(wrongly, 'live files cleanup would delete').toEqual([]);
      // nor their commit rows as abandoned ones (uncommitted, but named by the versions)
      expect(report.abandonedCommits).toBe(0);
      const executed = await table.cleanup({ dryRun: false, orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true, retainSince: Date.now() });
      expect(executed.abandonedCommits).toBe(0);
      expect(canonicalRows(await table.toArrow())).toEqual(canonicalRows(await pyScan(name)));
    });

    it('9. CDC table: TS delete markers and LakeSoul-Python-written delete rows merge the same; the wheel leaves delete rows for the caller to drop', async () => {
      const name = tname('cdc');
      const cdc = (ids: bigint[], v: string[], kinds: string[]) => new Table({
        id: makeVector(BigInt64Array.from(ids)),
        v: vectorFromArray(v, new Utf8()),
        rowkinds: vectorFromArray(kinds, new Utf8()),
      });
      const table = await lake.createTable(name, cdc([], [], []).schema, { primaryKeys: ['id'], cdcColumn: 'rowkinds', hashBucketNum: 2 });
      await table.write(cdc([1n, 2n, 3n, 4n, 5n], ['a', 'b', 'c', 'd', 'e'], ['insert', 'insert', 'insert', 'insert', 'insert']));
      await table.deleteByKeys([{ id: 2n }]);
      // LakeSoul-Python writes an update, a delete and an insert as CDC rows.
      const input = writeIpc(cdc([1n, 4n, 6n], ['A', 'd', 'f'], ['update', 'delete', 'insert']), join(scratch.dir, `${name}.arrow`));
      await lakesoulPy(env, 'write', { name, input });
      const want = [{ id: '1n', v: 'A', rowkinds: 'update' }, { id: '3n', v: 'c', rowkinds: 'insert' }, { id: '5n', v: 'e', rowkinds: 'insert' }, { id: '6n', v: 'f', rowkinds: 'insert' }];
      expect(canonicalRows(await table.toArrow())).toEqual(want);
      const py = canonicalRows(await pyScan(name));
      expect(py.filter((r) => r.rowkinds !== 'delete'), 'the wheel merges to the same live rows').toEqual(want);
      expect(py.filter((r) => r.rowkinds === 'delete').map((r) => r.id).sort(), 'the wheel keeps the delete markers').toEqual(['2n', '4n']);
    });

    // Non-PK tables (test 5): rows of (k, region, yr, x), two range columns, in a namespace of their own.
    type NpRow = { k: number; region: string | null; yr: number; x: number };
    const npCols = ['k', 'region', 'yr', 'x'];
    const npRows = (seed: number, n: number): NpRow[] => {
      let a = seed;
      return Array.from({ length: n }, (_, i) => {
        a = (a * 1103515245 + 12345) % 2 ** 31;
        return { k: seed * 1000 + i, region: ['eu', 'us', 'apac'][a % 3], yr: 2020 + (a % 4), x: (a % 10000) / 8 };
      });
    };
    const npArrow = (rs: NpRow[]) => new Table({
      k: makeVector(Int32Array.from(rs.map((r) => r.k))),
      region: vectorFromArray(rs.map((r) => r.region), new Utf8()),
      yr: makeVector(Int32Array.from(rs.map((r) => r.yr))),
      x: makeVector(Float64Array.from(rs.map((r) => r.x))),
    });
    const npCanon = (t: Table) => canonicalRows(t, npCols);
    const nsName = () => `interop_ns_${storage}_${suffix}`;
    let nsCreated = false;
    const npNamespace = async () => {
      if (!nsCreated) await catalog.createNamespace(nsName());
      nsCreated = true;
      return nsName();
    };
    const pyWriteNp = async (name: string, ns: string, rs: NpRow[]) => {
      const input = writeIpc(npArrow(rs), join(scratch.dir, `${name}-${randomBytes(4).toString('hex')}.arrow`));
      return lakesoulPy<PyWrite>(env, 'write', { name, namespace: ns, input });
    };

    it('5a. non-PK table, two range columns, other namespace: LakeSoul-Python creates and writes, TS reads and appends, both read all rows', async () => {
      const ns = await npNamespace();
      const name = tname('np_py');
      await lakesoulPy(env, 'create', {
        name, namespace: ns, path: `${warehouse}/${ns}/${name}`,
        schema: [['k', 'int32'], ['region', 'string'], ['yr', 'int32'], ['x', 'float64']], partitionBy: ['region', 'yr'],
      });
      const all: NpRow[] = [];
      for (const seed of [1, 2]) {
        const rs = npRows(seed, 40);
        const w = await pyWriteNp(name, ns, rs);
        expect(w.rows).toBe(40);
        all.push(...rs);
      }
      const table = await lake.table(name, ns);
      expect(table.info.primaryKeys).toEqual([]);
      expect(table.info.rangePartitions).toEqual(['region', 'yr']);
      expect(npCanon(await table.toArrow())).toEqual(npCanon(npArrow(all)));
      const more = npRows(3, 25);
      await table.write(npArrow(more), { mode: 'append' });
      all.push(...more);
      expect(npCanon(await table.toArrow())).toEqual(npCanon(npArrow(all)));
      expect(npCanon(await pyScan(name, ns))).toEqual(npCanon(npArrow(all)));
      const partitions = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(partitions.length).toBeGreaterThan(4);
      for (const p of partitions) expect(p).toMatch(/^region=(eu|us|apac),yr=202[0-3]$/);
      const us2021 = await table.toArrow({ partitions: { region: 'us', yr: 2021 } });
      expect(npCanon(us2021)).toEqual(npCanon(npArrow(all.filter((r) => r.region === 'us' && r.yr === 2021))));
    });

    it('5b. non-PK table, two range columns, other namespace: TS creates and writes, LakeSoul-Python reads all rows', async () => {
      const ns = await npNamespace();
      const name = tname('np_ts');
      const table = await lake.createTable(name, npArrow([]).schema, { namespace: ns, rangePartitions: ['region', 'yr'] });
      const all: NpRow[] = [];
      for (const seed of [4, 5]) {
        const rs = npRows(seed, 30);
        await table.write(npArrow(rs), { mode: 'append' });
        all.push(...rs);
      }
      expect(npCanon(await pyScan(name, ns))).toEqual(npCanon(npArrow(all)));
      expect(npCanon(await table.toArrow())).toEqual(npCanon(npArrow(all)));
    });

    it('5c. LakeSoul-Python appends to a non-PK table TS created: refused while hashBucketNum is the protocol\'s "-1", works once the property is removed (docs/interop.md)', async () => {
      const ns = await npNamespace();
      const name = tname('np_ts_pyappend');
      const table = await lake.createTable(name, npArrow([]).schema, { namespace: ns, rangePartitions: ['region', 'yr'] });
      expect(table.info.properties.hashBucketNum).toBe('-1');
      const all = npRows(7, 30);
      await table.write(npArrow(all), { mode: 'append' });
      const pyMore = npRows(8, 20);
      // lakesoul 2.0.0's LakeSoulTable.hash_bucket_num rejects "-1" (an upstream quirk of the wheel).
      await expect(pyWriteNp(name, ns, pyMore)).rejects.toThrow(/invalid hashBucketNum table property: '-1'/);
      expect(npCanon(await table.toArrow())).toEqual(npCanon(npArrow(all)));
      // The documented workaround: drop the property; both sides read a missing hashBucketNum as -1.
      await lake.catalog.updateTableProperties(table.info.tableId, { hashBucketNum: null });
      await pyWriteNp(name, ns, pyMore);
      all.push(...pyMore);
      expect(npCanon(await pyScan(name, ns))).toEqual(npCanon(npArrow(all)));
      expect(npCanon(await (await lake.table(name, ns)).toArrow())).toEqual(npCanon(npArrow(all)));
    });

    it('5e. micro- and nanosecond timestamp range columns: LakeSoul-Python and TS write the same partition_desc text and read each other\'s values exactly', async () => {
      const ns = await npNamespace();
      const name = tname('np_ts_parts');
      await lakesoulPy(env, 'create', {
        name, namespace: ns, path: `${warehouse}/${ns}/${name}`,
        schema: [['k', 'int32'], ['ts', 'timestamp_us_utc'], ['tn', 'timestamp_ns'], ['x', 'float64']], partitionBy: ['ts', 'tn'],
      });
      const schema = new Schema([
        new Field('k', new Int32(), true), new Field('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
        new Field('tn', new Timestamp(TimeUnit.NANOSECOND), true), new Field('x', new Float64(), true),
      ]);
      type TsRow = { k: number; ts: string; tn: string; x: number };
      const rowsOfTable = (t: Table): TsRow[] => {
        const out: TsRow[] = [];
        for (const b of t.batches) {
          const cols = schema.fields.map((f) => plainValues(b.getChild(f.name)!.data[0]));
          for (let i = 0; i < b.numRows; i++) out.push(Object.fromEntries(schema.fields.map((f, c) => [f.name, cols[c][i]])) as TsRow);
        }
        return out.sort((a, b) => a.k - b.k);
      };
      const py: TsRow[] = [
        { k: 1, ts: '2024-01-01T00:00:00.123456Z', tn: '2024-01-01T00:00:00.123456789', x: 1 },
        { k: 2, ts: '2024-01-01T00:00:00.123457Z', tn: '2024-01-01T00:00:00.123456788', x: 2 },
      ];
      const input = writeIpc(new Table([recordsToBatch(py, schema)]), join(scratch.dir, `${name}-py.arrow`));
      await lakesoulPy(env, 'write', { name, namespace: ns, input });
      const table = await lake.table(name, ns);
      const pyDescs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(pyDescs).toEqual([
        'ts=2024-01-01T00:00:00.123456,tn=2024-01-01T00:00:00.123456789',
        'ts=2024-01-01T00:00:00.123457,tn=2024-01-01T00:00:00.123456788',
      ]);
      expect(rowsOfTable(await table.toArrow())).toEqual(py);
      // TS appends the same values and one new one: the same partitions get a version, one new partition appears.
      const ts: TsRow[] = [
        { k: 3, ts: '2024-01-01T00:00:00.123456Z', tn: '2024-01-01T00:00:00.123456789', x: 3 },
        { k: 4, ts: '2024-01-01T00:00:00.123000Z', tn: '2024-01-01T00:00:00.123000000', x: 4 },
      ];
      await table.write(recordsToBatch(ts, schema), { mode: 'append' });
      const snapshot = await table.snapshot();
      expect(snapshot.map((p) => p.partitionDesc).sort()).toEqual([...pyDescs, 'ts=2024-01-01T00:00:00.123000,tn=2024-01-01T00:00:00.123000000'].sort());
      expect(snapshot.find((p) => p.partitionDesc === pyDescs[0])!.version).toBe(1);
      expect(rowsOfTable(await table.toArrow())).toEqual([...py, ...ts]);
      expect(rowsOfTable(await pyScan(name, ns))).toEqual([...py, ...ts]);
      expect(rowsOfTable(await table.toArrow({ filter: "ts = '2024-01-01T00:00:00.123456Z' and tn = '2024-01-01T00:00:00.123456789'" })).map((r) => r.k)).toEqual([1, 3]);
    });

    it('5f. float range columns (float64 and float32, -0, inf, NaN, values printed without exponent): LakeSoul-Python and TS write the same partition_desc text and read each other\'s values exactly', async () => {
      const ns = await npNamespace();
      const name = tname('np_float_parts');
      await lakesoulPy(env, 'create', {
        name, namespace: ns, path: `${warehouse}/${ns}/${name}`,
        schema: [['k', 'int32'], ['x', 'float64'], ['f', 'float32']], partitionBy: ['x', 'f'],
      });
      const schema = new Schema([new Field('k', new Int32(), true), new Field('x', new Float64(), true), new Field('f', new Float32(), true)]);
      const xs = [1, -0, 2.5, 1e21, 1e-7, 0.30000000000000004, 123456789012.5, Infinity, -Infinity, NaN];
      const fs = [1, 3, 0.1, 1e21, 1e-7, 0.3, 123456789012.5, Infinity, -Infinity, NaN].map(Math.fround);
      const batchOf = (k0: number) => new Table(schema, {
        k: makeVector(Int32Array.from(xs, (_, i) => k0 + i)), x: makeVector(Float64Array.from(xs)), f: makeVector(Float32Array.from(fs)),
      });
      type FloatRow = { k: number; x: number; f: number };
      const rowsOf = (t: Table): FloatRow[] => {
        const out: FloatRow[] = [];
        for (const b of t.batches) {
          const cols = schema.fields.map((f) => plainValues(b.getChild(f.name)!.data[0]));
          for (let i = 0; i < b.numRows; i++) out.push({ k: cols[0][i] as number, x: cols[1][i] as number, f: cols[2][i] as number });
        }
        return out.sort((a, b) => a.k - b.k);
      };
      const py = batchOf(0);
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(py, join(scratch.dir, `${name}-py.arrow`)) });
      const table = await lake.table(name, ns);
      const pyDescs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(pyDescs).toHaveLength(xs.length);
      expect(pyDescs).toContain('x=1000000000000000000000,f=1000000000000000000000');
      expect(pyDescs).toContain('x=-inf,f=-inf');
      expect(rowsOf(await table.toArrow())).toEqual(rowsOf(py));
      // TS appends the same values: every row lands in the wheel's partition of its value (a version more, no new partition).
      const ts = batchOf(100);
      await table.write(ts, { mode: 'append' });
      const snapshot = await table.snapshot();
      expect(snapshot.map((p) => p.partitionDesc).sort()).toEqual(pyDescs);
      for (const p of snapshot) expect(p.version, p.partitionDesc).toBe(1);
      const both = [...rowsOf(py), ...rowsOf(ts)];
      expect(rowsOf(await table.toArrow())).toEqual(both);
      expect(rowsOf(await pyScan(name, ns))).toEqual(both);
      expect(rowsOf(await table.toArrow({ partitions: { x: -0, f: 3 } })).map((r) => r.k)).toEqual([1, 101]);
      expect(rowsOf(await table.toArrow({ filter: 'x = 2.5' })).map((r) => r.k)).toEqual([2, 102]);
    });

    it('5h. binary range column: both sides write a value as lowercase hex (`p=616263`), read each other\'s exactly, and TS appends land in the wheel\'s partitions', async () => {
      const ns = await npNamespace();
      const name = tname('np_binary_parts');
      await lakesoulPy(env, 'create', { name, namespace: ns, path: `${warehouse}/${ns}/${name}`, schema: [['k', 'int32'], ['p', 'binary']], partitionBy: ['p'] });
      const values = [Buffer.from('abc'), Buffer.from('é'), Buffer.from([0, 0xff]), Buffer.from('12')].map((b) => new Uint8Array(b));
      const batchOf = (k0: number) => new Table({ k: makeVector(Int32Array.from(values, (_, i) => k0 + i)), p: vectorFromArray(values, new Binary()) });
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(batchOf(0), join(scratch.dir, `${name}-py.arrow`)) });
      const table = await lake.table(name, ns);
      const descs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(descs).toEqual(['p=00ff', 'p=3132', 'p=616263', 'p=c3a9']);
      expect(canonicalRows(await table.toArrow())).toEqual(canonicalRows(batchOf(0)));
      await table.write(batchOf(100), { mode: 'append' });
      expect((await table.snapshot()).map((p) => p.partitionDesc).sort(), 'no partition of its own').toEqual(descs);
      const both = canonicalRows(new Table([...batchOf(0).batches, ...batchOf(100).batches]));
      expect(canonicalRows(await table.toArrow())).toEqual(both);
      expect(canonicalRows(await pyScan(name, ns))).toEqual(both);
      expect(canonicalRows(await table.toArrow({ partitions: { p: values[1] } })).map((r) => r.k)).toEqual([1, 101]);
    });

    it('5i. a null range value of a non-text column the wheel wrote as `k=NULL` reads as null and is selected by null; TS writes its nulls with the protocol\'s marker and reads both', async () => {
      const ns = await npNamespace();
      const name = tname('np_null_int_parts');
      await lakesoulPy(env, 'create', { name, namespace: ns, path: `${warehouse}/${ns}/${name}`, schema: [['id', 'int64'], ['k', 'int32'], ['s', 'string']], partitionBy: ['k', 's'] });
      const schema = new Schema([new Field('id', new Int64(), true), new Field('k', new Int32(), true), new Field('s', new Utf8(), true)]);
      const batchOf = (ids: number[], ks: (number | null)[], ss: (string | null)[]) => new Table(schema, {
        id: makeVector(BigInt64Array.from(ids, BigInt)), k: vectorFromArray(ks, new Int32()), s: vectorFromArray(ss, new Utf8()),
      });
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(batchOf([1, 2, 3], [5, null, null], ['a', 'a', 'NULL']), join(scratch.dir, `${name}-py.arrow`)) });
      const table = await lake.table(name, ns);
      const descs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      // the wheel's text for the int's null; a text column's 'NULL' is that string
      expect(descs).toEqual(['k=5,s=a', 'k=NULL,s=NULL', 'k=NULL,s=a']);
      const rows = (t: Table) => t.toArray().map((r) => [Number(r.id), r.k, r.s]).sort((a, b) => (a[0] as number) - (b[0] as number));
      expect(rows(await table.toArrow())).toEqual([[1, 5, 'a'], [2, null, 'a'], [3, null, 'NULL']]);
      expect(rows(await table.toArrow({ filter: 'k IS NULL' }))).toEqual([[2, null, 'a'], [3, null, 'NULL']]);
      expect(rows(await table.toArrow({ filter: 'k = 5 OR s IS NULL' }))).toEqual([[1, 5, 'a']]);
      expect(rows(await table.toArrow({ partitions: { k: null, s: 'a' } }))).toEqual([[2, null, 'a']]);
      // (the wheel reads neither its own `NULL` nor the marker in an int column back: "invalid digit
      // found in string", docs/interop.md)
      await expect(pyScan(name, ns)).rejects.toThrow(/invalid digit found in string/);
      // TS's null goes to the wheel's partition of that value; a null of a new partition is written
      // with the protocol's marker (docs/interop.md: a table holding both reads both as null)
      await table.write(batchOf([4, 5], [null, null], ['a', 'b']), { mode: 'append' });
      expect((await table.snapshot()).map((p) => p.partitionDesc).sort()).toEqual([...descs, 'k=__L@KE$OUL_NULL__,s=b'].sort());
      expect(rows(await table.toArrow({ partitions: { k: null, s: 'a' } }))).toEqual([[2, null, 'a'], [4, null, 'a']]);
      const all = [[1, 5, 'a'], [2, null, 'a'], [3, null, 'NULL'], [4, null, 'a'], [5, null, 'b']];
      expect(rows(await table.toArrow())).toEqual(all);
      expect(rows(await table.toArrow({ filter: 'k IS NULL AND s = \'a\'' }))).toEqual([[2, null, 'a'], [4, null, 'a']]);
    });

    it('5i. on a primary-key table, TS upserts and deletes by key the rows the wheel wrote in its `k=NULL` partition (a key upserted into the marker partition was live twice, a delete by key found nothing)', async () => {
      const ns = await npNamespace();
      const name = tname('pk_null_int_parts');
      await lakesoulPy(env, 'create', { name, namespace: ns, path: `${warehouse}/${ns}/${name}`, schema: [['id', 'int64'], ['k', 'int32'], ['v', 'string']], partitionBy: ['k'], primaryKeys: ['id'], hashBucketNum: 2 });
      const schema = new Schema([new Field('id', new Int64(), false), new Field('k', new Int32(), true), new Field('v', new Utf8(), true)]);
      const batchOf = (ids: number[], ks: (number | null)[], vs: string[]) => new Table(schema, {
        id: makeVector(BigInt64Array.from(ids, BigInt)), k: vectorFromArray(ks, new Int32()), v: vectorFromArray(vs, new Utf8()),
      });
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(batchOf([1, 2, 3], [null, null, 7], ['wheel', 'wheel', 'wheel']), join(scratch.dir, `${name}-py.arrow`)) });
      const table = await lake.table(name, ns);
      const rows = async () => (await table.toArrow()).toArray().map((r) => [Number(r.id), r.k, r.v]).sort((a, b) => (a[0] as number) - (b[0] as number));
      await table.write(batchOf([1], [null], ['ts']));
      expect(await rows()).toEqual([[1, null, 'ts'], [2, null, 'wheel'], [3, 7, 'wheel']]);
      expect((await table.snapshot()).map((p) => p.partitionDesc).sort()).toEqual(['k=7', 'k=NULL']);
      const deleted = await table.deleteByKeys([{ id: 2, k: null }]);
      expect(deleted.rows).toBe(1);
      expect(await rows()).toEqual([[1, null, 'ts'], [3, 7, 'wheel']]);
    });

    it('5g. millisecond timestamp range column (a table TS created): LakeSoul-Python and TS write the same partition_desc text for the same value', async () => {
      const ns = await npNamespace();
      const name = tname('np_ms_parts');
      const schema = new Schema([new Field('k', new Int32(), true), new Field('ts', new Timestamp(TimeUnit.MILLISECOND), true)]);
      const table = await lake.createTable(name, schema, { namespace: ns, rangePartitions: ['ts'] });
      await lake.catalog.updateTableProperties(table.info.tableId, { hashBucketNum: null }); // the wheel's quirk (5c)
      const T = [Date.UTC(2024, 0, 1, 0, 0, 0, 123), Date.UTC(2024, 0, 1)];
      const batchOf = (k0: number) => new Table(schema, { k: makeVector(Int32Array.from([k0, k0 + 1])), ts: vectorFromArray(T.map((t) => new Date(t)), new Timestamp(TimeUnit.MILLISECOND)) });
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(batchOf(0), join(scratch.dir, `${name}-py.arrow`)) });
      const pyDescs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(pyDescs).toEqual(['ts=2024-01-01T00:00:00.000', 'ts=2024-01-01T00:00:00.123']);
      await table.write(batchOf(10), { mode: 'append' });
      const snapshot = await table.snapshot();
      expect(snapshot.map((p) => p.partitionDesc).sort()).toEqual(pyDescs);
      for (const p of snapshot) expect(p.version, p.partitionDesc).toBe(1);
      // a value TS writes first: its text is the wheel's, which then writes into the same partition
      const T3 = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
      const one = (k: number) => new Table(schema, { k: makeVector(Int32Array.from([k])), ts: vectorFromArray([new Date(T3)], new Timestamp(TimeUnit.MILLISECOND)) });
      await table.write(one(20), { mode: 'append' });
      expect((await table.snapshot()).map((p) => p.partitionDesc).sort()).toEqual([...pyDescs, 'ts=2024-01-02T03:04:05.006']);
      await lakesoulPy(env, 'write', { name, namespace: ns, input: writeIpc(one(21), join(scratch.dir, `${name}-py2.arrow`)) });
      expect((await table.snapshot()).find((p) => p.partitionDesc === 'ts=2024-01-02T03:04:05.006')?.version).toBe(1);
      const keysOf = (t: Table) => t.toArray().map((r) => [r.k, Number(r.ts)] as [number, number]).sort((a, b) => a[0] - b[0]);
      const want: [number, number][] = [[0, T[0]!], [1, T[1]!], [10, T[0]!], [11, T[1]!], [20, T3], [21, T3]];
      expect(keysOf(await table.toArrow())).toEqual(want);
      expect(keysOf(await pyScan(name, ns))).toEqual(want);
    });

    it('5d. null and empty-string range values written by TS read back as null and "" in LakeSoul-Python', async () => {
      const ns = await npNamespace();
      const name = tname('np_nulls');
      const table = await lake.createTable(name, npArrow([]).schema, { namespace: ns, rangePartitions: ['region', 'yr'] });
      const rs: NpRow[] = [
        { k: 1, region: null, yr: 2020, x: 1 },
        { k: 2, region: '', yr: 2020, x: 2 },
        { k: 3, region: 'eu', yr: 2021, x: 3 },
        { k: 4, region: null, yr: 2021, x: 4 },
      ];
      await table.write(npArrow(rs), { mode: 'append' });
      const descs = (await table.snapshot()).map((p) => p.partitionDesc).sort();
      expect(descs).toEqual(['region=__L@KE$OUL_EMPTY_STRING__,yr=2020', 'region=__L@KE$OUL_NULL__,yr=2020', 'region=__L@KE$OUL_NULL__,yr=2021', 'region=eu,yr=2021']);
      expect(npCanon(await table.toArrow())).toEqual(npCanon(npArrow(rs)));
      expect(npCanon(await pyScan(name, ns))).toEqual(npCanon(npArrow(rs)));
    });

    if (storage === 'local') {
      it('6. a table moved on disk and relocated in the catalog (relocateTables) reads and writes the same in LakeSoul-Python', async () => {
        const name = tname('moved');
        const table = await lake.createTable(name, pkSchema(), { rangePartitions: ['region'], primaryKeys: ['id'], hashBucketNum: 4 });
        const model = new MergeModel();
        const base = makeRows([...Array(30).keys()], ['eu', 'us'], 21, 'base');
        await table.write(rowsToArrow(base), { mode: 'append' });
        model.upsert(base);
        const up = makeRows([1, 5, 40], ['eu', 'us'], 22, 'up');
        await table.write(rowsToArrow(up), { mode: 'upsert' });
        model.upsert(up);
        const to = `${warehouse}-moved/${name}`;
        mkdirSync(fileURLToPath(`${warehouse}-moved`), { recursive: true });
        renameSync(fileURLToPath(table.info.path), fileURLToPath(to));
        const r = await catalog.relocateTables(table.info.path, to);
        expect(r.tables.map((t) => t.to)).toEqual([to]);
        expect(canonicalRows(await pyScan(name), ALL), 'LakeSoul-Python reads the relocated table').toEqual(expected(model));
        const py = makeRows([2, 41], ['us'], 23, 'py');
        const w = await pyWrite(name, py);
        for (const f of w.files) expect(f.path.startsWith(`${to}/`), f.path).toBe(true);
        model.upsert(py);
        expect(canonicalRows(await (await lake.table(name)).toArrow(), ALL)).toEqual(expected(model));
      });
    }
  });
}

