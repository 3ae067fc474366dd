/**
 * A read whose table was dropped with its files (`dropTable(name, { purge: true })`) while it ran met
 * a missing data file, and its error sent the reader to cleanup's retention ("keep retainSince before
 * the oldest plan you keep"). It now says the table was dropped. Found by a hunt of multi-process
 * concurrency.
 */
import { expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { useTempLakehouse } from './temp-lakehouse-fixture.js';

const h = useTempLakehouse('lakesoul-dropped-read-');

it('says the table was dropped when its files go with it during a read', async () => {
  const t = await h.lh.createTable('gone', [{ id: 0, v: 'x' }]);
  for (let i = 1; i < 12; i++) await t.write([{ id: i, v: 'x' }]);
  const it = t.read({ prefetchBytes: 1 })[Symbol.asyncIterator]();
  expect((await it.next()).done).toBe(false);
  await h.lh.dropTable('gone', { purge: true });
  const e = await (async () => { for (;;) if ((await it.next()).done) return null; })().catch((x: unknown) => x);
  expect(LakeSoulError.hasCode(e, 'TABLE_NOT_FOUND'), String(e)).toBe(true);
  expect((e as Error).message).toMatch(/^table 'default\.gone' was dropped while this read ran \(its data file file:\/\/.*\.parquet was deleted with it\)/);
  expect((e as Error).message).not.toContain('retainSince');
  // a file missing from a table still there keeps the plan's explanation
  const kept = await h.lh.createTable('kept', [{ id: 0, v: 'x' }]);
  await kept.write([{ id: 1, v: 'y' }]);
  const plan = await kept.scan();
  const { rmSync } = await import('node:fs');
  rmSync(new URL(plan.splits[0]!.files[0]!.path));
  const missing = await kept.toArrow().catch((x: unknown) => x);
  expect(LakeSoulError.hasCode(missing, 'OBJECT_NOT_FOUND'), String(missing)).toBe(true);
  expect((missing as Error).message).toContain('no longer exists');
});
