import { checkHistory, type HistoryEvent } from '@kvapp/checker';
import type { HistoryVerdict } from './simulation.js';

/**
 * Steps the checker's search may take on one key of a run's history; past it the verdict is
 * 'unknown', which the simulation reports as a failure ('history-unknown'). A budget in steps,
 * not in time, so that a seed gives the same result on any machine at any load. Seeds 1..2,000
 * took at most 387 steps on a key (a linearizable key is walked nearly straight through by the
 * search's first pass): the budget is over 250 times that, and still ends a pathological key
 * well within the 10 s the wall-clock budget it replaces allowed (100,000 steps of the memo
 * search took 1.5–2 s on a loaded 2-core machine).
 */
export const historyCheckStepsMax = 100_000;

/** The default history check: @kvapp/checker's linearizability search, in this thread. */
export async function checkLinearizable(events: readonly HistoryEvent[], searchStepsMax = historyCheckStepsMax): Promise<HistoryVerdict> {
  const result = await checkHistory(events, { searchStepsMax, threads: 1 });
  return {
    valid: result.valid,
    searchSteps: result.perKey.reduce((most, key) => Math.max(most, key.steps), 0),
    ops: result.ops,
    keys: result.keys,
    ms: result.ms,
    failedKeys: result.failedKeys,
    unknownKeys: result.unknownKeys,
    witnesses: result.witnesses,
  };
}
