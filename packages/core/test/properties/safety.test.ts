import t from 'tap';
import fc from 'fast-check';
import type { RaftConfig } from '../../src/index.js';
import { SafetyChecker } from '../support/safety.js';
import { actionArb, clusterDump, propertyRuns, runSchedule } from './schedule.js';
import { settle } from './settle.js';

/**
 * Raft's safety properties under random fault schedules: messages delivered out of order,
 * dropped, duplicated; partitions; crashes and restarts from persisted state; log compaction
 * and snapshot catch-up. Every invariant is checked after every step, not just at the end.
 * On failure the report carries fast-check's seed and path (replay: fc.check(..., { seed, path }))
 * and the shrunk schedule.
 */

type Config = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

const scheduleArb = fc.record(
  { seed: fc.nat(1_000_000), actions: fc.array(actionArb, { minLength: 100, maxLength: 400, size: 'max' }) },
  { noNullPrototype: true },
);

/** One tap assertion per property: fast-check's report (seed, path, counterexample) is its message. */
function check(
  t: Tap.Test,
  name: string,
  runs: number,
  predicate: (seed: number, actions: Parameters<typeof runSchedule>[1]) => void,
): void {
  const details = fc.check(
    fc.property(scheduleArb, ({ seed, actions }) => predicate(seed, actions)),
    { numRuns: propertyRuns(runs) },
  );
  t.notOk(details.failed, details.failed ? `${name}\n${fc.defaultReportMessage(details)}` : `${name}: ${details.numRuns} schedules`);
}

const variants: readonly { readonly label: string; readonly config: Config; readonly asyncWrites: boolean }[] = [
  { label: 'PreVote+CheckQuorum', config: {}, asyncWrites: false },
  { label: "the paper's setting (no PreVote, no CheckQuorum)", config: { preVote: false, checkQuorum: false }, asyncWrites: false },
  // Writes complete late (accept now, persisted later), crashes keep a prefix of them.
  { label: 'PreVote+CheckQuorum, asynchronous writes', config: {}, asyncWrites: true },
  { label: "the paper's setting, asynchronous writes", config: { preVote: false, checkQuorum: false }, asyncWrites: true },
];

for (const size of [3, 5]) {
  for (const { label, config, asyncWrites } of variants) {
    t.test(`${size} nodes, ${label}: election safety, log matching, leader completeness, state machine safety`, async (t) => {
      check(t, `${size} nodes, ${label}`, size === 3 ? 100 : 60, (seed, actions) => {
        runSchedule({ size, seed, config, asyncWrites }, actions, new SafetyChecker());
      });
    });
  }
}

for (const asyncWrites of [false, true]) {
  const label = asyncWrites ? ', asynchronous writes' : '';
  t.test(`3 nodes${label}: once faults heal, a leader is elected and every node applies the same log`, async (t) => {
    check(t, `liveness after healing${label}`, 60, (seed, actions) => {
      const checker = new SafetyChecker();
      const c = runSchedule({ size: 3, seed, asyncWrites }, actions, checker);
      const problem = settle(c, checker);
      if (problem) throw new Error(`${problem}\n${clusterDump(c)}`);
    });
  });
}
