import t from 'tap';
import { TestCluster, bytes, text } from '../support/cluster.js';

// Found by the simulator (@kvapp/sim seed 11, no unsafe switch): with a one-append window, an
// append lost on the wire left the follower's window full forever, heartbeats answered but
// nothing was resent, and the cluster stopped committing.
t.test('a full inflight window whose appends were lost recovers on the next heartbeat answer', async (t) => {
  const c = new TestCluster({ size: 3, seed: 11, config: { inflightAppendsMax: 1 } });
  c.elect(1);
  c.node(1).propose(bytes('a'));
  c.processAllReady();
  const lost = c.inFlight.filter((m) => m.type === 'append' && m.entries.length > 0);
  t.equal(lost.length, 2, 'one append to each follower is in flight');
  c.inFlight = c.inFlight.filter((m) => !lost.includes(m));
  c.node(1).propose(bytes('b')); // the window is full: nothing more goes out yet
  c.stabilize();
  for (let i = 0; i < 2; i++) {
    c.tick(1, 1); // a heartbeat: its answers must restart replication (the next one carries the commit)
    c.stabilize();
  }
  for (const id of c.ids()) {
    const data = c.applied
      .get(id)!
      .filter((e) => e.data.length > 0)
      .map((e) => text(e.data));
    t.same(data, ['a', 'b'], `node ${id} applied both proposals`);
  }
});
