import t from 'tap';
import type { Message } from '../../src/index.js';
import { TestCluster, bytes, text } from '../support/cluster.js';

/** A cluster of three with node 1 leading and the given commit-update mode; every message delivered is recorded. */
function cluster(eagerCommitUpdates: boolean, seed = 1): { c: TestCluster; delivered: Message[] } {
  const c = new TestCluster({ size: 3, seed, heartbeatTicks: 5, config: { eagerCommitUpdates } });
  const delivered: Message[] = [];
  c.observer = { message: (m, fate) => fate === 'deliver' && delivered.push(m) };
  c.elect(1);
  c.node(1).propose(bytes('warm'));
  c.stabilize();
  c.tickAll(); // the lazy leader tells the followers the warm-up's commit
  c.stabilize();
  delivered.length = 0;
  return { c, delivered };
}

const emptyAppends = (ms: readonly Message[]): Message[] => ms.filter((m) => m.type === 'append' && m.entries.length === 0);
const appliedData = (c: TestCluster, id: number): string[] =>
  c.applied
    .get(id)!
    .filter((e) => e.data.length > 0)
    .map((e) => text(e.data));

t.test('lazy: a commit with nothing else to send reaches the followers at the next tick, not before', async (t) => {
  const { c, delivered } = cluster(false);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  t.same(appliedData(c, 1), ['warm', 'a'], 'the leader applied (and would answer) at once');
  t.same(emptyAppends(delivered), [], 'no empty append was sent for the commit');
  t.same(appliedData(c, 2), ['warm'], 'follower 2 has not applied yet');
  t.same(appliedData(c, 3), ['warm'], 'follower 3 has not applied yet');

  c.tick(1);
  c.stabilize();
  t.same(
    emptyAppends(delivered).map((m) => m.to),
    [2, 3],
    'one empty append per follower at the tick',
  );
  t.same(appliedData(c, 2), ['warm', 'a']);
  t.same(appliedData(c, 3), ['warm', 'a']);

  delivered.length = 0;
  c.tick(1);
  c.stabilize();
  t.same(emptyAppends(delivered), [], 'a follower already told is not told again');
});

t.test('lazy: the commit rides on the next append', async (t) => {
  const { c, delivered } = cluster(false);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  const commitOfA = c.node(1).status().commit;
  c.node(1).propose(bytes('b'));
  c.processReady(1);
  const carrying = c.inFlight.filter((m) => m.type === 'append');
  t.same(
    carrying.map((m) => [m.to, m.entries.length, m.commit]),
    [
      [2, 1, commitOfA],
      [3, 1, commitOfA],
    ],
    "b's appends carry a's commit",
  );
  c.stabilize();
  t.same(emptyAppends(delivered), []);
  t.same(appliedData(c, 2), ['warm', 'a'], 'follower 2 applied a from the append that carried b');
});

t.test('eager: every follower gets an empty append with the commit at once (etcd)', async (t) => {
  const { c, delivered } = cluster(true);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  t.same(
    emptyAppends(delivered).map((m) => m.to),
    [2, 3],
  );
  t.same(appliedData(c, 2), ['warm', 'a']);
  t.same(appliedData(c, 3), ['warm', 'a']);
});

t.test('lazy: a follower read is answered without waiting for a tick', async (t) => {
  const { c, delivered } = cluster(false);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  t.same(appliedData(c, 2), ['warm'], 'follower 2 does not know a committed');
  c.node(2).readIndex(bytes('f1'));
  c.stabilize();
  const index = c.node(1).status().commit;
  t.same(c.readResults.get(2), [{ index, context: 'f1' }], 'served at the leader commit index');
  t.same(appliedData(c, 2), ['warm', 'a'], 'follower 2 applied a (told by the heartbeat of the read round)');
  t.same(emptyAppends(delivered), [], 'the heartbeats told the commit: no empty append');
});

t.test('lazy: a follower whose heartbeat was capped by its match is told the commit before its read answer', async (t) => {
  const { c, delivered } = cluster(false);
  const deliverFirst = (pred: (m: Message) => boolean): void => {
    const at = c.inFlight.findIndex(pred);
    if (at < 0) throw new Error('no such message in flight');
    c.deliverAt(at);
  };
  c.node(1).propose(bytes('a'));
  c.processReady(1);
  // Node 3 acknowledges a first: the leader commits it while node 2 has not matched it yet.
  deliverFirst((m) => m.type === 'append' && m.to === 3);
  c.processReady(3);
  deliverFirst((m) => m.type === 'append-resp' && m.from === 3);
  c.processReady(1);
  const index = c.node(1).status().commit;
  t.same(appliedData(c, 1), ['warm', 'a'], 'the leader committed a');
  // Node 2 asks for a read; the round's heartbeat to it carries only its match.
  c.node(2).readIndex(bytes('f1'));
  c.processReady(2);
  deliverFirst((m) => m.type === 'read-index');
  c.processReady(1);
  const heartbeat = c.inFlight.find((m) => m.type === 'heartbeat' && m.to === 2);
  t.ok(heartbeat !== undefined && heartbeat.commit < index, 'the heartbeat to node 2 is capped below the commit');
  c.stabilize();
  t.same(c.readResults.get(2), [{ index, context: 'f1' }], 'served without a tick');
  const toTwo = delivered.filter((m) => m.to === 2 && (m.type === 'read-index-resp' || (m.type === 'append' && m.entries.length === 0)));
  t.same(
    toTwo.map((m) => [m.type, m.type === 'append' ? m.commit : m.index]),
    [
      ['append', index],
      ['read-index-resp', index],
    ],
    'the commit went to node 2 just before the read answer',
  );
});

t.test('lazy: a new member is probed at once, not at the next tick', async (t) => {
  const { c, delivered } = cluster(false);
  c.addNode(4);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'add-learner', node: 4 });
  c.stabilize();
  t.ok(
    delivered.some((m) => m.to === 4 && m.type === 'append'),
    'the learner got an append without any tick',
  );
  t.ok(appliedData(c, 4).includes('warm'), 'and caught up with the log');
});

t.test('lazy: a removed follower is told at once that its removal committed', async (t) => {
  const { c } = cluster(false);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 3 });
  c.stabilize();
  t.same(c.node(1).status().conf.voters, [1, 2], 'the leader applied the removal');
  t.same(c.node(3).status().conf.voters, [1, 2], 'node 3 applied its own removal without a tick');
});

t.test('lazy: voters leaving a joint configuration are told at once that it committed', async (t) => {
  const { c } = cluster(false);
  c.addNode(4);
  c.addNode(5);
  c.node(1).proposeConfChange({ kind: 'joint', voters: [1, 4, 5], learners: [] });
  c.stabilize();
  t.same(c.node(1).status().conf, { voters: [1, 4, 5], learners: [], votersOutgoing: [] }, 'the leader left the joint configuration');
  for (const id of [2, 3]) t.same(c.node(id).status().conf.voters, [1, 4, 5], `node ${id} applied the final configuration without a tick`);
});

t.test('lazy: a leader that removed itself still steps down once the others know', async (t) => {
  const { c } = cluster(false);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 1 });
  for (let i = 0; i < 20 && c.node(1).status().role === 'leader'; i++) {
    c.tickAll();
    c.stabilize();
  }
  t.equal(c.node(1).status().role, 'follower', 'the removed leader stepped down');
  for (let i = 0; i < 100 && (c.leader() === undefined || c.leader() === 1); i++) {
    c.tick(2);
    c.tick(3);
    c.stabilize();
  }
  const leader = c.leader();
  t.ok(leader === 2 || leader === 3, `the remaining voters elected a leader (${String(leader)})`);
});

t.test('lazy: every node applies the same entries once ticks run, across seeds', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { c } = cluster(false, seed);
    for (let i = 0; i < 10; i++) {
      c.node(1).propose(bytes(`v${i}`));
      if (i % 3 === 0) c.stabilize();
    }
    c.stabilize();
    c.tickAll();
    c.stabilize();
    const want = appliedData(c, 1);
    t.equal(want.length, 11, `seed ${seed}: the leader applied all`);
    t.same(appliedData(c, 2), want, `seed ${seed}: follower 2`);
    t.same(appliedData(c, 3), want, `seed ${seed}: follower 3`);
  }
});
