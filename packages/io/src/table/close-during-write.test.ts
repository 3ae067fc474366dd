/**
 * `Lakehouse.close()` while a write is in flight: the write's commit is refused with `DRIVER_CLOSED`
 * before any statement reaches the catalog, so nothing was committed and the write deletes the data
 * files it uploaded (they were all left behind as orphans). The stores stay usable after close().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int64, Schema, Utf8, tableFromArrays } from 'apache-arrow';
import { Lakehouse, toFileUri } from '../index.js';

const schema = new Schema([new Field('id', new Int64(), false), new Field('date', new Utf8(), false), new Field('score', new Float64(), true)]);

function rows(n: number, from = 0) {
  return tableFromArrays({
    id: new BigInt64Array(n).map((_, i) => BigInt(from + i)),
    date: Array.from({ length: n }, (_, i) => `2024-01-0${1 + (i % 3)}`),
    score: new Float64Array(n).map((_, i) => i / 7),
  });
}

/** Parquet files anywhere under `dir`. */
function parquetFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
}

describe('Lakehouse.close() during a write', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function open() {
    dir = mkdtempSync(join(tmpdir(), 'close-during-write-'));
    const lake = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
    const t = await lake.createTable('events', schema, { rangePartitions: ['date'], primaryKeys: ['id'], hashBucketNum: 4 });
    await t.write(rows(10, 1_000_000), { mode: 'upsert' });
    return { lake, t, before: parquetFiles(dir).sort() };
  }

  /** Closes `lake` just before its catalog's next commit runs (the write's files are uploaded by then). */
  function closeBeforeCommit(lake: Lakehouse): void {
    const commit = lake.catalog.commit.bind(lake.catalog);
    lake.catalog.commit = async (req) => {
      await lake.close();
      return commit(req);
    };
  }

  it('a write whose commit meets a closed catalog deletes its files', async () => {
    const { lake, t, before } = await open();
    closeBeforeCommit(lake);
    await expect(t.write(rows(20_000), { mode: 'upsert' })).rejects.toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
    expect(parquetFiles(dir!).sort()).toEqual(before);
  });

  it('a staged write committed after close deletes its files', async () => {
    const { lake, t, before } = await open();
    const staged = await t.stage(rows(5_000), { mode: 'upsert' });
    expect(parquetFiles(dir!).length).toBeGreaterThan(before.length);
    await lake.close();
    await expect(t.commitStaged([staged])).rejects.toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
    expect(parquetFiles(dir!).sort()).toEqual(before);
  });

  it('close() while a write runs: close resolves, the write fails and leaves no file', async () => {
    const { lake, t, before } = await open();
    const write = t.write(rows(100_000), { mode: 'upsert' }).then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await lake.close();
    const e = await write;
    // a write that finished its commit before close() is a success; one that did not leaves nothing
    if (e !== null) {
      expect(e).toMatchObject({ kind: 'Catalog', code: 'DRIVER_CLOSED' });
      expect(parquetFiles(dir!).sort()).toEqual(before);
    }
  });
});
