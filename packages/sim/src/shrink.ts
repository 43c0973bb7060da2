import fc from 'fast-check';
import type { Fault } from './schedule.js';
import { runSimulation, type PlantedBug, type SimFailure, type SimOptions } from './simulation.js';

export interface ShrinkResult {
  readonly schedule: readonly Fault[];
  readonly failure: SimFailure;
  /** Simulation runs spent shrinking. */
  readonly runs: number;
}

/** Runs spent shrinking one failure, at most. */
export const shrinkRunsMax = 300;

/**
 * Shrinks a failing schedule with fast-check: the failing one is given as an example of
 * `fc.subarray(schedule)`, and fast-check's shrinker drops faults while the run still fails.
 * The seed stays fixed (it decides the cluster and the background noise). Deterministic:
 * fast-check runs with a fixed seed and the budget counts runs, not time.
 */
export async function shrinkSchedule(
  options: Pick<SimOptions, 'seed' | 'checkHistory'> & { readonly bugs: readonly PlantedBug[] },
  schedule: readonly Fault[],
  runsMax = shrinkRunsMax,
): Promise<ShrinkResult | null> {
  let runs = 0;
  let best: { schedule: readonly Fault[]; failure: SimFailure } | null = null;
  const property = fc.asyncProperty(fc.subarray([...schedule]), async (candidate) => {
    if (runs >= runsMax) return true; // out of budget: stop exploring, keep the best so far
    runs++;
    const result = await runSimulation({ ...options, schedule: candidate });
    if (result.failure === null) return true;
    if (best === null || candidate.length <= best.schedule.length) best = { schedule: candidate, failure: result.failure };
    return false;
  });
  await fc.check(property, { examples: [[[...schedule]]], numRuns: 1, seed: options.seed | 0, endOnFailure: false });
  if (best === null) return null;
  const found: { schedule: readonly Fault[]; failure: SimFailure } = best;
  return { schedule: found.schedule, failure: found.failure, runs };
}
