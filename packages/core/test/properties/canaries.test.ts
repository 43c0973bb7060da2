import t from 'tap';
import fc from 'fast-check';
import type { RaftConfig, UnsafeSwitches } from '../../src/index.js';
import type { PropertyName } from './checks.js';
import { runSchedule, scheduleArb } from './schedule.js';

/**
 * Canaries: the same random schedules as safety.test.ts, with one unsafe switch on. Each switch
 * breaks one rule of Raft, so the properties must fail within a bounded number of schedules, or
 * they prove nothing. Seeds are fixed, so each canary is deterministic; a schedule that fails
 * some other way (the core asserts, say) does not count: the named property must fail.
 */

type Config = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

interface Canary {
  readonly unsafe: keyof UnsafeSwitches;
  readonly expect: readonly PropertyName[];
  readonly config: Config;
  readonly asyncWrites: boolean;
  readonly seed: number;
  readonly numRuns: number;
}

const paper: Config = { preVote: false, checkQuorum: false };

const canaries: readonly Canary[] = [
  {
    unsafe: 'voteWithoutLogCheck',
    expect: ['leaderCompleteness', 'stateMachineSafety'],
    config: paper,
    asyncWrites: false,
    seed: 42,
    numRuns: 60,
  },
  {
    unsafe: 'appendWithoutPrevCheck',
    expect: ['logMatching', 'leaderCompleteness'],
    config: paper,
    asyncWrites: false,
    seed: 42,
    numRuns: 60,
  },
  { unsafe: 'readIndexWithoutQuorum', expect: ['linearizableRead'], config: paper, asyncWrites: true, seed: 42, numRuns: 100 },
];

for (const canary of canaries) {
  const { unsafe, expect, config, asyncWrites, seed, numRuns } = canary;
  t.test(`canary ${unsafe}: the properties fail (${expect.join(' or ')}) within ${numRuns} schedules`, async (t) => {
    const otherFailures: string[] = [];
    const details = fc.check(
      fc.property(scheduleArb, ({ seed: clusterSeed, actions }) => {
        try {
          runSchedule({ size: 3, seed: clusterSeed, config: { ...config, unsafe: { [unsafe]: true } }, asyncWrites }, actions);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (expect.some((p) => message.startsWith(`${p} (`))) throw error;
          otherFailures.push(message.split('\n')[0]!);
        }
      }),
      { seed, numRuns, endOnFailure: true },
    );
    const firstLine = details.failed && details.errorInstance instanceof Error ? details.errorInstance.message.split('\n')[0] : '';
    t.ok(
      details.failed,
      details.failed
        ? `caught after ${details.numRuns} schedules (seed ${seed}): ${firstLine}`
        : `not caught in ${numRuns} schedules (seed ${seed}); other failures: ${otherFailures.length ? otherFailures.join('; ') : 'none'}`,
    );
  });
}
