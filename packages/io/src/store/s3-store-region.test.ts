import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Store } from './s3-store.js';

/** A server answering every request as AWS does for a bucket of another region: 301 PermanentRedirect + x-amz-bucket-region. */
describe('S3Store: a bucket in another region', () => {
  let server: Server;
  let store: S3Store;
  const BODY =
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>hunt.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>hunt</Bucket></Error>';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const head = req.method === 'HEAD';
        res.writeHead(301, { 'x-amz-bucket-region': 'eu-west-1', 'content-type': 'application/xml', 'content-length': head ? 0 : Buffer.byteLength(BODY) });
        res.end(head ? undefined : BODY);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    store = new S3Store({ bucket: 'hunt', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  });
  afterAll(async () => {
    store?.destroy();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('names the region to set, for head (no error body), get, put and list', async () => {
    for (const [op, call] of [
      ['head', () => store.head('k/x.parquet')],
      ['get', () => store.get('k/x.parquet', { range: { suffix: 8 } })],
      ['put', () => store.put('k/x.parquet', new Uint8Array(3))],
      ['list', async () => {
        for await (const _ of store.list('k/')) void _;
      }],
    ] as const) {
      const file = op === 'list' ? 's3://hunt/k/' : 's3://hunt/k/x.parquet';
      const e = await (call as () => Promise<unknown>)().catch((x: unknown) => x);
      expect(e, op).toMatchObject({ kind: 'Io', retryable: false, context: { file } });
      expect((e as Error).message, op).toContain(`${op} ${file} failed: bucket 'hunt' is in eu-west-1: set AWS_REGION=eu-west-1 (or the store's region option) (HTTP 301`);
    }
  });
});
