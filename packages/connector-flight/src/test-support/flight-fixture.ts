/**
 * A Flight test server over a throwaway lakehouse (PGlite catalog, local disk) and a TS client
 * connected to it: what most Flight tests start the same way. Not part of the package.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lakehouse } from '@lakesoul-ts/io';
import { FlightClient } from '../flight-client.js';
import { createFlightServer, type CreateFlightServerOptions, type FlightServer } from '../flight-server.js';

/** The running pieces of a {@link startFlightFixture}. */
export interface FlightFixture {
  dir: string;
  lakehouse: Lakehouse;
  server: FlightServer;
  client: FlightClient;
  url: string;
  /** Closes the client, the server, the lakehouse, and removes the directory. */
  close(): Promise<void>;
}

/**
 * Opens a lakehouse in a new temporary directory named after `name`, runs `setup` on it (tables,
 * rows), starts a server on 127.0.0.1 (no DoGet workers unless `serverOptions` says otherwise) and
 * connects a client.
 */
export async function startFlightFixture(
  name: string,
  setup: (lakehouse: Lakehouse) => Promise<unknown>,
  serverOptions: Omit<CreateFlightServerOptions, 'lakehouse' | 'ticketSecret'> = {},
): Promise<FlightFixture> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const lakehouse = await Lakehouse.open({ catalog: { dataDir: join(dir, 'catalog') }, warehouse: `file://${join(dir, 'warehouse')}` });
  let server: FlightServer | undefined;
  try {
    await setup(lakehouse);
    server = createFlightServer({ doGetThreads: 0, ...serverOptions, lakehouse, ticketSecret: `${name}-secret-0123456789abcdef` });
    const url = `grpc://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    const client = await FlightClient.connect(url);
    const s = server;
    return {
      dir, lakehouse, server: s, client, url,
      async close() {
        client.close();
        await s.close(2000);
        await lakehouse.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.close(0);
    await lakehouse.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
