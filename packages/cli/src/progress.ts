/**
 * Progress reporting for long CLI work (import, export, compaction, long scans): a bar with rows, bytes,
 * files, rate and ETA on a TTY; silent when stderr is not a TTY or with `--quiet`.
 */
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';

/** cli-progress (CommonJS), loaded when a bar is first shown: commands without one skip its 17 modules. */
const loadCliProgress = (): typeof CliProgress => createRequire(import.meta.url)('cli-progress') as typeof CliProgress;

/** Counters a task reports. */
export interface ProgressUpdate {
  rows?: number;
  bytes?: number;
  files?: number;
}

/** A running progress display. */
export interface Progress {
  /** Add to the counters (and to the bar's value when `unit` matches). */
  tick(update: ProgressUpdate): void;
  /** Set the total (for ETA) once known. */
  setTotal(total: number): void;
  /** Draws the final counts and releases the terminal line; call once, when the work ends. */
  stop(): void;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  label: string;
  /** Which counter drives the bar and the ETA. */
  unit: 'rows' | 'bytes' | 'files';
  total?: number;
  /** The counters the bar shows (default all three): a task that never counts bytes or files leaves them out. */
  show?: readonly ('rows' | 'bytes' | 'files')[];
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

/** Start a progress display; a no-op object when not on a TTY or quiet. */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const counters = { rows: 0, bytes: 0, files: 0 };
  if (options.quiet || !stream.isTTY) {
    return { tick(u) { counters.rows += u.rows ?? 0; counters.bytes += u.bytes ?? 0; counters.files += u.files ?? 0; }, setTotal() {}, stop() {} };
  }
  const started = Date.now();
  // With a total, the bar and ETA show the share done; without one there is no share to show (a bar
  // would read 100% from the first frame), so only the counters and the rate.
  const known = options.total !== undefined && options.total > 0;
  let total = options.total ?? 0;
  const show = options.show ?? ['rows', 'bytes', 'files'];
  const shown = (['rows', 'bytes', 'files'] as const).filter((c) => show.includes(c)).map((c) => ({ rows: '{rows} rows | ', bytes: '{bytesH} | ', files: '{files} files | ' })[c]).join('');
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar({
    stream,
    format: known ? `${options.label} {bar} {percentage}% | ${shown}{rate} | ETA {etaH}` : `${options.label} | ${shown}{rate}`,
    barCompleteChar: '█', barIncompleteChar: '░', hideCursor: true, clearOnComplete: false, etaBuffer: 20, fps: 10,
  }, cliProgress.Presets.shades_classic);
  const payload = () => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = options.unit === 'bytes' ? `${formatBytes(counters.bytes / secs)}/s` : `${Math.round(counters[options.unit] / secs)} ${options.unit}/s`;
    return { rows: counters.rows, bytesH: formatBytes(counters.bytes), files: counters.files, rate, etaH: eta(secs) };
  };
  // Remaining time at the rate so far; '-' until something is done (no rate to go by yet).
  const eta = (secs: number): string => {
    const done = counters[options.unit];
    if (!known || done <= 0) return '-';
    const left = Math.max(0, ((total - done) * secs) / done);
    return left < 60 ? `${Math.round(left)}s` : left < 3600 ? `${Math.floor(left / 60)}m${Math.round(left % 60)}s` : `${Math.floor(left / 3600)}h${Math.floor((left % 3600) / 60)}m`;
  };
  bar.start(known ? options.total! : 1, 0, payload());
  // Ctrl-C or a kill while the bar is drawn: the bar hides the cursor and turns line wrapping off, and
  // a process ended by the signal left the terminal so (no cursor, no wrap, the prompt on the bar's
  // line). The terminal is given back first, then the signal takes its course.
  const restore = (signal: NodeJS.Signals) => {
    stream.write('\x1b[?25h\x1b[?7h\n');
    unwatch();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, restore);
  const unwatch = () => { for (const sig of signals) process.off(sig, restore); };
  return {
    tick(u) {
      counters.rows += u.rows ?? 0; counters.bytes += u.bytes ?? 0; counters.files += u.files ?? 0;
      bar.update(known ? counters[options.unit] : 0, payload());
    },
    setTotal(n) { if (known) { total = n; bar.setTotal(n); } },
    stop() { unwatch(); bar.update(known ? counters[options.unit] : 0, payload()); bar.stop(); },
  };
}
