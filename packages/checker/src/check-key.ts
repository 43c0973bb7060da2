import type { Operation } from './history.js';
import { prepareKey } from './kv-partition.js';
import { search } from './search.js';
import { buildWitness, type Witness } from './witness.js';

/** The verdict on one key. */
export interface KeyResult {
  readonly key: string;
  readonly valid: true | false | 'unknown';
  /** Operations on the key, as read (before any reduction). */
  readonly ops: number;
  /** Configurations the search visited. */
  readonly steps: number;
  readonly ms: number;
  readonly witness?: Witness;
}

export interface KeyCheckOptions {
  /** Date.now() after which the key is `unknown`. */
  readonly deadlineMs?: number;
  /** False turns off every reduction (the plain Wing & Gong + Lowe search). */
  readonly reduce?: boolean;
  readonly cacheEntriesMax?: number;
}

/** Checks one key's operations (all with this key), synchronously. */
export function checkKey(key: string, ops: readonly Operation[], options: KeyCheckOptions = {}): KeyResult {
  const started = performance.now();
  const part = prepareKey(key, ops, options.reduce ?? true);
  const result = search(part.model, part.ops, {
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.cacheEntriesMax !== undefined ? { cacheEntriesMax: options.cacheEntriesMax } : {}),
    ...(part.groupPrev ? { groupPrev: part.groupPrev } : {}),
    ...(part.hooks ? { hooks: part.hooks as never } : {}),
    plain: options.reduce === false,
  });
  const ms = performance.now() - started;
  const base = { key, ops: ops.length, steps: result.steps, ms };
  if (result.verdict === 'ok') return { ...base, valid: true };
  if (result.verdict === 'unknown') return { ...base, valid: 'unknown' };
  const byId = new Map(ops.map((op) => [op.id, op]));
  const prefix = result.order.map((i) => part.ops[i]!.id);
  const blocked = result.blocker >= 0 ? part.ops[result.blocker]!.id : -1;
  return { ...base, valid: false, witness: buildWitness(key, byId, prefix, blocked) };
}
