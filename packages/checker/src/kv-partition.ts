import type { Operation, Value } from './history.js';
import {
  absentId,
  fCas,
  fDelete,
  fRead,
  fWrite,
  freshId,
  kvModel,
  outInfo,
  outMismatch,
  outOk,
  type KvF,
  type KvInput,
  type KvOutput,
} from './kv-model.js';
import type { ModelOp, Partition, SearchHooks } from './model.js';
import { rowFail, rowInfo, rowsByKey, tableFromOperations, type OpTable } from './op-table.js';

/**
 * Splits a key-value history per key and prepares each key for the search. With `reduce` (the
 * default) it applies the reductions of README "Algorithm", each of which keeps a linearization
 * whenever one exists; without it, only the semantics of docs/history-format.md (drop `fail`s that are not
 * cas-mismatch, and indeterminate reads).
 */
export interface KvPartition extends Partition<number, KvInput, KvOutput> {
  /** Value id → value (undefined for freshId). */
  readonly values: readonly (Value | null | undefined)[];
}

export function partitionKv(operations: readonly Operation[], reduce = true): KvPartition[] {
  const table = tableFromOperations(operations);
  return rowsByKey(table).map((rows, k) => prepareRows(table.keys[k]!, table, rows, reduce));
}

/** Prepares one key's operations (all with this key). */
export function prepareKey(key: string, ops: readonly Operation[], reduce: boolean): KvPartition {
  const table = tableFromOperations(ops);
  return prepareRows(key, table, Int32Array.from(ops.keys()), reduce);
}

/** Prepares the rows `rows` of `table` (all of one key, in row order). ModelOp ids are table ids. */
export function prepareRows(key: string, table: OpTable, rows: Int32Array, reduce: boolean): KvPartition {
  let m = 0;
  const picked = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const s = table.status[r]!;
    if (s === rowFail) continue;
    if (s === rowInfo && table.f[r] === fRead) continue;
    picked[m++] = r;
  }
  // Columns rather than an object per operation: the reductions change status and ret in place,
  // and `keep` drops an operation. Values are interned once (0 = absent), so every later
  // per-value table is a typed array, not a map.
  const work: Work = {
    m,
    id: new Float64Array(m),
    f: new Uint8Array(m),
    a: new Int32Array(m),
    b: new Int32Array(m),
    call: new Float64Array(m),
    status: new Uint8Array(m),
    ret: new Float64Array(m),
    keep: new Uint8Array(m).fill(1),
    values: [null],
  };
  const ids = new Map<Value, number>();
  const intern = (v: Value | null): number => {
    if (v === null) return 0;
    let id = ids.get(v);
    if (id === undefined) {
      id = work.values.length;
      ids.set(v, id);
      work.values.push(v);
    }
    return id;
  };
  for (let i = 0; i < m; i++) {
    const r = picked[i]!;
    const f = table.f[r]!;
    work.id[i] = table.id[r]!;
    // A delete is a write of absent (value 0): to the model, and to every reduction below. Each of
    // them already treats absent as a value with more than one source (the initial state is one),
    // so a delete adds one more source and no rule that needs a unique value applies to absent;
    // the brute-force agreement tests (test/brute-force.test.ts) check this on random histories.
    if (f === fDelete) {
      work.f[i] = fWrite;
      work.a[i] = 0;
    } else {
      work.f[i] = f;
      work.a[i] = intern(table.a[r]!);
    }
    if (f === fCas) work.b[i] = intern(table.b[r]!);
    work.call[i] = table.call[r]!;
    work.status[i] = table.status[r]!;
    work.ret[i] = table.ret[r]!;
  }
  if (reduce) reduceKey(work);
  return compile(key, work, reduce);
}

/** One key's operations after dropping what never matters (docs/history-format.md), as columns. */
interface Work {
  readonly m: number;
  readonly id: Float64Array;
  readonly f: Uint8Array;
  /** As OpTable.a and OpTable.b, as indices into `values`. */
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly call: Float64Array;
  readonly status: Uint8Array;
  readonly ret: Float64Array;
  readonly keep: Uint8Array;
  /** Interned value → value; 0 is absent (null). */
  readonly values: (Value | null)[];
}

/** The value (interned) an operation writes when it takes effect, or -1 for reads. */
function writtenBy(work: Work, i: number): number {
  const f = work.f[i];
  if (f === fWrite) return work.a[i]!;
  if (f === fCas) return work.b[i]!;
  return -1;
}

const noWriter = -2;
const severalWriters = -1;

/** Per written value: the index of its only writer (severalWriters, noWriter) and the earliest writer's call. */
interface Writers {
  readonly only: Int32Array;
  readonly callMin: Float64Array;
}

function writersOf(work: Work): Writers {
  const v = work.values.length;
  const w: Writers = { only: new Int32Array(v).fill(noWriter), callMin: new Float64Array(v).fill(Infinity) };
  const { m, status, call } = work;
  for (let i = 0; i < m; i++) {
    if (status[i] === outMismatch) continue;
    const x = writtenBy(work, i);
    if (x < 0) continue;
    w.only[x] = w.only[x] === noWriter ? i : severalWriters;
    if (call[i]! < w.callMin[x]!) w.callMin[x] = call[i]!;
  }
  return w;
}

function reduceKey(work: Work): void {
  const writers = writersOf(work);
  const { m, status, ret, keep, call, a } = work;
  // A mismatch whose expected value cannot exist yet when it is invoked is satisfied right then.
  for (let i = 0; i < m; i++) {
    if (status[i] !== outMismatch) continue;
    const e = a[i]!;
    if (e === 0) continue;
    if (!(writers.callMin[e]! < call[i]!)) keep[i] = 0;
  }
  requireObservedWrites(work, writers);
  // An indeterminate write of a value nobody reads or expects only matters to a mismatch that is
  // still open after it was invoked; with none, it can be left out.
  const referenced = referencedValues(work);
  let mismatchRetMax = -Infinity;
  for (let i = 0; i < m; i++) {
    if (keep[i] === 1 && status[i] === outMismatch && ret[i]! > mismatchRetMax) mismatchRetMax = ret[i]!;
  }
  for (let i = 0; i < m; i++) {
    if (keep[i] === 0 || status[i] !== outInfo) continue;
    const x = writtenBy(work, i);
    if (x >= 0 && referenced[x] === 0 && !(call[i]! < mismatchRetMax)) keep[i] = 0;
  }
}

/**
 * An indeterminate operation that is the only writer of a value some ok operation observed must
 * have taken effect, before that observer returned: it becomes an ok operation with that deadline.
 * Repeated to a fixpoint, since a cas made ok observes its own expected value.
 */
function requireObservedWrites(work: Work, writers: Writers): void {
  const { m, status, ret, keep, f, a } = work;
  const deadline = new Float64Array(work.values.length);
  const touched: number[] = [];
  for (let changed = true; changed;) {
    changed = false;
    deadline.fill(Infinity);
    touched.length = 0;
    for (let i = 0; i < m; i++) {
      if (keep[i] === 0 || status[i] !== outOk || f[i] === fWrite) continue;
      // An ok read saw a; an ok cas expected a.
      const seen = a[i]!;
      if (seen === 0) continue;
      if (deadline[seen] === Infinity) touched.push(seen);
      if (ret[i]! < deadline[seen]!) deadline[seen] = ret[i]!;
    }
    for (const x of touched) {
      const only = writers.only[x]!;
      if (only < 0 || status[only] !== outInfo) continue;
      const r = deadline[x]!;
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

/** Per interned value: 1 when a kept read observes it or a kept cas expects it. */
function referencedValues(work: Work): Uint8Array {
  const referenced = new Uint8Array(work.values.length);
  const { m, keep, f, a } = work;
  for (let i = 0; i < m; i++) {
    if (keep[i] === 0 || f[i] === fWrite) continue;
    referenced[a[i]!] = 1;
  }
  return referenced;
}

function compile(key: string, work: Work, reduce: boolean): KvPartition {
  // Model value ids: absentId, freshId, then the values in first-use order.
  const modelId = new Int32Array(work.values.length).fill(-1);
  const values: (Value | null | undefined)[] = [null, undefined];
  const referenced = reduce ? referencedValues(work) : undefined;
  const intern = (x: number): number => {
    if (referenced && referenced[x] === 0) return freshId;
    if (x === 0) return absentId;
    let id = modelId[x]!;
    if (id < 0) {
      id = values.length;
      modelId[x] = id;
      values.push(work.values[x]!);
    }
    return id;
  };
  const initial = intern(0);
  const { m, status, ret, keep, f, a, b } = work;
  let kept = 0;
  for (let i = 0; i < m; i++) kept += keep[i]!;
  const ops: ModelOp<KvInput, KvOutput>[] = new Array(kept);
  let j = 0;
  for (let i = 0; i < m; i++) {
    if (keep[i] === 0) continue;
    const fi = f[i] as KvF;
    const input: KvInput = { f: fi, a: intern(a[i]!), b: fi === fCas ? intern(b[i]!) : 0 };
    const output = status[i] as KvOutput;
    ops[j++] = { id: work.id[i]!, call: work.call[i]!, ret: output === outInfo ? Infinity : ret[i]!, input, output };
  }
  const model = kvModel(initial);
  if (!reduce) return { key, model, ops, values };
  return {
    key,
    model,
    ops,
    values,
    groupPrev: groups(ops, values.length),
    classOf: classes(ops, values.length),
    hooks: uniqueValueHooks(ops, values.length, initial),
  };
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
  // With unique values nearly every input is alone: remember its first op, make a class on the second.
  const first = new Map<number, number>();
  let next = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.output !== outOk || op.input.f === fRead) continue;
    const k = inputKey(op.input, valueCount);
    const f = first.get(k);
    if (f === undefined) {
      first.set(k, i);
      continue;
    }
    if (classOf[f] === -1) classOf[f] = next++;
    classOf[i] = classOf[f]!;
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
