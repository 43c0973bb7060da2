import { checkHistory } from '@kvapp/checker';
import type { HistoryEvent } from './history.js';
import type { HistoryVerdict } from './simulation.js';

/** Wall-clock budget for checking one run's history; past it the verdict is 'unknown'. */
export const historyCheckMsMax = 10_000;

/** The default history check: @kvapp/checker's linearizability search, in this thread. */
export async function checkLinearizable(events: readonly HistoryEvent[]): Promise<HistoryVerdict> {
  const result = await checkHistory(events, { timeoutMs: historyCheckMsMax, threads: 1 });
  return {
    valid: result.valid,
    ops: result.ops,
    keys: result.keys,
    ms: result.ms,
    failedKeys: result.failedKeys,
    unknownKeys: result.unknownKeys,
    witnesses: result.witnesses,
  };
}
