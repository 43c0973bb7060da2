import t from 'tap';
import { nextConf } from '../../src/raft/conf-change.js';
import { errorCode } from '../support/raft-error-code.js';
import { TestCluster, bytes, text } from '../support/cluster.js';

const conf = (voters: number[], learners: number[] = [], votersOutgoing: number[] = []) => ({ voters, learners, votersOutgoing });

function appliedData(c: TestCluster, id: number): string[] {
  return c.applied
    .get(id)!
    .filter((e) => e.type === 'normal' && e.data.length > 0)
    .map((e) => text(e.data));
}

t.test('a simple change adds a voter that then counts toward the quorum', async (t) => {
  const c = new TestCluster({ size: 3, seed: 3 });
  c.elect(1);
  c.addNode(4);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'add-voter', node: 4 });
  c.stabilize();
  for (const id of [1, 2, 3, 4]) t.same(c.node(id).status().conf, conf([1, 2, 3, 4]), `node ${id} knows the new membership`);
  // With 4 voters a quorum is 3: two nodes down must stop commits.
  c.crash(3);
  c.crash(4);
  const before = c.node(1).status().commit;
  c.node(1).propose(bytes('needs-three'));
  c.stabilize();
  t.equal(c.node(1).status().commit, before, 'two of four voters cannot commit');
  c.restart(4);
  c.tickAll(3);
  c.stabilize();
  t.ok(appliedData(c, 1).includes('needs-three'), 'committed once three of four voters are up');
});

t.test('a joint change replaces the voters and the leader leaves the joint configuration by itself', async (t) => {
  const c = new TestCluster({ size: 3, seed: 5 });
  c.elect(1);
  c.addNode(4);
  c.addNode(5);
  c.node(1).proposeConfChange({ kind: 'joint', voters: [1, 4, 5], learners: [] });
  c.stabilize();
  t.same(c.node(1).status().conf, conf([1, 4, 5]), 'leader ended in the new configuration, not joint');
  t.same(c.node(4).status().conf, conf([1, 4, 5]), 'new voter agrees');
  c.crash(2);
  c.crash(3);
  c.node(1).propose(bytes('after-replace'));
  c.stabilize();
  t.same(appliedData(c, 5), ['after-replace'], 'new majority commits without the removed nodes');
});

t.test('a leader elected after the joint entry applied finishes the change (leaves the joint configuration)', async (t) => {
  const c = new TestCluster({ size: 3, seed: 7 });
  c.elect(1);
  c.addNode(4);
  c.node(1).proposeConfChange({ kind: 'joint', voters: [1, 2, 3, 4], learners: [] });
  c.processReady(1);
  // Deliver until node 2 has applied the joint entry, then lose node 1 before its leave-joint commits.
  for (let i = 0; i < 500 && c.node(2).status().conf.votersOutgoing.length === 0; i++) {
    if (c.inFlight.length === 0) c.tick(1);
    else c.deliverAt(0);
  }
  t.same(c.node(2).status().conf, conf([1, 2, 3, 4], [], [1, 2, 3]), 'node 2 is in the joint configuration');
  c.crash(1);
  for (let i = 0; i < 100 && (c.leader() === undefined || c.leader() === 1); i++) {
    c.tickAll();
    c.stabilize();
  }
  const leader = c.leader();
  t.ok(leader !== undefined && leader !== 1, `a new leader (${leader})`);
  c.stabilize();
  t.same(c.node(leader!).status().conf, conf([1, 2, 3, 4]), 'it left the joint configuration by itself');
});

t.test('one change at a time: a second proposal before the first applies is refused', async (t) => {
  const c = new TestCluster({ size: 3, seed: 9 });
  c.elect(1);
  c.addNode(4);
  c.addNode(5);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'add-learner', node: 4 });
  t.equal(
    errorCode(() => c.node(1).proposeConfChange({ kind: 'simple', action: 'add-learner', node: 5 })),
    'CONF_CHANGE_PENDING',
  );
  c.stabilize();
  t.same(c.node(1).status().conf, conf([1, 2, 3], [4]));
  t.doesNotThrow(() => c.node(1).proposeConfChange({ kind: 'simple', action: 'add-learner', node: 5 }));
});

t.test('a removed leader steps down and the rest elect a new one', async (t) => {
  const c = new TestCluster({ size: 3, seed: 11 });
  c.elect(1);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 1 });
  c.stabilize();
  t.not(c.node(1).status().role, 'leader', 'the removed leader stepped down');
  for (let i = 0; i < 60 && (c.leader() === undefined || c.leader() === 1); i++) {
    c.tickAll();
    c.stabilize();
  }
  const leader = c.leader();
  t.ok(leader === 2 || leader === 3, `a remaining voter leads (got ${leader})`);
  t.same(c.node(2).status().conf, conf([2, 3]));
});

t.test('a leader that removes itself leads on until the rest know the removal committed, so they can elect', async (t) => {
  // Asynchronous writes: the leader commits the change when its own write completes, while its
  // only peer's window is full (no append carries the commit), and its log is longer than the peer's.
  const c = new TestCluster({ size: 2, seed: 17, asyncWrites: true, config: { inflightAppendsMax: 1 } });
  c.elect(1);
  const deliverTo = (id: number) => {
    for (let i = c.inFlight.length - 1; i >= 0; i--) if (c.inFlight[i]!.to === id) c.deliverAt(i);
  };
  const { index } = c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 1 });
  c.processReady(1);
  c.node(1).propose(bytes('a'));
  c.processReady(1);
  deliverTo(2);
  c.completeWrites(2);
  deliverTo(1); // the ack of the change; the append of 'a' goes out and fills the window again
  c.node(1).propose(bytes('b')); // never sent: node 1's log stays longer than node 2's
  c.processReady(1);
  c.completeWrites(1); // its own write: the change commits and applies
  t.equal(c.node(1).status().commit, index, 'the removal committed on the leader');
  t.equal(c.node(1).status().role, 'leader', 'the removed leader leads on: node 2 does not know yet');
  t.throws(() => c.node(1).propose(bytes('c')), /removed from the configuration/, 'but takes no proposal');
  // Its configuration has one voter, node 2: a removed leader must not confirm reads alone.
  t.throws(() => c.node(1).readIndex(bytes('r')), /removed from the configuration/, 'nor serves a linearizable read');
  c.processReady(1);
  const lost = c.inFlight.splice(0).filter((m) => m.type === 'heartbeat').length;
  t.ok(lost > 0, `its first heartbeats (${lost}) are lost`);
  c.tickAll();
  t.equal(c.node(1).status().role, 'leader', 'it still leads after losing them');
  for (let i = 0; i < 60 && c.leader() !== 2; i++) {
    c.tickAll();
    c.stabilize();
  }
  t.not(c.node(1).status().role, 'leader', 'node 1 stepped down once node 2 knew');
  t.same(c.node(2).status().conf, conf([2]), 'node 2 learned that the removal committed');
  t.equal(c.leader(), 2, 'and leads alone (it never needed the vote node 1 would refuse)');
});

t.test('a learner receives the log but never campaigns or counts', async (t) => {
  const c = new TestCluster({ size: 3, seed: 13 });
  c.elect(1);
  c.addNode(4);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'add-learner', node: 4 });
  c.stabilize();
  c.node(1).propose(bytes('x'));
  c.stabilize();
  t.same(appliedData(c, 4), ['x'], 'learner applied the entry');
  c.crash(1);
  c.tick(4, 100);
  t.equal(c.node(4).status().role, 'follower', 'learner never campaigns');
});

t.test('invalid changes are refused with the reason', async (t) => {
  t.equal(
    errorCode(() => nextConf(conf([1]), { kind: 'simple', action: 'remove', node: 1 })),
    'CONF_CHANGE_INVALID',
    'last voter',
  );
  t.equal(
    errorCode(() => nextConf(conf([1, 2]), { kind: 'leave-joint' })),
    'CONF_CHANGE_INVALID',
    'not joint',
  );
  t.equal(
    errorCode(() => nextConf(conf([1, 2], [], [3]), { kind: 'joint', voters: [1], learners: [] })),
    'CONF_CHANGE_INVALID',
    'already joint',
  );
  t.equal(
    errorCode(() => nextConf(conf([1, 2]), { kind: 'joint', voters: [1], learners: [2] })),
    'CONF_CHANGE_INVALID',
    'demotion in joint',
  );
  t.equal(
    errorCode(() => nextConf(conf([1, 2]), { kind: 'simple', action: 'add-learner', node: 2 })),
    'CONF_CHANGE_INVALID',
    'demotion in simple',
  );
  t.same(nextConf(conf([1, 2]), { kind: 'joint', voters: [3, 1], learners: [4] }), conf([1, 3], [4], [1, 2]));
});

t.test('a restarted node whose removal is committed but not yet applied does not campaign (it once won and crashed)', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, config: { preVote: false, checkQuorum: false } });
  c.elect(1);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 3 });
  c.stabilize();
  t.same(c.node(3).status().conf.voters, [1, 2], 'node 3 applied its removal');
  c.crash(3);
  c.restart(3); // back to the bootstrap configuration {1,2,3}; the removal is committed, not applied
  t.doesNotThrow(() => {
    c.node(3).campaign();
    c.stabilize();
  });
  t.not(c.node(3).status().role, 'leader', 'node 3 never leads');
  t.equal([1, 2].filter((id) => c.node(id).status().role === 'leader').length, 1, 'the cluster keeps one leader');
  t.same(c.node(3).status().conf.voters, [1, 2], 'after the restart it applied its removal again');
});
