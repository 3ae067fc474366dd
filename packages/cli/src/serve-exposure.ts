/**
 * What `lakesoul-ts serve` exposes: the address it binds and the authentication it asks for. By default
 * it binds loopback (127.0.0.1) without authentication, which only processes on the same machine can
 * reach. Binding any other address without a token or user needs `--insecure-no-auth`, and then prints
 * a warning: everyone who can reach the port could read, write and drop every table.
 */
import { LakeSoulError } from '@lakesoul-ts/meta';
import { isLoopbackHost } from '@lakesoul-ts/ui/loopback';

/** Inputs of {@link checkServeExposure}. */
export interface ServeExposureOptions {
  host: string;
  /** Number of bearer tokens configured. */
  tokens: number;
  /** Number of Basic-login users configured. */
  users: number;
  insecureNoAuth: boolean;
  /** The command binding the address (default `serve`: read, write and drop; `ui`: read). */
  command?: 'serve' | 'ui';
}

/** Verdict of {@link checkServeExposure}. */
export interface ServeExposure {
  /** Human-readable authentication summary for the start-up line. */
  auth: string;
  /** Whether `host` is a loopback address (only this machine can connect). */
  loopback: boolean;
  /** A warning to print, when the combination is unsafe but was asked for explicitly. */
  warning?: string;
}

/**
 * Whether `host` names only the local machine: the UI's predicate, which also decides whether its
 * DNS-rebinding Host check is on; one predicate, so that no spelling of loopback skips the token here
 * and the Host check there.
 */
export { isLoopbackHost };

/**
 * Decides whether `serve` may start with these settings.
 * @throws LakeSoulError InvalidArgument (code `SERVE_UNAUTHENTICATED_EXPOSURE`) for a non-loopback host
 *   with no token and no user, unless `insecureNoAuth`.
 */
export function checkServeExposure(o: ServeExposureOptions): ServeExposure {
  const loopback = isLoopbackHost(o.host);
  const kinds = [o.tokens ? `bearer token${o.tokens > 1 ? 's' : ''}` : '', o.users ? `Basic login (${o.users} user${o.users > 1 ? 's' : ''})` : ''].filter(Boolean);
  if (kinds.length) return { auth: kinds.join(' + '), loopback };
  if (loopback) return { auth: 'none (loopback: only this machine can connect)', loopback };
  const command = o.command ?? 'serve';
  const harm = command === 'ui' ? 'read every table' : 'read, write and drop every table';
  if (!o.insecureNoAuth) {
    // A UI on 0.0.0.0 also answers a DNS-rebinding page in the user's own browser: its Host check holds on loopback only.
    throw new LakeSoulError('InvalidArgument',
      `${command} --host ${o.host}: binding an address other machines can reach without authentication would let anyone ${harm}. ` +
      `Give --token <secret> (or env LAKESOUL_FLIGHT_TOKENS)${command === 'serve' ? ' or --user name:password' : ''}; or bind 127.0.0.1; ` +
      'or, on a network you trust entirely, pass --insecure-no-auth',
      { code: 'SERVE_UNAUTHENTICATED_EXPOSURE', context: { host: o.host } });
  }
  return {
    auth: 'NONE (--insecure-no-auth)',
    loopback,
    warning: `serving ${o.host} without authentication (--insecure-no-auth): anyone who can reach this port can ${harm}`,
  };
}
