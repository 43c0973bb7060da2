import fc from 'fast-check';
import { failureMatches, type ExpectedFailure } from './expected-failure.js';
import type { PlantedBug } from './planted-bugs.js';
import type { Fault } from './schedule.js';
import { runSimulation, type SimFailure, type SimOptions } from './simulation.js';

export interface ShrinkOptions extends Pick<SimOptions, 'seed' | 'checkHistory'> {
  readonly bugs: readonly PlantedBug[];
  /**
   * The failure to keep: a candidate counts as failing only when its failure is this one (or the
   * predicate says yes). A smaller schedule that fails some other way is a different bug, not a
   * smaller case of this one.
   */
  readonly keep: ExpectedFailure | ((failure: SimFailure) => boolean);
  /** Runs spent shrinking, at most (default shrinkRunsMax). */
  readonly runsMax?: number;
  /** Runs one candidate (default runSimulation): a test gives its own to decide the failures. */
  readonly run?: (options: SimOptions) => Promise<{ readonly failure: SimFailure | null }>;
}

export interface ShrinkResult {
  readonly schedule: readonly Fault[];
  readonly failure: SimFailure;
  /** Simulation runs spent shrinking. */
  readonly runs: number;
  /** Of those, the runs that failed in another way than the one kept (counted as passing). */
  readonly otherFailures: number;
}

/** Runs spent shrinking one failure, at most. */
export const shrinkRunsMax = 300;

/**
 * Shrinks a failing schedule with fast-check: the failing one is given as an example of
 * `fc.subarray(schedule)`, and fast-check's shrinker drops faults while the run still fails the
 * way `keep` says. The seed stays fixed (it decides the cluster and the background noise).
 * Deterministic: fast-check runs with a fixed seed and the budget counts runs, not time.
 * Null when not even the given schedule fails that way.
 */
export async function shrinkSchedule(options: ShrinkOptions, schedule: readonly Fault[]): Promise<ShrinkResult | null> {
  const { keep, runsMax = shrinkRunsMax, run = runSimulation, ...sim } = options;
  const kept = typeof keep === 'function' ? keep : (failure: SimFailure): boolean => failureMatches(failure, keep);
  let runs = 0;
  let otherFailures = 0;
  let best: { schedule: readonly Fault[]; failure: SimFailure } | null = null;
  const property = fc.asyncProperty(fc.subarray([...schedule]), async (candidate) => {
    if (runs >= runsMax) return true; // out of budget: stop exploring, keep the best so far
    runs++;
    const { failure } = await run({ ...sim, schedule: candidate });
    if (failure === null) return true;
    if (!kept(failure)) {
      otherFailures++;
      return true;
    }
    if (best === null || candidate.length <= best.schedule.length) best = { schedule: candidate, failure };
    return false;
  });
  await fc.check(property, { examples: [[[...schedule]]], numRuns: 1, seed: options.seed | 0, endOnFailure: false });
  if (best === null) return null;
  const found: { schedule: readonly Fault[]; failure: SimFailure } = best;
  return { schedule: found.schedule, failure: found.failure, runs, otherFailures };
}
