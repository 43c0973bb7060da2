import t from 'tap';
import { RaftError, type Message } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';

t.test('leadership transfer brings the target up to date first, then sends timeout-now', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.elect(1);
  c.partition([3], [1, 2]);
  c.node(1).propose(bytes('a'));
  c.node(1).propose(bytes('b'));
  c.stabilize();
  c.heal();
  const sent: Message[] = [];
  c.observer = { message: (m, fate) => (fate === 'deliver' && m.from === 1 && m.to === 3 ? sent.push(m) : undefined) };
  c.node(1).transferLeadership(3);
  t.throws(() => c.node(1).propose(bytes('c')), { code: 'TRANSFER_IN_PROGRESS' }, 'proposals wait during the transfer');
  c.stabilize();
  const kinds = sent.map((m) => m.type);
  const timeoutAt = kinds.indexOf('timeout-now');
  t.ok(timeoutAt > 0, `timeout-now went out after other messages: ${kinds.join(', ')}`);
  t.ok(kinds.slice(0, timeoutAt).includes('append'), 'appends came first');
  t.equal(c.leader(), 3, 'node 3 leads');
  const status = c.node(3).status();
  t.equal(status.term, 2, 'in the next term');
  t.equal(c.node(1).status().role, 'follower');
  t.equal(c.node(3).status().commit, status.lastIndex, 'and commits its own empty entry');
  t.ok(RaftError, 'typed errors');
});

t.test('a transfer that cannot finish is abandoned after an election timeout', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, electionTicks: 10 });
  c.elect(1);
  c.crash(3);
  c.node(1).transferLeadership(3);
  c.processReady(1);
  t.equal(c.node(1).status().leadTransferee, 3);
  for (let i = 0; i < 10; i++) {
    c.tick(1);
    c.tick(2);
    c.stabilize();
  }
  t.equal(c.node(1).status().leadTransferee, 0, 'the leader gave up');
  t.equal(c.node(1).status().role, 'leader', 'and still leads');
  t.doesNotThrow(() => c.node(1).propose(bytes('again')), 'proposals are accepted again');
});
