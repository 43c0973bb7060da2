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

interface Work {
  readonly op: Operation;
  status: 'ok' | 'info' | 'mismatch';
  ret: number;
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
  let work: Work[] = [];
  for (const op of source) {
    if (op.status === 'fail') continue;
    if (op.f === 'read' && op.status === 'info') continue;
    work.push({ op, status: op.status, ret: op.ret });
  }
  if (reduce) work = reduceKey(work);
  return compile(key, source, work, reduce);
}

function writersOf(work: readonly Work[]): Map<Value, Work[]> {
  const writers = new Map<Value, Work[]>();
  for (const w of work) {
    if (w.status === 'mismatch') continue;
    const v = writtenBy(w.op);
    if (v === undefined) continue;
    let list = writers.get(v);
    if (!list) writers.set(v, (list = []));
    list.push(w);
  }
  return writers;
}

function reduceKey(input: Work[]): Work[] {
  const writers = writersOf(input);
  // A mismatch whose expected value cannot exist yet when it is invoked is satisfied right then.
  let work = input.filter((w) => {
    if (w.status !== 'mismatch') return true;
    const e = expectedOf(w.op);
    if (e === null) return true;
    return (writers.get(e) ?? []).some((x) => x.op.call < w.op.call);
  });
  requireObservedWrites(work, writers);
  // An indeterminate write of a value nobody reads or expects only matters to a mismatch that is
  // still open after it was invoked; with none, it can be left out.
  const referenced = referencedValues(work);
  let mismatchRetMax = -Infinity;
  for (const w of work) if (w.status === 'mismatch') mismatchRetMax = Math.max(mismatchRetMax, w.ret);
  work = work.filter((w) => {
    if (w.status !== 'info') return true;
    const v = writtenBy(w.op);
    return v === undefined || referenced.has(v) || w.op.call < mismatchRetMax;
  });
  return work;
}

/**
 * An indeterminate operation that is the only writer of a value some ok operation observed must
 * have taken effect, before that observer returned: it becomes an ok operation with that deadline.
 * Repeated to a fixpoint, since a cas made ok observes its own expected value.
 */
function requireObservedWrites(work: readonly Work[], writers: Map<Value, Work[]>): void {
  for (let changed = true; changed; ) {
    changed = false;
    const deadline = new Map<Value | null, number>();
    for (const w of work) {
      if (w.status !== 'ok') continue;
      const seen = w.op.f === 'read' ? w.op.output : w.op.f === 'cas' ? expectedOf(w.op) : undefined;
      if (seen === undefined || seen === null) continue;
      deadline.set(seen, Math.min(deadline.get(seen) ?? Infinity, w.ret));
    }
    for (const [v, ret] of deadline) {
      const list = writers.get(v as Value);
      if (!list || list.length !== 1) continue;
      const only = list[0]!;
      if (only.status !== 'info') continue;
      // Its return entry goes just before the observer's: a 1/4096 step, so that a chain of such
      // conversions never crosses the event before (event positions are integers).
      const tightened = ret - 1 / 4096;
      if (Math.ceil(tightened) !== Math.ceil(ret)) continue;
      only.status = 'ok';
      only.ret = tightened;
      changed = true;
    }
  }
}

function referencedValues(work: readonly Work[]): Set<Value | null> {
  const referenced = new Set<Value | null>();
  for (const w of work) {
    if (w.op.f === 'read') referenced.add(w.op.output);
    else if (w.op.f === 'cas') referenced.add(expectedOf(w.op));
  }
  return referenced;
}

function compile(key: string, source: readonly Operation[], work: readonly Work[], reduce: boolean): KvPartition {
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
  const ops: ModelOp<KvInput, KvOutput>[] = work.map((w) => {
    const op = w.op;
    let input: KvInput;
    if (op.f === 'read') input = { f: fRead, a: intern(op.output), b: 0 };
    else if (op.f === 'write') input = { f: fWrite, a: intern(op.input as Value), b: 0 };
    else input = { f: fCas, a: intern(expectedOf(op)), b: intern(writtenBy(op)!) };
    const output: KvOutput = w.status === 'ok' ? outOk : w.status === 'info' ? outInfo : outMismatch;
    return { id: op.id, call: op.call, ret: w.status === 'info' ? Infinity : w.ret, input, output };
  });
  const model = kvModel(initial);
  if (!reduce) return { key, model, ops, source, values };
  return { key, model, ops, source, values, groupPrev: groups(ops), classOf: classes(ops), hooks: uniqueValueHooks(ops, values.length, initial) };
}

/** Indeterminate operations with the same input are interchangeable: chain them in call order. */
function groups(ops: readonly ModelOp<KvInput, KvOutput>[]): Int32Array {
  const groupPrev = new Int32Array(ops.length).fill(-1);
  const last = new Map<string, number>();
  const order = ops.map((_, i) => i).sort((x, y) => ops[x]!.call - ops[y]!.call);
  for (const i of order) {
    const op = ops[i]!;
    if (op.output !== outInfo) continue;
    const g = `${op.input.f},${op.input.a},${op.input.b}`;
    groupPrev[i] = last.get(g) ?? -1;
    last.set(g, i);
  }
  return groupPrev;
}

/** Finite state-changing operations with the same input and output form a class (see Partition.classOf). */
function classes(ops: readonly ModelOp<KvInput, KvOutput>[]): Int32Array {
  const classOf = new Int32Array(ops.length).fill(-1);
  const members = new Map<string, number[]>();
  ops.forEach((op, i) => {
    if (op.output !== outOk || op.input.f === fRead) return;
    const k = `${op.input.f},${op.input.a},${op.input.b}`;
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
