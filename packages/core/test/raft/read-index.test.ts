import t from 'tap';
import { errorCode } from '../support/raft-error-code.js';
import { TestCluster, bytes } from '../support/cluster.js';

t.test('ReadIndex is refused with READ_NOT_READY until the leader commits an entry of its term', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.node(1).campaign();
  c.processReady(1);
  // Deliver only until node 1 wins: its empty entry of term 1 is not committed yet.
  while (c.node(1).status().role !== 'leader') c.deliverAt(0);
  t.equal(
    errorCode(() => c.node(1).readIndex(bytes('early'))),
    'READ_NOT_READY',
  );
  c.stabilize();
  t.equal(
    errorCode(() => c.node(1).readIndex(bytes('r1'))),
    undefined,
    'accepted once the empty entry committed',
  );
  c.processReady(1);
  t.same(c.readResults.get(1), [], 'not answered before a quorum confirms the leadership');
  c.stabilize();
  t.same(c.readResults.get(1), [{ index: 1, context: 'r1' }], 'answered with the commit index after the heartbeat round');
});

t.test('a follower read is forwarded to the leader and answered with its commit index', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.elect(1);
  c.node(1).propose(bytes('a'));
  c.stabilize();
  c.node(2).readIndex(bytes('f1'));
  c.stabilize();
  t.same(c.readResults.get(2), [{ index: 2, context: 'f1' }]);
});

t.test('a read forwarded to a leader that cannot serve it yet comes back refused, not lost', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.node(1).campaign();
  c.processReady(1);
  // Deliver only until node 1 wins and node 2 has heard from it: the empty entry of term 1 is not
  // committed yet, so node 1 refuses reads.
  for (let i = 0; i < 50 && !(c.node(1).status().role === 'leader' && c.node(2).status().lead === 1); i++) c.deliverAt(0);
  t.equal(c.node(2).status().lead, 1, 'node 2 follows node 1');
  t.equal(
    errorCode(() => c.node(1).readIndex(bytes('own'))),
    'READ_NOT_READY',
    'the leader is not ready yet',
  );
  c.node(2).readIndex(bytes('early'));
  c.processReady(2);
  // The forwarded read reaches node 1 before the acknowledgements that would commit its entry.
  const forwarded = c.inFlight.findIndex((m) => m.type === 'read-index');
  t.ok(forwarded >= 0, 'the read was forwarded');
  c.deliverAt(forwarded);
  c.stabilize();
  t.same(c.readsRefused.get(2), ['early'], 'node 2 learns its read was refused');
  t.same(c.readResults.get(2), [], 'and gets no read state for it');
  c.node(2).readIndex(bytes('later'));
  c.stabilize();
  t.same(
    c.readResults.get(2)!.map((r) => r.context),
    ['later'],
    'once the leader committed in its term, the read is served',
  );
});

t.test('a leader cut off from the majority answers no read (and readIndexWithoutQuorum would)', async (t) => {
  for (const unsafe of [false, true]) {
    const c = new TestCluster({ size: 3, seed: 1, config: { unsafe: { readIndexWithoutQuorum: unsafe } } });
    c.elect(1);
    c.partition([1], [2, 3]);
    // The majority elects a new leader that commits a write the old leader never sees.
    for (let i = 0; i < 40 && c.leader() !== 2 && c.leader() !== 3; i++) {
      c.tick(2);
      c.tick(3);
      c.stabilize();
    }
    const newLeader = c.node(2).status().role === 'leader' ? 2 : 3;
    t.equal(c.node(newLeader).status().role, 'leader', 'the majority elected a new leader');
    c.node(newLeader).propose(bytes('w'));
    c.stabilize();
    const written = c.node(newLeader).status().commit;
    // The old leader was not ticked, so it still believes it leads (CheckQuorum has not run).
    t.equal(c.node(1).status().role, 'leader', 'node 1 still believes it leads');
    c.node(1).readIndex(bytes('stale?'));
    c.stabilize();
    const reads = c.readResults.get(1)!;
    if (unsafe) {
      t.ok(reads.length === 1 && reads[0]!.index < written, `the unsafe switch serves a stale read: index ${reads[0]?.index} < ${written}`);
    } else {
      t.same(reads, [], 'no read is served without a quorum');
    }
  }
});
