/**
 * The only source of randomness the core uses. Injected so that the same seed gives the same
 * election timeouts on every machine, which is what lets a simulator replay a failure.
 */
export interface Rng {
  /** A uniformly distributed integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

/** A small, fast, seedable generator (mulberry32); statistically fine for timeouts and tests. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    nextInt(maxExclusive: number): number {
      if (!(maxExclusive > 0)) throw new RangeError(`nextInt needs a positive bound, got ${maxExclusive}`);
      return Math.floor((nextUint32() / 0x1_0000_0000) * maxExclusive);
    },
  };
}
