// Catalog.open on a dataDir that is a file (or under one) is INVALID_CATALOG_DIR, InvalidArgument, not
// retryable, as the CLI refuses it: it was CATALOG_UNAVAILABLE, whose row in docs/errors.md says retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from './catalog.js';
import { LakeSoulError } from './errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'catalog-dir-file-'));
  writeFileSync(join(dir, 'a-file'), 'not a catalog');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Catalog.open on a file', () => {
  it.each([['a file', 'a-file'], ['a path under a file', 'a-file/catalog']])('%s is INVALID_CATALOG_DIR', async (_, rel) => {
    const e = await Catalog.open({ dataDir: join(dir, rel), env: {} }).then(async (c) => { await c.close(); return null; }, (err: unknown) => err);
    expect(e).toBeInstanceOf(LakeSoulError);
    expect(e).toMatchObject({ kind: 'InvalidArgument', code: 'INVALID_CATALOG_DIR', retryable: false, context: { dataDir: join(dir, rel) } });
    expect((e as Error).message).toContain(join(dir, rel));
  });

  it('a directory not there yet is made', async () => {
    const c = await Catalog.open({ dataDir: join(dir, 'new', 'catalog'), env: {} });
    await c.close();
    expect(existsSync(join(dir, 'new', 'catalog'))).toBe(true);
  });
});
