/**
 * `history` reads the versions of the commits it lists without their snapshots (each lists every
 * commit in force: `Catalog.history` of 4,801 commits returned 11.5 million ids, 71 s and 2.9 GB;
 * through a catalog server the reply was over its frame limit), then their files per chunk.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '@lakesoul-ts/meta';
import { cliInProcess as cli } from './test-support/run-in-process.js';

describe('history', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('lists commits with files and rows without reading every version\'s snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cli-history-'));
    const env = { LAKESOUL_CATALOG_SERVER: process.env.LAKESOUL_CATALOG_SERVER };
    process.env.LAKESOUL_CATALOG_SERVER = 'off';
    try {
      expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,v:utf8', '--primary-key', 'id'])).code).toBe(0);
      for (let i = 0; i < 3; i++) {
        writeFileSync(join(dir, `r${i}.jsonl`), `{"id":${i},"v":"a"}\n{"id":9,"v":"b${i}"}\n`);
        const r = await cli(dir, ['import', 't', `r${i}.jsonl`]);
        expect(r.code, r.err).toBe(0);
      }
      const full = vi.spyOn(Catalog.prototype, 'history');
      const r = await cli(dir, ['history', 't', '--limit', '0', '--format', 'jsonl']);
      expect(r.code, r.err).toBe(0);
      expect(full).not.toHaveBeenCalled();
      const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { files: number; rows: number; versions: unknown });
      expect(lines.map((l) => l.rows)).toEqual([2, 4, 6]);
      expect(lines.every((l) => l.files >= 1)).toBe(true);
    } finally {
      if (env.LAKESOUL_CATALOG_SERVER === undefined) delete process.env.LAKESOUL_CATALOG_SERVER;
      else process.env.LAKESOUL_CATALOG_SERVER = env.LAKESOUL_CATALOG_SERVER;
    }
  });
});
