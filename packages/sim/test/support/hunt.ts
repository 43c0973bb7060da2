import {
  failureMatches,
  plantedBugFailures,
  runSimulation,
  shrinkSchedule,
  type PlantedBug,
  type SimResult,
  type ShrinkResult,
} from '../../src/index.js';

/** Seeds the CI batch runs: a planted bug must be caught within them. */
export const ciSeeds = 500;

export interface Hunt {
  /** The first run that failed the way the bug is expected to (plantedBugFailures). */
  readonly found: SimResult | null;
  /** Seeds run, including the one that failed. */
  readonly seeds: number;
  /** Runs before `found` that failed some other way: they do not count as catching the bug. */
  readonly otherFailures: readonly SimResult[];
  readonly shrunk: ShrinkResult | null;
  readonly ms: number;
}

/** Runs seeds 1.. until the first failure of the expected kind, then shrinks that failure's schedule keeping that kind. */
export async function hunt(bug: PlantedBug, seedsMax = ciSeeds): Promise<Hunt> {
  const started = performance.now();
  const expected = plantedBugFailures[bug];
  const otherFailures: SimResult[] = [];
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = await runSimulation({ seed, bugs: [bug] });
    if (result.failure === null) continue;
    if (!failureMatches(result.failure, expected)) {
      otherFailures.push(result);
      continue;
    }
    const shrunk = await shrinkSchedule({ seed, bugs: [bug], keep: expected }, result.schedule);
    return { found: result, seeds: seed, otherFailures, shrunk, ms: performance.now() - started };
  }
  return { found: null, seeds: seedsMax, otherFailures, shrunk: null, ms: performance.now() - started };
}

/** Runs a batch of seeds without bugs; returns the failures (an undecided history is one). */
export async function batch(first: number, count: number): Promise<{ failures: SimResult[]; unknown: number; ops: number; ms: number }> {
  const started = performance.now();
  const failures: SimResult[] = [];
  let unknown = 0;
  let ops = 0;
  for (let seed = first; seed < first + count; seed++) {
    const result = await runSimulation({ seed });
    ops += result.stats.ops;
    if (result.historyValid === 'unknown') unknown++;
    if (result.failure !== null) failures.push(result);
  }
  return { failures, unknown, ops, ms: performance.now() - started };
}
