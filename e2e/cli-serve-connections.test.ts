/**
 * `lakesoul-ts serve`'s connection bounds as flags, through the real binary: the library had taken
 * `maxConnectionsPerHost`, `maxConnections` and `connectionIdleMs` since a client holding thousands of
 * silent connections took the server to its open-file limit, but `serve` (how most people run the
 * server) had no way to set them.
 */
import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlightClient } from '@lakesoul-ts/connector-flight';
import { runCli, waitForOutput } from './cli-run.js';

const COMMAND_TIMEOUT_MS = 60_000;

/** Opens `n` TCP connections that never send a byte; resolves each one's time of closing (ms after the start). */
function silentConnections(port: number, n: number): Promise<number>[] {
  const t0 = Date.now();
  return Array.from({ length: n }, () => {
    const socket = createConnection({ host: '127.0.0.1', port });
    // read what the server sends (its SETTINGS, a GOAWAY), so that its closing is seen
    return new Promise<number>((res) => { socket.on('error', () => {}); socket.on('close', () => res(Date.now() - t0)); socket.resume(); });
  });
}

describe('serve connection flags', () => {
  it('refuses values the bounds cannot take, naming the flag', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-conn-'));
    for (const [flag, value, message] of [
      ['--max-connections-per-host', '0', /--max-connections-per-host.*expected an integer from 1/],
      ['--max-connections', '-3', /--max-connections.*expected an integer from 1/],
      ['--connection-idle', '0', /--connection-idle.*expected a number of seconds above 0/],
      ['--connection-idle', 'never', /--connection-idle.*expected a number of seconds/],
    ] as const) {
      const r = await runCli(['--home', home, 'serve', '--port', '0', flag, value], { timeoutMs: COMMAND_TIMEOUT_MS });
      expect([r.code, r.err], `${flag} ${value}`).toEqual([4, expect.stringMatching(message)]); // exit 4: a value an option cannot take (cli.md)
    }
  });

  it('--max-connections-per-host closes the connections over it as they arrive, --connection-idle the silent ones after it; clients then connect again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lakesoul-serve-conn-'));
    expect((await runCli(['--home', home, 'table', 'create', 't', '--schema', 'id:int64!'], { timeoutMs: COMMAND_TIMEOUT_MS })).code).toBe(0);
    const run = runCli(['--home', home, 'serve', '--port', '0', '--max-connections-per-host', '3', '--connection-idle', '1.5'], { timeoutMs: COMMAND_TIMEOUT_MS });
    try {
      const [, port] = (await waitForOutput(run.child, /grpc:\/\/127\.0\.0\.1:(\d+)/))!;
      const times = await Promise.all(silentConnections(Number(port), 8));
      // the defaults (256 per host, 60 s idle) would keep all 8 open for a minute
      expect(times.filter((t) => t < 1000).length, times.join(',')).toBe(5);
      expect(times.filter((t) => t >= 1400 && t < 30_000).length, times.join(',')).toBe(3);
      const client = await FlightClient.connect(`grpc://127.0.0.1:${port}`);
      try {
        expect((await client.listFlights()).map((f) => f.descriptor?.path?.join('.'))).toEqual(['default.t']);
      } finally {
        client.close();
      }
    } finally {
      run.child.kill('SIGTERM');
    }
    const r = await run;
    expect(r.code, r.err).toBe(0);
  });
});
