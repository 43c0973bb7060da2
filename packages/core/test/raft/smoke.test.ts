import t from 'tap';
import { TestCluster, bytes, text } from '../support/cluster.js';

t.test('three nodes elect a leader and replicate a proposal', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.elect(1);
  t.equal(c.leader(), 1);
  c.node(1).propose(bytes('hello'));
  c.stabilize();
  for (const id of c.ids()) {
    const data = c.applied
      .get(id)!
      .filter((e) => e.data.length > 0)
      .map((e) => text(e.data));
    t.same(data, ['hello'], `node ${id} applied the proposal`);
  }
});

t.test('an election happens by ticks alone', async (t) => {
  const c = new TestCluster({ size: 5, seed: 7 });
  for (let i = 0; i < 100 && c.leader() === undefined; i++) {
    c.tickAll();
    c.stabilize();
  }
  t.ok(c.leader(), 'a leader was elected');
});
