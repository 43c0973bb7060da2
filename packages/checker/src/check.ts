import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decideKey, explainKey, type KeyDecision, type KeyResult } from './check-key.js';
import type { History, Operation } from './history.js';
import { opTableOf, rowsByKey, subTable, type OpTable } from './op-table.js';
import { historyFromEvents, readHistoryFile } from './read-history.js';
import type { Witness } from './witness.js';

export interface CheckOptions {
  /** Give up after this long; unfinished keys are `unknown`. */
  readonly timeoutMs?: number;
  /** Threads to use (including this one). Default: the cores that are idle now (at least 1). 1 = no workers. */
  readonly threads?: number;
  /** False turns off every reduction (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
  /** Start a worker thread only after checking on this thread for this long (ms). Default 150. */
  readonly workerAfterMs?: number;
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

/**
 * A worker thread starts only when the check has already run this long and enough operations are
 * left: starting one and copying its share costs ~50 ms, more than most histories take to check.
 */
const workerAfterMsDefault = 150;
const workerRowsMin = 5_000;

export async function checkFile(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  const started = performance.now();
  const history = await readHistoryFile(path);
  return checkHistory(history, options, started);
}

/** Checks a history: a History from readHistoryFile/parseHistory, or raw event objects (validated here). */
export async function checkHistory(
  input: History | readonly unknown[],
  options: CheckOptions = {},
  startedMs = performance.now(),
): Promise<CheckResult> {
  const history = Array.isArray(input) ? historyFromEvents(input) : (input as History);
  const deadlineMs = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
  const table = opTableOf(history);
  const keyRows = rowsByKey(table);
  const threads = Math.max(1, options.threads ?? idleCores());
  const workerUrl = new URL('./check-worker.js', import.meta.url);
  const workersPossible = threads > 1 && keyRows.length > 1 && existsSync(fileURLToPath(workerUrl));
  const jobs = { reduce: options.reduce ?? true, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
  // Largest keys first, so that what is left for a worker is a list of similar, smaller keys.
  const order = keyRows.map((_, k) => k).sort((x, y) => keyRows[y]!.length - keyRows[x]!.length);
  let rowsLeft = table.length;
  const workerAfterMs = options.workerAfterMs ?? workerAfterMsDefault;
  const checkStarted = performance.now();
  const decisions: KeyDecision[] = [];
  const remote: Promise<KeyDecision[]>[] = [];
  for (let i = 0; i < order.length; i++) {
    if (workersPossible && remote.length === 0 && rowsLeft >= workerRowsMin && order.length - i > 1 &&
      performance.now() - checkStarted >= workerAfterMs) {
      // Hand every other key left to the workers (threads - 1 of them, round robin).
      const shares: number[][] = Array.from({ length: threads - 1 }, () => []);
      const mine: number[] = [];
      for (let j = i; j < order.length; j++) {
        const slot = (j - i) % threads;
        if (slot === 0) mine.push(order[j]!);
        else shares[slot - 1]!.push(order[j]!);
      }
      for (const share of shares) if (share.length > 0) remote.push(runWorker(workerUrl, table, keyRows, share, jobs));
      order.splice(i, order.length - i, ...mine);
    }
    const k = order[i]!;
    decisions.push(decideKey(table.keys[k]!, table, keyRows[k]!, jobs));
    rowsLeft -= keyRows[k]!.length;
  }
  for (const d of (await Promise.all(remote)).flat()) decisions.push(d);
  // Back in the order keys first appear in the history, however they were shared.
  const slot = new Map(table.keys.map((key, k) => [key, k]));
  decisions.sort((x, y) => slot.get(x.key)! - slot.get(y.key)!);
  return summarize(history, table.length, keyRows.length, decisions, performance.now() - startedMs);
}

/** Synchronous, single-threaded check (for simulators that cannot await). */
export function checkHistorySync(input: History | readonly unknown[], options: Omit<CheckOptions, 'threads'> = {}): CheckResult {
  const started = performance.now();
  const history = Array.isArray(input) ? historyFromEvents(input) : (input as History);
  const deadlineMs = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
  const table = opTableOf(history);
  const keyRows = rowsByKey(table);
  const jobs = { reduce: options.reduce ?? true, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
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

/** Workers only pay when a core is free: on a busy machine they add start-up and copying for nothing. */
function idleCores(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(availableParallelism() - loadavg()[0]! + 0.5)));
}

/** The job a worker gets: its keys' rows as a table of their own (a structured clone of arrays). */
export interface WorkerJob {
  readonly table: OpTable;
  readonly reduce: boolean;
  readonly deadlineMs?: number;
}

function runWorker(url: URL, table: OpTable, keyRows: readonly Int32Array[], keys: readonly number[],
  jobs: { reduce: boolean; deadlineMs?: number }): Promise<KeyDecision[]> {
  let count = 0;
  for (const k of keys) count += keyRows[k]!.length;
  const rows = new Int32Array(count);
  let at = 0;
  for (const k of keys) {
    rows.set(keyRows[k]!, at);
    at += keyRows[k]!.length;
  }
  const job: WorkerJob = { table: subTable(table, rows), ...jobs };
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: job });
    worker.once('message', (decisions: KeyDecision[]) => {
      resolve(decisions);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
