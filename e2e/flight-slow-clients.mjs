// Slow DoGet clients in a process of their own, for e2e/flight-memory.test.ts: the server's RSS is then
// the server's alone, not also the clients' socket buffers and the messages they hold (as with real
// clients on other machines). Driven over the IPC channel of `fork`:
//   parent -> { url, clients }       open `clients` DoGets round-robin over the table's endpoints; each
//                                    reads the schema and one batch, then stops reading
//   child  -> { started }            after the first streams started and 1.5 s more
//   parent -> { resume: true }       every client reads to the end
//   child  -> { counts } / { error } the rows each client got
import { FlightClient, decodeFlightData } from '@lakesoul-ts/connector-flight';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const resumed = new Promise((resolve) => process.on('message', (m) => m.resume && resolve()));

process.once('message', async ({ url, clients }) => {
  const client = await FlightClient.connect(url);
  try {
    const info = await client.getFlightInfo({ path: ['blobs'] });
    const slow = { over: false };
    const streams = Array.from({ length: clients }, (_, i) => {
      const stream = client.doGetMessages(info.endpoints[i % info.endpoints.length]);
      const messages = [];
      // On its end a client counts its rows and drops the messages.
      const ended = new Promise((resolve, reject) => {
        stream.on('end', () => {
          const kept = messages.splice(0);
          decodeFlightData((async function* () { yield* kept; })()).then(async (decoded) => {
            let rows = 0;
            for await (const b of decoded.batches) rows += b.numRows;
            resolve(rows);
          }, reject);
        });
        stream.on('error', reject);
      });
      ended.catch(() => undefined); // awaited below
      stream.on('data', (m) => {
        messages.push(m);
        if (messages.length === 2 && !slow.over) stream.pause(); // schema + one batch
      });
      return { stream, messages, ended };
    });
    // until the first streams have started (a loaded machine may take a while), then a while more
    const deadline = Date.now() + 60_000;
    while (streams.every((s) => s.messages.length < 2) && Date.now() < deadline) await sleep(50);
    await sleep(1500);
    process.send({ started: streams.filter((s) => s.messages.length >= 2).length });
    await resumed;
    slow.over = true;
    for (const s of streams) s.stream.resume();
    process.send({ counts: await Promise.all(streams.map((s) => s.ended)) });
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) });
  } finally {
    client.close();
    process.disconnect();
  }
});
