import type { Operation } from './history.js';
import { prepareRows } from './kv-partition.js';
import { tableFromOperations, type OpTable } from './op-table.js';
import { search } from './search.js';
import { buildWitness, describeOperation, show, type Witness } from './witness.js';
import { zoneCheck, type ZoneConflict } from './zone-check.js';

/** The verdict on one key. */
export interface KeyResult {
  readonly key: string;
  readonly valid: true | false | 'unknown';
  /** Operations on the key, as read (before any reduction). */
  readonly ops: number;
  /** Configurations the search visited. */
  readonly steps: number;
  readonly ms: number;
  /** How the verdict was reached: `zones` (without search, see zone-check.ts) or `search`. */
  readonly decidedBy: 'zones' | 'search';
  /** True when a worker thread checked the key. */
  readonly worker?: boolean;
  readonly witness?: Witness;
}

/**
 * A verdict before it is explained: operation ids only, so a worker thread can reach it without
 * the operations themselves and the thread that has them writes the witness.
 */
export interface KeyDecision extends Omit<KeyResult, 'witness'> {
  /** Not linearizable: the longest linearizable prefix found, as operation ids. */
  readonly prefix?: readonly number[];
  /** Not linearizable: the operation that could not be placed after `prefix`, or -1. */
  readonly blocked?: number;
  /** Decided by the zones: the culprit and the operations that prove it, as ids. */
  readonly conflict?: { readonly culprit: number; readonly evidence: readonly number[]; readonly reason: string };
}

export interface KeyCheckOptions {
  /** Date.now() after which the key is `unknown`. */
  readonly deadlineMs?: number;
  /** False turns off every reduction and the zone check (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
  readonly cacheEntriesMax?: number;
  /** See SearchOptions.firstPassStepsMax (tests set 0 to exercise the memo search on small keys). */
  readonly firstPassStepsMax?: number;
  /** See SearchOptions.searchStepsMax: past it the key is `unknown`, the same on every machine. */
  readonly searchStepsMax?: number;
}

/** Checks one key's operations (all with this key), synchronously. */
export function checkKey(key: string, ops: readonly Operation[], options: KeyCheckOptions = {}): KeyResult {
  const byId = new Map(ops.map((op) => [op.id, op]));
  const decision = decideKey(key, tableFromOperations(ops), Int32Array.from(ops.keys()), options);
  return explainKey(decision, (id) => byId.get(id)!);
}

/** Decides one key: the rows `rows` of `table` (all with this key, in row order). */
export function decideKey(key: string, table: OpTable, rows: Int32Array, options: KeyCheckOptions = {}): KeyDecision {
  const started = performance.now();
  const reduce = options.reduce ?? true;
  const part = prepareRows(key, table, rows, reduce);
  const describeValue = (v: number): string => `value ${show(part.values[v] ?? null)}`;
  // The zone check runs only when the search's first pass does not linearize the key. When the
  // zones prove it wrong, the search goes no further: the first pass's prefix is the witness (as
  // long as what 250 ms more of search found, on the bench histories).
  let conflict: ZoneConflict | undefined;
  const checkZones = (): boolean => {
    conflict = zoneCheck(part.ops, part.values.length, part.model.init(), describeValue);
    return conflict === undefined;
  };
  const result = search(part.model, part.ops, {
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.cacheEntriesMax !== undefined ? { cacheEntriesMax: options.cacheEntriesMax } : {}),
    ...(options.firstPassStepsMax !== undefined ? { firstPassStepsMax: options.firstPassStepsMax } : {}),
    ...(options.searchStepsMax !== undefined ? { searchStepsMax: options.searchStepsMax } : {}),
    ...(part.groupPrev ? { groupPrev: part.groupPrev } : {}),
    ...(part.classOf ? { classOf: part.classOf } : {}),
    ...(part.hooks ? { hooks: part.hooks as never } : {}),
    ...(reduce ? { beforeFullSearch: checkZones } : {}),
    plain: !reduce,
  });
  const ms = performance.now() - started;
  const base = { key, ops: rows.length, steps: result.steps, ms };
  if (result.verdict === 'ok') {
    if (conflict) throw new Error(`checker bug: key ${key} has a zone conflict and a linearization`);
    return { ...base, valid: true, decidedBy: 'search' };
  }
  if (result.verdict === 'unknown' && !conflict) return { ...base, valid: 'unknown', decidedBy: 'search' };
  const prefix = result.order.map((i) => part.ops[i]!.id);
  const blocked = result.blocker >= 0 ? part.ops[result.blocker]!.id : -1;
  if (!conflict) return { ...base, valid: false, decidedBy: 'search', prefix, blocked };
  const idOf = (i: number): number => part.ops[i]!.id;
  return {
    ...base,
    valid: false,
    decidedBy: 'zones',
    prefix,
    blocked,
    conflict: { culprit: idOf(conflict.culprit), evidence: conflict.evidence.map(idOf), reason: conflict.reason },
  };
}

/** Turns a decision into a result with a witness a person can follow. */
export function explainKey(d: KeyDecision, operation: (id: number) => Operation): KeyResult {
  const { prefix, blocked, conflict, ...result } = d;
  if (d.valid !== false) return result;
  const byId = { get: operation };
  const witness = buildWitness(d.key, byId, prefix!, blocked!);
  if (!conflict) return { ...result, witness };
  // Decided by the zones; the prefix is what the (short) search found.
  const evidence = conflict.evidence.map((id) => describeOperation(operation(id))).join('; ');
  const message =
    `key ${JSON.stringify(d.key)}: ${describeOperation(operation(conflict.culprit))} cannot be placed: ${conflict.reason}` +
    (evidence ? ` (see ${evidence})` : '') +
    `. ${witness.message}`;
  return { ...result, witness: { ...witness, blocked: witness.blocked ?? conflict.culprit, message } };
}
