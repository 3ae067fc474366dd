/**
 * How far V8 lets the JavaScript heap grow between full garbage collections while this process moves
 * table data.
 *
 * After each full collection V8 sets the next one's trigger at the live heap times a factor between
 * 1.1 and 4, which it picks from how fast the program allocates on the JavaScript heap. Reading and
 * writing tables allocates little there (a few MB of objects) and hundreds of MB outside it (the
 * columns' ArrayBuffers), so V8 takes the program for a slow allocator, picks 1.5-2.7 for a live heap
 * of ~20 MB, and the next trigger lands a few MB above the heap: incremental marking then runs almost
 * without pause on the thread that merges, with 3 full collections per scan of a 1M-row table
 * (`node --trace-gc-verbose bench/io-merge-scan.mjs`). The first read or write of the process sets
 * the factor to 4, the largest V8 picks itself for a program that allocates fast; the merge-on-read
 * scan of that table took 0.77-0.84x the time (docs/benchmarks.md). The cost is a JavaScript heap up
 * to 4x its live size between collections instead of 1.5-2.7x (tens of MB for this library's own
 * objects); the columns' memory outside the heap is freed as before, by V8's external-memory limit.
 *
 * V8's flag is process-wide and is left set once taken. `LAKESOUL_V8_HEAP_GROWING=default` leaves
 * V8's own choice; a number sets the percent over the live heap (300 = factor 4). A process started
 * with `--heap-growing-percent` keeps its own.
 */
import { setFlagsFromString } from 'node:v8';
import { LakeSoulError } from '@lakesoul-ts/meta';

/** Environment variable: `default` (V8's choice) or the percent over the live heap, 0-1000. */
export const HEAP_GROWING_ENV = 'LAKESOUL_V8_HEAP_GROWING';

/** The percent over the live heap taken by default: V8's factor 4 (its largest). */
export const HEAP_GROWING_PERCENT = 300;

let applied = false;

/** The percent the environment asks for, or null to leave V8's choice. */
function requestedPercent(): number | null {
  const v = process.env[HEAP_GROWING_ENV]?.trim();
  if (v === undefined || v === '') return HEAP_GROWING_PERCENT;
  if (v === 'default') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new LakeSoulError('InvalidArgument', `${HEAP_GROWING_ENV} must be 'default' or a whole percent from 0 to 1000 (300 = V8's largest factor, 4), got '${v}'`);
  }
  return n;
}

/** Whether the process was started with its own `--heap-growing-percent`. */
function startedWithOwn(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--heap-growing-percent'));
}

/**
 * Sets V8's heap growing factor for table work (see the module comment), once per thread; later
 * calls return at once. Called by every read and write of table data.
 * @throws LakeSoulError InvalidArgument when {@link HEAP_GROWING_ENV} holds neither `default` nor a percent.
 */
export function growHeapForTableWork(): void {
  if (applied) return;
  const percent = requestedPercent();
  applied = true;
  if (percent === null || startedWithOwn()) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
