/**
 * The `history` hint of a version that does not exist names the table so that the suggested command
 * works when the namespace and the table name hold '.' (`c.d` in `a.b`, not `b.c.d` in `a`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int32, Schema } from 'apache-arrow';
import { Lakehouse, toFileUri } from '@lakesoul-ts/io';
import { messageOf } from './cli-context.js';

const schema = new Schema([new Field('id', new Int32(), false)]);

describe('history hint of a missing version', () => {
  let dir: string;
  let lh: Lakehouse;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'history-hint-'));
    lh = await Lakehouse.open({ catalog: { dataDir: ':memory:' }, warehouse: toFileUri(dir) });
  });

  afterAll(async () => {
    await lh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hintOf = async (name: string, namespace: string): Promise<string> => {
    const t = await lh.createTable(name, schema, { namespace });
    await t.write([{ id: 1 }]);
    const e = await t.toArrow({ version: 5 }).then(() => null, (err: unknown) => err);
    expect(e).toMatchObject({ code: 'VERSION_NOT_FOUND' });
    const m = / history (.*)\)$/.exec(messageOf(e));
    expect(m, messageOf(e)).not.toBeNull();
    return m![1]!;
  };

  it('splits the qualified name at its namespace, not at its first dot', async () => {
    expect(await hintOf('c.d', 'a.b')).toBe('c.d -n a.b');
    expect(await hintOf('x$y.z', 'default')).toBe("'x$y.z'");
    expect(await hintOf('plain', 'n$s.1')).toBe("plain -n 'n$s.1'");
  });
});
