import { seededRng, type Rng } from '@kvapp/core';

/**
 * The simulator's only source of randomness. Every stream (network, clients, each node's
 * election timeouts) is derived from the run's one seed, so that changing the fault schedule
 * does not reshuffle the randomness of unrelated parts: a shrunk schedule stays close to the
 * failing one.
 */
export class SimRng implements Rng {
  private readonly rng: Rng;

  constructor(readonly seed: number) {
    this.rng = seededRng(seed);
  }

  nextInt(maxExclusive: number): number {
    return this.rng.nextInt(maxExclusive);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.rng.nextInt(hi - lo + 1);
  }

  /** True with probability pct / 100. */
  chance(pct: number): boolean {
    return pct > 0 && this.rng.nextInt(100) < pct;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.rng.nextInt(items.length)]!;
  }
}

/** A seed for stream `stream` of run `seed` (a 32-bit integer hash: the same on every machine). */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function streamRng(seed: number, stream: number): SimRng {
  return new SimRng(deriveSeed(seed, stream));
}
