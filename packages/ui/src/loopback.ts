/**
 * The one loopback predicate of the UI, `serve` and the CLI's exposure checks: which host names and
 * addresses only this machine can reach. The CLI decides from it that no token is needed, and the UI
 * that its DNS-rebinding Host check is on; two predicates that disagreed (the CLI lowercased and knew
 * `::ffff:127.0.0.1`, the UI did neither) let `ui --host LOCALHOST` start without a token and without
 * the Host check, so any web page could read the tables through a rebound name.
 *
 * Kept free of the UI's other modules: `@lakesoul-ts/ui/loopback` loads nothing else.
 */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4'); // IPv4-mapped IPv6 (::ffff:127.0.0.1, ::ffff:7f00:1) is checked against it too
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether `host` names only the local machine: `localhost` (any case), an IPv4 address in
 * 127.0.0.0/8, `::1` in any spelling, or an IPv4-mapped IPv6 address of 127.0.0.0/8; brackets around
 * an IPv6 address are allowed (`[::1]`, as in a Host header). A name that only looks like one
 * (`127.0.0.1.nip.io`, `localhost.example`, `127.0.0.1.`) is not: anyone can own it.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 6 ? 'ipv6' : 'ipv4');
}
