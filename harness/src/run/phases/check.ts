import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, readHistoryFile, type History } from '@kvapp/checker';
import type { NemesisEvent } from '../../history/nemesis-log.js';
import { isNemesisKind, nemeses } from '../../nemesis/registry.js';
import { checkAckedWrites } from '../acked-writes.js';
import type { RunContext } from '../run-context.js';
import { readJsonl } from '../run-folder.js';
import { availability, latency, opCounts, operations } from '../summary.js';
import type { NodeRss, RunResult } from '../types.js';

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
  const nemesisEvents = readJsonl<NemesisEvent>(run.nemesisPath);
  // The recorder's history read back by the checker's reader: the checker, the acked-writes check
  // and the figures all see the operations as it pairs them.
  let history: History | null = null;
  try {
    history = await readHistoryFile(run.historyPath);
  } catch (err) {
    error ??= `history unreadable: ${(err as Error).message}`;
  }
  let checker: RunResult['checker'] = { valid: 'unknown', ops: 0, keys: 0, ms: 0, failedKeys: [] };
  let acked: RunResult['ackedWrites'] = { checked: 0, lost: 0, lostKeys: [] };
  if (error === undefined && history !== null) {
    try {
      const r = await checkHistory(history, { timeoutMs: checkTimeoutMs });
      checker = { valid: r.valid, ops: r.ops, keys: r.keys, ms: r.ms, failedKeys: [...r.failedKeys] };
      const a = checkAckedWrites(history.operations, run.finalProcesses);
      acked = { checked: a.checked, lost: a.lost, lostKeys: a.lostKeys };
      if (a.lost > 0) writeFileSync(join(run.dir, 'lost-writes.json'), `${JSON.stringify(a.lostWrites, null, 2)}\n`);
    } catch (err) {
      error = `check failed: ${(err as Error).stack ?? String(err)}`;
    }
  }
  const ops = history === null ? [] : operations(history.operations);
  const workloadOps = ops.filter((o) => !run.finalProcesses.has(o.process));
  const verdict: RunResult['verdict'] =
    error !== undefined || checker.valid === 'unknown' ? 'unknown' : checker.valid === false || acked.lost > 0 ? 'invalid' : 'valid';
  const events = history?.events ?? [];
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
    ...faultNotesOf(nemesisEvents),
    ...rssOf(run),
    nemesisFaults: faults,
    ...(error === undefined ? {} : { error }),
  };
  writeFileSync(join(run.dir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The notes of the nemeses that measure something, one per ended fault (NemesisModule.note). */
export function faultNotes(events: readonly Pick<NemesisEvent, 'nemesis' | 'phase' | 'detail'>[]): string[] {
  const notes: string[] = [];
  for (const e of events) {
    if (e.phase !== 'end' || !isNemesisKind(e.nemesis)) continue;
    const note = nemeses[e.nemesis].note;
    if (note === undefined || typeof e.detail !== 'object' || e.detail === null) continue;
    const line = note(e.detail as Record<string, unknown>);
    if (line !== null) notes.push(`${e.nemesis}: ${line}`);
  }
  return notes;
}

function rssOf(run: RunContext): { rssMb?: Record<string, NodeRss> } {
  const rssMb = run.rss.figures();
  return Object.keys(rssMb).length === 0 ? {} : { rssMb };
}

function faultNotesOf(events: readonly NemesisEvent[]): { faultNotes?: string[] } {
  const notes = faultNotes(events);
  return notes.length === 0 ? {} : { faultNotes: notes };
}
