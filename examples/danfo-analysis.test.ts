// Runs examples/danfo-analysis.mjs end to end (embedded PGlite catalog + local disk) and checks what
// it computed against the example's own input data.
import { expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error -- a plain .mjs example without type declarations
import { main, orders, corrections } from './danfo-analysis.mjs';

type Cols = Record<string, unknown[]>;
const rows = (c: Cols) => (c.order_id as number[]).map((_, i) => Object.fromEntries(Object.keys(c).map((k) => [k, c[k][i]])));
function totals(list: Record<string, unknown>[]) {
  const out: Record<string, { qty: number; amount: number }> = {};
  for (const r of list) {
    const t = (out[r.product as string] ??= { qty: 0, amount: 0 });
    t.qty += r.qty as number;
    t.amount = Math.round((t.amount + Number(r.amount)) * 100) / 100;
  }
  return out;
}

test('danfo-analysis example: groupby, time travel and a derived-column upsert', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'danfo-example-'));
  try {
    const lines: string[] = [];
    const result = await main({ root: dir, log: (...a: unknown[]) => lines.push(a.join(' ')) });
    const first = rows(orders);
    const latest = new Map(first.map((r) => [r.order_id, r]));
    for (const r of rows(corrections)) latest.set(r.order_id, r);

    expect(result.before).toEqual(totals(first));
    expect(result.now).toEqual(totals([...latest.values()]));
    expect(result.now).not.toEqual(result.before);
    expect(result.euOrders).toEqual({ v0: first.filter((r) => r.region === 'eu').length, now: [...latest.values()].filter((r) => r.region === 'eu').length });

    // The derived column landed on every row; all other columns kept their values (partial upsert).
    expect(result.enriched).toHaveLength(latest.size);
    for (const r of result.enriched) {
      const src = latest.get(r.order_id)!;
      expect(r.unit_price).toBe(Math.round((Number(src.amount) / (src.qty as number)) * 100) / 100);
      expect(r.amount).toBe(src.amount);
      expect(r.ordered_at).toBe(src.ordered_at);
      expect(r.product).toBe(src.product);
    }
    // Three commits per touched partition: load, correction, derived column.
    const versions = result.history.filter((h: { partitionDesc: string }) => h.partitionDesc === 'region=eu').map((h: { version: number }) => h.version);
    expect(Math.max(...versions)).toBe(2);
    expect(lines.join('\n')).toContain('describe()');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
