/**
 * Connection limits for a grpc-js server. grpc-js keeps every TCP connection it accepts for as long as
 * the client likes, with no bound on how many one host holds: a client opening connections and sending
 * nothing (not even HTTP/2's preface) took a Flight server to its open-file limit (20,000), and from
 * then on every other client was refused until that one let go. Two bounds close it:
 *
 * - connections without a call are closed after an idle time: grpc-js's `grpc.max_connection_idle_ms`,
 *   which the server sets. It counts from the connection's start, before any byte: Node makes the
 *   HTTP/2 session when the socket connects, and grpc-js starts the idle timer then.
 * - {@link limitConnections}: connections one host holds at once, and all hosts together; one more is
 *   closed as it is accepted (the way grpc-js itself drops connections when its TLS credentials are
 *   not loaded), before Node makes a session for it.
 *
 * grpc-js offers no hook on the connections it accepts: {@link limitConnections} reaches its HTTP/2
 * servers through a private member, as `grpc-receive-limit.ts` reaches its decoder.
 */
import type { Server } from '@grpc/grpc-js';
import type { Socket } from 'node:net';

/** Bounds of {@link limitConnections}. */
export interface ConnectionLimits {
  /** Connections one client host holds open at once. */
  perHost: number;
  /** Connections all hosts hold open at once. */
  total: number;
  /** Told of each connection closed for a limit (the host, and which limit). */
  onRefused?: (host: string, limit: 'perHost' | 'total') => void;
}

/** The host of a socket's peer, IPv4 in IPv6 notation as plain IPv4. */
function hostOf(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** The HTTP/2 servers a grpc-js server listens with (a private member), or undefined. */
function http2ServersOf(server: Server): Iterable<{ prependListener(event: 'connection', listener: (socket: Socket) => void): unknown }> | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  return servers instanceof Map ? servers.keys() : undefined;
}

/**
 * Bounds the connections `server` keeps open: per client host and in all. Call it after the server is
 * bound (`bindAsync`'s callback): it applies to the HTTP/2 servers listening then, each once, however
 * often it is called; the counts are shared by all of them. Returns false (and changes nothing) when
 * this grpc-js does not keep its HTTP/2 servers as described in the module comment.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): boolean {
  const servers = http2ServersOf(server);
  if (!servers) return false;
  let state = STATE.get(server);
  if (!state) STATE.set(server, (state = { byHost: new Map(), open: 0, watched: new WeakSet() }));
  const s = state;
  for (const h2 of servers) {
    if (s.watched.has(h2)) continue;
    s.watched.add(h2);
    h2.prependListener('connection', (socket: Socket) => {
      const host = hostOf(socket);
      const held = s.byHost.get(host) ?? 0;
      const over = held >= limits.perHost ? 'perHost' : s.open >= limits.total ? 'total' : null;
      if (over) {
        socket.destroy();
        limits.onRefused?.(host, over);
        return;
      }
      s.byHost.set(host, held + 1);
      s.open++;
      socket.once('close', () => {
        s.open--;
        const left = (s.byHost.get(host) ?? 1) - 1;
        if (left > 0) s.byHost.set(host, left);
        else s.byHost.delete(host);
      });
    });
  }
  return true;
}

/** Open connections of each server limited, per host and in all. */
const STATE = new WeakMap<Server, { byHost: Map<string, number>; open: number; watched: WeakSet<object> }>();
