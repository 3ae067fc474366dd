/**
 * A DoGet the server ends midway with an error status: `FlightClient.doGet` reports the server's
 * status and message, not its own decoding error (the call's error passed through Arrow's reader came
 * out as "invalid Arrow IPC stream"; a cut last message or a refused batch fails the decoding before
 * the status is seen). A cut last message of a stream the server does not end fails at once (the
 * decoder waited for the rest of its body, which never came), and the last batch of a stream that
 * stays open comes out (the decoder read a message ahead). A raw grpc-js server, no lakehouse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { Field, Int32, RecordBatch, Schema, Table, makeVector } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { FlightClient } from './flight-client.js';
import { toGrpcStatus } from './grpc-status.js';
import { loadFlightProtocol, type FlightDataMessage, type TicketMessage } from './flight-proto.js';
import { batchToFlightData, schemaToFlightData } from './ipc-framing.js';

const schema = new Schema([new Field('x', new Int32(), false)]);
const batch = (from: number): RecordBatch => new Table(schema, { x: makeVector(Int32Array.from({ length: 100 }, (_, i) => from + i)) }).batches[0]!;
const ENDED = 'the stream was ended to give its slot back; read the endpoint again';
/** The status the project's server ends such a stream with. */
const endedStatus = () => toGrpcStatus(new LakeSoulError('Aborted', ENDED, { code: 'RESOURCE_EXHAUSTED', retryable: true }));

/** A record batch of two columns: under {@link schema} (one column), a layout the decoder refuses. */
const twoColumns = (): FlightDataMessage => {
  const wide = new Schema([...schema.fields, new Field('y', new Int32(), false)]);
  const values = makeVector(Int32Array.from({ length: 100 }, (_, i) => i));
  return batchToFlightData(new Table(wide, { x: values, y: values }).batches[0]!)[0]!;
};

/** `m` with its body cut in half (the header still declares the whole body). */
function cut(m: FlightDataMessage): FlightDataMessage {
  return { ...m, data_body: m.data_body.subarray(0, m.data_body.byteLength >> 1) };
}

/** What the server does after its messages, by ticket. */
type Ending = 'error' | 'late-error' | 'ok' | 'never';

let server: Server;
let url: string;
const open = new Set<ServerWritableStream<TicketMessage, FlightDataMessage>>();

beforeAll(async () => {
  const { service } = loadFlightProtocol();
  server = new Server();
  server.addService(service, {
    DoGet: (call: ServerWritableStream<TicketMessage, FlightDataMessage>) => {
      // whole: 2 batches; cut: then a batch whose body is cut; bad: then a batch the decoder refuses, and 50 more
      const [shape, ending] = Buffer.from(call.request.ticket).toString('utf8').split(':') as ['whole' | 'cut' | 'bad', Ending];
      const messages = [schemaToFlightData(schema), ...batchToFlightData(batch(0)), ...batchToFlightData(batch(100))];
      if (shape === 'cut') messages.push(cut(batchToFlightData(batch(200))[0]!));
      if (shape === 'bad') messages.push(twoColumns(), ...Array.from({ length: 50 }, (_, i) => batchToFlightData(batch(300 + 100 * i))[0]!));
      let left = messages.length;
      const finish = () => {
        if (ending === 'ok') call.end();
        else if (ending === 'error') call.emit('error', endedStatus());
        else if (ending === 'late-error') setTimeout(() => call.emit('error', endedStatus()), 300);
        else open.add(call);
      };
      // each message flushed before the status: the client has them all when the status comes
      for (const m of messages) call.write(m, () => { if (--left === 0) finish(); });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  url = `grpc://127.0.0.1:${port}`;
});

afterAll(() => {
  for (const call of open) call.end();
  server?.forceShutdown();
});

/** The rows a doGet of `ticket` yields, and the error it ends with (null: none). */
async function read(client: FlightClient, ticket: string): Promise<{ rows: number; error: Error | null }> {
  let rows = 0;
  try {
    for await (const b of client.doGet(Buffer.from(ticket))) rows += b.numRows;
    return { rows, error: null };
  } catch (e) {
    return { rows, error: e as Error };
  }
}

describe('FlightClient.doGet of a stream the server ends with an error status', () => {
  it('reports the server\'s status, not a decoding error wrapping it, when the stream stops between whole messages (every time)', async () => {
    const client = await FlightClient.connect(url);
    try {
      for (let i = 0; i < 20; i++) {
        const { rows, error } = await read(client, 'whole:error');
        expect(rows).toBeLessThanOrEqual(200);
        expect(error, `run ${i}`).toMatchObject({ kind: 'Aborted', code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining(`Flight DoGet failed (RESOURCE_EXHAUSTED): ${ENDED}`) });
        expect(error?.message).not.toMatch(/invalid Arrow IPC stream/);
      }
    } finally {
      client.close();
    }
  });

  it('reports the server\'s status, not the decoding error, of a stream it cut or that had messages left (status at once or 300 ms after)', async () => {
    const client = await FlightClient.connect(url);
    try {
      for (const ticket of ['cut:error', 'cut:late-error', 'bad:error', 'bad:late-error']) {
        for (let i = 0; i < 5; i++) {
          const { rows, error } = await read(client, ticket);
          expect(rows).toBeLessThanOrEqual(200);
          expect(error, `${ticket} run ${i}`).toMatchObject({ kind: 'Aborted', code: 'RESOURCE_EXHAUSTED', context: { grpcCode: status.RESOURCE_EXHAUSTED }, message: expect.stringContaining(`Flight DoGet failed (RESOURCE_EXHAUSTED): ${ENDED}`) });
        }
      }
    } finally {
      client.close();
    }
  });

  it('a stream the server ends OK, or whose status does not come within 2 s, is the decoding error', async () => {
    const client = await FlightClient.connect(url);
    try {
      expect(await read(client, 'cut:ok')).toMatchObject({ rows: 200, error: { code: 'INVALID_ARROW_DATA', message: expect.stringMatching(/Flight DoGet of ticket 'cut:ok': invalid Arrow IPC stream: FlightData message 4 \(a record batch of 100 rows\) was cut/) } });
      // the decoder reads ahead: the refused batch fails the read before the batch before it is yielded;
      // the messages after it are dropped for the OK status to come (grpc-js holds it until they are read)
      const t1 = Date.now();
      expect(await read(client, 'bad:ok')).toMatchObject({ rows: expect.any(Number), error: { code: 'INVALID_ARROW_DATA', message: expect.stringMatching(/record batch 3 \(100 rows\) has 2 field nodes/) } });
      expect(Date.now() - t1, 'waited the whole bound for an OK status').toBeLessThan(1500);
      const t0 = Date.now();
      expect(await read(client, 'bad:never')).toMatchObject({ rows: expect.any(Number), error: { code: 'INVALID_ARROW_DATA', message: expect.stringMatching(/record batch 3 \(100 rows\) has 2 field nodes/) } });
      expect(Date.now() - t0, 'waited for a status that does not come').toBeGreaterThanOrEqual(1900);
      expect(Date.now() - t0, 'waited for a status that does not come').toBeLessThan(5000);
      // a whole stream ended OK reads to its end
      expect(await read(client, 'whole:ok')).toEqual({ rows: 200, error: null });
    } finally {
      client.close();
    }
  });
});

describe('FlightClient.doGet of a stream the server does not end', () => {
  it('a cut last message fails once the status wait is over (it hung), naming the ticket and the cut, and leaves no timer or socket behind', async () => {
    const before = handles();
    const client = await FlightClient.connect(url);
    try {
      const t0 = Date.now();
      const { rows, error } = await Promise.race([read(client, 'cut:never'), hang(8000)]);
      expect(rows, 'the batches before the cut').toBe(200);
      expect(error).toMatchObject({
        kind: 'InvalidArgument', code: 'INVALID_ARROW_DATA',
        message: expect.stringMatching(/^Flight DoGet of ticket 'cut:never': invalid Arrow IPC stream: FlightData message 4 \(a record batch of 100 rows\) was cut: its header declares a body of (\d+) bytes, it carries (\d+)/),
      });
      const [, declared, carried] = /declares a body of (\d+) bytes, it carries (\d+)/.exec(error!.message)!;
      expect(Number(carried)).toBe(Number(declared) >> 1);
      expect(Date.now() - t0, 'waited longer than the status wait').toBeLessThan(5000);
    } finally {
      client.close();
    }
    await expect.poll(handles, { timeout: 3000 }).toEqual(before);
  });

  it('yields each batch when its message arrives: the last batch of a stream that stays open comes out', async () => {
    const client = await FlightClient.connect(url);
    try {
      let rows = 0;
      const batches = client.doGet(Buffer.from('whole:never'));
      const t0 = Date.now();
      while (rows < 200) {
        const next = await Promise.race([batches.next(), hang(3000)]);
        if ('error' in next) break;
        if (next.done) break;
        rows += next.value.numRows;
      }
      expect(rows, 'the batches the server sent').toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
      await batches.return(undefined);
    } finally {
      client.close();
    }
  });
});

/** Resolves as a read that did not end within `ms`. */
function hang(ms: number): Promise<{ rows: -1; error: Error }> {
  return new Promise((resolve) => { setTimeout(() => resolve({ rows: -1, error: new Error(`no end within ${ms} ms`) }), ms).unref(); });
}

/** This process' timers and sockets, by kind (what would keep it alive). */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (r === 'Timeout' || r === 'TCPSocketWrap') out[r] = (out[r] ?? 0) + 1;
  return out;
}
