import { describe, expect, it } from 'vitest';
import { checkKey, checkPrefix } from './store-errors.js';
import { MemoryStore } from './memory-store.js';
import { S3Store } from './s3-store.js';

describe('checkKey / checkPrefix context.file', () => {
  it('joins the store description and a bad key with one slash', () => {
    const fileOf = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as { context: { file?: string } }).context.file;
      }
      return undefined;
    };
    expect(fileOf(() => checkKey('a//b', 's3://hunt/'))).toBe('s3://hunt/a//b');
    expect(fileOf(() => checkKey('../x', 'file:///'))).toBe('file:///../x');
    expect(fileOf(() => checkKey('a/./b', 'memory://m'))).toBe('memory://m/a/./b');
    expect(fileOf(() => checkPrefix('/abs', 's3://hunt/'))).toBe('s3://hunt//abs'); // the key's own slash is kept
    expect(fileOf(() => checkPrefix('a/../b', 's3://hunt/'))).toBe('s3://hunt/a/../b');
  });

  it('names the key under the store, as the stores do', async () => {
    const s3 = new S3Store({ bucket: 'hunt', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      await expect(s3.get('a//b')).rejects.toMatchObject({ kind: 'InvalidArgument', context: { file: 's3://hunt/a//b' } });
      await expect(new MemoryStore({ name: 'm' }).put('x//y', new Uint8Array(1))).rejects.toMatchObject({ context: { file: 'memory://m/x//y' } });
    } finally {
      s3.destroy();
    }
  });
});
