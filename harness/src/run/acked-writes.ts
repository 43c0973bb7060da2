/**
 * The acked-writes check: every acknowledged write is either visible in the final read of its key
 * or overwritten by a write that may come later. Sound by construction — it never flags a
 * linearizable history (see harness/README.md, "Acked-writes rule", and the property test).
 *
 * Per key, with R the final read (the last `ok` read by a final process), F the value it read:
 * - an acknowledged write W is an `ok` write or `ok` cas (its new value) that completed before R
 *   was invoked — so in any linearization W precedes R;
 * - a possible writer of F is a write or cas with new value F whose outcome is `ok` or `info`
 *   (or never came): a `fail` certainly did not happen;
 * - W is LOST when F is null (nothing here deletes, so an effective W leaves a value), or when
 *   every possible writer X of F completed strictly before W was invoked (or there is none).
 * Why sound: in a linearization, R returns the value of the last effective write X* before R;
 * W is before R, so W = X* or W is before X*; then inv(W) <= lin(W) <= lin(X*) <= comp(X*), i.e.
 * X* is a possible writer of F that did not complete strictly before W was invoked.
 */

type Value = string | number;

export interface CheckEvent {
  readonly process: number | string;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: 'read' | 'write' | 'cas';
  readonly key: string;
  readonly value: unknown;
  readonly time: number;
}

export interface AckedWritesResult {
  /** Acknowledged writes checked (on keys with a final read). */
  readonly checked: number;
  readonly lost: number;
  readonly lostKeys: string[];
  /** The lost writes, for the report: key, value written, and the final value. */
  readonly lostWrites: { key: string; value: Value; final: Value | null }[];
}

interface Op {
  readonly process: number | string;
  readonly f: 'read' | 'write' | 'cas';
  readonly key: string;
  readonly input: unknown;
  readonly invoke: number;
  /** Infinity when it never completed or ended `info`. */
  complete: number;
  status: 'pending' | 'ok' | 'fail' | 'info';
  output: unknown;
}

function writtenValue(op: Op): Value | undefined {
  if (op.f === 'write') return op.input as Value;
  if (op.f === 'cas') return (op.input as [Value | null, Value])[1];
  return undefined;
}

/** `finalProcesses`: the processes that made the final reads (after heal and quiet). */
export function checkAckedWrites(events: Iterable<CheckEvent>, finalProcesses: ReadonlySet<number | string>): AckedWritesResult {
  const open = new Map<number | string, Op>();
  const byKey = new Map<string, Op[]>();
  for (const e of events) {
    if (e.type === 'invoke') {
      const op: Op = { process: e.process, f: e.f, key: e.key, input: e.value, invoke: e.time, complete: Infinity, status: 'pending', output: null };
      open.set(e.process, op);
      let list = byKey.get(e.key);
      if (list === undefined) byKey.set(e.key, (list = []));
      list.push(op);
      continue;
    }
    const op = open.get(e.process);
    if (op === undefined) continue;
    open.delete(e.process);
    op.status = e.type;
    if (e.type !== 'info') op.complete = e.time;
    op.output = e.value;
  }

  let checked = 0;
  const lostKeys: string[] = [];
  const lostWrites: AckedWritesResult['lostWrites'] = [];
  for (const [key, ops] of byKey) {
    let final: Op | null = null;
    for (const op of ops) {
      if (op.f === 'read' && op.status === 'ok' && finalProcesses.has(op.process) && (final === null || op.invoke > final.invoke)) final = op;
    }
    if (final === null) continue;
    const finalValue = final.output as Value | null;
    const acked = ops.filter((op) => op.f !== 'read' && op.status === 'ok' && op.complete < final.invoke);
    checked += acked.length;
    if (acked.length === 0) continue;
    // The latest completion among the possible writers of the final value.
    let writerCompleteMax = -Infinity;
    if (finalValue !== null) {
      for (const op of ops) {
        if (op.f === 'read' || op.status === 'fail') continue;
        if (writtenValue(op) === finalValue && op.complete > writerCompleteMax) writerCompleteMax = op.complete;
      }
    }
    let lostHere = 0;
    for (const w of acked) {
      if (finalValue === null || writerCompleteMax < w.invoke) {
        lostHere += 1;
        lostWrites.push({ key, value: writtenValue(w)!, final: finalValue });
      }
    }
    if (lostHere > 0) lostKeys.push(key);
  }
  lostKeys.sort();
  return { checked, lost: lostWrites.length, lostKeys, lostWrites };
}
