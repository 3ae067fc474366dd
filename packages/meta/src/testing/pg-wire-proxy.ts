/**
 * A PostgreSQL wire proxy for tests against a real server: it relays each connection message by
 * message, and a hook can drop, hold back or act on a client message, or make a connection go silent
 * (what a restart, a failover, a network reset or a dead NAT entry does to a client). Not part of the
 * package's API: test files import it by path.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * The PostgreSQL URL the test environment provides (env `LAKESOUL_TEST_PG_URL`).
 * @throws Error when it is not set (the suite was not started through scripts/test-env.mjs).
 */
export function testPgUrl(): string {
  const url = process.env.LAKESOUL_TEST_PG_URL;
  if (!url) throw new Error('LAKESOUL_TEST_PG_URL is not set: run via pnpm test (node scripts/test-env.mjs -- vitest run ...) to get a PostgreSQL server');
  return url;
}

/** Host and port of `LAKESOUL_TEST_PG_URL`. */
export function testPgAddress(): { host: string; port: number } {
  const url = new URL(testPgUrl());
  return { host: url.hostname, port: Number(url.port || 5432) };
}

/** One relayed connection: the client's socket and the proxy's socket to the server. */
export interface PgProxyLink {
  readonly client: Socket;
  readonly up: Socket;
  /** Server bytes are passed to the client (false: they are dropped). */
  answering: boolean;
  /** Client messages are passed to the server (false: they are dropped). */
  forwarding: boolean;
  /** The server side stays open when the client's socket closes (a message still on its way). */
  keepUpOnClientClose: boolean;
}

/**
 * Decides what becomes of one complete client message (`msg[0]` is its type byte; the startup message
 * has none and is not passed). Return true when the hook dealt with it (the proxy does not forward it).
 */
export type PgProxyHook = (msg: Buffer, link: PgProxyLink) => boolean;

/** Text of a simple-query message (`Q`), or undefined for another message. */
export function simpleQueryText(msg: Buffer): string | undefined {
  return msg[0] === 0x51 ? msg.subarray(5, msg.length - 1).toString('utf8') : undefined;
}

/** A proxy on 127.0.0.1 (port {@link PgWireProxy.port} after {@link PgWireProxy.start}) to `upstream`. */
export class PgWireProxy {
  /** The listening port, set by {@link PgWireProxy.start}. */
  port = 0;
  /** Connections open now. */
  readonly links = new Set<PgProxyLink>();
  /** New connections are closed as soon as they are accepted (a server restarting). */
  refusing = false;
  private server!: Server;
  private readonly sockets = new Set<Socket>();

  /**
   * @param hook - what to do with each client message (default: forward it).
   * @param upstream - the server (default: the one of `LAKESOUL_TEST_PG_URL`).
   */
  constructor(private readonly hook: PgProxyHook = () => false, private readonly upstream = testPgAddress()) {}

  /** `LAKESOUL_TEST_PG_URL` with its host and port replaced by this proxy's. */
  url(): string {
    const through = new URL(testPgUrl());
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.href;
  }

  /** Starts listening on an ephemeral port. */
  async start(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Silences every open connection: nothing passes either way, and the sockets stay open. */
  silenceAll(): void {
    for (const link of this.links) {
      link.answering = false;
      link.forwarding = false;
    }
  }

  /** Closes every connection and stops listening. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private relay(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const up = createConnection(this.upstream);
    const link: PgProxyLink = { client, up, answering: true, forwarding: true, keepUpOnClientClose: false };
    this.links.add(link);
    for (const s of [client, up]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        if (s === up || !link.keepUpOnClientClose) { client.destroy(); up.destroy(); }
        this.sockets.delete(s);
        if (client.destroyed && up.destroyed) this.links.delete(link);
      });
    }
    up.on('data', (d) => { if (link.answering) client.write(d); });
    let buf = Buffer.alloc(0);
    let started = false; // the startup message has no type byte
    client.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const head = started ? 5 : 4;
        if (buf.length < head) return;
        const len = started ? buf.readInt32BE(1) + 1 : buf.readInt32BE(0);
        if (buf.length < len) return;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        const startup = !started;
        started = true;
        if (!startup && this.hook(msg, link)) continue;
        if (link.forwarding) up.write(msg);
      }
    });
  }
}
