import type { Operation, ProcessId } from '@kvapp/checker';
import type { ErrorCode } from '@kvapp/client';
import type { NemesisEvent } from '../history/nemesis-log.js';
import type { AvailabilityPeriod, LatencySummary, OpCounts, RunResult } from './types.js';

interface Completed {
  readonly process: ProcessId;
  readonly f: string;
  /** Times (run clock, ns) of the invocation and the completion; null for an `info` or none. */
  readonly invoke: number;
  readonly complete: number | null;
  readonly type: 'ok' | 'fail' | 'info';
  /** The completion's `error`, if any. */
  readonly error?: string;
}

/**
 * The figures' view of the operations as @kvapp/checker pairs them (the recorder's history read
 * back, in the run and in the report alike, so results.json and the report agree): a cas-mismatch
 * is a `fail`, an operation never completed is `info`.
 */
export function operations(ops: readonly Operation[]): Completed[] {
  return ops.map((op) => {
    const type = op.status === 'ok' ? 'ok' : op.status === 'info' ? 'info' : 'fail';
    return {
      process: op.process,
      f: op.f,
      invoke: op.callTime,
      complete: type === 'info' ? null : op.retTime,
      type,
      ...(op.error === undefined ? {} : { error: op.error }),
    };
  });
}

export function opCounts(ops: readonly Completed[]): RunResult['ops'] {
  const byF: Record<string, { ok: number; fail: number; info: number }> = {};
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (const op of ops) {
    const c = (byF[op.f] ??= { ok: 0, fail: 0, info: 0 });
    c[op.type] += 1;
    if (op.type === 'ok') ok += 1;
    else if (op.type === 'fail') fail += 1;
    else info += 1;
  }
  return { total: ops.length, ok, fail, info, byF: byF as Record<string, OpCounts> };
}

/**
 * The codes a client fails with only when it gave up: its deadline passed (or its retries ran
 * out) before any node could serve the operation, and nothing was applied. Such a `fail` is a
 * timeout in all but name; every other `fail` is an answer of the store (cas-mismatch, rejected,
 * ...). See packages/client/src/client.ts, giveUp() and decide().
 */
const gaveUpCodes: ReadonlySet<string> = new Set<ErrorCode>(['not_leader', 'unavailable', 'overloaded', 'timeout', 'internal']);

/**
 * Whether the store answered the operation for certain: `ok`, or a `fail` that is not the client
 * giving up. An `info` (indeterminate, e.g. a timeout after sending) and a given-up `fail` are
 * what the clients saw of unavailability.
 */
export function answered(op: Pick<Completed, 'type' | 'error'>): boolean {
  if (op.type === 'ok') return true;
  if (op.type === 'info') return false;
  return op.error === undefined || !gaveUpCodes.has(op.error);
}

/**
 * Splits the run at every nemesis start and end: each fault period is named by the faults active
 * in it (joined with '+'), quiet stretches are 'none'. An operation belongs to the period its
 * invocation falls in; `ok` counts operations that completed ok, `answered` those the store
 * answered for certain (answered(): ok, or a fail such as a cas-mismatch, which is a correct
 * answer), and `share` = answered / ops (0 when no ops).
 */
export function availability(
  ops: readonly Completed[],
  nemesis: readonly Pick<NemesisEvent, 'time' | 'nemesis' | 'phase'>[],
  endNs: number,
): AvailabilityPeriod[] {
  const cuts: { time: number; active: string[] }[] = [{ time: 0, active: [] }];
  const active = new Set<string>();
  for (const e of [...nemesis].sort((a, b) => a.time - b.time)) {
    if (e.phase === 'start') active.add(e.nemesis);
    else active.delete(e.nemesis);
    cuts.push({ time: e.time, active: [...active].sort() });
  }
  const periods: { nemesis: string; start: number; end: number; ops: number; ok: number; answered: number }[] = [];
  for (let i = 0; i < cuts.length; i++) {
    const start = cuts[i]!.time;
    const end = i + 1 < cuts.length ? cuts[i + 1]!.time : Math.max(endNs, start);
    if (end <= start && i + 1 < cuts.length) continue;
    const name = cuts[i]!.active.length === 0 ? 'none' : cuts[i]!.active.join('+');
    const last = periods[periods.length - 1];
    if (last !== undefined && last.nemesis === name && last.end === start) last.end = end;
    else periods.push({ nemesis: name, start, end, ops: 0, ok: 0, answered: 0 });
  }
  for (const op of ops) {
    const p = periods.find((x, i) => op.invoke >= x.start && (op.invoke < x.end || i === periods.length - 1));
    if (p === undefined) continue;
    p.ops += 1;
    if (op.type === 'ok') p.ok += 1;
    if (answered(op)) p.answered += 1;
  }
  return periods.map((p) => ({
    nemesis: p.nemesis,
    startS: round3(p.start / 1e9),
    endS: round3(p.end / 1e9),
    ops: p.ops,
    ok: p.ok,
    answered: p.answered,
    share: p.ops === 0 ? 0 : round3(p.answered / p.ops),
  }));
}

/**
 * The share of operations answered while some fault was on (every period but 'none'), over all of
 * them; null when no fault period had operations. The chaos table's "avail. in faults".
 */
export function availabilityUnderFaults(periods: readonly Pick<AvailabilityPeriod, 'nemesis' | 'ops' | 'answered'>[]): number | null {
  let ops = 0;
  let answeredOps = 0;
  for (const p of periods) {
    if (p.nemesis === 'none') continue;
    ops += p.ops;
    answeredOps += p.answered;
  }
  return ops === 0 ? null : answeredOps / ops;
}

/** Latency of the operations that completed ok, in ms (nearest-rank percentiles). */
export function latency(ops: readonly Completed[]): LatencySummary {
  const ms = ops
    .filter((o) => o.type === 'ok' && o.complete !== null)
    .map((o) => (o.complete! - o.invoke) / 1e6)
    .sort((a, b) => a - b);
  const at = (q: number): number => (ms.length === 0 ? 0 : round3(ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!));
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: ms.length === 0 ? 0 : round3(ms[ms.length - 1]!) };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
