// Copies of imported blobs are a table's data whatever their names: cleanup took an imported
// `emb.parquet` (copied to `<table>/_blobs/emb.parquet`, named by no commit) for an orphan data file
// and deleted it, so its row's bytes were gone.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Lakehouse } from './lakehouse.js';
import { importImages } from '../import/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lakesoul-cleanup-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('cleanup keeps copied blobs named like data files', async () => {
  const m = join(dir, 'm');
  mkdirSync(m, { recursive: true });
  writeFileSync(join(m, 'emb.parquet'), 'not parquet: bytes of a blob');
  writeFileSync(join(m, 'pic.png'), 'PNG');
  writeFileSync(join(m, 'man.csv'), 'file,label\nemb.parquet,a\npic.png,b\n');
  const lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: pathToFileURL(join(dir, 'wh')).href });
  try {
    const { table } = await importImages(lh, 't', { manifest: pathToFileURL(join(m, 'man.csv')).href, pathColumn: 'file' }, { mode: 'copy' });
    const copy = join(fileURLToPath(table.info.path), '_blobs', 'emb.parquet');
    expect(existsSync(copy)).toBe(true);
    const report = await table.cleanup({ dryRun: false, orphanSafetyWindowMs: 0, assumeNoWritesInFlight: true });
    expect(report.files.map((f) => f.path)).toEqual([]);
    expect(existsSync(copy)).toBe(true);
    const read = await table.toArrow({ blobs: ['path'] });
    const bytes = read.getChild('path__bytes')!.toArray().map((b: Uint8Array) => Buffer.from(b).toString());
    expect(bytes.sort()).toEqual(['PNG', 'not parquet: bytes of a blob']);
  } finally {
    await lh.close();
  }
});
