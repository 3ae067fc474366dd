/**
 * The CLI's message for an image import refusing a file that leads out of its folder: it gives no
 * advice that cannot work (listing the folder in lakesoul_blob_roots, or importing the folder, which
 * the user is doing; the import confines reads to the folder whatever the table declares).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lakehouse, importImages, toFileUri } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { messageOf } from './cli-context.js';

describe('message of an image import refusing a link out of the folder', () => {
  let dir: string;
  let lh: Lakehouse;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'import-refusal-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(join(dir, 'wh')) });
  });

  afterAll(async () => {
    await lh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what to do (move the file, or use its folder), not to list the folder in lakesoul_blob_roots', async () => {
    mkdirSync(join(dir, 'pets', 'cat'), { recursive: true });
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 's.png'), 'S');
    symlinkSync(join(dir, 'out', 's.png'), join(dir, 'pets', 'cat', 'evil.png'));
    const e = await importImages(lh, 'p', { folder: toFileUri(join(dir, 'pets')) }).catch((x: unknown) => x);
    expect(LakeSoulError.hasCode(e, 'BLOB_OUTSIDE_ROOTS')).toBe(true);
    const m = messageOf(e);
    expect(m).toContain('evil.png');
    expect(m).toContain('put the file itself in the folder');
    expect(m).not.toContain('lakesoul_blob_roots');
    expect(m).not.toContain('--format images');
  });

  it('a blob read refused outside the roots still gets the advice', () => {
    const e = new LakeSoulError('PermissionDenied', "blob reference '/etc/passwd' refused", { code: 'BLOB_OUTSIDE_ROOTS' });
    expect(messageOf(e)).toContain('lakesoul_blob_roots');
  });
});
