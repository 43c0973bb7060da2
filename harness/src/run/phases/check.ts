import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFile } from '@kvapp/checker';
import type { HistoryEvent } from '../../history/recorder.js';
import type { NemesisEvent } from '../../history/nemesis-log.js';
import { checkAckedWrites } from '../acked-writes.js';
import type { RunContext } from '../run-context.js';
import { readJsonl } from '../run-folder.js';
import { availability, latency, opCounts, operations } from '../summary.js';
import type { RunResult } from '../types.js';

const checkTimeoutMs = 120_000;

/** results.json: the contract's RunResult, plus the faults started and why report.html is missing if it is. */
export type RunResultFile = RunResult & { readonly reportError?: string; readonly nemesisFaults?: number };

/**
 * Phase `check`: linearizability (kvapp-check) and the acked-writes check of the closed history,
 * unless the run already erred; then the run's result, also written as results.json.
 */
export async function check(run: RunContext, runError: string | undefined, faults: number): Promise<RunResultFile> {
  run.progress.setPhase('check');
  let error = runError;
  const events = readJsonl<HistoryEvent>(run.historyPath);
  const nemesisEvents = readJsonl<NemesisEvent>(run.nemesisPath);
  let checker: RunResult['checker'] = { valid: 'unknown', ops: 0, keys: 0, ms: 0, failedKeys: [] };
  let acked: RunResult['ackedWrites'] = { checked: 0, lost: 0, lostKeys: [] };
  if (error === undefined) {
    try {
      const r = await checkFile(run.historyPath, { timeoutMs: checkTimeoutMs });
      checker = { valid: r.valid, ops: r.ops, keys: r.keys, ms: r.ms, failedKeys: [...r.failedKeys] };
      const a = checkAckedWrites(events, run.finalProcesses);
      acked = { checked: a.checked, lost: a.lost, lostKeys: a.lostKeys };
      if (a.lost > 0) writeFileSync(join(run.dir, 'lost-writes.json'), `${JSON.stringify(a.lostWrites, null, 2)}\n`);
    } catch (err) {
      error = `check failed: ${(err as Error).stack ?? String(err)}`;
    }
  }
  const ops = operations(events);
  const workloadOps = ops.filter((o) => !run.finalProcesses.has(o.process));
  const verdict: RunResult['verdict'] =
    error !== undefined || checker.valid === 'unknown' ? 'unknown' : checker.valid === false || acked.lost > 0 ? 'invalid' : 'valid';
  const endNs = events.length > 0 ? events[events.length - 1]!.time : run.clock.now();

  const result: RunResultFile = {
    scenario: run.spec.name,
    seed: run.options.seed,
    dir: run.dir,
    nodes: run.nodes,
    startedAt: new Date(run.startedMs).toISOString(),
    durationMs: Date.now() - run.startedMs,
    verdict,
    expect: run.spec.expect,
    passed: verdict !== 'unknown' && verdict === run.spec.expect,
    checker,
    ackedWrites: acked,
    ops: opCounts(ops),
    availability: availability(workloadOps, nemesisEvents, endNs),
    latencyMs: latency(workloadOps),
    nemesisFaults: faults,
    ...(error === undefined ? {} : { error }),
  };
  writeFileSync(join(run.dir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
