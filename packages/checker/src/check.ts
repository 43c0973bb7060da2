import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { CheckThreads } from './check-threads.js';
import { decideKey, explainKey, type KeyDecision, type KeyResult } from './check-key.js';
import type { History, Operation } from './history.js';
import { opTableOf, rowsByKey, subTable, type OpTable } from './op-table.js';
import { historyFromEvents, readHistoryFile } from './read-history.js';
import type { Witness } from './witness.js';

export interface CheckOptions {
  /** Give up after this long; unfinished keys are `unknown`. */
  readonly timeoutMs?: number;
  /**
   * Threads to use (including this one); keys are shared between them. Default 1: on the 2-core
   * machine we measure on, a second checking thread made each thread ~1.8x slower (the check is
   * memory-bound, and V8's GC and compiler already use the other core), so it never paid; see
   * README "Threads". `idleCores()` is a fair value on a bigger machine.
   */
  readonly threads?: number;
  /** False turns off every reduction (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
  /** Steps the search's first pass may take per key (see SearchOptions.firstPassStepsMax). */
  readonly firstPassStepsMax?: number;
  /**
   * Steps the search may take per key (see SearchOptions.searchStepsMax); past it the key is
   * `unknown`. A budget in steps, unlike `timeoutMs`, gives the same verdict on any machine.
   */
  readonly searchStepsMax?: number;
  /** Threads started ahead (CheckThreads.start), used at once; the check closes them. Overrides `threads`. */
  readonly workers?: CheckThreads;
}

export interface CheckResult {
  /** false as soon as one key is not linearizable; `unknown` when none is but some timed out. */
  readonly valid: true | false | 'unknown';
  /** Operations (invocations) in the history. */
  readonly ops: number;
  readonly keys: number;
  readonly ms: number;
  readonly failedKeys: readonly string[];
  readonly unknownKeys: readonly string[];
  readonly witnesses: readonly Witness[];
  readonly perKey: readonly KeyResult[];
}

/** Below this many operations left, starting a worker and copying its share costs more than it saves. */
const workerRowsMin = 5_000;

/** Files at least this large are worth starting worker threads for before reading them. */
const threadsAheadBytesMin = 2 << 20;

/**
 * Worker threads (threads - 1 of them) for checking the history file at `path`, started now so
 * that their start-up overlaps reading it; undefined when threads < 2 or the file is small. Pass
 * them as CheckOptions.workers (the check closes them), or close them yourself if the read fails.
 */
export function threadsAheadOf(path: string, threads: number): CheckThreads | undefined {
  if (threads < 2 || path === '-') return undefined;
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined; // the read reports it
  }
  return size >= threadsAheadBytesMin ? CheckThreads.start(threads - 1) : undefined;
}

export async function checkFile(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  const started = performance.now();
  const workers = options.workers ?? threadsAheadOf(path, options.threads ?? 1);
  let history: History;
  try {
    history = await readHistoryFile(path);
  } catch (err) {
    workers?.close();
    throw err;
  }
  return checkHistory(history, { ...options, ...(workers ? { workers } : {}) }, started);
}

/** Checks a history: a History from readHistoryFile/parseHistory, or raw event objects (validated here). */
export async function checkHistory(
  input: History | readonly unknown[],
  options: CheckOptions = {},
  startedMs = performance.now(),
): Promise<CheckResult> {
  let workers = options.workers;
  try {
    const history = Array.isArray(input) ? historyFromEvents(input) : (input as History);
    const deadlineMs = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
    const table = opTableOf(history);
    const keyRows = rowsByKey(table);
    const threads = workers ? workers.size + 1 : Math.max(1, options.threads ?? 1);
    const jobs = keyOptions(options, deadlineMs);
    let mine = keyRows.map((_, k) => k);
    const remote: Promise<KeyDecision[]>[] = [];
    if (threads > 1 && mine.length > 1 && table.length >= workerRowsMin) workers ??= CheckThreads.start(threads - 1);
    if (workers) {
      // Largest keys first, dealt round robin: this thread keeps every n-th, so shares are alike.
      const n = workers.size + 1;
      const bySize = mine.sort((x, y) => keyRows[y]!.length - keyRows[x]!.length);
      const shares: number[][] = Array.from({ length: n }, () => []);
      bySize.forEach((k, j) => shares[j % n]!.push(k));
      mine = shares[0]!;
      for (const share of shares.slice(1))
        if (share.length > 0) remote.push(workers.run({ table: shareTable(table, keyRows, share), ...jobs }));
    }
    const decisions = mine.map((k) => decideKey(table.keys[k]!, table, keyRows[k]!, jobs));
    for (const d of (await Promise.all(remote)).flat()) decisions.push(d);
    // Back in the order keys first appear in the history, however they were shared.
    const slot = new Map(table.keys.map((key, k) => [key, k]));
    decisions.sort((x, y) => slot.get(x.key)! - slot.get(y.key)!);
    return summarize(history, table.length, keyRows.length, decisions, performance.now() - startedMs);
  } finally {
    workers?.close();
  }
}

/** Synchronous, single-threaded check (for simulators that cannot await). */
export function checkHistorySync(input: History | readonly unknown[], options: Omit<CheckOptions, 'threads'> = {}): CheckResult {
  const started = performance.now();
  const history = Array.isArray(input) ? historyFromEvents(input) : (input as History);
  const deadlineMs = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
  const table = opTableOf(history);
  const keyRows = rowsByKey(table);
  const jobs = keyOptions(options, deadlineMs);
  const decisions = keyRows.map((rows, k) => decideKey(table.keys[k]!, table, rows, jobs));
  return summarize(history, table.length, keyRows.length, decisions, performance.now() - started);
}

function summarize(history: History, ops: number, keys: number, decisions: KeyDecision[], ms: number): CheckResult {
  // Witnesses need Operation objects: built only when a key failed.
  let byId: Map<number, Operation> | undefined;
  const operation = (id: number): Operation => {
    const list = history.operations;
    const direct = list[id];
    if (direct !== undefined && direct.id === id) return direct;
    byId ??= new Map(list.map((op) => [op.id, op]));
    return byId.get(id)!;
  };
  const perKey = decisions.map((d) => explainKey(d, operation));
  const failed = perKey.filter((r) => r.valid === false);
  const unknown = perKey.filter((r) => r.valid === 'unknown');
  return {
    valid: failed.length > 0 ? false : unknown.length > 0 ? 'unknown' : true,
    ops,
    keys,
    ms: Math.round(ms),
    failedKeys: failed.map((r) => r.key),
    unknownKeys: unknown.map((r) => r.key),
    witnesses: failed.map((r) => r.witness!),
    perKey,
  };
}

/** What each key's check is told, here and in workers. */
function keyOptions(
  options: CheckOptions,
  deadlineMs: number | undefined,
): { reduce: boolean; deadlineMs?: number; firstPassStepsMax?: number; searchStepsMax?: number } {
  return {
    reduce: options.reduce ?? true,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(options.firstPassStepsMax !== undefined ? { firstPassStepsMax: options.firstPassStepsMax } : {}),
    ...(options.searchStepsMax !== undefined ? { searchStepsMax: options.searchStepsMax } : {}),
  };
}

/** The cores that are idle now (at least 1): workers only pay when a core is free. */
export function idleCores(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(availableParallelism() - loadavg()[0]! + 0.5)));
}

/** The rows of `keys` as a table of their own, for a worker. */
function shareTable(table: OpTable, keyRows: readonly Int32Array[], keys: readonly number[]): OpTable {
  let count = 0;
  for (const k of keys) count += keyRows[k]!.length;
  const rows = new Int32Array(count);
  let at = 0;
  for (const k of keys) {
    rows.set(keyRows[k]!, at);
    at += keyRows[k]!.length;
  }
  return subTable(table, rows);
}
