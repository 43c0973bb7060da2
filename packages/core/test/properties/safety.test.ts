import t from 'tap';
import fc from 'fast-check';
import type { RaftConfig } from '../../src/index.js';
import { noStats, type CheckStats } from './checks.js';
import { clusterDump, propertyRuns, runSchedule, scheduleArb, type Action } from './schedule.js';
import { settle } from './settle.js';

/**
 * Raft's safety properties under random fault schedules: messages delivered out of order,
 * dropped, duplicated; partitions; crashes and restarts from persisted state; log compaction
 * and snapshot catch-up; membership changes (valid and invalid), ReadIndex reads and leadership
 * transfers. Election safety and read linearizability are checked after every delivered
 * message; every property after every action. See README.md in this folder.
 * On failure the report carries fast-check's seed and path (replay: FC_SEED=<seed>) and the
 * shrunk schedule.
 */

type Config = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

/** One tap assertion per property: it names the seed (FC_SEED replays it); on failure, fast-check's report. */
function check(t: Tap.Test, name: string, runs: number, predicate: (seed: number, actions: readonly Action[]) => void): void {
  const fixedSeed = process.env['FC_SEED'];
  const details = fc.check(
    fc.property(scheduleArb, ({ seed, actions }) => predicate(seed, actions)),
    { numRuns: propertyRuns(runs), ...(fixedSeed !== undefined ? { seed: Number(fixedSeed) } : {}) },
  );
  const replay = `seed ${details.seed} (replay with FC_SEED=${details.seed})`;
  t.notOk(
    details.failed,
    details.failed ? `${name}: ${replay}\n${fc.defaultReportMessage(details)}` : `${name}: ${details.numRuns} schedules, ${replay}`,
  );
}

const variants: readonly { readonly label: string; readonly config: Config; readonly asyncWrites: boolean }[] = [
  { label: 'PreVote+CheckQuorum', config: {}, asyncWrites: false },
  { label: "the paper's setting (no PreVote, no CheckQuorum)", config: { preVote: false, checkQuorum: false }, asyncWrites: false },
  // Writes complete late (accept now, persisted later), crashes keep a prefix of them.
  { label: 'PreVote+CheckQuorum, asynchronous writes', config: {}, asyncWrites: true },
  { label: "the paper's setting, asynchronous writes", config: { preVote: false, checkQuorum: false }, asyncWrites: true },
];

function addStats(total: CheckStats, more: CheckStats): void {
  for (const key of Object.keys(total) as (keyof CheckStats)[]) total[key] += more[key];
}

for (const size of [3, 5]) {
  for (const { label, config, asyncWrites } of variants) {
    t.test(
      `${size} nodes, ${label}: election safety, log matching, leader completeness, state machine safety, linearizable reads`,
      async (t) => {
        const total: CheckStats = noStats();
        check(t, `${size} nodes, ${label}`, size === 3 ? 100 : 60, (seed, actions) => {
          addStats(total, runSchedule({ size, seed, config, asyncWrites }, actions).checker.finish());
        });
        t.comment(JSON.stringify(total));
      },
    );
  }
}

for (const asyncWrites of [false, true]) {
  const label = asyncWrites ? ', asynchronous writes' : '';
  t.test(`3 nodes${label}: once faults heal, a leader is elected and every member applies the same log`, async (t) => {
    check(t, `liveness after healing${label}`, 60, (seed, actions) => {
      const run = runSchedule({ size: 3, seed, asyncWrites }, actions);
      const problem = settle(run);
      if (problem) throw new Error(`${problem}\n${clusterDump(run.c)}`);
    });
  });
}
