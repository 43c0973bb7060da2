import t from 'tap';
import type { UnsafeSwitches } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';
import { SafetyChecker } from '../support/safety.js';

/**
 * Each unsafe switch must make a check fail, or the checks prove nothing. Here:
 * voteWithoutLogCheck and appendWithoutPrevCheck. commitOldTermEntries is in commit-rule.test.ts
 * (Figure 8), readIndexWithoutQuorum in read-index.test.ts (a stale read).
 * Each scenario runs safe (no violation) and unsafe (the named invariant breaks).
 */

const paperSetting = (unsafe: UnsafeSwitches) => ({ preVote: false, checkQuorum: false, unsafe });

function stepChecked(c: TestCluster, checker: SafetyChecker, found: string[], action: () => void): void {
  action();
  const v = checker.check(c);
  if (v) found.push(v.invariant);
}

/** Node 3 misses a committed entry, the leader crashes, node 3 asks node 2 for its vote. */
function staleCandidate(unsafe: UnsafeSwitches): { leader: number | undefined; violations: string[] } {
  const c = new TestCluster({ size: 3, seed: 1, config: paperSetting(unsafe) });
  const checker = new SafetyChecker();
  const found: string[] = [];
  stepChecked(c, checker, found, () => c.elect(1));
  c.partition([3], [1, 2]);
  stepChecked(c, checker, found, () => {
    c.node(1).propose(bytes('committed'));
    c.stabilize();
  });
  c.heal();
  c.crash(1);
  stepChecked(c, checker, found, () => c.elect(3));
  return { leader: c.leader(), violations: found };
}

t.test('voteWithoutLogCheck lets a stale node win and lose a committed entry', async (t) => {
  const safe = staleCandidate({});
  t.not(safe.leader, 3, 'safe: node 2 refuses its vote, node 3 does not win');
  t.same(safe.violations, []);
  const unsafe = staleCandidate({ voteWithoutLogCheck: true });
  t.equal(unsafe.leader, 3, 'unsafe: node 3 wins without the committed entry');
  t.ok(unsafe.violations.includes('leaderCompleteness'), `violations: ${unsafe.violations.join(', ')}`);
});

/** Node 1 has a long uncommitted tail of term 1; node 3 leads term 3 and probes it at index 5. */
function divergentFollower(unsafe: UnsafeSwitches): string[] {
  const c = new TestCluster({ size: 3, seed: 1, config: paperSetting(unsafe) });
  const checker = new SafetyChecker();
  const found: string[] = [];
  stepChecked(c, checker, found, () => c.elect(1));
  c.node(1).propose(bytes('a'));
  c.stabilize();
  c.partition([1], [2, 3]);
  for (const d of ['b', 'c', 'd', 'e', 'f']) c.node(1).propose(bytes(d));
  c.processReady(1);
  c.crash(1);
  c.heal();
  stepChecked(c, checker, found, () => c.elect(2));
  stepChecked(c, checker, found, () => {
    c.node(2).propose([bytes('x'), bytes('y')]);
    c.stabilize();
  });
  c.partition([1], [2, 3]);
  c.restart(1);
  stepChecked(c, checker, found, () => c.elect(3));
  c.heal();
  for (let i = 0; i < 3; i++)
    stepChecked(c, checker, found, () => {
      c.tick(3);
      c.stabilize();
    });
  return found;
}

t.test('appendWithoutPrevCheck breaks log matching on a divergent follower', async (t) => {
  t.same(divergentFollower({}), [], 'safe: the follower rejects until the leader finds where they agree');
  t.ok(divergentFollower({ appendWithoutPrevCheck: true }).includes('logMatching'), 'unsafe: it appends after a mismatched entry');
});
