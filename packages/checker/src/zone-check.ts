import { fCas, fRead, fWrite, freshId, outMismatch, outOk, type KvInput, type KvOutput } from './kv-model.js';
import type { ModelOp } from './model.js';

/**
 * Necessary conditions for linearizability that hold value by value when a value has one source
 * (one writer, or the initial absent state), checked without any search. With x unique, the key holds
 * x during one interval of time, its epoch [t_x, t_next): it starts at its writer's linearization point
 * and ends at the next write's. Every ok read of x and the ok cas that expects x lie in it, so the epoch
 * starts before A_x = min(ret of the writer and of the readers) and ends after B_x = max(call of the
 * readers). When A_x < B_x the epoch must cover [A_x, B_x] (Gibbons and Korach's forward zone), so:
 * - no sure write (ok write or ok cas) may lie entirely inside [A_x, B_x];
 * - two forward zones may not overlap;
 * - a reader may not return before its writer was invoked (A_x <= writer's call);
 * - at most one ok cas may expect x;
 * - a value nobody wrote cannot be read.
 * A history that breaks one is certainly not linearizable. One that passes may still not be; the
 * search decides those.
 */
export interface ZoneConflict {
  /** Indices into the ops: the operation that cannot be placed, and the ones that prove it. */
  readonly culprit: number;
  readonly evidence: readonly number[];
  readonly reason: string;
}

interface Zone {
  readonly value: number;
  writer: number;
  start: number; // A_x
  end: number; // B_x
  endBy: number; // the reader whose call is B_x
  startBy: number;
  casCount: number;
  lastCas: number;
}

export function zoneCheck(
  ops: readonly ModelOp<KvInput, KvOutput>[],
  valueCount: number,
  initial: number,
  describeValue: (v: number) => string,
): ZoneConflict | undefined {
  const sources = new Int32Array(valueCount);
  if (initial !== freshId) sources[initial]!++;
  const writer = new Int32Array(valueCount).fill(-1);
  for (let i = 0; i < ops.length; i++) {
    const { f, a, b } = ops[i]!.input;
    const out = ops[i]!.output;
    const v = f === fWrite ? a : f === fCas && out !== outMismatch ? b : -1;
    if (v < 0) continue;
    sources[v]!++;
    writer[v] = i;
  }
  const zones = new Map<number, Zone>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.output !== outOk || op.input.f === fWrite) continue;
    const x = op.input.a;
    if (x === freshId || sources[x]! > 1) continue;
    if (sources[x] === 0) {
      return { culprit: i, evidence: [], reason: `${describeValue(x)} was never written` };
    }
    let z = zones.get(x);
    if (!z) {
      const w = writer[x]!;
      if (w >= 0 && !Number.isFinite(ops[w]!.ret)) continue; // an indeterminate writer: no zone to speak of
      // The initial value holds from before the history began.
      const start = w >= 0 ? ops[w]!.ret : -Infinity;
      z = { value: x, writer: w, start, end: -Infinity, endBy: -1, startBy: w, casCount: 0, lastCas: -1 };
      zones.set(x, z);
    }
    if (z.writer >= 0 && op.ret < z.start) {
      z.start = op.ret;
      z.startBy = i;
    }
    if (op.call > z.end) {
      z.end = op.call;
      z.endBy = i;
    }
    if (op.input.f === fCas) {
      z.casCount++;
      if (z.casCount > 1) {
        return {
          culprit: i,
          evidence: [z.lastCas],
          reason: `two successful cas expect ${describeValue(x)}, but it is written once, so only one can follow it`,
        };
      }
      z.lastCas = i;
    }
  }
  const sure: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.output === outOk && op.input.f !== fRead) sure.push(i);
  }
  sure.sort((p, q) => ops[p]!.call - ops[q]!.call);
  // retMinFrom[k] = the sure write from k on (by call) that returns first.
  const retMinFrom = new Int32Array(sure.length + 1).fill(-1);
  for (let k = sure.length - 1; k >= 0; k--) {
    const best = retMinFrom[k + 1]!;
    retMinFrom[k] = best < 0 || ops[sure[k]!]!.ret < ops[best]!.ret ? sure[k]! : best;
  }
  const forward: Zone[] = [];
  for (const z of zones.values()) {
    if (z.writer >= 0 && z.start <= ops[z.writer]!.call) {
      return {
        culprit: z.startBy,
        evidence: [z.writer],
        reason: `it returned before ${describeValue(z.value)} was written (the write began after it ended)`,
      };
    }
    if (!(z.start < z.end)) continue;
    forward.push(z);
    let lo = 0;
    let hi = sure.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ops[sure[mid]!]!.call >= z.start) hi = mid;
      else lo = mid + 1;
    }
    const inside = retMinFrom[lo]!;
    if (inside >= 0 && ops[inside]!.ret <= z.end) {
      const by = z.value === initial && z.writer < 0 ? 'it is the initial value' : `its write ended before`;
      return {
        culprit: z.endBy,
        evidence: [inside, ...(z.writer >= 0 ? [z.writer] : [])],
        reason: `${describeValue(z.value)} had been overwritten: ${by} the overwriting write began, and that write ended before this operation began`,
      };
    }
  }
  forward.sort((p, q) => p.start - q.start);
  // `reach` is the zone, among those seen, that ends last: any later-starting zone must start after it.
  let reach: Zone | undefined;
  for (const cur of forward) {
    if (reach !== undefined && cur.start < reach.end) {
      return {
        culprit: reach.endBy,
        evidence: [cur.endBy, cur.startBy, reach.startBy].filter((x) => x >= 0),
        reason: `${describeValue(reach.value)} and ${describeValue(cur.value)} must each hold for a whole stretch of time (from the first of their operations to return until the last to begin), and those stretches overlap`,
      };
    }
    if (reach === undefined || cur.end > reach.end) reach = cur;
  }
  return undefined;
}
