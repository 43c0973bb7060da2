import t from 'tap';
import type { NodeId, StateChange } from '../../src/index.js';
import { TestCluster, bytes } from '../support/cluster.js';

/** Records every node's reported state changes, as compact rows a failure message can show. */
function recordChanges(c: TestCluster): Map<NodeId, string[]> {
  const seen = new Map<NodeId, string[]>(c.ids().map((id) => [id, []]));
  const row = (s: StateChange) =>
    `${s.reason} from=${s.from}: ${s.previousRole}/t${s.previousTerm}/l${s.previousLeader} -> ${s.role}/t${s.term}/l${s.leader}`;
  c.observer = { stateChange: (id, change) => seen.get(id)!.push(row(change)) };
  return seen;
}

t.test('an election by timeout: PreVote, vote, win; the voters follow the higher term, then the leader', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, electionTicks: 10 });
  const seen = recordChanges(c);
  // Only node 1's clock runs: its randomized timeout is below 2 × electionTicks.
  for (let i = 0; i < 20 && c.node(1).status().role === 'follower'; i++) c.tick(1);
  c.stabilize();
  t.same(seen.get(1), [
    'election-timeout from=0: follower/t0/l0 -> pre-candidate/t0/l0',
    'pre-vote-won from=0: pre-candidate/t0/l0 -> candidate/t1/l0',
    'election-won from=0: candidate/t1/l0 -> leader/t1/l1',
  ]);
  for (const id of [2, 3]) {
    t.same(
      seen.get(id),
      ['higher-term from=1: follower/t0/l0 -> follower/t1/l0', 'leader-seen from=1: follower/t1/l0 -> follower/t1/l1'],
      `node ${id}`,
    );
  }
});

t.test('a leadership transfer: the target campaigns on timeout-now, the old leader sees the higher term', async (t) => {
  const c = new TestCluster({ size: 3, seed: 2 });
  c.elect(1);
  const seen = recordChanges(c);
  c.node(1).transferLeadership(3);
  c.stabilize();
  t.same(seen.get(3), [
    'leadership-transfer from=1: follower/t1/l1 -> candidate/t2/l0',
    'election-won from=0: candidate/t2/l0 -> leader/t2/l3',
  ]);
  t.same(seen.get(1), ['higher-term from=3: leader/t1/l1 -> follower/t2/l0', 'leader-seen from=3: follower/t2/l0 -> follower/t2/l3']);
  t.same(seen.get(2), ['higher-term from=3: follower/t1/l1 -> follower/t2/l0', 'leader-seen from=3: follower/t2/l0 -> follower/t2/l3']);
});

t.test('CheckQuorum: a leader cut off from every follower steps down', async (t) => {
  const c = new TestCluster({ size: 3, seed: 3, electionTicks: 10 });
  c.elect(1);
  const seen = recordChanges(c);
  c.partition([1], [2, 3]);
  c.tick(1, 20);
  t.same(seen.get(1), ['check-quorum-lost from=0: leader/t1/l1 -> follower/t1/l0']);
});

t.test('a campaign with a stale log loses: pre-vote-lost with PreVote, election-lost without', async (t) => {
  for (const preVote of [true, false]) {
    // Without CheckQuorum no leader lease hides the refusals; the voters answer and refuse.
    const c = new TestCluster({ size: 3, seed: 4, config: { preVote, checkQuorum: false } });
    c.elect(1);
    c.partition([3], [1, 2]);
    c.node(1).propose(bytes('x'));
    c.stabilize();
    c.heal();
    const seen = recordChanges(c);
    c.node(3).campaign();
    c.stabilize();
    if (preVote) {
      t.same(seen.get(3), [
        'campaign-requested from=0: follower/t1/l1 -> pre-candidate/t1/l0',
        'pre-vote-lost from=0: pre-candidate/t1/l0 -> follower/t1/l0',
      ]);
    } else {
      t.same(seen.get(3), [
        'campaign-requested from=0: follower/t1/l1 -> candidate/t2/l0',
        'election-lost from=0: candidate/t2/l0 -> follower/t2/l0',
      ]);
      t.same(seen.get(1), ['higher-term from=3: leader/t1/l1 -> follower/t2/l0'], 'the leader saw the higher term');
    }
  }
});

t.test('a leader that removes itself steps down with reason removed', async (t) => {
  const c = new TestCluster({ size: 3, seed: 5 });
  c.elect(1);
  const seen = recordChanges(c);
  c.node(1).proposeConfChange({ kind: 'simple', action: 'remove', node: 1 });
  c.stabilize();
  t.same(seen.get(1), ['removed from=0: leader/t1/l1 -> follower/t1/l0']);
});

t.test('a Ready reports each change once, and none when nothing changed', async (t) => {
  const c = new TestCluster({ size: 1, seed: 6 });
  const node = c.node(1);
  t.equal(node.hasReady(), false, 'a fresh node has nothing to report: its starting state is not a change');
  node.campaign();
  const rd = node.ready();
  t.same(
    rd.stateChanges.map((s) => s.reason),
    ['campaign-requested', 'pre-vote-won', 'election-won'],
    'a single voter wins at once, and every step is there',
  );
  node.advance();
  c.stabilize();
  node.tick();
  t.same(node.hasReady() ? node.ready().stateChanges : [], [], 'a leader tick changes nothing');
});
