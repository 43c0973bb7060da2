import t from 'tap';
import { TestCluster, bytes } from '../support/cluster.js';
import { SafetyChecker } from '../support/safety.js';
import type { UnsafeSwitches } from '../../src/index.js';

/** §5.4.2: a leader commits by counting replicas only an entry of its own term. */

t.test('a new leader appends an empty entry of its term, which commits everything before it', async (t) => {
  // Without CheckQuorum's leader lease, node 2 may campaign at once after the crash.
  const c = new TestCluster({ size: 3, seed: 1, config: { checkQuorum: false } });
  c.elect(1);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  c.crash(1);
  c.elect(2);
  const status = c.node(2).status();
  t.equal(status.role, 'leader');
  const [last] = c.node(2).entries(status.lastIndex, status.lastIndex + 1);
  t.equal(last!.term, status.term, 'the last entry is of the new term');
  t.equal(last!.data.length, 0, 'and empty');
  t.equal(status.commit, status.lastIndex, 'it committed');
});

/**
 * Figure 8, driven step by step (the interaction script figure-8.txt prints the same run): entry
 * 2@1:x ends up on a majority (1, 2, 3) under leader 1 of term 3, which must not commit it.
 * Then node 5 (last entry 3@2) is elected and overwrites it. Returns the checker's verdict.
 */
function figure8(unsafe: UnsafeSwitches): { commitWithOldEntryOnMajority: number; violation: string | undefined } {
  const c = new TestCluster({ size: 5, seed: 1, config: { preVote: false, checkQuorum: false, messageBytesMax: 1, unsafe } });
  const checker = new SafetyChecker();
  let violation: string | undefined;
  const deliver = (from: number, to: number): void => {
    const at = c.inFlight.findIndex((m) => m.from === from && m.to === to);
    if (at < 0) throw new Error(`no message ${from}->${to}`);
    c.deliverAt(at);
    const v = checker.check(c);
    violation ??= v && `${v.invariant}: ${v.detail}`;
  };
  const dropAll = (): void => {
    while (c.inFlight.length > 0) c.dropAt(0);
  };
  c.elect(1);
  c.node(1).propose(bytes('x'));
  c.processReady(1);
  deliver(1, 2);
  dropAll();
  c.crash(1);
  // Node 5 wins term 2 with 3 and 4, appends 2@2 and 3@2:y, and crashes before sending them.
  c.node(5).campaign();
  c.processReady(5);
  for (const to of [2, 3, 4]) deliver(5, to);
  for (const from of [2, 3, 4]) deliver(from, 5);
  c.node(5).propose(bytes('y'));
  c.processReady(5);
  dropAll();
  c.crash(5);
  // Node 1 restarts and wins term 3 (term 2 is taken).
  c.restart(1);
  c.node(1).campaign();
  c.stabilize();
  c.node(1).campaign();
  c.processReady(1);
  for (const to of [2, 3, 4]) deliver(1, to);
  for (const from of [2, 3, 4]) deliver(from, 1);
  c.inFlight = c.inFlight.filter((m) => !(m.from === 1 && m.to === 4));
  deliver(1, 2); // 3@3 to node 2
  deliver(1, 3); // rejected: node 3 lacks index 2
  deliver(3, 1);
  deliver(1, 3); // 2@1:x to node 3: now on a majority
  deliver(3, 1);
  deliver(2, 1);
  const commitWithOldEntryOnMajority = c.node(1).status().commit;
  c.processReady(1); // leader 1 applies whatever it committed
  dropAll();
  c.crash(1);
  c.restart(5);
  for (let i = 0; i < 3 && c.leader() !== 5; i++) {
    c.node(5).campaign();
    c.stabilize();
    const v = checker.check(c);
    violation ??= v && `${v.invariant}: ${v.detail}`;
  }
  c.node(5).propose(bytes('z'));
  c.stabilize();
  const v = checker.check(c);
  violation ??= v && `${v.invariant}: ${v.detail}`;
  return { commitWithOldEntryOnMajority, violation };
}

t.test('Figure 8: an old-term entry on a majority is not committed until an entry of the new term is', async (t) => {
  const run = figure8({});
  t.equal(run.commitWithOldEntryOnMajority, 1, 'leader 1 (term 3) does not commit 2@1:x though 1, 2 and 3 hold it');
  t.equal(run.violation, undefined, 'node 5 overwriting 2@1:x breaks no invariant: it was never committed');
});

t.test('the unsafe switch commitOldTermEntries breaks Figure 8 (proves the test bites)', async (t) => {
  const run = figure8({ commitOldTermEntries: true });
  t.equal(run.commitWithOldEntryOnMajority, 2, 'leader 1 commits 2@1:x by counting replicas');
  t.match(run.violation, /leaderCompleteness|stateMachineSafety/, `the checker sees a committed entry lost: ${run.violation}`);
});
