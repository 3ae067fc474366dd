/**
 * Flight write transactions: DoAction `begin` opens one for a table, any number of DoPut streams (from
 * any number of clients) stage their files under its id, DoAction `commit` makes ONE catalog commit of
 * everything staged, `rollback` deletes it. A transaction idle for longer than its time-to-live is
 * rolled back by a sweep (its staged files are deleted), so abandoned ones cost nothing for long.
 *
 * Contracts:
 * - The id is 128 random bits: holding it is what lets a client stage into or end the transaction.
 * - A DoPut that fails while staging (bad data, broken or cancelled stream) marks the transaction
 *   failed: a later `commit` is refused and rolls it back, so a coordinator cannot commit a
 *   transaction one of whose writers failed.
 * - `commit` is refused while a DoPut of the transaction is still streaming (retryable): a client
 *   commits after every writer got its PutResult.
 * - A DoPut may name its stream (`stream`), and the commit the streams it takes (`streams`): staged
 *   writes of other named streams are deleted, and failures of other named streams do not count. A
 *   coordinator that runs a failed writer again (a Spark task's next attempt) commits the attempts
 *   that succeeded; a failed attempt whose stream ended as if complete (an exception before its
 *   last batch) staged rows the commit would otherwise have taken with the retry's.
 * - A transaction begun with mode overwrite holds the overwrite plan read at `begin` (the partitions it
 *   replaces): its streams stage rows of those partitions only, and the commit is one UpdateCommit
 *   replacing them with everything staged (nothing staged: they are emptied).
 * - Transactions live in the memory of the server that began them: behind a load balancer, route a
 *   transaction's calls to one replica. A server that stops rolls back the ones it holds.
 */
import { randomBytes } from 'node:crypto';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { LakeSoulTable, OverwritePlan, StageOptions, StagedWrite, WriteResult } from '@lakesoul-ts/io';

/** Default idle time after which an open transaction is rolled back: 10 minutes. */
export const DEFAULT_TRANSACTION_TTL_MS = 10 * 60_000;
/** Default bound on transactions open at once on one server. */
export const DEFAULT_MAX_OPEN_TRANSACTIONS = 256;
/** Default bound on transactions one caller (a user, a token, or without auth a client host) holds open. */
export const DEFAULT_MAX_OPEN_TRANSACTIONS_PER_CALLER = 64;

type State = 'open' | 'committing' | 'ended';

/** One open transaction. */
interface Transaction {
  id: string;
  table: LakeSoulTable;
  /** Who began it ({@link FlightTransactions.begin}'s `caller`), for the per-caller bound. */
  caller: string;
  staged: StagedWrite[];
  /** The names DoPut streams gave their staged writes (`stream`). */
  streamOf: Map<StagedWrite, string>;
  /** Stream names given so far (each once). */
  streamNames: Set<string>;
  /** DoPut streams of this transaction still running. */
  active: number;
  /** Why a DoPut of it failed (the commit is then refused): the first failure of a stream without a name, and of each named one. */
  failures: Map<string | null, string>;
  /** Mode of `begin`, else of the first DoPut: one commit holds appends, upserts or an overwrite. */
  mode: TransactionMode | null;
  /** The overwrite plan (mode overwrite). */
  plan: OverwritePlan | null;
  state: State;
  /** Idle deadline (epoch ms), pushed back by every DoPut. */
  expiresAt: number;
  /** The commit under way (state 'committing'): a second commit of the transaction waits for it. */
  committing?: Promise<CommitOutcome>;
}

/** What a transaction's commit gave: its result, or the error it failed with. */
type CommitOutcome = { result: WriteResult & { streams: number } } | { error: unknown };

/** What one transaction's commit does. */
export type TransactionMode = 'append' | 'upsert' | 'overwrite';

/** Options of {@link FlightTransactions}. */
export interface FlightTransactionsOptions {
  /** Idle time-to-live in ms (default {@link DEFAULT_TRANSACTION_TTL_MS}). */
  ttlMs?: number;
  /** Transactions open at once (default {@link DEFAULT_MAX_OPEN_TRANSACTIONS}). */
  maxOpen?: number;
  /** Transactions one caller holds open at once (default {@link DEFAULT_MAX_OPEN_TRANSACTIONS_PER_CALLER}). */
  maxOpenPerCaller?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** What `begin` answers. */
export interface BegunTransaction {
  transaction: string;
  table: string;
  namespace: string;
  /** Epoch ms after which an idle transaction is rolled back. */
  expiresAt: number;
  ttlMs: number;
  /** The mode given to `begin` (absent: each DoPut chooses). */
  mode?: TransactionMode;
  /** Mode overwrite: the partitions the commit replaces, as read at `begin`. */
  replaces?: string[];
}

const ID_PATTERN = /^[0-9a-f]{32}$/;

/** Finished transactions whose commit outcome is kept for a commit sent again (one TTL each, at most). */
const MAX_FINISHED_KEPT = 10_000;

function short(id: string): string {
  return id.length > 40 ? `${id.slice(0, 40)}...` : id;
}

/** The open transactions of one server; see the module comment. */
export class FlightTransactions {
  readonly ttlMs: number;
  private readonly maxOpen: number;
  private readonly maxOpenPerCaller: number;
  private readonly now: () => number;
  private readonly open = new Map<string, Transaction>();
  /**
   * Transactions whose commit ended, for one TTL: a client that retries a commit (its first reply
   * lost, or it sent it twice) gets the first commit's outcome, not "not open on this server".
   */
  private readonly committed = new Map<string, { outcome: CommitOutcome; until: number }>();
  private readonly timer: NodeJS.Timeout;
  /** Rollbacks of expired transactions still deleting files (awaited by close()). */
  private readonly reclaiming = new Set<Promise<void>>();

  constructor(options: FlightTransactionsOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TRANSACTION_TTL_MS;
    if (!(this.ttlMs > 0)) throw new LakeSoulError('InvalidArgument', `transactionTtlMs must be positive, got ${this.ttlMs}`);
    this.maxOpen = options.maxOpen ?? DEFAULT_MAX_OPEN_TRANSACTIONS;
    this.maxOpenPerCaller = options.maxOpenPerCaller ?? DEFAULT_MAX_OPEN_TRANSACTIONS_PER_CALLER;
    for (const [name, v] of [['maxOpenTransactions', this.maxOpen], ['maxOpenTransactionsPerCaller', this.maxOpenPerCaller]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new LakeSoulError('InvalidArgument', `${name} must be a positive integer, got ${v}`);
    }
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(30_000, Math.floor(this.ttlMs / 4))));
    this.timer.unref();
  }

  /** Transactions currently open. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Opens a transaction writing into `table`. `mode` fixes what its commit does (absent: the first
   * DoPut's mode); mode overwrite needs the `plan` (`table.planOverwrite`). `caller` names who begins
   * it (the server passes the authenticated user or token, or without auth the client's host): one
   * caller holds at most `maxOpenPerCaller` of the server's `maxOpen`, so a single client that begins
   * and never ends cannot take every transaction from the others.
   */
  begin(table: LakeSoulTable, options: { mode?: TransactionMode; plan?: OverwritePlan; caller?: string } = {}): BegunTransaction {
    const mode = options.mode ?? null;
    const plan = options.plan ?? null;
    if ((mode === 'overwrite') !== (plan !== null)) {
      throw new LakeSoulError('InvalidArgument', `begin on ${table.info.namespace}.${table.info.name}: an overwrite plan goes with mode overwrite, and only with it`);
    }
    this.sweep();
    if (this.open.size >= this.maxOpen) {
      throw new LakeSoulError('Aborted', `too many open Flight transactions (${this.open.size}, the limit is ${this.maxOpen}): commit or roll back some, or retry later`, {
        code: 'RESOURCE_EXHAUSTED',
        retryable: true,
      });
    }
    const caller = options.caller ?? '';
    let held = 0;
    for (const t of this.open.values()) if (t.caller === caller && t.state !== 'ended') held++;
    if (held >= this.maxOpenPerCaller) {
      throw new LakeSoulError('Aborted', `too many open Flight transactions for ${caller === '' ? 'this caller' : caller} (${held}, the limit per caller is ${this.maxOpenPerCaller}): commit or roll back some, or retry once they expire (${this.ttlMs} ms idle)`, {
        code: 'RESOURCE_EXHAUSTED',
        retryable: true,
      });
    }
    const id = randomBytes(16).toString('hex');
    const expiresAt = this.now() + this.ttlMs;
    this.open.set(id, { id, table, caller, staged: [], streamOf: new Map(), streamNames: new Set(), active: 0, failures: new Map(), mode, plan, state: 'open', expiresAt });
    return {
      transaction: id, table: table.info.name, namespace: table.info.namespace, expiresAt, ttlMs: this.ttlMs,
      ...(mode ? { mode } : {}),
      ...(plan ? { replaces: plan.partitions.map((p) => p.partitionDesc) } : {}),
    };
  }

  private get(id: string, what: string): Transaction {
    if (!ID_PATTERN.test(id)) {
      throw new LakeSoulError('InvalidArgument', `${what}: "transaction" must be the 32-hex-digit id returned by the begin action, got '${short(id)}'`, { code: 'TRANSACTION_INVALID' });
    }
    const t = this.open.get(id);
    if (!t || t.state === 'ended') {
      throw new LakeSoulError('NotFound', `${what}: transaction ${id} is not open on this server (never begun here, committed, rolled back, or expired after ${this.ttlMs} ms idle and rolled back)`, {
        code: 'TRANSACTION_NOT_FOUND',
      });
    }
    return t;
  }

  /**
   * Runs `stage` (a DoPut's staging) under transaction `id`, which must be open and write into the
   * same table, with the stage options the transaction decides: the DoPut's `requested` mode (absent:
   * the transaction's, else the table's default), or the overwrite plan. Its staged write joins the
   * transaction; its failure marks the transaction failed. `stream`: the name the DoPut gave its
   * stream (once per transaction), which the commit may take or leave out.
   */
  async stageInto(
    id: string,
    table: { tableId: string; name: string; namespace: string; primaryKeys: readonly string[] },
    requested: 'append' | 'upsert' | undefined,
    stage: (options: Pick<StageOptions, 'mode' | 'overwrite'>) => Promise<StagedWrite>,
    stream?: string,
  ): Promise<StagedWrite> {
    const t = this.get(id, `DoPut into ${table.namespace}.${table.name}`);
    const info = t.table.info;
    if (t.state !== 'open') {
      throw new LakeSoulError('Conflict', `transaction ${id} is being committed: no more DoPut streams`, { code: 'TRANSACTION_BUSY' });
    }
    if (stream !== undefined) {
      // (refused before it counts as a stream of the transaction: the stream of that name is unharmed)
      if (t.streamNames.has(stream)) {
        throw new LakeSoulError('InvalidArgument', `transaction ${id} on ${info.namespace}.${info.name} has a stream named ${JSON.stringify(stream)} already: name each DoPut stream once`, {
          code: 'TRANSACTION_STREAM_TWICE', context: { table: info.name, namespace: info.namespace },
        });
      }
      t.streamNames.add(stream);
    }
    t.active++;
    t.expiresAt = this.now() + this.ttlMs;
    try {
      if (info.tableId !== table.tableId) {
        const same = info.namespace === table.namespace && info.name === table.name;
        // one name, another table: the transaction's was dropped and a new one created under its name
        const why = same ? `transaction ${id} writes the table ${info.namespace}.${info.name} that was dropped since it began (id ${info.tableId}); the table of that name now is another one (id ${table.tableId}): begin a new transaction`
          : `transaction ${id} writes table ${info.namespace}.${info.name}, not ${table.namespace}.${table.name}`;
        throw new LakeSoulError('InvalidArgument', why, {
          code: 'TRANSACTION_WRONG_TABLE',
          context: { table: info.name, namespace: info.namespace },
        });
      }
      const mode: TransactionMode = t.plan && requested === undefined ? 'overwrite' : requested ?? t.mode ?? (table.primaryKeys.length > 0 ? 'upsert' : 'append');
      if (t.mode !== null && t.mode !== mode) {
        throw new LakeSoulError('InvalidArgument', `transaction ${id} on ${info.namespace}.${info.name} holds ${t.mode} streams: a ${mode} stream cannot join (one commit holds appends, upserts or an overwrite, not a mix)`
          + (t.plan ? '; DoPut streams of an overwrite transaction give no "mode"' : ''), {
          code: 'TRANSACTION_MIXED_MODES',
          context: { table: info.name, namespace: info.namespace },
        });
      }
      t.mode = mode;
      const staged = await stage(t.plan ? { overwrite: t.plan } : { mode: mode as 'append' | 'upsert' });
      if ((t.state as State) === 'ended') {
        // Rolled back (or the server closed) while this stream ran: its files are not kept either.
        await t.table.discardStaged([staged]);
        throw new LakeSoulError('Aborted', `transaction ${id} ended while this DoPut was streaming: nothing was staged`, { code: 'TRANSACTION_ENDED' });
      }
      t.staged.push(staged);
      if (stream !== undefined) t.streamOf.set(staged, stream);
      return staged;
    } catch (e) {
      // Any stream of the transaction that fails poisons it (its writer's data is incomplete), unless
      // it is named and the commit leaves it out (an attempt its coordinator ran again)
      const key = stream ?? null;
      if (!t.failures.has(key)) t.failures.set(key, e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200));
      throw e;
    } finally {
      t.active--;
      t.expiresAt = this.now() + this.ttlMs;
    }
  }

  /**
   * Commits everything staged under `id` as one catalog commit. `expectedRows`, when given, must equal
   * the rows staged. Refused while a DoPut still streams; a failed DoPut or a count mismatch rolls
   * the transaction back. `streams`, when given, names the streams taken: the staged writes of other
   * named streams are deleted and their failures do not count (unnamed streams are always taken); a
   * name no stream staged under is refused, rolling back.
   */
  async commit(id: string, options: { expectedRows?: number; streams?: readonly string[]; signal?: AbortSignal } = {}): Promise<WriteResult & { streams: number }> {
    // a commit sent again (its reply lost) or at once by several clients: the first one's outcome
    const done = ID_PATTERN.test(id) ? this.committed.get(id) : undefined;
    const under = this.open.get(id)?.committing;
    const again = done?.outcome ?? (under ? await under : undefined);
    if (again !== undefined) {
      if ('result' in again) return again.result;
      // over: running this commit again cannot help, whatever the first failure said
      const e = again.error;
      throw new LakeSoulError(LakeSoulError.is(e) ? e.kind : 'Aborted', `transaction ${id}: its commit failed, and the transaction is over (begin a new one to write again): ${(e as Error)?.message ?? String(e)}`, {
        code: 'TRANSACTION_FAILED', retryable: false, cause: e, context: LakeSoulError.is(e) ? e.context : {},
      });
    }
    const t = this.get(id, 'commit');
    if (t.active > 0) {
      throw new LakeSoulError('Conflict', `transaction ${id} on ${t.table.info.namespace}.${t.table.info.name} has ${t.active} DoPut stream(s) still running: commit after every writer got its PutResult`, {
        code: 'TRANSACTION_BUSY',
        retryable: true,
      });
    }
    // Claimed before the first await: a commit arriving meanwhile waits for this one's outcome (it
    // could pass the checks while this one deleted left-out streams, and commit the files again).
    t.state = 'committing';
    const committing = this.runCommit(t, options).then((result): CommitOutcome => ({ result }), (error: unknown): CommitOutcome => ({ error }));
    t.committing = committing;
    const outcome = await committing;
    // Committed, refused, or failed (commitStaged deleted the files when the commit surely failed,
    // and left them for cleanup() when its outcome is unknown): the transaction is over either way.
    t.state = 'ended';
    this.open.delete(t.id);
    this.remember(t.id, outcome);
    if ('result' in outcome) return outcome.result;
    throw outcome.error;
  }

  /** The checks and the catalog commit of {@link commit}; a refusal deletes what was staged. */
  private async runCommit(t: Transaction, options: { expectedRows?: number; streams?: readonly string[]; signal?: AbortSignal }): Promise<WriteResult & { streams: number }> {
    const { id } = t;
    const name = `${t.table.info.namespace}.${t.table.info.name}`;
    const context = { table: t.table.info.name, namespace: t.table.info.namespace };
    const refuse = async (error: LakeSoulError): Promise<never> => {
      await this.discard(t);
      throw error;
    };
    const taken = options.streams === undefined ? null : new Set(options.streams);
    const failure = [...t.failures].find(([stream]) => stream === null || taken === null || taken.has(stream))?.[1];
    if (failure !== undefined) {
      await refuse(new LakeSoulError('Aborted', `transaction ${id} on ${name} was rolled back, not committed: one of its DoPut streams failed (${failure})`, { code: 'TRANSACTION_FAILED', context }));
    }
    if (taken !== null) {
      const staged = new Set(t.streamOf.values());
      const missing = [...taken].filter((s) => !staged.has(s));
      if (missing.length > 0) {
        await refuse(new LakeSoulError('InvalidArgument', `transaction ${id} on ${name} was rolled back, not committed: no stream named ${missing.slice(0, 3).map((s) => JSON.stringify(s)).join(', ')}${missing.length > 3 ? ` (and ${missing.length - 3} more)` : ''} staged in it`, {
          code: 'TRANSACTION_STREAM_MISSING', context,
        }));
      }
      // the streams of attempts left out: deleted now
      const left = t.staged.filter((w) => t.streamOf.has(w) && !taken.has(t.streamOf.get(w)!));
      if (left.length > 0) {
        t.staged = t.staged.filter((w) => !left.includes(w));
        await t.table.discardStaged(left);
      }
    }
    const rows = t.staged.reduce((n, s) => n + s.rows, 0);
    if (options.expectedRows !== undefined && options.expectedRows !== rows) {
      await refuse(new LakeSoulError('InvalidArgument', `transaction ${id} on ${name} was rolled back, not committed: ${rows} rows were staged, the commit expected ${options.expectedRows}`, {
        code: 'TRANSACTION_ROW_COUNT', context,
      }));
    }
    const result = await t.table.commitStaged(t.staged, { signal: options.signal, ...(t.plan ? { overwrite: t.plan } : {}) });
    return { ...result, streams: t.staged.length };
  }

  /**
   * Keeps `id`'s commit outcome for one TTL, for a commit sent again. Entries are kept in the order
   * they expire (one TTL each), at most {@link MAX_FINISHED_KEPT}: the oldest go first.
   */
  private remember(id: string, outcome: CommitOutcome): void {
    this.committed.set(id, { outcome, until: this.now() + this.ttlMs });
    if (this.committed.size > MAX_FINISHED_KEPT) this.committed.delete(this.committed.keys().next().value!);
  }

  /** Rolls back `id`: deletes what its streams staged. Returns the number of streams dropped. */
  async rollback(id: string): Promise<{ streams: number; rows: number }> {
    const t = this.get(id, 'rollback');
    if (t.state === 'committing') throw new LakeSoulError('Conflict', `transaction ${id} is being committed and can no longer be rolled back`, { code: 'TRANSACTION_BUSY' });
    const out = { streams: t.staged.length, rows: t.staged.reduce((n, s) => n + s.rows, 0) };
    await this.end(t);
    return out;
  }

  private async end(t: Transaction): Promise<void> {
    t.state = 'ended';
    this.open.delete(t.id);
    await this.discard(t);
  }

  /** Deletes what `t`'s streams staged. */
  private async discard(t: Transaction): Promise<void> {
    const staged = t.staged;
    t.staged = [];
    await t.table.discardStaged(staged);
  }

  /** Rolls back every transaction idle past its deadline (no DoPut running). */
  sweep(): void {
    const now = this.now();
    // (in the order they expire: the first one not yet due ends the walk)
    for (const [id, c] of this.committed) {
      if (now < c.until) break;
      this.committed.delete(id);
    }
    for (const t of [...this.open.values()]) {
      if (t.state === 'open' && t.active === 0 && now >= t.expiresAt) {
        const p = this.end(t).catch(() => undefined);
        this.reclaiming.add(p);
        void p.finally(() => this.reclaiming.delete(p));
      }
    }
  }

  /** Rolls back every open transaction and stops the sweep (server shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const open = [...this.open.values()].filter((t) => t.state === 'open');
    await Promise.all([...open.map((t) => this.end(t).catch(() => undefined)), ...this.reclaiming]);
  }
}
