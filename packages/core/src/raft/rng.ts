/**
 * The only source of randomness the core uses. Injected so that the same seed gives the same
 * election timeouts on every machine, which is what lets a simulator replay a failure.
 */
export interface Rng {
  /** A uniformly distributed integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

/** What `seededRng` gives: an Rng, and the same stream as uniform numbers for callers that need them. */
export interface SeededRng extends Rng {
  /** A uniformly distributed number in [0, 1). */
  next(): number;
}

/**
 * kvapp's one seeded generator (mulberry32): small, fast, statistically fine for timeouts, fault
 * schedules and test data. The core, the simulator, the harness and the checker's test-data
 * generator all draw from it, so a seed means the same stream everywhere (docs/testing.md, "One seeded generator").
 */
export function seededRng(seed: number): SeededRng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / 0x1_0000_0000;
  return {
    next,
    nextInt(maxExclusive: number): number {
      if (!(maxExclusive > 0)) throw new RangeError(`nextInt needs a positive bound, got ${maxExclusive}`);
      return Math.floor(next() * maxExclusive);
    },
  };
}
