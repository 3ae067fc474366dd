/**
 * S3Store against the moto server of the test environment behind a fault-injecting HTTP proxy: answers
 * lost or altered on the way (a completion whose answer was lost, a listing without its continuation
 * token, headers a proxy dropped, bodies cut short, connections closed without an answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { patternBytes } from '../testing/index.js';
import { S3Store } from './s3-store.js';
import { isNoAnswerError } from './store-errors.js';
import { createTestBucket, deleteTestBucket, testS3Endpoint, testS3Env } from './s3-test-env.js';

const MiB = 1024 * 1024;

/** The S3 operation of a request, as the rules name it. */
type Op = 'GetObject' | 'HeadObject' | 'PutObject' | 'UploadPart' | 'CreateMPU' | 'CompleteMPU' | 'AbortMPU' | 'List' | 'Other';

function opOf(method: string, url: string): Op {
  const u = new URL(url, 'http://x');
  const q = u.searchParams;
  const hasKey = u.pathname.split('/').filter(Boolean).length > 1;
  if (method === 'GET' && !hasKey) return q.has('uploads') ? 'Other' : 'List';
  if (method === 'POST' && q.has('uploads')) return 'CreateMPU';
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMPU';
  if (method === 'PUT' && q.has('partNumber')) return 'UploadPart';
  if (method === 'PUT' && hasKey) return 'PutObject';
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMPU';
  if (method === 'GET' && !q.has('uploadId')) return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  return 'Other';
}

/**
 * What the proxy does with a request a rule matches:
 * - `hang-up`: reads the request, then closes the connection without an answer (not forwarded);
 * - `reset-after`: forwards it, then closes the connection instead of answering (the answer is lost);
 * - `answer`: answers `status` with `body` itself (not forwarded);
 * - `alter`: forwards it and answers what came back with `dropHeaders` removed and the body passed through `edit`;
 * - `cut`: forwards it and sends the answer's headers and half its body, then closes the connection.
 */
interface Rule {
  op: Op;
  key?: RegExp;
  /** Applies to the first `times` requests it matches (default: all). */
  times?: number;
  action: 'hang-up' | 'reset-after' | 'answer' | 'alter' | 'cut';
  status?: number;
  body?: string;
  dropHeaders?: string[];
  edit?: (body: string) => string;
}

const noSuchUpload =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.</Message><RequestId>x</RequestId></Error>';

describe('S3Store behind a proxy that loses or alters answers', () => {
  let bucket: string;
  /** Straight to moto. */
  let direct: S3Store;
  /** Through the proxy. */
  let store: S3Store;
  let proxy: Server;
  let proxyEndpoint: string;
  let rules: (Rule & { seen?: number })[] = [];
  /** The operations the proxy saw, with the action taken. */
  const seen: string[] = [];

  beforeAll(async () => {
    bucket = await createTestBucket('s3faults');
    const upstream = new URL(testS3Endpoint());
    proxy = createServer((req, res) => {
      const url = req.url ?? '/';
      const op = opOf(req.method ?? 'GET', url);
      const key = decodeURIComponent(new URL(url, 'http://x').pathname.split('/').slice(2).join('/'));
      const rule = rules.find((r) => r.op === op && (r.key === undefined || r.key.test(key)) && (r.times === undefined || (r.seen ?? 0) < r.times));
      if (rule) rule.seen = (rule.seen ?? 0) + 1;
      seen.push(`${op}${rule ? `!${rule.action}` : ''}`);
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        if (rule?.action === 'hang-up') return void req.socket.destroy();
        if (rule?.action === 'answer') {
          const b = Buffer.from(rule.body ?? '');
          res.writeHead(rule.status ?? 200, { 'content-type': 'application/xml', 'content-length': String(b.length) });
          return void res.end(req.method === 'HEAD' ? undefined : b);
        }
        const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers }, (ur) => {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => {
            let answer = Buffer.concat(chunks);
            const headers: IncomingHttpHeaders = { ...ur.headers };
            if (rule?.action === 'reset-after') return void req.socket.destroy();
            if (rule?.action === 'cut') {
              res.writeHead(ur.statusCode ?? 500, headers);
              res.write(answer.subarray(0, Math.floor(answer.length / 2)));
              return void setTimeout(() => req.socket.destroy(), 10);
            }
            if (rule?.action === 'alter') {
              for (const h of rule.dropHeaders ?? []) delete headers[h];
              if (rule.edit) {
                answer = Buffer.from(rule.edit(answer.toString('utf8')));
                headers['content-length'] = String(answer.length);
              }
            }
            res.writeHead(ur.statusCode ?? 500, headers);
            res.end(answer);
          });
        });
        up.end(Buffer.concat(body));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    direct = S3Store.fromEnv(bucket, testS3Env());
    store = S3Store.fromEnv(bucket, { ...testS3Env(), AWS_ENDPOINT: proxyEndpoint }, { partSize: 5 * MiB, multipartThreshold: 5 * MiB, listPageSize: 2 });
  });
  afterAll(async () => {
    store?.destroy();
    direct?.destroy();
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    if (bucket) await deleteTestBucket(bucket);
  });

  const setRules = (next: Rule[]) => {
    rules = next;
    seen.length = 0;
  };
  const uploadsOf = async (key: string) => ((await direct.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).filter((u) => u.Key === key).length;
  const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  describe('a multipart put whose completion answer is lost or empty', () => {
    it('succeeds when the retried CompleteMultipartUpload gets NoSuchUpload but the first attempt made the object', async () => {
      const data = patternBytes(11 * MiB, 1);
      // the first completion goes through and its answer is lost; the SDK's retry finds the upload gone (MinIO answers so)
      setRules([
        { op: 'CompleteMPU', times: 1, action: 'reset-after' },
        { op: 'CompleteMPU', action: 'answer', status: 404, body: noSuchUpload },
      ]);
      await store.put('lost/done.bin', data);
      setRules([]);
      expect(Buffer.from(await direct.get('lost/done.bin')).equals(Buffer.from(data))).toBe(true);
      expect(await uploadsOf('lost/done.bin')).toBe(0);
    });

    it('fails retryable, saying what it found, when NoSuchUpload comes and the object is not there as this upload makes it', async () => {
      // no object at all: the completion never reached the server (the upload is aborted)
      setRules([{ op: 'CompleteMPU', action: 'answer', status: 404, body: noSuchUpload }]);
      const e1 = await caught(store.put('lost/none.bin', patternBytes(11 * MiB, 2)));
      expect(e1).toMatchObject({ kind: 'Io', retryable: true, context: { file: `s3://${bucket}/lost/none.bin` } });
      expect((e1 as Error).message).toBe(
        `put s3://${bucket}/lost/none.bin failed: CompleteMultipartUpload answered NoSuchUpload: the upload is gone (completed by an earlier attempt of the request whose answer was lost, or aborted), and no object s3://${bucket}/lost/none.bin is there: put it again`,
      );
      expect(await uploadsOf('lost/none.bin')).toBe(0);
      // another object of the key, of another size
      await direct.put('lost/other.bin', patternBytes(1000, 3));
      const e2 = await caught(store.put('lost/other.bin', patternBytes(11 * MiB, 3)));
      expect(e2).toMatchObject({ kind: 'Io', retryable: true });
      expect((e2 as Error).message).toMatch(/and the object there has 1000 bytes where this put wrote 11534336 \(another write of the key\?\): put it again$/);
      // another multipart object of the key, of the same size and part count: its ETag tells it apart
      setRules([]);
      await store.put('lost/same-size.bin', patternBytes(11 * MiB, 4));
      setRules([{ op: 'CompleteMPU', action: 'answer', status: 404, body: noSuchUpload }]);
      const e3 = await caught(store.put('lost/same-size.bin', patternBytes(11 * MiB, 5)));
      expect(e3).toMatchObject({ kind: 'Io', retryable: true });
      expect((e3 as Error).message).toMatch(/and the object there has the ETag "?[0-9a-f]{32}-3"? where this upload of 3 parts makes "[0-9a-f]{32}-3" \(another write of the key\?\)/);
      setRules([]);
      expect(await uploadsOf('lost/other.bin')).toBe(0);
      expect(await uploadsOf('lost/same-size.bin')).toBe(0);
    });

    it('takes a CompleteMultipartUpload answered 200 without an ETag for success only when the object is there', async () => {
      const empty = '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult></CompleteMultipartUploadResult>';
      // answered by the proxy: no object was made
      setRules([{ op: 'CompleteMPU', action: 'answer', status: 200, body: empty }]);
      const e = await caught(store.put('empty/none.bin', patternBytes(11 * MiB, 6)));
      expect(e).toMatchObject({ kind: 'Io', retryable: true });
      expect((e as Error).message).toBe(
        `put s3://${bucket}/empty/none.bin failed: CompleteMultipartUpload answered HTTP 200 without an ETag (no result: the completion may have failed), and no object s3://${bucket}/empty/none.bin is there: put it again`,
      );
      expect(await uploadsOf('empty/none.bin'), 'the upload is aborted').toBe(0);
      // the completion went through, its answer's result was lost on the way
      setRules([{ op: 'CompleteMPU', action: 'alter', edit: () => empty }]);
      const data = patternBytes(11 * MiB, 7);
      await store.put('empty/made.bin', data);
      setRules([]);
      expect(Buffer.from(await direct.get('empty/made.bin')).equals(Buffer.from(data))).toBe(true);
    });
  });

  it('fails a listing truncated without a continuation token, naming the bucket and prefix', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => direct.put(`trunc/k${i}`, new Uint8Array([i]))));
    setRules([{ op: 'List', action: 'alter', edit: (xml) => xml.replace(/<NextContinuationToken>[^<]*<\/NextContinuationToken>/, '') }]);
    const listed: string[] = [];
    const e = await caught((async () => {
      for await (const m of store.list('trunc/')) listed.push(m.path);
    })());
    setRules([]);
    expect(listed).toEqual(['trunc/k0', 'trunc/k1']);
    expect(e).toMatchObject({ kind: 'Io', context: { file: `s3://${bucket}/trunc/` } });
    expect((e as Error).message).toBe(
      `list s3://${bucket}/trunc/ failed: the listing of bucket '${bucket}' under the prefix 'trunc/' was truncated without a continuation token (IsTruncated with no NextContinuationToken): the rest of the keys cannot be asked for`,
    );
  });

  it('dates a listed object without LastModified when it was listed (not 1970), and fails a HEAD without Content-Length', async () => {
    await direct.put('dates/a.bin', patternBytes(10, 1));
    setRules([{ op: 'List', action: 'alter', edit: (xml) => xml.replace(/<LastModified>[^<]*<\/LastModified>/g, '') }]);
    const before = Date.now();
    const listed = [];
    for await (const m of store.list('dates/')) listed.push(m);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.size).toBe(10);
    expect(listed[0]!.lastModified.getTime()).toBeGreaterThanOrEqual(before);
    // a HEAD without Last-Modified alike; one without Content-Length says so (its size was 0)
    setRules([{ op: 'HeadObject', action: 'alter', dropHeaders: ['last-modified'] }]);
    expect((await store.head('dates/a.bin')).lastModified.getTime()).toBeGreaterThanOrEqual(before);
    setRules([{ op: 'HeadObject', action: 'alter', dropHeaders: ['content-length'] }]);
    const e = await caught(store.head('dates/a.bin'));
    setRules([]);
    expect(e).toMatchObject({ kind: 'Io', context: { file: `s3://${bucket}/dates/a.bin` } });
    expect((e as Error).message).toBe(`head s3://${bucket}/dates/a.bin failed: the server answered without a Content-Length header, so the object's size is not known (a proxy that drops the header?)`);
  });

  it('takes a 206 answer without Content-Range only when it has the length asked for, else fails', async () => {
    const data = patternBytes(100_000, 8);
    await direct.put('r206/o.bin', data);
    setRules([{ op: 'GetObject', action: 'alter', dropHeaders: ['content-range'] }]);
    try {
      expect(Buffer.from(await store.get('r206/o.bin', { range: { offset: 1000, length: 5000 } })).equals(Buffer.from(data.subarray(1000, 6000)))).toBe(true);
      expect(Buffer.from(await store.get('r206/o.bin', { range: { suffix: 300 } })).equals(Buffer.from(data.subarray(99_700)))).toBe(true);
      // an open range: which bytes the answer holds cannot be told (re-sliced, it gave zero bytes)
      const e = await caught(store.get('r206/o.bin', { range: { offset: 90_000 } }));
      expect(e).toMatchObject({ kind: 'Io', code: 'S3_RESPONSE_LENGTH', retryable: true });
      expect((e as Error).message).toMatch(/^get s3:\/\/.*\/r206\/o\.bin failed: the server answered 206 Partial Content without a Content-Range header, with 10000 bytes for the range bytes=90000- /);
      // a bounded range clamped by the end of the object, without the header telling so (re-sliced, it gave 4000 shifted bytes)
      const e2 = await caught(store.get('r206/o.bin', { range: { offset: 99_000, length: 5000 } }));
      expect(e2).toMatchObject({ kind: 'Io', code: 'S3_RESPONSE_LENGTH' });
      expect((e2 as Error).message).toContain('with 1000 bytes for the range bytes=99000-103999 (5000 bytes)');
    } finally {
      setRules([]);
    }
  });

  it('fails a get whose body breaks off every attempt with S3_RESPONSE_LENGTH, as documented', async () => {
    await direct.put('cut/o.bin', patternBytes(200_000, 9));
    setRules([{ op: 'GetObject', action: 'cut' }]);
    const e = await caught(store.get('cut/o.bin'));
    setRules([]);
    expect(e).toMatchObject({ kind: 'Io', code: 'S3_RESPONSE_LENGTH', retryable: true, context: { file: `s3://${bucket}/cut/o.bin` } });
    expect((e as Error).message).toMatch(/^get s3:\/\/.*\/cut\/o\.bin failed: the response broke off after 100000 of 200000 bytes \(aborted\): cut short on the way \(after 3 attempts\)$/);
  });

  it('a connection closed without an answer after the endpoint answered is a dropped connection, not "no S3 server answered"', async () => {
    await store.put('hang/ok.bin', patternBytes(10, 1)); // the endpoint answers
    setRules([
      { op: 'HeadObject', key: /^hang\//, action: 'hang-up' },
      { op: 'PutObject', key: /^hang\//, action: 'hang-up' },
    ]);
    for (const [op, call] of [
      ['head', () => store.head('hang/a.bin')],
      ['put', () => store.put('hang/a.bin', patternBytes(100, 2))],
    ] as const) {
      const e = await caught((call as () => Promise<unknown>)());
      expect(e, op).toMatchObject({ kind: 'Io', retryable: true, context: { file: `s3://${bucket}/hang/a.bin` } });
      expect((e as Error).message, op).toMatch(new RegExp(`^${op} s3://.*/hang/a\\.bin failed: .*socket hang up \\(the connection was closed before a whole answer came, though the endpoint answered this store shortly before: a dropped connection, not a missing server\\)$`));
      expect(isNoAnswerError(e), `${op}: not a no-answer error (a failed write then deletes its files)`).toBe(false);
    }
    // a store whose endpoint never answered: still "no S3 server answered", and noAnswer
    const fresh = S3Store.fromEnv(bucket, { ...testS3Env(), AWS_ENDPOINT: proxyEndpoint }, { maxAttempts: 1 });
    try {
      const e = await caught(fresh.head('hang/a.bin'));
      expect((e as Error).message).toContain('socket hang up (no S3 server answered: check the endpoint');
      expect(isNoAnswerError(e)).toBe(true);
    } finally {
      setRules([]);
      fresh.destroy();
    }
    expect(LakeSoulError.is(await caught(store.head('hang/missing.bin')), 'NotFound')).toBe(true);
  });
});
