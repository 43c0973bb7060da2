/**
 * The search's memo of configurations (finite operations linearized, model state, indeterminate
 * operations used), without building a key per step: the search keeps two 32-bit hashes of the set of
 * finite operations linearized, XOR-updated as it linearizes and undoes operations, and a configuration
 * is looked up by them and the state's hash in a chained hash table of typed-array columns. A hash
 * match is only a candidate: it is confirmed exactly against the set stored with the entry, so a
 * collision never prunes a branch.
 *
 * The set is stored in its bounded form (see search.ts): the frontier F (every finite operation
 * before F is linearized, F is not), the count of finite operations linearized, and the positions
 * after F that are linearized (they were all called before F returns, so their number is bounded by
 * the concurrency, not by the length of the history). Equal frontier and count plus "every stored
 * position is linearized now" is equality of the two sets.
 */

/** What the memo reads of the search's current configuration. */
export interface MemoView {
  readonly n: number;
  readonly lin: Uint8Array;
  readonly finite: Uint8Array;
  readonly callAt: Float64Array;
  readonly retAt: Float64Array;
}

/** Stored positions (all entries together) above which the memo is cleared, like cacheEntriesMax. */
const poolIntsMax = 1 << 24;
const bucketsInitial = 1 << 12;

export class ConfigMemo {
  private buckets = new Int32Array(bucketsInitial).fill(-1);
  private mask = bucketsInitial - 1;
  private count = 0;
  private capacity = 1024;
  private entNext = new Int32Array(this.capacity);
  private entH1 = new Int32Array(this.capacity);
  private entH2 = new Int32Array(this.capacity);
  private entFrontier = new Int32Array(this.capacity);
  private entLinCount = new Int32Array(this.capacity);
  private entStart = new Int32Array(this.capacity);
  private entLen = new Int32Array(this.capacity);
  private entState: (string | number)[] = [];
  /** Without `plain`: null when visited without indeterminate operations (dominates every other),
   * else the sorted sets of indeterminate operations used so far. With `plain`: the one set (or null). */
  private entUsed: (number[][] | number[] | null)[] = [];
  private pool = new Int32Array(1 << 12);
  private poolLen = 0;
  /** Entries plus extra indeterminate sets, as cacheEntriesMax counts them. */
  size = 0;

  constructor(
    private readonly view: MemoView,
    private readonly plain: boolean,
  ) {}

  clear(): void {
    this.buckets.fill(-1);
    this.count = 0;
    this.poolLen = 0;
    this.entState = [];
    this.entUsed = [];
    this.size = 0;
  }

  /**
   * Records the configuration; true when it, or one that dominates it (same finite operations and
   * state, a subset of the indeterminate ones), was visited before. `used` is sorted, or undefined
   * when no indeterminate operation is linearized; it is the search's live array, copied when kept.
   */
  visit(
    h1: number,
    h2: number,
    frontier: number,
    linCount: number,
    stateKey: string | number,
    used: number[] | undefined,
    cacheMax: number,
  ): boolean {
    let bh = h1 ^ Math.imul(hashStateKey(stateKey), 0x9e3779b1);
    if (this.plain && used !== undefined) bh ^= hashList(used);
    const slot = mix32(bh) & this.mask;
    for (let e = this.buckets[slot]!; e >= 0; e = this.entNext[e]!) {
      if (
        this.entH1[e] !== h1 ||
        this.entH2[e] !== h2 ||
        this.entFrontier[e] !== frontier ||
        this.entLinCount[e] !== linCount ||
        this.entState[e] !== stateKey ||
        !this.sameSet(e)
      )
        continue;
      const prior = this.entUsed[e]!;
      if (this.plain) {
        if (sameList(prior as number[] | null, used)) return true;
        continue;
      }
      if (prior === null) return true;
      if (used === undefined) {
        this.entUsed[e] = null;
        return false;
      }
      for (const p of prior as number[][]) if (isSubset(p, used)) return true;
      (prior as number[][]).push(used.slice());
      this.size++;
      return false;
    }
    if (this.size >= cacheMax || this.poolLen >= poolIntsMax) this.clear();
    this.insert(h1, h2, frontier, linCount, stateKey, used, slot);
    return false;
  }

  /** The entry's positions after its frontier are all linearized now (counts are already equal). */
  private sameSet(e: number): boolean {
    const { lin } = this.view;
    const start = this.entStart[e]!;
    const end = start + this.entLen[e]!;
    for (let k = start; k < end; k++) if (lin[this.pool[k]!] !== 1) return false;
    return true;
  }

  private insert(
    h1: number,
    h2: number,
    frontier: number,
    linCount: number,
    stateKey: string | number,
    used: number[] | undefined,
    slot: number,
  ): void {
    if (this.count === this.capacity) this.growEntries();
    const e = this.count++;
    this.entH1[e] = h1;
    this.entH2[e] = h2;
    this.entFrontier[e] = frontier;
    this.entLinCount[e] = linCount;
    this.entState[e] = stateKey;
    this.entUsed[e] = used === undefined ? null : this.plain ? used.slice() : [used.slice()];
    this.entStart[e] = this.poolLen;
    const { n, lin, finite, callAt, retAt } = this.view;
    if (frontier < n) {
      const limit = retAt[frontier]!;
      for (let j = frontier + 1; j < n && callAt[j]! <= limit; j++) {
        if (lin[j] === 1 && finite[j] === 1) {
          if (this.poolLen === this.pool.length) this.pool = grow(this.pool, this.pool.length * 2);
          this.pool[this.poolLen++] = j;
        }
      }
    }
    this.entLen[e] = this.poolLen - this.entStart[e]!;
    this.entNext[e] = this.buckets[slot]!;
    this.buckets[slot] = e;
    this.size++;
    if (this.count > this.buckets.length) this.rehash();
  }

  private growEntries(): void {
    const c = this.capacity * 2;
    this.entNext = grow(this.entNext, c);
    this.entH1 = grow(this.entH1, c);
    this.entH2 = grow(this.entH2, c);
    this.entFrontier = grow(this.entFrontier, c);
    this.entLinCount = grow(this.entLinCount, c);
    this.entStart = grow(this.entStart, c);
    this.entLen = grow(this.entLen, c);
    this.capacity = c;
  }

  private rehash(): void {
    const size = this.buckets.length * 2;
    this.buckets = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let e = 0; e < this.count; e++) {
      const stateKey = this.entState[e]!;
      let bh = this.entH1[e]! ^ Math.imul(hashStateKey(stateKey), 0x9e3779b1);
      const used = this.entUsed[e];
      if (this.plain && used !== null && used !== undefined) bh ^= hashList(used as number[]);
      const slot = mix32(bh) & this.mask;
      this.entNext[e] = this.buckets[slot]!;
      this.buckets[slot] = e;
    }
  }
}

function grow(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** Murmur3's finalizer: spreads every input bit over the 32 output bits. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

function hashStateKey(k: string | number): number {
  if (typeof k === 'number') {
    if ((k | 0) === k) return k;
    k = String(k);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return h | 0;
}

function hashList(xs: readonly number[]): number {
  let h = 0x3c6ef372;
  for (const x of xs) h = mix32(h ^ x) + 0x6a09e667;
  return h | 0;
}

function sameList(a: readonly number[] | null, b: readonly number[] | undefined): boolean {
  if (a === null || b === undefined) return a === null && b === undefined;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
