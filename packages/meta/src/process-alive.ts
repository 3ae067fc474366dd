/**
 * Whether a process named in a file (a lock, a catalog server's claim) still runs. A pid alone is
 * not enough: after a crash, a reboot or in a container the pid is soon another process's, and a
 * stale file then looked held for ever (every command waited and failed naming an unrelated process)
 * or `catalog-server --stop` signalled that process. Files therefore also record the process's start
 * (the boot and the start time in `/proc/<pid>/stat`), where the system has `/proc`.
 */
import { readFileSync } from 'node:fs';

/** This boot's id (Linux), or '' where unknown. */
let bootId: string | undefined;
function currentBootId(): string {
  if (bootId === undefined) {
    try { bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { bootId = ''; }
  }
  return bootId;
}

/** The fields of `/proc/<pid>/stat` after the command name (field 3, the state, first); undefined where there is none. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces and parentheses itself
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started: the boot's id and the start time in clock ticks since boot
 * (`/proc/<pid>/stat`, field 22), joined by `:`; undefined where `/proc` is not there or the process is gone.
 */
export function processStartTime(pid: number): string | undefined {
  const ticks = statFields(pid)?.[19];
  return ticks ? `${currentBootId()}:${ticks}` : undefined;
}

let ownStart: string | undefined | null = null;
/** This process's start (see {@link processStartTime}), computed once; undefined where `/proc` is not there. */
export function ownProcessStart(): string | undefined {
  if (ownStart === null) ownStart = processStartTime(process.pid);
  return ownStart;
}

/**
 * Whether the process with this pid exists (one owned by another user counts: signalling it is
 * refused) and, when `start` is given (as recorded by {@link processStartTime}), is the process that
 * started then: a pid another process has since taken is not alive. A process that has ended but
 * whose parent has not collected it yet (a zombie, still signallable) is not alive either.
 */
export function processAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  if (fields === undefined) return true; // no /proc: the signal is all there is to go by
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  const ticks = fields[19];
  return start === undefined || ticks === undefined || `${currentBootId()}:${ticks}` === start;
}

/** What {@link processActivity} tells of a process. */
export interface ProcessActivity {
  /** Stopped (SIGSTOP, Ctrl-Z, a debugger): state `T` or `t`. */
  stopped: boolean;
  /** CPU time used so far (user + system), in clock ticks: a process that uses CPU is working, not hung. */
  cpuTicks: number;
}

/** Whether process `pid` is stopped and how much CPU it has used (`/proc/<pid>/stat`); undefined where there is no `/proc` or no such process. */
export function processActivity(pid: number): ProcessActivity | undefined {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  // fields 14 and 15 of stat (utime, stime); the list starts at field 3
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(cpuTicks) ? { stopped: fields[0] === 'T' || fields[0] === 't', cpuTicks } : undefined;
}

/** The command line of process `pid` (`/proc/<pid>/cmdline`, arguments joined by spaces); undefined where there is no `/proc` or no such process. */
export function processCommandLine(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.length > 0 ? text.replace(/\0+$/, '').split('\0').join(' ') : undefined;
  } catch {
    return undefined;
  }
}

/** The real user id process `pid` runs as (`/proc/<pid>/status`); undefined where there is no `/proc` or no such process. */
export function processUid(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    const uid = Number(line?.split(/\s+/)[1]);
    return Number.isInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}
