/**
 * Runs `flight-slow-clients.mjs` (pyarrow-like slow Flight readers in a process of their own) for the
 * memory tests: the child, and its replies one at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One message of the slow clients' process: how many streams started, rows counted, or its error. */
export interface SlowClientsReply {
  started?: number;
  counts?: number[];
  error?: string;
}

/** The slow clients' process and `reply()`, its next message (an error reply or its exit fails it). */
export interface SlowClients {
  child: ChildProcess;
  reply(): Promise<SlowClientsReply>;
}

/** Forks the slow clients' process; send it `{ url, clients }` to start. */
export function forkSlowClients(): SlowClients {
  const child = fork(fileURLToPath(new URL('./flight-slow-clients.mjs', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: SlowClientsReply[] = [];
  let wake = () => {};
  child.on('message', (m: SlowClientsReply) => { replies.push(m); wake(); });
  child.on('exit', () => wake());
  const reply = async (): Promise<SlowClientsReply> => {
    while (replies.length === 0 && child.exitCode === null) await new Promise<void>((r) => { wake = r; });
    const m = replies.shift();
    if (!m || m.error) throw new Error(`the slow clients' process failed: ${m?.error ?? `exit code ${child.exitCode}`}`);
    return m;
  };
  return { child, reply };
}
