import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkKey, type KeyResult } from './check-key.js';
import type { History, Operation } from './history.js';
import { historyFromEvents, readHistoryFile } from './read-history.js';
import type { Witness } from './witness.js';

export interface CheckOptions {
  /** Give up after this long; unfinished keys are `unknown`. */
  readonly timeoutMs?: number;
  /** Threads to use (including this one). Default: the cores that are idle now (at least 1). 1 = no workers. */
  readonly threads?: number;
  /** False turns off every reduction (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
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

/** Below this many operations, starting a worker costs more than it saves. */
const workerOpsMin = 20_000;

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
  const keys = byKey(history.operations);
  const threads = Math.max(1, options.threads ?? idleCores());
  const workerUrl = new URL('./check-worker.js', import.meta.url);
  const useWorkers = threads > 1 && keys.length > 1 && history.operations.length >= workerOpsMin
    && existsSync(fileURLToPath(workerUrl));
  const jobs = { reduce: options.reduce ?? true, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
  let perKey: KeyResult[];
  if (!useWorkers) {
    perKey = keys.map(([key, ops]) => checkKey(key, ops, jobs));
  } else {
    const shares = share(keys, threads);
    const remote = shares.slice(1).map((s) => runWorker(workerUrl, s, jobs));
    const local = shares[0]!.map(([key, ops]) => checkKey(key, ops, jobs));
    perKey = local.concat(...(await Promise.all(remote)));
  }
  return summarize(history.operations.length, keys.length, perKey, performance.now() - startedMs);
}

/** Synchronous, single-threaded check (for simulators that cannot await). */
export function checkHistorySync(input: History | readonly unknown[], options: Omit<CheckOptions, 'threads'> = {}): CheckResult {
  const started = performance.now();
  const history = Array.isArray(input) ? historyFromEvents(input) : (input as History);
  const deadlineMs = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : undefined;
  const keys = byKey(history.operations);
  const jobs = { reduce: options.reduce ?? true, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
  const perKey = keys.map(([key, ops]) => checkKey(key, ops, jobs));
  return summarize(history.operations.length, keys.length, perKey, performance.now() - started);
}

function summarize(ops: number, keys: number, perKey: KeyResult[], ms: number): CheckResult {
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

type KeyOps = [string, Operation[]];

function byKey(operations: readonly Operation[]): KeyOps[] {
  const map = new Map<string, Operation[]>();
  for (const op of operations) {
    let list = map.get(op.key);
    if (!list) map.set(op.key, (list = []));
    list.push(op);
  }
  return [...map];
}

/** Workers only pay when a core is free: on a busy machine they add start-up and copying for nothing. */
function idleCores(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(availableParallelism() - loadavg()[0]! + 0.5)));
}

/** Splits keys into `n` shares of about equal operation counts, largest keys first. */
function share(keys: readonly KeyOps[], n: number): KeyOps[][] {
  const shares: KeyOps[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  const sorted = [...keys].sort((a, b) => b[1].length - a[1].length);
  for (const k of sorted) {
    let min = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[min]!) min = i;
    shares[min]!.push(k);
    load[min]! += k[1].length;
  }
  return shares;
}

function runWorker(url: URL, keys: KeyOps[], jobs: { reduce: boolean; deadlineMs?: number }): Promise<KeyResult[]> {
  return new Promise((resolve, reject) => {
    // One JSON string crosses to the worker far faster than a structured clone of many small objects.
    // JSON has no Infinity: an open `ret` travels as null.
    const worker = new Worker(url, { workerData: { keysJson: JSON.stringify(keys), ...jobs } });
    worker.once('message', (results: KeyResult[]) => {
      resolve(results);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
