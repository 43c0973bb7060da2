import { ConfigMemo, mix32 } from './config-memo.js';
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
 * The memo (config-memo.ts) stores a configuration in a form bounded by the concurrency of the history, not its length: the
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
  /** Finite ops with the same input and output share a class id (>= 0); see Partition.classOf. */
  readonly classOf?: Int32Array;
  readonly hooks?: SearchHooks<unknown>;
  /** Turns the reductions off (the plain Wing & Gong + Lowe search), for cross-checking in tests. */
  readonly plain?: boolean;
  /**
   * Called once if the quick first pass (see Search.run) does not find a linearization; false
   * stops there, with the first pass's longest prefix as the answer (verdict `unknown` unless the
   * pass proved `illegal`). The checker runs its zone check here: a key that linearizes at once
   * never needs it, and one the zones prove wrong needs no further search.
   */
  readonly beforeFullSearch?: () => boolean;
  /** Steps the first pass (without the memo) may take; default 2n + 1,000. 0 starts with the memo. */
  readonly firstPassStepsMax?: number;
  /**
   * Steps (configurations visited, the first pass included) the whole search may take; past it
   * the verdict is `unknown`. Unlike `deadlineMs`, the same history gets the same verdict on any
   * machine at any load: a simulator that promises one result per seed bounds its check by this.
   */
  readonly searchStepsMax?: number;
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

export function search<S, I, O>(model: Model<S, I, O>, ops: readonly ModelOp<I, O>[], options: SearchOptions = {}): SearchResult<S> {
  return new Search(model, ops, options).run();
}

/** Positions with a finite return, ordered by return (ties by position). */
function byReturn(rets: readonly number[], retAt: Float64Array): ArrayLike<number> {
  // Returns are event positions, less a multiple of 1/4096 where the reductions tightened one: as
  // long as ret * 4096 * 2^21 + pos stays an exact double, one native numeric sort of those keys does it.
  const packed = new Float64Array(rets.length);
  for (let i = 0; i < rets.length; i++) {
    const pos = rets[i]!;
    const scaled = retAt[pos]! * 4096;
    if (!Number.isInteger(scaled) || scaled < 0 || scaled >= 2 ** 32 || pos >= 2 ** 21) {
      // Returns come nearly in call order: Array sort (TimSort) takes such runs in linear time.
      return [...rets].sort((a, b) => retAt[a]! - retAt[b]! || a - b);
    }
    packed[i] = scaled * 2 ** 21 + pos;
  }
  packed.sort();
  const order = new Int32Array(rets.length);
  for (let i = 0; i < rets.length; i++) order[i] = packed[i]! % 2 ** 21;
  return order;
}

/**
 * Where to resume trying operations at a configuration: an entry of the list of finite operations
 * (>= 1), or, once that list reached a return entry, the k-th indeterminate operation (encoded -1 - k).
 * Indeterminate operations are tried last, so the memo first meets a configuration without them and
 * then prunes the same configuration reached by using some.
 */
type Resume = number;

class Search<S, I, O> {
  private readonly n: number;
  /** Sorted position → index into the caller's ops. */
  private readonly orig: Int32Array;
  private readonly sorted: readonly ModelOp<I, O>[];
  private readonly callAt: Float64Array;
  private readonly retAt: Float64Array;
  private readonly finite: Uint8Array;
  private readonly readOnly: Uint8Array;
  /** Positions of the indeterminate operations, in call order. */
  private readonly infoPos: Int32Array;
  private readonly groupPrev: Int32Array | undefined;
  private readonly classOf: Int32Array | undefined;
  /** Per class: the member chosen in the current configuration, valid when classStamp matches. */
  private readonly classBest: Int32Array;
  private readonly classStamp: Int32Array;
  private configStamp = 1;
  private readonly hooks: SearchHooks<S> | undefined;
  private readonly plain: boolean;
  // The doubly linked list of call and return entries of finite operations; entry 0 is the head.
  private readonly entOp: Int32Array;
  private readonly entRet: Uint8Array;
  private readonly entTime: Float64Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly callEntry: Int32Array;
  private readonly retEntry: Int32Array;
  private readonly lin: Uint8Array;
  // The stack of linearized operations.
  private readonly stackOp: Int32Array;
  private readonly stackForced: Uint8Array;
  private readonly stackResume: Int32Array;
  private readonly stackState: S[] = [];
  private depth = 0;
  // The longest prefix: bestOrder[i] for i >= bestLazy is stored; below it, it is still stackOp[i].
  private readonly bestOrder: Int32Array;
  private bestLen = -1;
  private bestLazy = 0;
  private bestBlocker = -1;
  private bestState: S | undefined;
  private frontier = 0;
  private finiteRemaining = 0;
  /** The indeterminate operations linearized, kept sorted (the memo compares them as sorted sets). */
  private infoUsed: number[] = [];
  /** Per position: its two 32-bit codes; the hashes of the finite set linearized are their XOR. */
  private readonly code1: Int32Array;
  private readonly code2: Int32Array;
  private h1 = 0;
  private h2 = 0;
  private linCount = 0;

  constructor(
    private readonly model: Model<S, I, O>,
    ops: readonly ModelOp<I, O>[],
    private readonly options: SearchOptions,
  ) {
    const n = ops.length;
    this.n = n;
    // Partitions usually hand the ops over in call order already: then no sort is needed.
    let inCallOrder = true;
    for (let i = 1; i < n && inCallOrder; i++) if (ops[i]!.call < ops[i - 1]!.call) inCallOrder = false;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (!inCallOrder) order.sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
    this.orig = order;
    this.sorted = inCallOrder ? ops : Array.from(order, (i) => ops[i]!);
    const rank = new Int32Array(n);
    for (let pos = 0; pos < n; pos++) rank[order[pos]!] = pos;
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
    let classes = 0;
    if (options.classOf && !this.plain) {
      const co = new Int32Array(n);
      for (let pos = 0; pos < n; pos++) {
        co[pos] = options.classOf[order[pos]!]!;
        classes = Math.max(classes, co[pos]! + 1);
      }
      this.classOf = co;
    }
    this.classBest = new Int32Array(classes);
    this.classStamp = new Int32Array(classes);
    this.callAt = new Float64Array(n);
    this.retAt = new Float64Array(n);
    for (let pos = 0; pos < n; pos++) {
      this.callAt[pos] = this.sorted[pos]!.call;
      this.retAt[pos] = this.sorted[pos]!.ret;
    }
    this.finite = new Uint8Array(n);
    this.readOnly = new Uint8Array(n);
    const info: number[] = [];
    const rets: number[] = [];
    for (let pos = 0; pos < n; pos++) {
      const op = this.sorted[pos]!;
      if (Number.isFinite(op.ret)) {
        this.finite[pos] = 1;
        this.finiteRemaining++;
        rets.push(pos);
      } else {
        info.push(pos);
      }
      if (!this.plain && model.isReadOnly?.(op.input, op.output)) this.readOnly[pos] = 1;
    }
    this.infoPos = Int32Array.from(info);
    const { callAt, retAt } = this;
    const retOrder = byReturn(rets, retAt);
    const entries = rets.length * 2;
    this.entOp = new Int32Array(entries + 1);
    this.entRet = new Uint8Array(entries + 1);
    this.entTime = new Float64Array(entries + 1);
    this.next = new Int32Array(entries + 1);
    this.prev = new Int32Array(entries + 1);
    this.callEntry = new Int32Array(n).fill(-1);
    this.retEntry = new Int32Array(n).fill(-1);
    // Merge the calls (already in position order, which is call order) with the returns sorted by
    // time. Ties: a return before a call at the same instant keeps real-time order strict; then by
    // position.
    let c = 0;
    let r = 0;
    for (let idx = 1; idx <= entries; idx++) {
      while (c < n && this.finite[c] === 0) c++;
      const takeRet = c >= n || (r < retOrder.length && retAt[retOrder[r]!]! <= callAt[c]!);
      const pos = takeRet ? retOrder[r++]! : c++;
      this.entOp[idx] = pos;
      this.entRet[idx] = takeRet ? 1 : 0;
      this.entTime[idx] = takeRet ? retAt[pos]! : callAt[pos]!;
      if (takeRet) this.retEntry[pos] = idx;
      else this.callEntry[pos] = idx;
    }
    for (let idx = 0; idx <= entries; idx++) {
      this.next[idx] = idx + 1 <= entries ? idx + 1 : -1;
      this.prev[idx] = idx - 1;
    }
    this.lin = new Uint8Array(n);
    this.stackOp = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.stackResume = new Int32Array(n);
    this.bestOrder = new Int32Array(n);
    this.code1 = new Int32Array(n);
    this.code2 = new Int32Array(n);
    for (let pos = 0; pos < n; pos++) {
      this.code1[pos] = mix32(pos + 0x9e3779b9);
      this.code2[pos] = mix32(Math.imul(pos, 0x27d4eb2d) ^ 0x165667b1);
    }
    this.advanceFrontier();
  }

  /**
   * First without the memo, for at most greedyStepsMax steps: a linearizable history the search
   * walks nearly straight through is then decided without recording a configuration per step.
   * Past that budget the search unwinds and starts again with the memo, so a hard history costs at
   * most the budget more and never loses the memo's bound on repeated work.
   */
  run(): SearchResult<S> {
    if (this.plain) return this.runFrom(this.newMemo(), Infinity, 0) as SearchResult<S>;
    const greedyStepsMax = this.options.firstPassStepsMax ?? 2 * this.n + 1000;
    const greedy = this.runFrom(undefined, greedyStepsMax, 0);
    if (greedy !== 'restart' && greedy.verdict === 'ok') return greedy;
    const goOn = this.options.beforeFullSearch?.() ?? true;
    if (greedy !== 'restart') return greedy;
    if (!goOn) return this.finish('unknown', this.model.init(), greedyStepsMax);
    while (this.depth > 0) this.pop();
    this.bestLen = -1;
    this.bestLazy = 0;
    this.bestBlocker = -1;
    this.bestState = undefined;
    const result = this.runFrom(this.newMemo(), Infinity, greedyStepsMax);
    if (result === 'restart') throw new Error('search: restarted twice');
    return result;
  }

  private newMemo(): ConfigMemo {
    return new ConfigMemo({ n: this.n, lin: this.lin, finite: this.finite, callAt: this.callAt, retAt: this.retAt }, this.plain);
  }

  private runFrom(memo: ConfigMemo | undefined, stepsMax: number, stepsBefore: number): SearchResult<S> | 'restart' {
    const { model } = this;
    const deadline = this.options.deadlineMs ?? Infinity;
    const cacheMax = this.options.cacheEntriesMax ?? cacheEntriesMaxDefault;
    const budget = this.options.searchStepsMax ?? Infinity;
    let state = model.init();
    let steps = stepsBefore;
    let resume: Resume = 0;
    let fresh = true;
    const seen = memo === undefined ? (): boolean => false : (s: S): boolean => this.seen(memo, s, cacheMax);

    for (;;) {
      if (fresh) {
        fresh = false;
        if (this.finiteRemaining === 0) {
          return { verdict: 'ok', order: this.currentOrder(), blocker: -1, state, steps };
        }
        if (++steps > stepsMax) return 'restart';
        if (steps > budget) return this.finish('unknown', state, budget);
        if ((steps & (deadlineCheckSteps - 1)) === 0 && Date.now() > deadline) {
          return this.finish('unknown', state, steps);
        }
        const forced = this.plain ? -1 : this.findForced(state);
        if (forced >= 0) {
          this.push(forced, 1, 0, state);
          if (seen(state)) {
            this.pop();
            const back = this.backtrack();
            if (back === undefined) return this.finish('illegal', state, steps);
            state = back;
            resume = this.stackResumeTop;
          } else {
            fresh = true;
          }
          continue;
        }
        resume = this.next[0]!;
      }
      const { pos, at } = this.nextCandidate(resume);
      if (pos < 0) {
        // Nothing more to try here: some operation that must be linearized by now cannot be.
        this.recordBest(at, state);
        const back = this.backtrack();
        if (back === undefined) return this.finish('illegal', state, steps);
        state = back;
        resume = this.stackResumeTop;
        continue;
      }
      const after = at < 0 ? at - 1 : this.next[at]!;
      const nextState = this.tryStep(pos, state);
      if (nextState === undefined) {
        resume = after;
        continue;
      }
      this.push(pos, 0, after, state);
      if (seen(nextState)) {
        state = this.pop();
        resume = after;
        continue;
      }
      state = nextState;
      fresh = true;
    }
  }

  /** Resume point of the branch frame that backtrack() returned to. */
  private stackResumeTop: Resume = 0;

  /**
   * The next operation to try from `resume`: finite ones in list order up to the first return entry,
   * then the indeterminate ones called before that return. `at` is the resume point of the candidate;
   * when there is none, pos is -1 and `at` is the blocking return entry.
   */
  private nextCandidate(resume: Resume): { pos: number; at: number } {
    let e = resume;
    if (e >= 0) {
      for (; e >= 0 && this.entRet[e] === 0; e = this.next[e]!) {
        return { pos: this.entOp[e]!, at: e };
      }
      if (e < 0) throw new Error('search: ran off the list while finite operations remain');
      e = -1; // start of the indeterminate ones
    }
    const blocking = this.firstReturn();
    const limit = this.entTime[blocking]!;
    for (let k = -1 - e; k < this.infoPos.length; k++) {
      const pos = this.infoPos[k]!;
      if (this.callAt[pos]! >= limit) break;
      if (this.lin[pos] === 0) return { pos, at: -1 - k };
    }
    return { pos: -1, at: blocking };
  }

  private firstReturn(): number {
    let e = this.next[0]!;
    while (this.entRet[e] === 0) e = this.next[e]!;
    return e;
  }

  /** The state after linearizing `pos` now, or undefined when that is illegal or pruned. */
  private tryStep(pos: number, state: S): S | undefined {
    const op = this.sorted[pos]!;
    const indeterminate = this.finite[pos] === 0;
    if (this.readOnly[pos] === 1) return undefined; // legal read-only ops were forced already
    if (indeterminate && this.groupPrev && this.groupPrev[pos]! >= 0 && this.lin[this.groupPrev[pos]!] === 0) {
      return undefined;
    }
    if (this.classOf && this.classOf[pos]! >= 0 && this.chosenOfClass(this.classOf[pos]!) !== pos) return undefined;
    const next = this.model.step(state, op.input, op.output);
    if (next === undefined) return undefined;
    if (!this.plain) {
      if (indeterminate && this.model.equal(next, state)) return undefined;
      if (this.hooks && !this.hooks.allow(this.orig[pos]!, state, next)) return undefined;
    }
    return next;
  }

  /**
   * Of the callable members of a class (identical finite operations), only the one that returns first
   * is tried: a linearization that uses another one first can swap the two.
   */
  private chosenOfClass(c: number): number {
    if (this.classStamp[c] === this.configStamp) return this.classBest[c]!;
    let best = -1;
    for (let e = this.next[0]!; e >= 0 && this.entRet[e] === 0; e = this.next[e]!) {
      const pos = this.entOp[e]!;
      if (this.classOf![pos] !== c) continue;
      if (best < 0 || this.retAt[pos]! < this.retAt[best]!) best = pos;
    }
    this.classStamp[c] = this.configStamp;
    this.classBest[c] = best;
    return best;
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

  private push(pos: number, forced: number, resume: Resume, state: S): void {
    this.stackOp[this.depth] = pos;
    this.stackForced[this.depth] = forced;
    this.stackResume[this.depth] = resume;
    this.stackState[this.depth] = state;
    this.depth++;
    this.configStamp++;
    this.lift(pos);
  }

  /** Undoes the top of the stack; returns the state before it. */
  private pop(): S {
    this.depth--;
    const d = this.depth;
    if (d < this.bestLazy) {
      // The best prefix still lives in the stack here: keep it before the stack changes.
      this.bestOrder[d] = this.stackOp[d]!;
      this.bestLazy = d;
    }
    const pos = this.stackOp[d]!;
    this.configStamp++;
    this.unlift(pos);
    return this.stackState[d]!;
  }

  /** Pops to the last branch point; returns its state (resume point in stackResumeTop), or undefined. */
  private backtrack(): S | undefined {
    for (;;) {
      if (this.depth === 0) return undefined;
      const forced = this.stackForced[this.depth - 1] === 1;
      const resume = this.stackResume[this.depth - 1]!;
      const state = this.pop();
      if (!forced) {
        this.stackResumeTop = resume;
        return state;
      }
    }
  }

  private recordBest(blockingEntry: number, state: S): void {
    if (this.depth <= this.bestLen) return;
    this.bestLen = this.depth;
    this.bestLazy = this.depth;
    this.bestBlocker = this.orig[this.entOp[blockingEntry]!]!;
    this.bestState = state;
  }

  private lift(pos: number): void {
    const { next, prev } = this;
    if (this.finite[pos] === 1) {
      const c = this.callEntry[pos]!;
      next[prev[c]!] = next[c]!;
      if (next[c]! >= 0) prev[next[c]!] = prev[c]!;
      const r = this.retEntry[pos]!;
      next[prev[r]!] = next[r]!;
      if (next[r]! >= 0) prev[next[r]!] = prev[r]!;
      this.finiteRemaining--;
      this.h1 ^= this.code1[pos]!;
      this.h2 ^= this.code2[pos]!;
      this.linCount++;
    } else {
      const used = this.infoUsed;
      let i = used.length;
      used.push(pos);
      for (; i > 0 && used[i - 1]! > pos; i--) used[i] = used[i - 1]!;
      used[i] = pos;
    }
    this.lin[pos] = 1;
    if (pos === this.frontier) this.advanceFrontier();
    this.hooks?.linearized(this.orig[pos]!);
  }

  private unlift(pos: number): void {
    const { next, prev } = this;
    if (this.finite[pos] === 1) {
      // Reverse order of lift: the return entry was removed last.
      const r = this.retEntry[pos]!;
      if (next[r]! >= 0) prev[next[r]!] = r;
      next[prev[r]!] = r;
      const c = this.callEntry[pos]!;
      if (next[c]! >= 0) prev[next[c]!] = c;
      next[prev[c]!] = c;
      this.finiteRemaining++;
      this.h1 ^= this.code1[pos]!;
      this.h2 ^= this.code2[pos]!;
      this.linCount--;
      if (pos < this.frontier) this.frontier = pos;
    } else {
      const used = this.infoUsed;
      let i = used.lastIndexOf(pos);
      for (; i + 1 < used.length; i++) used[i] = used[i + 1]!;
      used.pop();
    }
    this.lin[pos] = 0;
    this.hooks?.undone(this.orig[pos]!);
  }

  private advanceFrontier(): void {
    while (this.frontier < this.n && (this.lin[this.frontier] === 1 || this.finite[this.frontier] === 0)) {
      this.frontier++;
    }
  }

  /**
   * Records the current configuration (after a step to `state`) in the memo; true when it, or one
   * that dominates it (same finite operations and state, a subset of the indeterminate ones), was
   * visited before.
   */
  private seen(memo: ConfigMemo, state: S, cacheMax: number): boolean {
    const used = this.infoUsed.length === 0 ? undefined : this.infoUsed;
    return memo.visit(this.h1, this.h2, this.frontier, this.linCount, this.model.hash(state), used, cacheMax);
  }

  private currentOrder(): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.depth; d++) out.push(this.orig[this.stackOp[d]!]!);
    return out;
  }

  private finish(verdict: 'illegal' | 'unknown', state: S, steps: number): SearchResult<S> {
    if (this.bestLen < 0) return { verdict, order: [], blocker: -1, state, steps };
    for (let d = 0; d < this.bestLazy; d++) this.bestOrder[d] = this.stackOp[d]!;
    this.bestLazy = 0;
    const order: number[] = [];
    for (let d = 0; d < this.bestLen; d++) order.push(this.orig[this.bestOrder[d]!]!);
    return { verdict, order, blocker: this.bestBlocker, state: this.bestState as S, steps };
  }
}
