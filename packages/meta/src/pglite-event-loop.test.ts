// An in-process PGlite answers on microtasks alone: a loop of catalog calls that read no file (a
// consumer polling a table for new commits) held the event loop, so its timers never fired and
// writers in the same process never finished their first write (1,259 polls in 3 s, no timer). The
// driver lets the event loop turn when its queries have run for a while without it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog } from './catalog.js';

let catalog: Catalog;
beforeAll(async () => {
  catalog = await Catalog.open({ dataDir: ':memory:' });
});
afterAll(() => catalog?.close());

it('a loop of catalog calls lets timers and immediates run', async () => {
  const t = await catalog.createTable({ name: 'poll', path: 'file:///tmp/lakesoul-poll/poll', schema: new Schema([new Field('id', new Int64(), false)]), primaryKeys: ['id'], hashBucketNum: 1 });
  const t0 = performance.now();
  let timerAt: number | null = null;
  let immediate = false;
  setTimeout(() => { timerAt = performance.now() - t0; }, 5);
  setImmediate(() => { immediate = true; });
  let calls = 0;
  // plain queries and transactions, as a polling reader makes them
  while (timerAt === null && performance.now() - t0 < 3000) {
    await catalog.getSnapshot(t.tableId);
    await catalog.driver.transaction(async (tx) => tx.query('SELECT 1'));
    calls++;
  }
  expect(immediate).toBe(true);
  expect(timerAt, `after ${calls} rounds of calls`).not.toBeNull();
  expect(timerAt!).toBeLessThan(1000);
});
