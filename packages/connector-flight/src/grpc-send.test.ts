import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Client, credentials, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { FRAME_HEADROOM, FrameBuffers, MIN_POOLED_FRAME_BYTES } from './frame-buffers.js';
import { loadFlightProtocol, withPreEncodedFlightData } from './flight-proto.js';
import { sendMessagesInPlace } from './grpc-send.js';

describe('DoGet messages sent where they lie', () => {
  const { service } = loadFlightProtocol();
  const pool = new FrameBuffers();
  /** What DoGet writes next, and what each write's callback saw of the message's memory. */
  let frames: Buffer[] = [];
  const prefixes: Buffer[] = [];
  let server: Server;
  let client: Client;

  beforeAll(async () => {
    expect(sendMessagesInPlace()).toBe(true);
    server = new Server();
    server.addService(withPreEncodedFlightData(service), {
      DoGet: (call: ServerWritableStream<unknown, Buffer>) => {
        let left = frames.length;
        for (const f of frames) {
          call.write(f, () => {
            // the 5 bytes before the message, as the socket took them
            prefixes.push(Buffer.from(Buffer.from(f.buffer, f.byteOffset - Math.min(f.byteOffset, FRAME_HEADROOM), Math.min(f.byteOffset, FRAME_HEADROOM))));
            if (--left === 0) call.end();
          });
        }
        if (frames.length === 0) call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  function doGet(): Promise<Buffer[]> {
    const call = client.makeServerStreamRequest('/arrow.flight.protocol.FlightService/DoGet', service.DoGet.requestSerialize, (b: Buffer) => b, { ticket: Buffer.from('t') });
    const got: Buffer[] = [];
    return new Promise((resolve, reject) => {
      call.on('data', (b: Buffer) => got.push(Buffer.from(b)));
      call.on('error', reject);
      call.on('end', () => resolve(got));
    });
  }

  it('writes gRPC\'s prefix into the headroom of pooled messages and sends their bytes unchanged', async () => {
    const sizes = [MIN_POOLED_FRAME_BYTES, 3 * MIN_POOLED_FRAME_BYTES + 7, 1 << 20];
    frames = sizes.map((n) => {
      const f = pool.take(n);
      randomBytes(n).copy(f);
      Buffer.from(f.buffer, 0, FRAME_HEADROOM).fill(0xaa); // what the headroom held before
      return f;
    });
    const expected = frames.map((f) => Buffer.from(f));
    prefixes.length = 0;
    const got = await doGet();
    expect(got.map((b) => b.byteLength)).toEqual(sizes);
    got.forEach((b, i) => expect(b.equals(expected[i]!), `message ${i}`).toBe(true));
    // written in place: compressed flag 0, then the length (big-endian)
    expect(prefixes.map((p) => [p[0], p.readUInt32BE(1)])).toEqual(sizes.map((n) => [0, n]));
  });

  it('copies any other message as grpc-js does, leaving the memory around it alone', async () => {
    const backing = Buffer.alloc(2 * MIN_POOLED_FRAME_BYTES, 0xbb);
    const view = backing.subarray(FRAME_HEADROOM, FRAME_HEADROOM + MIN_POOLED_FRAME_BYTES); // the right offset, but not a pool's
    randomBytes(view.byteLength).copy(view);
    const small = Buffer.from('a small message');
    frames = [view, small];
    const expected = frames.map((f) => Buffer.from(f));
    prefixes.length = 0;
    const got = await doGet();
    got.forEach((b, i) => expect(b.equals(expected[i]!), `message ${i}`).toBe(true));
    expect([...backing.subarray(0, FRAME_HEADROOM)]).toEqual(Array(FRAME_HEADROOM).fill(0xbb));
  });
});
