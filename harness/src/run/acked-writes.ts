import type { Operation, Value } from '@kvapp/checker';

/**
 * The acked-writes check: every acknowledged write or delete is either visible in the final read
 * of its key or overwritten by a write that may come later. Sound by construction — it never flags
 * a linearizable history (see harness/README.md, "Acked-writes rule", and the property test).
 *
 * It reads the operations as @kvapp/checker pairs them, and takes the real-time order from the
 * history's order as the checker does (Operation.call and Operation.ret, event positions).
 * A write writes its value, a cas its new value, a delete absent (null).
 * Per key, with R the final read (the last `ok` read by a final process), F the value it read:
 * - an acknowledged write W is an `ok` write, cas or delete that completed before R was invoked —
 *   so in any linearization W precedes R;
 * - a possible writer of F is a write, cas or delete that writes F and whose outcome is `ok` or
 *   `info` (or never came): a `fail` certainly did not happen;
 * - W is LOST when every possible writer X of F completed strictly before W was invoked (or
 *   there is none). So F = null with no delete that may come after W loses W.
 * Why sound: in a linearization, R returns the value of the last effective write X* before R (W
 * itself or a later one: W was effective and precedes R); then inv(W) <= lin(W) <= lin(X*) <=
 * comp(X*), i.e. X* is a possible writer of F that did not complete strictly before W was invoked.
 */

export interface AckedWritesResult {
  /** Acknowledged writes and deletes checked (on keys with a final read). */
  readonly checked: number;
  readonly lost: number;
  readonly lostKeys: string[];
  /** The lost writes, for the report: key, value written (null: a delete), and the final value. */
  readonly lostWrites: { key: string; value: Value | null; final: Value | null }[];
}

/** What `op` writes when it takes effect (null: absent), or undefined for a read. */
function writtenValue(op: Operation): Value | null | undefined {
  if (op.f === 'write') return op.input as Value;
  if (op.f === 'cas') return (op.input as readonly [Value | null, Value])[1];
  if (op.f === 'delete') return null;
  return undefined;
}

/** `finalProcesses`: the processes that made the final reads (after heal and quiet). */
export function checkAckedWrites(operations: readonly Operation[], finalProcesses: ReadonlySet<number | string>): AckedWritesResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }

  let checked = 0;
  const lostKeys: string[] = [];
  const lostWrites: AckedWritesResult['lostWrites'] = [];
  for (const [key, ops] of byKey) {
    let final: Operation | null = null;
    for (const op of ops) {
      if (op.f === 'read' && op.status === 'ok' && finalProcesses.has(op.process) && (final === null || op.call > final.call)) final = op;
    }
    if (final === null) continue;
    const finalValue = final.output;
    const acked = ops.filter((op) => op.f !== 'read' && op.status === 'ok' && op.ret < final.call);
    checked += acked.length;
    if (acked.length === 0) continue;
    // The latest completion (Infinity: info or never) among the possible writers of the final value.
    let writerRetMax = -Infinity;
    for (const op of ops) {
      if (op.f === 'read' || op.status === 'fail' || op.status === 'mismatch') continue;
      if (writtenValue(op) === finalValue && op.ret > writerRetMax) writerRetMax = op.ret;
    }
    let lostHere = 0;
    for (const w of acked) {
      if (writerRetMax < w.call) {
        lostHere += 1;
        lostWrites.push({ key, value: writtenValue(w)!, final: finalValue });
      }
    }
    if (lostHere > 0) lostKeys.push(key);
  }
  lostKeys.sort();
  return { checked, lost: lostWrites.length, lostKeys, lostWrites };
}
