import { describe, expect, it } from 'vitest';
import { checkKey, checkPrefix, isNoAnswerError, mapS3Error } from './store-errors.js';
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

describe('mapS3Error: a connection closed without an answer', () => {
  // the SDK's error of a request whose connection the server closed without answering
  const hangUp = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });

  it('is "no S3 server answered" (noAnswer) while the endpoint has not answered, a dropped connection once it has', () => {
    const unknown = mapS3Error(hangUp(), 's3://b/k', 'put');
    expect(unknown).toMatchObject({ kind: 'Io', retryable: true, context: { noAnswer: true } });
    expect(unknown.message).toContain('no S3 server answered: check the endpoint');
    const answered = mapS3Error(hangUp(), 's3://b/k', 'put', { endpointAnswered: true });
    expect(answered).toMatchObject({ kind: 'Io', retryable: true, context: { file: 's3://b/k' } });
    expect(answered.message).toBe('put s3://b/k failed: TimeoutError: socket hang up (the connection was closed before a whole answer came, though the endpoint answered this store shortly before: a dropped connection, not a missing server)');
    expect(isNoAnswerError(answered)).toBe(false);
    // a refused connection stays "no server" whatever answered before
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', $metadata: {} });
    expect(isNoAnswerError(mapS3Error(refused, 's3://b/k', 'put', { endpointAnswered: true }))).toBe(true);
  });
});
