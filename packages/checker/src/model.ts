/**
 * A model of a sequential object, as Porcupine shapes it: `init`, a pure `step`, `equal`, and a
 * `partition` that splits a history into pieces that can be checked independently. The search
 * (search.ts) knows nothing else about the object, so a set, a counter or a queue is one more model.
 */

/** An operation as the search sees it. `ret` is Infinity when the operation may take effect any
 * time after `call`, or never (an indeterminate result). `call` and `ret` only need to be ordered. */
export interface ModelOp<I, O> {
  /** The id of the source operation, for reports. */
  readonly id: number;
  readonly call: number;
  readonly ret: number;
  readonly input: I;
  readonly output: O;
}

export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** The state after applying the operation, or undefined when the output is impossible from `state`. Pure. */
  step(state: S, input: I, output: O): S | undefined;
  equal(a: S, b: S): boolean;
  /** Equal states must hash equal; the memo cache keys on it. */
  hash(state: S): string | number;
  /**
   * True when `step` never changes the state (a read). The search then linearizes such an operation
   * as soon as it is both callable and legal, without branching: any linearization that places it later
   * can move it forward without changing any other step.
   */
  isReadOnly?(input: I, output: O): boolean;
}

/** A piece of a history that is checked on its own (for the key-value model: one key). */
export interface Partition<S, I, O> {
  readonly key: string;
  readonly model: Model<S, I, O>;
  readonly ops: readonly ModelOp<I, O>[];
  /** Model-specific pruning; see SearchHooks. */
  readonly hooks?: SearchHooks<S>;
  /** Operations of `ops` that are interchangeable (same input and output, both indeterminate):
   * `groupPrev[i]` is the previous member of op i's group in call order, or -1. */
  readonly groupPrev?: Int32Array;
  /** Finite operations with the same input and output (and so interchangeable up to their intervals)
   * share a class id >= 0; -1 for the others. */
  readonly classOf?: Int32Array;
}

/**
 * Sound, model-specific pruning. `allow` may reject a step only when no linearization of the
 * remaining operations starts with it, or when a linearization that avoids it exists whenever one
 * that uses it does. `linearized` / `undone` keep the hook's counters in step with the search.
 */
export interface SearchHooks<S> {
  allow(op: number, state: S, next: S): boolean;
  linearized(op: number): void;
  undone(op: number): void;
}
