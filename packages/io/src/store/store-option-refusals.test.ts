/**
 * Store options are checked as they are given (a hunt of options that ignore mistakes): a misspelled
 * `endpoint` sent the data to the environment's S3 server or to AWS, and `partSize: NaN` (a size read
 * from an unset variable) made every put one empty part: a write committed files of 0 bytes.
 */
import { describe, expect, it } from 'vitest';
import { S3Store } from './s3-store.js';
import { StoreRegistry } from './store-registry.js';
import { Lakehouse } from '../table/lakehouse.js';

describe('store options', () => {
  it('a misspelled key of the registry, its s3 or local options, or S3 credentials is refused naming the closest', () => {
    expect(() => new StoreRegistry({ s3: { endpiont: 'http://127.0.0.1:9/' } } as never)).toThrow(/stores\.s3: unknown option 'endpiont' \(did you mean 'endpoint'\?\)/);
    expect(() => new StoreRegistry({ S3: {} } as never)).toThrow(/stores: unknown option 'S3' \(did you mean 's3'\?\)/);
    expect(() => new StoreRegistry({ local: { fsynk: true } } as never)).toThrow(/stores\.local: unknown option 'fsynk'/);
    expect(() => new S3Store({ bucket: 'b', credentials: { accessKeyID: 'a', secretAccessKey: 's' } } as never)).toThrow(/credentials: unknown option 'accessKeyID' \(did you mean 'accessKeyId'\?\)/);
    expect(() => new S3Store({ bucket: 'b', endpiont: 'x' } as never)).toThrow(/S3Store of bucket 'b': unknown option 'endpiont'/);
  });

  it('sizes and counts that are not positive integers are refused, by the registry before any store is made', async () => {
    for (const [k, v] of [['partSize', NaN], ['partSize', '8388608'], ['multipartThreshold', 0], ['listPageSize', NaN], ['uploadConcurrency', 1.5], ['maxSockets', -1]] as const) {
      expect(() => new S3Store({ bucket: 'b', [k]: v } as never), `${k} ${String(v)}`).toThrow(new RegExp(`S3Store ${k} must be a positive integer, got ${typeof v === 'string' ? `"${v}"` : String(v)}`));
      expect(() => new StoreRegistry({ s3: { [k]: v } } as never)).toThrow(new RegExp(`stores\\.s3 ${k} must be a positive integer`));
    }
    await expect(Lakehouse.open({ catalog: { dataDir: ':memory:' }, stores: { s3: { partSize: Number(process.env.LAKESOUL_UNSET_PART_SIZE) } }, warehouse: 's3://b/wh' })).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE', context: { option: 'partSize' } });
    // good values pass
    expect(() => new S3Store({ bucket: 'b', partSize: 5 * 1024 * 1024, listPageSize: 100 })).not.toThrow();
  });
});
