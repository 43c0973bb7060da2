import t from 'tap';
import type { Message } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';

/**
 * Fast backtracking: a follower whose log diverges from the leader's over many entries learns
 * the leader's log in a few round trips (one per conflicting term), not one per entry.
 */
t.test('a follower with a long divergent tail needs far fewer probes than entries', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, config: { preVote: false, checkQuorum: false } });
  c.elect(1);
  c.node(1).propose(bytes('base'));
  c.stabilize();
  // Node 1 appends 50 entries that reach nobody, in term 1.
  c.partition([1], [2, 3]);
  for (let i = 0; i < 50; i++) c.node(1).propose(bytes(`lost${i}`));
  c.processReady(1);
  c.crash(1);
  // Node 2 leads term 2 with node 3 and commits 30 entries of its own.
  c.heal();
  c.elect(2);
  for (let i = 0; i < 30; i++) c.node(2).propose(bytes(`kept${i}`));
  c.stabilize();
  // Node 1 comes back while node 3 takes over in term 3: the new leader knows nothing of node 1
  // and starts probing it at its own last index, where 50 entries of term 1 conflict.
  c.partition([1], [2, 3]);
  c.restart(1);
  c.elect(3);
  c.heal();
  const rejections: Message[] = [];
  c.observer = { message: (m) => (m.type === 'append-resp' && m.reject && m.from === 1 ? rejections.push(m) : undefined) };
  for (let i = 0; i < 5; i++) {
    c.tick(3);
    c.stabilize();
  }
  const leader = c.node(3).status();
  t.equal(leader.role, 'leader');
  t.same(
    c
      .node(1)
      .entries(1, leader.lastIndex + 1)
      .map((e) => e.term),
    c
      .node(3)
      .entries(1, leader.lastIndex + 1)
      .map((e) => e.term),
    'node 1 now has the leader log',
  );
  t.equal(c.node(1).status().commit, leader.commit);
  t.ok(rejections.length >= 1 && rejections.length <= 2, `${rejections.length} rejections for 50 divergent entries`);
});
