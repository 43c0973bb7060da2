import type { Model, ModelOp, SearchHooks } from './model.js';

/**
 * Wing & Gong's search with Lowe's memoization, as in Porcupine, plus reductions that never lose a
 * linearization (see README "Algorithm"):
 * - read-only operations are linearized eagerly (no branch) when callable and legal;
 * - an indeterminate operation is never linearized where it would not change the state;
 * - interchangeable indeterminate operations are linearized in call order only;
 * - the memo remembers, per (finite operations linearized, state), the sets of indeterminate
 *   operations used, and prunes a configuration that used a superset of one already visited;
 * - model hooks (SearchHooks) prune branches the model proves dead.
 *
 * The memo key of a configuration is bounded by the concurrency of the history, not its length: the
 * finite operations linearized are "all before the frontier F" plus the few after it (they must have
 * been called before F returned).
 */

export type SearchVerdict = 'ok' | 'illegal' | 'unknown';

export interface SearchOptions {
  /** Absolute time (Date.now()) after which the search gives up with `unknown`. */
  readonly deadlineMs?: number;
  /** The memo is cleared when it holds more entries than this: memory stays bounded, the search stays sound. */
  readonly cacheEntriesMax?: number;
  /** Ops of the partition that are interchangeable; see Partition.groupPrev. */
  readonly groupPrev?: Int32Array;
  readonly hooks?: SearchHooks<unknown>;
  /** Turns the reductions off (the plain Wing & Gong + Lowe search), for cross-checking in tests. */
  readonly plain?: boolean;
}

export interface SearchResult<S> {
  readonly verdict: SearchVerdict;
  /** `ok`: a linearization (indices into the input ops). Otherwise the longest linearizable prefix found. */
  readonly order: readonly number[];
  /** The operation that could not be placed after `order` (index into the input ops), or -1. */
  readonly blocker: number;
  /** The model state after `order`. */
  readonly state: S;
  /** Configurations visited. */
  readonly steps: number;
}

const cacheEntriesMaxDefault = 4_000_000;
const deadlineCheckSteps = 4096;

export function search<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly ModelOp<I, O>[],
  options: SearchOptions = {},
): SearchResult<S> {
  return new Search(model, ops, options).run();
}

class Search<S, I, O> {
  private readonly n: number;
  /** Sorted position → index into the caller's ops. */
  private readonly orig: Int32Array;
  private readonly sorted: ModelOp<I, O>[];
  private readonly finite: Uint8Array;
  private readonly readOnly: Uint8Array;
  private readonly groupPrev: Int32Array | undefined;
  private readonly hooks: SearchHooks<S> | undefined;
  private readonly plain: boolean;
  // The doubly linked list of call and return entries; entry 0 is the head sentinel.
  private readonly entOp: Int32Array;
  private readonly entRet: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly callEntry: Int32Array;
  private readonly retEntry: Int32Array;
  private readonly lin: Uint8Array;
  private readonly stackOp: Int32Array;
  private readonly stackForced: Uint8Array;
  private readonly stackState: S[] = [];
  private depth = 0;
  private frontier = 0;
  private finiteRemaining = 0;
  private infoUsed: number[] = [];
  private cache = new Map<string, true | number[][]>();
  private cacheSize = 0;

  constructor(
    private readonly model: Model<S, I, O>,
    ops: readonly ModelOp<I, O>[],
    private readonly options: SearchOptions,
  ) {
    const n = ops.length;
    this.n = n;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
    this.orig = Int32Array.from(order);
    this.sorted = order.map((i) => ops[i]!);
    const rank = new Int32Array(n);
    order.forEach((o, pos) => (rank[o] = pos));
    this.plain = options.plain === true;
    this.hooks = options.hooks as SearchHooks<S> | undefined;
    if (options.groupPrev && !this.plain) {
      const gp = new Int32Array(n);
      for (let pos = 0; pos < n; pos++) {
        const p = options.groupPrev[order[pos]!]!;
        gp[pos] = p < 0 ? -1 : rank[p]!;
      }
      this.groupPrev = gp;
    }
    this.finite = new Uint8Array(n);
    this.readOnly = new Uint8Array(n);
    const events: { t: number; op: number; ret: boolean }[] = [];
    for (let pos = 0; pos < n; pos++) {
      const op = this.sorted[pos]!;
      events.push({ t: op.call, op: pos, ret: false });
      if (Number.isFinite(op.ret)) {
        this.finite[pos] = 1;
        this.finiteRemaining++;
        events.push({ t: op.ret, op: pos, ret: true });
      }
      if (!this.plain && model.isReadOnly?.(op.input, op.output)) this.readOnly[pos] = 1;
    }
    // Ties: a return before a call at the same instant keeps real-time order strict.
    events.sort((a, b) => a.t - b.t || Number(b.ret) - Number(a.ret) || a.op - b.op);
    const entries = events.length;
    this.entOp = new Int32Array(entries + 1);
    this.entRet = new Uint8Array(entries + 1);
    this.next = new Int32Array(entries + 1);
    this.prev = new Int32Array(entries + 1);
    this.callEntry = new Int32Array(n);
    this.retEntry = new Int32Array(n).fill(-1);
    for (let k = 0; k < entries; k++) {
      const e = events[k]!;
      const idx = k + 1;
      this.entOp[idx] = e.op;
      this.entRet[idx] = e.ret ? 1 : 0;
      if (e.ret) this.retEntry[e.op] = idx;
      else this.callEntry[e.op] = idx;
    }
    for (let idx = 0; idx <= entries; idx++) {
      this.next[idx] = idx + 1 <= entries ? idx + 1 : -1;
      this.prev[idx] = idx - 1;
    }
    this.lin = new Uint8Array(n);
    this.stackOp = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
  }

  run(): SearchResult<S> {
    const { model } = this;
    const deadline = this.options.deadlineMs ?? Infinity;
    const cacheMax = this.options.cacheEntriesMax ?? cacheEntriesMaxDefault;
    let state = model.init();
    let steps = 0;
    let best: number[] = [];
    let bestBlocker = -1;
    let bestState = state;
    let entry = -1;
    let fresh = true;

    for (;;) {
      if (fresh) {
        fresh = false;
        if (this.finiteRemaining === 0) {
          return { verdict: 'ok', order: this.currentOrder(), blocker: -1, state, steps };
        }
        if ((++steps & (deadlineCheckSteps - 1)) === 0 && Date.now() > deadline) {
          return this.unknown(best, bestBlocker, bestState, steps);
        }
        const forced = this.plain ? -1 : this.findForced(state);
        if (forced >= 0) {
          this.push(forced, 1, state);
          if (this.seen(state, cacheMax)) {
            state = this.pop();
            const back = this.backtrack();
            if (back === undefined) return this.illegal(best, bestBlocker, bestState, steps);
            state = back.state;
            entry = back.entry;
          } else {
            fresh = true;
          }
          continue;
        }
        entry = this.next[0]!;
      }
      if (entry < 0) throw new Error('search: ran off the list while finite operations remain');
      if (this.entRet[entry] === 1) {
        // An operation that must already be linearized is not: this configuration is dead.
        if (this.depth > best.length || bestBlocker < 0) {
          best = this.currentOrder();
          bestBlocker = this.orig[this.entOp[entry]!]!;
          bestState = state;
        }
        const back = this.backtrack();
        if (back === undefined) return this.illegal(best, bestBlocker, bestState, steps);
        state = back.state;
        entry = back.entry;
        continue;
      }
      const pos = this.entOp[entry]!;
      const nextState = this.tryStep(pos, state);
      if (nextState === undefined) {
        entry = this.next[entry]!;
        continue;
      }
      this.push(pos, 0, state);
      if (this.seen(nextState, cacheMax)) {
        state = this.pop();
        entry = this.next[entry]!;
        continue;
      }
      state = nextState;
      fresh = true;
    }
  }

  /** The state after linearizing `pos` now, or undefined when that is illegal or pruned. */
  private tryStep(pos: number, state: S): S | undefined {
    const op = this.sorted[pos]!;
    const indeterminate = this.finite[pos] === 0;
    if (this.readOnly[pos] === 1) return undefined; // legal read-only ops were forced already
    if (indeterminate && this.groupPrev && this.groupPrev[pos]! >= 0 && this.lin[this.groupPrev[pos]!] === 0) {
      return undefined;
    }
    const next = this.model.step(state, op.input, op.output);
    if (next === undefined) return undefined;
    if (!this.plain) {
      if (indeterminate && this.model.equal(next, state)) return undefined;
      if (this.hooks && !this.hooks.allow(this.orig[pos]!, state, next)) return undefined;
    }
    return next;
  }

  /** A callable read-only operation that is legal in `state`, or -1. */
  private findForced(state: S): number {
    for (let e = this.next[0]!; e >= 0 && this.entRet[e] === 0; e = this.next[e]!) {
      const pos = this.entOp[e]!;
      if (this.readOnly[pos] === 0) continue;
      const op = this.sorted[pos]!;
      const next = this.model.step(state, op.input, op.output);
      if (next === undefined) continue;
      if (this.hooks && !this.hooks.allow(this.orig[pos]!, state, next)) continue;
      return pos;
    }
    return -1;
  }

  private push(pos: number, forced: number, state: S): void {
    this.stackOp[this.depth] = pos;
    this.stackForced[this.depth] = forced;
    this.stackState[this.depth] = state;
    this.depth++;
    this.lift(pos);
  }

  /** Undoes the top of the stack; returns the state before it. */
  private pop(): S {
    this.depth--;
    const pos = this.stackOp[this.depth]!;
    this.unlift(pos);
    return this.stackState[this.depth]!;
  }

  /** Pops to the last branch point; returns where to resume, or undefined when the stack is empty. */
  private backtrack(): { state: S; entry: number } | undefined {
    for (;;) {
      if (this.depth === 0) return undefined;
      const forced = this.stackForced[this.depth - 1] === 1;
      const pos = this.stackOp[this.depth - 1]!;
      const state = this.pop();
      if (!forced) return { state, entry: this.next[this.callEntry[pos]!]! };
    }
  }

  private lift(pos: number): void {
    const { next, prev } = this;
    const c = this.callEntry[pos]!;
    next[prev[c]!] = next[c]!;
    if (next[c]! >= 0) prev[next[c]!] = prev[c]!;
    const r = this.retEntry[pos]!;
    if (r >= 0) {
      next[prev[r]!] = next[r]!;
      if (next[r]! >= 0) prev[next[r]!] = prev[r]!;
    }
    this.lin[pos] = 1;
    if (this.finite[pos] === 1) {
      this.finiteRemaining--;
      if (pos === this.frontier) this.advanceFrontier();
    } else {
      this.infoUsed.push(pos);
    }
    this.hooks?.linearized(this.orig[pos]!);
  }

  private unlift(pos: number): void {
    const { next, prev } = this;
    // Reverse order of lift: the return entry was removed last.
    const r = this.retEntry[pos]!;
    if (r >= 0) {
      if (next[r]! >= 0) prev[next[r]!] = r;
      next[prev[r]!] = r;
    }
    const c = this.callEntry[pos]!;
    if (next[c]! >= 0) prev[next[c]!] = c;
    next[prev[c]!] = c;
    this.lin[pos] = 0;
    if (this.finite[pos] === 1) {
      this.finiteRemaining++;
      if (pos < this.frontier) this.frontier = pos;
    } else {
      const i = this.infoUsed.lastIndexOf(pos);
      this.infoUsed.splice(i, 1);
    }
    this.hooks?.undone(this.orig[pos]!);
  }

  private advanceFrontier(): void {
    while (this.frontier < this.n && (this.lin[this.frontier] === 1 || this.finite[this.frontier] === 0)) {
      this.frontier++;
    }
  }

  /**
   * Records the current configuration (after a step to `state`) in the memo; true when it, or one
   * that dominates it, was visited before.
   */
  private seen(state: S, cacheMax: number): boolean {
    let key = this.finiteKey() + '|' + this.model.hash(state);
    const used = this.infoUsed.length === 0 ? undefined : [...this.infoUsed].sort((a, b) => a - b);
    if (this.plain && used !== undefined) key += '|' + used.join(',');
    const prior = this.cache.get(key);
    if (prior === true) return true;
    if (prior !== undefined) {
      // Only reached without `plain`: the sets of indeterminate ops used with this key so far.
      if (used === undefined) {
        this.cache.set(key, true);
        return false;
      }
      for (const p of prior) if (isSubset(p, used)) return true;
      prior.push(used);
      this.cacheSize++;
      return false;
    }
    if (this.cacheSize >= cacheMax) {
      this.cache = new Map();
      this.cacheSize = 0;
    }
    this.cache.set(key, used === undefined || this.plain ? true : [used]);
    this.cacheSize++;
    return false;
  }

  /** The set of finite operations linearized, as frontier + the linearized ones called before it returns. */
  private finiteKey(): string {
    const f = this.frontier;
    if (f >= this.n) return 'all';
    let key = String(f);
    const limit = this.sorted[f]!.ret;
    for (let j = f + 1; j < this.n && this.sorted[j]!.call <= limit; j++) {
      if (this.lin[j] === 1 && this.finite[j] === 1) key += ',' + (j - f);
    }
    return key;
  }

  private currentOrder(): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.depth; d++) out.push(this.orig[this.stackOp[d]!]!);
    return out;
  }

  private illegal(best: number[], blocker: number, state: S, steps: number): SearchResult<S> {
    return { verdict: 'illegal', order: best, blocker, state, steps };
  }

  private unknown(best: number[], blocker: number, state: S, steps: number): SearchResult<S> {
    return { verdict: 'unknown', order: best, blocker, state, steps };
  }
}

function isSubset(small: readonly number[], big: readonly number[]): boolean {
  if (small.length > big.length) return false;
  let j = 0;
  for (const x of small) {
    while (j < big.length && big[j]! < x) j++;
    if (j === big.length || big[j] !== x) return false;
    j++;
  }
  return true;
}

