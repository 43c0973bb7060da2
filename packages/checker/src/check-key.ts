import type { Operation } from './history.js';
import { prepareKey } from './kv-partition.js';
import { search } from './search.js';
import { buildWitness, describeOperation, show, type Witness } from './witness.js';
import { zoneCheck } from './zone-check.js';

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

export interface KeyCheckOptions {
  /** Date.now() after which the key is `unknown`. */
  readonly deadlineMs?: number;
  /** False turns off every reduction and the zone check (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
  readonly cacheEntriesMax?: number;
}

/** When the zone check already proved a key wrong, the search only looks this long for a prefix to show. */
const witnessSearchMs = 250;

/** Checks one key's operations (all with this key), synchronously. */
export function checkKey(key: string, ops: readonly Operation[], options: KeyCheckOptions = {}): KeyResult {
  const started = performance.now();
  const reduce = options.reduce ?? true;
  const part = prepareKey(key, ops, reduce);
  const describeValue = (v: number): string => `value ${show(part.values[v] ?? null)}`;
  const conflict = reduce ? zoneCheck(part.ops, part.values.length, part.model.init(), describeValue) : undefined;
  let deadlineMs = options.deadlineMs;
  if (conflict) deadlineMs = Math.min(deadlineMs ?? Infinity, Date.now() + witnessSearchMs);
  const result = search(part.model, part.ops, {
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(options.cacheEntriesMax !== undefined ? { cacheEntriesMax: options.cacheEntriesMax } : {}),
    ...(part.groupPrev ? { groupPrev: part.groupPrev } : {}),
    ...(part.classOf ? { classOf: part.classOf } : {}),
    ...(part.hooks ? { hooks: part.hooks as never } : {}),
    plain: !reduce,
  });
  const ms = performance.now() - started;
  const base = { key, ops: ops.length, steps: result.steps, ms };
  if (result.verdict === 'ok') {
    if (conflict) throw new Error(`checker bug: key ${key} has a zone conflict and a linearization`);
    return { ...base, valid: true, decidedBy: 'search' };
  }
  if (result.verdict === 'unknown' && !conflict) return { ...base, valid: 'unknown', decidedBy: 'search' };
  const byId = new Map(ops.map((op) => [op.id, op]));
  const prefix = result.order.map((i) => part.ops[i]!.id);
  const blocked = result.blocker >= 0 ? part.ops[result.blocker]!.id : -1;
  const witness = buildWitness(key, byId, prefix, blocked);
  if (!conflict) return { ...base, valid: false, decidedBy: 'search', witness };
  // Decided by the zones; the prefix is what the (short) search found.
  const culprit = part.ops[conflict.culprit]!.id;
  const evidence = conflict.evidence.map((i) => describeOperation(byId.get(part.ops[i]!.id)!)).join('; ');
  const message = `key ${JSON.stringify(key)}: ${describeOperation(byId.get(culprit)!)} cannot be placed: ${conflict.reason}` +
    (evidence ? ` (see ${evidence})` : '') + `. ${witness.message}`;
  return { ...base, valid: false, decidedBy: 'zones', witness: { ...witness, blocked: witness.blocked ?? culprit, message } };
}
