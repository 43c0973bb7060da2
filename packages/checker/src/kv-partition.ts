import type { Operation, Value } from './history.js';
import {
  absentId, fCas, fRead, fWrite, freshId, kvModel, outInfo, outMismatch, outOk,
  type KvF, type KvInput, type KvOutput,
} from './kv-model.js';
import type { ModelOp, Partition, SearchHooks } from './model.js';

/**
 * Splits a key-value history per key and prepares each key for the search. With `reduce` (the
 * default) it applies the reductions of README "Algorithm", each of which keeps a linearization
 * whenever one exists; without it, only the semantics of DESIGN.md (drop `fail`s that are not
 * cas-mismatch, and indeterminate reads).
 */
export interface KvPartition extends Partition<number, KvInput, KvOutput> {
  /** Every operation on the key, in invocation order, as read. */
  readonly source: readonly Operation[];
  /** Value id → value (undefined for freshId). */
  readonly values: readonly (Value | null | undefined)[];
}

export function partitionKv(operations: readonly Operation[], reduce = true): KvPartition[] {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const out: KvPartition[] = [];
  for (const [key, ops] of byKey) out.push(prepareKey(key, ops, reduce));
  return out;
}

function expectedOf(op: Operation): Value | null {
  return (op.input as readonly [Value | null, Value])[0];
}

/** The value an operation writes when it takes effect, or undefined for reads. */
function writtenBy(op: Operation): Value | undefined {
  if (op.f === 'write') return op.input as Value;
  if (op.f === 'cas') return (op.input as readonly [Value | null, Value])[1];
  return undefined;
}

export function prepareKey(key: string, source: readonly Operation[], reduce: boolean): KvPartition {
  const kept: Operation[] = [];
  for (const op of source) {
    if (op.status === 'fail') continue;
    if (op.f === 'read' && op.status === 'info') continue;
    kept.push(op);
  }
  // Columns rather than an object per operation: the reductions change status and ret in place,
  // and `keep` drops an operation.
  const m = kept.length;
  const work: Work = { ops: kept, status: new Uint8Array(m), ret: new Float64Array(m), keep: new Uint8Array(m).fill(1) };
  for (let i = 0; i < m; i++) {
    const op = kept[i]!;
    work.status[i] = op.status === 'ok' ? outOk : op.status === 'info' ? outInfo : outMismatch;
    work.ret[i] = op.ret;
  }
  if (reduce) reduceKey(work);
  return compile(key, source, work, reduce);
}

interface Work {
  readonly ops: readonly Operation[];
  readonly status: Uint8Array;
  readonly ret: Float64Array;
  readonly keep: Uint8Array;
}

/** Per written value: the index of its only writer (-1 when several) and the earliest writer's call. */
interface Writers {
  readonly slot: Map<Value, number>;
  readonly only: number[];
  readonly callMin: number[];
}

function writersOf(work: Work): Writers {
  const w: Writers = { slot: new Map(), only: [], callMin: [] };
  const { ops, status } = work;
  for (let i = 0; i < ops.length; i++) {
    if (status[i] === outMismatch) continue;
    const op = ops[i]!;
    const v = writtenBy(op);
    if (v === undefined) continue;
    const s = w.slot.get(v);
    if (s === undefined) {
      w.slot.set(v, w.only.length);
      w.only.push(i);
      w.callMin.push(op.call);
    } else {
      w.only[s] = -1;
      if (op.call < w.callMin[s]!) w.callMin[s] = op.call;
    }
  }
  return w;
}

function reduceKey(work: Work): void {
  const writers = writersOf(work);
  const { ops, status, ret, keep } = work;
  // A mismatch whose expected value cannot exist yet when it is invoked is satisfied right then.
  for (let i = 0; i < ops.length; i++) {
    if (status[i] !== outMismatch) continue;
    const op = ops[i]!;
    const e = expectedOf(op);
    if (e === null) continue;
    const s = writers.slot.get(e);
    if (s === undefined || !(writers.callMin[s]! < op.call)) keep[i] = 0;
  }
  requireObservedWrites(work, writers);
  // An indeterminate write of a value nobody reads or expects only matters to a mismatch that is
  // still open after it was invoked; with none, it can be left out.
  const referenced = referencedValues(work);
  let mismatchRetMax = -Infinity;
  for (let i = 0; i < ops.length; i++) {
    if (keep[i] === 1 && status[i] === outMismatch && ret[i]! > mismatchRetMax) mismatchRetMax = ret[i]!;
  }
  for (let i = 0; i < ops.length; i++) {
    if (keep[i] === 0 || status[i] !== outInfo) continue;
    const op = ops[i]!;
    const v = writtenBy(op);
    if (v !== undefined && !referenced.has(v) && !(op.call < mismatchRetMax)) keep[i] = 0;
  }
}

/**
 * An indeterminate operation that is the only writer of a value some ok operation observed must
 * have taken effect, before that observer returned: it becomes an ok operation with that deadline.
 * Repeated to a fixpoint, since a cas made ok observes its own expected value.
 */
function requireObservedWrites(work: Work, writers: Writers): void {
  const { ops, status, ret, keep } = work;
  for (let changed = true; changed; ) {
    changed = false;
    const deadline = new Map<Value | null, number>();
    for (let i = 0; i < ops.length; i++) {
      if (keep[i] === 0 || status[i] !== outOk) continue;
      const op = ops[i]!;
      const seen = op.f === 'read' ? op.output : op.f === 'cas' ? expectedOf(op) : undefined;
      if (seen === undefined || seen === null) continue;
      const d = deadline.get(seen);
      if (d === undefined || ret[i]! < d) deadline.set(seen, ret[i]!);
    }
    for (const [v, r] of deadline) {
      const s = writers.slot.get(v as Value);
      if (s === undefined) continue;
      const only = writers.only[s]!;
      if (only < 0 || status[only] !== outInfo) continue;
      // Its return entry goes just before the observer's: a 1/4096 step, so that a chain of such
      // conversions never crosses the event before (event positions are integers).
      const tightened = r - 1 / 4096;
      if (Math.ceil(tightened) !== Math.ceil(r)) continue;
      status[only] = outOk;
      ret[only] = tightened;
      changed = true;
    }
  }
}

function referencedValues(work: Work): Set<Value | null> {
  const referenced = new Set<Value | null>();
  const { ops, keep } = work;
  for (let i = 0; i < ops.length; i++) {
    if (keep[i] === 0) continue;
    const op = ops[i]!;
    if (op.f === 'read') referenced.add(op.output);
    else if (op.f === 'cas') referenced.add(expectedOf(op));
  }
  return referenced;
}

function compile(key: string, source: readonly Operation[], work: Work, reduce: boolean): KvPartition {
  const ids = new Map<Value | null, number>();
  const values: (Value | null | undefined)[] = [null, undefined];
  const referenced = reduce ? referencedValues(work) : undefined;
  const intern = (v: Value | null): number => {
    if (referenced && !referenced.has(v)) return freshId;
    if (v === null) return absentId;
    let id = ids.get(v);
    if (id === undefined) {
      id = values.length;
      ids.set(v, id);
      values.push(v);
    }
    return id;
  };
  const initial = intern(null);
  const ops: ModelOp<KvInput, KvOutput>[] = [];
  const { status, ret, keep } = work;
  for (let i = 0; i < work.ops.length; i++) {
    if (keep[i] === 0) continue;
    const op = work.ops[i]!;
    let input: KvInput;
    if (op.f === 'read') input = { f: fRead, a: intern(op.output), b: 0 };
    else if (op.f === 'write') input = { f: fWrite, a: intern(op.input as Value), b: 0 };
    else input = { f: fCas, a: intern(expectedOf(op)), b: intern(writtenBy(op)!) };
    const output = status[i] as KvOutput;
    ops.push({ id: op.id, call: op.call, ret: output === outInfo ? Infinity : ret[i]!, input, output });
  }
  const model = kvModel(initial);
  if (!reduce) return { key, model, ops, source, values };
  return { key, model, ops, source, values, groupPrev: groups(ops, values.length), classOf: classes(ops, values.length), hooks: uniqueValueHooks(ops, values.length, initial) };
}

/** A number that identifies an input: f, a and b are below 3, valueCount and valueCount. */
function inputKey(input: KvInput, valueCount: number): number {
  return (input.a * valueCount + input.b) * 3 + input.f;
}

/** Indeterminate operations with the same input are interchangeable: chain them in call order. */
function groups(ops: readonly ModelOp<KvInput, KvOutput>[], valueCount: number): Int32Array {
  const groupPrev = new Int32Array(ops.length).fill(-1);
  const last = new Map<number, number>();
  let inCallOrder = true;
  for (let i = 1; i < ops.length && inCallOrder; i++) if (ops[i]!.call < ops[i - 1]!.call) inCallOrder = false;
  const order = inCallOrder ? ops.map((_, i) => i) : ops.map((_, i) => i).sort((x, y) => ops[x]!.call - ops[y]!.call);
  for (const i of order) {
    const op = ops[i]!;
    if (op.output !== outInfo) continue;
    const g = inputKey(op.input, valueCount);
    groupPrev[i] = last.get(g) ?? -1;
    last.set(g, i);
  }
  return groupPrev;
}

/** Finite state-changing operations with the same input and output form a class (see Partition.classOf). */
function classes(ops: readonly ModelOp<KvInput, KvOutput>[], valueCount: number): Int32Array {
  const classOf = new Int32Array(ops.length).fill(-1);
  const members = new Map<number, number[]>();
  ops.forEach((op, i) => {
    if (op.output !== outOk || op.input.f === fRead) return;
    const k = inputKey(op.input, valueCount);
    let list = members.get(k);
    if (!list) members.set(k, (list = []));
    list.push(i);
  });
  let next = 0;
  for (const list of members.values()) {
    if (list.length < 2) continue;
    for (const i of list) classOf[i] = next;
    next++;
  }
  return classOf;
}

/**
 * Pruning that uses written values being unique, value by value (so it is sound when values repeat:
 * it simply does not apply to a repeated value):
 * - a value with at most one source (its one writer, or the initial absent state) never comes back
 *   once overwritten, so it may be overwritten only when no ok read or ok cas still needs it;
 * - an indeterminate operation that would write a value no ok operation and no indeterminate cas
 *   observes is only ever useful to a mismatch that expects the value it overwrites (while it holds,
 *   nothing else can be linearized but mismatches and the next write), so without such a mismatch
 *   pending it is not tried.
 */
function uniqueValueHooks(ops: readonly ModelOp<KvInput, KvOutput>[], valueCount: number, initial: number): SearchHooks<number> {
  const sources = new Int32Array(valueCount);
  const needPending = new Int32Array(valueCount);
  const mismatchPending = new Int32Array(valueCount);
  const observed = new Uint8Array(valueCount);
  sources[initial]!++;
  for (const op of ops) {
    const { f, a, b } = op.input;
    if (f === fWrite) sources[a]!++;
    if (f === fCas && op.output !== outMismatch) sources[b]!++;
    if (op.output === outOk && (f === fRead || f === fCas)) needPending[a]!++;
    if (op.output === outMismatch) mismatchPending[a]!++;
    if (f !== fWrite && op.output !== outMismatch) observed[a] = 1;
  }
  const needs = (i: number): number => {
    const op = ops[i]!;
    return op.output === outOk && op.input.f !== fWrite ? op.input.a : -1;
  };
  return {
    allow(i, state, next) {
      if (next === state) return true;
      if (state !== freshId && sources[state]! <= 1) {
        const pending = needPending[state]! - (needs(i) === state ? 1 : 0);
        if (pending > 0) return false;
      }
      if (ops[i]!.output === outInfo && observed[next] === 0 && mismatchPending[state] === 0) return false;
      return true;
    },
    linearized(i) {
      const v = needs(i);
      if (v >= 0) needPending[v]!--;
      else if (ops[i]!.output === outMismatch) mismatchPending[ops[i]!.input.a]!--;
    },
    undone(i) {
      const v = needs(i);
      if (v >= 0) needPending[v]!++;
      else if (ops[i]!.output === outMismatch) mismatchPending[ops[i]!.input.a]!++;
    },
  };
}

export type { KvF };
