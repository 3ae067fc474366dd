/**
 * Edge input at the LakeSoul boundary, with LakeSoul's own Python package (lakesoul 2.0.0) on the
 * other side: range-partition values holding characters URL parsing changes, and PK tables whose
 * bucket count is not a power of two. See docs/interop.md ("Partition directories", "Bucket counts").
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { Field, Int64, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Catalog, LakeSoulError } from '@lakesoul-ts/meta';
import { Lakehouse, computeBuckets, nativeDataFileUri } from '@lakesoul-ts/io';
import { interopEnv, lakesoulPy, readIpc, scratchDir, writeIpc, type InteropEnv } from './interop-env.js';

const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, 600_000);

/**
 * One range value per character class that URL parsing changes or that a path could misread: tab,
 * newline, carriage return, `%XX`, a lone `%`, `?`, `#`, backslash, space, non-ASCII, `+`, `/`, `..`,
 * `~` (this project's escape character), and other punctuation.
 */
const VALUES = ['tab\there', 'nl\nhere', 'cr\rx', 'pct%41x', 'pct%zz', 'q?x', 'h#x', 'back\\slash', 'sp ace', 'é日本', 'plus+x', 'a/b', '..', 'tilde~7Ex', 'semi;x', 'amp&x', 'col:x', 'quote"x', 'star*x', 'brack[x]'];

const schema = new Schema([new Field('id', new Int64(), false), new Field('p', new Utf8(), false), new Field('v', new Utf8(), true)]);
const rows = (ids: number[], p: (i: number) => string, v: (i: number) => string) =>
  new Table(schema, {
    id: vectorFromArray(ids.map(BigInt), new Int64()).data[0],
    p: vectorFromArray(ids.map(p), new Utf8()).data[0],
    v: vectorFromArray(ids.map(v), new Utf8()).data[0],
  } as never);
/** `{ p: v }` of every row, by id (a duplicated key fails the test). */
function byId(t: Table): Map<number, { p: string; v: string }> {
  const out = new Map<number, { p: string; v: string }>();
  for (const r of t.toArray()) {
    const id = Number(r.id);
    expect(out.has(id), `id ${id} returned twice`).toBe(false);
    out.set(id, { p: r.p as string, v: r.v as string });
  }
  return out;
}

for (const storage of ['local', 's3'] as const) {
  describe(`LakeSoul boundary with LakeSoul-Python 2.0.0 (${storage} storage)`, () => {
    let env: InteropEnv;
    let scratch: { dir: string; cleanup: () => void };
    let catalog: Catalog;
    let lake: Lakehouse;
    let warehouse: string;
    const suffix = randomBytes(4).toString('hex');
    const tname = (what: string) => `boundary_${what}_${storage}_${suffix}`;
    const ipc = (t: Table, what: string) => writeIpc(t, join(scratch.dir, `${what}-${randomBytes(4).toString('hex')}.arrow`));
    async function pyScan(name: string): Promise<Table> {
      const output = join(scratch.dir, `${name}-scan-${randomBytes(4).toString('hex')}.arrow`);
      await lakesoulPy(env, 'scan', { name, output });
      return readIpc(output);
    }

    beforeAll(async () => {
      env = interopEnv();
      scratch = scratchDir(`boundary-${storage}`);
      if (storage === 's3') {
        const bucket = `boundary-${suffix}`;
        await lakesoulPy(env, 'make_bucket', { bucket });
        warehouse = `s3://${bucket}/warehouse`;
      } else {
        warehouse = pathToFileURL(join(scratch.dir, 'warehouse')).href.replace(/\/+$/, '');
      }
      catalog = await Catalog.open({ url: env.pgUrl });
      lake = await Lakehouse.open({ catalog, warehouse, stores: { env: { ...process.env, AWS_ENDPOINT: env.s3Endpoint } } });
    });
    afterAll(async () => {
      await lake?.close();
      await catalog?.close();
      scratch?.cleanup();
    });

    const ids = VALUES.map((_, i) => i);
    const pOf = (i: number) => VALUES[i];

    it(`range values with characters URL parsing changes: ${VALUES.length} values, each read by the other side`, async () => {
      // lakesoul-ts writes: every directory name survives URL parsing, and the wheel reads every value
      const ts = tname('tsw');
      const t = await lake.createTable(ts, schema, { primaryKeys: ['id'], rangePartitions: ['p'], hashBucketNum: 1 });
      await t.write(rows(ids, pOf, (i) => `ts-${i}`));
      const snapshot = await catalog.getSnapshot(t.info.tableId);
      expect(snapshot.length).toBe(VALUES.length);
      for (const part of snapshot) for (const f of part.files) expect(nativeDataFileUri(f.path), `stored path of ${part.partitionDesc}`).toBe(f.path);
      const pyRead = byId(await pyScan(ts));
      for (const i of ids) expect(pyRead.get(i), `the wheel reads value ${JSON.stringify(VALUES[i])}`).toEqual({ p: VALUES[i], v: `ts-${i}` });

      // the wheel writes on top (its files go where URL parsing puts them): lakesoul-ts reads every value
      await lakesoulPy(env, 'write', { name: ts, input: ipc(rows(ids, pOf, (i) => `py-${i}`), ts) });
      const tsRead = byId(await (await lake.table(ts)).toArrow());
      for (const i of ids) expect(tsRead.get(i), `lakesoul-ts reads the wheel's file for ${JSON.stringify(VALUES[i])}`).toEqual({ p: VALUES[i], v: `py-${i}` });
      // and its cleanup knows the wheel's files (stored raw, written where URL parsing put them) are live
      const report = await (await lake.table(ts)).cleanup({ orphanSafetyWindowMs: 0 });
      expect(report.files.map((f) => f.path)).toEqual([]);

      // a table the wheel created and wrote, then lakesoul-ts upserts half of it
      const py = tname('pyw');
      await lakesoulPy(env, 'create', { name: py, path: `${warehouse}/default/${py}`, schema: [['id', 'int64'], ['p', 'string'], ['v', 'string']], partitionBy: ['p'], primaryKeys: ['id'], hashBucketNum: 1 });
      await lakesoulPy(env, 'write', { name: py, input: ipc(rows(ids, pOf, (i) => `py-${i}`), py) });
      const pt = await lake.table(py);
      const before = byId(await pt.toArrow());
      for (const i of ids) expect(before.get(i), `lakesoul-ts reads the wheel's own table at ${JSON.stringify(VALUES[i])}`).toEqual({ p: VALUES[i], v: `py-${i}` });
      await pt.write(rows(ids.filter((i) => i % 2 === 0), pOf, (i) => `ts-${i}`));
      const after = byId(await (await lake.table(py)).toArrow());
      for (const i of ids) expect(after.get(i)).toEqual({ p: VALUES[i], v: i % 2 === 0 ? `ts-${i}` : `py-${i}` });
    });

    it('a PK table the wheel created with 3 hash buckets: lakesoul-ts places keys as the wheel does, no key read twice', async () => {
      const name = tname('b3');
      await lakesoulPy(env, 'create', { name, path: `${warehouse}/default/${name}`, schema: [['id', 'int64'], ['p', 'string'], ['v', 'string']], partitionBy: [], primaryKeys: ['id'], hashBucketNum: 3 });
      const first = [...Array(1000).keys()];
      await lakesoulPy(env, 'write', { name, input: ipc(rows(first, () => 'x', (i) => `py-${i}`), name) });
      const t = await lake.table(name);
      expect(t.info.hashBucketNum).toBe(3);
      const second = first.map((i) => i + 500);
      await t.write(rows(second, () => 'x', (i) => `ts-${i}`));
      const expectV = (i: number) => (i >= 500 ? `ts-${i}` : `py-${i}`);
      for (const [who, table] of [['lakesoul-ts', await (await lake.table(name)).toArrow()], ['the wheel', await pyScan(name)]] as const) {
        const got = byId(table);
        expect(got.size, `${who} reads 1500 distinct keys`).toBe(1500);
        for (let i = 0; i < 1500; i++) expect(got.get(i)?.v, `${who}, id ${i}`).toBe(expectV(i));
      }
      // the rule itself: lakesoul-ts's buckets equal those of LakeSoul's own writer, key by key
      const probe = rows(second, () => 'x', (i) => `ts-${i}`);
      const output = join(scratch.dir, `oracle-${suffix}.arrow`);
      await lakesoulPy(env, 'bucket_oracle', { input: ipc(new Table({ id: probe.getChild('id')!, v: probe.getChild('v')! }), 'oracle-in'), primaryKeys: ['id'], hashBucketNum: 3, workdir: `${warehouse}/oracle-${suffix}`, output });
      const oracle = readIpc(output);
      const want = new Map(oracle.toArray().map((r) => [Number(r.id), Number(r.__bucket)]));
      const ours = computeBuckets(probe.batches[0], ['id'], 3, 'uint32');
      second.forEach((id, k) => expect(ours[k], `bucket of id ${id}`).toBe(want.get(id)));
    });

    if (storage === 'local') {
      it("lakesoul-ts's writer keeps arrival order of duplicate keys in one batch: both readers return the last copy", async () => {
        const name = tname('dups');
        const t = await lake.createTable(name, schema, { primaryKeys: ['id'], hashBucketNum: 4 });
        // 1,000 keys x 5 copies, in a seeded shuffled order; v = the copy's arrival position
        const keys: number[] = [];
        for (let c = 0; c < 5; c++) for (let k = 0; k < 1000; k++) keys.push(k);
        let x = 12345;
        for (let i = keys.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) % 2147483648;
          const j = x % (i + 1);
          [keys[i], keys[j]] = [keys[j], keys[i]];
        }
        const last = new Map<number, number>();
        keys.forEach((k, pos) => last.set(k, pos));
        const input = new Table(schema, {
          id: vectorFromArray(keys.map(BigInt), new Int64()).data[0],
          p: vectorFromArray(keys.map(() => 'x'), new Utf8()).data[0],
          v: vectorFromArray(keys.map((_, pos) => `arrival-${pos}`), new Utf8()).data[0],
        } as never);
        await t.write(input);
        for (const [who, table] of [['lakesoul-ts', await t.toArrow()], ['the wheel', await pyScan(name)]] as const) {
          const got = byId(table);
          expect(got.size).toBe(1000);
          for (const [k, pos] of last) expect(got.get(k)?.v, `${who}, id ${k}`).toBe(`arrival-${pos}`);
        }
      });

      it('a table with a table_ id and a bucket count not a power of two is refused for writes, naming it; nothing is committed', async () => {
        const name = tname('b6');
        const t = await lake.createTable(name, schema, { primaryKeys: ['id'], hashBucketNum: 4 });
        await t.write(rows([1, 2, 3], () => 'x', () => 'a'));
        // as another engine could have created it (the catalog API refuses to change the count)
        await catalog.driver.query(`update table_info set properties = jsonb_set(properties::jsonb, '{hashBucketNum}', '"6"')::json where table_id = $1`, [t.info.tableId]);
        const t6 = await lake.table(name);
        expect(t6.info.hashBucketNum).toBe(6);
        const e = await t6.write(rows([4], () => 'x', () => 'b')).then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(LakeSoulError);
        expect((e as LakeSoulError).code).toBe('BUCKET_RULE_UNKNOWN');
        expect((e as LakeSoulError).message).toContain(name);
        expect((e as LakeSoulError).message).toContain('6 hash buckets');
        expect((await t6.toArrow()).numRows).toBe(3);
      });
    }
  });
}
