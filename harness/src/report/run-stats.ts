import type { Operation } from '@kvapp/checker';
import type { LatencySummary } from '../run/types.js';

const nsPerMs = 1e6;
const nsPerS = 1e9;
/** Points per time-series chart: enough to see a fault's edges, few enough to draw at once. */
export const seriesBucketsMax = 300;

/** Buckets of equal width over the run; latency figures are of the ok operations completed in each. */
export interface Series {
  readonly bucketS: number;
  readonly startsS: readonly number[];
  readonly okPerS: readonly number[];
  readonly failPerS: readonly number[];
  readonly infoPerS: readonly number[];
  readonly p50Ms: readonly (number | null)[];
  readonly p99Ms: readonly (number | null)[];
  readonly maxMs: readonly (number | null)[];
}

export type Outcome = 'ok' | 'fail' | 'info';

export function outcomeOf(op: Operation): Outcome {
  if (op.status === 'ok') return 'ok';
  if (op.status === 'info') return 'info';
  return 'fail';
}

/** Nearest-rank percentile of an ascending array (empty → 0). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function latencyOf(sortedMs: readonly number[]): LatencySummary {
  return {
    p50: percentile(sortedMs, 50),
    p90: percentile(sortedMs, 90),
    p99: percentile(sortedMs, 99),
    max: sortedMs.length ? sortedMs[sortedMs.length - 1]! : 0,
  };
}

/**
 * Throughput and latency over time in at most `seriesBucketsMax` buckets. Completions count in the
 * bucket where they completed; an `info` (which may never complete) counts where it was invoked.
 */
export function timeSeries(ops: readonly Operation[], endTime: number, bucketsMax = seriesBucketsMax): Series {
  const spanNs = Math.max(endTime, 1);
  const buckets = Math.max(1, Math.min(bucketsMax, Math.ceil(spanNs / (nsPerS / 10))));
  const widthNs = spanNs / buckets;
  const at = (t: number): number => Math.min(buckets - 1, Math.max(0, Math.floor(t / widthNs)));
  const ok = new Array<number>(buckets).fill(0);
  const fail = new Array<number>(buckets).fill(0);
  const info = new Array<number>(buckets).fill(0);
  const lat: number[][] = Array.from({ length: buckets }, () => []);
  for (const op of ops) {
    const o = outcomeOf(op);
    if (o === 'info' || op.retTime === null) {
      info[at(op.callTime)]!++;
      continue;
    }
    const b = at(op.retTime);
    if (o === 'ok') {
      ok[b]!++;
      lat[b]!.push((op.retTime - op.callTime) / nsPerMs);
    } else {
      fail[b]!++;
    }
  }
  const bucketS = widthNs / nsPerS;
  const perS = (xs: number[]): number[] => xs.map((x) => Math.round((x / bucketS) * 10) / 10);
  const stats = lat.map((xs) => (xs.length ? latencyOf(xs.sort((a, b) => a - b)) : null));
  const r = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 100) / 100);
  return {
    bucketS,
    startsS: ok.map((_, i) => i * bucketS),
    okPerS: perS(ok),
    failPerS: perS(fail),
    infoPerS: perS(info),
    p50Ms: stats.map((s) => r(s?.p50)),
    p99Ms: stats.map((s) => r(s?.p99)),
    maxMs: stats.map((s) => r(s?.max)),
  };
}

/** The last instant the run recorded: the latest event of either file. */
export function runEndTime(ops: readonly Operation[], nemesisTimes: readonly number[]): number {
  let end = 0;
  for (const op of ops) end = Math.max(end, op.retTime ?? op.callTime);
  for (const t of nemesisTimes) end = Math.max(end, t);
  return end;
}
