import type { Model } from './model.js';

/**
 * The key-value register model for one key, on interned values (kv-partition.ts maps each value of
 * the key to a small integer). State: the id of the current value.
 */

export const fRead = 0;
export const fWrite = 1;
export const fCas = 2;
/**
 * A delete's code in the event columns and the OpTable. It never reaches the model: the partition
 * (kv-partition.ts) turns a delete into a write of absentId, which is exactly what it does to the
 * register (afterwards a read sees absent and a cas expecting absent matches), so the model, the
 * reductions and the zone check need no case of their own for it.
 */
export const fDelete = 3;
/** The functions the model steps; a delete arrives as fWrite of absentId. */
export type KvF = typeof fRead | typeof fWrite | typeof fCas;

export const outOk = 0;
/** Indeterminate: may take effect any time after its call, or never. */
export const outInfo = 1;
/** A cas that failed with "cas-mismatch": the value was not `a` at some instant of the operation. */
export const outMismatch = 2;
export type KvOutput = typeof outOk | typeof outInfo | typeof outMismatch;

/** read: `a` = value read. write: `a` = value written (absentId for a delete). cas: `a` = expected, `b` = new. */
export interface KvInput {
  readonly f: KvF;
  readonly a: number;
  readonly b: number;
}

/** Value id of "absent" (null). */
export const absentId = 0;
/** Value id shared by every value that no operation reads or expects: they are indistinguishable. */
export const freshId = 1;

export function kvModel(initial: number): Model<number, KvInput, KvOutput> {
  return {
    name: 'kv-register',
    init: () => initial,
    step: kvStep,
    equal: (x, y) => x === y,
    hash: (s) => s,
    isReadOnly: (input, output) => input.f === fRead || output === outMismatch,
  };
}

export function kvStep(state: number, input: KvInput, output: KvOutput): number | undefined {
  switch (input.f) {
    case fRead:
      // Only ok reads reach the model: an indeterminate read constrains nothing.
      return state === input.a ? state : undefined;
    case fWrite:
      return input.a;
    default:
      if (output === outOk) return state === input.a ? input.b : undefined;
      if (output === outMismatch) return state !== input.a ? state : undefined;
      // Indeterminate cas that takes effect now: it applies if the value matches, else changes nothing.
      return state === input.a ? input.b : state;
  }
}
