import { resolve } from 'node:path';
import type { ChaosArgs } from './args.js';
import { readStoreRuns, StoreError } from './store-runs.js';
import { formatTotals } from './totals-text.js';
import { tallyRun, totals } from './totals.js';

/** What the totals command writes to. */
export interface TotalsIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

/**
 * `kvapp-chaos --totals`: the totals of every run folder under the store (only the scenarios named
 * by --scenario, if any), as text or JSON. Exit 0 when no run is an anomaly, 1 when one is, 2 when
 * the store cannot be read or holds no run.
 */
export function runTotals(args: ChaosArgs, io: TotalsIo): 0 | 1 | 2 {
  const store = resolve(args.store);
  let runs;
  try {
    runs = readStoreRuns(store);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    io.err(`error: ${err.message}\n`);
    return 2;
  }
  const tallies = runs.map(tallyRun).filter((t) => args.scenarios.length === 0 || args.scenarios.includes(t.scenario));
  if (tallies.length === 0) {
    const which = args.scenarios.length === 0 ? '' : ` of ${args.scenarios.join(', ')}`;
    io.err(`error: no run folder${which} under ${store} (<store>/<scenario>/<timestamp>/)\n`);
    return 2;
  }
  const t = totals(tallies);
  io.out(args.json ? `${JSON.stringify({ store, ...t }, null, 2)}\n` : formatTotals(store, t));
  return t.anomalies.runs.length === 0 ? 0 : 1;
}
