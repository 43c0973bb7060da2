import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHistory, readHistoryFile, type History } from '@kvapp/checker';
import { KvClient } from '@kvapp/client';
import { RunClock } from '../history/run-clock.js';
import { HistoryRecorder } from '../history/recorder.js';
import { NemesisLog } from '../history/nemesis-log.js';
import { writeRunReport } from '../report/write-run-report.js';
import type { NemesisEvent } from '../history/nemesis-log.js';
import { seededRandom } from '../nemesis/partitions.js';
import { runSchedule } from '../nemesis/schedule.js';
import { keyName, Workload } from '../workload/workload.js';
import { checkAckedWrites } from './acked-writes.js';
import { KvCluster } from './kv-cluster.js';
import { availability, latency, opCounts, operations } from './summary.js';
import type { RunOptions, RunPhase, RunResult, ScenarioSpec } from './types.js';

/** Limits of one run, named with their unit last. */
const setupHealthyMsMax = 30_000;
const healHealthyMsMax = 20_000;
/** After every node reports healthy, a little more quiet before the final reads. */
const quietMs = 500;
const leadInS = 1;
const faultSDefault = 4;
const recoverSDefault = 2;
const opDeadlineMs = 1500;
const finalReadDeadlineMs = 3000;
const finalReadAttemptsMax = 4;
const checkTimeoutMs = 120_000;

/** results.json: the contract's RunResult, plus why report.html is missing if it is. */
export type RunResultFile = RunResult & { readonly reportError?: string; readonly nemesisFaults?: number };

class RunAborted extends Error {
  constructor() {
    super('aborted');
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function uniqueRunDir(storeDir: string, scenario: string): string {
  const base = join(storeDir, scenario, timestamp());
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

function pointLatest(storeDir: string, dir: string): void {
  const link = join(storeDir, 'latest');
  const tmp = join(storeDir, `.latest-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(relative(storeDir, dir), tmp);
  renameSync(tmp, link);
}

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** report.html via the suite's writeRunReport; a failure is reported in results.json, never faked. */
async function writeReport(dir: string): Promise<string | null> {
  try {
    await writeRunReport(dir);
    return null;
  } catch (err) {
    return `writeRunReport failed: ${(err as Error).stack ?? String(err)}`;
  }
}

/** Runs one scenario against real kvapp-node processes; see docs/chaos-contract.md. */
export async function runScenario(spec: ScenarioSpec, options: RunOptions): Promise<RunResult> {
  assert.match(spec.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, `scenario name must be kebab-case: ${spec.name}`);
  const nodes = options.nodes ?? spec.nodes;
  const timeLimitS = options.timeLimitS ?? spec.timeLimitS;
  assert.ok(Number.isInteger(nodes) && nodes >= 1, `nodes must be a positive integer, got ${nodes}`);
  assert.ok(timeLimitS > 0, 'timeLimitS must be > 0');
  assert.ok(Number.isSafeInteger(options.seed), 'seed must be an integer');
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const dir = uniqueRunDir(options.storeDir, spec.name);
  const clock = new RunClock();
  const historyPath = join(dir, 'history.jsonl');
  const nemesisPath = join(dir, 'nemesis.jsonl');
  const recorder = new HistoryRecorder(historyPath, { clock });
  const nemesisLog = new NemesisLog(nemesisPath, { clock });
  const random = seededRandom(options.seed);
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(new RunAborted());
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = abort.signal;

  let phase: RunPhase = 'setup';
  let nemesisNow: string | null = null;
  let cluster: KvCluster | null = null;
  let workload: Workload | null = null;
  const finalProcesses = new Set<number | string>();
  let finalOps = 0;
  let finalOk = 0;
  const progress = (): void => {
    const c = workload?.counters;
    options.onProgress?.({
      phase,
      elapsedS: Math.round((Date.now() - started) / 100) / 10,
      ops: (c?.ops ?? 0) + finalOps,
      ok: (c?.ok ?? 0) + finalOk,
      nemesis: nemesisNow,
    });
  };
  const setPhase = (p: RunPhase): void => {
    phase = p;
    progress();
  };
  const ticker = setInterval(progress, 1000);
  ticker.unref();
  const throwIfAborted = (): void => {
    if (signal.aborted) throw new RunAborted();
  };
  const waitHealthy = async (msMax: number): Promise<boolean> => {
    const deadline = Date.now() + msMax;
    while (Date.now() < deadline) {
      throwIfAborted();
      if (await cluster!.healthy()) return true;
      await sleep(200, undefined, { signal });
    }
    return false;
  };

  let error: string | undefined;
  let faults = 0;
  try {
    setPhase('setup');
    cluster = await KvCluster.start({
      runDir: dir,
      nodes,
      ...(spec.nodeArgs === undefined ? {} : { nodeArgs: spec.nodeArgs }),
      ...(spec.nodeEnv === undefined ? {} : { nodeEnv: spec.nodeEnv }),
    });
    if (!(await waitHealthy(setupHealthyMsMax))) throw new Error(`cluster not healthy within ${setupHealthyMsMax} ms of start`);

    setPhase('faults');
    workload = new Workload({
      recorder,
      endpoints: cluster.clientEndpoints(),
      keys: spec.workload.keys,
      clients: spec.workload.clients,
      ...(spec.workload.rates === undefined ? {} : { rates: spec.workload.rates }),
      random,
      opDeadlineMs,
    });
    workload.start();
    try {
      const summary = await runSchedule({
        kind: spec.nemesis,
        cluster,
        workload,
        random,
        signal,
        log: nemesisLog,
        faultS: spec.faultS ?? faultSDefault,
        recoverS: spec.recoverS ?? recoverSDefault,
        leadInS,
        deadlineMs: performance.now() + timeLimitS * 1000,
        onNemesis: (n) => {
          nemesisNow = n;
        },
      });
      faults = summary.faults;
    } finally {
      await workload.stop();
    }
    throwIfAborted();

    setPhase('heal');
    await cluster.healAll();
    if (!(await waitHealthy(healHealthyMsMax))) throw new Error(`cluster not healthy within ${healHealthyMsMax} ms of the heal`);
    await sleep(quietMs, undefined, { signal });

    setPhase('final-reads');
    await finalReads();
  } catch (err) {
    error = err instanceof RunAborted || signal.aborted ? 'aborted' : ((err as Error).stack ?? String(err));
  }

  // Whatever happened: no node and no proxy outlives this point.
  try {
    await workload?.stop();
  } catch (err) {
    error ??= `workload stop failed: ${String(err)}`;
  }
  try {
    await cluster?.close(error === undefined ? 2000 : 200);
  } catch (err) {
    error ??= `cluster close failed: ${String(err)}`;
  }
  await recorder.close();
  await nemesisLog.close();
  options.signal?.removeEventListener('abort', onAbort);

  setPhase('check');
  const nemesisEvents = readJsonl<NemesisEvent>(nemesisPath);
  // The recorder's history read back by the checker's reader: the checker, the acked-writes check
  // and the figures all see the operations as it pairs them.
  let history: History | null = null;
  try {
    history = await readHistoryFile(historyPath);
  } catch (err) {
    error ??= `history unreadable: ${(err as Error).message}`;
  }
  let checker: RunResult['checker'] = { valid: 'unknown', ops: 0, keys: 0, ms: 0, failedKeys: [] };
  let acked: RunResult['ackedWrites'] = { checked: 0, lost: 0, lostKeys: [] };
  if (error === undefined && history !== null) {
    try {
      const r = await checkHistory(history, { timeoutMs: checkTimeoutMs });
      checker = { valid: r.valid, ops: r.ops, keys: r.keys, ms: r.ms, failedKeys: [...r.failedKeys] };
      const a = checkAckedWrites(history.operations, finalProcesses);
      acked = { checked: a.checked, lost: a.lost, lostKeys: a.lostKeys };
      if (a.lost > 0) writeFileSync(join(dir, 'lost-writes.json'), `${JSON.stringify(a.lostWrites, null, 2)}\n`);
    } catch (err) {
      error = `check failed: ${(err as Error).stack ?? String(err)}`;
    }
  }
  const ops = history === null ? [] : operations(history.operations);
  const workloadOps = ops.filter((o) => !finalProcesses.has(o.process));
  const verdict: RunResult['verdict'] = error !== undefined || checker.valid === 'unknown'
    ? 'unknown'
    : checker.valid === false || acked.lost > 0 ? 'invalid' : 'valid';
  const events = history?.events ?? [];
  const endNs = events.length > 0 ? events[events.length - 1]!.time : clock.now();

  const base: RunResultFile = {
    scenario: spec.name,
    seed: options.seed,
    dir,
    nodes,
    startedAt,
    durationMs: Date.now() - started,
    verdict,
    expect: spec.expect,
    passed: verdict !== 'unknown' && verdict === spec.expect,
    checker,
    ackedWrites: acked,
    ops: opCounts(ops),
    availability: availability(workloadOps, nemesisEvents, endNs),
    latencyMs: latency(workloadOps),
    nemesisFaults: faults,
    ...(error === undefined ? {} : { error }),
  };
  const resultsPath = join(dir, 'results.json');
  writeFileSync(resultsPath, `${JSON.stringify(base, null, 2)}\n`);

  setPhase('report');
  const reportError = await writeReport(dir);
  let result: RunResultFile = { ...base, durationMs: Date.now() - started };
  if (reportError !== null) result = { ...result, reportError };
  // Data dirs are only worth keeping when the run needs a closer look.
  if (result.passed) rmSync(join(dir, 'data'), { recursive: true, force: true });
  writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  pointLatest(options.storeDir, dir);
  clearInterval(ticker);
  setPhase('done');
  return result;

  async function finalReads(): Promise<void> {
    let proc = recorder.newProcess();
    finalProcesses.add(proc);
    const endpoints = cluster!.clientEndpoints();
    let client = new KvClient({ endpoints, opDeadlineMs: finalReadDeadlineMs, attemptMsMax: 1000, sessions: true });
    try {
      for (let k = 0; k < spec.workload.keys; k++) {
        const key = keyName(k);
        for (let attempt = 0; attempt < finalReadAttemptsMax; attempt++) {
          throwIfAborted();
          finalOps += 1;
          await recorder.invoke(proc, 'read', key);
          const outcome = await client.get(key);
          if (outcome.status === 'ok') {
            finalOk += 1;
            await recorder.ok(proc, outcome.value ?? null);
            break;
          }
          if (outcome.status === 'fail') {
            await recorder.fail(proc, outcome.error.code);
          } else {
            proc = await recorder.info(proc, outcome.reason.slice(0, 200));
            finalProcesses.add(proc);
            client.close();
            client = new KvClient({ endpoints, opDeadlineMs: finalReadDeadlineMs, attemptMsMax: 1000, sessions: true });
          }
          await sleep(200, undefined, { signal });
        }
      }
    } finally {
      client.close();
    }
  }
}
