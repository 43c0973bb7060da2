import type { History, OpStatus, Operation, Value } from './history.js';
import { fCas, fDelete, fRead, fWrite } from './kv-model.js';

/** Status codes of an OpTable row: the kv model's outputs (outOk, outInfo, outMismatch), then `fail`. */
export const rowOk = 0;
export const rowInfo = 1;
export const rowMismatch = 2;
export const rowFail = 3;
/** Row status code → Operation.status, and back. */
export const statusOfRow: readonly OpStatus[] = ['ok', 'info', 'mismatch', 'fail'];
const rowOfStatus: Readonly<Record<OpStatus, number>> = { ok: rowOk, info: rowInfo, mismatch: rowMismatch, fail: rowFail };

/**
 * The operations of a history as columns, one row per operation, in the order of
 * `History.operations`: what the check reads. A 100,000-operation history is then a dozen arrays,
 * not 100,000 objects to build, walk and collect; an Operation object is built only for a report
 * or a witness. Plain arrays and typed arrays only, so a share of it crosses to a worker thread as
 * a structured clone.
 */
export interface OpTable {
  readonly length: number;
  /** Operation.id of each row. */
  readonly id: Float64Array;
  /** Index into `keys`. */
  readonly key: Int32Array;
  readonly keys: readonly string[];
  /** fRead, fWrite, fCas or fDelete (kv-model.ts). */
  readonly f: Uint8Array;
  /** rowOk, rowInfo, rowMismatch or rowFail. */
  readonly status: Uint8Array;
  /** read: the value read when ok (else null); write: the value; cas: the expected value; delete: null. */
  readonly a: (Value | null)[];
  /** cas: the new value; null otherwise. */
  readonly b: (Value | null)[];
  /** Operation.call and Operation.ret (Infinity for an indeterminate operation). */
  readonly call: Float64Array;
  readonly ret: Float64Array;
}

/** Set by the reader on the histories it builds: their table, made while reading. */
export const tableOf: unique symbol = Symbol('kvapp.opTable');

/** The table of a history: the reader's own, or one built from `operations` (any History will do). */
export function opTableOf(history: History): OpTable {
  const own = (history as { [tableOf]?: OpTable })[tableOf];
  return own ?? tableFromOperations(history.operations);
}

export function tableFromOperations(ops: readonly Operation[]): OpTable {
  const n = ops.length;
  const table = emptyTable(n);
  const keySlot = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const op = ops[r]!;
    let k = keySlot.get(op.key);
    if (k === undefined) {
      k = table.keys.length;
      keySlot.set(op.key, k);
      table.keys.push(op.key);
    }
    table.id[r] = op.id;
    table.key[r] = k;
    table.status[r] = rowOfStatus[op.status];
    table.call[r] = op.call;
    table.ret[r] = op.ret;
    if (op.f === 'read') {
      table.f[r] = fRead;
      table.a[r] = op.output;
    } else if (op.f === 'write') {
      table.f[r] = fWrite;
      table.a[r] = op.input as Value;
    } else if (op.f === 'delete') {
      table.f[r] = fDelete;
    } else {
      const [expected, next] = op.input as readonly [Value | null, Value];
      table.f[r] = fCas;
      table.a[r] = expected;
      table.b[r] = next;
    }
  }
  return table;
}

export interface MutableOpTable extends OpTable {
  readonly keys: string[];
}

export function emptyTable(n: number): MutableOpTable {
  return {
    length: n,
    id: new Float64Array(n),
    key: new Int32Array(n),
    keys: [],
    f: new Uint8Array(n),
    status: new Uint8Array(n),
    a: new Array<Value | null>(n).fill(null),
    b: new Array<Value | null>(n).fill(null),
    call: new Float64Array(n),
    ret: new Float64Array(n),
  };
}

/** The rows of each key (indices into `keys`), in row order: a counting sort, no map of lists. */
export function rowsByKey(table: OpTable): Int32Array[] {
  const counts = new Int32Array(table.keys.length);
  for (let r = 0; r < table.length; r++) counts[table.key[r]!]!++;
  const rows = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(table.keys.length);
  for (let r = 0; r < table.length; r++) {
    const k = table.key[r]!;
    rows[k]![fill[k]!++] = r;
  }
  return rows;
}

/** The rows `rows` (of any keys) as a table of their own, e.g. for a worker thread. */
export function subTable(table: OpTable, rows: Int32Array): OpTable {
  const n = rows.length;
  const sub = emptyTable(n);
  const keySlot = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const k0 = table.key[r]!;
    let k = keySlot.get(k0);
    if (k === undefined) {
      k = sub.keys.length;
      keySlot.set(k0, k);
      sub.keys.push(table.keys[k0]!);
    }
    sub.id[i] = table.id[r]!;
    sub.key[i] = k;
    sub.f[i] = table.f[r]!;
    sub.status[i] = table.status[r]!;
    sub.a[i] = table.a[r]!;
    sub.b[i] = table.b[r]!;
    sub.call[i] = table.call[r]!;
    sub.ret[i] = table.ret[r]!;
  }
  return sub;
}
