import type { SimOp, UniformRng } from './generate.js';

/**
 * Anomalies that make a generated history certainly not linearizable, placed late (after
 * `afterShare` of the operations by start time):
 * - stale-read: a read returns a value that was overwritten by a write that finished before it began;
 * - lost-write: an acknowledged write is never seen; its readers, and the first read that began after
 *   it finished, see the value of a write that had finished before it began;
 * - impossible-cas: a successful cas expects a value that was overwritten before it began.
 * Returns the index of the operation changed, or -1 when no place for the anomaly was found.
 * `rng` picks among the places (the same generator state, the same place).
 */
export type Anomaly = 'stale-read' | 'lost-write' | 'impossible-cas';

export function inject(ops: SimOp[], anomaly: Anomaly, rng: UniformRng, afterShare = 0.9): number {
  const byStart = ops.map((_, i) => i).sort((a, b) => ops[a]!.start - ops[b]!.start);
  const late = byStart.slice(Math.floor(byStart.length * afterShare));
  const candidates = late.filter((i) => {
    const op = ops[i]!;
    if (op.status !== 'ok' || op.end === null) return false;
    if (anomaly === 'stale-read') return op.f === 'read';
    if (anomaly === 'lost-write') return op.f === 'write';
    return op.f === 'cas';
  });
  // Try candidates from a random point, so different seeds give different places.
  const from = candidates.length > 0 ? Math.floor(rng.next() * candidates.length) : 0;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[(from + k) % candidates.length]!;
    if (anomaly === 'lost-write' ? loseWrite(ops, i) : overwriteObservation(ops, i)) return i;
  }
  return -1;
}

/** Sure writes of a value (ok and effective writes and cas) on a key, by linearization instant. */
function sureWrites(ops: readonly SimOp[], key: string): SimOp[] {
  return ops
    .filter((o) => o.key === key && (o.f === 'write' || o.f === 'cas') && o.status === 'ok' && o.effective)
    .sort((a, b) => a.lin - b.lin);
}

function written(op: SimOp): number {
  return op.f === 'write' ? (op.input as number) : (op.input as [number | null, number])[1];
}

/** A value u with writer W_u, overwritten by W2 where W_u ends before W2 starts and W2 ends before `before`. */
function staleValue(ops: readonly SimOp[], key: string, before: number): number | undefined {
  const writes = sureWrites(ops, key);
  for (let j = writes.length - 1; j >= 0; j--) {
    const w2 = writes[j]!;
    if (w2.end === null || w2.end >= before) continue;
    for (let k = j - 1; k >= 0; k--) {
      const wu = writes[k]!;
      if (wu.end !== null && wu.end < w2.start) return written(wu);
    }
    return undefined;
  }
  return undefined;
}

function overwriteObservation(ops: SimOp[], i: number): boolean {
  const op = ops[i]!;
  const u = staleValue(ops, op.key, op.start);
  if (u === undefined) return false;
  if (op.f === 'read') {
    if (op.output === u) return false;
    op.output = u;
  } else {
    const [, next] = op.input as [number | null, number];
    op.input = [u, next];
  }
  return true;
}

function loseWrite(ops: SimOp[], i: number): boolean {
  const w = ops[i]!;
  // A delete on the key could explain a read of absent after w: no certain anomaly there.
  if (ops.some((o) => o.key === w.key && o.f === 'delete')) return false;
  // p: the value of the last sure write that ended before w began; w must come after it.
  const before = sureWrites(ops, w.key).filter((o) => o !== w && o.end !== null && o.end < w.start);
  const prev = before[before.length - 1];
  const p = prev ? written(prev) : null;
  if (!prev && sureWrites(ops, w.key).some((o) => o.lin < w.lin && o !== w)) return false;
  const value = written(w);
  if (ops.some((o) => o.key === w.key && o.f === 'cas' && o.status === 'ok' && (o.input as [number | null, number])[0] === value))
    return false;
  const readsAfter = ops.filter((o) => o.key === w.key && o.f === 'read' && o.status === 'ok' && o.start > w.end!);
  const first = readsAfter.sort((a, b) => a.start - b.start)[0];
  if (!first) return false;
  // Nobody sees w: its readers, and the first read after it finished, see p instead.
  for (const o of ops) if (o.key === w.key && o.f === 'read' && o.status === 'ok' && o.output === value) o.output = p;
  first.output = p;
  return true;
}
